//! Reading PEM certificates and private keys from files or bytes, with an
//! error for every way the material is commonly wrong.
//!
//! Messages name the file (or option) through [`Material::describe`] and
//! never quote the material itself, which may be a private key.

use std::borrow::Cow;
use std::io::ErrorKind;
use std::path::Path;

use rustls_pki_types::pem::{self, PemObject, SectionKind};
use rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};

use zeroize::Zeroizing;

use crate::error::{Error, Result, Status};
use crate::sources::Material;
use crate::x509;

/// Files larger than this are not read: a CA bundle or a key is a few
/// kilobytes, and the limit keeps a wrong path (a disk image, a log) cheap.
const MAX_FILE_LEN: u64 = 16 * 1024 * 1024;

/// What the caller expects to find, which decides the status of errors
/// about the content.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Certificate,
    Key,
}

impl Expect {
    fn bad(self) -> Status {
        match self {
            Expect::Certificate => Status::BadCertificate,
            Expect::Key => Status::BadKey,
        }
    }

    /// The `openssl` command that turns a DER file of this kind into PEM.
    fn der_hint(self) -> &'static str {
        match self {
            Expect::Certificate => "openssl x509 -inform der -in FILE -out FILE.pem",
            Expect::Key => "openssl pkey -inform der -in FILE -out FILE.pem",
        }
    }
}

/// Read every certificate of a PEM file or PEM bytes (a CA bundle, or a
/// client chain with the client certificate first). Each one is checked to
/// be a parseable X.509 certificate.
pub fn read_certificates(m: &Material) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = load(m, Expect::Certificate)?;
    let labels = begin_labels(&bytes);
    if labels.is_empty() {
        return Err(not_pem(m, &bytes, Expect::Certificate));
    }

    let mut certs = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(&bytes) {
        let (kind, der) = section.map_err(|e| pem_error(m, &e, Expect::Certificate))?;
        if kind == SectionKind::Certificate {
            certs.push(CertificateDer::from(der));
        }
    }

    if certs.is_empty() {
        return Err(no_certificate(m, &labels));
    }
    for (i, cert) in certs.iter().enumerate() {
        if let Err(e) = x509::Certificate::parse(cert) {
            let message = format!(
                "{}: certificate #{} is not a valid X.509 certificate: {e}",
                m.describe(),
                i + 1
            );
            return Err(Error::new(Status::BadCertificate, message));
        }
    }
    Ok(certs)
}

/// Read the one unencrypted private key of a PEM file or PEM bytes: RSA
/// (PKCS#1), PKCS#8 or EC (SEC1).
///
/// Every copy of the key this makes (the file's bytes, each decoded block)
/// is wiped when dropped; the caller wipes the returned key once it is
/// loaded. (The PEM reader of rustls-pki-types keeps the base64 text of a
/// block in a scratch buffer of its own, which it frees without wiping.)
pub fn read_private_key(m: &Material) -> Result<PrivateKeyDer<'static>> {
    let bytes = Zeroizing::new(load(m, Expect::Key)?.into_owned());
    if is_encrypted(&bytes) {
        return Err(encrypted_key(m));
    }
    let labels = begin_labels(&bytes);
    if labels.is_empty() {
        return Err(not_pem(m, &bytes, Expect::Key));
    }

    let mut keys: Zeroizing<Vec<PrivateKeyDer<'static>>> = Zeroizing::new(Vec::new());
    let mut certificates = 0;
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(&bytes) {
        let (kind, der) = section.map_err(|e| pem_error(m, &e, Expect::Key))?;
        let mut der = Zeroizing::new(der);
        let take = |der: &mut Zeroizing<Vec<u8>>| std::mem::take(&mut **der);
        match kind {
            SectionKind::RsaPrivateKey => {
                keys.push(PrivatePkcs1KeyDer::from(take(&mut der)).into())
            }
            SectionKind::PrivateKey => keys.push(PrivatePkcs8KeyDer::from(take(&mut der)).into()),
            SectionKind::EcPrivateKey => keys.push(PrivateSec1KeyDer::from(take(&mut der)).into()),
            SectionKind::Certificate => certificates += 1,
            _ => {}
        }
    }

    match keys.len() {
        1 => Ok(keys.remove(0)),
        0 if certificates > 0 => Err(bad_key(m, "holds a certificate, not a private key")),
        0 => {
            Err(bad_key(m, &format!("holds no private key (PEM blocks found: {})", list(&labels))))
        }
        n => Err(bad_key(m, &format!("holds {n} private keys; give a file with exactly one"))),
    }
}

