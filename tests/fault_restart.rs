//! Faults: MinKNOW going away under open channels, through the C ABI.
//!
//! The simulator runs with `--keep-identity`, so a restart comes back with
//! the same CA, certificates and ports, as a restarted MinKNOW does. Killed
//! (SIGKILL: connections just drop) or stopped gracefully (SIGTERM: GOAWAY,
//! a short drain, exit), every call in flight must end with UNAVAILABLE
//! within a bound, calls while it is down must fail fast with UNAVAILABLE,
//! and the next call on the same handles must succeed once it is back.

mod common;

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{proto, Channel, Options, Sim, SimBuilder, Status};

/// The connect deadline of every channel here.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Generous upper bound proving "no hang" for anything bounded by the
/// connect deadline.
const NO_HANG: Duration = Duration::from_secs(5);
/// The documented bound (docs/RELIABILITY.md): once the restarted
/// simulator is ready, the first call on an old handle succeeds within it.
const RECOVERY: Duration = Duration::from_secs(3);

fn start(dir: &Path) -> Sim {
    SimBuilder::auth("client-cert")
        .arg("--dir")
        .arg(dir.to_str().expect("UTF-8 temp dir"))
        .arg("--keep-identity")
        .start()
}

fn options(sim: &Sim) -> Options {
    let ready = &sim.ready;
    Options::new()
        .ca(&ready.ca)
        .cert(&ready.client_certificate, &ready.client_key)
        .connect_timeout(CONNECT_TIMEOUT)
}

/// Run `f` on its own thread; panic if it takes longer than `limit` (a hang).
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends before it ends"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what} did not end within {limit:?}"),
    }
}

/// A server stream that stays open (one message every 50 ms for minutes),
/// with its first message received, so it is really in flight.
fn open_stream(channel: &Channel) -> common::Call {
    let call = channel.start(proto::SERVER_STREAM, None).expect("start server_stream");
    call.send(&proto::stream_request(100_000, 16, 50)).expect("send the request");
    call.close_send().expect("close_send");
    let first = call.recv().expect("first message").expect("a message, not the end");
    assert!(!first.is_empty());
    call
}

/// A bidirectional echo that has echoed once, so it is in flight.
fn open_bidi(channel: &Channel) -> common::Call {
    let call = channel.start(proto::BIDI_ECHO, None).expect("start bidi_echo");
    call.send(&proto::chunk(vec![7; 8], 1)).expect("send");
    assert!(call.recv().expect("echo").is_some());
    call
}

/// What every in-flight call and every call while the server is down must
/// end with.
#[track_caller]
fn assert_unavailable(result: Result<Option<Vec<u8>>, common::Failure>, target: &str, what: &str) {
    let failure = match result {
        Err(failure) => failure,
        Ok(message) => panic!("{what}: expected UNAVAILABLE, got {message:?}"),
    };
    assert_eq!(failure.status, Status::Unavailable, "{what}: {}", failure.message);
    assert_eq!(failure.grpc, 14, "{what}: gRPC UNAVAILABLE expected: {}", failure.message);
    assert!(failure.message.contains(target), "{what}: names {target}: {}", failure.message);
}

/// The stream's next outcomes until it ends: messages still queued before
/// the fault are fine; the end must be the failure.
fn end_of(call: common::Call) -> Result<Option<Vec<u8>>, common::Failure> {
    loop {
        match call.recv() {
            Ok(Some(_)) => continue,
            other => return other,
        }
    }
}

/// Poll the manager until a call succeeds; the time it took.
fn time_to_recover(manager: &Channel) -> Duration {
    let start = Instant::now();
    loop {
        match manager.manager_version() {
            Ok(version) => {
                assert!(version.major > 0);
                return start.elapsed();
            }
            Err(failure) => {
                assert_eq!(failure.grpc, 14, "only UNAVAILABLE until it is back: {failure:?}");
                assert!(start.elapsed() < RECOVERY, "no recovery within {RECOVERY:?}: {failure:?}");
            }
        }
    }
}

