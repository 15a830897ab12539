//! `minknow_error`: what went wrong, for programs and for people.

use std::ffi::{c_char, CString};

use super::boundary::{c_string, run_infallible};
use crate::error::{Error, Status};

/// An error: a status, the gRPC status code when a call produced one, and
/// a message naming the file, variable, host or port at fault. Owned by
/// the caller; free with `minknow_error_free`. Immutable, so it may be
/// read from several threads at once.
pub struct minknow_error {
    error: Error,
    message: CString,
}

impl minknow_error {
    pub(crate) fn into_raw(error: Error) -> *mut minknow_error {
        let message = c_string(error.message());
        Box::into_raw(Box::new(minknow_error { error, message }))
    }
}

/// The status of `error`. `MINKNOW_STATUS_NULL_ARGUMENT` if `error` is NULL.
/// Never blocks.
#[no_mangle]
pub extern "C" fn minknow_error_status(error: *const minknow_error) -> Status {
    run_infallible(Status::Panic, || {
        // SAFETY: NULL or a live error object.
        unsafe { error.as_ref() }.map_or(Status::NullArgument, |e| e.error.status())
    })
}

/// The gRPC status code (0-16) the call ended with, or -1 when the error
/// did not come from a gRPC status (or `error` is NULL). Never blocks.
#[no_mangle]
pub extern "C" fn minknow_error_grpc_status(error: *const minknow_error) -> i32 {
    run_infallible(-1, || {
        // SAFETY: NULL or a live error object.
        unsafe { error.as_ref() }.and_then(|e| e.error.grpc()).map_or(-1, |c| c as i32)
    })
}

/// The message, NUL-terminated UTF-8, borrowed from `error` (valid until
/// `minknow_error_free`). Never holds a token, key or certificate. Returns
/// an empty string if `error` is NULL. Never blocks.
#[no_mangle]
pub extern "C" fn minknow_error_message(error: *const minknow_error) -> *const c_char {
    run_infallible(c"".as_ptr(), || {
        // SAFETY: NULL or a live error object.
        unsafe { error.as_ref() }.map_or(c"".as_ptr(), |e| e.message.as_ptr())
    })
}

/// Free an error object. NULL is ignored.
#[no_mangle]
pub extern "C" fn minknow_error_free(error: *mut minknow_error) {
    if !error.is_null() {
        // SAFETY: the pointer came from into_raw and is freed once.
        run_infallible((), || drop(unsafe { Box::from_raw(error) }));
    }
}

/// A short, static, lower-case name for `status` ("ok", "file error", ...).
/// Never NULL; never blocks.
#[no_mangle]
pub extern "C" fn minknow_status_name(status: Status) -> *const c_char {
    run_infallible(c"unknown status".as_ptr(), || status_cstr(status).as_ptr())
}

fn status_cstr(status: Status) -> &'static std::ffi::CStr {
    use std::sync::OnceLock;
    static NAMES: OnceLock<Vec<(Status, CString)>> = OnceLock::new();
    let names = NAMES.get_or_init(|| ALL.iter().map(|&s| (s, c_string(s.name()))).collect());
    names.iter().find(|(s, _)| *s == status).map_or(c"unknown status", |(_, n)| n.as_c_str())
}

const ALL: [Status; 32] = [
    Status::Ok,
    Status::EndOfStream,
    Status::NullArgument,
    Status::InvalidArgument,
    Status::InvalidState,
    Status::ForkedHandle,
    Status::FileError,
    Status::BadCertificate,
    Status::BadKey,
    Status::EncryptedKey,
    Status::KeyMismatch,
    Status::NoTrustedCa,
    Status::BadTokenFile,
    Status::PemLooksLikePath,
    Status::IncompleteIdentity,
    Status::ConnectFailed,
    Status::TlsFailed,
    Status::CertificateVerifyFailed,
    Status::Http2Failed,
    Status::Timeout,
    Status::RpcFailed,
    Status::Unauthenticated,
    Status::Cancelled,
    Status::DeadlineExceeded,
    Status::Unavailable,
    Status::MessageTooLarge,
    Status::BadResponse,
    Status::PositionNotFound,
    Status::PositionNotRunning,
    Status::NoBasecaller,
    Status::Panic,
    Status::Internal,
];
