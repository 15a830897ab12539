//! `minknow_buffer`: message bytes returned to the caller.

use bytes::Bytes;

use super::boundary::run_infallible;

/// Bytes owned by the caller (a reply or a received message); free with
/// `minknow_buffer_free`. Immutable, so it may be read from several threads.
pub struct minknow_buffer {
    bytes: Bytes,
}

impl minknow_buffer {
    pub(crate) fn into_raw(bytes: Bytes) -> *mut minknow_buffer {
        Box::into_raw(Box::new(minknow_buffer { bytes }))
    }
}

/// The bytes, valid until `minknow_buffer_free`. Never NULL for a live
/// buffer, even when it is empty; NULL if `buffer` is NULL.
#[no_mangle]
pub extern "C" fn minknow_buffer_data(buffer: *const minknow_buffer) -> *const u8 {
    run_infallible(std::ptr::null(), || {
        // SAFETY: NULL or a live buffer.
        unsafe { buffer.as_ref() }.map_or(std::ptr::null(), |b| {
            if b.bytes.is_empty() {
                std::ptr::NonNull::dangling().as_ptr()
            } else {
                b.bytes.as_ptr()
            }
        })
    })
}

/// The number of bytes; 0 if `buffer` is NULL.
#[no_mangle]
pub extern "C" fn minknow_buffer_len(buffer: *const minknow_buffer) -> usize {
    // SAFETY: NULL or a live buffer.
    run_infallible(0, || unsafe { buffer.as_ref() }.map_or(0, |b| b.bytes.len()))
}

/// Free a buffer. NULL is ignored.
#[no_mangle]
pub extern "C" fn minknow_buffer_free(buffer: *mut minknow_buffer) {
    if !buffer.is_null() {
        // SAFETY: the pointer came from into_raw and is freed once.
        run_infallible((), || drop(unsafe { Box::from_raw(buffer) }));
    }
}
