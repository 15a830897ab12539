//! Turning tonic's errors into ours: tonic's `Display` is often only
//! "transport error", so walk the source chain for the words a user needs,
//! and find our own dial errors to keep the phase and status.

use std::error::Error as StdError;

use super::connector::DialError;
use crate::error::{Error, Status};

/// Every message in the source chain of `err`, joined, without repeats.
pub fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Our dial error, if one is somewhere in the source chain.
pub fn find_dial_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a DialError> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(dial) = e.downcast_ref::<DialError>() {
            return Some(dial);
        }
        next = e.source();
    }
    None
}

/// How TLS ended the connection under a call (after the handshake).
#[derive(Debug, PartialEq, Eq)]
pub enum TlsEnd {
    /// rustls reported an error, such as the server's fatal alert.
    Error(String),
    /// The peer closed or reset the connection without a TLS alert (the
    /// client sees an EOF or, while writing, a broken pipe or a reset).
    Closed,
}

/// Whether the connection ended under TLS, from a call's error chain. An
/// `io::Error`'s `source()` skips the error it wraps, so look inside each.
pub fn tls_end(err: &(dyn StdError + 'static)) -> Option<TlsEnd> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(TlsEnd::Error(tls.to_string()));
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(end) = io_end(io) {
                return Some(end);
            }
        }
        // h2's error has no `source()`: its I/O error is only reachable
        // through `get_io` (a stream whose connection dropped ends here).
        if let Some(io) = e.downcast_ref::<h2::Error>().and_then(h2::Error::get_io) {
            if let Some(end) = io_end(io) {
                return Some(end);
            }
        }
        next = e.source();
    }
    None
}

fn io_end(io: &std::io::Error) -> Option<TlsEnd> {
    if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return Some(TlsEnd::Error(tls.to_string()));
    }
    // h2 keeps only the kind and text of an I/O error, so a server's alert
    // reaches a call as InvalidData with rustls's words.
    if let Some(text) = received_alert_text(io) {
        return Some(TlsEnd::Error(text));
    }
    use std::io::ErrorKind::{BrokenPipe, ConnectionReset, UnexpectedEof};
    matches!(io.kind(), UnexpectedEof | BrokenPipe | ConnectionReset).then_some(TlsEnd::Closed)
}

/// rustls's text for a fatal alert from the peer ("received fatal alert:
/// UnknownCA"), when that is all an I/O error still holds.
fn received_alert_text(io: &std::io::Error) -> Option<String> {
    if io.kind() != std::io::ErrorKind::InvalidData {
        return None;
    }
    let text = io.get_ref()?.to_string();
    text.starts_with("received fatal alert: ").then_some(text)
}

/// An error from establishing a connection to `target` (`host:port`).
pub fn from_transport(err: &tonic::transport::Error, target: &str) -> Error {
    if let Some(dial) = find_dial_error(err) {
        return Error::new(dial.status, format!("{target}: {dial}"));
    }
    Error::new(
        Status::Http2Failed,
        format!(
            "{target}: HTTP/2 failed after TLS: {}; is this a MinKNOW gRPC port?",
            chain_text(err)
        ),
    )
}

/// An error from a call to `method` on `target` that ended with `status`.
pub fn from_status(status: &tonic::Status, target: &str, method: &str) -> Error {
    if let Some(dial) = status.source().and_then(|s| find_dial_error(s)) {
        return Error::with_grpc(dial.status, status.code(), format!("{target}: {dial}"));
    }
    // Over TLS 1.3 a server refuses a client certificate after the client's
    // handshake is over, so its alert arrives under the first call.
    if let Some(TlsEnd::Error(why)) = status.source().and_then(tls_end) {
        return Error::with_grpc(
            Status::TlsFailed,
            status.code(),
            format!("{target} {method}: TLS failed after the handshake: {why}"),
        );
    }
    // The connection dropped under the call (the server was killed, or
    // drained after a GOAWAY and closed): tonic says UNKNOWN, or CANCELLED
    // when hyper saw the connection close before the request went out
    // (nothing else cancels a call locally: a stream's own cancel does not
    // come through here). gRPC C-core says UNAVAILABLE, what callers retry on.
    let closed = match status.code() {
        tonic::Code::Unknown | tonic::Code::Internal => {
            status.source().and_then(tls_end) == Some(TlsEnd::Closed)
        }
        tonic::Code::Cancelled => status.source().is_some(),
        _ => false,
    };
    if closed {
        let why = status.source().map(chain_text).unwrap_or_default();
        return Error::with_grpc(
            Status::Unavailable,
            tonic::Code::Unavailable,
            format!("{target} {method}: UNAVAILABLE: the connection was lost: {why}"),
        );
    }
    let code = status.code();
    let ours = match code {
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => Status::Unauthenticated,
        tonic::Code::Cancelled => Status::Cancelled,
        tonic::Code::DeadlineExceeded => Status::DeadlineExceeded,
        tonic::Code::Unavailable => Status::Unavailable,
        tonic::Code::ResourceExhausted if status.message().contains("message length too large") => {
            Status::MessageTooLarge
        }
        tonic::Code::OutOfRange if status.message().contains("message length too large") => {
            Status::MessageTooLarge
        }
        _ => Status::RpcFailed,
    };
    let mut text = status.message().to_owned();
    if let Some(source) = status.source() {
        let more = chain_text(source);
        if !text.contains(&more) {
            text = if text.is_empty() { more } else { format!("{text}: {more}") };
        }
    }
    if text.is_empty() {
        text = "(no message)".to_owned();
    }
    Error::with_grpc(ours, code, format!("{target} {method}: {}: {text}", code_name(code)))
}

