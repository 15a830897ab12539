//! Calls through the exported C functions: unary, server-, client- and
//! bidirectional streaming on TestService, cancellation from another
//! thread, deadlines, size limits, bad method paths, many threads on one
//! channel, and child channels outliving their parent.
//!
//! One client-certificate simulator serves the whole file: calls do not
//! change its state.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use common::proto::{self, Chunk, StreamSummary};
use common::{expect_failure, Call, Channel, Options, Sim, SimBuilder, Status};

/// The library's message limit (MINKNOW_MAX_MESSAGE_BYTES).
const MAX_MESSAGE: usize = 16 * 1024 * 1024;
/// How long a blocked recv may take to notice a cancel before the test
/// calls it a hang: generous, since "promptly" is measured separately.
const JOIN_LIMIT: Duration = Duration::from_secs(10);

fn sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| SimBuilder::auth("client-cert").start())
}

fn manager() -> Channel {
    let ready = &sim().ready;
    let options = Options::new().ca(&ready.ca).cert(&ready.client_certificate, &ready.client_key);
    Channel::connect("127.0.0.1", ready.manager_port.into(), &options).expect("connect")
}

fn recv_chunk(call: &Call) -> Chunk {
    let message = call.recv().expect("recv").expect("a message, not the end");
    proto::decode(&message)
}

/// Start a server_stream call with its one request sent.
fn server_stream(
    channel: &Channel,
    count: u32,
    size: u32,
    interval_ms: u32,
    timeout: Option<Duration>,
) -> Call {
    let call = channel.start(proto::SERVER_STREAM, timeout).expect("start");
    call.send(&proto::stream_request(count, size, interval_ms)).expect("send");
    call.close_send().expect("close_send");
    call
}

/// Run `f` on a thread and wait for it at most `limit`; panics on timeout
/// rather than hanging the suite.
fn bounded<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).unwrap_or_else(|_| panic!("did not finish within {limit:?}"))
}

#[test]
fn unary_echo_of_one_mebibyte() {
    let payload: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    assert_eq!(manager().echo(payload.clone(), 42).unwrap(), payload);
}

#[test]
fn unary_empty_echo() {
    assert_eq!(manager().echo(Vec::new(), 0).unwrap(), Vec::<u8>::new());
}

#[test]
fn unary_on_a_position_channel() {
    let x1 = manager().open_position("X1").unwrap();
    assert_eq!(x1.echo(b"x1".to_vec(), 3).unwrap(), b"x1");
}

#[test]
fn server_stream_gives_exactly_count_messages() {
    let call = server_stream(&manager(), 5, 1000, 0, None);
    for sequence in 0..5 {
        let chunk = recv_chunk(&call);
        assert_eq!(chunk.sequence, sequence);
        assert_eq!(chunk.payload, vec![0x5a; 1000]);
    }
    assert_eq!(call.recv().unwrap(), None, "END_OF_STREAM after the 5th");
    // Once ended, the outcome repeats.
    assert_eq!(call.recv().unwrap(), None);
    // The call has ended: sending is refused.
    expect_failure(call.send(b"late"), Status::InvalidState, &[]);
}

#[test]
fn client_stream_summarises_the_chunks() {
    let call = manager().start(proto::CLIENT_STREAM, Some(Duration::from_secs(30))).unwrap();
    let sizes = [10usize, 2000, 300_000];
    for (i, size) in sizes.iter().enumerate() {
        call.send(&proto::chunk(vec![1; *size], i as u32)).unwrap();
    }
    call.close_send().unwrap();
    call.close_send().expect("close_send is idempotent");
    let summary: StreamSummary = proto::decode(&call.recv().unwrap().expect("the summary"));
    assert_eq!(summary.count, 3);
    assert_eq!(summary.bytes, sizes.iter().sum::<usize>() as u64);
    assert_eq!(call.recv().unwrap(), None);
}

