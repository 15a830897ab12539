//! The client identity: a certificate chain and its private key, read and
//! checked before any network I/O.
//!
//! rustls's own path for client certificates cross-checks the key with
//! webpki, which refuses X.509 v1 certificates; MinKNOW's BoringSSL accepts
//! them. So the key is loaded through the crypto provider here, matched
//! against the first certificate with this crate's own parser, and handed
//! to rustls as a ready [`CertifiedKey`].

use std::fmt;
use std::sync::Arc;

use rustls::crypto::ring;
use rustls::sign::{CertifiedKey, SigningKey};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroize;

use crate::error::{Error, Result, Status};
use crate::sources::{pem, Material};
use crate::x509::{self, KeyUsage};

/// A client certificate chain (client certificate first) and the key of
/// its first certificate.
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<dyn SigningKey>,
    subject: String,
    not_before: i64,
    not_after: i64,
}

impl Identity {
    /// Read the chain and the key, and check that they belong together and
    /// that MinKNOW can accept the certificate's stated usages.
    pub fn load(chain: &Material, key: &Material) -> Result<Identity> {
        let certs = pem::read_certificates(chain)?;
        let mut key_der = pem::read_private_key(key)?;
        let signing_key = load_signing_key(key, &key_der);
        // The provider has made its own key from it: wipe the DER.
        key_der.zeroize();
        let signing_key = signing_key?;

        // read_certificates never returns an empty chain; stay safe anyway.
        let Some(first) = certs.first() else {
            let message = format!("{}: holds no certificate", chain.describe());
            return Err(Error::new(Status::BadCertificate, message));
        };
        check_key_matches(&certs, signing_key.as_ref(), chain, key)?;
        let leaf = parse(first, chain)?;
        check_client_usage(&leaf, chain)?;

        Ok(Identity {
            subject: leaf.subject_text(),
            not_before: leaf.not_before,
            not_after: leaf.not_after,
            chain: certs,
            key: signing_key,
        })
    }

    /// The client certificate's subject, e.g. `CN=lab-client`, for logs.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The chain as it is sent, client certificate first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The client certificate's notBefore, in seconds since the Unix epoch.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// The client certificate's notAfter, in seconds since the Unix epoch.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// An error when the client certificate is not valid at `now` (seconds
    /// since the epoch). Kept apart from [`Identity::load`] so that loading
    /// stays a pure function of the files.
    pub fn check_valid_at(&self, now: i64) -> Result<()> {
        if now > self.not_after {
            let when = x509::format_time(self.not_after);
            let message = format!("client certificate {} expired at {when}", self.subject);
            return Err(Error::new(Status::BadCertificate, message));
        }
        if now < self.not_before {
            let when = x509::format_time(self.not_before);
            let message = format!("client certificate {} is not valid before {when}", self.subject);
            return Err(Error::new(Status::BadCertificate, message));
        }
        Ok(())
    }

    /// The chain and key as rustls wants them for a client-certificate
    /// resolver.
    pub fn certified_key(&self) -> Arc<CertifiedKey> {
        Arc::new(CertifiedKey::new(self.chain.clone(), Arc::clone(&self.key)))
    }
}

// Never print the key, nor the certificates.
impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("subject", &self.subject)
            .field("chain_len", &self.chain.len())
            .field("key", &self.key.algorithm())
            .finish()
    }
}

fn parse<'a>(cert: &'a CertificateDer<'_>, chain: &Material) -> Result<x509::Certificate<'a>> {
    // read_certificates has parsed every certificate already; this only
    // fails if that changes.
    x509::Certificate::parse(cert).map_err(|e| {
        Error::new(Status::BadCertificate, format!("{}: bad certificate: {e}", chain.describe()))
    })
}

