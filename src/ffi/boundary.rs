//! The panic boundary and argument conversions shared by every export.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::error::minknow_error;
use crate::error::{Error, Result, Status};

/// Run `body` behind the panic boundary: its error (or a caught panic)
/// becomes the returned status and, when `err` is not NULL, an error object.
pub fn run(err: *mut *mut minknow_error, body: impl FnOnce() -> Result<()>) -> Status {
    if !err.is_null() {
        // SAFETY: the caller passes either NULL or a writable pointer.
        unsafe { *err = std::ptr::null_mut() };
    }
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(Error::new(Status::Panic, format!("internal error (please report): {what}")))
    });
    match outcome {
        Ok(()) => Status::Ok,
        Err(e) => {
            let status = e.status();
            if !err.is_null() {
                // SAFETY: checked non-NULL above; the caller owns the slot.
                unsafe { *err = minknow_error::into_raw(e) };
            }
            status
        }
    }
}

/// Like [`run`] for functions that cannot report errors (accessors):
/// a panic yields `fallback`.
pub fn run_infallible<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

pub fn null(name: &str) -> Error {
    Error::new(Status::NullArgument, format!("argument `{name}` is NULL"))
}

/// A borrowed, required, UTF-8 C string argument.
pub fn text<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(null(name));
    }
    // SAFETY: the caller passes a NUL-terminated string valid for the call.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            Status::InvalidArgument,
            format!("argument `{name}` is not valid UTF-8 (byte {})", e.valid_up_to()),
        )
    })
}

/// An optional UTF-8 C string argument: NULL means "not given".
pub fn optional_text<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    text(ptr, name).map(Some)
}

/// A borrowed byte range; NULL is allowed only with length 0.
pub fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        return if len == 0 { Ok(&[]) } else { Err(null(name)) };
    }
    // SAFETY: the caller passes `len` readable bytes at `ptr`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A required borrowed handle.
pub fn handle<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    // SAFETY: the caller passes NULL or a live handle of this type.
    unsafe { ptr.as_ref() }.ok_or_else(|| null(name))
}

/// A required out-parameter, cleared before anything else happens.
pub fn out<'a, T>(ptr: *mut *mut T, name: &str) -> Result<&'a mut *mut T> {
    // SAFETY: the caller passes NULL or a writable pointer slot.
    let slot = unsafe { ptr.as_mut() }.ok_or_else(|| null(name))?;
    *slot = std::ptr::null_mut();
    Ok(slot)
}

/// A port argument: 1..=65535.
pub fn port(value: i32, name: &str) -> Result<u16> {
    u16::try_from(value).ok().filter(|&p| p != 0).ok_or_else(|| {
        Error::new(
            Status::InvalidArgument,
            format!("argument `{name}` = {value} is not a port (1-65535)"),
        )
    })
}

/// A NUL-terminated copy of `s` for returning to C. Interior NULs (which
/// no MinKNOW string should hold) are replaced so the text is not cut.
pub fn c_string(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default()
}
