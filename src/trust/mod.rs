//! Trust: the rustls client configuration for MinKNOW.
//!
//! - [`verifier`]: the server certificate verifier (v1 leaves, CN-only
//!   names, several CAs with one name, pinned leaves; never "accept all").
//! - [`name`]: matching the certificate against the expected server name.
//! - [`client_cert`]: offering the client identity, v1 certificates included.

pub mod client_cert;
pub(crate) mod name;
pub mod verifier;

#[cfg(test)]
pub(crate) mod test_certs;

use std::sync::Arc;

use rustls::crypto::ring;
use rustls::ClientConfig;
use rustls_pki_types::CertificateDer;

use crate::error::{Error, Result, Status};
use crate::sources::identity::Identity;

pub use client_cert::IdentityResolver;
pub use verifier::{ServerVerifier, VerifyError};

/// The ALPN protocol MinKNOW's gRPC C-core requires; without it the
/// connection is dropped right after the handshake.
pub const ALPN_H2: &[u8] = b"h2";

/// A rustls client configuration trusting `cas` (CA certificates or pinned
/// server certificates), offering `identity` as the client certificate when
/// given: ring provider, TLS 1.2 and 1.3, ALPN `h2`.
pub fn client_config(
    cas: Vec<CertificateDer<'static>>,
    identity: Option<&Identity>,
) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(ring::default_provider());
    let verifier = Arc::new(ServerVerifier::new(cas, &provider)?);

    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::new(Status::Internal, format!("TLS configuration: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match identity {
        Some(id) => builder.with_client_cert_resolver(Arc::new(IdentityResolver::new(id))),
        None => builder.with_no_client_auth(),
    };

    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// The text to show for a TLS error: the verifier's own message when the
/// server certificate was refused by [`ServerVerifier`], else rustls's.
pub fn certificate_error_text(error: &rustls::Error) -> String {
    verify_error(error).map_or_else(|| error.to_string(), |e| e.message().to_owned())
}

/// The [`VerifyError`] inside a rustls error, when there is one: the
/// channel layer uses it to report `CertificateVerifyFailed`.
pub fn verify_error(error: &rustls::Error) -> Option<&VerifyError> {
    match error {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => {
            other.0.downcast_ref::<VerifyError>()
        }
        _ => None,
    }
}

#[cfg(test)]
mod e2e_tests;
