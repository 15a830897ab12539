//! Load, with fixed counts (not a timing test): 8 threads x 10,000 unary
//! calls on one channel, then 64 concurrent bidirectional streams of 200
//! messages each, through the C ABI. Zero errors, every reply checked, and
//! the process's resident memory (VmRSS) after the load no more than
//! `GROWTH_BOUND` above what it was after a warm-up of the same shape.
//!
//! One test function, so nothing else in this process moves the figures.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{proto, Channel, Options, SimBuilder};

const THREADS: usize = 8;
const CALLS_PER_THREAD: usize = 10_000;
const STREAMS: usize = 64;
const MESSAGES_PER_STREAM: usize = 200;
/// Warm-up: the same shape, smaller, so the allocator's per-thread arenas,
/// the HTTP/2 connection and the runtime's buffers exist before measuring.
const WARMUP_CALLS_PER_THREAD: usize = 1_000;
const WARMUP_MESSAGES_PER_STREAM: usize = 20;
/// The stated bound (docs/RELIABILITY.md): resident memory after the full
/// load may exceed the post-warm-up figure by at most this. A leak of even
/// 100 bytes per call would be 8 MB here, and per message 1.3 MB.
const GROWTH_BOUND_KB: u64 = 8 * 1024;
/// Every call has a deadline; the whole test proves "no hang" with this.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// This process's resident set size in kB, from /proc/self/status.
fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("a VmRSS line");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("VmRSS in kB")
}

/// `calls` echo calls on each of THREADS threads; every reply compared.
fn unary_load(channel: &Arc<Channel>, calls: usize) -> usize {
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let channel = channel.clone();
            std::thread::spawn(move || {
                for i in 0..calls {
                    let payload = format!("thread {t} call {i}").into_bytes();
                    let request = proto::chunk(payload.clone(), i as u32);
                    let reply = channel
                        .unary(proto::ECHO, &request, Some(CALL_TIMEOUT))
                        .unwrap_or_else(|f| panic!("thread {t} call {i}: {f:?}"));
                    let chunk: proto::Chunk = proto::decode(&reply);
                    assert_eq!((chunk.payload, chunk.sequence), (payload, i as u32));
                }
                calls
            })
        })
        .collect();
    workers.into_iter().map(|w| w.join().expect("a calling thread panicked")).sum()
}

/// STREAMS bidirectional echo streams at once, `messages` round trips each,
/// then a clean end; every echo compared.
fn stream_load(channel: &Arc<Channel>, messages: usize) -> usize {
    let workers: Vec<_> = (0..STREAMS)
        .map(|s| {
            let channel = channel.clone();
            std::thread::spawn(move || {
                let call = channel
                    .start(proto::BIDI_ECHO, Some(Duration::from_secs(120)))
                    .unwrap_or_else(|f| panic!("stream {s}: start: {f:?}"));
                for i in 0..messages {
                    let payload = vec![(s % 251) as u8; 64 + i % 64];
                    call.send(&proto::chunk(payload.clone(), i as u32))
                        .unwrap_or_else(|f| panic!("stream {s} send {i}: {f:?}"));
                    let echo = call
                        .recv()
                        .unwrap_or_else(|f| panic!("stream {s} recv {i}: {f:?}"))
                        .unwrap_or_else(|| panic!("stream {s} ended early at {i}"));
                    let chunk: proto::Chunk = proto::decode(&echo);
                    assert_eq!((chunk.payload, chunk.sequence), (payload, i as u32));
                }
                call.close_send().unwrap();
                assert_eq!(call.recv().unwrap(), None, "stream {s}: a clean end");
                messages
            })
        })
        .collect();
    workers.into_iter().map(|w| w.join().expect("a stream thread panicked")).sum()
}

#[test]
fn unary_and_streams_under_load_without_errors_or_growth() {
    let sim = SimBuilder::auth("client-cert").start();
    let ready = &sim.ready;
    let options = Options::new().ca(&ready.ca).cert(&ready.client_certificate, &ready.client_key);
    let before = rss_kb();
    let channel =
        Arc::new(Channel::connect("127.0.0.1", ready.manager_port.into(), &options).unwrap());

    let warm_calls = unary_load(&channel, WARMUP_CALLS_PER_THREAD);
    let warm_messages = stream_load(&channel, WARMUP_MESSAGES_PER_STREAM);
    let warm = rss_kb();

    let started = Instant::now();
    let calls = unary_load(&channel, CALLS_PER_THREAD);
    let unary_time = started.elapsed();
    let started = Instant::now();
    let messages = stream_load(&channel, MESSAGES_PER_STREAM);
    let stream_time = started.elapsed();
    let after = rss_kb();

    assert_eq!(warm_calls, THREADS * WARMUP_CALLS_PER_THREAD);
    assert_eq!(warm_messages, STREAMS * WARMUP_MESSAGES_PER_STREAM);
    assert_eq!(calls, THREADS * CALLS_PER_THREAD);
    assert_eq!(messages, STREAMS * MESSAGES_PER_STREAM);
    // The channel is still healthy, and the server saw nothing it refused.
    assert!(channel.manager_version().unwrap().major > 0);
    assert!(!sim.stderr().contains("rejected"), "{}", sim.stderr());
    println!(
        "load: {calls} unary calls in {unary_time:?}, {STREAMS} streams x {MESSAGES_PER_STREAM} \
         messages in {stream_time:?}; VmRSS {before} kB before, {warm} kB after warm-up, \
         {after} kB after the load (growth {} kB, bound {GROWTH_BOUND_KB} kB)",
        after.saturating_sub(warm)
    );
    assert!(
        after <= warm + GROWTH_BOUND_KB,
        "resident memory grew from {warm} kB to {after} kB, over the {GROWTH_BOUND_KB} kB bound"
    );
}
