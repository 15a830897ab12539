//! The one error type of the library, and the status codes the C ABI returns.
//!
//! Every failure carries a stable [`Status`], the gRPC status code when a
//! call produced one, and a message that names the file, variable, host or
//! port at fault. Messages never contain a token, a key or a certificate.

use std::fmt;

/// Status codes returned by every fallible C function.
///
/// Codes are grouped by origin and never reused: a retired code stays
/// reserved. `MINKNOW_STATUS_OK` and `MINKNOW_STATUS_END_OF_STREAM` are the
/// only codes that are not errors.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Success.
    Ok = 0,
    /// A stream ended normally: there are no more messages.
    EndOfStream = 1,

    /// A required pointer argument was NULL.
    NullArgument = 100,
    /// An argument was malformed: not UTF-8, a port out of range, a method
    /// path that is not `/package.Service/method`, an empty string.
    InvalidArgument = 101,
    /// The call is in a state that does not allow this operation (for
    /// example `send` after `close_send`).
    InvalidState = 102,
    /// The handle was created before this process forked; make a new one.
    ForkedHandle = 103,

    /// A file could not be read: missing, unreadable, or a directory.
    FileError = 200,
    /// Certificate material is unusable: not PEM, truncated, empty, expired
    /// client certificate, or a private key where a certificate belongs.
    BadCertificate = 201,
    /// Private key material is unusable: not PEM, unsupported algorithm,
    /// or a certificate where a key belongs.
    BadKey = 202,
    /// The private key is encrypted; MinKNOW clients need it unencrypted.
    EncryptedKey = 203,
    /// The private key does not belong to the first certificate of the
    /// chain.
    KeyMismatch = 204,
    /// No trusted CA certificate could be found or read.
    NoTrustedCa = 205,
    /// The local authentication token file is malformed.
    BadTokenFile = 206,
    /// PEM bytes were expected but the bytes look like a file path.
    PemLooksLikePath = 207,
    /// Only one of a certificate chain and its key was given.
    IncompleteIdentity = 208,

    /// TCP connection failed: refused, unreachable, reset, or no answer
    /// within the connect deadline.
    ConnectFailed = 300,
    /// The TLS handshake failed for a reason other than the server's
    /// certificate (for example the peer is not speaking TLS).
    TlsFailed = 301,
    /// The server's certificate was not trusted: unknown CA, bad signature,
    /// expired, or not valid for the expected name.
    CertificateVerifyFailed = 302,
    /// The connection closed before HTTP/2 was established, or the peer is
    /// not a gRPC server.
    Http2Failed = 303,
    /// The connect deadline passed.
    Timeout = 304,

    /// A call ended with a gRPC status other than OK; see the error's gRPC
    /// status.
    RpcFailed = 400,
    /// The server rejected the credentials (gRPC UNAUTHENTICATED or
    /// PERMISSION_DENIED).
    Unauthenticated = 401,
    /// The call was cancelled by the caller.
    Cancelled = 402,
    /// The call's deadline passed.
    DeadlineExceeded = 403,
    /// The server was unavailable (gRPC UNAVAILABLE).
    Unavailable = 404,
    /// A message was larger than the 16 MiB limit.
    MessageTooLarge = 405,
    /// A response from the manager could not be decoded.
    BadResponse = 406,

    /// No flow cell position has that name.
    PositionNotFound = 500,
    /// The position exists but is not running, so it has no port.
    PositionNotRunning = 501,
    /// The manager reported no basecaller port.
    NoBasecaller = 502,

    /// A bug in the library: a panic was caught at the C boundary.
    Panic = 900,
    /// A bug in the library or its environment (for example the runtime
    /// could not start).
    Internal = 901,
}

impl Status {
    /// A short, stable, lower-case name for the status.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::EndOfStream => "end of stream",
            Status::NullArgument => "null argument",
            Status::InvalidArgument => "invalid argument",
            Status::InvalidState => "invalid state",
            Status::ForkedHandle => "handle inherited across fork",
            Status::FileError => "file error",
            Status::BadCertificate => "bad certificate",
            Status::BadKey => "bad private key",
            Status::EncryptedKey => "encrypted private key",
            Status::KeyMismatch => "key does not match certificate",
            Status::NoTrustedCa => "no trusted CA",
            Status::BadTokenFile => "bad token file",
            Status::PemLooksLikePath => "PEM bytes look like a path",
            Status::IncompleteIdentity => "incomplete client identity",
            Status::ConnectFailed => "connect failed",
            Status::TlsFailed => "TLS handshake failed",
            Status::CertificateVerifyFailed => "server certificate not trusted",
            Status::Http2Failed => "HTTP/2 failed",
            Status::Timeout => "timed out",
            Status::RpcFailed => "call failed",
            Status::Unauthenticated => "unauthenticated",
            Status::Cancelled => "cancelled",
            Status::DeadlineExceeded => "deadline exceeded",
            Status::Unavailable => "unavailable",
            Status::MessageTooLarge => "message too large",
            Status::BadResponse => "bad response",
            Status::PositionNotFound => "position not found",
            Status::PositionNotRunning => "position not running",
            Status::NoBasecaller => "no basecaller",
            Status::Panic => "panic",
            Status::Internal => "internal error",
        }
    }
}

/// An error: a status, the gRPC status code when a call produced one, and a
/// message naming what is at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    status: Status,
    grpc: Option<tonic::Code>,
    message: String,
}

impl Error {
    /// An error with no gRPC status.
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Error { status, grpc: None, message: message.into() }
    }

    /// An error that carries the gRPC status a call ended with.
    pub fn with_grpc(status: Status, grpc: tonic::Code, message: impl Into<String>) -> Self {
        Error { status, grpc: Some(grpc), message: message.into() }
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn grpc(&self) -> Option<tonic::Code> {
        self.grpc
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `context` in front of its message, e.g. the
    /// host and port or the option it came from.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.status.name())
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
