//! `minknow_diagnose`: the library's diagnosis of a connection, as JSON.

use std::ffi::c_char;

use bytes::Bytes;

use super::boundary::{out, port as port_number, run, text};
use super::buffer::minknow_buffer;
use super::channel::MINKNOW_PORT_DEFAULT;
use super::error::minknow_error;
use super::options::{minknow_options, options_ref};
use crate::channel::options::ConnectOptions;
use crate::diagnose;
use crate::error::Status;

/// Diagnose a connection to the MinKNOW manager on `host` at `port` (or
/// `MINKNOW_PORT_DEFAULT`) with `options` (NULL: all defaults), the way
/// `minknow_connect` would connect, and describe it as JSON: the
/// environment variables seen, the CA files tried in order and what each
/// gave, the client certificate (subject, issuer, key usages, validity),
/// which token applies and why, then each step of the dial (TCP, TLS with
/// the server certificate and the trusted CA that verified it, HTTP/2, the
/// unauthenticated `local_authentication_token_path` call, the
/// authenticated `get_version_info` call), stopping at the first failure,
/// whose likely cause and fix are in the report's `diagnosis` object
/// (`step`, `cause`, `message`, `fix`; `null` when everything worked).
/// The layout is described in README.md ("When it does not connect") and
/// marked by `"schema": "minknow-auth-doctor/1"`.
///
/// A failed connection is not an error of this function: it returns
/// MINKNOW_STATUS_OK with the failure in the report. On success
/// `*out_report` owns a `minknow_buffer` holding the UTF-8 JSON text; its
/// bytes are followed by a NUL byte that `minknow_buffer_len` does not
/// count, so `(const char *)minknow_buffer_data(report)` is also a C
/// string. Free it with `minknow_buffer_free`. The report names files,
/// variables and token sources, never a token, key or certificate body.
///
/// Blocks for up to the connect timeout of `options` (10 s unless set)
/// for all the network steps together. May be called from any thread.
/// Errors: NULL_ARGUMENT (`host`, `out_report`), INVALID_ARGUMENT (non-UTF-8
/// host, a port out of range), INTERNAL (the runtime could not start),
/// PANIC.
#[no_mangle]
pub extern "C" fn minknow_diagnose(
    host: *const c_char,
    port: i32,
    options: *const minknow_options,
    out_report: *mut *mut minknow_buffer,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let slot = out(out_report, "out_report")?;
        let host = text(host, "host")?;
        let port = match port {
            MINKNOW_PORT_DEFAULT => None,
            other => Some(port_number(other, "port")?),
        };
        let defaults = ConnectOptions::default();
        let options = options_ref(options)?.unwrap_or(&defaults);

        let report = diagnose::diagnose_blocking(host, port, options)?;

        let json = report.to_json().to_string();
        let len = json.len();
        let mut bytes = json.into_bytes();
        bytes.push(0);
        *slot = minknow_buffer::into_raw(Bytes::from(bytes).slice(..len));
        Ok(())
    })
}
