//! Interop against gRPC C-core, which is what MinKNOW is: a Python `grpcio`
//! server (tests/interop/server.py) with certificates in MinKNOW's shapes
//! (tests/interop/make_certs.sh), driven through the library's C functions.
//!
//! The matrix: every server certificate shape (`v1`, `cn_only`, `san`) x
//! every dialled host (`localhost`, `127.0.0.1`, `::1`) x every auth mode
//! (client certificate; local token read through the manager's
//! `local_authentication_token_path`). Each case connects, decodes the
//! version, lists positions, opens a position, makes a raw unary call and a
//! bidirectional call. Then the special cases: regenerated-CA bundles,
//! foreign CAs, odd client certificates, untrusted client certificates.
//!
//! Needs `python3` with grpcio: `pip install -r tests/interop/requirements.txt`.
//! Without it these tests fail (they never skip).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

use common::ffi::{Position, Version};
use common::proto::{Chunk, StreamRequest, StreamSummary, WhoAmIResponse};
use common::proto::{BIDI_ECHO, CLIENT_STREAM, ECHO, SERVER_STREAM};
use common::{Channel, Failure, Options, Status};
use minknow_auth::ffi::options::minknow_local_token_mode;
use prost::Message;

const PYTHON: &str = "python3";
/// Bound on the server's own life, in case this process dies without
/// closing its stdin.
const SERVER_LIFETIME_S: &str = "120";
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const CALL_TIMEOUT: Option<Duration> = Some(Duration::from_secs(20));
const POSITIONS: &str = "/minknow_api.manager.ManagerService/flow_cell_positions";

// ---------------------------------------------------------------------------
// Certificates, stubs and servers, made once per test process.

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn certs(&self) -> PathBuf {
        self.dir.path().join("certs")
    }

    fn stubs(&self) -> PathBuf {
        self.dir.path().join("stubs")
    }

    fn client(&self, file: &str) -> PathBuf {
        self.certs().join("client").join(file)
    }
}

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// Run a setup command; panic with its output when it fails.
fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn require_grpcio() {
    let output = Command::new(PYTHON).args(["-c", "import grpc, grpc_tools.protoc"]).output();
    let why = match output {
        Ok(o) if o.status.success() => return,
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
        Err(e) => format!("cannot run {PYTHON}: {e}"),
    };
    panic!(
        "the interop tests need Python's grpcio and grpcio-tools: run \
         `pip install -r tests/interop/requirements.txt` ({why})"
    );
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        require_grpcio();
        let fixture = Fixture { dir: tempfile::tempdir().expect("temp dir") };
        run(
            Command::new("sh").arg(interop_dir().join("make_certs.sh")).arg(fixture.certs()),
            "make_certs.sh",
        );
        std::fs::create_dir_all(fixture.stubs()).expect("stubs dir");
        let proto = Path::new(env!("CARGO_MANIFEST_DIR")).join("proto");
        run(
            Command::new(PYTHON)
                .args(["-m", "grpc_tools.protoc"])
                .arg(format!("-I{}", proto.display()))
                .arg(format!("--python_out={}", fixture.stubs().display()))
                .arg(format!("--grpc_python_out={}", fixture.stubs().display()))
                .args([
                    "minknow_api/manager.proto",
                    "minknow_api/instance.proto",
                    "minknow_sim/test.proto",
                ])
                .current_dir(&proto),
            "grpc_tools.protoc",
        );
        fixture
    })
}

/// The server certificate shapes make_certs.sh produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    V1,
    CnOnly,
    San,
    Regen,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::V1 => "v1",
            Shape::CnOnly => "cn_only",
            Shape::San => "san",
            Shape::Regen => "regen",
        }
    }

    fn file(self, file: &str) -> PathBuf {
        fixture().certs().join(self.name()).join(file)
    }
}

/// How a case authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// The client certificate from the client CA, and no token.
    ClientCert,
    /// No certificate; the local token, found through the manager.
    LocalToken,
}

impl Mode {
    /// Which kind of server port serves this mode (see server.py).
    fn port_kind(self) -> &'static str {
        match self {
            Mode::ClientCert => "cert",
            Mode::LocalToken => "token",
        }
    }
}

