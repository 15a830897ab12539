//! The log callback: what a program installs receives the steps of a
//! connection (which CA, which token source, the TLS phase), never a
//! secret, and its user data is destroyed exactly once when replaced.
//!
//! A test binary of its own because the log sink is process-wide.

mod common;

use std::ffi::{c_char, c_void, CStr};
use std::ptr;
use std::sync::Mutex;

use common::{Channel, Options, SimBuilder};
use minknow_auth::ffi::log::minknow_set_log_callback;
use minknow_auth::Status;

struct Collected {
    lines: Mutex<Vec<(i32, String)>>,
}

unsafe extern "C" fn collect(user_data: *mut c_void, level: i32, message: *const c_char) {
    // SAFETY: user_data is the Collected passed at installation; message
    // is a valid C string for this call.
    let collected = unsafe { &*(user_data as *const Collected) };
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned();
    collected.lines.lock().unwrap().push((level, text));
}

static DESTROYED: Mutex<u32> = Mutex::new(0);

unsafe extern "C" fn destroy(user_data: *mut c_void) {
    *DESTROYED.lock().unwrap() += 1;
    // SAFETY: made with Box::into_raw below; destroyed once.
    drop(unsafe { Box::from_raw(user_data as *mut Collected) });
}

fn install(level: i32) -> *const Collected {
    let collected = Box::into_raw(Box::new(Collected { lines: Mutex::new(Vec::new()) }));
    let status = minknow_set_log_callback(
        level,
        Some(collect),
        collected.cast(),
        Some(destroy),
        ptr::null_mut(),
    );
    assert_eq!(status, Status::Ok);
    collected
}

#[test]
fn steps_are_logged_without_secrets_and_user_data_is_destroyed_once() {
    let sim = SimBuilder::auth("client-cert,developer-token").start();
    let ready = &sim.ready;
    let token = ready.developer_token.clone().expect("developer token");
    let collected = install(5); // trace

    let options = Options::new()
        .ca(&ready.ca)
        .cert(&ready.client_certificate, &ready.client_key)
        .developer_token(&token);
    let manager = Channel::connect("127.0.0.1", i32::from(ready.manager_port), &options).unwrap();
    manager.positions().unwrap();
    drop(manager);

    // SAFETY: still installed, so still alive.
    let lines = unsafe { &*collected }.lines.lock().unwrap().clone();
    let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    let has = |needle: &str| text.iter().any(|l| l.contains(needle));
    assert!(has("trusted CA:") && has(&ready.ca), "no CA step in {text:#?}");
    assert!(has("client certificate: ") && has("minknow-sim client"), "{text:#?}");
    assert!(has("token plan for 127.0.0.1: developer token"), "{text:#?}");
    assert!(has("TLS up with 127.0.0.1"), "{text:#?}");
    assert!(lines.iter().all(|(level, _)| (1..=5).contains(level)));

    let key = std::fs::read_to_string(&ready.client_key).unwrap();
    let key_body = key.lines().nth(1).unwrap();
    for line in &text {
        assert!(!line.contains(&token), "token in log: {line}");
        assert!(!line.contains("-----BEGIN"), "PEM in log: {line}");
        assert!(!line.contains(key_body), "key in log: {line}");
    }

    assert_eq!(*DESTROYED.lock().unwrap(), 0);
    let status = minknow_set_log_callback(0, None, ptr::null_mut(), None, ptr::null_mut());
    assert_eq!(status, Status::Ok);
    assert_eq!(*DESTROYED.lock().unwrap(), 1, "removing the callback destroys its user data");

    // A bad level is refused, and the user data is still destroyed: the
    // call took ownership of it.
    let orphan = Box::into_raw(Box::new(Collected { lines: Mutex::new(Vec::new()) }));
    let bad =
        minknow_set_log_callback(9, Some(collect), orphan.cast(), Some(destroy), ptr::null_mut());
    assert_eq!(bad, Status::InvalidArgument);
    assert_eq!(*DESTROYED.lock().unwrap(), 2, "a refused callback's user data is destroyed");
}
