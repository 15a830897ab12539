//! The C API from C and C++: the C header compiles (twice in one unit) as
//! C11 and C++17, and minknow_auth.hpp as C++17, with warnings as errors;
//! `tests/c/test_abi.c`, linked against the built `libminknow_auth.so`,
//! passes against a simulator.
//!
//! The C program runs as its own process, so it may set and unset
//! MinKNOW's environment variables without touching this test process.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::cprog::{self, root, STRICT_C};
use common::SimBuilder;

/// The C program's own limit is about 10 s per blocking check; anything
/// near this means it hung.
const RUN_LIMIT: Duration = Duration::from_secs(90);

const STRICT_CXX: [&str; 5] = ["-std=c++17", "-Wall", "-Wextra", "-pedantic", "-Werror"];

/// Run a compiler; panic with its output when it fails.
fn compile(compiler: &str, args: &[&str], extra: &[&Path]) {
    let output = Command::new(compiler)
        .args(args)
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler} (is it installed?): {e}"));
    assert!(
        output.status.success(),
        "{compiler} {args:?} {extra:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn header_compiles_twice_as_c11_and_cxx17() {
    let dir = tempfile::tempdir().unwrap();
    let include = format!("-I{}", root().join("include").display());
    let source = root().join("tests/c/header_twice.c");
    let object = dir.path().join("header.o");
    let c_args: Vec<&str> =
        STRICT_C.iter().copied().chain([include.as_str(), "-x", "c", "-c"]).collect();
    compile("gcc", &c_args, &[&source, Path::new("-o"), &object]);
    let cxx_args: Vec<&str> =
        STRICT_CXX.iter().copied().chain([include.as_str(), "-x", "c++", "-c"]).collect();
    compile("g++", &cxx_args, &[&source, Path::new("-o"), &object]);
}

/// The C++17 header (with the C header, each twice) as the C++ suite
/// compiles it: `bindings/cpp/tests/header_twice.cpp`.
#[test]
fn cxx_header_compiles_twice_as_cxx17() {
    let dir = tempfile::tempdir().unwrap();
    let include = format!("-I{}", root().join("include").display());
    let source = root().join("bindings/cpp/tests/header_twice.cpp");
    let object = dir.path().join("header_hpp.o");
    let args: Vec<&str> =
        STRICT_CXX.iter().copied().chain([include.as_str(), "-x", "c++", "-c"]).collect();
    compile("g++", &args, &[&source, Path::new("-o"), &object]);
}

#[test]
fn c_program_passes_against_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let program = cprog::build(dir.path(), "test_abi", &[]);
    let sim = SimBuilder::auth("client-cert").start();
    let command = cprog::test_abi_command(Command::new(&program), &sim);
    let output = cprog::run_bounded(command, RUN_LIMIT);
    cprog::check_summary(&output, "test_abi");
}
