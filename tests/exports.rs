//! What the built shared library exports is exactly what the header
//! declares: every dynamic symbol is `minknow_*` and declared in
//! `include/minknow_auth.h` (cbindgen silently skips what it cannot parse),
//! and every declared function is exported. The version the library
//! reports at run time is Cargo.toml's and the header's.
//!
//! `scripts/check-install.sh` (make test-cpp) checks the same on the
//! installed, stripped release library.

use std::collections::BTreeSet;
use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `libminknow_auth.so` in cargo's profile directory, the parent of this
/// test binary's `deps/`.
fn shared_library() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let library = dir.join("libminknow_auth.so");
    assert!(library.is_file(), "{} is missing: run `cargo build`", library.display());
    library
}

fn exported() -> BTreeSet<String> {
    let library = shared_library();
    let output = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&library)
        .output()
        .unwrap_or_else(|e| panic!("cannot run nm (binutils): {e}"));
    assert!(output.status.success(), "nm failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2))
        .map(|name| name.split('@').next().unwrap_or(name).to_owned())
        .collect()
}

/// Function names declared in the header: `<type> minknow_name(` at the
/// start of a line (comments start with `//`).
fn declared() -> BTreeSet<String> {
    let header = include_str!("../include/minknow_auth.h");
    header
        .lines()
        .filter(|line| !line.starts_with("//") && !line.starts_with(' '))
        .filter_map(|line| {
            let before_paren = line.split('(').next()?;
            if before_paren.len() == line.len() {
                return None;
            }
            let name = before_paren.rsplit([' ', '*']).next()?;
            name.starts_with("minknow_").then(|| name.to_owned())
        })
        .collect()
}

#[test]
fn every_export_is_prefixed_and_declared() {
    let exported = exported();
    let declared = declared();
    assert!(declared.len() > 50, "found only {} declarations: {declared:?}", declared.len());
    let outside: Vec<_> = exported.iter().filter(|s| !s.starts_with("minknow_")).collect();
    assert!(outside.is_empty(), "exported outside the minknow_ prefix: {outside:?}");
    let undeclared: Vec<_> = exported.difference(&declared).collect();
    assert!(undeclared.is_empty(), "exported but not in minknow_auth.h: {undeclared:?}");
    let missing: Vec<_> = declared.difference(&exported).collect();
    assert!(missing.is_empty(), "declared in minknow_auth.h but not exported: {missing:?}");
}

#[test]
fn runtime_version_is_cargo_toml_and_the_header() {
    let version = minknow_auth::ffi::version::minknow_auth_version();
    // SAFETY: documented as a static NUL-terminated string, never NULL.
    let version = unsafe { CStr::from_ptr(version) }.to_str().expect("UTF-8");
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let header = include_str!("../include/minknow_auth.h");
    let macro_value = |name: &str| -> u32 {
        let prefix = format!("#define {name} ");
        let line = header.lines().find(|l| l.starts_with(&prefix)).expect(name);
        line[prefix.len()..].trim().parse().expect("a number")
    };
    let number = macro_value("MINKNOW_AUTH_VERSION_MAJOR") * 10000
        + macro_value("MINKNOW_AUTH_VERSION_MINOR") * 100
        + macro_value("MINKNOW_AUTH_VERSION_PATCH");
    assert_eq!(minknow_auth::ffi::version::minknow_auth_version_number(), number);
}
