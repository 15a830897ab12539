//! `minknow_options`: everything a connection can be told.

use std::ffi::c_char;
use std::time::Duration;

use super::boundary::{bytes, handle, out, run, text};
use super::error::minknow_error;
use crate::channel::options::ConnectOptions;
use crate::error::{Error, Result, Status};
use crate::sources::token_policy::LocalTokenMode;
use crate::sources::Material;

/// Connection options. Create with `minknow_options_new`, set what you
/// need, pass to `minknow_connect` (which copies what it needs: the options
/// may be freed or reused right after), free with `minknow_options_free`.
/// Setters must not be called concurrently with other uses of the same
/// options object.
pub struct minknow_options {
    pub(crate) inner: ConnectOptions,
}

/// Whether to send the local token.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum minknow_local_token_mode {
    /// As the reference client: `MINKNOW_API_USE_LOCAL_TOKEN` if set, else
    /// only when the host is this machine.
    Auto = 0,
    /// Always try the local token, even for a remote host.
    On = 1,
    /// Never use the local token.
    Off = 2,
}

fn with_options(
    options: *mut minknow_options,
    err: *mut *mut minknow_error,
    set: impl FnOnce(&mut ConnectOptions) -> Result<()>,
) -> Status {
    run(err, || {
        // SAFETY: NULL or a live options object not used concurrently.
        let options =
            unsafe { options.as_mut() }.ok_or_else(|| super::boundary::null("options"))?;
        set(&mut options.inner)
    })
}

/// Create an options object with the defaults: CAs from the environment
/// and MinKNOW's install locations, no client certificate, local token
/// `AUTO`, environment variables read, server name "localhost", 10 s
/// connect timeout. On success `*out` owns the object. Never blocks.
/// Errors: NULL_ARGUMENT.
#[no_mangle]
pub extern "C" fn minknow_options_new(
    out_options: *mut *mut minknow_options,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let slot = out(out_options, "out_options")?;
        *slot = Box::into_raw(Box::new(minknow_options { inner: ConnectOptions::default() }));
        Ok(())
    })
}

/// Free an options object. NULL is ignored.
#[no_mangle]
pub extern "C" fn minknow_options_free(options: *mut minknow_options) {
    if !options.is_null() {
        // SAFETY: the pointer came from minknow_options_new, freed once.
        super::boundary::run_infallible((), || drop(unsafe { Box::from_raw(options) }));
    }
}

/// Trust the CA certificate(s) in the PEM file at `path`. May be called
/// several times: all the files are trusted. Once any CA is given, the
/// environment and default locations are not consulted. The file is read
/// when the channel is built, not now. Errors: NULL_ARGUMENT,
/// INVALID_ARGUMENT (empty or non-UTF-8 path).
#[no_mangle]
pub extern "C" fn minknow_options_add_ca_file(
    options: *mut minknow_options,
    path: *const c_char,
    err: *mut *mut minknow_error,
) -> Status {
    with_options(options, err, |o| {
        let path = non_empty(text(path, "path")?, "path")?;
        o.ca.push(Material::path(path, "minknow_options_add_ca_file"));
        Ok(())
    })
}

/// Trust the CA certificate(s) in `pem` (`len` bytes of PEM text, copied).
/// Errors: NULL_ARGUMENT, PEM_LOOKS_LIKE_PATH and BAD_CERTIFICATE are
/// reported when the channel is built.
#[no_mangle]
pub extern "C" fn minknow_options_add_ca_pem(
    options: *mut minknow_options,
    pem: *const u8,
    len: usize,
    err: *mut *mut minknow_error,
) -> Status {
    with_options(options, err, |o| {
        let pem = bytes(pem, len, "pem")?;
        o.ca.push(Material::pem(pem, "minknow_options_add_ca_pem"));
        Ok(())
    })
}

/// Present the client certificate chain in the PEM file `chain_path`
/// (client certificate first) with the unencrypted PEM key in `key_path`.
/// Both are read and checked when the channel is built, before any network
/// I/O. Errors: NULL_ARGUMENT, INVALID_ARGUMENT.
#[no_mangle]
pub extern "C" fn minknow_options_set_client_certificate_files(
    options: *mut minknow_options,
    chain_path: *const c_char,
    key_path: *const c_char,
    err: *mut *mut minknow_error,
) -> Status {
    with_options(options, err, |o| {
        let chain = non_empty(text(chain_path, "chain_path")?, "chain_path")?;
        let key = non_empty(text(key_path, "key_path")?, "key_path")?;
        o.identity = Some((
            Material::path(chain, "chain_path of minknow_options_set_client_certificate_files"),
            Material::path(key, "key_path of minknow_options_set_client_certificate_files"),
        ));
        Ok(())
    })
}

/// Like `minknow_options_set_client_certificate_files`, from PEM bytes
/// (copied). Errors: NULL_ARGUMENT.
#[no_mangle]
pub extern "C" fn minknow_options_set_client_certificate_pem(
    options: *mut minknow_options,
    chain_pem: *const u8,
    chain_len: usize,
    key_pem: *const u8,
    key_len: usize,
    err: *mut *mut minknow_error,
) -> Status {
    with_options(options, err, |o| {
        let chain = bytes(chain_pem, chain_len, "chain_pem")?;
        let key = bytes(key_pem, key_len, "key_pem")?;
        o.identity = Some((
            Material::pem(chain, "chain_pem of minknow_options_set_client_certificate_pem"),
            Material::pem(key, "key_pem of minknow_options_set_client_certificate_pem"),
        ));
        Ok(())
    })
}

