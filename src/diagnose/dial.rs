//! The dial, one step at a time, with the library's own dialer, verifier
//! and calls, recording what each step saw and naming the likely cause of
//! the first failure.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper_util::rt::TokioIo;
use prost::Message;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::{json, Map, Value};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};
use tokio_rustls::client::TlsStream;
use tonic::metadata::MetadataMap;
use tonic::transport::Endpoint;

use super::record::{self, Seen};
use super::resolution::{self, certificate_json, Material};
use super::{remaining, Cause, Report, StepName};
use crate::channel::connector::{DialError, Dialer};
use crate::channel::failure::{self, TlsEnd};
use crate::channel::options::{ConnectOptions, DEFAULT_SERVER_NAME};
use crate::channel::wire;
use crate::credentials::clock::SystemClock;
use crate::credentials::local_token::LocalToken;
use crate::credentials::Credentials;
use crate::error::Status;
use crate::schema::{methods, GetVersionInfoResponse, LocalAuthenticationTokenPathResponse};
use crate::sources::token_policy::{LocalTokenUse, TokenPlan};
use crate::trust::{self, ServerVerifier};
use crate::x509::Certificate;

/// What the steps learnt that later steps' diagnoses need.
struct State<'a> {
    material: &'a Material,
    seen: Arc<Seen>,
    /// The token file the manager named, if it named one.
    token_file: Option<String>,
    /// Which token went on the authenticated call.
    credentials: &'static str,
    /// Why the local token was not used, when it was meant to be.
    local_token_failure: Option<String>,
    /// The name the server certificate must be valid for.
    server_name: String,
}

pub async fn run(report: &mut Report, material: &Material, options: &ConnectOptions) {
    let deadline = Instant::now() + options.connect_timeout;
    let port = report.port;
    let host = material.host.clone();
    let seen = Arc::new(Seen::default());
    let mut state = State {
        material,
        seen: seen.clone(),
        token_file: None,
        credentials: "no token",
        local_token_failure: None,
        server_name: report.server_name.clone(),
    };

    let Some(dialer) = dialer(report, material, options, &seen) else { return };
    let dialer = Arc::new(dialer);
    let Some(tcp) = tcp(report, &host, port, deadline).await else { return };
    let Some(tls) = tls(report, &state, &dialer, tcp, port, deadline).await else { return };
    let Some(grpc) = http2(report, &state, &dialer, tls, port, deadline).await else { return };
    if !token_path(report, &mut state, &grpc, deadline).await {
        return;
    }
    let Some(credentials) = credentials(report, &mut state) else { return };
    authenticated(report, &state, &grpc, &credentials, deadline).await;
    if state.material.identity.is_some() && !state.seen.requested() && report.ok() {
        report.warnings.push(format!(
            "a client certificate is configured but port {port} never asked for it, so it was \
             not sent (MinKNOW's 9502 and web port never accept client certificates)"
        ));
    }
}

