//! Faults: dialling something that is not MinKNOW, through the C ABI.
//!
//! Tiny TCP peers on 127.0.0.1 (written here, one thread each) accept and
//! close, never answer, answer in plaintext, speak another protocol, reset,
//! or are not there at all. Each connect must end within the connect
//! deadline (2 s; 5 s is the "no hang" bound) with the status of the phase
//! that failed and a message naming host:port and that phase.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use common::{expect_failure, Channel, Options, SimBuilder, Status};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const NO_HANG: Duration = Duration::from_secs(5);
/// The library retries a refused TCP connect at most 5 times; a peer
/// accepts at most this many connections, then its thread ends.
const MAX_ACCEPTS: usize = 8;

/// What a peer does with each connection it accepts.
#[derive(Clone, Copy, Debug)]
enum Peer {
    /// Close at once, before reading anything.
    AcceptAndClose,
    /// Read and never write, until the client gives up and closes.
    NeverAnswer,
    /// Read the ClientHello, answer as a plaintext HTTP/1.1 server, close.
    Plaintext,
    /// Send another protocol's banner first (an SSH server), then read.
    NotTls,
    /// Reset the connection (SO_LINGER 0, then close).
    Reset,
}

fn serve(peer: Peer, mut stream: TcpStream) {
    let mut buf = [0u8; 4096];
    match peer {
        Peer::AcceptAndClose => drop(stream),
        Peer::NeverAnswer => {
            // Ends when the client closes after its deadline.
            let _ = std::io::copy(&mut stream, &mut std::io::sink());
        }
        Peer::Plaintext => {
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
        Peer::NotTls => {
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n");
            let _ = std::io::copy(&mut stream, &mut std::io::sink());
        }
        Peer::Reset => {
            let _ = stream.read(&mut buf);
            let linger = libc::linger { l_onoff: 1, l_linger: 0 };
            // SAFETY: setsockopt on a socket we own, with a correctly sized
            // linger struct; closing it right after sends a reset.
            unsafe {
                libc::setsockopt(
                    stream.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    (&linger as *const libc::linger).cast(),
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                );
            }
            drop(stream);
        }
    }
}

/// Start `peer` on an OS-chosen port of 127.0.0.1; its port.
fn start(peer: Peer) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(MAX_ACCEPTS).flatten() {
            std::thread::spawn(move || serve(peer, stream));
        }
    });
    port
}

/// A CA nobody uses: connecting needs a trusted CA before it dials.
fn options() -> Options {
    let ca = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let pem = params.self_signed(&ca).unwrap().pem();
    Options::new().ca_pem(pem.as_bytes()).connect_timeout(CONNECT_TIMEOUT)
}

/// Connect to `port`, checking the time bound; the failure.
fn connect_fails(port: u16, status: Status, needles: &[&str]) -> (common::Failure, Duration) {
    let started = Instant::now();
    let result = Channel::connect("127.0.0.1", port.into(), &options());
    let took = started.elapsed();
    assert!(took < NO_HANG, "connecting to port {port} took {took:?}");
    let target = format!("127.0.0.1:{port}");
    let mut all = vec![target.as_str()];
    all.extend_from_slice(needles);
    (expect_failure(result, status, &all), took)
}

#[test]
fn a_peer_that_accepts_and_closes_fails_in_tls() {
    let port = start(Peer::AcceptAndClose);
    let (failure, _) = connect_fails(port, Status::TlsFailed, &["TLS failed"]);
    assert_eq!(failure.grpc, -1, "no gRPC status before HTTP/2: {failure:?}");
}

#[test]
fn a_peer_that_never_answers_times_out_in_tls() {
    let port = start(Peer::NeverAnswer);
    let (failure, took) = connect_fails(port, Status::Timeout, &["TLS failed", "no TLS answer"]);
    assert!(took >= CONNECT_TIMEOUT, "gave up before the deadline: {took:?} {failure:?}");
    assert!(failure.message.contains("is this a MinKNOW gRPC port?"), "{failure:?}");
}

#[test]
fn a_plaintext_http_server_fails_in_tls() {
    let port = start(Peer::Plaintext);
    connect_fails(port, Status::TlsFailed, &["TLS failed", "corrupt message"]);
}

#[test]
fn a_peer_speaking_another_protocol_fails_in_tls() {
    let port = start(Peer::NotTls);
    connect_fails(port, Status::TlsFailed, &["TLS failed"]);
}

#[test]
fn a_peer_that_resets_fails_in_tls() {
    let port = start(Peer::Reset);
    connect_fails(port, Status::TlsFailed, &["TLS failed"]);
}

#[test]
fn nothing_listening_fails_in_tcp_after_the_retries() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let (_, took) = connect_fails(port, Status::ConnectFailed, &["TCP failed", "refused"]);
    // Retried (5 attempts, 0.5 s apart, within the deadline), not given up at once.
    assert!(took >= Duration::from_millis(1000), "no retries: {took:?}");
}

/// The same faults behind a child channel of a real manager: the phase and
/// port are named, within the child's connect deadline.
#[test]
fn child_channels_to_bad_peers_name_the_port_and_phase() {
    let sim = SimBuilder::auth("client-cert").start();
    let ready = &sim.ready;
    let options = Options::new()
        .ca(&ready.ca)
        .cert(&ready.client_certificate, &ready.client_key)
        .connect_timeout(CONNECT_TIMEOUT);
    let manager = Channel::connect("127.0.0.1", ready.manager_port.into(), &options).unwrap();
    let cases = [
        (Peer::AcceptAndClose, Status::TlsFailed, "TLS failed"),
        (Peer::NeverAnswer, Status::Timeout, "no TLS answer"),
        (Peer::Plaintext, Status::TlsFailed, "TLS failed"),
        (Peer::NotTls, Status::TlsFailed, "TLS failed"),
        (Peer::Reset, Status::TlsFailed, "TLS failed"),
    ];
    for (peer, status, phase) in cases {
        let port = start(peer);
        let started = Instant::now();
        let result = manager.open_port(port.into());
        assert!(started.elapsed() < NO_HANG, "{peer:?}: took {:?}", started.elapsed());
        let target = format!("127.0.0.1:{port}");
        expect_failure(result, status, &[&target, phase]);
    }
    // The manager channel is unharmed.
    assert!(manager.manager_version().unwrap().major > 0);
}
