//! The library's version, at compile time (macros) and at run time.

use std::ffi::c_char;

/// Major version of the header. A test checks it matches Cargo.toml.
pub const MINKNOW_AUTH_VERSION_MAJOR: u32 = 0;
/// Minor version of the header.
pub const MINKNOW_AUTH_VERSION_MINOR: u32 = 1;
/// Patch version of the header.
pub const MINKNOW_AUTH_VERSION_PATCH: u32 = 0;

/// The library's version as "MAJOR.MINOR.PATCH", static, never NULL.
/// Compare with the `MINKNOW_AUTH_VERSION_*` macros to detect a header that
/// does not match the library loaded at run time.
#[no_mangle]
pub extern "C" fn minknow_auth_version() -> *const c_char {
    static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}

/// The library's version as MAJOR * 10000 + MINOR * 100 + PATCH.
#[no_mangle]
pub extern "C" fn minknow_auth_version_number() -> u32 {
    let part = |s: &str| s.parse::<u32>().unwrap_or(0);
    part(env!("CARGO_PKG_VERSION_MAJOR")) * 10_000
        + part(env!("CARGO_PKG_VERSION_MINOR")) * 100
        + part(env!("CARGO_PKG_VERSION_PATCH"))
}
