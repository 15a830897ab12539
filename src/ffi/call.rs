//! Calls: unary, and the streaming call object.

use std::ffi::c_char;
use std::time::Duration;

use bytes::Bytes;

use super::boundary::{bytes, handle, out, run, run_infallible, text};
use super::buffer::minknow_buffer;
use super::channel::{channel_arg, minknow_channel};
use super::error::minknow_error;
use crate::call::{self, Call};
use crate::error::{Result, Status};
use crate::runtime;

/// A streaming call (server-streaming, client-streaming or bidirectional).
/// `send`/`close_send` may run on one thread while `recv` blocks on
/// another, and `minknow_call_cancel` may come from any thread. Free with
/// `minknow_call_free` once no other thread uses it.
pub struct minknow_call {
    call: Call,
}

/// The largest message the library sends or receives (16 MiB), as the
/// reference client sets it.
pub const MINKNOW_MAX_MESSAGE_BYTES: u32 = 16 * 1024 * 1024;

fn timeout(ms: u32) -> Option<Duration> {
    (ms != 0).then(|| Duration::from_millis(u64::from(ms)))
}

/// Make a unary call to `method` ("/package.Service/method") with the
/// `request_len` bytes of serialized protobuf at `request` (NULL allowed
/// when the length is 0; copied), waiting at most `timeout_ms` (0: no
/// deadline). The channel's token goes with it; a rejected local token is
/// re-read and the call retried once. On success `*out_reply` owns the
/// reply bytes. A server that answers with no message or with more than one
/// (a streaming method called as unary) gives RPC_FAILED, gRPC INTERNAL. Blocks until the reply, the deadline, or failure.
/// Errors: NULL_ARGUMENT, INVALID_ARGUMENT (method), MESSAGE_TOO_LARGE,
/// FORKED_HANDLE, UNAUTHENTICATED, UNAVAILABLE, DEADLINE_EXCEEDED,
/// CANCELLED, RPC_FAILED (see `minknow_error_grpc_status`).
#[no_mangle]
pub extern "C" fn minknow_unary(
    channel: *const minknow_channel,
    method: *const c_char,
    request: *const u8,
    request_len: usize,
    timeout_ms: u32,
    out_reply: *mut *mut minknow_buffer,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let channel = channel_arg(channel, "channel")?;
        let method = text(method, "method")?;
        let request = Bytes::copy_from_slice(bytes(request, request_len, "request")?);
        let slot = out(out_reply, "out_reply")?;
        let reply = runtime::block_on(call::unary(channel, method, request, timeout(timeout_ms)))??;
        *slot = minknow_buffer::into_raw(reply);
        Ok(())
    })
}

/// Start a streaming call to `method`, bounded by `timeout_ms` (0: no
/// deadline). Returns at once: the request goes out in the background. For
/// a server-streaming method, send the one request then close the sending
/// side. On success `*out_call` owns the call. Errors: NULL_ARGUMENT,
/// INVALID_ARGUMENT, FORKED_HANDLE. Failures of the call itself are
/// reported by `minknow_call_recv`.
#[no_mangle]
pub extern "C" fn minknow_call_start(
    channel: *const minknow_channel,
    method: *const c_char,
    timeout_ms: u32,
    out_call: *mut *mut minknow_call,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let channel = channel_arg(channel, "channel")?;
        let method = text(method, "method")?;
        let slot = out(out_call, "out_call")?;
        let call = Call::start(channel, method, timeout(timeout_ms))?;
        *slot = Box::into_raw(Box::new(minknow_call { call }));
        Ok(())
    })
}

fn call_arg<'a>(call: *const minknow_call) -> Result<&'a Call> {
    handle(call, "call").map(|c| &c.call)
}

/// Send one message (`len` bytes at `data`, copied). Blocks while the
/// send queue is full (the server applies flow control). Errors:
/// NULL_ARGUMENT, MESSAGE_TOO_LARGE, INVALID_STATE (after close_send, or
/// the call has ended: `minknow_call_recv` gives its final status),
/// CANCELLED, FORKED_HANDLE.
#[no_mangle]
pub extern "C" fn minknow_call_send(
    call: *const minknow_call,
    data: *const u8,
    len: usize,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let call = call_arg(call)?;
        let message = Bytes::copy_from_slice(bytes(data, len, "data")?);
        call.send(message)
    })
}

/// Close the sending side: no more messages will be sent. Idempotent.
/// Never blocks. Errors: NULL_ARGUMENT, FORKED_HANDLE.
#[no_mangle]
pub extern "C" fn minknow_call_close_send(
    call: *const minknow_call,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || call_arg(call)?.close_send())
}

/// Receive the next message. Returns MINKNOW_STATUS_OK with `*out_message`
/// owning the bytes; MINKNOW_STATUS_END_OF_STREAM with `*out_message` NULL
/// when the server ended the call with OK; or the error the call ended
/// with (CANCELLED after `minknow_call_cancel`, DEADLINE_EXCEEDED,
/// UNAUTHENTICATED, UNAVAILABLE, RPC_FAILED, ...). Once ended, every
/// further call returns the same outcome. Blocks until a message arrives
/// or the call ends.
#[no_mangle]
pub extern "C" fn minknow_call_recv(
    call: *const minknow_call,
    out_message: *mut *mut minknow_buffer,
    err: *mut *mut minknow_error,
) -> Status {
    let mut ended = false;
    let status = run(err, || {
        let call = call_arg(call)?;
        let slot = out(out_message, "out_message")?;
        match call.recv()? {
            Some(message) => *slot = minknow_buffer::into_raw(message),
            None => ended = true,
        }
        Ok(())
    });
    if ended {
        Status::EndOfStream
    } else {
        status
    }
}

/// Cancel the call from any thread: the server sees the stream reset and a
/// blocked `minknow_call_recv` returns CANCELLED. Never blocks; idempotent;
/// does nothing after the call has ended or when `call` is NULL.
#[no_mangle]
pub extern "C" fn minknow_call_cancel(call: *const minknow_call) {
    run_infallible((), || {
        if let Ok(call) = call_arg(call) {
            call.cancel();
        }
    });
}

/// Free a call, cancelling it if it is still running. NULL is ignored.
/// Must not be called while another thread uses the call.
#[no_mangle]
pub extern "C" fn minknow_call_free(call: *mut minknow_call) {
    if !call.is_null() {
        run_infallible((), || {
            // SAFETY: the pointer came from Box::into_raw and is freed once.
            let boxed = unsafe { Box::from_raw(call) };
            if boxed.call.process_id() != runtime::process_id() {
                // Inherited across fork: cancelling would wake threads that
                // do not exist in this process. Leak it instead.
                std::mem::forget(boxed);
            }
        });
    }
}
