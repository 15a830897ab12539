//! What a diagnostic handshake saw: the certificates the server sent and
//! whether it asked for a client certificate. Recorded by thin wrappers
//! around the library's own verifier and resolver, which still decide.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::trust::ServerVerifier;

/// Filled in during the handshake.
#[derive(Debug, Default)]
pub struct Seen {
    /// The server's chain, leaf first, as sent.
    pub server_chain: Mutex<Vec<CertificateDer<'static>>>,
    /// Whether the server sent a CertificateRequest.
    pub client_certificate_requested: AtomicBool,
}

impl Seen {
    pub fn server_chain(&self) -> Vec<CertificateDer<'static>> {
        self.server_chain.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn requested(&self) -> bool {
        self.client_certificate_requested.load(Ordering::SeqCst)
    }
}

/// `config` with its verifier and client-certificate resolver wrapped so
/// that `seen` records what the server did. `verifier` must be the one
/// `config` was built with (same trusted CAs).
pub fn recording(
    config: &ClientConfig,
    verifier: Arc<ServerVerifier>,
    seen: &Arc<Seen>,
) -> Arc<ClientConfig> {
    let mut config = config.clone();
    let resolver = Arc::clone(&config.client_auth_cert_resolver);
    config.client_auth_cert_resolver =
        Arc::new(RecordingResolver { inner: resolver, seen: Arc::clone(seen) });
    config.dangerous().set_certificate_verifier(Arc::new(RecordingVerifier {
        inner: verifier,
        seen: seen.clone(),
    }));
    Arc::new(config)
}

#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<ServerVerifier>,
    seen: Arc<Seen>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *self.seen.server_chain.lock().unwrap_or_else(|p| p.into_inner()) = chain;
        self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[derive(Debug)]
struct RecordingResolver {
    inner: Arc<dyn ResolvesClientCert>,
    seen: Arc<Seen>,
}

impl ResolvesClientCert for RecordingResolver {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        // rustls asks only when the server sent a CertificateRequest.
        self.seen.client_certificate_requested.store(true, Ordering::SeqCst);
        self.inner.resolve(root_hint_subjects, sigschemes)
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}
