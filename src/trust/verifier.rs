//! The server certificate verifier: what gRPC C-core accepts from MinKNOW,
//! and nothing more.
//!
//! Stock rustls/webpki verification refuses MinKNOW's X.509 v1 leaves and
//! CN-only names, so this verifier builds the path itself with
//! [`crate::x509`] and checks every signature through the crypto provider.
//! It checks: a chain to a trusted CA (trying every trusted CA whose
//! subject matches, since a regenerated CA keeps its name), every
//! signature, the validity dates of every certificate on the path, issuer
//! constraints, the name, and the leaf's stated purpose.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{
    CertificateError, DigitallySignedStruct, OtherError, PeerMisbehaved, SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};

use crate::error::{Error, Result, Status};
use crate::x509::{self, Certificate, KeyUsage};

use super::name;

/// Longest accepted path: leaf, up to this many intermediates, and the
/// trusted CA. MinKNOW's paths have none; this only bounds the search.
const MAX_INTERMEDIATES: usize = 8;

/// Why a server certificate was refused, in words a user can act on. It is
/// carried inside the rustls error as `CertificateError::Other`; find it
/// again with [`super::certificate_error_text`].
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyError(String);

impl VerifyError {
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// rustls shows `CertificateError::Other` with Debug: keep it readable.
impl fmt::Debug for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VerifyError {}

fn refuse(message: String) -> rustls::Error {
    let other = OtherError(Arc::new(VerifyError(message)));
    rustls::Error::InvalidCertificate(CertificateError::Other(other))
}

/// Verifies MinKNOW's server certificates against a set of trusted CA
/// certificates (or pinned leaves).
pub struct ServerVerifier {
    trusted: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl fmt::Debug for ServerVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerVerifier").field("trusted", &self.trusted.len()).finish()
    }
}

impl ServerVerifier {
    /// A verifier trusting `trusted`, which must be non-empty and parse.
    pub fn new(trusted: Vec<CertificateDer<'static>>, provider: &CryptoProvider) -> Result<Self> {
        if trusted.is_empty() {
            return Err(Error::new(Status::NoTrustedCa, "no trusted CA certificate was given"));
        }
        for (i, cert) in trusted.iter().enumerate() {
            if let Err(e) = Certificate::parse(cert) {
                let message =
                    format!("trusted CA #{} is not a valid X.509 certificate: {e}", i + 1);
                return Err(Error::new(Status::BadCertificate, message));
            }
        }
        Ok(ServerVerifier { trusted, algorithms: provider.signature_verification_algorithms })
    }

    /// The whole check of a server's certificates at `now` (Unix seconds).
    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: i64,
    ) -> Result<(), String> {
        let leaf = Certificate::parse(end_entity)
            .map_err(|e| format!("server certificate is not a valid X.509 certificate: {e}"))?;
        let sent = parse_all(intermediates)?;
        // Every entry parsed in `new`.
        let trusted: Vec<Certificate<'_>> =
            self.trusted.iter().filter_map(|c| Certificate::parse(c).ok()).collect();

        refuse_unknown_critical(&leaf, "server certificate")?;
        self.check_chain(&leaf, &sent, &trusted, now)?;
        check_dates(&leaf, now)
            .map_err(|why| format!("server certificate {}: {why}", leaf.subject_text()))?;
        name::check(&leaf, server_name)?;
        check_server_purpose(&leaf)
    }

    fn check_chain(
        &self,
        leaf: &Certificate<'_>,
        sent: &[Certificate<'_>],
        trusted: &[Certificate<'_>],
        now: i64,
    ) -> Result<(), String> {
        // A pinned leaf: the trusted file is this very certificate.
        if trusted.iter().any(|t| t.der == leaf.der) {
            return Ok(());
        }
        let search = PathSearch { verifier: self, sent, trusted, now };
        let mut notes = Vec::new();
        if search.find_issuer(leaf, 0, &mut Vec::new(), &mut notes) {
            return Ok(());
        }
        Err(chain_failure(leaf, trusted, &notes))
    }

    /// Verify `child`'s signature with an issuer's public key, choosing the
    /// provider's algorithm from the certificate's signature algorithm and
    /// the issuer's key algorithm.
    fn check_signature(
        &self,
        child: &Certificate<'_>,
        issuer: &Certificate<'_>,
    ) -> Result<(), String> {
        let mut supported = false;
        for alg in self.algorithms.all {
            if alg.signature_alg_id().as_ref() != child.signature_algorithm
                || alg.public_key_alg_id().as_ref() != issuer.spki_algorithm
            {
                continue;
            }
            supported = true;
            if alg.verify_signature(issuer.public_key, child.tbs, child.signature).is_ok() {
                return Ok(());
            }
        }
        if supported {
            return Err("signature did not verify".to_owned());
        }
        Err(format!(
            "unsupported signature algorithm {} for a {} key",
            algorithm_text(child.signature_algorithm),
            algorithm_text(issuer.spki_algorithm)
        ))
    }
}

/// A depth-first search for a path from a certificate to a trusted CA,
/// through the certificates the server sent, in any order.
struct PathSearch<'v, 'c> {
    verifier: &'v ServerVerifier,
    sent: &'v [Certificate<'c>],
    trusted: &'v [Certificate<'c>],
    now: i64,
}