/// Everything after the server went away: in-flight calls end, calls
/// fail fast while it is down, and after a restart on the same ports the
/// old handles work again.
fn survive(stop: impl FnOnce(&mut Sim), label: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = start(dir.path());
    let manager = Channel::connect("127.0.0.1", sim.ready.manager_port.into(), &options(&sim))
        .expect("connect");
    let position = manager.open_position("X1").expect("open X1");
    let (manager_port, x1_port) = (sim.ready.manager_port, sim.ready.position_port("X1"));
    let manager_target = format!("127.0.0.1:{manager_port}");
    let x1_target = format!("127.0.0.1:{x1_port}");

    let streams = vec![
        (open_stream(&manager), manager_target.clone(), "manager server stream"),
        (open_bidi(&manager), manager_target.clone(), "manager bidi stream"),
        (open_stream(&position), x1_target.clone(), "X1 server stream"),
    ];
    let waiting: Vec<_> = streams
        .into_iter()
        .map(|(call, target, what)| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(end_of(call));
            });
            (rx, target, what)
        })
        .collect();

    stop(&mut sim);
    let stopped = Instant::now();
    for (rx, target, what) in waiting {
        let left = NO_HANG.saturating_sub(stopped.elapsed());
        let outcome = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("{label}: {what} still open {NO_HANG:?} after the fault"));
        assert_unavailable(outcome, &target, &format!("{label}: {what}"));
    }

    // While the server is down, calls on the same handles fail fast with
    // gRPC UNAVAILABLE: CONNECT_FAILED naming the TCP phase once the
    // reconnect is refused, or UNAVAILABLE when the call raced the drop.
    let started = Instant::now();
    for (channel, method, target) in [
        (&manager, proto::MANAGER_VERSION, &manager_target),
        (&position, proto::INSTANCE_VERSION, &x1_target),
    ] {
        let failure = channel.unary(method, &[], None).expect_err("a call while down");
        assert_eq!(failure.grpc, 14, "{label}: {}", failure.message);
        let phase = match failure.status {
            Status::ConnectFailed => format!("{target}: TCP failed"),
            Status::Unavailable => format!("{target} {method}: UNAVAILABLE"),
            other => panic!("{label}: {other:?} while down: {}", failure.message),
        };
        assert!(failure.message.contains(&phase), "{label}: {failure:?}");
    }
    assert!(started.elapsed() < NO_HANG, "{label}: calls while down took {:?}", started.elapsed());

    // Back on the same ports with the same CA: the old handles recover.
    let restarted = start(dir.path());
    assert_eq!(restarted.ready.manager_port, manager_port, "{label}: same manager port");
    assert_eq!(restarted.ready.position_port("X1"), x1_port, "{label}: same X1 port");
    let recovery = time_to_recover(&manager);
    let version = position.position_version().expect("the position handle works again");
    assert!(version.major > 0);
    let stream = open_stream(&position);
    stream.cancel();
    let who = manager.whoami();
    assert_eq!(who.client_certificate_subject, "minknow-sim client");
    println!("{label}: first call after the restart succeeded after {recovery:?}");
}

#[test]
fn killed_server_restarted_on_the_same_ports() {
    within(Duration::from_secs(60), "the kill test", || survive(|sim| sim.kill_now(), "SIGKILL"));
}

#[test]
fn graceful_shutdown_goaway_then_restart() {
    within(Duration::from_secs(60), "the GOAWAY test", || {
        survive(|sim| sim.terminate(Duration::from_secs(10)), "SIGTERM (GOAWAY)")
    });
}

/// Several kill/restart rounds on one pair of handles: each round's first
/// call after the restart succeeds.
#[test]
fn repeated_restarts_keep_the_handles_usable() {
    within(Duration::from_secs(90), "the restart rounds", || {
        let dir = tempfile::tempdir().unwrap();
        let mut sim = start(dir.path());
        let options = options(&sim);
        let manager = Channel::connect("127.0.0.1", sim.ready.manager_port.into(), &options)
            .expect("connect");
        let position = manager.open_position("X2").expect("open X2");
        const ROUNDS: usize = 5;
        for round in 0..ROUNDS {
            sim.kill_now();
            sim = start(dir.path());
            let recovery = time_to_recover(&manager);
            position.position_version().unwrap_or_else(|f| panic!("round {round}: {f:?}"));
            println!("round {round}: recovered after {recovery:?}");
        }
    });
}
