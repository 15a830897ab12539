//! Secrets, through the C ABI, with logging at its most verbose (TRACE, to
//! a callback):
//!
//! - every auth mode, on its happy path and its failure paths: no token
//!   (developer, protocol, local, and wrong ones we send), no line of a
//!   key's, certificate's or CA's PEM body, appears in any log line or in
//!   any error message;
//! - the local token is never sent to a host that is not this machine
//!   unless forced: a simulator on 127.0.0.2 (loopback, but not one of the
//!   reference client's local names) gets no token in AUTO mode, and gets
//!   it when the mode is ON.
//!
//! A test binary of its own: the log sink is process-wide.

mod common;

use std::ffi::{c_char, c_void, CStr};
use std::ptr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use common::{Channel, Failure, Options, Sim, SimBuilder, Status};
use minknow_auth::ffi::log::minknow_set_log_callback;
use minknow_auth::ffi::options::minknow_local_token_mode;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn collect(_user_data: *mut c_void, _level: i32, message: *const c_char) {
    // SAFETY: the library passes a valid C string for the call.
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned();
    LINES.lock().unwrap().push(text);
}

fn install_trace_logging() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let status =
            minknow_set_log_callback(5, Some(collect), ptr::null_mut(), None, ptr::null_mut());
        assert_eq!(status, Status::Ok);
    });
}

/// Everything secret this test knows, and every message it saw.
#[derive(Default)]
struct Watch {
    secrets: Vec<(String, String)>,
    messages: Vec<String>,
}

impl Watch {
    fn secret(&mut self, what: &str, value: &str) {
        assert!(value.len() >= 8, "{what} is too short to search for");
        self.secrets.push((what.to_owned(), value.to_owned()));
    }

    /// Every base64 line of a PEM file's bodies.
    fn pem_body(&mut self, what: &str, path: &str) {
        let text = std::fs::read_to_string(path).unwrap();
        for line in text.lines().filter(|l| !l.starts_with("-----") && l.len() >= 16) {
            self.secret(what, line);
        }
    }

    fn failed<T: std::fmt::Debug>(&mut self, result: Result<T, Failure>, status: Status) {
        match result {
            Err(failure) => {
                assert_eq!(failure.status, status, "{}", failure.message);
                self.messages.push(failure.message);
            }
            Ok(value) => panic!("expected {status:?}, got {value:?}"),
        }
    }

    fn check(&self) -> (usize, usize) {
        let lines = LINES.lock().unwrap().clone();
        for (what, value) in &self.secrets {
            for line in &lines {
                assert!(!line.contains(value.as_str()), "a log line holds {what}: {line}");
            }
            for message in &self.messages {
                assert!(!message.contains(value.as_str()), "an error holds {what}: {message}");
            }
        }
        (lines.len(), self.messages.len())
    }
}

fn connect(sim: &Sim, options: &Options) -> Result<Channel, Failure> {
    Channel::connect("127.0.0.1", sim.ready.manager_port.into(), options)
}

fn base(sim: &Sim) -> Options {
    Options::new().ca(&sim.ready.ca).connect_timeout(Duration::from_secs(5))
}

