//! Certificates for unit tests, made at test time: v3 ones with rcgen and
//! MinKNOW-shaped v1 ones with the `openssl` command line tool. No key is
//! committed to the repository.

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
};
use rustls_pki_types::CertificateDer;

/// A CA made with rcgen, able to sign more certificates.
pub struct RcgenCa {
    pub cert: CertificateDer<'static>,
    pub pem: String,
    pub issuer: Issuer<'static, KeyPair>,
}

/// A certificate and the PEM of its key.
pub struct Leaf {
    pub cert: CertificateDer<'static>,
    pub pem: String,
    pub key_pem: String,
}

fn named(cn: &str, sans: &[&str]) -> CertificateParams {
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans).expect("valid names");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params
}

/// A self-signed CA. `ca` is `Some(true)` for basicConstraints CA:true,
/// `Some(false)` for CA:false, `None` for no basicConstraints at all.
pub fn rcgen_ca(cn: &str, ca: Option<bool>) -> RcgenCa {
    let mut params = named(cn, &[]);
    params.is_ca = match ca {
        Some(true) => IsCa::Ca(BasicConstraints::Unconstrained),
        Some(false) => IsCa::ExplicitNoCa,
        None => IsCa::NoCa,
    };
    let key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("self-signed");
    RcgenCa { cert: cert.der().clone(), pem: cert.pem(), issuer: Issuer::new(params, key) }
}

/// A CA (or, with `ca`, any certificate) signed by `parent`.
pub fn rcgen_sub_ca(cn: &str, ca: Option<bool>, parent: &RcgenCa) -> RcgenCa {
    let mut params = named(cn, &[]);
    params.is_ca = match ca {
        Some(true) => IsCa::Ca(BasicConstraints::Unconstrained),
        Some(false) => IsCa::ExplicitNoCa,
        None => IsCa::NoCa,
    };
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &parent.issuer).expect("signed");
    RcgenCa { cert: cert.der().clone(), pem: cert.pem(), issuer: Issuer::new(params, key) }
}

/// A leaf signed by `parent`; `edit` may change its parameters (dates,
/// usages) before signing.
pub fn rcgen_leaf(
    cn: &str,
    sans: &[&str],
    parent: &RcgenCa,
    edit: impl FnOnce(&mut CertificateParams),
) -> Leaf {
    let mut params = named(cn, sans);
    edit(&mut params);
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &parent.issuer).expect("signed");
    Leaf { cert: cert.der().clone(), pem: cert.pem(), key_pem: key.serialize_pem() }
}

/// A self-signed leaf (for pinning tests).
pub fn rcgen_self_signed(cn: &str, sans: &[&str]) -> Leaf {
    let params = named(cn, sans);
    let key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("self-signed");
    Leaf { cert: cert.der().clone(), pem: cert.pem(), key_pem: key.serialize_pem() }
}

/// True when the `openssl` tool can be run; tests that need it skip
/// themselves (with a note) when it cannot.
/// Panics unless the `openssl` command works: the tests that make X.509
/// v1 certificates need it (`make deps` installs it), and a test without
/// its tool must fail, not pass unchecked.
pub fn require_openssl() {
    let ok = Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    assert!(ok, "the openssl command is needed for this test (make deps installs it)");
}

/// Run `openssl` with `args` in `dir`, panicking with its stderr on failure.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Files of an X.509 v1 chain like MinKNOW's: a v1 self-signed CA
/// (`ca.crt`, `ca.key`) and v1 leaves signed by it, all RSA 2048 with
/// SHA-256 and no extensions.
pub struct V1Chain {
    pub dir: tempfile::TempDir,
}

impl V1Chain {
    /// A CA with subject `CN=<ca_cn>`, key `ca.key`, certificate `ca.crt`.
    pub fn new(ca_cn: &str) -> V1Chain {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        openssl(d, &["genrsa", "-out", "ca.key", "2048"]);
        let subj = format!("/CN={ca_cn}");
        openssl(d, &["req", "-new", "-key", "ca.key", "-subj", &subj, "-out", "ca.csr"]);
        openssl(
            d,
            &[
                "x509", "-req", "-in", "ca.csr", "-signkey", "ca.key", "-days", "30", "-out",
                "ca.crt",
            ],
        );
        V1Chain { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("read generated file")
    }

    /// A v1 leaf `<name>.crt` with key `<name>.key` and subject `CN=<cn>`,
    /// signed by this CA.
    pub fn leaf(&self, name: &str, cn: &str) {
        let d = self.dir.path();
        let (key, csr, crt) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.crt"));
        openssl(d, &["genrsa", "-out", &key, "2048"]);
        let subj = format!("/CN={cn}");
        openssl(d, &["req", "-new", "-key", &key, "-subj", &subj, "-out", &csr]);
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-set_serial",
                "7",
                "-days",
                "30",
                "-out",
                &crt,
            ],
        );
    }

    /// The DER of a PEM certificate file in this directory.
    pub fn der(&self, name: &str) -> CertificateDer<'static> {
        pem_to_der(&self.read(name))
    }
}

/// The first certificate of a PEM text, as DER.
pub fn pem_to_der(pem: &[u8]) -> CertificateDer<'static> {
    use rustls_pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem).expect("PEM certificate")
}
