//! The C API from C and C++: the C header compiles (twice in one unit) as
//! C11 and C++17, and minknow_auth.hpp as C++17, with warnings as errors;
//! `tests/c/test_abi.c`, linked against the built `libminknow_auth.so`,
//! passes against a simulator.
//!
//! The C program runs as its own process, so it may set and unset
//! MinKNOW's environment variables without touching this test process.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::SimBuilder;

/// The C program's own limit is about 10 s per blocking check; anything
/// near this means it hung.
const RUN_LIMIT: Duration = Duration::from_secs(90);

const STRICT_C: [&str; 5] = ["-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror"];
const STRICT_CXX: [&str; 5] = ["-std=c++17", "-Wall", "-Wextra", "-pedantic", "-Werror"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding `libminknow_auth.so`: cargo's profile directory,
/// the parent of this test binary's `deps/`.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf();
    let library = dir.join("libminknow_auth.so");
    assert!(library.is_file(), "{} is missing: run `cargo build --workspace`", library.display());
    dir
}

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

/// Build `tests/c/test_abi.c` into `dir`, linked with an rpath to the
/// library so it runs without LD_LIBRARY_PATH.
fn build_test_program(dir: &Path) -> PathBuf {
    let library = library_dir();
    let program = dir.join("test_abi");
    let include = format!("-I{}", root().join("include").display());
    let search = format!("-L{}", library.display());
    let rpath = format!("-Wl,-rpath,{}", library.display());
    let mut args: Vec<&str> = STRICT_C.to_vec();
    args.extend([include.as_str(), "-o"]);
    let source = root().join("tests/c/test_abi.c");
    let tail = [search.as_str(), "-lminknow_auth", rpath.as_str(), "-lpthread"];
    let mut extra: Vec<&Path> = vec![&program, &source];
    extra.extend(tail.iter().map(Path::new));
    compile("cc", &args, &extra);
    program
}

/// Wait for the program at most RUN_LIMIT; kill it (by its pid: our own
/// child) if it hangs.
fn run_bounded(mut command: Command) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start test_abi");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(RUN_LIMIT) {
        Ok(output) => output.expect("wait for test_abi"),
        Err(_) => {
            // SAFETY: kill(2) on the pid of a child we started and still own.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("test_abi did not finish within {RUN_LIMIT:?}");
        }
    }
}

#[test]
fn c_program_passes_against_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let program = build_test_program(dir.path());
    let sim = SimBuilder::auth("client-cert").start();
    let ready = &sim.ready;
    let mut command = Command::new(&program);
    command
        .arg("127.0.0.1")
        .arg(ready.manager_port.to_string())
        .args([&ready.ca, &ready.client_certificate, &ready.client_key])
        .arg(ready.position_port("X1").to_string())
        .arg(ready.position_port("X2").to_string());
    // The child's environment only: MinKNOW's variables as a user sets
    // them, and none of the ones that would change the outcome.
    for name in ["MINKNOW_API_USE_LOCAL_TOKEN", "PROTOCOL_TOKEN", "MINKNOW_RPC_PORT_SECURE"] {
        command.env_remove(name);
    }
    command
        .env("MINKNOW_TRUSTED_CA", &ready.ca)
        .env("MINKNOW_API_CLIENT_CERTIFICATE_CHAIN", &ready.client_certificate)
        .env("MINKNOW_API_CLIENT_KEY", &ready.client_key);
    let output = run_bounded(command);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stdout.lines().last().unwrap_or("");
    let report = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(output.status.success(), "test_abi failed ({}):\n{report}", output.status);
    let (passed, failed) = parse_summary(last).unwrap_or_else(|| panic!("no summary:\n{report}"));
    assert_eq!(failed, 0, "{report}");
    // Guards against a program that silently skipped its checks.
    assert!(passed >= 100, "only {passed} checks ran:\n{report}");
}

/// "N passed, M failed" into (N, M).
fn parse_summary(line: &str) -> Option<(u32, u32)> {
    let (passed, failed) = line.split_once(" passed, ")?;
    let failed = failed.strip_suffix(" failed")?;
    Some((passed.parse().ok()?, failed.parse().ok()?))
}
