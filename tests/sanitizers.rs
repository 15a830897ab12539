//! The C test program (`tests/c/test_abi.c`) built with AddressSanitizer +
//! UndefinedBehaviorSanitizer (leak detection on) and, built plainly, run
//! under valgrind memcheck, each against a simulator: every check passes,
//! zero sanitizer reports, zero memcheck errors, zero definite or indirect
//! leaks. Suppressions: `tests/c/valgrind.supp`, each justified there.
//!
//! Run by `make test-reliability` (needs valgrind), not by `make test`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Sim, SimBuilder};

/// A valgrind run is 20-50 times slower; this only catches a hang.
const RUN_LIMIT: Duration = Duration::from_secs(240);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf();
    assert!(dir.join("libminknow_auth.so").is_file(), "build the library first");
    dir
}

/// Build `tests/c/<name>.c` with `flags`, linked to the in-tree library.
fn build(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let library = library_dir();
    let program = dir.join(name);
    let source = root().join(format!("tests/c/{name}.c"));
    let output = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror", "-g"])
        .args(flags)
        .arg(format!("-I{}", root().join("include").display()))
        .arg("-o")
        .arg(&program)
        .arg(&source)
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

/// `command` with the program's arguments and environment for `sim`.
fn prepare(mut command: Command, sim: &Sim) -> Command {
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

fn run_bounded(mut command: Command) -> Output {
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
    match rx.recv_timeout(RUN_LIMIT) {
        Ok(output) => output.expect("wait for the program"),
        Err(_) => {
            // SAFETY: kill(2) on the pid of a child we started and still own.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("the program did not finish within {RUN_LIMIT:?}");
        }
    }
}

/// The program's "N passed, M failed" line; asserts M = 0 and N >= 100.
fn check_summary(output: &Output, what: &str) -> u32 {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    let last = stdout.lines().last().unwrap_or("");
    let (passed, failed) = last
        .split_once(" passed, ")
        .and_then(|(p, f)| {
            Some((p.parse::<u32>().ok()?, f.strip_suffix(" failed")?.parse::<u32>().ok()?))
        })
        .unwrap_or_else(|| panic!("{what}: no summary line:\n{report}"));
    assert_eq!(failed, 0, "{what}:\n{report}");
    assert!(passed >= 100, "{what}: only {passed} checks ran:\n{report}");
    assert!(output.status.success(), "{what} exited with {}:\n{report}", output.status);
    passed
}

#[test]
fn c_program_is_clean_under_asan_and_ubsan() {
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        "-O1",
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=all",
        "-fno-omit-frame-pointer",
    ];
    let program = build(dir.path(), "test_abi", &flags);
    let sim = SimBuilder::auth("client-cert").start();
    let mut command = prepare(Command::new(&program), &sim);
    command
        .env("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=23")
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
    let output = run_bounded(command);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for report in ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"] {
        assert!(!stderr.contains(report), "a sanitizer report:\n{stderr}");
    }
    let passed = check_summary(&output, "test_abi under ASan + UBSan");
    println!("ASan + UBSan: {passed} checks passed, no reports");
}

#[test]
fn c_program_is_clean_under_valgrind() {
    let dir = tempfile::tempdir().unwrap();
    let program = build(dir.path(), "test_abi", &["-O0"]);
    let sim = SimBuilder::auth("client-cert").start();
    let suppressions = root().join("tests/c/valgrind.supp");
    let mut valgrind = Command::new("valgrind");
    valgrind
        .args([
            "--leak-check=full",
            "--error-exitcode=1",
            "--errors-for-leak-kinds=definite,indirect",
        ])
        .arg(format!("--suppressions={}", suppressions.display()))
        .arg("--track-fds=no")
        .arg(&program);
    let output = run_bounded(prepare(valgrind, &sim));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let passed = check_summary(&output, "test_abi under valgrind");
    let summary = stderr.lines().rfind(|l| l.contains("ERROR SUMMARY")).unwrap_or("");
    assert!(summary.contains("ERROR SUMMARY: 0 errors"), "memcheck errors:\n{stderr}");
    for kind in ["definitely lost", "indirectly lost"] {
        let line = stderr.lines().find(|l| l.contains(kind));
        assert!(
            line.is_none_or(|l| l.contains(&format!("{kind}: 0 bytes in 0 blocks"))),
            "{kind}:\n{stderr}"
        );
    }
    let possibly =
        stderr.lines().find(|l| l.contains("possibly lost:")).unwrap_or("possibly lost: none");
    println!(
        "valgrind: {passed} checks passed; {summary}; {}",
        possibly.trim_start_matches(|c| c != 'p')
    );
}