// --- Loading -----------------------------------------------------------------

/// The bytes of the material: the file's contents, or the given bytes after
/// checking that they are not really a path.
fn load(m: &Material, expect: Expect) -> Result<Cow<'_, [u8]>> {
    match m {
        Material::Path { path, .. } => read_file(m, path, expect).map(Cow::Owned),
        Material::Pem { bytes, .. } => {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Err(Error::new(expect.bad(), format!("{}: empty", m.describe())));
            }
            if let Some(text) = looks_like_path(bytes) {
                let message = format!(
                    "{}: these bytes look like a file path ('{text}'), not PEM; \
                     give the path through the path option instead",
                    m.describe()
                );
                return Err(Error::new(Status::PemLooksLikePath, message));
            }
            Ok(Cow::Borrowed(&bytes[..]))
        }
    }
}

fn read_file(m: &Material, path: &Path, expect: Expect) -> Result<Vec<u8>> {
    let file_error =
        |what: &str| Error::new(Status::FileError, format!("{}: {what}", m.describe()));
    let meta = std::fs::metadata(path).map_err(|e| file_error(&io_reason(&e)))?;
    if meta.is_dir() {
        return Err(file_error("is a directory, not a file"));
    }
    if meta.len() > MAX_FILE_LEN {
        let message =
            format!("{}: too large ({} bytes) to be PEM material", m.describe(), meta.len());
        return Err(Error::new(expect.bad(), message));
    }
    let bytes = std::fs::read(path).map_err(|e| file_error(&io_reason(&e)))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(file_error("is empty"));
    }
    Ok(bytes)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => "no such file".to_owned(),
        ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => format!("cannot be read: {e}"),
    }
}

/// When `bytes` (given as PEM) are a single short line that looks like a
/// file path, that line.
fn looks_like_path(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    if text.is_empty() || text.len() > 1024 || text.contains(['\n', '\r']) {
        return None;
    }
    if text.contains("-----BEGIN") {
        return None;
    }
    // A long run of base64 is a PEM body without its lines, not a path,
    // even though base64 may contain '/'.
    let base64ish = text.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
    if base64ish && text.len() > 64 && !text.starts_with('/') {
        return None;
    }
    let pathish = text.starts_with(['/', '.', '~', '\\'])
        || text.get(1..3) == Some(":\\")
        || [".pem", ".crt", ".cer", ".key", ".der"].iter().any(|ext| text.ends_with(ext))
        || Path::new(text).is_file();
    pathish.then_some(text)
}

// --- Content checks ----------------------------------------------------------

/// The labels of the `-----BEGIN <label>-----` lines, in order.
fn begin_labels(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == b'\n' || b == b'\r')
        .filter_map(|line| line.strip_prefix(b"-----BEGIN "))
        .map(|rest| {
            let end = rest.iter().position(|&b| b == b'-').unwrap_or(rest.len());
            let label = String::from_utf8_lossy(&rest[..end.min(40)]).into_owned();
            label.trim().to_owned()
        })
        .collect()
}

