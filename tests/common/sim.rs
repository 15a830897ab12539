//! Starting `minknow-sim` and reading its ready line.
//!
//! Every simulator is started with `--lifetime 120 --exit-on-stdin-eof` and
//! keeps its stdin piped to us, so it goes away with the test process even
//! when it lives in a `static` that is never dropped.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a simulator may take to print its ready line (it usually takes
/// about 50 ms; a loaded CI machine gets plenty of slack).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// One flow cell position as the ready line lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyPosition {
    pub name: String,
    pub port: u16,
    pub state: String,
}

/// The simulator's ready line.
#[derive(Clone, Debug)]
pub struct Ready {
    pub manager_port: u16,
    pub manager_web_port: u16,
    pub basecaller_port: u16,
    pub positions: Vec<ReadyPosition>,
    pub ca: String,
    pub client_ca: String,
    pub client_certificate: String,
    pub client_key: String,
    pub token_file: Option<String>,
    pub developer_token: Option<String>,
    pub protocol_token: Option<String>,
    pub dir: String,
}

impl Ready {
    /// Parse the JSON line; panics naming the field that is missing.
    pub fn parse(line: &str) -> Ready {
        let json: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("ready line is not JSON ({e}): {line}"));
        let text = |key: &str| -> String {
            json[key].as_str().unwrap_or_else(|| panic!("ready line has no {key}: {line}")).into()
        };
        let maybe = |key: &str| json[key].as_str().map(str::to_owned);
        let port = |value: &serde_json::Value, key: &str| -> u16 {
            let n = value[key].as_u64().unwrap_or_else(|| panic!("no {key} in {line}"));
            u16::try_from(n).unwrap_or_else(|_| panic!("{key} = {n} is not a port"))
        };
        let positions = json["positions"]
            .as_array()
            .unwrap_or_else(|| panic!("ready line has no positions: {line}"))
            .iter()
            .map(|p| ReadyPosition {
                name: p["name"].as_str().expect("position name").to_owned(),
                port: port(p, "port"),
                state: p["state"].as_str().expect("position state").to_owned(),
            })
            .collect();
        Ready {
            manager_port: port(&json, "manager_port"),
            manager_web_port: port(&json, "manager_web_port"),
            basecaller_port: port(&json, "basecaller_port"),
            positions,
            ca: text("ca"),
            client_ca: text("client_ca"),
            client_certificate: text("client_certificate"),
            client_key: text("client_key"),
            token_file: maybe("token_file"),
            developer_token: maybe("developer_token"),
            protocol_token: maybe("protocol_token"),
            dir: text("dir"),
        }
    }

    /// The port of the position called `name`.
    pub fn position_port(&self, name: &str) -> u16 {
        self.positions.iter().find(|p| p.name == name).map(|p| p.port).unwrap_or_else(|| {
            panic!("the ready line has no position {name}: {:?}", self.positions)
        })
    }
}

/// Command-line options for one simulator.
#[derive(Clone, Debug, Default)]
pub struct SimBuilder {
    args: Vec<String>,
}

impl SimBuilder {
    /// `--auth MODES` (comma-separated).
    pub fn auth(modes: &str) -> SimBuilder {
        SimBuilder::default().arg("--auth").arg(modes)
    }

    pub fn arg(mut self, arg: &str) -> SimBuilder {
        self.args.push(arg.to_owned());
        self
    }

    /// Serve on 127.0.0.1 and ::1 (the same ports on both).
    pub fn dual_stack(self) -> SimBuilder {
        self.arg("--listen").arg("127.0.0.1").arg("--listen").arg("::1")
    }

    pub fn start(self) -> Sim {
        Sim::start(&self.args)
    }
}

/// A running simulator; killed when dropped.
pub struct Sim {
    child: Child,
    /// Held open so the simulator exits when we do (`--exit-on-stdin-eof`).
    _stdin: ChildStdin,
    stderr: Arc<Mutex<String>>,
    pub ready: Ready,
}

/// Where cargo put the simulator: next to this test binary's directory
/// (`target/debug/deps/..`), which also honours CARGO_TARGET_DIR.
pub fn sim_binary() -> PathBuf {
    let name = format!("minknow-sim{}", std::env::consts::EXE_SUFFIX);
    let beside_us = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|dir| dir.join(&name)));
    let candidates = [
        beside_us,
        std::env::var_os("CARGO_TARGET_DIR").map(|d| PathBuf::from(d).join("debug").join(&name)),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/debug").join(&name)),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!("{name} is not built: run `cargo build --workspace` first (or `cargo test --workspace`)")
    })
}

impl Sim {
    pub fn start(args: &[String]) -> Sim {
        let binary = sim_binary();
        let mut child = Command::new(&binary)
            .args(["--lifetime", "120", "--exit-on-stdin-eof"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stderr = drain_stderr(&mut child);
        let line = read_ready_line(&mut child);
        let line = match line {
            Ok(line) => line,
            Err(why) => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = stderr.lock().map(|s| s.clone()).unwrap_or_default();
                panic!("minknow-sim {args:?} did not get ready: {why}; stderr:\n{stderr}");
            }
        };
        Sim { child, _stdin: stdin, stderr, ready: Ready::parse(&line) }
    }

    /// What the simulator has written to stderr so far (its rejections).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Kill the simulator at once (SIGKILL: no GOAWAY, connections just drop) and reap it.
    pub fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stop the simulator gracefully (SIGTERM: it sends GOAWAY, drains for about a second and
    /// exits) and reap it; panics if it is still running after `limit`.
    pub fn terminate(&mut self, limit: Duration) {
        // SAFETY: kill(2) on the pid of a child we started and have not reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let exited = wait_until(limit, || matches!(self.child.try_wait(), Ok(Some(_))));
        assert!(exited, "minknow-sim did not exit within {limit:?} of SIGTERM");
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Collect stderr in the background so the pipe never fills up and so a
/// failed start can show it.
fn drain_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let buffer = Arc::new(Mutex::new(String::new()));
    let mut pipe = child.stderr.take().expect("piped stderr");
    let sink = buffer.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        // Ends when the simulator exits and the pipe closes.
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            if let Ok(mut text) = sink.lock() {
                text.push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        }
    });
    buffer
}

/// The first stdout line, read on a helper thread so a simulator that hangs
/// cannot hang the test past READY_TIMEOUT.
fn read_ready_line(child: &mut Child) -> Result<String, String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let result = match reader.read_line(&mut line) {
            Ok(0) => Err("it exited before printing a ready line".to_owned()),
            Ok(_) => Ok(line),
            Err(e) => Err(format!("reading its stdout failed: {e}")),
        };
        let _ = tx.send(result);
        // Keep reading so the simulator never blocks on a full pipe.
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
    });
    rx.recv_timeout(READY_TIMEOUT).unwrap_or_else(|_| Err(format!("no line in {READY_TIMEOUT:?}")))
}

/// Poll `condition` every few milliseconds until it holds or `limit`
/// passes; returns whether it held. For waiting on the simulator's own
/// schedule (token rotation), which has no event to wait on.
pub fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}
