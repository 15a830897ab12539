//! Installing a log callback from C.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::boundary::run;
use super::error::minknow_error;
use crate::error::{Error, Status};
use crate::log::{self, Level};

/// Receives one log message: `level` is a `minknow_log_level` value,
/// `message` is NUL-terminated UTF-8 valid only during the call. It may be
/// called from any thread, including the library's I/O threads, and from
/// several threads at once: it must be thread-safe and must not call back
/// into the library.
pub type minknow_log_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: i32, message: *const c_char)>;

/// Frees `user_data` when the callback is replaced or removed.
pub type minknow_destroy_callback = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

struct CallbackSink {
    callback: unsafe extern "C" fn(*mut c_void, i32, *const c_char),
    user_data: *mut c_void,
    destroy: minknow_destroy_callback,
}

// SAFETY: the caller promises (in the header) that the callback and its
// user data may be used from any thread.
unsafe impl Send for CallbackSink {}
unsafe impl Sync for CallbackSink {}

impl log::Sink for CallbackSink {
    fn write(&self, level: Level, message: &str) {
        let text = super::boundary::c_string(message);
        // SAFETY: a valid C string for the duration of the call.
        unsafe { (self.callback)(self.user_data, level as i32, text.as_ptr()) };
        drop::<CString>(text);
    }
}

impl Drop for CallbackSink {
    fn drop(&mut self) {
        if let Some(destroy) = self.destroy {
            // SAFETY: the caller's destroy function, called once, after
            // the last message to this sink.
            unsafe { destroy(self.user_data) };
        }
    }
}

/// Send the library's log messages up to `max_level` (a
/// `minknow_log_level`) to `callback` with `user_data`. Replaces the
/// previous callback (whose `destroy`, if any, is called once no message
/// is being delivered to it), and stderr logging from `MINKNOW_AUTH_LOG`.
/// A NULL `callback` or `MINKNOW_LOG_LEVEL_OFF` stops logging (and
/// destroys `user_data` at once if `destroy` is given). `user_data` is
/// the library's from this call on: on every error too, `destroy` is
/// called before returning. Messages name the
/// source and step (CA file tried, token source chosen, dial phase); they
/// never hold a token, key or certificate. Never blocks on the network.
/// Errors: INVALID_ARGUMENT (level out of range).
#[no_mangle]
pub extern "C" fn minknow_set_log_callback(
    max_level: i32,
    callback: minknow_log_callback,
    user_data: *mut c_void,
    destroy: minknow_destroy_callback,
    err: *mut *mut minknow_error,
) -> Status {
    run(err, || {
        let Some(level) = Level::from_number(max_level) else {
            // This function owns `user_data` from the start (STYLE: a
            // consuming function takes ownership before any early return).
            if let Some(destroy) = destroy {
                // SAFETY: the caller's destroy function, called once.
                unsafe { destroy(user_data) };
            }
            return Err(Error::new(
                Status::InvalidArgument,
                format!("argument `max_level` = {max_level} is not a minknow_log_level"),
            ));
        };
        match callback {
            Some(callback) if level != Level::Off => {
                let sink = CallbackSink { callback, user_data, destroy };
                log::install(level, Some(Arc::new(sink)));
            }
            _ => {
                log::install(Level::Off, None);
                if let Some(destroy) = destroy {
                    // SAFETY: no sink holds this user data: it was never
                    // installed.
                    unsafe { destroy(user_data) };
                }
            }
        }
        Ok(())
    })
}
