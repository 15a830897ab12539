//! Token rotation: the simulator issues a new local token every 2 s and
//! honours the previous one for 2 s more (MinKNOW's grace period), while
//! threads make calls on one channel through the C ABI.
//!
//! - The soak: 4 threads for 30 s, zero failures of any kind (so zero
//!   UNAUTHENTICATED), and the channel ends on the current token.
//! - Faulty rotations: the token file is missing, or half written, for
//!   400 ms at each rotation while the new token is already live. The
//!   library keeps the old token through the failed re-reads and picks the
//!   new one up once the file is whole: no call is lost. (The reference
//!   client drops its token on the first failed re-read, and every call
//!   after that fails.)

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{proto, Channel, Failure, Options, Sim, SimBuilder};
use minknow_auth::ffi::options::minknow_local_token_mode;

/// One call per thread every this often: enough calls to see every
/// rotation many times over without loading a shared machine.
const PACE: Duration = Duration::from_millis(20);

fn sim(extra: &[&str]) -> Sim {
    let mut builder = SimBuilder::auth("local-token").arg("--token-rotate").arg("2");
    builder = builder.arg("--token-grace").arg("2");
    for arg in extra {
        builder = builder.arg(arg);
    }
    builder.start()
}

fn connect(sim: &Sim) -> Channel {
    let options = Options::new()
        .ca(&sim.ready.ca)
        .local_token_mode(minknow_local_token_mode::Auto)
        .connect_timeout(Duration::from_secs(5));
    let channel = Channel::connect("127.0.0.1", sim.ready.manager_port.into(), &options)
        .expect("connect with the local token");
    assert_eq!(channel.whoami().token_kind, "local");
    channel
}

struct Outcome {
    calls: u64,
    previous: u64,
    failures: Vec<Failure>,
}

/// `threads` threads calling `whoami` on `channel` for `duration`.
fn hammer(channel: &Arc<Channel>, threads: usize, duration: Duration) -> Outcome {
    let calls = Arc::new(AtomicU64::new(0));
    let previous = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let end = Instant::now() + duration;
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (channel, calls, previous, failures) =
                (channel.clone(), calls.clone(), previous.clone(), failures.clone());
            std::thread::spawn(move || {
                // Bounded by `duration`; each call by its own 10 s deadline.
                while Instant::now() < end {
                    let reply = channel.unary(proto::WHOAMI, &[], Some(Duration::from_secs(10)));
                    calls.fetch_add(1, Ordering::Relaxed);
                    match reply {
                        Ok(bytes) => {
                            let who: proto::WhoAmIResponse = proto::decode(&bytes);
                            assert!(who.token_kind.starts_with("local"), "{who:?}");
                            if who.token_kind == "local-previous" {
                                previous.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(failure) => failures.lock().unwrap().push(failure),
                    }
                    std::thread::sleep(PACE);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a calling thread panicked");
    }
    let failures = std::mem::take(&mut *failures.lock().unwrap());
    Outcome {
        calls: calls.load(Ordering::Relaxed),
        previous: previous.load(Ordering::Relaxed),
        failures,
    }
}

/// The token in the file now, for counting rotations (read by the test,
/// never printed).
fn token_in_file(sim: &Sim) -> Option<String> {
    let path = sim.ready.token_file.as_ref().expect("a token file");
    let bytes = std::fs::read(path).ok()?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    json["token"].as_str().map(str::to_owned)
}

fn check(label: &str, sim: &Sim, channel: &Channel, outcome: &Outcome, first: Option<String>) {
    assert!(
        outcome.failures.is_empty(),
        "{label}: {} of {} calls failed, first: {:?}",
        outcome.failures.len(),
        outcome.calls,
        outcome.failures.first()
    );
    // The token really rotated underneath, and the channel followed it.
    assert_ne!(token_in_file(sim), first, "{label}: the token never rotated");
    // Right after a rotation the channel may still be on the previous
    // token (honoured for the grace period) until its next re-read, at most
    // a second later: poll for the current one, bounded.
    let current =
        common::sim::wait_until(Duration::from_secs(5), || channel.whoami().token_kind == "local");
    assert!(current, "{label}: never back on the current token");
    assert!(
        !sim.stderr().contains("rejected"),
        "{label}: the sim rejected calls:\n{}",
        sim.stderr()
    );
    println!(
        "{label}: {} calls, {} on the previous token, 0 failed",
        outcome.calls, outcome.previous
    );
}

#[test]
fn four_threads_for_thirty_seconds_of_rotations() {
    let sim = sim(&[]);
    let channel = Arc::new(connect(&sim));
    let first = token_in_file(&sim);
    let outcome = hammer(&channel, 4, Duration::from_secs(30));
    // 30 s at one call per 20 ms per thread: well over a thousand calls.
    assert!(outcome.calls >= 1_000, "only {} calls", outcome.calls);
    check("soak", &sim, &channel, &outcome, first);
}

#[test]
fn a_token_file_briefly_missing_loses_no_call() {
    let sim = sim(&["--token-fault", "missing:400"]);
    let channel = Arc::new(connect(&sim));
    let first = token_in_file(&sim);
    // Four rotations, each with the file missing for 400 ms.
    let outcome = hammer(&channel, 2, Duration::from_secs(9));
    check("file missing", &sim, &channel, &outcome, first);
}

#[test]
fn a_token_file_half_written_loses_no_call() {
    let sim = sim(&["--token-fault", "half:400"]);
    let channel = Arc::new(connect(&sim));
    let first = token_in_file(&sim);
    let outcome = hammer(&channel, 2, Duration::from_secs(9));
    check("file half written", &sim, &channel, &outcome, first);
}