/// The provider's signing key for `der`. Borrowed (not handed over, as
/// `KeyProvider::load_private_key` wants it) so that the caller can wipe it.
fn load_signing_key(key: &Material, der: &PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>> {
    ring::sign::any_supported_type(der).map_err(|_| {
        let message = format!(
            "{}: unsupported private key (supported: RSA of 2048 to 8192 bits, \
             ECDSA P-256 or P-384, Ed25519)",
            key.describe()
        );
        Error::new(Status::BadKey, message)
    })
}

/// The key must belong to the first certificate. When it belongs to a later
/// one, the chain is in the wrong order, which is worth saying.
fn check_key_matches(
    certs: &[CertificateDer<'static>],
    key: &dyn SigningKey,
    chain: &Material,
    key_material: &Material,
) -> Result<()> {
    let Some(spki) = key.public_key() else {
        let message = format!("{}: cannot tell which public key it has", key_material.describe());
        return Err(Error::new(Status::BadKey, message));
    };
    let (_, key_bits) = x509::parse_spki(&spki)
        .map_err(|e| Error::new(Status::Internal, format!("public key of the signing key: {e}")))?;

    let position = certs
        .iter()
        .position(|cert| x509::Certificate::parse(cert).is_ok_and(|c| c.public_key == key_bits));
    match position {
        Some(0) => Ok(()),
        Some(i) => {
            let message = format!(
                "{} matches certificate #{} of {}, not the first: the chain is in the wrong \
                 order; put the client certificate first, then its issuers",
                key_material.describe(),
                i + 1,
                chain.describe()
            );
            Err(Error::new(Status::KeyMismatch, message))
        }
        None => {
            let subject = certs
                .first()
                .and_then(|c| x509::Certificate::parse(c).ok())
                .map_or_else(|| "(none)".to_owned(), |c| c.subject_text());
            let message = format!(
                "{} does not belong to the client certificate {subject} in {}",
                key_material.describe(),
                chain.describe()
            );
            Err(Error::new(Status::KeyMismatch, message))
        }
    }
}

/// MinKNOW requires key usage absent or including digitalSignature, and
/// extended key usage absent or including clientAuth. Failing here names
/// the problem; failing in the handshake would only show "socket closed".
fn check_client_usage(leaf: &x509::Certificate<'_>, chain: &Material) -> Result<()> {
    let ext = &leaf.extensions;
    if ext.key_usage.is_some_and(|ku| !ku.has(KeyUsage::DIGITAL_SIGNATURE)) {
        let message = format!(
            "{}: client certificate {} has a keyUsage without digitalSignature, \
             which MinKNOW refuses",
            chain.describe(),
            leaf.subject_text()
        );
        return Err(Error::new(Status::BadCertificate, message));
    }
    let allows_client = |ekus: &Vec<&[u8]>| {
        ekus.iter().any(|&eku| eku == x509::EKU_CLIENT_AUTH || eku == x509::EKU_ANY)
    };
    if ext.extended_key_usage.as_ref().is_some_and(|ekus| !allows_client(ekus)) {
        let message = format!(
            "{}: client certificate {} has an extendedKeyUsage without clientAuth, \
             which MinKNOW refuses",
            chain.describe(),
            leaf.subject_text()
        );
        return Err(Error::new(Status::BadCertificate, message));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::test_certs::{self, V1Chain};

    fn write(dir: &tempfile::TempDir, name: &str, contents: &str) -> Material {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        Material::path(path, name.to_owned() + " option")
    }

    #[test]
    fn loads_an_ecdsa_v3_identity_and_hides_the_key() {
        let ca = test_certs::rcgen_ca("Lab CA", Some(true));
        let leaf = test_certs::rcgen_leaf("lab-client", &[], &ca, |p| {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2030, 1, 1);
        });
        let chain = Material::pem(format!("{}{}", leaf.pem, ca.pem), "chain_pem");
        let key = Material::pem(leaf.key_pem.clone(), "key_pem");
        let id = Identity::load(&chain, &key).unwrap();

        assert_eq!(id.subject(), "CN=lab-client");
        assert_eq!(id.chain(), &[leaf.cert.clone(), ca.cert.clone()]);
        assert_eq!(x509::format_time(id.not_after()), "2030-01-01T00:00:00Z");
        assert!(id.check_valid_at(1_800_000_000).is_ok());
        let e = id.check_valid_at(1_900_000_000).unwrap_err();
        assert_eq!(e.status(), Status::BadCertificate);
        assert_eq!(e.message(), "client certificate CN=lab-client expired at 2030-01-01T00:00:00Z");
        assert!(id.check_valid_at(0).unwrap_err().message().contains("not valid before"));

        let debug = format!("{id:?}");
        assert!(debug.contains("CN=lab-client") && debug.contains("ECDSA"), "{debug}");
        let body_line = leaf.key_pem.lines().nth(1).unwrap();
        assert!(!debug.contains(body_line));
        assert_eq!(id.certified_key().cert.len(), 2);
    }

    #[test]
    fn key_mismatch_and_wrong_order() {
        let ca = test_certs::rcgen_ca("Lab CA", Some(true));
        let leaf = test_certs::rcgen_leaf("lab-client", &[], &ca, |_| {});
        let other = test_certs::rcgen_leaf("someone-else", &[], &ca, |_| {});
        let dir = tempfile::tempdir().unwrap();
        let chain = write(&dir, "chain.pem", &leaf.pem);
        let wrong_key = write(&dir, "other.key", &other.key_pem);

        let e = Identity::load(&chain, &wrong_key).unwrap_err();
        assert_eq!(e.status(), Status::KeyMismatch);
        assert!(e.message().contains("other.key (from other.key option) does not belong"), "{e}");
        assert!(e.message().contains("CN=lab-client in"), "{e}");
        assert!(e.message().contains("chain.pem (from chain.pem option)"), "{e}");

        let reversed = write(&dir, "reversed.pem", &format!("{}{}", ca.pem, leaf.pem));
        let key = write(&dir, "client.key", &leaf.key_pem);
        let e = Identity::load(&reversed, &key).unwrap_err();
        assert_eq!(e.status(), Status::KeyMismatch);
        assert!(e.message().contains("matches certificate #2"), "{e}");
        assert!(e.message().contains("wrong order"), "{e}");
    }

    #[test]
    fn usages_that_minknow_refuses() {
        let ca = test_certs::rcgen_ca("Lab CA", Some(true));
        let no_sig = test_certs::rcgen_leaf("a", &[], &ca, |p| {
            p.key_usages = vec![rcgen::KeyUsagePurpose::KeyEncipherment];
        });
        let server_only = test_certs::rcgen_leaf("b", &[], &ca, |p| {
            p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        });
        let both = test_certs::rcgen_leaf("c", &[], &ca, |p| {
            p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
            p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        });
        let load = |l: &test_certs::Leaf| {
            Identity::load(
                &Material::pem(l.pem.clone(), "c"),
                &Material::pem(l.key_pem.clone(), "k"),
            )
        };
        let e = load(&no_sig).unwrap_err();
        assert_eq!(e.status(), Status::BadCertificate);
        assert!(e.message().contains("without digitalSignature"), "{e}");
        let e = load(&server_only).unwrap_err();
        assert!(e.message().contains("without clientAuth"), "{e}");
        assert!(load(&both).is_ok());
    }

    #[test]
    fn minknow_shaped_rsa_identities() {
        test_certs::require_openssl();
        // An X.509 v1 client certificate signed by a lab CA, key PKCS#8.
        let v1 = V1Chain::new("Lab CA");
        v1.leaf("client", "lab-client");
        let chain = Material::path(v1.path("client.crt"), "chain");
        let id = Identity::load(&chain, &Material::path(v1.path("client.key"), "key")).unwrap();
        assert_eq!(id.subject(), "CN=lab-client");

        // The same key as PKCS#1 loads too.
        let d = v1.dir.path();
        test_certs::openssl(
            d,
            &["rsa", "-in", "client.key", "-traditional", "-out", "client1.key"],
        );
        assert!(Identity::load(&chain, &Material::path(v1.path("client1.key"), "key")).is_ok());

        // A self-signed CA:true client certificate with an RSA 4096 key.
        test_certs::openssl(d, &["genrsa", "-out", "big.key", "4096"]);
        test_certs::openssl(
            d,
            &[
                "req", "-new", "-x509", "-key", "big.key", "-subj", "/CN=self", "-days", "30",
                "-out", "self.crt",
            ],
        );
        let self_signed = std::fs::read(v1.path("self.crt")).unwrap();
        let parsed = test_certs::pem_to_der(&self_signed);
        let parsed = x509::Certificate::parse(&parsed).unwrap();
        assert_eq!(parsed.extensions.basic_constraints.map(|b| b.ca), Some(true));
        let id = Identity::load(
            &Material::path(v1.path("self.crt"), "chain"),
            &Material::path(v1.path("big.key"), "key"),
        )
        .unwrap();
        assert_eq!(id.subject(), "CN=self");

        // An EC key as SEC1, with the EC PARAMETERS block openssl writes.
        test_certs::openssl(d, &["ecparam", "-name", "prime256v1", "-genkey", "-out", "ec.key"]);
        test_certs::openssl(
            d,
            &[
                "req", "-new", "-x509", "-key", "ec.key", "-subj", "/CN=ec", "-days", "30", "-out",
                "ec.crt",
            ],
        );
        let id = Identity::load(
            &Material::path(v1.path("ec.crt"), "chain"),
            &Material::path(v1.path("ec.key"), "key"),
        );
        assert_eq!(id.unwrap().subject(), "CN=ec");
    }

    #[test]
    fn unsupported_key_types() {
        test_certs::require_openssl();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        test_certs::openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-521",
                "-out",
                "p521.key",
            ],
        );
        test_certs::openssl(
            d,
            &[
                "req", "-new", "-x509", "-key", "p521.key", "-subj", "/CN=x", "-days", "3", "-out",
                "p521.crt",
            ],
        );
        let e = Identity::load(
            &Material::path(d.join("p521.crt"), "chain"),
            &Material::path(d.join("p521.key"), "key"),
        )
        .unwrap_err();
        assert_eq!(e.status(), Status::BadKey);
        assert!(e.message().contains("unsupported private key"), "{e}");
    }
}