fn local_token(sim: &Sim) -> String {
    let text = std::fs::read_to_string(sim.ready.token_file.as_ref().unwrap()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["token"].as_str().unwrap().to_owned()
}

#[test]
fn no_secret_in_any_log_line_or_error_message_in_any_mode() {
    install_trace_logging();
    let mut watch = Watch::default();
    let wrong_developer = "wrong-developer-secret-0123456789";
    let wrong_protocol = "wrong-protocol-secret-0123456789";
    watch.secret("a wrong developer token", wrong_developer);
    watch.secret("a wrong protocol token", wrong_protocol);

    // Client certificates: files, PEM bytes, and the ways they go wrong.
    let cert_sim = SimBuilder::auth("client-cert").start();
    let r = &cert_sim.ready;
    watch.pem_body("the client key", &r.client_key);
    watch.pem_body("the client certificate", &r.client_certificate);
    watch.pem_body("the CA", &r.ca);
    let key_pem = std::fs::read(&r.client_key).unwrap();
    let chain_pem = std::fs::read(&r.client_certificate).unwrap();
    let ca_pem = std::fs::read(&r.ca).unwrap();
    let channel = connect(&cert_sim, &base(&cert_sim).cert(&r.client_certificate, &r.client_key));
    assert!(channel.unwrap().manager_version().is_ok());
    let options = Options::new().ca_pem(&ca_pem).cert_pem(&chain_pem, &key_pem);
    assert!(connect(&cert_sim, &options).unwrap().open_position("X1").is_ok());
    watch.failed(
        connect(&cert_sim, &base(&cert_sim).cert_pem(&key_pem, &key_pem)),
        Status::BadCertificate,
    );
    watch.failed(
        connect(&cert_sim, &base(&cert_sim).cert_pem(&chain_pem, &chain_pem)),
        Status::BadKey,
    );
    watch.failed(
        connect(&cert_sim, &base(&cert_sim).cert_pem(&ca_pem, &key_pem)),
        Status::KeyMismatch,
    );
    watch.failed(connect(&cert_sim, &Options::new().ca_pem(&key_pem)), Status::BadCertificate);
    watch.failed(connect(&cert_sim, &base(&cert_sim)), Status::Unauthenticated);

    // Developer tokens: right, wrong.
    let dev_sim = SimBuilder::auth("developer-token").start();
    let developer = dev_sim.ready.developer_token.clone().unwrap();
    watch.secret("the developer token", &developer);
    let channel = connect(&dev_sim, &base(&dev_sim).developer_token(&developer)).unwrap();
    assert_eq!(channel.whoami().token_kind, "developer");
    assert!(channel.open_position("X2").is_ok());
    watch.failed(
        connect(&dev_sim, &base(&dev_sim).developer_token(wrong_developer)),
        Status::Unauthenticated,
    );
    let port = dev_sim.ready.manager_port.into();
    let result =
        Channel::connect_with_token("127.0.0.1", port, Some(&dev_sim.ready.ca), wrong_developer);
    watch.failed(result, Status::Unauthenticated);

    // Protocol tokens: right, wrong.
    let proto_sim = SimBuilder::auth("protocol-token").start();
    let protocol = proto_sim.ready.protocol_token.clone().unwrap();
    watch.secret("the protocol token", &protocol);
    let channel = connect(&proto_sim, &base(&proto_sim).protocol_token(&protocol)).unwrap();
    assert_eq!(channel.whoami().token_kind, "protocol");
    watch.failed(
        connect(&proto_sim, &base(&proto_sim).protocol_token(wrong_protocol)),
        Status::Unauthenticated,
    );

    // The local token: used, refused by mode, a broken file, rotation.
    let local_sim = SimBuilder::auth("local-token").arg("--token-rotate").arg("1").start();
    watch.secret("the local token", &local_token(&local_sim));
    let auto = || base(&local_sim).local_token_mode(minknow_local_token_mode::Auto);
    let channel = connect(&local_sim, &auto()).unwrap();
    assert_eq!(channel.whoami().token_kind, "local");
    let off = base(&local_sim).local_token_mode(minknow_local_token_mode::Off);
    watch.failed(connect(&local_sim, &off), Status::Unauthenticated);
    // Rotations while calls go on: every token it issues is a secret too.
    for _ in 0..3 {
        let before = local_token(&local_sim);
        assert!(
            common::sim::wait_until(Duration::from_secs(5), || local_token(&local_sim) != before)
        );
        watch.secret("a rotated local token", &local_token(&local_sim));
        assert!(channel.whoami().token_kind.starts_with("local"));
    }

    // Guest: nothing to leak, but it logs its steps too.
    let guest_sim = SimBuilder::auth("guest").start();
    assert!(connect(&guest_sim, &base(&guest_sim)).unwrap().manager_version().is_ok());

    let (lines, messages) = watch.check();
    assert!(lines >= 20, "only {lines} log lines at TRACE: is logging on?");
    println!(
        "secrets: {} secrets searched in {lines} log lines and {messages} error messages: none found",
        watch.secrets.len()
    );
}

/// 127.0.0.2 is this machine, but not a name the reference client treats
/// as local: the local token goes there only when forced.
#[test]
fn the_local_token_goes_to_a_remote_host_only_when_forced() {
    install_trace_logging();
    let sim = SimBuilder::auth("guest,local-token").arg("--listen").arg("127.0.0.2").start();
    let port = sim.ready.manager_port.into();
    let options = |mode| base(&sim).local_token_mode(mode);

    let auto =
        Channel::connect("127.0.0.2", port, &options(minknow_local_token_mode::Auto)).unwrap();
    let who = auto.whoami();
    assert_eq!((who.token_header.as_str(), who.token_kind.as_str()), ("", ""), "AUTO sent a token");

    let on = Channel::connect("127.0.0.2", port, &options(minknow_local_token_mode::On)).unwrap();
    assert_eq!(on.whoami().token_kind, "local", "ON must send the local token");

    // The same simulator, local-token only: AUTO to 127.0.0.2 is refused,
    // and the message says the token was not used for that host.
    let strict = SimBuilder::auth("local-token").arg("--listen").arg("127.0.0.2").start();
    let result = Channel::connect(
        "127.0.0.2",
        strict.ready.manager_port.into(),
        &base(&strict).local_token_mode(minknow_local_token_mode::Auto),
    );
    let failure = result.expect_err("no token, no guest mode");
    assert_eq!(failure.status, Status::Unauthenticated, "{}", failure.message);
    assert!(failure.message.contains("127.0.0.2"), "{}", failure.message);
    assert!(!failure.message.contains(&local_token(&strict)), "{}", failure.message);
}
