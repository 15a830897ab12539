//! Failures through the exported C functions: trust (wrong CA, wrong name,
//! expired server certificate), client identity (untrusted, encrypted,
//! mismatched, missing files), arguments (NULL everywhere, non-UTF-8, bad
//! ports and options), an empty port, and the NULL-safety of accessors and
//! `*_free`. Each asserts the exact status and that the message names the
//! culprit.

mod common;

use std::ffi::c_char;
use std::path::Path;
use std::process::Command;
use std::ptr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::ffi::{c, string, with_err};
use common::{expect_failure, Channel, Options, Sim, SimBuilder, Status};
use minknow_auth::ffi::buffer::*;
use minknow_auth::ffi::call::*;
use minknow_auth::ffi::channel::*;
use minknow_auth::ffi::error::*;
use minknow_auth::ffi::manager::*;
use minknow_auth::ffi::options::*;
use minknow_auth::ffi::version::*;

fn cert_sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| SimBuilder::auth("client-cert").start())
}

fn guest_sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| SimBuilder::auth("guest").start())
}

fn target(sim: &Sim) -> String {
    format!("127.0.0.1:{}", sim.ready.manager_port)
}

fn connect(sim: &Sim, options: &Options) -> Result<Channel, common::Failure> {
    Channel::connect("127.0.0.1", sim.ready.manager_port.into(), options)
}

fn with_sim_cert(sim: &Sim, options: Options) -> Options {
    options.cert(&sim.ready.client_certificate, &sim.ready.client_key)
}

/// A scratch directory for files a test makes, removed at the end.
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

// ---- server trust ----

#[test]
fn wrong_ca_names_the_issuer() {
    let sim = cert_sim();
    let options = with_sim_cert(sim, Options::new().ca(&sim.ready.client_ca));
    let failure = expect_failure(
        connect(sim, &options),
        Status::CertificateVerifyFailed,
        &[&target(sim), "CN=MinKNOW-Sim CA", "MinKNOW-Sim Client CA"],
    );
    assert_eq!(failure.grpc, -1, "no gRPC status: the call never started");
}

#[test]
fn wrong_server_name_is_named() {
    let sim = cert_sim();
    let options = with_sim_cert(sim, Options::new().ca(&sim.ready.ca).server_name("other.example"));
    expect_failure(
        connect(sim, &options),
        Status::CertificateVerifyFailed,
        &[&target(sim), "other.example", "localhost"],
    );
}

#[test]
fn expired_server_certificate() {
    let sim = SimBuilder::auth("guest").arg("--expired-server-cert").start();
    let failure = expect_failure(
        connect(&sim, &Options::new().ca(&sim.ready.ca)),
        Status::CertificateVerifyFailed,
        &[&target(&sim)],
    );
    assert!(failure.message.contains("expired"), "{}", failure.message);
}

/// Trusting a CA that is only in a bundle next to another one still works.
#[test]
fn ca_bundle_in_either_order() {
    let sim = cert_sim();
    let ca = std::fs::read_to_string(&sim.ready.ca).unwrap();
    let other = std::fs::read_to_string(&sim.ready.client_ca).unwrap();
    for bundle in [format!("{other}{ca}"), format!("{ca}{other}")] {
        let options = with_sim_cert(sim, Options::new().ca_pem(bundle.as_bytes()));
        connect(sim, &options).expect("a bundle holding the CA");
    }
}

// ---- client identity ----

/// A self-signed client certificate made here, so no CA the simulator
/// trusts issued it: (certificate PEM, key PEM).
fn untrusted_identity() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "stranger");
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// The simulator refuses the certificate with a TLS alert (UnknownCA) and
/// closes. Over TLS 1.3 that comes after the client's handshake has
/// completed, so the library sees it under its first call, still inside
/// connect. Whether the client reads the alert or first hits the closed
/// socket is a race, so the alert's name is not asserted; either way the
/// status is TLS_FAILED, naming host:port and the likely cause.
#[test]
fn untrusted_client_certificate_fails_at_connect() {
    let sim = cert_sim();
    let (cert, key) = untrusted_identity();
    let options = Options::new().ca(&sim.ready.ca).cert_pem(cert.as_bytes(), key.as_bytes());
    let failure = expect_failure(
        connect(sim, &options),
        Status::TlsFailed,
        &[&target(sim), "client certificate", "rpc-client-certs"],
    );
    assert_ne!(failure.status, Status::Ok);
}

