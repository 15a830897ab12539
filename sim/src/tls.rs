//! rustls server configurations: one that asks for a client certificate (like MinKNOW's 9501
//! and position ports) and one that never does (like 9502).

use std::io;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::certs::ServerIdentity;
use crate::client_verify::ClientVerifier;

/// One port's TLS settings.
#[derive(Clone)]
pub struct PortTls {
    pub config: Arc<ServerConfig>,
    /// Whether the handshake asks for a client certificate, so rejections can say so.
    pub asks_for_client_cert: bool,
}

pub struct ServerConfigs {
    /// Requests a client certificate, optional, verified if presented.
    pub client_auth: PortTls,
    /// Never requests a client certificate.
    pub no_client_auth: PortTls,
}

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds both configurations. `client_cas` are all the CAs whose client certificates count.
pub fn server_configs(
    identity: &ServerIdentity,
    client_cas: &[CertificateDer<'static>],
) -> io::Result<ServerConfigs> {
    let verifier = client_verifier(client_cas)?;
    let with_auth = builder()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain.clone(), identity.key.clone_key())
        .map_err(tls_error)?;
    let without_auth = builder()?
        .with_no_client_auth()
        .with_single_cert(identity.chain.clone(), identity.key.clone_key())
        .map_err(tls_error)?;
    Ok(ServerConfigs {
        client_auth: PortTls { config: Arc::new(with_h2(with_auth)), asks_for_client_cert: true },
        no_client_auth: PortTls {
            config: Arc::new(with_h2(without_auth)),
            asks_for_client_cert: false,
        },
    })
}

fn builder() -> io::Result<rustls::ConfigBuilder<ServerConfig, rustls::WantsVerifier>> {
    ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .map_err(tls_error)
}

/// gRPC C-core clients drop a connection that did not negotiate `h2`, so offer it.
fn with_h2(mut config: ServerConfig) -> ServerConfig {
    config.alpn_protocols = vec![b"h2".to_vec()];
    config
}

/// An untrusted certificate fails the handshake, as with BoringSSL; none at all is allowed,
/// since tokens may authorise the call instead.
fn client_verifier(cas: &[CertificateDer<'static>]) -> io::Result<Arc<dyn ClientCertVerifier>> {
    let mut roots = RootCertStore::empty();
    for ca in cas {
        // A CA webpki cannot read still counts in ClientVerifier's own chain check.
        if let Err(e) = roots.add(ca.clone()) {
            eprintln!("minknow-sim: a trusted client CA is only checked plainly: {e}");
        }
    }
    let webpki = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .allow_unauthenticated()
        .build()
        .map_err(|e| io::Error::other(format!("client certificate verifier: {e}")))?;
    Ok(Arc::new(ClientVerifier::new(webpki, cas.to_vec(), &provider())))
}

fn tls_error(error: rustls::Error) -> io::Error {
    io::Error::other(format!("TLS configuration: {error}"))
}
