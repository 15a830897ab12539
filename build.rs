//! Build script: gives the shared library an ABI soname, independent of the
//! package version, so programs linked against one 0.x release load any
//! later 0.x release with the same ABI major.

/// Bump when the C ABI changes incompatibly (and only then).
const ABI_MAJOR: u32 = 0;

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "freebsd" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libminknow_auth.so.{ABI_MAJOR}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
