//! Fork: a process that used the library forks (as R's `parallel` does).
//! In the child, every handle inherited from the parent gives
//! FORKED_HANDLE at once, naming what to do, and freeing them does not
//! hang; a new channel made in the child connects and carries unary and
//! streaming calls. The parent's handles keep working.
//!
//! One test function: the fork happens while no other test thread is
//! inside the library.

mod common;

use std::io::Read;
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};

use common::{proto, Channel, Failure, Options, SimBuilder, Status};

/// The child is killed if it runs longer than this (a hang).
const CHILD_LIMIT: Duration = Duration::from_secs(30);
/// Anything on an inherited handle must answer at once; this bounds "at once".
const INHERITED_LIMIT: Duration = Duration::from_secs(2);

fn forked<T: std::fmt::Debug>(what: &str, result: Result<T, Failure>) -> Result<String, String> {
    match result {
        Err(f)
            if f.status == Status::ForkedHandle
                && f.message.contains("before the process forked") =>
        {
            Ok(format!("{what}: FORKED_HANDLE"))
        }
        other => Err(format!("{what}: expected FORKED_HANDLE, got {other:?}")),
    }
}

/// Everything the child checks; its report, or the first problem.
fn child(
    inherited: &Channel,
    position: &Channel,
    stream: &common::Call,
    options: &Options,
    port: u16,
) -> Result<String, String> {
    let mut report = Vec::new();
    let started = Instant::now();
    report.push(forked("manager_version", inherited.manager_version())?);
    report.push(forked("unary", inherited.unary(proto::MANAGER_VERSION, &[], None))?);
    report.push(forked("call_start", inherited.start(proto::BIDI_ECHO, None))?);
    report.push(forked("open_position", inherited.open_position("X1"))?);
    report.push(forked("open_port", inherited.open_port(port.into()))?);
    report.push(forked("position_version", position.position_version())?);
    report.push(forked("call_send", stream.send(b"x"))?);
    report.push(forked("call_recv", stream.recv())?);
    report.push(forked("call_close_send", stream.close_send())?);
    if started.elapsed() > INHERITED_LIMIT {
        return Err(format!("inherited handles took {:?}", started.elapsed()));
    }

    let fresh = Channel::connect("127.0.0.1", port.into(), options)
        .map_err(|f| format!("a new channel in the child: {f:?}"))?;
    let version = fresh.manager_version().map_err(|f| format!("version in the child: {f:?}"))?;
    if version.major <= 0 {
        return Err(format!("odd version {version:?}"));
    }
    let x1 = fresh.open_position("X1").map_err(|f| format!("X1 in the child: {f:?}"))?;
    x1.position_version().map_err(|f| format!("X1 version in the child: {f:?}"))?;
    let call = fresh
        .start(proto::BIDI_ECHO, Some(Duration::from_secs(10)))
        .map_err(|f| format!("{f:?}"))?;
    call.send(&proto::chunk(b"from the child".to_vec(), 1)).map_err(|f| format!("{f:?}"))?;
    let echo = call.recv().map_err(|f| format!("{f:?}"))?.ok_or("the child's stream ended")?;
    let chunk: proto::Chunk = proto::decode(&echo);
    if chunk.payload != b"from the child" {
        return Err("the child's echo differs".to_owned());
    }
    report.push("new channel, position and stream in the child: OK".to_owned());
    Ok(report.join("; "))
}

#[test]
fn a_forked_child_gets_clear_errors_for_inherited_handles_and_new_channels_work() {
    let sim = SimBuilder::auth("client-cert").start();
    let ready = &sim.ready;
    let options = Options::new()
        .ca(&ready.ca)
        .cert(&ready.client_certificate, &ready.client_key)
        .connect_timeout(Duration::from_secs(5));
    let manager = Channel::connect("127.0.0.1", ready.manager_port.into(), &options).unwrap();
    let position = manager.open_position("X1").unwrap();
    let stream = manager.start(proto::BIDI_ECHO, None).unwrap();
    stream.send(&proto::chunk(vec![1], 1)).unwrap();
    assert!(stream.recv().unwrap().is_some(), "the stream is open before the fork");

    let mut fds = [0; 2];
    // SAFETY: pipe(2) into a two-element array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: fork(2). The child only runs `child` and then _exit, never
    // returning into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let result = child(&manager, &position, &stream, &options, ready.manager_port);
            // Freeing inherited handles must not hang either (they are leaked).
            drop(stream);
            drop(position);
            drop(manager);
            result
        }));
        let (code, text) = match outcome {
            Ok(Ok(report)) => (0, report),
            Ok(Err(problem)) => (1, problem),
            Err(_) => (2, "the child panicked".to_owned()),
        };
        // SAFETY: write(2) of our own buffer to our pipe, then _exit(2)
        // without running the parent's atexit handlers or destructors.
        unsafe {
            libc::write(fds[1], text.as_ptr().cast(), text.len());
            libc::_exit(code);
        }
    }

    // SAFETY: the parent closes its copy of the write end and owns the read end.
    unsafe { libc::close(fds[1]) };
    let mut pipe = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    let deadline = Instant::now() + CHILD_LIMIT;
    let mut status = 0;
    loop {
        // SAFETY: waitpid(2) on our own child, without blocking.
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            break;
        }
        if Instant::now() > deadline {
            // SAFETY: kill(2) on our own child that is still running.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the forked child hung for {CHILD_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut report = String::new();
    pipe.read_to_string(&mut report).unwrap();
    assert!(libc::WIFEXITED(status), "the child did not exit normally ({status}): {report}");
    assert_eq!(libc::WEXITSTATUS(status), 0, "the child failed: {report}");
    println!("child: {report}");

    // The parent's handles are untouched by the child.
    assert!(manager.manager_version().unwrap().major > 0);
    assert!(position.position_version().unwrap().major > 0);
    stream.send(&proto::chunk(vec![2], 2)).unwrap();
    assert!(stream.recv().unwrap().is_some());
}
