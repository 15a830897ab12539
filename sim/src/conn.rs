//! Accepting TLS connections ourselves, so handlers can see who is on the other end.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tonic::transport::server::Connected;

use crate::certs;
use crate::tls::PortTls;

/// A client that opens TCP and never finishes the handshake must not hold a task forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times to look for a port free on every listen address.
const BIND_ATTEMPTS: usize = 8;

/// What a handler may learn about its connection, through the request's extensions.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    pub local_port: u16,
    pub peer: SocketAddr,
    /// Subject CN of a client certificate that passed verification (rustls fails the
    /// handshake for one that does not). `Some("")` for a certificate without a CN.
    pub client_subject: Option<String>,
    /// False on ports that never ask for one (like MinKNOW's 9502).
    pub asks_for_client_cert: bool,
}

#[derive(Clone)]
struct Acceptor {
    tls: TlsAcceptor,
    asks_for_client_cert: bool,
}

pub struct TlsConn {
    stream: TlsStream<TcpStream>,
    info: ConnInfo,
}

impl Connected for TlsConn {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        self.info.clone()
    }
}

impl AsyncRead for TlsConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Binds every host to one port: the first host picks a free port, the others follow it. If a
/// follower finds the port taken, start again with a new one.
pub async fn bind_same_port(hosts: &[IpAddr]) -> io::Result<(u16, Vec<TcpListener>)> {
    let mut last_error = None;
    for _ in 0..BIND_ATTEMPTS {
        match try_bind(hosts).await {
            Ok(bound) => return Ok(bound),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no listen address")))
}

/// Binds every host to the given `port` (a restart taking its old ports back).
pub async fn bind_port(hosts: &[IpAddr], port: u16) -> io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::with_capacity(hosts.len());
    for host in hosts {
        let addr = SocketAddr::new(*host, port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("binding {addr} again: {e}")))?;
        listeners.push(listener);
    }
    Ok(listeners)
}

async fn try_bind(hosts: &[IpAddr]) -> io::Result<(u16, Vec<TcpListener>)> {
    let mut listeners = Vec::with_capacity(hosts.len());
    let mut port = 0;
    for host in hosts {
        let addr = SocketAddr::new(*host, port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("binding {addr}: {e}")))?;
        port = listener.local_addr()?.port();
        listeners.push(listener);
    }
    Ok((port, listeners))
}

/// Accepts on `listener` until shutdown, handing finished handshakes to `out`. A failed
/// handshake or accept is logged and the loop goes on.
async fn accept_loop(
    listener: TcpListener,
    acceptor: Acceptor,
    out: mpsc::Sender<io::Result<TlsConn>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        match accepted {
            Ok((tcp, peer)) => {
                tokio::spawn(handshake(tcp, peer, port, acceptor.clone(), out.clone()));
            }
            Err(e) => {
                eprintln!("minknow-sim: port {port}: accept failed: {e}");
                // Out of file descriptors and the like: pause rather than spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        if out.is_closed() {
            return;
        }
    }
}

async fn handshake(
    tcp: TcpStream,
    peer: SocketAddr,
    port: u16,
    acceptor: Acceptor,
    out: mpsc::Sender<io::Result<TlsConn>>,
) {
    let _ = tcp.set_nodelay(true);
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.tls.accept(tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return eprintln!("minknow-sim: port {port}: TLS handshake with {peer}: {e}"),
        Err(_) => {
            return eprintln!("minknow-sim: port {port}: TLS handshake with {peer} timed out")
        }
    };
    let client_subject = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|leaf| certs::subject_common_name(leaf).unwrap_or_default());
    let asks_for_client_cert = acceptor.asks_for_client_cert;
    let info = ConnInfo { local_port: port, peer, client_subject, asks_for_client_cert };
    // The server only goes away at shutdown; a connection arriving then is simply dropped.
    let _ = out.send(Ok(TlsConn { stream, info })).await;
}

/// Starts accept loops for every listener of one role, feeding one stream of connections.
pub fn incoming(
    listeners: Vec<TcpListener>,
    tls: PortTls,
    shutdown: &watch::Receiver<bool>,
) -> tokio_stream::wrappers::ReceiverStream<io::Result<TlsConn>> {
    let (tx, rx) = mpsc::channel(64);
    let acceptor = Acceptor {
        tls: TlsAcceptor::from(tls.config),
        asks_for_client_cert: tls.asks_for_client_cert,
    };
    for listener in listeners {
        tokio::spawn(accept_loop(listener, acceptor.clone(), tx.clone(), shutdown.clone()));
    }
    tokio_stream::wrappers::ReceiverStream::new(rx)
}