/// gRPC's own upper-case name for a status code.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Whether a failure of the first call is worth retrying (the reference
/// client retries UNAVAILABLE and GOAWAY); a certificate problem is not.
pub fn is_retryable(err: &Error) -> bool {
    matches!(err.status(), Status::Unavailable | Status::ConnectFailed | Status::Http2Failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// An error whose source is `inner`, as hyper wraps the I/O error.
    #[derive(Debug)]
    struct Wrapper(io::Error);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("connection error")
        }
    }

    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn tls_end_finds_the_rustls_error_inside_an_io_error() {
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA);
        let err = Wrapper(io::Error::new(io::ErrorKind::InvalidData, alert));
        assert_eq!(tls_end(&err), Some(TlsEnd::Error("received fatal alert: UnknownCA".into())));
    }

    /// What a call sees when a rustls server refuses the client
    /// certificate: h2 has turned the rustls error into its text.
    #[test]
    fn tls_end_finds_an_alert_that_h2_turned_into_text() {
        let text = "received fatal alert: UnknownCA";
        let err = Wrapper(io::Error::new(io::ErrorKind::InvalidData, text));
        assert_eq!(tls_end(&err), Some(TlsEnd::Error(text.into())));
        let other = Wrapper(io::Error::new(io::ErrorKind::InvalidData, "frame too big"));
        assert_eq!(tls_end(&other), None);
    }

    /// What a stream sees when the server is killed under it: hyper's body
    /// error over the TLS EOF, which tonic reports as UNKNOWN.
    #[test]
    fn a_connection_lost_under_a_call_is_unavailable() {
        for kind in [io::ErrorKind::UnexpectedEof, io::ErrorKind::ConnectionReset] {
            let eof = Wrapper(io::Error::new(kind, "peer closed connection"));
            let status = tonic::Status::from_error(Box::new(eof));
            assert_eq!(status.code(), tonic::Code::Unknown);
            let err = from_status(&status, "127.0.0.1:9502", "/a.B/c");
            assert_eq!(err.status(), Status::Unavailable, "{kind:?}: {}", err.message());
            assert_eq!(err.grpc(), Some(tonic::Code::Unavailable));
            assert!(err.message().starts_with("127.0.0.1:9502 /a.B/c: UNAVAILABLE"));
            assert!(err.message().contains("peer closed connection"), "{}", err.message());
        }
        // hyper's "connection closed" before the request went out.
        let mut status = tonic::Status::cancelled("operation was canceled");
        status.set_source(std::sync::Arc::new(Wrapper(io::Error::other("connection closed"))));
        assert_eq!(from_status(&status, "h:1", "/a.B/c").status(), Status::Unavailable);
        // A status the server sent has no source: its code stands.
        let sent = tonic::Status::unknown("handler failed");
        assert_eq!(from_status(&sent, "h:1", "/a.B/c").status(), Status::RpcFailed);
        let sent = tonic::Status::cancelled("server gave up");
        assert_eq!(from_status(&sent, "h:1", "/a.B/c").status(), Status::Cancelled);
    }

    #[test]
    fn tls_end_sees_a_closed_connection() {
        for kind in [io::ErrorKind::UnexpectedEof, io::ErrorKind::BrokenPipe] {
            let err = Wrapper(io::Error::new(kind, "peer closed connection"));
            assert_eq!(tls_end(&err), Some(TlsEnd::Closed), "{kind:?}");
        }
        let other = Wrapper(io::Error::new(io::ErrorKind::InvalidInput, "something else"));
        assert_eq!(tls_end(&other), None);
    }
}
