//! Starts the real binary and talks to it with a plain tonic client over rustls.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use minknow_sim::proto::minknow_api::instance::instance_service_client::InstanceServiceClient;
use minknow_sim::proto::minknow_api::instance::GetVersionInfoRequest;
use minknow_sim::proto::minknow_api::manager::manager_service_client::ManagerServiceClient;
use minknow_sim::proto::minknow_api::manager::*;
use minknow_sim::proto::minknow_sim::test_service_client::TestServiceClient;
use minknow_sim::proto::minknow_sim::{Chunk, StreamRequest, WhoAmIRequest};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request};

/// A running simulator; killed when the test is done with it.
struct Sim {
    child: Child,
    ready: Value,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_minknow-sim"))
            .args(["--lifetime", "30", "--exit-on-stdin-eof"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start minknow-sim");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let ready = serde_json::from_str(&line).expect("ready line is JSON");
        Sim { child, ready }
    }

    fn port(&self, key: &str) -> u16 {
        self.ready[key].as_u64().unwrap() as u16
    }

    fn path(&self, key: &str) -> String {
        self.ready[key].as_str().unwrap().to_string()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// The client certificate chain and key the sim wrote.
fn sim_identity(sim: &Sim) -> Option<Identity> {
    let chain = CertificateDer::pem_file_iter(sim.path("client_certificate"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    Some((chain, PrivateKeyDer::from_pem_file(sim.path("client_key")).unwrap()))
}

fn tls_config(sim: &Sim, identity: Option<Identity>) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(sim.path("ca")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(minknow_sim::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    config
}

/// Dials 127.0.0.1 but verifies the certificate as `localhost`, as MinKNOW's clients do.
async fn channel(
    port: u16,
    config: rustls::ClientConfig,
) -> Result<Channel, tonic::transport::Error> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let dial = tower::service_fn(move |_uri| {
        let connector = connector.clone();
        async move {
            let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
            let name = ServerName::try_from("localhost").unwrap();
            let tls = connector.connect(name, tcp).await?;
            Ok::<_, std::io::Error>(TokioIo::new(tls))
        }
    });
    Endpoint::from_static("https://localhost").connect_with_connector(dial).await
}

fn with_header<T>(message: T, name: &'static str, value: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(name, value.parse().unwrap());
    request
}

#[tokio::test]
async fn client_certificate_mode() {
    let sim = Sim::start(&["--auth", "client-cert", "--positions", "4", "--stopped", "2"]);
    let manager_port = sim.port("manager_port");

    let with_cert = channel(manager_port, tls_config(&sim, sim_identity(&sim))).await.unwrap();
    let mut manager = ManagerServiceClient::new(with_cert.clone());
    let host = manager.describe_host(DescribeHostRequest {}).await.unwrap().into_inner();
    assert_eq!(host.product_code, "GRD-SIM");
    let whoami = TestServiceClient::new(with_cert).whoami(WhoAmIRequest {}).await.unwrap();
    assert_eq!(whoami.get_ref().client_certificate_subject, "minknow-sim client");
    assert_eq!(whoami.get_ref().port, u32::from(manager_port));

    let without = channel(manager_port, tls_config(&sim, None)).await.unwrap();
    let mut manager_anon = ManagerServiceClient::new(without);
    let status = manager_anon.describe_host(DescribeHostRequest {}).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("no client certificate"), "{}", status.message());
    // The token path is always callable; with local tokens off it says so.
    let request = LocalAuthenticationTokenPathRequest {};
    let status = manager_anon.local_authentication_token_path(request).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);

    // The web port never asks for a certificate, so client-cert mode cannot be met there.
    let web =
        channel(sim.port("manager_web_port"), tls_config(&sim, sim_identity(&sim))).await.unwrap();
    let status =
        ManagerServiceClient::new(web).describe_host(DescribeHostRequest {}).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("never asks for a client certificate"));

    check_positions(&mut manager, &sim).await;
}

/// All positions arrive in pages of at most three, then the stream stays open.
async fn check_positions(manager: &mut ManagerServiceClient<Channel>, sim: &Sim) {
    let mut stream =
        manager.flow_cell_positions(FlowCellPositionsRequest {}).await.unwrap().into_inner();
    let mut positions = Vec::new();
    while positions.len() < 6 {
        let page = stream.message().await.unwrap().unwrap();
        assert_eq!(page.total_count, 6);
        assert!(page.positions.len() <= 3);
        positions.extend(page.positions);
    }
    let next = tokio::time::timeout(std::time::Duration::from_millis(200), stream.message()).await;
    assert!(next.is_err(), "the stream should stay open");

    let stopped = &positions[5];
    assert_eq!((stopped.name.as_str(), stopped.state, stopped.rpc_ports), ("X6", 3, None));
    let x1 = &positions[0];
    assert_eq!(x1.name, "X1");
    let port = x1.rpc_ports.unwrap().secure as u16;
    let child = channel(port, tls_config(sim, sim_identity(sim))).await.unwrap();
    let mut instance = InstanceServiceClient::new(child);
    let version = instance.get_version_info(GetVersionInfoRequest {}).await.unwrap();
    assert_eq!(version.into_inner().minknow.unwrap().full, "6.3.7-sim X1");
}

#[tokio::test]
async fn token_modes() {
    let sim = Sim::start(&["--auth", "local-token,developer-token,protocol-token"]);
    let port = sim.port("manager_port");
    let conn = channel(port, tls_config(&sim, None)).await.unwrap();
    let mut manager = ManagerServiceClient::new(conn.clone());
    let mut test = TestServiceClient::new(conn);

    let status = manager.describe_host(DescribeHostRequest {}).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("no token metadata"), "{}", status.message());

    let path = manager
        .local_authentication_token_path(LocalAuthenticationTokenPathRequest {})
        .await
        .unwrap()
        .into_inner()
        .path;
    assert_eq!(path, sim.path("token_file"));
    assert!(Path::new(&path).is_absolute());
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let local = file["token"].as_str().unwrap();
    assert!(file["expires"].as_str().unwrap().ends_with("+00:00"));

    let cases = [
        ("local-auth", local.to_string(), "local"),
        ("local-auth", sim.path("developer_token"), "developer"),
        ("protocol-auth", sim.path("protocol_token"), "protocol"),
    ];
    for (header, token, kind) in cases {
        manager.describe_host(with_header(DescribeHostRequest {}, header, &token)).await.unwrap();
        let who = test.whoami(with_header(WhoAmIRequest {}, header, &token)).await.unwrap();
        assert_eq!(
            (who.get_ref().token_header.as_str(), who.get_ref().token_kind.as_str()),
            (header, kind)
        );
    }
    let status = manager
        .describe_host(with_header(DescribeHostRequest {}, "local-auth", "not-a-token"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(!status.message().contains("not-a-token"));
}

#[tokio::test]
async fn streams_and_untrusted_client_certificates() {
    let sim = Sim::start(&["--auth", "guest", "--positions", "0", "--stopped", "0"]);
    let port = sim.port("basecaller_port");
    let conn = channel(port, tls_config(&sim, None)).await.unwrap();
    let mut test = TestServiceClient::new(conn);

    let echoed = test.echo(Chunk { payload: vec![7; 1 << 20], sequence: 9 }).await.unwrap();
    assert_eq!((echoed.get_ref().payload.len(), echoed.get_ref().sequence), (1 << 20, 9));
    let mut stream = test
        .server_stream(StreamRequest { count: 5, size: 100, interval_ms: 0 })
        .await
        .unwrap()
        .into_inner();
    let mut count = 0;
    while let Some(chunk) = stream.message().await.unwrap() {
        assert_eq!((chunk.sequence, chunk.payload.len()), (count, 100));
        count += 1;
    }
    assert_eq!(count, 5);
    let too_big =
        test.server_stream(StreamRequest { count: 10_000, size: 1 << 20, interval_ms: 0 });
    assert_eq!(too_big.await.unwrap_err().code(), Code::InvalidArgument);

    // A certificate from a CA the sim does not trust fails the handshake (on TLS 1.3 the
    // client only learns it at the first call), and the port goes on serving others.
    let accepted = match channel(port, untrusted_client(&sim)).await {
        Ok(conn) => TestServiceClient::new(conn).whoami(WhoAmIRequest {}).await.is_ok(),
        Err(_) => false,
    };
    assert!(!accepted);
    let again = channel(port, tls_config(&sim, None)).await.unwrap();
    TestServiceClient::new(again).whoami(WhoAmIRequest {}).await.unwrap();
}

fn untrusted_client(sim: &Sim) -> rustls::ClientConfig {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "stranger");
    let cert = params.self_signed(&key).unwrap();
    let key = PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    tls_config(sim, Some((vec![cert.der().clone()], key)))
}

/// Presents any chain, skipping rustls's webpki cross-check (which refuses v1 certificates).
#[derive(Debug)]
struct FixedClientCert(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for FixedClientCert {
    fn resolve(
        &self,
        _hints: &[&[u8]],
        _schemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

fn config_presenting(
    sim: &Sim,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> rustls::ClientConfig {
    let provider = minknow_sim::tls::provider();
    let signer = provider.key_provider.load_private_key(key).unwrap();
    let resolver = FixedClientCert(Arc::new(rustls::sign::CertifiedKey::new(chain, signer)));
    let base = tls_config(sim, None);
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(sim.path("ca")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = base.alpn_protocols;
    config
}

async fn subject_seen(sim: &Sim, config: rustls::ClientConfig) -> Option<String> {
    let conn = channel(sim.port("manager_port"), config).await.ok()?;
    let who = TestServiceClient::new(conn).whoami(WhoAmIRequest {}).await.ok()?;
    Some(who.into_inner().client_certificate_subject)
}

/// Field certificates BoringSSL accepts: a self-signed client certificate marked as a CA, and
/// X.509 v1 certificates from a lab CA (made with the openssl tool when it is installed).
#[tokio::test]
async fn field_client_certificates() {
    let dir = std::env::temp_dir().join(format!("minknow-sim-field-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "lab self-signed");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages =
        vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::DigitalSignature];
    let self_signed = params.self_signed(&key).unwrap();
    let self_signed_path = dir.join("self-signed.crt");
    std::fs::write(&self_signed_path, self_signed.pem()).unwrap();

    let v1 = make_v1_chain(&dir);
    let mut args = vec!["--auth".to_string(), "client-cert".to_string()];
    args.extend(["--trust-client-ca".to_string(), self_signed_path.display().to_string()]);
    if let Some((ca, _, _)) = &v1 {
        args.extend(["--trust-client-ca".to_string(), ca.clone()]);
    }
    let sim = Sim::start(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let key = PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    let config = config_presenting(&sim, vec![self_signed.der().clone()], key);
    assert_eq!(subject_seen(&sim, config).await.as_deref(), Some("lab self-signed"));

    // The v1 case needs the openssl command (`make deps` installs it); without
    // it the test fails rather than passing half-checked.
    let (_, leaf, key) = v1.expect("the openssl command is needed for the X.509 v1 case");
    let chain = CertificateDer::pem_file_iter(&leaf).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(&key).unwrap();
    let config = config_presenting(&sim, chain, key);
    assert_eq!(subject_seen(&sim, config).await.as_deref(), Some("lab v1 client"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A v1 CA and a v1 leaf it signed ("openssl x509 -req" without extensions writes v1), as
/// (CA path, leaf path, leaf key path); None when openssl is not installed.
fn make_v1_chain(dir: &Path) -> Option<(String, String, String)> {
    let p = |name: &str| dir.join(name).display().to_string();
    let steps: [&[&str]; 6] = [
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &p("ca.key"),
        ],
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &p("leaf.key"),
        ],
        &["req", "-new", "-key", &p("ca.key"), "-subj", "/CN=lab v1 CA", "-out", &p("ca.csr")],
        &[
            "x509",
            "-req",
            "-in",
            &p("ca.csr"),
            "-signkey",
            &p("ca.key"),
            "-days",
            "30",
            "-out",
            &p("ca.crt"),
        ],
        &[
            "req",
            "-new",
            "-key",
            &p("leaf.key"),
            "-subj",
            "/CN=lab v1 client",
            "-out",
            &p("leaf.csr"),
        ],
        &[
            "x509",
            "-req",
            "-in",
            &p("leaf.csr"),
            "-CA",
            &p("ca.crt"),
            "-CAkey",
            &p("ca.key"),
            "-set_serial",
            "7",
            "-days",
            "30",
            "-out",
            &p("leaf.crt"),
        ],
    ];
    for args in steps {
        let status = Command::new("openssl").args(args).stderr(Stdio::null()).status().ok()?;
        assert!(status.success(), "openssl {args:?} failed");
    }
    let leaf = std::fs::read_to_string(p("leaf.crt")).unwrap();
    let (_, der) = x509_parser::pem::parse_x509_pem(leaf.as_bytes()).unwrap();
    assert_eq!(der.parse_x509().unwrap().version(), x509_parser::x509::X509Version::V1);
    Some((p("ca.crt"), p("leaf.crt"), p("leaf.key")))
}

/// An open flow_cell_positions stream (which never ends by itself) must not keep the sim alive.
#[tokio::test]
async fn exits_at_lifetime_with_a_stream_open() {
    let mut sim = Sim::start(&["--lifetime", "1"]);
    let conn = channel(sim.port("manager_port"), tls_config(&sim, None)).await.unwrap();
    let mut manager = ManagerServiceClient::new(conn);
    let mut stream =
        manager.flow_cell_positions(FlowCellPositionsRequest {}).await.unwrap().into_inner();
    stream.message().await.unwrap().unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let status = loop {
        if let Some(status) = sim.child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the sim outlived its lifetime");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(status.success());
    // The stream ends (cleanly or not) once the sim is gone.
    let end = tokio::time::timeout(std::time::Duration::from_secs(2), stream.message()).await;
    assert!(!matches!(end, Ok(Ok(Some(_)))));
}