fn target(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The library's TLS configuration with recording wrappers, in a dialer.
fn dialer(
    report: &mut Report,
    material: &Material,
    options: &ConnectOptions,
    seen: &Arc<Seen>,
) -> Option<Dialer> {
    let name = options.server_name.as_deref().unwrap_or(DEFAULT_SERVER_NAME);
    let server_name = match ServerName::try_from(name.to_owned()) {
        Ok(n) => n,
        Err(_) => {
            let message = format!("server name {name:?} is not a valid DNS name or IP address");
            report.fail(StepName::Tls, Cause::InvalidArgument, &message, Map::new());
            return None;
        }
    };
    let built = trust::client_config(material.cas.certificates.clone(), material.identity.as_ref())
        .and_then(|config| {
            let provider = rustls::crypto::ring::default_provider();
            let verifier = ServerVerifier::new(material.cas.certificates.clone(), &provider)?;
            Ok(record::recording(&config, Arc::new(verifier), seen))
        });
    let config = match built {
        Ok(config) => config,
        Err(e) => {
            let cause = match e.status() {
                Status::NoTrustedCa => Cause::NoTrustedCa,
                _ => Cause::BadCaFile,
            };
            report.fail(StepName::Resolve, cause, e.message(), Map::new());
            return None;
        }
    };
    Some(Dialer {
        host: material.host.clone(),
        tls: tokio_rustls::TlsConnector::from(config),
        server_name,
        timeout: options.connect_timeout,
    })
}

async fn tcp(report: &mut Report, host: &str, port: u16, deadline: Instant) -> Option<TcpStream> {
    let at = target(host, port);
    let addrs: Vec<SocketAddr> =
        match timeout(remaining(deadline), tokio::net::lookup_host((host, port))).await {
            Ok(Ok(addrs)) => addrs.collect(),
            Ok(Err(e)) => {
                let message = format!("{host} does not resolve: {e}");
                report.fail(StepName::Tcp, Cause::NameResolution, &message, Map::new());
                return None;
            }
            Err(_) => {
                let message = format!("{host} did not resolve in time");
                report.fail(StepName::Tcp, Cause::NameResolution, &message, Map::new());
                return None;
            }
        };
    let mut tried = Vec::new();
    let mut refused = 0;
    let mut silent = 0;
    for addr in &addrs {
        match timeout(remaining(deadline), TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                let mut details = Map::new();
                details.insert("address".into(), json!(addr.to_string()));
                details.insert("tried".into(), json!(tried));
                report.pass(StepName::Tcp, format!("connected to {addr}"), details);
                return Some(stream);
            }
            Ok(Err(e)) => {
                if e.kind() == io::ErrorKind::ConnectionRefused {
                    refused += 1;
                }
                tried.push(format!("{addr}: {e}"));
            }
            Err(_) => {
                silent += 1;
                tried.push(format!("{addr}: no answer in time"));
            }
        }
    }
    let cause = if addrs.is_empty() {
        Cause::NameResolution
    } else if refused == addrs.len() {
        Cause::NothingListening
    } else if silent > 0 {
        Cause::NoAnswer
    } else {
        Cause::TcpFailed
    };
    let why = if tried.is_empty() { "no address".to_owned() } else { tried.join("; ") };
    let mut details = Map::new();
    details.insert("tried".into(), json!(tried));
    report.fail(StepName::Tcp, cause, &format!("{at}: TCP failed: {why}"), details);
    None
}

async fn tls(
    report: &mut Report,
    state: &State<'_>,
    dialer: &Dialer,
    tcp: TcpStream,
    port: u16,
    deadline: Instant,
) -> Option<TlsStream<TcpStream>> {
    let at = target(&dialer.host, port);
    let handshake = dialer.handshake(tcp, port);
    let result = match timeout(remaining(deadline), handshake).await {
        Ok(result) => result,
        Err(_) => Err(DialError {
            phase: crate::channel::connector::Phase::Tls,
            status: Status::Timeout,
            message: "no TLS answer in time; is this a MinKNOW gRPC port?".to_owned(),
        }),
    };
    let mut details = server_details(state);
    details.insert("client_certificate_requested".into(), json!(state.seen.requested()));
    match result {
        Ok(tls) => {
            let connection = tls.get_ref().1;
            let version = connection.protocol_version().map(|v| format!("{v:?}"));
            let alpn = connection.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned());
            details.insert("protocol".into(), json!(version));
            details.insert("alpn".into(), json!(alpn));
            let sent = state.material.identity.is_some() && state.seen.requested();
            details.insert("client_certificate_sent".into(), json!(sent));
            let summary = format!(
                "{} with {}, server certificate verified",
                version.unwrap_or_default(),
                details["server_certificate"]["subject"].as_str().unwrap_or("?")
            );
            report.pass(StepName::Tls, summary, details);
            Some(tls)
        }
        Err(e) => {
            let cause = tls_cause(state, &e);
            report.fail(StepName::Tls, cause, &format!("{at}: {e}"), details);
            None
        }
    }
}

/// The server certificate as sent and which trusted CA anchors it.
fn server_details(state: &State<'_>) -> Map<String, Value> {
    let mut details = Map::new();
    let chain = state.seen.server_chain();
    let Some(leaf) = chain.first() else { return details };
    details.insert("server_certificate".into(), certificate_json(leaf));
    details.insert("server_chain_length".into(), json!(chain.len()));
    let verified_by = anchor(state, &chain).ok().map(|i| {
        let sources = resolution::ca_sources(&state.material.cas);
        let ca = &state.material.cas.certificates[i];
        let subject = Certificate::parse(ca).map(|c| c.subject_text()).unwrap_or_default();
        json!({ "index": i + 1, "subject": subject, "source": sources.get(i) })
    });
    details.insert("verified_by".into(), json!(verified_by));
    details
}

