//! `minknow_diagnose` through the C ABI: the report is JSON in a
//! NUL-terminated `minknow_buffer`, a failed connection is a report (not an
//! error), and bad arguments are errors.

mod common;

use std::ffi::{c_char, CStr};
use std::ptr;

use common::ffi::{c, check, Options};
use common::{SimBuilder, Status};
use minknow_auth::ffi::buffer::*;
use minknow_auth::ffi::channel::MINKNOW_PORT_DEFAULT;
use minknow_auth::ffi::diagnose::minknow_diagnose;
use minknow_auth::ffi::error::minknow_error;
use serde_json::Value;

/// Call `minknow_diagnose` and parse the report it hands back.
fn diagnose(host: &str, port: i32, options: &Options) -> Value {
    let host = c(host);
    let mut report: *mut minknow_buffer = ptr::null_mut();
    let mut err: *mut minknow_error = ptr::null_mut();
    let status = minknow_diagnose(host.as_ptr(), port, options.0, &mut report, &mut err);
    check(status, err).expect("minknow_diagnose");
    assert!(!report.is_null());
    let len = minknow_buffer_len(report);
    let data = minknow_buffer_data(report);
    // SAFETY: the library promises len bytes and then a NUL.
    let bytes = unsafe { std::slice::from_raw_parts(data, len + 1) };
    assert_eq!(bytes[len], 0, "the JSON text is NUL-terminated");
    // SAFETY: NUL-terminated, checked above.
    let text = unsafe { CStr::from_ptr(data.cast::<c_char>()) }.to_str().unwrap().to_owned();
    assert_eq!(text.len(), len);
    minknow_buffer_free(report);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn a_working_connection() {
    let sim = SimBuilder::auth("developer-token").start();
    let token = sim.ready.developer_token.clone().unwrap();
    let options = Options::new().ca(&sim.ready.ca).developer_token(&token);
    let report = diagnose("127.0.0.1", sim.ready.manager_port.into(), &options);
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["schema"], "minknow-auth-doctor/1");
    assert_eq!(report["steps"].as_array().unwrap().len(), 6);
    assert_eq!(report["steps"][5]["details"]["credentials"], "developer token");
    assert!(!report.to_string().contains(&token), "the report shows the token");
}

#[test]
fn a_failed_connection_is_a_report_with_the_cause() {
    let sim = SimBuilder::auth("guest").start();
    let options = Options::new().ca(&sim.ready.client_ca);
    let report = diagnose("127.0.0.1", sim.ready.manager_port.into(), &options);
    assert_eq!(report["ok"], false);
    assert_eq!(report["diagnosis"]["step"], "tls", "{report:#}");
    assert_eq!(report["diagnosis"]["cause"], "wrong_ca");
}

#[test]
fn default_port_and_null_options() {
    // NULL options are the defaults; the port follows the reference
    // client's rule. The host is malformed, so nothing is dialled (no
    // test may aim at a port it did not open).
    let host = c("not a host");
    let mut report: *mut minknow_buffer = ptr::null_mut();
    let status = minknow_diagnose(
        host.as_ptr(),
        MINKNOW_PORT_DEFAULT,
        ptr::null(),
        &mut report,
        ptr::null_mut(),
    );
    assert_eq!(status, Status::Ok);
    let len = minknow_buffer_len(report);
    // SAFETY: len readable bytes.
    let text = unsafe { std::slice::from_raw_parts(minknow_buffer_data(report), len) }.to_vec();
    minknow_buffer_free(report);
    let report: Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(report["port"], 9502, "{report:#}");
    assert_eq!(report["port_reason"], "default without a client certificate");
    assert_eq!(report["diagnosis"]["step"], "resolve");
    assert_eq!(report["diagnosis"]["cause"], "invalid_argument");
}

#[test]
fn bad_arguments_are_errors() {
    let host = c("127.0.0.1");
    let mut report: *mut minknow_buffer = ptr::null_mut();
    let mut err = ptr::null_mut();
    let status = minknow_diagnose(ptr::null(), 1, ptr::null(), &mut report, &mut err);
    assert_eq!(check(status, err).unwrap_err().status, Status::NullArgument);
    assert!(report.is_null());

    let mut err = ptr::null_mut();
    let status = minknow_diagnose(host.as_ptr(), 70000, ptr::null(), &mut report, &mut err);
    let failure = check(status, err).unwrap_err();
    assert_eq!(failure.status, Status::InvalidArgument);
    assert!(failure.message.contains("port"), "{}", failure.message);

    let mut err = ptr::null_mut();
    let status = minknow_diagnose(host.as_ptr(), 1, ptr::null(), ptr::null_mut(), &mut err);
    assert_eq!(check(status, err).unwrap_err().status, Status::NullArgument);

    let bad = [0xffu8, 0];
    let mut err = ptr::null_mut();
    let status = minknow_diagnose(bad.as_ptr().cast(), 1, ptr::null(), &mut report, &mut err);
    assert_eq!(check(status, err).unwrap_err().status, Status::InvalidArgument);
    assert!(report.is_null());
}
