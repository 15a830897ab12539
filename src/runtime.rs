//! The one tokio runtime behind the blocking C API.
//!
//! Created lazily on first use. C callers block their own threads; the
//! runtime's workers only drive I/O. After `fork` the child has none of the
//! parent's threads, so the runtime is per process: a child gets a fresh
//! one, and handles made in the parent report `ForkedHandle` instead of
//! hanging on a runtime whose threads are gone.

use std::sync::Mutex;

use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::{Error, Result, Status};

struct Current {
    pid: u32,
    runtime: Runtime,
}

static RUNTIME: Mutex<Option<Current>> = Mutex::new(None);

/// Worker threads: I/O only, so two are plenty even for many channels.
const WORKERS: usize = 2;

/// The runtime of this process, created on first use.
pub fn handle() -> Result<Handle> {
    let pid = std::process::id();
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
        .enable_all()
        .build()
        .map_err(|e| Error::new(Status::Internal, format!("cannot start the I/O runtime: {e}")))
}

/// The id of this process, recorded by handles to detect a fork.
pub fn process_id() -> u32 {
    std::process::id()
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