/// A running server.py. Its stdin is held open for as long as this process
/// lives; when the process exits the pipe closes and the server ends.
struct Server {
    ready: serde_json::Value,
    _child: Child,
    _stdin: ChildStdin,
    _state: tempfile::TempDir,
}

impl Server {
    fn start(shape: Shape) -> Server {
        let fixture = fixture();
        let state = tempfile::tempdir().expect("state dir");
        let stderr_path = state.path().join("stderr.txt");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut child = Command::new(PYTHON)
            .arg(interop_dir().join("server.py"))
            .arg("--certs")
            .arg(fixture.certs())
            .args(["--shape", shape.name()])
            .arg("--stubs")
            .arg(fixture.stubs())
            .arg("--state-dir")
            .arg(state.path())
            .args(["--listen", "127.0.0.1", "--listen", "[::1]"])
            .args(["--lifetime", SERVER_LIFETIME_S])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start server.py");
        let stdin = child.stdin.take().expect("server stdin");
        let stdout = child.stdout.take().expect("server stdout");
        // Read the ready line on a thread, so a server that never says it
        // is ready cannot hang the test.
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = send.send(line);
        });
        let line = receive.recv_timeout(READY_TIMEOUT).unwrap_or_default();
        let ready = serde_json::from_str(&line).unwrap_or_else(|e| {
            let _ = child.kill();
            let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            panic!("server.py ({shape:?}) gave no ready line ({e}): {line:?}\n{stderr}")
        });
        Server { ready, _child: child, _stdin: stdin, _state: state }
    }

    /// The port of `role` ("manager", "position", "basecaller") for `mode`,
    /// on the address family `host` dials (`localhost` as 127.0.0.1; the
    /// server binds both families on one port when it can).
    fn port(&self, role: &str, mode: Mode, host: &str) -> u16 {
        let address = if host == "::1" { "::1" } else { "127.0.0.1" };
        let port = &self.ready["ports"][role][mode.port_kind()][address];
        let port = port.as_u64().unwrap_or_else(|| panic!("no {role} port in {}", self.ready));
        u16::try_from(port).expect("port")
    }

    fn str(&self, key: &str) -> &str {
        self.ready[key].as_str().unwrap_or_else(|| panic!("no {key} in {}", self.ready))
    }
}

fn server(shape: Shape) -> &'static Server {
    static SERVERS: [OnceLock<Server>; 4] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match shape {
        Shape::V1 => &SERVERS[0],
        Shape::CnOnly => &SERVERS[1],
        Shape::San => &SERVERS[2],
        Shape::Regen => &SERVERS[3],
    };
    slot.get_or_init(|| Server::start(shape))
}

// ---------------------------------------------------------------------------
// The library, through the shared C-ABI wrappers (tests/common/ffi.rs).

/// Options that read nothing from the environment, with a generous
/// connect timeout (grpcio on a busy machine can be slow to answer).
fn options() -> Options {
    Options::new().connect_timeout(CONNECT_TIMEOUT)
}

