//! The one tokio runtime behind the blocking C API.
//!
//! Created lazily on first use. C callers block their own threads; the
//! runtime's workers only drive I/O. After `fork` the child has none of the
//! parent's threads, so the runtime is per process: a child gets a fresh
//! one, and handles made in the parent report `ForkedHandle` instead of
//! hanging on a runtime whose threads are gone.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, Once};

use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::{Error, Result, Status};

struct Current {
    pid: u32,
    runtime: Runtime,
}

static RUNTIME: Mutex<Option<Current>> = Mutex::new(None);

/// Worker threads, chosen by measurement (BENCHMARKS.md): one worker makes
/// a small unary call a little cheaper, but two let the HTTP/2 connection
/// task decrypt the next frames while a stream's task hands on the last
/// message (1 MiB stream: 381 vs 246 MB/s) and do TLS handshakes side by
/// side (48 positions in parallel: 32 vs 41 ms).
const WORKERS: usize = 2;

/// The runtime of this process, created on first use.
pub fn handle() -> Result<Handle> {
    let pid = process_id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(current) = slot.as_ref() {
        if current.pid == pid {
            return Ok(current.runtime.handle().clone());
        }
    }
    // A runtime from before a fork: its threads do not exist here, so it
    // cannot be shut down; leaking it is the only safe thing to do.
    if let Some(stale) = slot.take() {
        std::mem::forget(stale);
    }
    let runtime = build()?;
    let handle = runtime.handle().clone();
    *slot = Some(Current { pid, runtime });
    Ok(handle)
}

fn build() -> Result<Runtime> {
    Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name("minknow-auth-io")
        .on_thread_start(block_sigpipe)
        .enable_all()
        .build()
        .map_err(|e| Error::new(Status::Internal, format!("cannot start the I/O runtime: {e}")))
}

/// This process's id, cached: `getpid` is a system call, and every call
/// through the C API asks (twice). 0 means "not known yet".
static PID: AtomicU32 = AtomicU32::new(0);
static FORGET_PID_IN_CHILD: Once = Once::new();

extern "C" fn forget_pid() {
    // In the child of a fork: async-signal-safe, just a store.
    PID.store(0, Ordering::Relaxed);
}

/// A write to a socket the peer has closed raises SIGPIPE on the writing
/// thread unless the signal is blocked there (vectored writes have no
/// MSG_NOSIGNAL). The host program may keep SIGPIPE's default action
/// (terminate) or, like R, handle it in ways that must not run on our
/// threads, so the I/O threads block it and get EPIPE instead.
fn block_sigpipe() {
    // SAFETY: plain libc calls on a local signal set, for this thread only.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// The id of this process, recorded by handles to detect a fork.
pub fn process_id() -> u32 {
    let pid = PID.load(Ordering::Relaxed);
    if pid != 0 {
        return pid;
    }
    FORGET_PID_IN_CHILD.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic; fork()
        // runs it in the child, so the child asks the kernel again.
        unsafe { libc::pthread_atfork(None, None, Some(forget_pid)) };
    });
    let pid = std::process::id();
    PID.store(pid, Ordering::Relaxed);
    pid
}

/// Fails with `ForkedHandle` if a handle made in process `owner` is used
/// in another process.
pub fn check_same_process(owner: u32, what: &str) -> Result<()> {
    if owner == process_id() {
        return Ok(());
    }
    Err(Error::new(
        Status::ForkedHandle,
        format!("this {what} was created before the process forked; create a new one in the child"),
    ))
}

/// Run `future` to completion on the runtime, blocking the calling thread.
/// Must not be called from a runtime worker thread.
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output> {
    let handle = handle()?;
    if Handle::try_current().is_ok() {
        return Err(Error::new(
            Status::InvalidState,
            "a blocking call was made from inside an async runtime; use the async API there",
        ));
    }
    Ok(handle.block_on(future))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sigpipe_blocked_here() -> bool {
        // SAFETY: reads this thread's signal mask into a local set.
        unsafe {
            let mut current: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut current);
            libc::sigismember(&current, libc::SIGPIPE) == 1
        }
    }

    #[test]
    fn io_threads_block_sigpipe() {
        let handle = handle().unwrap();
        let on_worker = std::thread::spawn(move || {
            handle.block_on(async { tokio::spawn(async { sigpipe_blocked_here() }).await })
        });
        assert!(on_worker.join().unwrap().unwrap(), "SIGPIPE is not blocked on an I/O thread");
    }
}