impl PathSearch<'_, '_> {
    /// True when `cert` chains to a trusted CA. `depth` counts the
    /// intermediates below `cert`'s issuer; `used` holds the indexes of sent
    /// certificates already on the path; `notes` collects why candidates
    /// failed, for the message.
    fn find_issuer(
        &self,
        cert: &Certificate<'_>,
        depth: usize,
        used: &mut Vec<usize>,
        notes: &mut Vec<String>,
    ) -> bool {
        // Every trusted CA with the issuer's name, not only the first.
        for (i, ca) in self.trusted.iter().enumerate() {
            if ca.subject != cert.issuer {
                continue;
            }
            match self.check_issuer(ca, cert, depth) {
                Ok(()) => return true,
                Err(why) => {
                    notes.push(format!("trusted CA #{} {}: {why}", i + 1, ca.subject_text()))
                }
            }
        }

        if depth >= MAX_INTERMEDIATES {
            notes.push(format!("path longer than {MAX_INTERMEDIATES} intermediates"));
            return false;
        }
        for (i, next) in self.sent.iter().enumerate() {
            if next.subject != cert.issuer || used.contains(&i) {
                continue;
            }
            if let Err(why) = self.check_issuer(next, cert, depth) {
                notes.push(format!(
                    "intermediate {} sent by the server: {why}",
                    next.subject_text()
                ));
                continue;
            }
            // An intermediate that is itself trusted ends the path.
            if self.trusted.iter().any(|t| t.der == next.der) {
                return true;
            }
            used.push(i);
            if self.find_issuer(next, depth + 1, used, notes) {
                return true;
            }
            used.pop();
        }
        false
    }

    /// May `issuer` have issued `child`, with `depth` intermediates below?
    fn check_issuer(
        &self,
        issuer: &Certificate<'_>,
        child: &Certificate<'_>,
        depth: usize,
    ) -> Result<(), String> {
        // v1 certificates and v3 ones without basicConstraints may issue,
        // as in C-core; only an explicit CA:false is refused.
        if !issuer.may_issue() {
            return Err("is marked CA:false, so it may not issue certificates".to_owned());
        }
        if issuer.extensions.key_usage.is_some_and(|ku| !ku.has(KeyUsage::KEY_CERT_SIGN)) {
            return Err("has a keyUsage without keyCertSign".to_owned());
        }
        let path_len = issuer.extensions.basic_constraints.and_then(|bc| bc.path_len);
        if path_len.is_some_and(|limit| (depth as u64) > limit) {
            return Err("its pathLenConstraint is exceeded".to_owned());
        }
        refuse_unknown_critical(issuer, "it")?;
        check_dates(issuer, self.now)?;
        self.verifier.check_signature(child, issuer)
    }
}

fn parse_all<'a>(certs: &'a [CertificateDer<'_>]) -> Result<Vec<Certificate<'a>>, String> {
    certs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Certificate::parse(c).map_err(|e| {
                format!("certificate #{} sent by the server is not valid X.509: {e}", i + 2)
            })
        })
        .collect()
}

fn refuse_unknown_critical(cert: &Certificate<'_>, who: &str) -> Result<(), String> {
    match cert.extensions.unknown_critical.first() {
        None => Ok(()),
        Some(oid) => Err(format!("{who} has an unsupported critical extension {oid}")),
    }
}

