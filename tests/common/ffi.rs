//! Safe wrappers over the exported `extern "C"` functions, so tests read as
//! what they check. Every wrapper goes through the C ABI (never the Rust
//! layers), owns its handle, and frees it with the matching `*_free`.

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::time::Duration;

use minknow_auth::ffi::buffer::*;
use minknow_auth::ffi::call::*;
use minknow_auth::ffi::channel::*;
use minknow_auth::ffi::error::*;
use minknow_auth::ffi::manager::*;
use minknow_auth::ffi::options::*;
use minknow_auth::Status;

use super::proto;

/// A failed C call: the returned status, and what its error object said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub status: Status,
    /// `minknow_error_grpc_status`: -1 when no gRPC status was involved.
    pub grpc: i32,
    pub message: String,
}

pub type FfiResult<T> = Result<T, Failure>;

/// A C string the library borrowed to us, copied.
pub fn string(ptr: *const c_char) -> String {
    assert!(!ptr.is_null(), "the library returned a NULL string");
    // SAFETY: non-NULL, NUL-terminated, valid while its owner lives.
    unsafe { CStr::from_ptr(ptr) }.to_str().expect("the library returned non-UTF-8").to_owned()
}

pub fn c(text: &str) -> CString {
    CString::new(text).expect("test strings hold no NUL")
}

/// Turn a status and its error object into a Result, checking the
/// conventions every function promises: the error object is set exactly
/// when the status is an error, and it repeats the status.
pub fn check(status: Status, err: *mut minknow_error) -> FfiResult<()> {
    if matches!(status, Status::Ok | Status::EndOfStream) {
        assert!(err.is_null(), "{status:?} came with an error object");
        return Ok(());
    }
    assert!(!err.is_null(), "{status:?} came without an error object");
    let failure = Failure {
        status: minknow_error_status(err),
        grpc: minknow_error_grpc_status(err),
        message: string(minknow_error_message(err)),
    };
    minknow_error_free(err);
    assert_eq!(failure.status, status, "the error object disagrees with the return value");
    assert!(!failure.message.is_empty(), "{status:?} with an empty message");
    Err(failure)
}

/// Call `f` with a fresh error slot and check the result.
pub fn with_err(f: impl FnOnce(*mut *mut minknow_error) -> Status) -> FfiResult<()> {
    let mut err = ptr::null_mut();
    let status = f(&mut err);
    check(status, err)
}

/// An owned `minknow_buffer`, copied out and freed.
fn take_buffer(buffer: *mut minknow_buffer) -> Vec<u8> {
    assert!(!buffer.is_null(), "OK without a buffer");
    let len = minknow_buffer_len(buffer);
    let data = minknow_buffer_data(buffer);
    assert!(!data.is_null(), "a live buffer gave NULL data");
    // SAFETY: the library promises `len` readable bytes until the free.
    let bytes = unsafe { std::slice::from_raw_parts(data, len) }.to_vec();
    minknow_buffer_free(buffer);
    bytes
}

/// `minknow_options`, freed on drop.
pub struct Options(pub *mut minknow_options);

impl Options {
    /// Options that ignore the process environment, so tests running in
    /// parallel (and the developer's own MinKNOW variables) cannot leak in.
    pub fn new() -> Options {
        let options = Options::with_environment();
        options.set(|o, e| minknow_options_set_use_environment(o, false, e)).unwrap();
        options
    }

    /// Options as a C program gets them from `minknow_options_new`.
    pub fn with_environment() -> Options {
        let mut raw = ptr::null_mut();
        with_err(|e| minknow_options_new(&mut raw, e)).expect("minknow_options_new");
        assert!(!raw.is_null());
        Options(raw)
    }

    /// Apply one setter.
    pub fn set(
        &self,
        f: impl FnOnce(*mut minknow_options, *mut *mut minknow_error) -> Status,
    ) -> FfiResult<()> {
        with_err(|e| f(self.0, e))
    }

    pub fn ca(self, path: &str) -> Options {
        let path = c(path);
        self.set(|o, e| minknow_options_add_ca_file(o, path.as_ptr(), e)).unwrap();
        self
    }

