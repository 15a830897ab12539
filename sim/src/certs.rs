//! The simulator's certificates, made fresh at every start (or, with `--keep-identity`, kept in
//! `--dir` and reused by a restart): a server CA and leaf, and a client CA with one client
//! certificate for tests to present.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;

use crate::files;

const DAY: Duration = Duration::from_secs(86_400);

/// What the server side keeps in memory; everything else is on disk for clients.
pub struct ServerIdentity {
    /// Leaf first, then the CA, as MinKNOW sends them.
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// The CA the sim trusts for client certificates (its own client CA).
    pub client_ca: CertificateDer<'static>,
}

/// Where the client-side files were written.
pub struct CertFiles {
    pub ca: PathBuf,
    pub client_ca: PathBuf,
    pub client_certificate: PathBuf,
    pub client_key: PathBuf,
}

pub struct LeafOptions<'a> {
    pub name: &'a str,
    pub expired: bool,
}

/// Where a kept identity's server key lives (only written with `--keep-identity`).
const SERVER_KEY: &str = "server.key";

fn file_names(dir: &Path) -> CertFiles {
    CertFiles {
        ca: dir.join("ca.crt"),
        client_ca: dir.join("client-ca.crt"),
        client_certificate: dir.join("client.crt"),
        client_key: dir.join("client.key"),
    }
}

/// The identity kept in `dir` by an earlier start with `--keep-identity`, or `None` when there
/// is none yet.
pub fn load_kept(dir: &Path) -> io::Result<Option<(ServerIdentity, CertFiles)>> {
    use rustls::pki_types::pem::PemObject;

    let key_path = dir.join(SERVER_KEY);
    if !key_path.exists() {
        return Ok(None);
    }
    let files = file_names(dir);
    let bad = |path: &Path, e: rustls::pki_types::pem::Error| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))
    };
    let one_cert = |path: &Path| -> io::Result<CertificateDer<'static>> {
        read_pem_certificates(path)?.into_iter().next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, format!("{}: empty", path.display()))
        })
    };
    let leaf = one_cert(&dir.join("server.crt"))?;
    let ca = one_cert(&files.ca)?;
    let client_ca = one_cert(&files.client_ca)?;
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| bad(&key_path, e))?;
    Ok(Some((ServerIdentity { chain: vec![leaf, ca], key, client_ca }, files)))
}

/// Generates every certificate and writes the public parts (and the client key) to `dir`;
/// with `keep`, the server key too, so that [`load_kept`] can find it all again.
pub fn generate(
    dir: &Path,
    leaf: &LeafOptions<'_>,
    keep: bool,
) -> io::Result<(ServerIdentity, CertFiles)> {
    let now = SystemTime::now();
    let server_ca = make_ca("MinKNOW-Sim CA", now).map_err(to_io)?;
    let (leaf_cert, leaf_key) = make_server_leaf(&server_ca, leaf, now).map_err(to_io)?;
    let client_ca = make_ca("MinKNOW-Sim Client CA", now).map_err(to_io)?;
    let (client_cert, client_key) = make_client_leaf(&client_ca, now).map_err(to_io)?;

    let files = file_names(dir);
    files::write_atomic(&files.ca, server_ca.pem().as_bytes(), 0o644)?;
    // The leaf alone, for tests that pin it. Its key stays in memory unless the identity is
    // kept for a restart.
    files::write_atomic(&dir.join("server.crt"), leaf_cert.pem().as_bytes(), 0o644)?;
    if keep {
        files::write_atomic(&dir.join(SERVER_KEY), leaf_key.serialize_pem().as_bytes(), 0o600)?;
    }
    files::write_atomic(&files.client_ca, client_ca.pem().as_bytes(), 0o644)?;
    let chain_pem = format!("{}{}", client_cert.pem(), client_ca.pem());
    files::write_atomic(&files.client_certificate, chain_pem.as_bytes(), 0o644)?;
    files::write_atomic(&files.client_key, client_key.serialize_pem().as_bytes(), 0o600)?;

    let identity = ServerIdentity {
        chain: vec![leaf_cert.der().clone(), server_ca.der().clone()],
        key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into(),
        client_ca: client_ca.der().clone(),
    };
    Ok((identity, files))
}

fn to_io(error: rcgen::Error) -> io::Error {
    io::Error::other(format!("certificate generation failed: {error}"))
}

fn validity(params: &mut CertificateParams, from: SystemTime, to: SystemTime) {
    params.not_before = OffsetDateTime::from(from);
    params.not_after = OffsetDateTime::from(to);
}

fn make_ca(
    common_name: &str,
    now: SystemTime,
) -> Result<CertifiedIssuer<'static, KeyPair>, rcgen::Error> {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, common_name);
    params.distinguished_name.push(DnType::OrganizationName, "minknow-sim");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut params, now - DAY, now + DAY * 3650);
    CertifiedIssuer::self_signed(params, KeyPair::generate()?)
}

fn make_server_leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    leaf: &LeafOptions<'_>,
    now: SystemTime,
) -> Result<(rcgen::Certificate, KeyPair), rcgen::Error> {
    // A DNS name only, never an IP: clients must verify against "localhost" whatever they dial.
    let mut params = CertificateParams::new(vec![leaf.name.to_string()])?;
    params.distinguished_name.push(DnType::CommonName, leaf.name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    if leaf.expired {
        validity(&mut params, now - DAY * 30, now - DAY);
    } else {
        validity(&mut params, now - DAY, now + DAY * 365);
    }
    let key = KeyPair::generate()?;
    Ok((params.signed_by(&key, ca)?, key))
}

fn make_client_leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    now: SystemTime,
) -> Result<(rcgen::Certificate, KeyPair), rcgen::Error> {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, "minknow-sim client");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    validity(&mut params, now - DAY, now + DAY * 365);
    let key = KeyPair::generate()?;
    Ok((params.signed_by(&key, ca)?, key))
}

/// Reads every certificate in a PEM file given with `--trust-client-ca`.
pub fn read_pem_certificates(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;

    let bad = |e: rustls::pki_types::pem::Error| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(bad)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    if certs.is_empty() {
        let text = format!("{}: no PEM certificate in the file", path.display());
        return Err(io::Error::new(io::ErrorKind::InvalidData, text));
    }
    Ok(certs)
}

/// The subject CN of a DER certificate, for `whoami` and the logs.
pub fn subject_common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_identity_is_found_again() {
        let dir = files::fresh_temp_dir("kept-identity-test").unwrap();
        let leaf = LeafOptions { name: "localhost", expired: false };
        assert!(load_kept(&dir).unwrap().is_none());
        let (made, _) = generate(&dir, &leaf, true).unwrap();
        let (kept, files) = load_kept(&dir).unwrap().expect("a kept identity");
        assert_eq!(kept.chain, made.chain);
        assert_eq!(kept.client_ca, made.client_ca);
        assert_eq!(kept.key.secret_der(), made.key.secret_der());
        assert!(files.client_key.is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn without_keep_the_server_key_is_not_written() {
        let dir = files::fresh_temp_dir("unkept-identity-test").unwrap();
        let leaf = LeafOptions { name: "localhost", expired: false };
        generate(&dir, &leaf, false).unwrap();
        assert!(load_kept(&dir).unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
