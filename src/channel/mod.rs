//! Channels: a TLS connection to one MinKNOW port with the trust, identity
//! and token of the manager connection it belongs to.
//!
//! Connecting is eager. It dials, asks the manager where the local token
//! lives when that token applies, and makes a first authenticated call, so
//! TLS and authentication failures surface at connect time rather than on
//! the caller's first call (on TLS 1.3 an untrusted client certificate is
//! only refused after the handshake). Like the reference client, the first
//! call is retried up to 5 times, 0.5 s apart, on UNAVAILABLE, all within
//! the connect timeout.

pub mod connector;
pub mod failure;
pub mod options;
pub mod resolve;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use rustls_pki_types::ServerName;
use tokio::time::Instant;
use tonic::metadata::MetadataMap;
use tonic::transport::Endpoint;

use crate::credentials::local_token::LocalToken;
use crate::credentials::{clock::SystemClock, Credentials};
use crate::error::{Error, Result, Status};
use crate::log::{log_at, Level};
use crate::schema::{methods, LocalAuthenticationTokenPathResponse};
use crate::sources::token_policy::TokenPlan;
use connector::{Connector, Dialer};
use options::{ConnectOptions, DEFAULT_SERVER_NAME};

/// First-call attempts and the pause between them (the reference client's).
const FIRST_CALL_ATTEMPTS: u32 = 5;
const RETRY_PAUSE: Duration = Duration::from_millis(500);
/// HTTP/2 keep-alive: MinKNOW's gRPC C-core refuses pings more often than
/// every 5 minutes on a connection without data (and then closes it with
/// GOAWAY), so ping just above that, and only while calls are open.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(310);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// What the first call on a new channel is, to prove it works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// `ManagerService/get_version_info` (an authenticated manager call).
    Manager,
    /// `InstanceService/get_version_info`, which every position serves.
    Position,
    /// No call (the basecaller, or a port whose services are unknown):
    /// the channel is ready once HTTP/2 is up.
    None,
}

/// What a manager channel and all of its children share.
pub struct Shared {
    dialer: Arc<Dialer>,
    credentials: Credentials,
    connect_timeout: Duration,
    notes: Vec<String>,
}

/// An authenticated channel to one port. Cheap to clone; safe to share
/// between threads.
#[derive(Clone)]
pub struct Channel {
    shared: Arc<Shared>,
    port: u16,
    grpc: tonic::transport::Channel,
}

impl Channel {
    /// Connect to the manager on `host` (`port` defaults by the reference
    /// client's rule) and prove the connection with a first call.
    pub async fn connect(
        host: &str,
        port: Option<u16>,
        options: &ConnectOptions,
    ) -> Result<Channel> {
        let host = resolve::check_host(host)?;
        let env = options.env();
        let resolved = resolve::resolve(&host, options, &env)?;
        let port = options::manager_port(port, resolved.identity.is_some());
        let mut notes = resolved.notes;
        if resolved.identity.is_some() && port == options::TOKEN_PORT {
            notes.push(format!(
                "a client certificate is configured but port {port} does not accept client \
                 certificates (use 9501)"
            ));
        }
        let tls =
            crate::trust::client_config(resolved.cas.certificates, resolved.identity.as_ref())?;
        let dialer = Arc::new(Dialer {
            host,
            tls: tokio_rustls::TlsConnector::from(tls),
            server_name: server_name(options.server_name.as_deref())?,
            timeout: options.connect_timeout,
        });
        let deadline = Instant::now() + options.connect_timeout;
        let grpc = open(&dialer, port, deadline).await?;
        let credentials =
            credentials(&grpc, &dialer, port, resolved.plan, &mut notes, deadline).await?;
        for note in &notes {
            log_at!(Level::Info, "{}: {note}", target(&dialer.host, port));
        }
        log_at!(Level::Info, "{}: using {}", target(&dialer.host, port), credentials.describe());
        let shared =
            Shared { dialer, credentials, connect_timeout: options.connect_timeout, notes };
        let channel = Channel { shared: Arc::new(shared), port, grpc };
        channel.probe(Probe::Manager, deadline).await?;
        Ok(channel)
    }

    /// A channel to another port of the same host with the same trust,
    /// identity and token.
    pub async fn child(&self, port: u16, probe: Probe) -> Result<Channel> {
        let deadline = Instant::now() + self.shared.connect_timeout;
        let grpc = open(&self.shared.dialer, port, deadline).await?;
        let channel = Channel { shared: self.shared.clone(), port, grpc };
        channel.probe(probe, deadline).await?;
        Ok(channel)
    }