    pub fn ca_pem(self, pem: &[u8]) -> Options {
        self.set(|o, e| minknow_options_add_ca_pem(o, pem.as_ptr(), pem.len(), e)).unwrap();
        self
    }

    pub fn cert(self, chain: &str, key: &str) -> Options {
        let (chain, key) = (c(chain), c(key));
        self.set(|o, e| {
            minknow_options_set_client_certificate_files(o, chain.as_ptr(), key.as_ptr(), e)
        })
        .unwrap();
        self
    }

    pub fn cert_pem(self, chain: &[u8], key: &[u8]) -> Options {
        self.set(|o, e| {
            let (cp, cl, kp, kl) = (chain.as_ptr(), chain.len(), key.as_ptr(), key.len());
            minknow_options_set_client_certificate_pem(o, cp, cl, kp, kl, e)
        })
        .unwrap();
        self
    }

    pub fn developer_token(self, token: &str) -> Options {
        let token = c(token);
        self.set(|o, e| minknow_options_set_developer_token(o, token.as_ptr(), e)).unwrap();
        self
    }

    pub fn protocol_token(self, token: &str) -> Options {
        let token = c(token);
        self.set(|o, e| minknow_options_set_protocol_token(o, token.as_ptr(), e)).unwrap();
        self
    }

    pub fn local_token_mode(self, mode: minknow_local_token_mode) -> Options {
        self.set(|o, e| minknow_options_set_local_token_mode(o, mode as i32, e)).unwrap();
        self
    }

    pub fn server_name(self, name: &str) -> Options {
        let name = c(name);
        self.set(|o, e| minknow_options_set_server_name(o, name.as_ptr(), e)).unwrap();
        self
    }

    pub fn connect_timeout(self, timeout: Duration) -> Options {
        let ms = u32::try_from(timeout.as_millis()).expect("a test timeout fits in u32");
        self.set(|o, e| minknow_options_set_connect_timeout_ms(o, ms, e)).unwrap();
        self
    }
}

impl Drop for Options {
    fn drop(&mut self) {
        minknow_options_free(self.0);
    }
}

/// MinKNOW's version, copied out of a `minknow_version_info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub major: i32,
    pub minor: i32,
    pub patch: i32,
    pub full: String,
    pub bream: String,
    pub distribution: String,
}

fn take_version(info: *mut minknow_version_info) -> Version {
    assert!(!info.is_null());
    let version = Version {
        major: minknow_version_info_major(info),
        minor: minknow_version_info_minor(info),
        patch: minknow_version_info_patch(info),
        full: string(minknow_version_info_full(info)),
        bream: string(minknow_version_info_bream(info)),
        distribution: string(minknow_version_info_distribution(info)),
    };
    minknow_version_info_free(info);
    version
}

/// What `describe_host` said, copied out of a `minknow_host_info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostInfo {
    pub product_code: String,
    pub description: String,
    pub serial: String,
    pub network_name: String,
}

/// One position, copied out of a `minknow_positions` snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub name: String,
    pub state: i32,
    pub state_name: String,
    pub port: u16,
    pub error_info: String,
    pub simulated: bool,
    pub integrated: bool,
    pub parent: String,
}

fn take_positions(list: *mut minknow_positions) -> Vec<Position> {
    assert!(!list.is_null());
    let positions = (0..minknow_positions_count(list))
        .map(|i| Position {
            name: string(minknow_positions_name(list, i)),
            state: minknow_positions_state(list, i),
            state_name: string(minknow_positions_state_name(list, i)),
            port: minknow_positions_secure_port(list, i),
            error_info: string(minknow_positions_error_info(list, i)),
            simulated: minknow_positions_is_simulated(list, i),
            integrated: minknow_positions_is_integrated(list, i),
            parent: string(minknow_positions_parent_name(list, i)),
        })
        .collect();
    minknow_positions_free(list);
    positions
}

/// A `minknow_channel`, freed on drop.
#[derive(Debug)]
pub struct Channel(pub *mut minknow_channel);

// SAFETY: the library documents channels as usable from several threads at
// once; the wrapper only frees it in Drop, when no other thread holds it.
unsafe impl Send for Channel {}
unsafe impl Sync for Channel {}

