//! `minknow_channel`: connecting, and child channels.

use std::ffi::{c_char, CString};

use super::boundary::{c_string, handle, optional_text, out, port, run, run_infallible, text};
use super::error::minknow_error;
use super::options::{minknow_options, options_ref, token_text};
use crate::channel::options::ConnectOptions;
use crate::channel::{Channel, Probe};
use crate::error::{Result, Status};
use crate::sources::Material;
use crate::{manager, runtime};

/// Pass as `port` to use MinKNOW's default manager port: 9501 when a
/// client certificate is configured, else 9502.
pub const MINKNOW_PORT_DEFAULT: i32 = -1;

/// An authenticated channel to one MinKNOW port (the manager, a position,
/// the basecaller). Safe to use from several threads at once. Child
/// channels share the parent's credentials and stay valid after the parent
/// is freed. After `fork`, a channel made in the parent gives
/// FORKED_HANDLE in the child.
pub struct minknow_channel {
    pub(crate) channel: Channel,
    host: CString,
    pid: u32,
}

impl minknow_channel {
    fn into_raw(channel: Channel) -> *mut minknow_channel {
        let host = c_string(channel.host());
        let pid = runtime::process_id();
        Box::into_raw(Box::new(minknow_channel { channel, host, pid }))
    }

    /// The channel, if it belongs to this process.
    pub(crate) fn get(&self) -> Result<&Channel> {
        runtime::check_same_process(self.pid, "channel")?;
        Ok(&self.channel)
    }
}

/// A borrowed channel argument that belongs to this process.
pub(crate) fn channel_arg<'a>(ptr: *const minknow_channel, name: &str) -> Result<&'a Channel> {
    handle(ptr, name)?.get()
}

fn connect_into(
    host: *const c_char,
    port_arg: i32,
    options: &ConnectOptions,
    out_channel: *mut *mut minknow_channel,
) -> Result<()> {
    let slot = out(out_channel, "out_channel")?;
    let host = text(host, "host")?;
    let port = match port_arg {
        MINKNOW_PORT_DEFAULT => None,
        other => Some(port(other, "port")?),
    };
    let channel = runtime::block_on(Channel::connect(host, port, options))??;
    *slot = minknow_channel::into_raw(channel);
    Ok(())
}

/// Connect to the MinKNOW manager on `host` (a name, an IPv4 address, or an
/// IPv6 address with or without brackets) at `port` (or
/// `MINKNOW_PORT_DEFAULT`), with `options` (NULL: all defaults), and make
/// a first authenticated call, so that TLS and authentication problems are
/// reported here. The server's certificate is checked against "localhost"
/// whatever `host` is, unless the options name another.
///
/// On success `*out_channel` owns a new channel (free with
/// `minknow_channel_free`). Blocks up to the connect timeout (10 s unless
/// set), retries included. Errors: NULL_ARGUMENT, INVALID_ARGUMENT,
/// FILE_ERROR, BAD_CERTIFICATE, BAD_KEY, ENCRYPTED_KEY, KEY_MISMATCH,
/// NO_TRUSTED_CA, PEM_LOOKS_LIKE_PATH, CONNECT_FAILED, TLS_FAILED,
/// CERTIFICATE_VERIFY_FAILED, HTTP2_FAILED, TIMEOUT, UNAUTHENTICATED,
/// UNAVAILABLE, DEADLINE_EXCEEDED, RPC_FAILED.
#[no_mangle]
pub extern "C" fn minknow_connect(
    host: *const c_char,
    port: i32,
    options: *const minknow_options,
    out_channel: *mut *mut minknow_channel,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let defaults = ConnectOptions::default();
        let options = options_ref(options)?.unwrap_or(&defaults);
        connect_into(host, port, options, out_channel)
    })
}

/// Connect with a client certificate: `chain_path` and `key_path` are PEM
/// files (chain: client certificate first; key: unencrypted). `ca_path`
/// may be NULL to find MinKNOW's CA as `minknow_connect` does. Tokens from
/// the environment still apply. Otherwise as `minknow_connect`.
#[no_mangle]
pub extern "C" fn minknow_connect_with_certificate(
    host: *const c_char,
    port: i32,
    ca_path: *const c_char,
    chain_path: *const c_char,
    key_path: *const c_char,
    out_channel: *mut *mut minknow_channel,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let mut options = ConnectOptions::default();
        add_ca(&mut options, ca_path)?;
        let chain = text(chain_path, "chain_path")?;
        let key = text(key_path, "key_path")?;
        options.identity = Some((
            Material::path(chain, "chain_path of minknow_connect_with_certificate"),
            Material::path(key, "key_path of minknow_connect_with_certificate"),
        ));
        connect_into(host, port, &options, out_channel)
    })
}

