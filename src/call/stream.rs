//! The streaming call object.
//!
//! A task on the runtime drives the exchange: it sends what `send` queues
//! and queues what the server sends for `recv`. Both queues are bounded (the
//! receiving one by bytes), so a slow reader slows the server down (HTTP/2
//! flow control) instead of growing memory. `cancel` aborts the task, which resets the HTTP/2 stream
//! and wakes a blocked `recv`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use super::{check_size, method_path};
use crate::channel::{failure, wire, Channel};
use crate::error::{Error, Result, Status};
use crate::runtime;

/// Messages queued for sending before `send` waits.
const QUEUE_DEPTH: usize = 4;

/// Bytes of received messages queued for `recv` before the task stops
/// reading (then HTTP/2 flow control holds the server back). Counted in
/// bytes, not messages: a depth of 4 let 1 KiB messages through one at a
/// time, each a wake-up of a sleeping thread on both sides.
const RECV_BUDGET: usize = 1 << 20;
/// Freed budget goes back to the task in pieces this big, so a reader that
/// keeps up does not wake the task for every message.
const RECV_RELEASE: usize = RECV_BUDGET / 4;

/// What one message counts against the budget: its size (at most the whole
/// budget, so a message bigger than it still passes) and a floor, so empty
/// messages are bounded too.
fn cost(message: &Bytes) -> usize {
    message.len().clamp(64, RECV_BUDGET)
}

type Incoming = std::result::Result<Bytes, Error>;

/// A streaming call. Safe to share between threads: `send`/`close_send`
/// from one, `recv` from another, `cancel` from any.
pub struct Call {
    method: String,
    target: String,
    outgoing: Mutex<Option<mpsc::Sender<Bytes>>>,
    incoming: Mutex<Receiver>,
    cancelled: AtomicBool,
    task: JoinHandle<()>,
    pid: u32,
}

struct Receiver {
    queue: mpsc::UnboundedReceiver<Incoming>,
    budget: Arc<Semaphore>,
    /// Budget taken by messages already handed to the caller, not yet
    /// given back to the task.
    unreleased: usize,
    /// Set once the stream has ended: `None` for a clean end.
    finished: Option<Option<Error>>,
}

impl Call {
    /// Start a call to `method`. Returns at once; the request goes out in
    /// the background. `timeout` bounds the whole call.
    pub fn start(channel: &Channel, method: &str, timeout: Option<Duration>) -> Result<Call> {
        let path = method_path(method)?;
        let handle = runtime::handle()?;
        let (out_tx, out_rx) = mpsc::channel::<Bytes>(QUEUE_DEPTH);
        let (in_tx, in_rx) = mpsc::unbounded_channel::<Incoming>();
        let budget = Arc::new(Semaphore::new(RECV_BUDGET));
        let incoming = IncomingQueue { queue: in_tx, budget: budget.clone() };
        let exchange = Exchange {
            channel: channel.clone(),
            path,
            method: method.to_owned(),
            target: channel.target(),
            timeout,
        };
        let task = handle.spawn(exchange.run(out_rx, incoming));
        Ok(Call {
            method: method.to_owned(),
            target: channel.target(),
            outgoing: Mutex::new(Some(out_tx)),
            incoming: Mutex::new(Receiver { queue: in_rx, budget, unreleased: 0, finished: None }),
            cancelled: AtomicBool::new(false),
            task,
            pid: runtime::process_id(),
        })
    }

    /// Queue one message; blocks while the send queue is full.
    pub fn send(&self, message: Bytes) -> Result<()> {
        runtime::check_same_process(self.pid, "call")?;
        check_size(message.len(), "the message")?;
        let sender = lock(&self.outgoing).clone();
        let Some(sender) = sender else {
            return Err(self.state_error("send after close_send"));
        };
        if self.cancelled.load(Ordering::SeqCst) {
            return Err(self.cancelled_error());
        }
        sender
            .blocking_send(message)
            .map_err(|_| self.state_error("the call has ended; recv returns its final status"))
    }

    /// Say that no more messages will be sent. Idempotent.
    pub fn close_send(&self) -> Result<()> {
        runtime::check_same_process(self.pid, "call")?;
        lock(&self.outgoing).take();
        Ok(())
    }

