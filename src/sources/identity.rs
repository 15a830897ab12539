//! TEMPORARY STUB (replaced by the trust branch).
use std::sync::Arc;

use rustls_pki_types::CertificateDer;

use super::pem::{read_certificates, read_private_key};
use super::Material;
use crate::error::{Error, Result, Status};

pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: Arc<dyn rustls::sign::SigningKey>,
    subject: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.subject)
    }
}

impl Identity {
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

pub fn load(chain: &Material, key: &Material) -> Result<Identity> {
    let chain_certs = read_certificates(chain)?;
    let key_der = read_private_key(key)?;
    let key = rustls::crypto::ring::default_provider()
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| Error::new(Status::BadKey, format!("{}: {e}", key.describe())))?;
    Ok(Identity { chain: chain_certs, key, subject: "client".into() })
}
