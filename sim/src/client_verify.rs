//! Client-certificate verification that accepts what MinKNOW's BoringSSL accepts.
//!
//! webpki refuses two kinds of client certificate seen in the field: X.509 v1 certificates and
//! self-signed ones marked as a CA. BoringSSL takes both when they chain to a trusted
//! certificate, so the sim does too: webpki first, then a plain check of the chain (issuer
//! names, signatures, validity dates, key usage) for what webpki turned down. Anything that
//! fails both is refused and the handshake fails.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, SubjectPublicKeyInfoDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::{FromDer, X509Version};
use x509_parser::time::ASN1Time;

/// Longest chain followed above the client's certificate.
const MAX_DEPTH: usize = 6;

#[derive(Debug)]
pub struct ClientVerifier {
    webpki: Arc<dyn ClientCertVerifier>,
    anchors: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientVerifier {
    pub fn new(
        webpki: Arc<dyn ClientCertVerifier>,
        anchors: Vec<CertificateDer<'static>>,
        provider: &CryptoProvider,
    ) -> Self {
        ClientVerifier { webpki, anchors, algorithms: provider.signature_verification_algorithms }
    }

    /// The chain check webpki would do, without its refusal of v1 and CA-marked leaves.
    fn verify_plainly(
        &self,
        end_entity: &[u8],
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), String> {
        let now = ASN1Time::from_timestamp(now.as_secs() as i64).map_err(|e| e.to_string())?;
        let leaf = parse(end_entity)?;
        check_dates(&leaf, now)?;
        check_leaf_usage(&leaf)?;
        // A trusted certificate presented as-is (a pinned, self-signed client certificate).
        if self.anchors.iter().any(|anchor| anchor.as_ref() == end_entity) {
            return Ok(());
        }

        let mut current = leaf;
        for _ in 0..MAX_DEPTH {
            for anchor in &self.anchors {
                let anchor = parse(anchor)?;
                if issued_by(&current, &anchor) {
                    return check_dates(&anchor, now);
                }
            }
            let next = intermediates
                .iter()
                .filter_map(|der| parse(der).ok())
                .find(|candidate| issued_by(&current, candidate) && may_issue(candidate));
            let Some(next) = next else {
                return Err("no trusted issuer".to_string());
            };
            check_dates(&next, now)?;
            current = next;
        }
        Err("chain too long".to_string())
    }
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    X509Certificate::from_der(der).map(|(_, cert)| cert).map_err(|e| e.to_string())
}

fn issued_by(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    cert.issuer() == issuer.subject() && cert.verify_signature(Some(issuer.public_key())).is_ok()
}

/// An intermediate must be a CA if it says what it is; a v1 one cannot say, so it may.
fn may_issue(cert: &X509Certificate<'_>) -> bool {
    match cert.basic_constraints() {
        Ok(Some(constraints)) => constraints.value.ca,
        Ok(None) => cert.version() == X509Version::V1,
        Err(_) => false,
    }
}

fn check_dates(cert: &X509Certificate<'_>, now: ASN1Time) -> Result<(), String> {
    if cert.validity().is_valid_at(now) {
        Ok(())
    } else {
        Err("certificate expired or not yet valid".to_string())
    }
}

/// MinKNOW's rule: key usage absent or with digitalSignature; EKU absent or with clientAuth.
fn check_leaf_usage(cert: &X509Certificate<'_>) -> Result<(), String> {
    let key_usage = cert.key_usage().map_err(|e| e.to_string())?;
    if key_usage.is_some_and(|ku| !ku.value.digital_signature()) {
        return Err("key usage lacks digitalSignature".to_string());
    }
    let eku = cert.extended_key_usage().map_err(|e| e.to_string())?;
    if eku.is_some_and(|eku| !eku.value.client_auth && !eku.value.any) {
        return Err("extended key usage lacks clientAuth".to_string());
    }
    Ok(())
}

/// The leaf's public key, read without webpki (which refuses v1 certificates).
fn public_key(cert: &CertificateDer<'_>) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let leaf = parse(cert)
        .map_err(|_| Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
    let spki = leaf.public_key();
    Ok((spki.raw.to_vec(), spki.subject_public_key.data.to_vec()))
}

impl ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        // Tokens may authorise a call instead; auth.rs decides per call.
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let refused = match self.webpki.verify_client_cert(end_entity, intermediates, now) {
            Ok(verified) => return Ok(verified),
            Err(e) => e,
        };
        match self.verify_plainly(end_entity, intermediates, now) {
            Ok(()) => Ok(ClientCertVerified::assertion()),
            // webpki's reason is the more precise one to put in the log.
            Err(_) => Err(refused),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let (_, key) = public_key(cert)?;
        // TLS 1.2 schemes do not pin the curve, so try every algorithm the scheme maps to.
        let candidates = self.algorithms.mapping.iter().filter(|(scheme, _)| *scheme == dss.scheme);
        let valid = candidates
            .flat_map(|(_, algs)| algs.iter())
            .any(|alg| alg.verify_signature(&key, message, dss.signature()).is_ok());
        if valid {
            Ok(HandshakeSignatureValid::assertion())
        } else {
            Err(Error::InvalidCertificate(rustls::CertificateError::BadSignature))
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let (spki, _) = public_key(cert)?;
        let spki = SubjectPublicKeyInfoDer::from(spki);
        rustls::crypto::verify_tls13_signature_with_raw_key(message, &spki, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
