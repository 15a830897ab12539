//! Calls: raw protobuf bytes in and out, on any method path.
//!
//! [`unary`] makes one request and waits for its reply. [`Call`] serves
//! server-streaming, client-streaming and bidirectional calls alike (on the
//! wire they are the same HTTP/2 exchange; the method decides the shape):
//! `send`, `close_send`, `recv`, `cancel` from any thread, and the final
//! status from `recv`.

mod stream;

pub use stream::Call;

use std::time::Duration;

use bytes::Bytes;

use crate::channel::{failure, wire, Channel};
use crate::error::{Error, Result, Status};
use crate::log::{log_at, Level};

/// Check a method path given by a caller.
pub fn method_path(method: &str) -> Result<http::uri::PathAndQuery> {
    wire::method_path(method)
        .map_err(|why| Error::new(Status::InvalidArgument, format!("method {method:?}: {why}")))
}

/// Refuse a message over the limit before it reaches the wire.
pub fn check_size(len: usize, what: &str) -> Result<()> {
    if len > wire::MAX_MESSAGE_BYTES {
        return Err(Error::new(
            Status::MessageTooLarge,
            format!("{what} is {len} bytes, over the {} byte limit", wire::MAX_MESSAGE_BYTES),
        ));
    }
    Ok(())
}

/// One unary call. `timeout` bounds it (`None`: no deadline). A local token
/// refused with UNAUTHENTICATED is re-read, and the call retried once when
/// the token changed.
pub async fn unary(
    channel: &Channel,
    method: &str,
    request: Bytes,
    timeout: Option<Duration>,
) -> Result<Bytes> {
    let path = method_path(method)?;
    check_size(request.len(), "the request")?;
    let mut retried = false;
    loop {
        let metadata = channel.call_metadata();
        let result =
            wire::unary(channel.grpc(), path.clone(), request.clone(), metadata, timeout).await;
        match result {
            Ok(reply) => return Ok(reply),
            Err(status) => {
                let rejected = status.code() == tonic::Code::Unauthenticated;
                if rejected && !retried && channel.credentials().refresh_after_rejection() {
                    log_at!(Level::Info, "{method}: token refused, re-read, retrying once");
                    retried = true;
                    continue;
                }
                return Err(failure::from_status(&status, &channel.target(), method));
            }
        }
    }
}