#[test]
fn encrypted_key_is_named() {
    let sim = cert_sim();
    let dir = scratch();
    let encrypted = dir.path().join("encrypted.key");
    let status = Command::new("openssl")
        .args(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:x", "-in"])
        .arg(&sim.ready.client_key)
        .arg("-out")
        .arg(&encrypted)
        .status()
        .expect("openssl must be installed for this test");
    assert!(status.success(), "openssl pkcs8 failed");
    let encrypted = encrypted.display().to_string();
    let options = Options::new().ca(&sim.ready.ca).cert(&sim.ready.client_certificate, &encrypted);
    expect_failure(connect(sim, &options), Status::EncryptedKey, &[&encrypted]);
}

#[test]
fn mismatched_key_is_named() {
    let sim = cert_sim();
    let dir = scratch();
    let other_key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    let key = write(dir.path(), "other.key", &other_key);
    let options = Options::new().ca(&sim.ready.ca).cert(&sim.ready.client_certificate, &key);
    let chain = sim.ready.client_certificate.as_str();
    expect_failure(
        connect(sim, &options),
        Status::KeyMismatch,
        &[&key, "does not belong", "CN=minknow-sim client", chain],
    );
}

#[test]
fn missing_files_are_named() {
    let sim = cert_sim();
    let dir = scratch();
    let missing = |name: &str| dir.path().join(name).display().to_string();
    let (ca, cert, key) = (missing("no-ca.crt"), missing("no-client.crt"), missing("no.key"));
    let ready = &sim.ready;
    let cases = [
        (Options::new().ca(&ca).cert(&ready.client_certificate, &ready.client_key), &ca),
        (Options::new().ca(&ready.ca).cert(&cert, &ready.client_key), &cert),
        (Options::new().ca(&ready.ca).cert(&ready.client_certificate, &key), &key),
    ];
    for (options, path) in cases {
        expect_failure(connect(sim, &options), Status::FileError, &[path.as_str()]);
    }
    // The convenience functions name the argument too.
    let port = ready.manager_port.into();
    let result = Channel::connect_with_certificate(
        "127.0.0.1",
        port,
        Some(&ca),
        &ready.client_certificate,
        &ready.client_key,
    );
    expect_failure(result, Status::FileError, &[&ca, "ca_path"]);
    let result = Channel::connect_with_certificate(
        "127.0.0.1",
        port,
        Some(&ready.ca),
        &cert,
        &ready.client_key,
    );
    expect_failure(result, Status::FileError, &[&cert, "chain_path"]);
    let result = Channel::connect_with_token("127.0.0.1", port, Some(&ca), "token");
    expect_failure(result, Status::FileError, &[&ca]);
}

#[test]
fn directory_as_ca_is_a_file_error() {
    let sim = guest_sim();
    let dir = scratch();
    let path = dir.path().display().to_string();
    expect_failure(connect(sim, &Options::new().ca(&path)), Status::FileError, &[&path]);
}

#[test]
fn pem_that_is_a_path_is_named() {
    let sim = guest_sim();
    let options = Options::new().ca_pem(sim.ready.ca.as_bytes());
    expect_failure(
        connect(sim, &options),
        Status::PemLooksLikePath,
        &["minknow_options_add_ca_pem"],
    );
}

#[test]
fn certificate_where_the_key_belongs() {
    let sim = cert_sim();
    let options =
        Options::new().ca(&sim.ready.ca).cert(&sim.ready.client_certificate, &sim.ready.client_ca);
    expect_failure(connect(sim, &options), Status::BadKey, &[&sim.ready.client_ca]);
}

// ---- hosts and ports ----

#[test]
fn non_utf8_host_is_invalid() {
    let host = b"local\xffhost\0";
    let options = Options::new();
    let mut channel = ptr::null_mut();
    let result =
        with_err(|e| minknow_connect(host.as_ptr().cast(), 9501, options.0, &mut channel, e));
    expect_failure(result, Status::InvalidArgument, &["host", "UTF-8"]);
    assert!(channel.is_null());
}

#[test]
fn ports_out_of_range_are_invalid() {
    let options = Options::new().ca(&guest_sim().ready.ca);
    for port in [0, 70_000, -2, 65_536] {
        let failure = expect_failure(
            Channel::connect("127.0.0.1", port, &options),
            Status::InvalidArgument,
            &["port", &port.to_string()],
        );
        assert_eq!(failure.grpc, -1);
    }
    let manager = connect(guest_sim(), &options).unwrap();
    expect_failure(manager.open_port(0), Status::InvalidArgument, &["port"]);
    expect_failure(manager.open_port(70_000), Status::InvalidArgument, &["70000"]);
}

/// A port nobody listens on: bind one, note it, and close it.
fn unused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn nothing_listening_is_connect_failed_in_time() {
    let port = unused_port();
    let options =
        Options::new().ca(&guest_sim().ready.ca).connect_timeout(Duration::from_millis(1500));
    let start = Instant::now();
    expect_failure(
        Channel::connect("127.0.0.1", port.into(), &options),
        Status::ConnectFailed,
        &[&format!("127.0.0.1:{port}")],
    );
    let took = start.elapsed();
    // 1.5 s budget; a little slack for a loaded machine, far below 10 s.
    assert!(took < Duration::from_millis(2500), "connect took {took:?}");
}

#[test]
fn child_port_with_nothing_listening() {
    let sim = guest_sim();
    let options = Options::new().ca(&sim.ready.ca).connect_timeout(Duration::from_millis(1500));
    let manager = connect(sim, &options).unwrap();
    let port = unused_port();
    expect_failure(manager.open_port(port.into()), Status::ConnectFailed, &[&format!(":{port}")]);
}

// ---- option validation ----

#[test]
fn bad_option_values_are_invalid() {
    let options = Options::new();
    let invalid = |result: Result<(), common::Failure>, needle: &str| {
        expect_failure(result, Status::InvalidArgument, &[needle]);
    };
    invalid(options.set(|o, e| minknow_options_set_connect_timeout_ms(o, 0, e)), "timeout_ms");
    invalid(options.set(|o, e| minknow_options_set_connect_timeout_ms(o, 600_001, e)), "600001");
    invalid(options.set(|o, e| minknow_options_set_local_token_mode(o, 7, e)), "mode");
    let empty = c("");
    invalid(options.set(|o, e| minknow_options_add_ca_file(o, empty.as_ptr(), e)), "path");
    invalid(options.set(|o, e| minknow_options_set_developer_token(o, empty.as_ptr(), e)), "token");
    let spaced = c("bad\ntoken");
    invalid(options.set(|o, e| minknow_options_set_protocol_token(o, spaced.as_ptr(), e)), "token");
    let name = c("not a name!");
    invalid(
        options.set(|o, e| minknow_options_set_server_name(o, name.as_ptr(), e)),
        "not a name!",
    );
    let (chain, key) = (c(""), c("key.pem"));
    invalid(
        options.set(|o, e| {
            minknow_options_set_client_certificate_files(o, chain.as_ptr(), key.as_ptr(), e)
        }),
        "chain_path",
    );
    let result = Channel::connect_with_token("127.0.0.1", 9502, None, "");
    expect_failure(result, Status::InvalidArgument, &["token"]);
}

// ---- NULL arguments ----

/// Call `f` with an error slot; it must fail with NULL_ARGUMENT naming
/// `argument`, and must also survive a NULL error slot.
#[track_caller]
fn null_case(argument: &str, mut f: impl FnMut(*mut *mut minknow_error) -> Status) {
    expect_failure(with_err(&mut f), Status::NullArgument, &[argument]);
    assert_eq!(f(ptr::null_mut()), Status::NullArgument, "{argument} without an error slot");
}

#[test]
fn null_arguments_to_connect_functions() {
    let host = c("127.0.0.1");
    let text = c("x");
    let mut out = ptr::null_mut();
    let out_ptr: *mut *mut minknow_channel = &mut out;
    let none: *const c_char = ptr::null();
    null_case("host", |e| minknow_connect(none, 1, ptr::null(), out_ptr, e));
    null_case("out_channel", |e| {
        minknow_connect(host.as_ptr(), 1, ptr::null(), ptr::null_mut(), e)
    });
    let (h, t) = (host.as_ptr(), text.as_ptr());
    null_case("host", |e| minknow_connect_with_certificate(none, 1, none, t, t, out_ptr, e));
    null_case("chain_path", |e| minknow_connect_with_certificate(h, 1, none, none, t, out_ptr, e));
    null_case("key_path", |e| minknow_connect_with_certificate(h, 1, none, t, none, out_ptr, e));
    null_case("out_channel", |e| {
        minknow_connect_with_certificate(h, 1, none, t, t, ptr::null_mut(), e)
    });
    null_case("host", |e| minknow_connect_with_token(none, 1, none, t, out_ptr, e));
    null_case("token", |e| minknow_connect_with_token(h, 1, none, none, out_ptr, e));
    null_case("out_channel", |e| minknow_connect_with_token(h, 1, none, t, ptr::null_mut(), e));
    assert!(out.is_null());
}

#[test]
fn null_arguments_to_channel_functions() {
    let sim = guest_sim();
    let manager = connect(sim, &Options::new().ca(&sim.ready.ca)).unwrap();
    let ch = manager.0 as *const minknow_channel;
    let no_channel: *const minknow_channel = ptr::null();
    let name = c("X1");
    let mut out = ptr::null_mut();
    let out_ptr: *mut *mut minknow_channel = &mut out;
    null_case("channel", |e| minknow_channel_open_port(no_channel, 1, out_ptr, e));
    null_case("out_channel", |e| minknow_channel_open_port(ch, 1, ptr::null_mut(), e));
    null_case("channel", |e| minknow_channel_open_position(no_channel, name.as_ptr(), out_ptr, e));
    null_case("name", |e| minknow_channel_open_position(ch, ptr::null(), out_ptr, e));
    null_case("out_channel", |e| {
        minknow_channel_open_position(ch, name.as_ptr(), ptr::null_mut(), e)
    });
    null_case("channel", |e| minknow_channel_open_basecaller(no_channel, out_ptr, e));
    null_case("out_channel", |e| minknow_channel_open_basecaller(ch, ptr::null_mut(), e));
    assert!(out.is_null());
}

#[test]
fn null_arguments_to_manager_functions() {
    let sim = guest_sim();
    let manager = connect(sim, &Options::new().ca(&sim.ready.ca)).unwrap();
    let ch = manager.0 as *const minknow_channel;
    let none: *const minknow_channel = ptr::null();
    let mut version = ptr::null_mut();
    let mut host = ptr::null_mut();
    let mut positions = ptr::null_mut();
    let mut port = 0u16;
    null_case("channel", |e| minknow_manager_version(none, &mut version, e));
    null_case("out_info", |e| minknow_manager_version(ch, ptr::null_mut(), e));
    null_case("channel", |e| minknow_position_version(none, &mut version, e));
    null_case("out_info", |e| minknow_position_version(ch, ptr::null_mut(), e));
    null_case("channel", |e| minknow_manager_describe_host(none, &mut host, e));
    null_case("out_info", |e| minknow_manager_describe_host(ch, ptr::null_mut(), e));
    null_case("channel", |e| minknow_manager_positions(none, &mut positions, e));
    null_case("out_positions", |e| minknow_manager_positions(ch, ptr::null_mut(), e));
    null_case("channel", |e| minknow_manager_basecaller_port(none, &mut port, e));
    null_case("out_port", |e| minknow_manager_basecaller_port(ch, ptr::null_mut(), e));
    assert!(version.is_null() && host.is_null() && positions.is_null());
}

#[test]
fn null_arguments_to_call_functions() {
    let sim = guest_sim();
    let manager = connect(sim, &Options::new().ca(&sim.ready.ca)).unwrap();
    let ch = manager.0 as *const minknow_channel;
    let none: *const minknow_channel = ptr::null();
    let method = c(common::proto::ECHO);
    let m = method.as_ptr();
    let data = [1u8, 2, 3];
    let mut reply = ptr::null_mut();
    let mut out_call = ptr::null_mut();
    null_case("channel", |e| minknow_unary(none, m, data.as_ptr(), 3, 0, &mut reply, e));
    null_case("method", |e| minknow_unary(ch, ptr::null(), data.as_ptr(), 3, 0, &mut reply, e));
    null_case("request", |e| minknow_unary(ch, m, ptr::null(), 3, 0, &mut reply, e));
    null_case("out_reply", |e| minknow_unary(ch, m, data.as_ptr(), 3, 0, ptr::null_mut(), e));
    null_case("channel", |e| minknow_call_start(none, m, 0, &mut out_call, e));
    null_case("method", |e| minknow_call_start(ch, ptr::null(), 0, &mut out_call, e));
    null_case("out_call", |e| minknow_call_start(ch, m, 0, ptr::null_mut(), e));
    assert!(reply.is_null() && out_call.is_null());

    let call = manager.start(common::proto::BIDI_ECHO, None).unwrap();
    let live = call.0 as *const minknow_call;
    let no_call: *const minknow_call = ptr::null();
    let mut message = ptr::null_mut();
    null_case("call", |e| minknow_call_send(no_call, data.as_ptr(), 3, e));
    null_case("data", |e| minknow_call_send(live, ptr::null(), 3, e));
    null_case("call", |e| minknow_call_close_send(no_call, e));
    null_case("call", |e| minknow_call_recv(no_call, &mut message, e));
    null_case("out_message", |e| minknow_call_recv(live, ptr::null_mut(), e));
    assert!(message.is_null());
    // NULL with length 0 is an empty message, not an error.
    call.send(&[]).unwrap();
    assert_eq!(with_err(|e| minknow_call_send(live, ptr::null(), 0, e)), Ok(()));
    minknow_call_cancel(ptr::null());
}

#[test]
fn null_arguments_to_option_functions() {
    let options = Options::new();
    let o = options.0;
    let no: *mut minknow_options = ptr::null_mut();
    let text = c("x");
    let t = text.as_ptr();
    let none: *const c_char = ptr::null();
    let pem = b"pem";
    null_case("out_options", |e| minknow_options_new(ptr::null_mut(), e));
    null_case("options", |e| minknow_options_add_ca_file(no, t, e));
    null_case("path", |e| minknow_options_add_ca_file(o, none, e));
    null_case("options", |e| minknow_options_add_ca_pem(no, pem.as_ptr(), 3, e));
    null_case("pem", |e| minknow_options_add_ca_pem(o, ptr::null(), 3, e));
    null_case("options", |e| minknow_options_set_client_certificate_files(no, t, t, e));
    null_case("chain_path", |e| minknow_options_set_client_certificate_files(o, none, t, e));
    null_case("key_path", |e| minknow_options_set_client_certificate_files(o, t, none, e));
    let p = pem.as_ptr();
    null_case("options", |e| minknow_options_set_client_certificate_pem(no, p, 3, p, 3, e));
    null_case("chain_pem", |e| {
        minknow_options_set_client_certificate_pem(o, ptr::null(), 3, p, 3, e)
    });
    null_case("key_pem", |e| {
        minknow_options_set_client_certificate_pem(o, p, 3, ptr::null(), 3, e)
    });
    null_case("options", |e| minknow_options_set_developer_token(no, t, e));
    null_case("token", |e| minknow_options_set_developer_token(o, none, e));
    null_case("options", |e| minknow_options_set_protocol_token(no, t, e));
    null_case("token", |e| minknow_options_set_protocol_token(o, none, e));
    null_case("options", |e| minknow_options_set_local_token_mode(no, 0, e));
    null_case("options", |e| minknow_options_set_server_name(no, t, e));
    null_case("name", |e| minknow_options_set_server_name(o, none, e));
    null_case("options", |e| minknow_options_set_use_environment(no, true, e));
    null_case("options", |e| minknow_options_set_connect_timeout_ms(no, 1000, e));
}

#[test]
fn accessors_of_null_give_defaults() {
    assert_eq!(minknow_error_status(ptr::null()), Status::NullArgument);
    assert_eq!(minknow_error_grpc_status(ptr::null()), -1);
    assert_eq!(string(minknow_error_message(ptr::null())), "");
    assert_eq!(string(minknow_channel_host(ptr::null())), "");
    assert_eq!(minknow_channel_port(ptr::null()), 0);
    assert!(minknow_buffer_data(ptr::null()).is_null());
    assert_eq!(minknow_buffer_len(ptr::null()), 0);
    assert_eq!(minknow_version_info_major(ptr::null()), 0);
    assert_eq!(minknow_version_info_minor(ptr::null()), 0);
    assert_eq!(minknow_version_info_patch(ptr::null()), 0);
    assert_eq!(string(minknow_version_info_full(ptr::null())), "");
    assert_eq!(string(minknow_version_info_bream(ptr::null())), "");
    assert_eq!(string(minknow_version_info_distribution(ptr::null())), "");
    assert_eq!(string(minknow_host_info_product_code(ptr::null())), "");
    assert_eq!(string(minknow_host_info_description(ptr::null())), "");
    assert_eq!(string(minknow_host_info_serial(ptr::null())), "");
    assert_eq!(string(minknow_host_info_network_name(ptr::null())), "");
    assert_eq!(minknow_positions_count(ptr::null()), 0);
    assert_eq!(string(minknow_positions_name(ptr::null(), 0)), "");
    assert_eq!(minknow_positions_state(ptr::null(), 0), -1);
    assert_eq!(string(minknow_positions_state_name(ptr::null(), 0)), "");
    assert_eq!(minknow_positions_secure_port(ptr::null(), 0), 0);
    assert_eq!(string(minknow_positions_error_info(ptr::null(), 0)), "");
    assert!(!minknow_positions_is_simulated(ptr::null(), 0));
    assert!(!minknow_positions_is_integrated(ptr::null(), 0));
    assert_eq!(string(minknow_positions_parent_name(ptr::null(), 0)), "");
}

#[test]
fn positions_out_of_range_give_defaults() {
    let sim = guest_sim();
    let manager = connect(sim, &Options::new().ca(&sim.ready.ca)).unwrap();
    let mut list = ptr::null_mut();
    with_err(|e| minknow_manager_positions(manager.0, &mut list, e)).unwrap();
    assert_eq!(minknow_positions_count(list), 3);
    for index in [3, usize::MAX] {
        assert_eq!(string(minknow_positions_name(list, index)), "");
        assert_eq!(minknow_positions_state(list, index), -1);
        assert_eq!(string(minknow_positions_state_name(list, index)), "");
        assert_eq!(minknow_positions_secure_port(list, index), 0);
        assert!(!minknow_positions_is_simulated(list, index));
    }
    minknow_positions_free(list);
}

#[test]
fn every_free_accepts_null() {
    minknow_buffer_free(ptr::null_mut());
    minknow_call_free(ptr::null_mut());
    minknow_channel_free(ptr::null_mut());
    minknow_error_free(ptr::null_mut());
    minknow_version_info_free(ptr::null_mut());
    minknow_host_info_free(ptr::null_mut());
    minknow_positions_free(ptr::null_mut());
    minknow_options_free(ptr::null_mut());
}

#[test]
fn status_names_and_version() {
    assert_eq!(string(minknow_status_name(Status::Ok)), "ok");
    assert_eq!(string(minknow_status_name(Status::FileError)), "file error");
    let names: Vec<String> = [
        Status::EndOfStream,
        Status::NullArgument,
        Status::CertificateVerifyFailed,
        Status::Unauthenticated,
        Status::PositionNotRunning,
        Status::Internal,
    ]
    .into_iter()
    .map(|s| string(minknow_status_name(s)))
    .collect();
    for name in &names {
        assert!(!name.is_empty() && *name == name.to_lowercase(), "{name:?}");
    }
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "names repeat: {names:?}");
    assert_eq!(string(minknow_auth_version()), env!("CARGO_PKG_VERSION"));
    let number = MINKNOW_AUTH_VERSION_MAJOR * 10_000
        + MINKNOW_AUTH_VERSION_MINOR * 100
        + MINKNOW_AUTH_VERSION_PATCH;
    assert_eq!(minknow_auth_version_number(), number);
}
