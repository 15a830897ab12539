//! The receive queue of a streaming call is bounded by bytes: messages
//! bigger than the whole budget still pass, one at a time, to a reader
//! that pauses between them; many small messages all arrive in order.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::proto::{self, Chunk};
use common::{Channel, Options, SimBuilder};

const LIMIT: Duration = Duration::from_secs(60);

fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(LIMIT).unwrap_or_else(|_| panic!("did not finish within {LIMIT:?}"))
}

fn stream(channel: &Channel, count: u32, size: u32) -> Vec<Chunk> {
    let call = channel.start(proto::SERVER_STREAM, Some(LIMIT)).expect("start");
    call.send(&proto::stream_request(count, size, 0)).expect("send");
    call.close_send().expect("close_send");
    let mut chunks = Vec::new();
    while let Some(message) = call.recv().expect("recv") {
        // A reader that lags: the task waits for budget, then goes on.
        if (chunks.len() % 2 == 0 && size > (1 << 20)) || chunks.len() % 500 == 0 {
            thread::sleep(Duration::from_millis(5));
        }
        chunks.push(proto::decode(&message));
    }
    chunks
}

#[test]
fn big_and_small_messages_all_arrive_in_order() {
    let sim = SimBuilder::auth("client-cert").start();
    let ready = &sim.ready;
    let options = Options::new().ca(&ready.ca).cert(&ready.client_certificate, &ready.client_key);
    let channel =
        Channel::connect("127.0.0.1", ready.manager_port.into(), &options).expect("connect");
    let (big, small) = bounded(move || (stream(&channel, 6, 3 << 20), stream(&channel, 3000, 10)));
    assert_eq!(big.len(), 6);
    assert!(big.iter().all(|c| c.payload.len() == 3 << 20));
    assert_eq!(small.len(), 3000);
    assert!(small
        .iter()
        .enumerate()
        .all(|(i, c)| c.sequence as usize == i && c.payload.len() == 10));
}