    pub fn host(&self) -> &str {
        &self.shared.dialer.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, bracketing IPv6 addresses, for messages.
    pub fn target(&self) -> String {
        target(self.host(), self.port)
    }

    pub fn credentials(&self) -> &Credentials {
        &self.shared.credentials
    }

    /// Notes made while connecting (choices a user may want explained).
    pub fn notes(&self) -> &[String] {
        &self.shared.notes
    }

    /// The underlying tonic channel (cheap to clone).
    pub fn grpc(&self) -> tonic::transport::Channel {
        self.grpc.clone()
    }

    /// The metadata every call on this channel starts with.
    pub fn call_metadata(&self) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        self.shared.credentials.apply(&mut metadata);
        metadata
    }

    async fn probe(&self, probe: Probe, deadline: Instant) -> Result<()> {
        let method = match probe {
            Probe::Manager => methods::MANAGER_VERSION,
            Probe::Position => methods::INSTANCE_VERSION,
            Probe::None => return Ok(()),
        };
        let mut refreshed = false;
        let mut attempt = 1;
        loop {
            let result = self.bootstrap_call(method, self.call_metadata(), deadline).await;
            let err = match result {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            if err.status() == Status::Unauthenticated && !refreshed {
                refreshed = true;
                if self.shared.credentials.refresh_after_rejection() {
                    continue;
                }
            }
            if !failure::is_retryable(&err) || attempt >= FIRST_CALL_ATTEMPTS {
                return Err(self.explain(err));
            }
            if !pause_before_retry(deadline).await {
                return Err(self.explain(err));
            }
            log_at!(
                Level::Info,
                "first call, attempt {attempt} failed, retrying: {}",
                err.message()
            );
            attempt += 1;
        }
    }

    async fn bootstrap_call(
        &self,
        method: &str,
        metadata: MetadataMap,
        deadline: Instant,
    ) -> Result<Bytes> {
        let path = wire::method_path(method).map_err(|e| Error::new(Status::Internal, e))?;
        let timeout = deadline.saturating_duration_since(Instant::now());
        wire::unary(self.grpc(), path, Bytes::new(), metadata, Some(timeout))
            .await
            .map_err(|status| self.first_call_failure(&status, method))
    }

    /// A failed first call. When TLS ended the connection right after the
    /// handshake, say so and why that usually happens: gRPC C-core (MinKNOW)
    /// closes without an alert when it refuses the client certificate, or
    /// when it wants one and got none.
    fn first_call_failure(&self, status: &tonic::Status, method: &str) -> Error {
        let err = failure::from_status(status, &self.target(), method);
        let source = std::error::Error::source(status);
        // Nothing cancels a first call: a local CANCELLED is hyper saying
        // the connection closed before the request went out.
        let cancelled = status.code() == tonic::Code::Cancelled && source.is_some();
        let end = source.and_then(failure::tls_end);
        let end = if cancelled { end.or(Some(failure::TlsEnd::Closed)) } else { end };
        let what = match end {
            None => return err,
            Some(failure::TlsEnd::Error(_)) => err.message().to_owned(),
            Some(failure::TlsEnd::Closed) => format!(
                "{} {method}: the server closed the connection right after the TLS handshake, \
                 without a TLS alert",
                self.target()
            ),
        };
        let hint = if self.shared.dialer.tls.config().client_auth_cert_resolver.has_certs() {
            "over TLS 1.3 this is how a server refuses a client certificate it does not trust: \
             check that MinKNOW trusts its CA (conf/rpc-client-certs) and that this port accepts \
             client certificates (9501 or a position port, not 9502)"
        } else {
            "the server may require a client certificate, or accept only connections from its \
             own host"
        };
        Error::with_grpc(Status::TlsFailed, status.code(), format!("{what}; {hint}"))
    }

    /// Add the likely cause to an authentication failure at connect time.
    fn explain(&self, err: Error) -> Error {
        if err.status() != Status::Unauthenticated {
            return err;
        }
        let mut hint = format!("credentials used: {}", self.shared.credentials.describe());
        for note in &self.shared.notes {
            hint.push_str("; ");
            hint.push_str(note);
        }
        let message = format!("{} ({hint})", err.message());
        match err.grpc() {
            Some(code) => Error::with_grpc(err.status(), code, message),
            None => Error::new(err.status(), message),
        }
    }
}

fn target(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn server_name(name: Option<&str>) -> Result<ServerName<'static>> {
    let name = name.unwrap_or(DEFAULT_SERVER_NAME);
    ServerName::try_from(name.to_owned()).map_err(|_| {
        Error::new(
            Status::InvalidArgument,
            format!("server name {name:?} is not a valid DNS name or IP address"),
        )
    })
}

/// Dial `port` and bring HTTP/2 up, retrying refused connections like the
/// reference client retries UNAVAILABLE.
async fn open(
    dialer: &Arc<Dialer>,
    port: u16,
    deadline: Instant,
) -> Result<tonic::transport::Channel> {
    let endpoint = endpoint(dialer, port)?;
    let mut attempt = 1;
    loop {
        let connector = Connector { dialer: dialer.clone(), port };
        let err = match endpoint.connect_with_connector(connector).await {
            Ok(channel) => return Ok(channel),
            Err(e) => failure::from_transport(&e, &target(&dialer.host, port)),
        };
        let retry = err.status() == Status::ConnectFailed && attempt < FIRST_CALL_ATTEMPTS;
        if !retry || !pause_before_retry(deadline).await {
            log_at!(Level::Debug, "dial failed: {}", err.message());
            return Err(err);
        }
        log_at!(Level::Info, "dial attempt {attempt} failed, retrying: {}", err.message());
        attempt += 1;
    }
}

fn endpoint(dialer: &Dialer, port: u16) -> Result<Endpoint> {
    // The authority names the certificate's host, as gRPC C-core does when
    // the target name is overridden; the connector dials the real host.
    let authority = dialer.server_name.to_str().into_owned();
    let uri = format!("https://{}", target(&authority, port));
    let endpoint = Endpoint::from_shared(uri).map_err(|e| {
        Error::new(Status::InvalidArgument, format!("cannot address port {port}: {e}"))
    })?;
    Ok(endpoint
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(false)
        .http2_adaptive_window(true))
}

/// Sleep before the next attempt; false when that would pass the deadline.
async fn pause_before_retry(deadline: Instant) -> bool {
    if Instant::now() + RETRY_PAUSE >= deadline {
        return false;
    }
    tokio::time::sleep(RETRY_PAUSE).await;
    true
}

/// Turn the token plan into credentials, asking the manager for the local
/// token file when the plan says so.
async fn credentials(
    grpc: &tonic::transport::Channel,
    dialer: &Dialer,
    port: u16,
    plan: TokenPlan,
    notes: &mut Vec<String>,
    deadline: Instant,
) -> Result<Credentials> {
    match plan {
        TokenPlan::None => Ok(Credentials::None),
        TokenPlan::Developer(token) => Credentials::developer(&token, "developer token"),
        TokenPlan::Protocol(token) => Credentials::protocol(&token, "protocol token"),
        TokenPlan::Local { protocol, .. } => {
            match local_token(grpc, dialer, port, deadline).await {
                Ok(token) => {
                    log_at!(Level::Info, "local token read from {}", token.path().display());
                    return Ok(Credentials::Local(token));
                }
                Err(why) => notes.push(format!("local token not used: {why}")),
            }
            match protocol {
                Some(token) => Credentials::protocol(&token, "PROTOCOL_TOKEN"),
                None => Ok(Credentials::None),
            }
        }
    }
}

/// Ask the manager (without credentials) where its token file is, and read
/// it. Any failure means "no local token", with the reason.
async fn local_token(
    grpc: &tonic::transport::Channel,
    dialer: &Dialer,
    port: u16,
    deadline: Instant,
) -> std::result::Result<LocalToken, String> {
    let path = wire::method_path(methods::TOKEN_PATH).map_err(|e| e.to_string())?;
    let timeout = deadline.saturating_duration_since(Instant::now());
    let reply = wire::unary(grpc.clone(), path, Bytes::new(), MetadataMap::new(), Some(timeout))
        .await
        .map_err(|s| {
            failure::from_status(&s, &target(&dialer.host, port), methods::TOKEN_PATH)
                .message()
                .to_owned()
        })?;
    let response = LocalAuthenticationTokenPathResponse::decode(reply)
        .map_err(|e| format!("the manager's token path reply could not be decoded: {e}"))?;
    if response.path.is_empty() {
        return Err("the manager reported no token file (local guest mode may be off)".to_owned());
    }
    LocalToken::open(response.path.into(), Arc::new(SystemClock))
        .map_err(|e| e.message().to_owned())
}