fn text(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

fn connect(host: &str, port: u16, options: &Options) -> Result<Channel, Failure> {
    Channel::connect(host, i32::from(port), options)
}

// ---------------------------------------------------------------------------
// The matrix.

fn expected_version() -> Version {
    Version {
        major: 6,
        minor: 3,
        patch: 7,
        full: "6.3.7".into(),
        bream: "8.2.5".into(),
        distribution: "25.03.9".into(),
    }
}

/// What whoami must say for a mode: (token header, token kind, client CN).
fn expected_identity(mode: Mode) -> (&'static str, &'static str, &'static str) {
    match mode {
        Mode::ClientCert => ("", "", "interop-client"),
        Mode::LocalToken => ("local-auth", "local", ""),
    }
}

fn identity(who: &WhoAmIResponse) -> (&str, &str, &str) {
    (&who.token_header, &who.token_kind, &who.client_certificate_subject)
}

fn options_for(shape: Shape, mode: Mode) -> Options {
    let options = options().ca(text(&shape.file("ca.crt")));
    match mode {
        // The certificate alone must authenticate: no token goes with it.
        Mode::ClientCert => options
            .cert(text(&fixture().client("client.crt")), text(&fixture().client("client.key")))
            .local_token_mode(minknow_local_token_mode::Off),
        // AUTO: the host is local, so the library asks the manager for the
        // token file and reads it.
        Mode::LocalToken => options.local_token_mode(minknow_local_token_mode::Auto),
    }
}

/// Several messages ping-pong on bidi_echo, then close_send ends the stream.
fn bidi_ping_pong(channel: &Channel, context: &str) {
    let call = channel.start(BIDI_ECHO, CALL_TIMEOUT).expect("call_start");
    for sequence in 0..5 {
        let sent = Chunk { payload: format!("ping {sequence} {context}").into_bytes(), sequence };
        call.send(&sent.encode_to_vec()).unwrap_or_else(|f| panic!("{context}: send: {f:?}"));
        let reply = call.recv().unwrap_or_else(|f| panic!("{context}: recv: {f:?}"));
        let reply = reply.unwrap_or_else(|| panic!("{context}: stream ended at {sequence}"));
        assert_eq!(Chunk::decode(reply.as_slice()).expect("chunk"), sent, "{context}");
    }
    call.close_send().expect("close_send");
    let end = call.recv().unwrap_or_else(|f| panic!("{context}: final recv: {f:?}"));
    assert_eq!(end, None, "{context}: expected END_OF_STREAM after close_send");
}

fn run_case(shape: Shape, host: &str, mode: Mode) {
    let server = server(shape);
    let context = format!("{shape:?} server via {host} with {mode:?}");
    let port = server.port("manager", mode, host);
    let manager = connect(host, port, &options_for(shape, mode))
        .unwrap_or_else(|f| panic!("{context}: connect to port {port}: {f:?}"));
    assert_eq!(manager.port(), port, "{context}");

    let version = manager.manager_version().unwrap_or_else(|f| panic!("{context}: version: {f:?}"));
    assert_eq!(version, expected_version(), "{context}");

    let positions = manager.positions().unwrap_or_else(|f| panic!("{context}: positions: {f:?}"));
    let position_port = server.port("position", mode, host);
    let expected = vec![
        Position {
            name: "X1".into(),
            state: 1,
            state_name: "running".into(),
            port: position_port,
            error_info: String::new(),
            simulated: true,
            integrated: false,
            parent: String::new(),
        },
        Position {
            name: "X2".into(),
            state: 3,
            state_name: "hardware_removed".into(),
            port: 0,
            error_info: "no device is connected".into(),
            simulated: false,
            integrated: false,
            parent: String::new(),
        },
    ];
    assert_eq!(positions, expected, "{context}: positions (sent in two pages)");

    let position =
        manager.open_position("X1").unwrap_or_else(|f| panic!("{context}: open X1: {f:?}"));
    assert_eq!(position.port(), position_port, "{context}");
    let position_version =
        position.position_version().unwrap_or_else(|f| panic!("{context}: X1 version: {f:?}"));
    assert_eq!(position_version, expected_version(), "{context}");
    let who = position.whoami();
    assert_eq!(identity(&who), expected_identity(mode), "{context}: whoami on X1");
    assert_eq!(who.port, u32::from(position_port), "{context}: X1's call reached another port");

    let request = Chunk { payload: format!("unary {context}").into_bytes(), sequence: 7 };
    let reply = manager
        .unary(ECHO, &request.encode_to_vec(), CALL_TIMEOUT)
        .unwrap_or_else(|f| panic!("{context}: echo: {f:?}"));
    assert_eq!(Chunk::decode(reply.as_slice()).expect("chunk"), request, "{context}");
    let who = manager.whoami();
    assert_eq!(identity(&who), expected_identity(mode), "{context}: whoami on the manager");
    assert_eq!(who.port, u32::from(port), "{context}");

    bidi_ping_pong(&manager, &context);
    bidi_ping_pong(&position, &format!("{context} (position X1)"));
}

/// One test per shape x host x mode, each with its own name.
macro_rules! matrix {
    ($($name:ident: $shape:ident, $host:literal, $mode:ident;)*) => {
        $(
            #[test]
            fn $name() {
                run_case(Shape::$shape, $host, Mode::$mode);
            }
        )*
    };
}

matrix! {
    v1_localhost_client_cert: V1, "localhost", ClientCert;
    v1_localhost_local_token: V1, "localhost", LocalToken;
    v1_ipv4_client_cert: V1, "127.0.0.1", ClientCert;
    v1_ipv4_local_token: V1, "127.0.0.1", LocalToken;
    v1_ipv6_client_cert: V1, "::1", ClientCert;
    v1_ipv6_local_token: V1, "::1", LocalToken;
    cn_only_localhost_client_cert: CnOnly, "localhost", ClientCert;
    cn_only_localhost_local_token: CnOnly, "localhost", LocalToken;
    cn_only_ipv4_client_cert: CnOnly, "127.0.0.1", ClientCert;
    cn_only_ipv4_local_token: CnOnly, "127.0.0.1", LocalToken;
    cn_only_ipv6_client_cert: CnOnly, "::1", ClientCert;
    cn_only_ipv6_local_token: CnOnly, "::1", LocalToken;
    san_localhost_client_cert: San, "localhost", ClientCert;
    san_localhost_local_token: San, "localhost", LocalToken;
    san_ipv4_client_cert: San, "127.0.0.1", ClientCert;
    san_ipv4_local_token: San, "127.0.0.1", LocalToken;
    san_ipv6_client_cert: San, "::1", ClientCert;
    san_ipv6_local_token: San, "::1", LocalToken;
}

// ---------------------------------------------------------------------------
// Trust: regenerated CAs and foreign CAs.

/// Connect to the regen server with a token, trusting `ca`.
fn connect_regen(ca: &str) -> Result<Channel, Failure> {
    let server = server(Shape::Regen);
    let options = options().ca(text(&Shape::Regen.file(ca)));
    connect("127.0.0.1", server.port("manager", Mode::LocalToken, "127.0.0.1"), &options)
}

#[test]
fn regenerated_ca_bundle_old_then_new_verifies() {
    let channel = connect_regen("bundle_old_new.pem").expect("connect with [old, new] CAs");
    assert_eq!(channel.manager_version().expect("version"), expected_version());
}

#[test]
fn regenerated_ca_bundle_new_then_old_verifies() {
    let channel = connect_regen("bundle_new_old.pem").expect("connect with [new, old] CAs");
    assert_eq!(channel.manager_version().expect("version"), expected_version());
}

#[test]
fn regenerated_ca_old_alone_is_refused() {
    let failure = connect_regen("ca_old.crt").expect_err("the old CA must not verify");
    assert_eq!(failure.status, Status::CertificateVerifyFailed, "{failure:?}");
}

/// Each server shape, trusting another shape's CA (v1 and regen share the
/// subject CN=MinKNOW, so that pair fails on the signature, not the name).
#[test]
fn foreign_ca_is_refused() {
    let pairs = [
        (Shape::V1, Shape::San),
        (Shape::V1, Shape::Regen),
        (Shape::CnOnly, Shape::V1),
        (Shape::San, Shape::CnOnly),
    ];
    for (served, trusted) in pairs {
        let server = server(served);
        for mode in [Mode::LocalToken, Mode::ClientCert] {
            let port = server.port("manager", mode, "127.0.0.1");
            let options = options_for(trusted, mode);
            let context = format!("{served:?} server trusting the {trusted:?} CA, {mode:?}");
            let failure = connect("127.0.0.1", port, &options)
                .err()
                .unwrap_or_else(|| panic!("{context}: connected"));
            assert_eq!(failure.status, Status::CertificateVerifyFailed, "{context}: {failure:?}");
            assert!(
                failure.message.contains(&format!("127.0.0.1:{port}")),
                "{context}: the message must name host:port: {failure:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Client certificates as BoringSSL sees them.

/// Connect to the san server's certificate port with `chain`/`key` and no
/// token.
fn connect_with_client(chain: &str, key: &str) -> Result<(Channel, u16), Failure> {
    let server = server(Shape::San);
    let port = server.port("manager", Mode::ClientCert, "127.0.0.1");
    let options = options()
        .ca(text(&Shape::San.file("ca.crt")))
        .cert(text(&fixture().client(chain)), text(&fixture().client(key)))
        .local_token_mode(minknow_local_token_mode::Off);
    connect("127.0.0.1", port, &options).map(|channel| (channel, port))
}

#[test]
fn v1_client_certificate_from_a_lab_ca_is_accepted() {
    let (channel, _) = connect_with_client("v1_client.crt", "v1_client.key").expect("connect");
    assert_eq!(identity(&channel.whoami()), ("", "", "lab-v1-client"));
}

#[test]
fn self_signed_ca_client_certificate_is_accepted() {
    let (channel, _) = connect_with_client("self_signed.crt", "self_signed.key").expect("connect");
    assert_eq!(identity(&channel.whoami()), ("", "", "self-signed-client"));
}

#[test]
fn untrusted_client_certificate_fails_at_connect() {
    let failure = connect_with_client("rogue.crt", "rogue.key").expect_err("connected");
    let port = server(Shape::San).port("manager", Mode::ClientCert, "127.0.0.1");
    assert_eq!(failure.status, Status::TlsFailed, "{failure:?}");
    assert!(failure.message.contains("client certificate"), "no hint: {failure:?}");
    assert!(failure.message.contains(&format!("127.0.0.1:{port}")), "{failure:?}");
}

/// A port that requires a client certificate, dialled without one: C-core
/// closes the connection after the handshake, and connect says why.
#[test]
fn no_client_certificate_on_a_certificate_port_fails_at_connect() {
    let server = server(Shape::San);
    let port = server.port("manager", Mode::ClientCert, "127.0.0.1");
    let options = options_for(Shape::San, Mode::LocalToken);
    let failure =
        connect("127.0.0.1", port, &options).expect_err("connected without a certificate");
    assert_eq!(failure.status, Status::TlsFailed, "{failure:?}");
    assert!(failure.message.contains(&format!("127.0.0.1:{port}")), "{failure:?}");
    assert!(failure.message.contains("may require a client certificate"), "{failure:?}");
}

// ---------------------------------------------------------------------------
// Tokens, and that the server really checks them.

#[test]
fn no_credentials_are_refused() {
    let server = server(Shape::V1);
    let port = server.port("manager", Mode::LocalToken, "127.0.0.1");
    let options = options()
        .ca(text(&Shape::V1.file("ca.crt")))
        .local_token_mode(minknow_local_token_mode::Off);
    let failure = connect("127.0.0.1", port, &options).expect_err("connected without auth");
    assert_eq!(failure.status, Status::Unauthenticated, "{failure:?}");
    assert_eq!(failure.grpc, 16, "{failure:?}");
    assert!(failure.message.contains(&format!("127.0.0.1:{port}")), "{failure:?}");
}

#[test]
fn developer_token_is_sent_to_manager_and_position() {
    let server = server(Shape::V1);
    let port = server.port("manager", Mode::LocalToken, "::1");
    let options = options()
        .ca(text(&Shape::V1.file("ca.crt")))
        .developer_token(server.str("developer_token"))
        .local_token_mode(minknow_local_token_mode::Off);
    let manager = connect("::1", port, &options).expect("connect");
    assert_eq!(identity(&manager.whoami()), ("local-auth", "developer", ""));
    let position = manager.open_position("X1").expect("open X1");
    assert_eq!(identity(&position.whoami()), ("local-auth", "developer", ""));
}

#[test]
fn the_local_token_is_the_one_in_the_file() {
    let server = server(Shape::V1);
    let file = std::fs::read_to_string(server.str("token_file")).expect("token file");
    let json: serde_json::Value = serde_json::from_str(&file).expect("token JSON");
    assert_eq!(json["token"], server.str("token"));
    assert!(json["expires"].as_str().is_some_and(|e| e.ends_with("+00:00")), "{json}");
}

// ---------------------------------------------------------------------------
// Calls of every kind against C-core.

fn token_channel(shape: Shape, host: &str) -> Channel {
    let port = server(shape).port("manager", Mode::LocalToken, host);
    connect(host, port, &options_for(shape, Mode::LocalToken)).expect("connect")
}

#[test]
fn server_stream_delivers_every_message_in_order() {
    let channel = token_channel(Shape::San, "127.0.0.1");
    let call = channel.start(SERVER_STREAM, CALL_TIMEOUT).expect("call_start");
    let request = StreamRequest { count: 20, size: 1000, interval_ms: 0 };
    call.send(&request.encode_to_vec()).expect("send");
    call.close_send().expect("close_send");
    for sequence in 0..20u32 {
        let message = call.recv().expect("recv").expect("a message");
        let chunk = Chunk::decode(message.as_slice()).expect("chunk");
        assert_eq!(chunk.sequence, sequence);
        assert_eq!(chunk.payload, vec![sequence as u8; 1000]);
    }
    assert_eq!(call.recv().expect("end"), None);
}

#[test]
fn client_stream_counts_what_was_sent() {
    let channel = token_channel(Shape::CnOnly, "::1");
    let call = channel.start(CLIENT_STREAM, CALL_TIMEOUT).expect("call_start");
    for sequence in 0..7 {
        let chunk = Chunk { payload: vec![1; 100 + sequence as usize], sequence };
        call.send(&chunk.encode_to_vec()).expect("send");
    }
    call.close_send().expect("close_send");
    let reply = call.recv().expect("recv").expect("the summary");
    let summary = StreamSummary::decode(reply.as_slice()).expect("summary");
    assert_eq!(summary, StreamSummary { count: 7, bytes: (100..107).sum() });
    assert_eq!(call.recv().expect("end"), None);
}

#[test]
fn cancel_from_another_thread_ends_an_open_stream() {
    let channel = token_channel(Shape::V1, "localhost");
    let call = channel.start(POSITIONS, CALL_TIMEOUT).expect("call_start");
    call.send(&[]).expect("send");
    call.close_send().expect("close_send");
    // Both pages arrive, then the server holds the stream open.
    for _ in 0..2 {
        assert!(call.recv().expect("a page").is_some());
    }
    std::thread::scope(|scope| {
        let receiver = scope.spawn(|| call.recv());
        // Cancel only once the receiver is (very likely) blocked; if it is
        // not yet, recv still returns CANCELLED, which is all we assert.
        std::thread::yield_now();
        call.cancel();
        let failure = receiver.join().expect("recv thread").expect_err("a message after cancel");
        assert_eq!(failure.status, Status::Cancelled, "{failure:?}");
    });
}

#[test]
fn large_messages_pass_both_ways() {
    let channel = token_channel(Shape::San, "127.0.0.1");
    let request = Chunk { payload: vec![0x5a; 12 * 1024 * 1024], sequence: 1 };
    let reply = channel.unary(ECHO, &request.encode_to_vec(), CALL_TIMEOUT).expect("12 MiB echo");
    assert_eq!(Chunk::decode(reply.as_slice()).expect("chunk"), request);
}

#[test]
fn basecaller_channel_reuses_the_client_certificate() {
    let server = server(Shape::CnOnly);
    let port = server.port("manager", Mode::ClientCert, "127.0.0.1");
    let manager =
        connect("127.0.0.1", port, &options_for(Shape::CnOnly, Mode::ClientCert)).expect("connect");
    let basecaller = manager.open_basecaller().expect("open basecaller");
    let basecaller_port = server.port("basecaller", Mode::ClientCert, "127.0.0.1");
    assert_eq!(basecaller.port(), basecaller_port);
    let who = basecaller.whoami();
    assert_eq!(identity(&who), expected_identity(Mode::ClientCert));
    assert_eq!(who.port, u32::from(basecaller_port));
}

#[test]
fn a_stopped_position_is_not_dialled() {
    let channel = token_channel(Shape::V1, "127.0.0.1");
    let failure = channel.open_position("X2").expect_err("opened a stopped position");
    assert_eq!(failure.status, Status::PositionNotRunning, "{failure:?}");
    assert!(failure.message.contains("hardware_removed"), "{failure:?}");
}