#[test]
fn bidi_echo_ping_pong() {
    let call = manager().start(proto::BIDI_ECHO, Some(Duration::from_secs(30))).unwrap();
    for i in 0..10u32 {
        let payload = format!("ping {i}").into_bytes();
        call.send(&proto::chunk(payload.clone(), i)).unwrap();
        let pong = recv_chunk(&call);
        assert_eq!((pong.sequence, pong.payload), (i, payload));
    }
    call.close_send().unwrap();
    assert_eq!(call.recv().unwrap(), None);
}

#[test]
fn send_after_close_send_is_invalid_state() {
    let call = manager().start(proto::BIDI_ECHO, None).unwrap();
    call.close_send().unwrap();
    expect_failure(call.send(&proto::chunk(vec![1], 1)), Status::InvalidState, &["close"]);
    assert_eq!(call.recv().unwrap(), None);
}

#[test]
fn cancel_from_another_thread_wakes_recv() {
    let channel = manager();
    // One message an hour: recv blocks after the first.
    let call = Arc::new(server_stream(&channel, 2, 10, 3_600_000, None));
    assert_eq!(recv_chunk(&call).sequence, 0);
    let receiver = call.clone();
    let (started_tx, started_rx) = mpsc::channel();
    let blocked = thread::spawn(move || {
        let _ = started_tx.send(());
        let start = Instant::now();
        let outcome = receiver.recv();
        (outcome, start.elapsed())
    });
    started_rx.recv().unwrap();
    let cancelled_at = Instant::now();
    call.cancel();
    call.cancel(); // idempotent
    let (outcome, _) = bounded(JOIN_LIMIT, move || blocked.join().unwrap());
    let prompt = cancelled_at.elapsed();
    let failure = expect_failure(outcome, Status::Cancelled, &[]);
    assert!(prompt < Duration::from_secs(2), "recv took {prompt:?} to see the cancel");
    // The outcome sticks.
    assert_eq!(call.recv().unwrap_err().status, failure.status);
}

#[test]
fn free_cancels_a_running_call() {
    let channel = manager();
    let call = server_stream(&channel, 2, 10, 3_600_000, None);
    assert_eq!(recv_chunk(&call).sequence, 0);
    // Must return without waiting for the hour-long stream.
    bounded(JOIN_LIMIT, move || drop(call));
    assert_eq!(channel.echo(b"still fine".to_vec(), 1).unwrap(), b"still fine");
}

#[test]
fn message_over_the_limit_is_too_large() {
    let channel = manager();
    let big = vec![0u8; MAX_MESSAGE + 1];
    expect_failure(channel.unary(proto::ECHO, &big, None), Status::MessageTooLarge, &["16777217"]);
    let call = channel.start(proto::BIDI_ECHO, None).unwrap();
    expect_failure(call.send(&big), Status::MessageTooLarge, &["16777217"]);
    // The call is still usable after the refused message.
    call.send(&proto::chunk(b"ok".to_vec(), 1)).unwrap();
    assert_eq!(recv_chunk(&call).payload, b"ok");
}

#[test]
fn malformed_method_paths_are_invalid() {
    let channel = manager();
    for method in ["", "echo", "minknow_sim.TestService/echo", "/minknow_sim.TestService", "/a b/c"]
    {
        let unary = channel.unary(method, &[], None);
        assert_eq!(unary.unwrap_err().status, Status::InvalidArgument, "unary {method:?}");
        let start = channel.start(method, None);
        assert_eq!(start.unwrap_err().status, Status::InvalidArgument, "start {method:?}");
    }
}

#[test]
fn unknown_method_is_unimplemented() {
    let channel = manager();
    let method = "/minknow_sim.TestService/no_such_method";
    let failure = expect_failure(channel.unary(method, &[], None), Status::RpcFailed, &[method]);
    assert_eq!(failure.grpc, 12, "gRPC UNIMPLEMENTED");
    let call = channel.start("/minknow_sim.NoService/x", None).unwrap();
    call.close_send().unwrap();
    let failure = expect_failure(call.recv(), Status::RpcFailed, &["NoService"]);
    assert_eq!(failure.grpc, 12);
}