/// Connect with a developer API token (sent as `local-auth` on every call).
/// `ca_path` may be NULL. Otherwise as `minknow_connect`.
#[no_mangle]
pub extern "C" fn minknow_connect_with_token(
    host: *const c_char,
    port: i32,
    ca_path: *const c_char,
    token: *const c_char,
    out_channel: *mut *mut minknow_channel,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let mut options = ConnectOptions::default();
        add_ca(&mut options, ca_path)?;
        options.developer_token = Some(token_text(token, "token")?);
        connect_into(host, port, &options, out_channel)
    })
}

fn add_ca(options: &mut ConnectOptions, ca_path: *const c_char) -> Result<()> {
    if let Some(path) = optional_text(ca_path, "ca_path")? {
        options.ca.push(Material::path(path, "argument `ca_path`"));
    }
    Ok(())
}

/// Free a channel. Calls already started on it keep working until they
/// end; child channels are not affected. NULL is ignored. Must not be
/// called while another thread uses the channel.
#[no_mangle]
pub extern "C" fn minknow_channel_free(channel: *mut minknow_channel) {
    if channel.is_null() {
        return;
    }
    run_infallible((), || {
        // SAFETY: the pointer came from into_raw and is freed once.
        let boxed = unsafe { Box::from_raw(channel) };
        if boxed.pid != runtime::process_id() {
            // Inherited across fork: its runtime's threads do not exist
            // here, so tearing it down could block. Leak it.
            std::mem::forget(boxed);
        }
    });
}

/// The host this channel dials, borrowed (valid until the channel is
/// freed); "" if `channel` is NULL. Never blocks.
#[no_mangle]
pub extern "C" fn minknow_channel_host(channel: *const minknow_channel) -> *const c_char {
    run_infallible(c"".as_ptr(), || {
        // SAFETY: NULL or a live channel.
        unsafe { channel.as_ref() }.map_or(c"".as_ptr(), |c| c.host.as_ptr())
    })
}

/// The port this channel dials; 0 if `channel` is NULL. Never blocks.
#[no_mangle]
pub extern "C" fn minknow_channel_port(channel: *const minknow_channel) -> u16 {
    // SAFETY: NULL or a live channel.
    run_infallible(0, || unsafe { channel.as_ref() }.map_or(0, |c| c.channel.port()))
}

fn open_child(
    out_channel: *mut *mut minknow_channel,
    open: impl FnOnce() -> Result<Channel>,
) -> Result<()> {
    let slot = out(out_channel, "out_channel")?;
    let child = open()?;
    *slot = minknow_channel::into_raw(child);
    Ok(())
}

/// Open a channel to another `port` on the same host, with the same trust,
/// client certificate and token. No call is made to check it (its services
/// are unknown); HTTP/2 is up when this returns. Blocks up to the connect
/// timeout. Errors: as `minknow_connect`, and FORKED_HANDLE.
#[no_mangle]
pub extern "C" fn minknow_channel_open_port(
    channel: *const minknow_channel,
    port_number: i32,
    out_channel: *mut *mut minknow_channel,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let parent = channel_arg(channel, "channel")?;
        let port = port(port_number, "port")?;
        open_child(out_channel, || runtime::block_on(parent.child(port, Probe::None))?)
    })
}

/// Open a channel to the flow cell position called `name`, whose port the
/// manager reports (asked now), with the manager channel's credentials, and
/// check it with the position's `get_version_info`. Blocks up to the query
/// timeout plus the connect timeout. Errors: as `minknow_connect`, and
/// POSITION_NOT_FOUND (the message lists the positions),
/// POSITION_NOT_RUNNING (the message gives its state).
#[no_mangle]
pub extern "C" fn minknow_channel_open_position(
    channel: *const minknow_channel,
    name: *const c_char,
    out_channel: *mut *mut minknow_channel,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let manager_channel = channel_arg(channel, "channel")?;
        let name = text(name, "name")?;
        let slot = out(out_channel, "out_channel")?;
        let positions = manager::positions(manager_channel)?;
        let child = runtime::block_on(manager::open_position(manager_channel, &positions, name))??;
        *slot = minknow_channel::into_raw(child);
        Ok(())
    })
}

/// Open a channel to the basecaller, whose port the manager reports, with
/// the manager channel's credentials. Blocks up to the query timeout plus
/// the connect timeout. Errors: as `minknow_connect`, and NO_BASECALLER.
#[no_mangle]
pub extern "C" fn minknow_channel_open_basecaller(
    channel: *const minknow_channel,
    out_channel: *mut *mut minknow_channel,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let manager_channel = channel_arg(channel, "channel")?;
        open_child(out_channel, || runtime::block_on(manager::open_basecaller(manager_channel))?)
    })
}