fn anchor(state: &State<'_>, chain: &[CertificateDer<'static>]) -> Result<usize, String> {
    let provider = rustls::crypto::ring::default_provider();
    let verifier = ServerVerifier::new(state.material.cas.certificates.clone(), &provider)
        .map_err(|e| e.message().to_owned())?;
    verifier.trusted_anchor(&chain[0], &chain[1..], resolution::now())
}

/// Why the handshake failed: for a refused certificate, look at it again
/// to tell a wrong CA from a regenerated one, dates from names.
fn tls_cause(state: &State<'_>, e: &DialError) -> Cause {
    match e.status {
        Status::Timeout => return Cause::NoAnswer,
        Status::CertificateVerifyFailed => return certificate_cause(state),
        _ => {}
    }
    if e.message.contains("instead of HTTP/2") {
        return Cause::NotGrpc;
    }
    if e.message.contains("closed the connection") {
        return Cause::TlsClosed;
    }
    if state.seen.server_chain().is_empty() && !e.message.contains("alert") {
        // No certificate came back: the peer never spoke TLS.
        return Cause::NotTls;
    }
    Cause::TlsFailed
}

fn certificate_cause(state: &State<'_>) -> Cause {
    let chain = state.seen.server_chain();
    let Some(Ok(leaf)) = chain.first().map(|c| Certificate::parse(c)) else {
        return Cause::ServerCertificateRejected;
    };
    if let Err(why) = anchor(state, &chain) {
        let same_name = state
            .material
            .cas
            .certificates
            .iter()
            .filter_map(|c| Certificate::parse(c).ok())
            .any(|ca| ca.subject == leaf.issuer);
        return match (same_name, why.contains("signature did not verify")) {
            (true, true) => Cause::RegeneratedCa,
            (false, _) => Cause::WrongCa,
            (true, false) => Cause::ServerCertificateRejected,
        };
    }
    let now = resolution::now();
    if now < leaf.not_before || now > leaf.not_after {
        return Cause::ServerCertificateExpired;
    }
    let name = match ServerName::try_from(state.server_name.clone()) {
        Ok(n) => n,
        Err(_) => return Cause::ServerCertificateRejected,
    };
    if trust::name::check(&leaf, &name).is_err() {
        return Cause::NameMismatch;
    }
    Cause::ServerCertificateRejected
}

/// A connector that hands tonic the connection already made, then dials
/// afresh like the library's own connector if tonic reconnects (after the
/// server dropped the first connection), so a later failure keeps its
/// real reason.
#[derive(Clone)]
struct Made {
    first: Arc<Mutex<Option<TlsStream<TcpStream>>>>,
    dialer: Arc<Dialer>,
    port: u16,
}

type Io = TokioIo<TlsStream<TcpStream>>;

impl tower::Service<http::Uri> for Made {
    type Response = Io;
    type Error = DialError;
    type Future = Pin<Box<dyn Future<Output = Result<Io, DialError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), DialError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let first = self.first.lock().unwrap_or_else(|p| p.into_inner()).take();
        let dialer = Arc::clone(&self.dialer);
        let port = self.port;
        Box::pin(async move {
            match first {
                Some(stream) => Ok(TokioIo::new(stream)),
                None => dialer.dial(port).await.map(TokioIo::new),
            }
        })
    }
}