/// True for the two encrypted PEM key forms: PKCS#8 `ENCRYPTED PRIVATE
/// KEY`, and the legacy OpenSSL form with a `Proc-Type: 4,ENCRYPTED` header.
fn is_encrypted(bytes: &[u8]) -> bool {
    begin_labels(bytes).iter().any(|l| l == "ENCRYPTED PRIVATE KEY")
        || bytes
            .split(|&b| b == b'\n' || b == b'\r')
            .any(|line| line.starts_with(b"Proc-Type:") && contains(line, b"ENCRYPTED"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The error for content with no PEM BEGIN line at all.
fn not_pem(m: &Material, bytes: &[u8], expect: Expect) -> Error {
    let what = match expect {
        Expect::Certificate => "certificate",
        Expect::Key => "private key",
    };
    let message = if looks_like_der(bytes) {
        format!(
            "{}: looks like DER (binary), not PEM; convert it with `{}`",
            m.describe(),
            expect.der_hint()
        )
    } else {
        format!("{}: not PEM (no -----BEGIN line); expected a PEM {what}", m.describe())
    };
    Error::new(expect.bad(), message)
}

/// DER starts with a SEQUENCE tag and a definite length.
fn looks_like_der(bytes: &[u8]) -> bool {
    matches!(bytes, [0x30, len, ..] if *len != 0x80 && *len <= 0x84)
}

fn no_certificate(m: &Material, labels: &[String]) -> Error {
    let message = if labels.iter().any(|l| l.ends_with("PRIVATE KEY")) {
        format!("{}: holds a private key, not a certificate", m.describe())
    } else {
        format!("{}: holds no CERTIFICATE block (PEM blocks found: {})", m.describe(), list(labels))
    };
    Error::new(Status::BadCertificate, message)
}

fn pem_error(m: &Material, e: &pem::Error, expect: Expect) -> Error {
    // The library's own texts may quote lines of the file: describe the
    // problem ourselves instead.
    let what = match e {
        pem::Error::MissingSectionEnd { .. } => "truncated: a PEM block has no END line",
        pem::Error::IllegalSectionStart { .. } => "malformed PEM: a BEGIN line is not well formed",
        pem::Error::Base64Decode(_) => "corrupt PEM: a block's base64 does not decode",
        pem::Error::SectionTooLarge => "a PEM block is too large",
        _ => "unreadable PEM",
    };
    Error::new(expect.bad(), format!("{}: {what}", m.describe()))
}

fn encrypted_key(m: &Material) -> Error {
    let message = format!(
        "{}: the private key is encrypted with a passphrase, and MinKNOW clients need an \
         unencrypted key; decrypt it with `openssl pkey -in KEY -out KEY.unencrypted` \
         (it asks for the passphrase) and keep the result readable only by its owner",
        m.describe()
    );
    Error::new(Status::EncryptedKey, message)
}

fn bad_key(m: &Material, what: &str) -> Error {
    Error::new(Status::BadKey, format!("{}: {what}", m.describe()))
}

fn list(labels: &[String]) -> String {
    if labels.is_empty() {
        return "none".to_owned();
    }
    labels.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::test_certs;

    fn file(dir: &tempfile::TempDir, name: &str, contents: &[u8]) -> Material {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        Material::path(path, "test option")
    }

    fn cert_err(m: &Material) -> Error {
        read_certificates(m).unwrap_err()
    }

    fn key_err(m: &Material) -> Error {
        read_private_key(m).unwrap_err()
    }

    #[test]
    fn reads_a_bundle_in_order() {
        let a = test_certs::rcgen_ca("A", Some(true));
        let b = test_certs::rcgen_ca("B", None);
        let bundle = format!("# comment\n{}\n{}", a.pem, b.pem);
        let certs = read_certificates(&Material::pem(bundle, "opt")).unwrap();
        assert_eq!(certs, vec![a.cert.clone(), b.cert.clone()]);

        // A combined file with a key as well still yields its certificates.
        let leaf = test_certs::rcgen_leaf("c", &[], &a, |_| {});
        let combined = format!("{}{}", leaf.key_pem, leaf.pem);
        assert_eq!(read_certificates(&Material::pem(combined, "opt")).unwrap(), vec![leaf.cert]);
    }

    #[test]
    fn file_errors_name_the_path_and_origin() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Material::path(dir.path().join("nope.crt"), "MINKNOW_TRUSTED_CA");
        let e = cert_err(&missing);
        assert_eq!(e.status(), Status::FileError);
        assert!(e.message().contains("nope.crt (from MINKNOW_TRUSTED_CA): no such file"), "{e}");

        let e = key_err(&Material::path(dir.path(), "opt"));
        assert_eq!(e.status(), Status::FileError);
        assert!(e.message().contains("is a directory"), "{e}");

        let e = cert_err(&file(&dir, "empty.crt", b" \n"));
        assert_eq!(e.status(), Status::FileError);
        assert!(e.message().ends_with("empty.crt (from test option): is empty"), "{e}");

        let e = cert_err(&Material::pem(Vec::new(), "ca_pem"));
        assert_eq!(e.status(), Status::BadCertificate);
        assert_eq!(e.message(), "PEM bytes from ca_pem: empty");
    }

    #[test]
    fn permission_denied() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let m = file(&dir, "locked.key", b"-----BEGIN PRIVATE KEY-----\n");
        let Material::Path { path, .. } = &m else { unreachable!() };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(path).is_ok() {
            eprintln!("running with privileges that ignore file modes: skipping");
            return;
        }
        let e = key_err(&m);
        assert_eq!(e.status(), Status::FileError);
        assert!(e.message().ends_with("permission denied"), "{e}");
    }

    #[test]
    fn content_errors_for_certificates() {
        let ca = test_certs::rcgen_ca("A", Some(true));
        let leaf = test_certs::rcgen_leaf("c", &[], &ca, |_| {});
        let dir = tempfile::tempdir().unwrap();

        let e = cert_err(&file(&dir, "garbage", b"hello world\x00\x01"));
        assert_eq!(e.status(), Status::BadCertificate);
        assert!(e.message().contains("not PEM (no -----BEGIN line)"), "{e}");

        let e = cert_err(&file(&dir, "ca.der", &ca.cert));
        assert_eq!(e.status(), Status::BadCertificate);
        assert!(e.message().contains("looks like DER"), "{e}");
        assert!(e.message().contains("openssl x509 -inform der"), "{e}");

        let truncated = &ca.pem[..ca.pem.len() / 2];
        let e = cert_err(&file(&dir, "half.crt", truncated.as_bytes()));
        assert_eq!(e.status(), Status::BadCertificate);
        assert!(e.message().contains("truncated"), "{e}");

        let corrupt = ca.pem.replacen("MII", "M!I", 1);
        let e = cert_err(&file(&dir, "corrupt.crt", corrupt.as_bytes()));
        assert_eq!(e.status(), Status::BadCertificate);
        assert!(e.message().contains("base64"), "{e}");

        let e = cert_err(&file(&dir, "key.pem", leaf.key_pem.as_bytes()));
        assert_eq!(e.status(), Status::BadCertificate);
        assert!(e.message().ends_with("holds a private key, not a certificate"), "{e}");

        let csr = "-----BEGIN CERTIFICATE REQUEST-----\nMA==\n-----END CERTIFICATE REQUEST-----\n";
        let e = cert_err(&file(&dir, "req.pem", csr.as_bytes()));
        assert!(e
            .message()
            .contains("no CERTIFICATE block (PEM blocks found: CERTIFICATE REQUEST)"));

        // Valid PEM around an invalid certificate: named by its index.
        let bogus = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        let two = format!("{}{bogus}", ca.pem);
        let e = cert_err(&file(&dir, "two.crt", two.as_bytes()));
        assert_eq!(e.status(), Status::BadCertificate);
        assert!(e.message().contains("certificate #2 is not a valid X.509 certificate"), "{e}");
    }

    #[test]
    fn pem_bytes_that_are_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let m = file(&dir, "ca.crt", b"x");
        let Material::Path { path, .. } = &m else { unreachable!() };
        for text in [path.display().to_string(), "./ca.crt\n".into(), "C:\\data\\ca.crt".into()] {
            let e = cert_err(&Material::pem(text.clone(), "ca_pem"));
            assert_eq!(e.status(), Status::PemLooksLikePath, "{text}");
            assert!(e.message().contains("path option"), "{e}");
            assert_eq!(key_err(&Material::pem(text, "key_pem")).status(), Status::PemLooksLikePath);
        }
        // A PEM body without its header lines is not taken for a path.
        let body = "MIIBszCCAVmgAwIBAgIUW/8tAbcdefghijklmnopqrstuvwxyz0123456789+/ABCDEFGH";
        assert_eq!(cert_err(&Material::pem(body, "ca_pem")).status(), Status::BadCertificate);
    }

    #[test]
    fn content_errors_for_keys() {
        let ca = test_certs::rcgen_ca("A", Some(true));
        let leaf = test_certs::rcgen_leaf("c", &[], &ca, |_| {});
        let other = test_certs::rcgen_leaf("d", &[], &ca, |_| {});
        let dir = tempfile::tempdir().unwrap();

        let e = key_err(&file(&dir, "cert.pem", leaf.pem.as_bytes()));
        assert_eq!(e.status(), Status::BadKey);
        assert!(e.message().ends_with("holds a certificate, not a private key"), "{e}");

        let two = format!("{}{}", leaf.key_pem, other.key_pem);
        let e = key_err(&file(&dir, "two.key", two.as_bytes()));
        assert!(e.message().ends_with("holds 2 private keys; give a file with exactly one"));

        let e = key_err(&file(&dir, "junk.key", b"not a key"));
        assert_eq!(e.status(), Status::BadKey);

        let truncated = &leaf.key_pem[..leaf.key_pem.len() - 30];
        let e = key_err(&file(&dir, "half.key", truncated.as_bytes()));
        assert_eq!(e.status(), Status::BadKey);
        assert!(e.message().contains("truncated"), "{e}");

        let pub_only = "-----BEGIN PUBLIC KEY-----\nMA==\n-----END PUBLIC KEY-----\n";
        let e = key_err(&file(&dir, "pub.pem", pub_only.as_bytes()));
        assert!(e.message().contains("holds no private key (PEM blocks found: PUBLIC KEY)"));

        let der = rustls_pki_types::PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).unwrap();
        let e = key_err(&file(&dir, "key.der", der.secret_der()));
        assert!(e.message().contains("openssl pkey -inform der"), "{e}");

        // The message never quotes the key.
        let body_line = leaf.key_pem.lines().nth(1).unwrap();
        let e = key_err(&file(&dir, "half2.key", truncated.as_bytes()));
        assert!(!e.message().contains(body_line));
    }

    #[test]
    fn key_formats_and_encryption() {
        test_certs::require_openssl();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let run = |args: &[&str]| test_certs::openssl(d, args);
        run(&["genrsa", "-out", "rsa8.pem", "2048"]);
        run(&["rsa", "-in", "rsa8.pem", "-traditional", "-out", "rsa1.pem"]);
        run(&["ecparam", "-name", "prime256v1", "-genkey", "-out", "ec1.pem"]);
        run(&["pkcs8", "-topk8", "-nocrypt", "-in", "ec1.pem", "-out", "ec8.pem"]);
        run(&[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:x",
            "-in",
            "rsa8.pem",
            "-out",
            "enc8.pem",
        ]);
        run(&[
            "rsa",
            "-in",
            "rsa8.pem",
            "-aes256",
            "-traditional",
            "-passout",
            "pass:x",
            "-out",
            "legacy.pem",
        ]);

        let key = |name: &str| read_private_key(&Material::path(d.join(name), "key option"));
        assert!(matches!(key("rsa8.pem"), Ok(PrivateKeyDer::Pkcs8(_))));
        assert!(matches!(key("rsa1.pem"), Ok(PrivateKeyDer::Pkcs1(_))));
        assert!(matches!(key("ec1.pem"), Ok(PrivateKeyDer::Sec1(_))));
        assert!(matches!(key("ec8.pem"), Ok(PrivateKeyDer::Pkcs8(_))));
        for name in ["enc8.pem", "legacy.pem"] {
            let e = key(name).unwrap_err();
            assert_eq!(e.status(), Status::EncryptedKey, "{name}");
            assert!(e.message().contains("openssl pkey -in KEY -out KEY.unencrypted"), "{e}");
            assert!(e.message().contains("unencrypted key"), "{e}");
        }
    }
}