/// Take a channel out of a slot the library filled, checking the
/// out-parameter convention (NULL on failure).
fn channel_from(raw: *mut minknow_channel, result: FfiResult<()>) -> FfiResult<Channel> {
    match result {
        Ok(()) => {
            assert!(!raw.is_null(), "OK without a channel");
            Ok(Channel(raw))
        }
        Err(failure) => {
            assert!(raw.is_null(), "{:?} left a channel in the out-parameter", failure.status);
            Err(failure)
        }
    }
}

impl Channel {
    pub fn connect(host: &str, port: i32, options: &Options) -> FfiResult<Channel> {
        let host = c(host);
        let mut raw = ptr::null_mut();
        let result = with_err(|e| minknow_connect(host.as_ptr(), port, options.0, &mut raw, e));
        channel_from(raw, result)
    }

    pub fn connect_with_certificate(
        host: &str,
        port: i32,
        ca: Option<&str>,
        chain: &str,
        key: &str,
    ) -> FfiResult<Channel> {
        let (host, chain, key) = (c(host), c(chain), c(key));
        let ca = ca.map(c);
        let ca_ptr = ca.as_ref().map_or(ptr::null(), |s| s.as_ptr());
        let mut raw = ptr::null_mut();
        let result = with_err(|e| {
            let (h, ch, k) = (host.as_ptr(), chain.as_ptr(), key.as_ptr());
            minknow_connect_with_certificate(h, port, ca_ptr, ch, k, &mut raw, e)
        });
        channel_from(raw, result)
    }

    pub fn connect_with_token(
        host: &str,
        port: i32,
        ca: Option<&str>,
        token: &str,
    ) -> FfiResult<Channel> {
        let (host, token) = (c(host), c(token));
        let ca = ca.map(c);
        let ca_ptr = ca.as_ref().map_or(ptr::null(), |s| s.as_ptr());
        let mut raw = ptr::null_mut();
        let result = with_err(|e| {
            minknow_connect_with_token(host.as_ptr(), port, ca_ptr, token.as_ptr(), &mut raw, e)
        });
        channel_from(raw, result)
    }

    pub fn host(&self) -> String {
        string(minknow_channel_host(self.0))
    }

    pub fn port(&self) -> u16 {
        minknow_channel_port(self.0)
    }

    pub fn open_port(&self, port: i32) -> FfiResult<Channel> {
        let mut raw = ptr::null_mut();
        let result = with_err(|e| minknow_channel_open_port(self.0, port, &mut raw, e));
        channel_from(raw, result)
    }

    pub fn open_position(&self, name: &str) -> FfiResult<Channel> {
        let name = c(name);
        let mut raw = ptr::null_mut();
        let result =
            with_err(|e| minknow_channel_open_position(self.0, name.as_ptr(), &mut raw, e));
        channel_from(raw, result)
    }

    pub fn open_basecaller(&self) -> FfiResult<Channel> {
        let mut raw = ptr::null_mut();
        let result = with_err(|e| minknow_channel_open_basecaller(self.0, &mut raw, e));
        channel_from(raw, result)
    }

    /// `minknow_unary` with `timeout` (None: no deadline).
    pub fn unary(
        &self,
        method: &str,
        request: &[u8],
        timeout: Option<Duration>,
    ) -> FfiResult<Vec<u8>> {
        let method = c(method);
        let ms = timeout.map_or(0, |t| u32::try_from(t.as_millis()).expect("timeout fits"));
        let mut reply = ptr::null_mut();
        let result = with_err(|e| {
            let (p, n) = (request.as_ptr(), request.len());
            minknow_unary(self.0, method.as_ptr(), p, n, ms, &mut reply, e)
        });
        match result {
            Ok(()) => Ok(take_buffer(reply)),
            Err(failure) => {
                assert!(reply.is_null(), "a failed call left a reply");
                Err(failure)
            }
        }
    }

    /// `minknow_call_start` with `timeout` (None: no deadline).
    pub fn start(&self, method: &str, timeout: Option<Duration>) -> FfiResult<Call> {
        let method = c(method);
        let ms = timeout.map_or(0, |t| u32::try_from(t.as_millis()).expect("timeout fits"));
        let mut raw = ptr::null_mut();
        let result = with_err(|e| minknow_call_start(self.0, method.as_ptr(), ms, &mut raw, e));
        match result {
            Ok(()) => {
                assert!(!raw.is_null(), "OK without a call");
                Ok(Call(raw))
            }
            Err(failure) => {
                assert!(raw.is_null(), "a failed start left a call");
                Err(failure)
            }
        }
    }