/// Send this developer API token (as `local-auth`) on every call, to the
/// manager and every child channel. It takes precedence over the local and
/// protocol tokens. Errors: NULL_ARGUMENT, INVALID_ARGUMENT (empty, or not
/// printable ASCII).
#[no_mangle]
pub extern "C" fn minknow_options_set_developer_token(
    options: *mut minknow_options,
    token: *const c_char,
    err: *mut *mut minknow_error,
) -> Status {
    with_options(options, err, |o| {
        o.developer_token = Some(token_text(token, "token")?);
        Ok(())
    })
}

/// Send this protocol token (as `protocol-auth`) instead of the one in
/// `PROTOCOL_TOKEN`. Errors: NULL_ARGUMENT, INVALID_ARGUMENT.
#[no_mangle]
pub extern "C" fn minknow_options_set_protocol_token(
    options: *mut minknow_options,
    token: *const c_char,
    err: *mut *mut minknow_error,
) -> Status {
    with_options(options, err, |o| {
        o.protocol_token = Some(token_text(token, "token")?);
        Ok(())
    })
}

/// Choose when the local token is used: `mode` is a
/// `minknow_local_token_mode` value. Errors: NULL_ARGUMENT,
/// INVALID_ARGUMENT (not one of the enum's values).
#[no_mangle]
pub extern "C" fn minknow_options_set_local_token_mode(
    options: *mut minknow_options,
    mode: i32,
    err: *mut *mut minknow_error,
) -> Status {
    with_options(options, err, |o| {
        o.local_token = match mode {
            0 => LocalTokenMode::Auto,
            1 => LocalTokenMode::On,
            2 => LocalTokenMode::Off,
            other => {
                return Err(Error::new(
                    Status::InvalidArgument,
                    format!("argument `mode` = {other} is not a minknow_local_token_mode"),
                ))
            }
        };
        Ok(())
    })
}

/// Check the server's certificate against `name` instead of "localhost"
/// (the only name MinKNOW's own certificates hold). Errors: NULL_ARGUMENT,
/// INVALID_ARGUMENT (not a DNS name or IP address).
#[no_mangle]
pub extern "C" fn minknow_options_set_server_name(
    options: *mut minknow_options,
    name: *const c_char,
    err: *mut *mut minknow_error,
) -> Status {
    with_options(options, err, |o| {
        let name = non_empty(text(name, "name")?, "name")?;
        rustls_pki_types::ServerName::try_from(name).map_err(|_| {
            Error::new(
                Status::InvalidArgument,
                format!("server name {name:?} is not a DNS name or IP address"),
            )
        })?;
        o.server_name = Some(name.to_owned());
        Ok(())
    })
}

/// Whether MinKNOW's environment variables (`MINKNOW_TRUSTED_CA`,
/// `MINKNOW_API_CLIENT_CERTIFICATE_CHAIN`, `MINKNOW_API_CLIENT_KEY`,
/// `MINKNOW_API_USE_LOCAL_TOKEN`, `PROTOCOL_TOKEN`) fill in what the options
/// do not say. On by default; they are read when the channel is built.
/// Errors: NULL_ARGUMENT.
#[no_mangle]
pub extern "C" fn minknow_options_set_use_environment(
    options: *mut minknow_options,
    use_environment: bool,
    err: *mut *mut minknow_error,
) -> Status {
    with_options(options, err, |o| {
        o.use_environment = use_environment;
        Ok(())
    })
}

/// Bound connecting (TCP, TLS, HTTP/2, the first call and its retries) to
/// `timeout_ms` milliseconds (1 to 600000). Also bounds each later
/// reconnection's dial. Errors: NULL_ARGUMENT, INVALID_ARGUMENT.
#[no_mangle]
pub extern "C" fn minknow_options_set_connect_timeout_ms(
    options: *mut minknow_options,
    timeout_ms: u32,
    err: *mut *mut minknow_error,
) -> Status {
    with_options(options, err, |o| {
        if timeout_ms == 0 || timeout_ms > 600_000 {
            return Err(Error::new(
                Status::InvalidArgument,
                format!("argument `timeout_ms` = {timeout_ms} is not between 1 and 600000"),
            ));
        }
        o.connect_timeout = Duration::from_millis(u64::from(timeout_ms));
        Ok(())
    })
}

fn non_empty<'a>(value: &'a str, name: &str) -> Result<&'a str> {
    if value.is_empty() {
        return Err(Error::new(Status::InvalidArgument, format!("argument `{name}` is empty")));
    }
    Ok(value)
}

/// A required token argument: UTF-8, non-empty, printable ASCII.
pub(crate) fn token_text(token: *const c_char, name: &str) -> Result<String> {
    let token = text(token, name)?;
    crate::credentials::local_token::check_token_text(token)
        .map_err(|why| Error::new(Status::InvalidArgument, format!("argument `{name}` {why}")))?;
    Ok(token.to_owned())
}

/// Read-only access for the connect functions.
pub(crate) fn options_ref<'a>(
    options: *const minknow_options,
) -> Result<Option<&'a ConnectOptions>> {
    if options.is_null() {
        return Ok(None);
    }
    handle(options, "options").map(|o| Some(&o.inner))
}
