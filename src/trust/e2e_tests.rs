//! Handshakes over loopback TCP between `client_config` and a rustls test
//! server with MinKNOW-shaped (X.509 v1, CN-only) certificates.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerifier};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::test_certs::{self, V1Chain};
use super::{certificate_error_text, client_config, verify_error, ServerVerifier};
use crate::sources::identity::Identity;
use crate::sources::Material;
use crate::x509;

/// Serves one fixed chain whatever the client asks: the stock
/// `with_single_cert` would refuse a v1 leaf.
#[derive(Debug)]
struct FixedCert(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

/// Test-server only: requires a client certificate, records it, accepts
/// any chain, but checks the client's handshake signature for real.
#[derive(Debug)]
struct RecordingClientVerifier {
    seen: Mutex<Option<CertificateDer<'static>>>,
    signatures: ServerVerifier,
}

impl ClientCertVerifier for RecordingClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        *self.seen.lock().unwrap() = Some(end_entity.clone().into_owned());
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.signatures.supported_verify_schemes()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certified(chain: &V1Chain, name: &str) -> Arc<CertifiedKey> {
    use rustls_pki_types::pem::PemObject;
    let key = PrivateKeyDer::from_pem_slice(&chain.read(&format!("{name}.key"))).unwrap();
    let key = provider().key_provider.load_private_key(key).unwrap();
    Arc::new(CertifiedKey::new(vec![chain.der(&format!("{name}.crt"))], key))
}

fn server_config(
    cert: Arc<CertifiedKey>,
    client_auth: Option<Arc<RecordingClientVerifier>>,
    tls12_only: bool,
) -> Arc<ServerConfig> {
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let builder =
        ServerConfig::builder_with_provider(provider()).with_protocol_versions(versions).unwrap();
    let builder = match client_auth {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(FixedCert(cert)));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// What each side saw of one handshake.
struct Outcome {
    client: Result<Option<Vec<u8>>, std::io::Error>,
    server_ok: bool,
}

/// Dial 127.0.0.1 while verifying against `name`, as the channel does.
fn handshake(server: Arc<ServerConfig>, client: Arc<rustls::ClientConfig>, name: &str) -> Outcome {
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accept = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            TlsAcceptor::from(server).accept(tcp).await.is_ok()
        });

        let tcp = TcpStream::connect(addr).await.unwrap();
        match TlsConnector::from(client).connect(name, tcp).await {
            Ok(stream) => {
                let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                // Keep the connection open until the server has finished.
                let server_ok = accept.await.unwrap();
                drop(stream);
                Outcome { client: Ok(alpn), server_ok }
            }
            Err(e) => Outcome { client: Err(e), server_ok: accept.await.unwrap() },
        }
    })
}

fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

#[test]
fn v1_server_certificate_over_tls13_and_tls12() {
    test_certs::require_openssl();
    let chain = V1Chain::new("MinKNOW");
    chain.leaf("server", "localhost");
    let ca = chain.der("ca.crt");

    for tls12_only in [false, true] {
        let server = server_config(certified(&chain, "server"), None, tls12_only);
        let client = client_config(vec![ca.clone()], None).unwrap();
        let out = handshake(server, client, "localhost");
        let alpn = out.client.unwrap_or_else(|e| panic!("tls12_only={tls12_only}: {e}"));
        assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
        assert!(out.server_ok);
    }
}

#[test]
fn wrong_ca_and_wrong_name_fail_with_our_message() {
    test_certs::require_openssl();
    let chain = V1Chain::new("MinKNOW");
    chain.leaf("server", "localhost");
    let other = V1Chain::new("MinKNOW");

    let server = server_config(certified(&chain, "server"), None, false);
    let client = client_config(vec![other.der("ca.crt")], None).unwrap();
    let out = handshake(server, client, "localhost");
    let err = out.client.expect_err("handshake must fail with a wrong CA");
    let text = certificate_error_text(rustls_error(&err).unwrap());
    assert!(text.contains("trusted CA #1 CN=MinKNOW: signature did not verify"), "{text}");
    assert!(!out.server_ok);

    let server = server_config(certified(&chain, "server"), None, false);
    let client = client_config(vec![chain.der("ca.crt")], None).unwrap();
    let err = handshake(server, client, "sequencer.lab").client.err().unwrap();
    let text = certificate_error_text(rustls_error(&err).unwrap());
    assert_eq!(
        text,
        "server certificate CN=localhost is not valid for name 'sequencer.lab' \
         (its names: localhost)"
    );
}

#[test]
fn the_client_error_holds_a_verify_error() {
    // A direct tokio-rustls error, not rebuilt, to show the channel layer
    // how to recognise a certificate failure.
    let ca = test_certs::rcgen_ca("MinKNOW", Some(true));
    let other = test_certs::rcgen_ca("Other", Some(true));
    let leaf = test_certs::rcgen_leaf("localhost", &[], &ca, |_| {});
    let key = {
        use rustls_pki_types::pem::PemObject;
        let der = PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).unwrap();
        provider().key_provider.load_private_key(der).unwrap()
    };
    let server = server_config(Arc::new(CertifiedKey::new(vec![leaf.cert], key)), None, false);
    let client = client_config(vec![other.cert], None).unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accept = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = TlsAcceptor::from(server).accept(tcp).await;
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let err = TlsConnector::from(client).connect(name, tcp).await.err().unwrap();
        let tls = rustls_error(&err).expect("a rustls error inside the io::Error");
        let verify = verify_error(tls).expect("our verifier's error");
        assert!(verify.message().starts_with("no trusted CA matches issuer CN=MinKNOW"));
        accept.await.unwrap();
    });
}

#[test]
fn v1_client_certificate_reaches_the_server() {
    test_certs::require_openssl();
    let server_chain = V1Chain::new("MinKNOW");
    server_chain.leaf("server", "localhost");
    let lab = V1Chain::new("Lab CA");
    lab.leaf("client", "lab-client");
    let identity = Identity::load(
        &Material::path(lab.path("client.crt"), "test chain"),
        &Material::path(lab.path("client.key"), "test key"),
    )
    .unwrap();

    for tls12_only in [false, true] {
        let signatures = ServerVerifier::new(vec![lab.der("ca.crt")], &provider()).unwrap();
        let recorder = Arc::new(RecordingClientVerifier { seen: Mutex::new(None), signatures });
        let server = server_config(
            certified(&server_chain, "server"),
            Some(Arc::clone(&recorder)),
            tls12_only,
        );
        let client = client_config(vec![server_chain.der("ca.crt")], Some(&identity)).unwrap();
        let out = handshake(server, client, "localhost");
        out.client.unwrap_or_else(|e| panic!("tls12_only={tls12_only}: {e}"));
        assert!(out.server_ok, "tls12_only={tls12_only}");

        let seen = recorder.seen.lock().unwrap().clone().expect("client certificate");
        assert_eq!(seen, identity.chain()[0]);
        assert_eq!(x509::Certificate::parse(&seen).unwrap().version, x509::Version::V1);
    }
}
