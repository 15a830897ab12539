//! The C ABI. Thin: argument checks, conversions, the panic boundary and
//! handle life cycles; the logic lives in the layers below.
//!
//! Conventions (repeated at the top of the generated header):
//! - Every fallible function returns a `minknow_status`, and takes as its
//!   last argument an optional `minknow_error **` that receives an error
//!   object on failure (NULL on success). Pass NULL to ignore it.
//! - Argument order: handle, inputs, outputs, error.
//! - Inputs are borrowed for the duration of the call only. What the
//!   library returns through an out-parameter is owned by the caller and
//!   freed with the matching `*_free`, which accepts NULL. Out-parameters
//!   are set to NULL (or 0) on failure.
//! - Strings are NUL-terminated UTF-8; a non-UTF-8 string is an error.
//!   Strings returned by accessors are borrowed from their handle and live
//!   as long as it does.
//! - Handles may be used from several threads at once, except that a
//!   handle must not be freed while another thread is still using it.
//! - No panic crosses the boundary: it becomes `MINKNOW_STATUS_PANIC`.

// C names for C types.
#![allow(non_camel_case_types)]
// Exported functions take raw pointers from C by design; each documents
// its pointer contract in the header and checks for NULL.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod boundary;
pub mod buffer;
pub mod call;
pub mod channel;
pub mod diagnose;
pub mod error;
pub mod log;
pub mod manager;
pub mod options;
pub mod version;
