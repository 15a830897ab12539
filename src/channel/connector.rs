//! Dialling: TCP, then TLS with MinKNOW's trust rules, with the phase of any
//! failure recorded so the caller learns what went wrong and where.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::error::Status;
use crate::log::{log_at, Level};

/// Where in connecting a failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Resolve,
    Tcp,
    Tls,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Resolve => "name resolution",
            Phase::Tcp => "TCP",
            Phase::Tls => "TLS",
        }
    }
}

/// A failure while dialling, found again by the channel layer in the
/// source chain of tonic's transport error.
#[derive(Debug)]
pub struct DialError {
    pub phase: Phase,
    pub status: Status,
    pub message: String,
}

impl std::fmt::Display for DialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {}", self.phase.name(), self.message)
    }
}

impl std::error::Error for DialError {}

/// Everything needed to open a TLS connection to one host: shared by a
/// manager channel and all its children.
pub struct Dialer {
    pub host: String,
    pub tls: tokio_rustls::TlsConnector,
    pub server_name: ServerName<'static>,
    pub timeout: Duration,
}

impl Dialer {
    /// Open a TLS connection to `port` on this dialer's host.
    pub async fn dial(&self, port: u16) -> Result<TlsStream<TcpStream>, DialError> {
        let tcp = self.dial_tcp(port).await?;
        self.handshake(tcp, port).await
    }

    /// The TLS handshake over a connected `tcp` stream to `port`, insisting
    /// on HTTP/2. Apart from [`Dialer::dial`] so diagnostics can report
    /// each step on its own.
    pub async fn handshake(
        &self,
        tcp: TcpStream,
        port: u16,
    ) -> Result<TlsStream<TcpStream>, DialError> {
        let handshake = self.tls.connect(self.server_name.clone(), tcp);
        let tls = match tokio::time::timeout(self.timeout, handshake).await {
            Err(_) => return Err(tls_timeout(self.timeout)),
            Ok(Err(e)) => return Err(tls_error(e)),
            Ok(Ok(tls)) => tls,
        };
        check_alpn(&tls)?;
        let version = tls.get_ref().1.protocol_version().map(|v| format!("{v:?}"));
        log_at!(Level::Debug, "TLS up with {}:{port} ({})", self.host, version.unwrap_or_default());
        Ok(tls)
    }

    async fn dial_tcp(&self, port: u16) -> Result<TcpStream, DialError> {
        let addrs = match tokio::net::lookup_host((self.host.as_str(), port)).await {
            Ok(addrs) => addrs.collect::<Vec<_>>(),
            Err(e) => return Err(dial_error(Phase::Resolve, Status::ConnectFailed, e.to_string())),
        };
        let mut last = None;
        for addr in addrs {
            match tokio::time::timeout(self.timeout, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    // Small gRPC frames must not wait for Nagle's algorithm.
                    let _ = stream.set_nodelay(true);
                    log_at!(Level::Trace, "TCP connected to {addr}");
                    return Ok(stream);
                }
                Ok(Err(e)) => last = Some(format!("{addr}: {e}")),
                Err(_) => last = Some(format!("{addr}: no answer within {:?}", self.timeout)),
            }
        }
        let why = last.unwrap_or_else(|| "the name resolved to no address".to_owned());
        Err(dial_error(Phase::Tcp, Status::ConnectFailed, why))
    }
}

fn dial_error(phase: Phase, status: Status, message: String) -> DialError {
    DialError { phase, status, message }
}

fn tls_timeout(timeout: Duration) -> DialError {
    dial_error(
        Phase::Tls,
        Status::Timeout,
        format!("no TLS answer within {timeout:?}; is this a MinKNOW gRPC port?"),
    )
}

/// Sort a handshake failure into "the certificate is not trusted" and
/// everything else, keeping rustls's own words.
fn tls_error(e: std::io::Error) -> DialError {
    let rustls_error = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(err @ rustls::Error::InvalidCertificate(_)) => dial_error(
            Phase::Tls,
            Status::CertificateVerifyFailed,
            format!(
                "server certificate not trusted: {}",
                crate::trust::certificate_error_text(err)
            ),
        ),
        Some(other) => dial_error(Phase::Tls, Status::TlsFailed, other.to_string()),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof => dial_error(
            Phase::Tls,
            Status::TlsFailed,
            "the peer closed the connection during the TLS handshake".to_owned(),
        ),
        None => dial_error(Phase::Tls, Status::TlsFailed, e.to_string()),
    }
}

/// gRPC C-core completes a handshake without ALPN and then drops the
/// connection; insist on h2 here so the failure is named.
fn check_alpn(tls: &TlsStream<TcpStream>) -> Result<(), DialError> {
    match tls.get_ref().1.alpn_protocol() {
        Some(b"h2") | None => Ok(()),
        Some(other) => Err(dial_error(
            Phase::Tls,
            Status::TlsFailed,
            format!(
                "the server chose protocol {:?} instead of HTTP/2 (h2); not a gRPC port",
                String::from_utf8_lossy(other)
            ),
        )),
    }
}

/// The connector tonic drives: dials one fixed port of the dialer's host,
/// whatever URI tonic passes (the URI only names the HTTP/2 authority).
#[derive(Clone)]
pub struct Connector {
    pub dialer: Arc<Dialer>,
    pub port: u16,
}

type Io = TokioIo<TlsStream<TcpStream>>;

impl tower::Service<http::Uri> for Connector {
    type Response = Io;
    type Error = DialError;
    type Future = Pin<Box<dyn Future<Output = Result<Io, DialError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), DialError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let dialer = self.dialer.clone();
        let port = self.port;
        Box::pin(async move { dialer.dial(port).await.map(TokioIo::new) })
    }
}
