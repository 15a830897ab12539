//! The C test program (`tests/c/test_abi.c`) built with AddressSanitizer +
//! UndefinedBehaviorSanitizer (leak detection on) and, built plainly, run
//! under valgrind memcheck, each against a simulator: every check passes,
//! zero sanitizer reports, zero memcheck errors, zero definite or indirect
//! leaks. Suppressions: `tests/c/valgrind.supp`, each justified there.
//!
//! Run by `make test-reliability` (needs valgrind), not by `make test`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::cprog::{self, check_summary, root};
use common::SimBuilder;

/// A valgrind run is 20-50 times slower; this only catches a hang.
const RUN_LIMIT: Duration = Duration::from_secs(240);

#[test]
fn c_program_is_clean_under_asan_and_ubsan() {
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        "-g",
        "-O1",
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=all",
        "-fno-omit-frame-pointer",
    ];
    let program = cprog::build(dir.path(), "test_abi", &flags);
    let sim = SimBuilder::auth("client-cert").start();
    let mut command = cprog::test_abi_command(Command::new(&program), &sim);
    command
        .env("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=23")
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
    let output = cprog::run_bounded(command, RUN_LIMIT);
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
    let program = cprog::build(dir.path(), "test_abi", &["-g", "-O0"]);
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
    let output = cprog::run_bounded(cprog::test_abi_command(valgrind, &sim), RUN_LIMIT);
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
