//! TEMPORARY STUB (replaced by the trust branch).
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::Material;
use crate::error::{Error, Result, Status};

fn bytes(m: &Material) -> Result<Vec<u8>> {
    match m {
        Material::Path { path, .. } => std::fs::read(path)
            .map_err(|e| Error::new(Status::FileError, format!("{}: {e}", m.describe()))),
        Material::Pem { bytes, .. } => Ok(bytes.clone()),
    }
}

pub fn read_certificates(m: &Material) -> Result<Vec<CertificateDer<'static>>> {
    let b = bytes(m)?;
    let certs: Vec<_> =
        CertificateDer::pem_slice_iter(&b)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::new(Status::BadCertificate, format!("{}: {e}", m.describe())))?;
    if certs.is_empty() {
        return Err(Error::new(
            Status::BadCertificate,
            format!("{}: no certificate", m.describe()),
        ));
    }
    Ok(certs)
}

pub fn read_private_key(m: &Material) -> Result<PrivateKeyDer<'static>> {
    let b = bytes(m)?;
    PrivateKeyDer::from_pem_slice(&b)
        .map_err(|e| Error::new(Status::BadKey, format!("{}: {e}", m.describe())))
}