async fn http2(
    report: &mut Report,
    state: &State<'_>,
    dialer: &Arc<Dialer>,
    tls: TlsStream<TcpStream>,
    port: u16,
    deadline: Instant,
) -> Option<tonic::transport::Channel> {
    let at = target(&dialer.host, port);
    let authority = target(&dialer.server_name.to_str(), port);
    let endpoint = match Endpoint::from_shared(format!("https://{authority}")) {
        Ok(e) => e,
        Err(e) => {
            let message = format!("cannot address {authority}: {e}");
            report.fail(StepName::Http2, Cause::InvalidArgument, &message, Map::new());
            return None;
        }
    };
    let made = Made { first: Arc::new(Mutex::new(Some(tls))), dialer: Arc::clone(dialer), port };
    let connect = endpoint.connect_with_connector(made);
    match timeout(remaining(deadline), connect).await {
        Ok(Ok(channel)) => {
            report.pass(StepName::Http2, format!("HTTP/2 up with {at}"), Map::new());
            Some(channel)
        }
        Ok(Err(e)) => {
            let err = failure::from_transport(&e, &at);
            let cause = match failure::tls_end(&e) {
                Some(end) => after_handshake_cause(state, &end),
                None => Cause::NotGrpc,
            };
            report.fail(StepName::Http2, cause, err.message(), Map::new());
            None
        }
        Err(_) => {
            let message = format!("{at}: HTTP/2 did not come up in time");
            report.fail(StepName::Http2, Cause::NotGrpc, &message, Map::new());
            None
        }
    }
}

/// A connection TLS ended under a call or HTTP/2: what the server most
/// likely refused.
fn after_handshake_cause(state: &State<'_>, end: &TlsEnd) -> Cause {
    let requested = state.seen.requested();
    match (state.material.identity.is_some(), requested, end) {
        (true, true, _) => Cause::ClientCertificateNotTrusted,
        (false, true, _) => Cause::ClientCertificateRequired,
        _ => Cause::ConnectionClosed,
    }
}

/// The unauthenticated call. Returns false when the dial should stop.
async fn token_path(
    report: &mut Report,
    state: &mut State<'_>,
    grpc: &tonic::transport::Channel,
    deadline: Instant,
) -> bool {
    let method = methods::TOKEN_PATH;
    let mut details = Map::new();
    details.insert("method".into(), json!(method));
    let reply = call(grpc, method, MetadataMap::new(), deadline).await;
    match reply {
        Ok(bytes) => {
            let path = LocalAuthenticationTokenPathResponse::decode(bytes)
                .map(|r| r.path)
                .unwrap_or_default();
            let summary = if path.is_empty() {
                "the manager answered: no local token file (local guest mode is off)".to_owned()
            } else {
                format!("the manager answered: local token file {path}")
            };
            details.insert("token_file".into(), json!((!path.is_empty()).then_some(&path)));
            state.token_file = (!path.is_empty()).then_some(path);
            report.pass(StepName::UnauthenticatedCall, summary, details);
            true
        }
        Err(status) => {
            let at = target(&state.material.host, report.port);
            let err = failure::from_status(&status, &at, method);
            let code = status.code();
            let cause = match call_tls_end(&status) {
                Some(end) => Some(after_handshake_cause(state, &end)),
                None if code == tonic::Code::Unimplemented => Some(Cause::NotManagerPort),
                // The manager answered: it only has no token to offer.
                None if matches!(
                    code,
                    tonic::Code::FailedPrecondition
                        | tonic::Code::NotFound
                        | tonic::Code::Unauthenticated
                        | tonic::Code::PermissionDenied
                ) =>
                {
                    None
                }
                None => Some(Cause::CallFailed),
            };
            details.insert("grpc_status".into(), json!(failure::code_name(code)));
            match cause {
                Some(cause) => {
                    report.fail(StepName::UnauthenticatedCall, cause, err.message(), details);
                    false
                }
                None => {
                    details.insert("token_file".into(), Value::Null);
                    let summary =
                        format!("the manager answered: no local token ({})", err.message());
                    report.pass(StepName::UnauthenticatedCall, summary, details);
                    true
                }
            }
        }
    }
}

fn call_tls_end(status: &tonic::Status) -> Option<TlsEnd> {
    let source = std::error::Error::source(status);
    let end = source.and_then(failure::tls_end);
    // Nothing cancels these calls: a local CANCELLED means the connection
    // closed before the request went out (as in the channel's first call).
    if end.is_none() && status.code() == tonic::Code::Cancelled && source.is_some() {
        return Some(TlsEnd::Closed);
    }
    end
}

fn call(
    grpc: &tonic::transport::Channel,
    method: &'static str,
    metadata: MetadataMap,
    deadline: Instant,
) -> impl Future<Output = Result<Bytes, tonic::Status>> {
    let grpc = grpc.clone();
    async move {
        let path = wire::method_path(method).map_err(tonic::Status::internal)?;
        wire::unary(grpc, path, Bytes::new(), metadata, Some(remaining(deadline))).await
    }
}

