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
    ) -> Result<usize, String> {
        // A pinned leaf: the trusted file is this very certificate.
        if let Some(i) = trusted.iter().position(|t| t.der == leaf.der) {
            return Ok(i);
        }
        let search = PathSearch { verifier: self, sent, trusted, now };
        let mut notes = Vec::new();
        if let Some(i) = search.find_issuer(leaf, 0, &mut Vec::new(), &mut notes) {
            return Ok(i);
        }
        Err(chain_failure(leaf, trusted, &notes))
    }

    /// Which trusted certificate (its index in the list given to
    /// [`ServerVerifier::new`]) anchors the server's chain at `now` (Unix
    /// seconds), or why none does. Only the path is checked, not the
    /// leaf's dates, name or purpose: diagnostics use it to say which CA
    /// verified a server, or to tell a wrong CA from a regenerated one.
    pub fn trusted_anchor(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: i64,
    ) -> Result<usize, String> {
        let leaf = Certificate::parse(end_entity)
            .map_err(|e| format!("server certificate is not a valid X.509 certificate: {e}"))?;
        let sent = parse_all(intermediates)?;
        let trusted: Vec<Certificate<'_>> =
            self.trusted.iter().filter_map(|c| Certificate::parse(c).ok()).collect();
        self.check_chain(&leaf, &sent, &trusted, now)
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
    /// The index of the trusted CA that `cert` chains to, if any. `depth`
    /// counts the intermediates below `cert`'s issuer; `used` holds the
    /// indexes of sent certificates already on the path; `notes` collects
    /// why candidates failed, for the message.
    fn find_issuer(
        &self,
        cert: &Certificate<'_>,
        depth: usize,
        used: &mut Vec<usize>,
        notes: &mut Vec<String>,
    ) -> Option<usize> {
        // Every trusted CA with the issuer's name, not only the first.
        for (i, ca) in self.trusted.iter().enumerate() {
            if ca.subject != cert.issuer {
                continue;
            }
            match self.check_issuer(ca, cert, depth) {
                Ok(()) => return Some(i),
                Err(why) => {
                    notes.push(format!("trusted CA #{} {}: {why}", i + 1, ca.subject_text()))
                }
            }
        }

        if depth >= MAX_INTERMEDIATES {
            notes.push(format!("path longer than {MAX_INTERMEDIATES} intermediates"));
            return None;
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
            if let Some(t) = self.trusted.iter().position(|t| t.der == next.der) {
                return Some(t);
            }
            used.push(i);
            if let Some(t) = self.find_issuer(next, depth + 1, used, notes) {
                return Some(t);
            }
            used.pop();
        }
        None
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::test_certs::{self, RcgenCa, V1Chain};
    use rustls::internal::msgs::codec::{Codec, Reader};
    use rustls::sign::SigningKey;

    /// 2030-06-01, inside the default validity of rcgen certificates.
    const NOW: i64 = 1_906_502_400;

    fn verifier(trusted: &[&CertificateDer<'static>]) -> ServerVerifier {
        let trusted = trusted.iter().map(|c| (*c).clone()).collect();
        ServerVerifier::new(trusted, &rustls::crypto::ring::default_provider()).unwrap()
    }

    fn localhost() -> ServerName<'static> {
        ServerName::try_from("localhost").unwrap()
    }

    fn check(
        v: &ServerVerifier,
        leaf: &CertificateDer<'_>,
        sent: &[CertificateDer<'_>],
        name: &str,
    ) -> Result<(), String> {
        v.verify(leaf, sent, &ServerName::try_from(name).unwrap(), NOW)
    }

    fn leaf_of(ca: &RcgenCa, cn: &str, sans: &[&str]) -> test_certs::Leaf {
        test_certs::rcgen_leaf(cn, sans, ca, |_| {})
    }

    #[test]
    fn trusted_anchor_names_the_ca_that_verified() {
        let old = test_certs::rcgen_ca("MinKNOW", Some(true));
        let current = test_certs::rcgen_ca("MinKNOW", Some(true));
        let other = test_certs::rcgen_ca("Someone else", Some(true));
        let leaf = leaf_of(&current, "localhost", &[]);
        let v = verifier(&[&other.cert, &old.cert, &current.cert]);
        assert_eq!(v.trusted_anchor(&leaf.cert, &[], NOW), Ok(2));
        let v = verifier(&[&old.cert]);
        let why = v.trusted_anchor(&leaf.cert, &[], NOW).unwrap_err();
        assert!(why.contains("signature did not verify"), "{why}");
        // A pinned leaf is its own anchor.
        let v = verifier(&[&other.cert, &leaf.cert]);
        assert_eq!(v.trusted_anchor(&leaf.cert, &[], NOW), Ok(1));
    }

    #[test]
    fn empty_trust_is_no_trusted_ca() {
        let e = ServerVerifier::new(Vec::new(), &rustls::crypto::ring::default_provider());
        assert_eq!(e.unwrap_err().status(), Status::NoTrustedCa);
        let e = ServerVerifier::new(
            vec![CertificateDer::from(vec![0x30, 0x00])],
            &rustls::crypto::ring::default_provider(),
        );
        assert_eq!(e.unwrap_err().status(), Status::BadCertificate);
    }

    #[test]
    fn names_san_cn_wildcard_ip() {
        let ca = test_certs::rcgen_ca("MinKNOW", Some(true));
        let v = verifier(&[&ca.cert]);

        let san = leaf_of(&ca, "ignored", &["localhost", "*.lab.example", "127.0.0.1"]);
        assert_eq!(check(&v, &san.cert, &[], "localhost"), Ok(()));
        assert_eq!(check(&v, &san.cert, &[], "LOCALHOST"), Ok(()));
        assert_eq!(check(&v, &san.cert, &[], "seq.lab.example"), Ok(()));
        assert_eq!(check(&v, &san.cert, &[], "127.0.0.1"), Ok(()));
        // With DNS SANs present the CN is not a name.
        let e = check(&v, &san.cert, &[], "ignored").unwrap_err();
        assert_eq!(
            e,
            "server certificate CN=ignored is not valid for name 'ignored' \
             (its names: localhost, *.lab.example, 127.0.0.1)"
        );
        let e = check(&v, &san.cert, &[], "::1").unwrap_err();
        assert!(e.contains("not valid for address ::1"), "{e}");

        let cn_only = leaf_of(&ca, "localhost", &[]);
        assert_eq!(check(&v, &cn_only.cert, &[], "localhost"), Ok(()));
        let e = check(&v, &cn_only.cert, &[], "foo").unwrap_err();
        assert_eq!(
            e,
            "server certificate CN=localhost is not valid for name 'foo' (its names: localhost)"
        );
    }

    #[test]
    fn dates_of_leaf_and_ca() {
        let ca = test_certs::rcgen_ca("MinKNOW", Some(true));
        let v = verifier(&[&ca.cert]);
        let expired = test_certs::rcgen_leaf("localhost", &[], &ca, |p| {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2026, 1, 1);
        });
        let e = check(&v, &expired.cert, &[], "localhost").unwrap_err();
        assert_eq!(e, "server certificate CN=localhost: expired at 2026-01-01T00:00:00Z");

        let future = test_certs::rcgen_leaf("localhost", &[], &ca, |p| {
            p.not_before = rcgen::date_time_ymd(2040, 1, 1);
        });
        let e = check(&v, &future.cert, &[], "localhost").unwrap_err();
        assert!(e.ends_with("not valid before 2040-01-01T00:00:00Z"), "{e}");

        // An expired CA fails the chain, and says so.
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "Old CA");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.not_after = rcgen::date_time_ymd(2025, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        let old = params.self_signed(&key).unwrap();
        let old = RcgenCa {
            cert: old.der().clone(),
            pem: old.pem(),
            issuer: rcgen::Issuer::new(params, key),
        };
        let leaf = leaf_of(&old, "localhost", &[]);
        let e = check(&verifier(&[&old.cert]), &leaf.cert, &[], "localhost").unwrap_err();
        assert!(e.contains("trusted CA #1 CN=Old CA: expired at 2025-01-01T00:00:00Z"), "{e}");
    }

    #[test]
    fn untrusted_ca() {
        let ca = test_certs::rcgen_ca("MinKNOW", Some(true));
        let other = test_certs::rcgen_ca("Other CA", Some(true));
        let leaf = leaf_of(&ca, "localhost", &[]);
        let e = check(&verifier(&[&other.cert]), &leaf.cert, &[], "localhost").unwrap_err();
        assert_eq!(
            e,
            "no trusted CA matches issuer CN=MinKNOW of server certificate CN=localhost \
             (trusted: CN=Other CA)"
        );
    }

    #[test]
    fn same_subject_different_key_in_both_orders() {
        let old = test_certs::rcgen_ca("MinKNOW", Some(true));
        let new = test_certs::rcgen_ca("MinKNOW", Some(true));
        let leaf = leaf_of(&new, "localhost", &[]);
        assert_eq!(check(&verifier(&[&old.cert, &new.cert]), &leaf.cert, &[], "localhost"), Ok(()));
        assert_eq!(check(&verifier(&[&new.cert, &old.cert]), &leaf.cert, &[], "localhost"), Ok(()));

        // Only the old one: the message points at a regenerated CA.
        let e = check(&verifier(&[&old.cert]), &leaf.cert, &[], "localhost").unwrap_err();
        assert!(e.contains("trusted CA #1 CN=MinKNOW: signature did not verify"), "{e}");
        assert!(e.contains("regenerated"), "{e}");
    }

    #[test]
    fn ca_without_basic_constraints_and_intermediates() {
        let root = test_certs::rcgen_ca("Root", None);
        let leaf = leaf_of(&root, "localhost", &[]);
        assert_eq!(check(&verifier(&[&root.cert]), &leaf.cert, &[], "localhost"), Ok(()));

        let int = test_certs::rcgen_sub_ca("Intermediate", Some(true), &root);
        let int2 = test_certs::rcgen_sub_ca("Intermediate 2", None, &int);
        let leaf = leaf_of(&int2, "localhost", &[]);
        let v = verifier(&[&root.cert]);
        // Sent in either order; an unrelated extra certificate is ignored.
        let stray = test_certs::rcgen_ca("Stray", Some(true)).cert;
        let sent = [int.cert.clone(), stray, int2.cert.clone()];
        assert_eq!(check(&v, &leaf.cert, &sent, "localhost"), Ok(()));
        let sent = [int2.cert.clone(), int.cert.clone()];
        assert_eq!(check(&v, &leaf.cert, &sent, "localhost"), Ok(()));
        // Missing the middle: no path.
        let e = check(&v, &leaf.cert, std::slice::from_ref(&int2.cert), "localhost").unwrap_err();
        assert!(e.starts_with("no trusted CA matches issuer CN=Intermediate "), "{e}");
        // Trusting an intermediate directly is enough.
        let v = verifier(&[&int2.cert]);
        assert_eq!(check(&v, &leaf.cert, &[], "localhost"), Ok(()));
    }

    #[test]
    fn ca_false_intermediate_is_refused() {
        let root = test_certs::rcgen_ca("Root", Some(true));
        let not_ca = test_certs::rcgen_sub_ca("Not a CA", Some(false), &root);
        let leaf = leaf_of(&not_ca, "localhost", &[]);
        let v = verifier(&[&root.cert]);
        let e = check(&v, &leaf.cert, std::slice::from_ref(&not_ca.cert), "localhost").unwrap_err();
        assert!(
            e.contains("intermediate CN=Not a CA sent by the server: is marked CA:false"),
            "{e}"
        );
        // Also when trusted directly as the issuer.
        let e = check(&verifier(&[&not_ca.cert]), &leaf.cert, &[], "localhost").unwrap_err();
        assert!(e.contains("is marked CA:false"), "{e}");
    }

    #[test]
    fn pinned_leaf() {
        let leaf = test_certs::rcgen_self_signed("localhost", &["localhost"]);
        let v = verifier(&[&leaf.cert]);
        assert_eq!(check(&v, &leaf.cert, &[], "localhost"), Ok(()));
        assert!(check(&v, &leaf.cert, &[], "other").is_err());
        // A different self-signed certificate with the same name is not it.
        let impostor = test_certs::rcgen_self_signed("localhost", &["localhost"]);
        assert!(check(&v, &impostor.cert, &[], "localhost").is_err());
    }

    #[test]
    fn purpose_and_critical_extensions() {
        let ca = test_certs::rcgen_ca("MinKNOW", Some(true));
        let v = verifier(&[&ca.cert]);
        let client_only = test_certs::rcgen_leaf("localhost", &[], &ca, |p| {
            p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        });
        let e = check(&v, &client_only.cert, &[], "localhost").unwrap_err();
        assert!(e.contains("without serverAuth"), "{e}");

        let critical = test_certs::rcgen_leaf("localhost", &[], &ca, |p| {
            let mut ext = rcgen::CustomExtension::from_oid_content(&[1, 2, 3, 4], vec![0x05, 0x00]);
            ext.set_criticality(true);
            p.custom_extensions = vec![ext];
        });
        let e = check(&v, &critical.cert, &[], "localhost").unwrap_err();
        assert!(e.contains("unsupported critical extension 1.2.3.4"), "{e}");
    }

    #[test]
    fn v1_chain_from_openssl() {
        test_certs::require_openssl();
        let chain = V1Chain::new("MinKNOW");
        chain.leaf("server", "localhost");
        let ca = chain.der("ca.crt");
        let leaf = chain.der("server.crt");
        let now = x509::Certificate::parse(&leaf).unwrap().not_before + 60;
        let v = verifier(&[&ca]);
        assert_eq!(v.verify(&leaf, &[], &localhost(), now), Ok(()));
        let e = v.verify(&leaf, &[], &ServerName::try_from("127.0.0.1").unwrap(), now);
        assert!(e.unwrap_err().contains("not valid for address 127.0.0.1"));
        // The v1 CA pinned as a leaf of its own is fine too (self-signed v1).
        assert_eq!(v.verify(&ca, &[], &ServerName::try_from("MinKNOW").unwrap(), now), Ok(()));
    }

    /// A DigitallySignedStruct as rustls would decode it from the wire.
    fn dss(scheme: SignatureScheme, sig: &[u8]) -> DigitallySignedStruct {
        let mut wire = Vec::new();
        scheme.encode(&mut wire);
        wire.extend_from_slice(&(sig.len() as u16).to_be_bytes());
        wire.extend_from_slice(sig);
        DigitallySignedStruct::read(&mut Reader::init(&wire)).unwrap()
    }

    fn sign(key: &dyn SigningKey, scheme: SignatureScheme, message: &[u8]) -> Vec<u8> {
        key.choose_scheme(&[scheme]).expect("scheme").sign(message).expect("sign")
    }

    fn load_key(pem: &[u8]) -> Arc<dyn SigningKey> {
        use rustls_pki_types::pem::PemObject;
        let der = rustls_pki_types::PrivateKeyDer::from_pem_slice(pem).unwrap();
        rustls::crypto::ring::default_provider().key_provider.load_private_key(der).unwrap()
    }

    /// Good signatures pass; a changed transcript or signature fails.
    fn assert_handshake_checks(
        v: &ServerVerifier,
        cert: &CertificateDer<'_>,
        key: &dyn SigningKey,
        scheme: SignatureScheme,
        tls13: bool,
    ) {
        let message = b"handshake transcript hash input".to_vec();
        let sig = sign(key, scheme, &message);
        let verify = |m: &[u8], s: &[u8]| {
            if tls13 {
                v.verify_tls13_signature(m, cert, &dss(scheme, s)).map(|_| ())
            } else {
                v.verify_tls12_signature(m, cert, &dss(scheme, s)).map(|_| ())
            }
        };
        assert!(verify(&message, &sig).is_ok(), "{scheme:?} tls13={tls13}");
        let mut bad_message = message.clone();
        bad_message[3] ^= 1;
        assert!(verify(&bad_message, &sig).is_err(), "{scheme:?} tls13={tls13}");
        let mut bad_sig = sig.clone();
        let last = bad_sig.len() - 1;
        bad_sig[last] ^= 1;
        assert!(verify(&message, &bad_sig).is_err(), "{scheme:?} tls13={tls13}");
    }

    #[test]
    fn handshake_signatures_ecdsa() {
        let ca = test_certs::rcgen_ca("MinKNOW", Some(true));
        let leaf = leaf_of(&ca, "localhost", &[]);
        let key = load_key(leaf.key_pem.as_bytes());
        let v = verifier(&[&ca.cert]);
        let scheme = SignatureScheme::ECDSA_NISTP256_SHA256;
        assert_handshake_checks(&v, &leaf.cert, key.as_ref(), scheme, true);
        assert_handshake_checks(&v, &leaf.cert, key.as_ref(), scheme, false);

        // A scheme that does not fit the key is refused, not ignored.
        let sig = sign(key.as_ref(), scheme, b"m");
        let wrong = dss(SignatureScheme::RSA_PKCS1_SHA256, &sig);
        assert!(v.verify_tls12_signature(b"m", &leaf.cert, &wrong).is_err());
        assert!(v.verify_tls13_signature(b"m", &leaf.cert, &wrong).is_err());
    }

    #[test]
    fn handshake_signatures_rsa_v1_leaf() {
        test_certs::require_openssl();
        let chain = V1Chain::new("MinKNOW");
        chain.leaf("server", "localhost");
        let leaf = chain.der("server.crt");
        let key = load_key(&chain.read("server.key"));
        let v = verifier(&[&chain.der("ca.crt")]);
        assert_handshake_checks(&v, &leaf, key.as_ref(), SignatureScheme::RSA_PSS_SHA256, true);
        assert_handshake_checks(&v, &leaf, key.as_ref(), SignatureScheme::RSA_PSS_SHA256, false);
        assert_handshake_checks(&v, &leaf, key.as_ref(), SignatureScheme::RSA_PKCS1_SHA256, false);
    }

    #[test]
    fn errors_carry_the_message() {
        let ca = test_certs::rcgen_ca("MinKNOW", Some(true));
        let leaf = leaf_of(&ca, "localhost", &[]);
        let v = verifier(&[&ca.cert]);
        let name = ServerName::try_from("foo").unwrap();
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(NOW as u64));
        let e = v.verify_server_cert(&leaf.cert, &[], &name, &[], now).unwrap_err();
        let text = crate::trust::certificate_error_text(&e);
        assert_eq!(
            text,
            "server certificate CN=localhost is not valid for name 'foo' (its names: localhost)"
        );
        assert!(e.to_string().contains(&text), "{e}");
        assert!(crate::trust::verify_error(&e).is_some());
    }
}