    /// The next message, `Ok(None)` at a clean end of the stream, or the
    /// error the call ended with. Blocks until one of these. After the end,
    /// every further `recv` returns the same outcome.
    pub fn recv(&self) -> Result<Option<Bytes>> {
        runtime::check_same_process(self.pid, "call")?;
        let mut receiver = lock(&self.incoming);
        if let Some(finished) = &receiver.finished {
            return finished.clone().map_or(Ok(None), Err);
        }
        let next = match receiver.queue.try_recv() {
            Ok(item) => Some(item),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
            Err(mpsc::error::TryRecvError::Empty) => {
                // About to sleep: give back all the budget first, or a big
                // message could wait for budget that only this thread holds.
                let freed = std::mem::take(&mut receiver.unreleased);
                if freed > 0 {
                    receiver.budget.add_permits(freed);
                }
                receiver.queue.blocking_recv()
            }
        };
        let outcome = match next {
            Some(Ok(message)) => {
                receiver.unreleased += cost(&message);
                if receiver.unreleased >= RECV_RELEASE {
                    let freed = std::mem::take(&mut receiver.unreleased);
                    receiver.budget.add_permits(freed);
                }
                return Ok(Some(message));
            }
            Some(Err(err)) => Some(err),
            None if self.cancelled.load(Ordering::SeqCst) => Some(self.cancelled_error()),
            None => None,
        };
        receiver.finished = Some(outcome.clone());
        outcome.map_or(Ok(None), Err)
    }

    /// Cancel the call: the server sees the stream reset, and a `recv`
    /// blocked in another thread returns `Cancelled`. Never blocks;
    /// idempotent; does nothing once the call has ended.
    pub fn cancel(&self) {
        if !self.task.is_finished() {
            self.cancelled.store(true, Ordering::SeqCst);
        }
        self.task.abort();
    }

    /// The process this call was made in (it is unusable after a fork).
    pub fn process_id(&self) -> u32 {
        self.pid
    }

    fn cancelled_error(&self) -> Error {
        Error::with_grpc(
            Status::Cancelled,
            tonic::Code::Cancelled,
            format!("{} {}: cancelled by the caller", self.target, self.method),
        )
    }

    fn state_error(&self, why: &str) -> Error {
        Error::new(Status::InvalidState, format!("{} {}: {why}", self.target, self.method))
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        // Freeing a call that is still running cancels it.
        self.task.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The guarded values are replaced whole, never left half-written.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The task's end of the receive queue: messages wait for budget first.
struct IncomingQueue {
    queue: mpsc::UnboundedSender<Incoming>,
    budget: Arc<Semaphore>,
}

impl IncomingQueue {
    /// Queue `message` once the budget allows; false if the call was freed.
    async fn push(&self, message: Bytes) -> bool {
        // The budget is never closed and never asked for more than it holds.
        match self.budget.acquire_many(cost(&message) as u32).await {
            Ok(permit) => permit.forget(),
            Err(_) => return false,
        }
        self.queue.send(Ok(message)).is_ok()
    }
}

/// What the background task needs to run the exchange.
struct Exchange {
    channel: Channel,
    path: http::uri::PathAndQuery,
    method: String,
    target: String,
    timeout: Option<Duration>,
}

impl Exchange {
    async fn run(self, outgoing: mpsc::Receiver<Bytes>, incoming: IncomingQueue) {
        let timeout = self.timeout;
        let ended = match timeout {
            None => self.exchange(outgoing, &incoming).await,
            Some(t) => match tokio::time::timeout(t, self.exchange(outgoing, &incoming)).await {
                Ok(ended) => ended,
                Err(_) => Err(Error::with_grpc(
                    Status::DeadlineExceeded,
                    tonic::Code::DeadlineExceeded,
                    format!("the call did not finish within {t:?}"),
                )),
            },
        };
        if let Err(err) = ended {
            // The receiver may be gone (call freed); nothing to tell then.
            let _ = incoming.queue.send(Err(err));
        }
    }

    async fn exchange(
        &self,
        outgoing: mpsc::Receiver<Bytes>,
        incoming: &IncomingQueue,
    ) -> Result<()> {
        let mut grpc = wire::client(self.channel.grpc());
        let mut request = tonic::Request::new(ReceiverStream::new(outgoing));
        *request.metadata_mut() = self.channel.call_metadata();
        if let Some(t) = self.timeout {
            request.set_timeout(t);
        }
        grpc.ready().await.map_err(|e| self.fail(&tonic::Status::from_error(e.into())))?;
        let response = grpc
            .streaming(request, self.path.clone(), wire::RawCodec)
            .await
            .map_err(|s| self.fail(&s))?;
        let mut messages = response.into_inner();
        while let Some(item) = messages.next().await {
            let message = item.map_err(|s| self.fail(&s))?;
            if !incoming.push(message).await {
                return Ok(()); // the call was freed
            }
        }
        Ok(())
    }

    fn fail(&self, status: &tonic::Status) -> Error {
        if status.code() == tonic::Code::Unauthenticated {
            // A stream cannot be replayed, but the next call should carry
            // the token MinKNOW has rotated to.
            self.channel.credentials().refresh_after_rejection();
        }
        failure::from_status(status, &self.target, &self.method)
    }
}