fn check_dates(cert: &Certificate<'_>, now: i64) -> Result<(), String> {
    if now > cert.not_after {
        return Err(format!("expired at {}", x509::format_time(cert.not_after)));
    }
    if now < cert.not_before {
        return Err(format!("not valid before {}", x509::format_time(cert.not_before)));
    }
    Ok(())
}

/// TLS servers need a key usage that allows the handshake, and an
/// extended key usage (when present) that allows serverAuth.
fn check_server_purpose(leaf: &Certificate<'_>) -> Result<(), String> {
    let usable = KeyUsage::DIGITAL_SIGNATURE | KeyUsage::KEY_ENCIPHERMENT | KeyUsage::KEY_AGREEMENT;
    if leaf.extensions.key_usage.is_some_and(|ku| !ku.has(usable)) {
        return Err(format!(
            "server certificate {} has a keyUsage that does not allow TLS",
            leaf.subject_text()
        ));
    }
    let allows =
        |ekus: &Vec<&[u8]>| ekus.iter().any(|&e| e == x509::EKU_SERVER_AUTH || e == x509::EKU_ANY);
    if leaf.extensions.extended_key_usage.as_ref().is_some_and(|ekus| !allows(ekus)) {
        return Err(format!(
            "server certificate {} has an extendedKeyUsage without serverAuth",
            leaf.subject_text()
        ));
    }
    Ok(())
}

/// The message when no path was found, shaped by what was tried.
fn chain_failure(leaf: &Certificate<'_>, trusted: &[Certificate<'_>], notes: &[String]) -> String {
    let issuer = leaf.issuer_text();
    if notes.is_empty() {
        let names: Vec<String> = trusted.iter().map(Certificate::subject_text).collect();
        return format!(
            "no trusted CA matches issuer {issuer} of server certificate {} (trusted: {})",
            leaf.subject_text(),
            names.join("; ")
        );
    }
    let same_name = trusted.iter().filter(|t| t.subject == leaf.issuer).count();
    let mut message = format!(
        "server certificate {} does not chain to a trusted CA: {}",
        leaf.subject_text(),
        notes.join("; ")
    );
    if same_name > 0 && notes.iter().any(|n| n.ends_with("signature did not verify")) {
        message.push_str(&format!(
            " ({same_name} trusted CA(s) named {issuer} tried; if MinKNOW regenerated its CA, \
             trust its current ca.crt)"
        ));
    }
    message
}

/// The OID of an AlgorithmIdentifier's contents, as dotted text.
fn algorithm_text(contents: &[u8]) -> String {
    match contents {
        [0x06, len, rest @ ..] if usize::from(*len) <= rest.len() => {
            x509::oid_text(&rest[..usize::from(*len)])
        }
        _ => "?".to_owned(),
    }
}

impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        self.verify(end_entity, intermediates, server_name, now).map_err(refuse)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let leaf =
            Certificate::parse(cert).map_err(|e| refuse(format!("server certificate: {e}")))?;
        let Some((_, candidates)) = self.algorithms.mapping.iter().find(|(s, _)| *s == dss.scheme)
        else {
            return Err(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into());
        };
        // TLS 1.2 schemes do not name the curve: the key's algorithm does.
        let mut fits = candidates
            .iter()
            .filter(|alg| alg.public_key_alg_id().as_ref() == leaf.spki_algorithm)
            .peekable();
        if fits.peek().is_none() {
            return Err(refuse(format!(
                "the server signed with {:?}, which does not fit its {} key",
                dss.scheme,
                algorithm_text(leaf.spki_algorithm)
            )));
        }
        for alg in fits {
            if alg.verify_signature(leaf.public_key, message, dss.signature()).is_ok() {
                return Ok(HandshakeSignatureValid::assertion());
            }
        }
        Err(rustls::Error::InvalidCertificate(CertificateError::BadSignature))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // Checked against the leaf's key directly: the stock helper parses
        // the whole certificate with webpki, which refuses v1.
        let leaf =
            Certificate::parse(cert).map_err(|e| refuse(format!("server certificate: {e}")))?;
        let spki = SubjectPublicKeyInfoDer::from(leaf.spki);
        rustls::crypto::verify_tls13_signature_with_raw_key(message, &spki, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
