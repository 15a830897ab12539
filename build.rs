//! Build script: gives the shared library an ABI soname, independent of the
//! package version, so programs linked against one 0.x release load any
//! later 0.x release with the same ABI major.

use std::path::{Path, PathBuf};

/// Bump when the C ABI changes incompatibly (and only then).
const ABI_MAJOR: u32 = 0;

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "freebsd" {
        let soname = format!("libminknow_auth.so.{ABI_MAJOR}");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
        link_soname_in_profile_dir(&soname);
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// Programs linked against `target/<profile>/libminknow_auth.so` ask the
/// loader for the soname, so put a `libminknow_auth.so.0` symlink beside the
/// library, as an install would. The profile directory is three levels
/// above OUT_DIR (`<profile>/build/<pkg>-<hash>/out`); when the layout is
/// not that, nothing is done.
fn link_soname_in_profile_dir(soname: &str) {
    let Some(out_dir) = std::env::var_os("OUT_DIR").map(PathBuf::from) else { return };
    let Some(profile_dir) = out_dir.ancestors().nth(3) else { return };
    if profile_dir.join("build") != out_dir.ancestors().nth(2).unwrap_or(Path::new("")) {
        return;
    }
    let link = profile_dir.join(soname);
    if std::fs::symlink_metadata(&link).is_err() {
        #[cfg(unix)]
        let _ = std::os::unix::fs::symlink("libminknow_auth.so", &link);
    }
}