    pub fn manager_version(&self) -> FfiResult<Version> {
        let mut info = ptr::null_mut();
        with_err(|e| minknow_manager_version(self.0, &mut info, e))?;
        Ok(take_version(info))
    }

    pub fn position_version(&self) -> FfiResult<Version> {
        let mut info = ptr::null_mut();
        with_err(|e| minknow_position_version(self.0, &mut info, e))?;
        Ok(take_version(info))
    }

    pub fn describe_host(&self) -> FfiResult<HostInfo> {
        let mut info = ptr::null_mut();
        with_err(|e| minknow_manager_describe_host(self.0, &mut info, e))?;
        assert!(!info.is_null());
        let host = HostInfo {
            product_code: string(minknow_host_info_product_code(info)),
            description: string(minknow_host_info_description(info)),
            serial: string(minknow_host_info_serial(info)),
            network_name: string(minknow_host_info_network_name(info)),
        };
        minknow_host_info_free(info);
        Ok(host)
    }

    pub fn positions(&self) -> FfiResult<Vec<Position>> {
        let mut list = ptr::null_mut();
        with_err(|e| minknow_manager_positions(self.0, &mut list, e))?;
        Ok(take_positions(list))
    }

    pub fn basecaller_port(&self) -> FfiResult<u16> {
        let mut port = 1234;
        let result = with_err(|e| minknow_manager_basecaller_port(self.0, &mut port, e));
        if result.is_err() {
            assert_eq!(port, 0, "a failed basecaller_port left a port");
        }
        result.map(|()| port)
    }

    /// TestService/whoami: which credentials this channel's calls carry.
    pub fn whoami(&self) -> proto::WhoAmIResponse {
        let reply = self.unary(proto::WHOAMI, &[], Some(Duration::from_secs(10)));
        proto::decode(&reply.unwrap_or_else(|f| panic!("whoami failed: {f:?}")))
    }

    /// TestService/echo of `payload`, returning the payload that came back.
    pub fn echo(&self, payload: Vec<u8>, sequence: u32) -> FfiResult<Vec<u8>> {
        let request = proto::chunk(payload, sequence);
        let reply = self.unary(proto::ECHO, &request, Some(Duration::from_secs(30)))?;
        let chunk: proto::Chunk = proto::decode(&reply);
        assert_eq!(chunk.sequence, sequence, "echo returned another sequence number");
        Ok(chunk.payload)
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        minknow_channel_free(self.0);
    }
}

/// A `minknow_call`, freed on drop.
#[derive(Debug)]
pub struct Call(pub *mut minknow_call);

// SAFETY: calls are documented as shareable between threads (send on one,
// recv on another, cancel from any); Drop runs when no other thread uses it.
unsafe impl Send for Call {}
unsafe impl Sync for Call {}

impl Call {
    pub fn send(&self, data: &[u8]) -> FfiResult<()> {
        with_err(|e| minknow_call_send(self.0, data.as_ptr(), data.len(), e))
    }

    pub fn close_send(&self) -> FfiResult<()> {
        with_err(|e| minknow_call_close_send(self.0, e))
    }

    /// The next message; `Ok(None)` at END_OF_STREAM.
    pub fn recv(&self) -> FfiResult<Option<Vec<u8>>> {
        let mut message = ptr::null_mut();
        let mut err = ptr::null_mut();
        let status = minknow_call_recv(self.0, &mut message, &mut err);
        let result = check(status, err);
        match (status, result) {
            (Status::EndOfStream, _) => {
                assert!(message.is_null(), "END_OF_STREAM with a message");
                Ok(None)
            }
            (_, Ok(())) => Ok(Some(take_buffer(message))),
            (_, Err(failure)) => {
                assert!(message.is_null(), "a failed recv left a message");
                Err(failure)
            }
        }
    }

    pub fn cancel(&self) {
        minknow_call_cancel(self.0);
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        minknow_call_free(self.0);
    }
}