/// A streaming method called as unary: one reply is the contract, so two
/// (or none) are INTERNAL, not the first message passed off as the answer.
#[test]
fn unary_call_to_a_streaming_method_is_refused() {
    let channel = manager();
    let two = proto::stream_request(2, 10, 0);
    let failure = expect_failure(
        channel.unary(proto::SERVER_STREAM, &two, Some(Duration::from_secs(10))),
        Status::RpcFailed,
        &["more than one reply", proto::SERVER_STREAM],
    );
    assert_eq!(failure.grpc, 13, "gRPC INTERNAL");
    let none = proto::stream_request(0, 10, 0);
    let failure = expect_failure(
        channel.unary(proto::SERVER_STREAM, &none, Some(Duration::from_secs(10))),
        Status::RpcFailed,
        &["without a reply"],
    );
    assert_eq!(failure.grpc, 13);
    let one = proto::stream_request(1, 10, 0);
    let reply = channel.unary(proto::SERVER_STREAM, &one, Some(Duration::from_secs(10)));
    let chunk: proto::Chunk = proto::decode(&reply.expect("exactly one reply is a unary reply"));
    assert_eq!(chunk.payload.len(), 10);
}

#[test]
fn streaming_deadline_is_exceeded() {
    let call = server_stream(&manager(), 3, 10, 1000, Some(Duration::from_millis(200)));
    let start = Instant::now();
    assert_eq!(recv_chunk(&call).sequence, 0, "the first message comes at once");
    let failure = expect_failure(call.recv(), Status::DeadlineExceeded, &[]);
    assert_eq!(failure.grpc, 4, "gRPC DEADLINE_EXCEEDED");
    let waited = start.elapsed();
    assert!(waited < Duration::from_millis(900), "deadline honoured late: {waited:?}");
}

#[test]
fn unary_deadline_met_and_exceeded() {
    let channel = manager();
    let reply = channel.unary(
        proto::ECHO,
        &proto::chunk(b"in time".to_vec(), 1),
        Some(Duration::from_secs(5)),
    );
    assert_eq!(proto::decode::<Chunk>(&reply.unwrap()).payload, b"in time");
    // A server-streaming method called as unary: the first message comes at
    // once, the stream's end only after a second, so the deadline passes.
    let start = Instant::now();
    let request = proto::stream_request(2, 10, 1000);
    let failure = expect_failure(
        channel.unary(proto::SERVER_STREAM, &request, Some(Duration::from_millis(200))),
        Status::DeadlineExceeded,
        &[proto::SERVER_STREAM],
    );
    assert_eq!(failure.grpc, 4);
    assert!(start.elapsed() < Duration::from_millis(900), "took {:?}", start.elapsed());
}

#[test]
fn eight_threads_share_one_channel() {
    let channel = Arc::new(manager());
    let workers: Vec<_> = (0..8u32)
        .map(|t| {
            let channel = channel.clone();
            thread::spawn(move || {
                for i in 0..200u32 {
                    let payload = format!("thread {t} call {i}").into_bytes();
                    let echoed = channel.echo(payload.clone(), t * 1000 + i);
                    assert_eq!(echoed.expect("echo"), payload);
                }
            })
        })
        .collect();
    let results = bounded(Duration::from_secs(120), move || {
        workers.into_iter().map(|w| w.join().is_ok()).collect::<Vec<_>>()
    });
    assert_eq!(results, vec![true; 8], "a worker failed");
}

#[test]
fn child_outlives_its_parent() {
    let ready = &sim().ready;
    let parent = manager();
    let x1 = parent.open_position("X1").unwrap();
    drop(parent);
    assert_eq!(x1.position_version().unwrap().full, "6.3.7-sim X1");
    assert_eq!(x1.echo(b"orphan".to_vec(), 9).unwrap(), b"orphan");
    // It still carries the shared credentials to further children.
    let x2 = x1.open_port(ready.position_port("X2").into()).unwrap();
    assert_eq!(x2.whoami().client_certificate_subject, "minknow-sim client");
}

#[test]
fn streaming_call_outlives_its_channel() {
    let channel = manager();
    let call = server_stream(&channel, 3, 5, 0, None);
    drop(channel);
    for sequence in 0..3 {
        assert_eq!(recv_chunk(&call).sequence, sequence);
    }
    assert_eq!(call.recv().unwrap(), None);
}
