//! The C ABI's option setters driven by arbitrary bytes: a script of
//! setter calls with arbitrary strings (non-UTF-8, empty, NUL where a
//! string is required) and byte ranges, on one options object. Nothing
//! panics or crashes; every status is OK, NULL_ARGUMENT or
//! INVALID_ARGUMENT; an error object comes exactly with a failure and
//! names an argument; the object is freed at the end (ASan finds leaks).
#![no_main]

use std::ffi::CString;
use std::ptr;

use libfuzzer_sys::fuzz_target;
use minknow_auth::ffi::error::*;
use minknow_auth::ffi::options::*;
use minknow_auth::Status;

/// The next string of the script: a length byte (255: NULL), then bytes
/// up to the first NUL.
fn next_string(data: &mut &[u8]) -> Option<CString> {
    let (&len, rest) = data.split_first()?;
    if len == 255 {
        *data = rest;
        return None;
    }
    let len = usize::from(len).min(rest.len());
    let (bytes, tail) = rest.split_at(len);
    *data = tail;
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    Some(CString::new(&bytes[..end]).unwrap())
}

fn ptr_of(s: &Option<CString>) -> *const std::ffi::c_char {
    s.as_ref().map_or(ptr::null(), |s| s.as_ptr())
}

fn check(status: Status, err: *mut minknow_error) {
    if status == Status::Ok {
        assert!(err.is_null());
        return;
    }
    assert!(matches!(status, Status::NullArgument | Status::InvalidArgument), "{status:?}");
    assert!(!err.is_null());
    assert_eq!(minknow_error_status(err), status);
    // SAFETY: the library returns a NUL-terminated message.
    let message = unsafe { std::ffi::CStr::from_ptr(minknow_error_message(err)) };
    assert!(message.to_bytes().windows(1).count() > 0);
    minknow_error_free(err);
}

fuzz_target!(|data: &[u8]| {
    let mut options = ptr::null_mut();
    assert_eq!(minknow_options_new(&mut options, ptr::null_mut()), Status::Ok);
    let mut script = data;
    let mut steps = 0;
    while let Some((&op, rest)) = script.split_first() {
        script = rest;
        steps += 1;
        if steps > 64 {
            break;
        }
        let mut err = ptr::null_mut();
        let status = match op % 11 {
            0 => {
                let path = next_string(&mut script);
                minknow_options_add_ca_file(options, ptr_of(&path), &mut err)
            }
            1 => {
                let pem = next_string(&mut script).unwrap_or_default();
                let bytes = pem.as_bytes();
                minknow_options_add_ca_pem(options, bytes.as_ptr(), bytes.len(), &mut err)
            }
            2 => {
                let (chain, key) = (next_string(&mut script), next_string(&mut script));
                minknow_options_set_client_certificate_files(
                    options,
                    ptr_of(&chain),
                    ptr_of(&key),
                    &mut err,
                )
            }
            3 => {
                let (chain, key) = (next_string(&mut script), next_string(&mut script));
                let (c, k) = (chain.unwrap_or_default(), key.unwrap_or_default());
                let (c, k) = (c.as_bytes(), k.as_bytes());
                minknow_options_set_client_certificate_pem(
                    options,
                    c.as_ptr(),
                    c.len(),
                    k.as_ptr(),
                    k.len(),
                    &mut err,
                )
            }
            4 => {
                let token = next_string(&mut script);
                minknow_options_set_developer_token(options, ptr_of(&token), &mut err)
            }
            5 => {
                let token = next_string(&mut script);
                minknow_options_set_protocol_token(options, ptr_of(&token), &mut err)
            }
            6 => {
                let mode = script.first().map_or(0, |&b| i32::from(b as i8));
                script = script.get(1..).unwrap_or(&[]);
                minknow_options_set_local_token_mode(options, mode, &mut err)
            }
            7 => {
                let name = next_string(&mut script);
                minknow_options_set_server_name(options, ptr_of(&name), &mut err)
            }
            8 => {
                let on = script.first().is_some_and(|&b| b & 1 == 1);
                minknow_options_set_use_environment(options, on, &mut err)
            }
            9 => {
                let bytes: [u8; 4] =
                    script.get(..4).and_then(|b| b.try_into().ok()).unwrap_or([0; 4]);
                script = script.get(4..).unwrap_or(&[]);
                minknow_options_set_connect_timeout_ms(options, u32::from_le_bytes(bytes), &mut err)
            }
            _ => {
                // A NULL options object, and a NULL error slot.
                let name = next_string(&mut script);
                let status = minknow_options_set_server_name(
                    ptr::null_mut(),
                    ptr_of(&name),
                    ptr::null_mut(),
                );
                assert_eq!(status, Status::NullArgument);
                Status::Ok
            }
        };
        check(status, err);
    }
    minknow_options_free(options);
});