/// The credentials the plan gives, now that the token file is known.
fn credentials(report: &mut Report, state: &mut State<'_>) -> Option<Credentials> {
    let made = match &state.material.plan {
        TokenPlan::None => Ok(Credentials::None),
        TokenPlan::Developer(token) => Credentials::developer(token, "developer token"),
        TokenPlan::Protocol(token) => Credentials::protocol(token, "protocol token"),
        TokenPlan::Local { protocol, .. } => {
            let local = match &state.token_file {
                None => Err("the manager named no token file".to_owned()),
                Some(path) => LocalToken::open(path.into(), Arc::new(SystemClock))
                    .map_err(|e| e.message().to_owned()),
            };
            match (local, protocol) {
                (Ok(token), _) => Ok(Credentials::Local(token)),
                (Err(why), protocol) => {
                    state.local_token_failure = Some(why);
                    match protocol {
                        Some(token) => Credentials::protocol(token, "PROTOCOL_TOKEN"),
                        None => Ok(Credentials::None),
                    }
                }
            }
        }
    };
    match made {
        Ok(credentials) => {
            state.credentials = credentials.describe();
            Some(credentials)
        }
        Err(e) => {
            let mut details = Map::new();
            details.insert("credentials".into(), json!(state.material.plan.describe()));
            report.fail(StepName::AuthenticatedCall, Cause::TokenRejected, e.message(), details);
            None
        }
    }
}

async fn authenticated(
    report: &mut Report,
    state: &State<'_>,
    grpc: &tonic::transport::Channel,
    credentials: &Credentials,
    deadline: Instant,
) {
    let method = methods::MANAGER_VERSION;
    let mut metadata = MetadataMap::new();
    credentials.apply(&mut metadata);
    let mut details = Map::new();
    details.insert("method".into(), json!(method));
    details.insert("credentials".into(), json!(state.credentials));
    details.insert(
        "client_certificate_sent".into(),
        json!(state.material.identity.is_some() && state.seen.requested()),
    );
    if let Some(why) = &state.local_token_failure {
        details.insert("local_token_not_used".into(), json!(why));
    }
    match call(grpc, method, metadata, deadline).await {
        Ok(bytes) => {
            let version = GetVersionInfoResponse::decode(bytes)
                .ok()
                .and_then(|v| v.minknow)
                .map(|v| v.full)
                .unwrap_or_default();
            details.insert("minknow_version".into(), json!(version));
            let summary = format!("MinKNOW {version} answered, using {}", state.credentials);
            report.pass(StepName::AuthenticatedCall, summary, details);
        }
        Err(status) => {
            let at = target(&state.material.host, report.port);
            let err = failure::from_status(&status, &at, method);
            details.insert("grpc_status".into(), json!(failure::code_name(status.code())));
            let cause = match call_tls_end(&status) {
                Some(end) => after_handshake_cause(state, &end),
                None => match status.code() {
                    tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => {
                        unauthenticated_cause(state)
                    }
                    tonic::Code::Unimplemented => Cause::NotManagerPort,
                    _ => Cause::CallFailed,
                },
            };
            report.fail(StepName::AuthenticatedCall, cause, err.message(), details);
        }
    }
}

/// The manager refused the credentials: which ones, and why that is
/// likely.
fn unauthenticated_cause(state: &State<'_>) -> Cause {
    let has_identity = state.material.identity.is_some();
    let requested = state.seen.requested();
    if has_identity && !requested {
        return Cause::ClientCertificateNotRequested;
    }
    if state.credentials != "no token" {
        return Cause::TokenRejected;
    }
    if has_identity {
        return Cause::ClientCertificateNotAuthorised;
    }
    if state.local_token_failure.is_some() && state.token_file.is_some() {
        return Cause::LocalTokenUnreadable;
    }
    let not_local = state.material.local_use == LocalTokenUse::No && !state.material.host_is_local;
    if state.token_file.is_some() && not_local {
        return Cause::LocalTokenNeedsLocalHost;
    }
    Cause::MissingCredentials
}
