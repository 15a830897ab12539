//! Building and running the C test program (`tests/c/test_abi.c`) against
//! a simulator, shared by the plain run (`c_abi.rs`) and the sanitizer and
//! valgrind runs (`sanitizers.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::Sim;

pub const STRICT_C: [&str; 5] = ["-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror"];

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding `libminknow_auth.so`: cargo's profile directory,
/// the parent of this test binary's `deps/`.
pub fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf();
    let library = dir.join("libminknow_auth.so");
    assert!(library.is_file(), "{} is missing: run `cargo build --workspace`", library.display());
    dir
}

/// Build `tests/c/<name>.c` into `dir` with the strict flags plus `flags`,
/// linked with an rpath to the in-tree library (so it runs without
/// LD_LIBRARY_PATH).
pub fn build(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let library = library_dir();
    let program = dir.join(name);
    let output = Command::new("cc")
        .args(STRICT_C)
        .args(flags)
        .arg(format!("-I{}", root().join("include").display()))
        .arg("-o")
        .arg(&program)
        .arg(root().join(format!("tests/c/{name}.c")))
        .arg(format!("-L{}", library.display()))
        .arg("-lminknow_auth")
        .arg(format!("-Wl,-rpath,{}", library.display()))
        .arg("-lpthread")
        .output()
        .expect("run cc");
    assert!(
        output.status.success(),
        "cc {flags:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    program
}

/// `command` (the program, or valgrind running it) with test_abi's
/// arguments and environment for `sim`: the child's environment only, with
/// MinKNOW's variables as a user sets them and none of the ones that would
/// change the outcome.
pub fn test_abi_command(mut command: Command, sim: &Sim) -> Command {
    let ready = &sim.ready;
    command
        .arg("127.0.0.1")
        .arg(ready.manager_port.to_string())
        .args([&ready.ca, &ready.client_certificate, &ready.client_key])
        .arg(ready.position_port("X1").to_string())
        .arg(ready.position_port("X2").to_string());
    for name in ["MINKNOW_API_USE_LOCAL_TOKEN", "PROTOCOL_TOKEN", "MINKNOW_RPC_PORT_SECURE"] {
        command.env_remove(name);
    }
    command
        .env("MINKNOW_TRUSTED_CA", &ready.ca)
        .env("MINKNOW_API_CLIENT_CERTIFICATE_CHAIN", &ready.client_certificate)
        .env("MINKNOW_API_CLIENT_KEY", &ready.client_key);
    command
}

/// Wait for the program at most `limit`; kill it (by its pid: our own
/// child) if it hangs.
pub fn run_bounded(mut command: Command, limit: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the program");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(output) => output.expect("wait for the program"),
        Err(_) => {
            // SAFETY: kill(2) on the pid of a child we started and still own.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("the program did not finish within {limit:?}");
        }
    }
}

/// The program's "N passed, M failed" last line: asserts M = 0, N >= 100
/// (guards against a program that silently skipped its checks) and a
/// zero exit; returns N.
pub fn check_summary(output: &Output, what: &str) -> u32 {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    let last = stdout.lines().last().unwrap_or("");
    let (passed, failed) =
        parse_summary(last).unwrap_or_else(|| panic!("{what}: no summary line:\n{report}"));
    assert_eq!(failed, 0, "{what}:\n{report}");
    assert!(passed >= 100, "{what}: only {passed} checks ran:\n{report}");
    assert!(output.status.success(), "{what} exited with {}:\n{report}", output.status);
    passed
}

/// "N passed, M failed" into (N, M).
fn parse_summary(line: &str) -> Option<(u32, u32)> {
    let (passed, failed) = line.split_once(" passed, ")?;
    let failed = failed.strip_suffix(" failed")?;
    Some((passed.parse().ok()?, failed.parse().ok()?))
}
