//! Every auth mode of the simulator through the exported C functions:
//! client certificates, developer token, local token (IPv4, IPv6, names,
//! rotation), protocol token, guest. Each mode gets a simulator that accepts
//! only that mode, so a call that works proves its credential was used.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use common::ffi::Position;
use common::proto;
use common::sim::wait_until;
use common::{expect_failure, Channel, Options, Sim, SimBuilder, Status};
use minknow_auth::ffi::options::minknow_local_token_mode as LocalMode;

/// The subject the simulator gives its own client certificate.
const CLIENT_SUBJECT: &str = "minknow-sim client";

fn cert_sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| SimBuilder::auth("client-cert").start())
}

fn developer_sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| SimBuilder::auth("developer-token").start())
}

fn local_sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| SimBuilder::auth("local-token").dual_stack().start())
}

fn protocol_sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| SimBuilder::auth("protocol-token").start())
}

fn guest_sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| SimBuilder::auth("guest").start())
}

fn manager_port(sim: &Sim) -> i32 {
    sim.ready.manager_port.into()
}

fn cert_options(sim: &Sim) -> Options {
    let ready = &sim.ready;
    Options::new().ca(&ready.ca).cert(&ready.client_certificate, &ready.client_key)
}

fn connect_cert() -> Channel {
    let sim = cert_sim();
    Channel::connect("127.0.0.1", manager_port(sim), &cert_options(sim)).expect("connect")
}

fn developer_token(sim: &Sim) -> &str {
    sim.ready.developer_token.as_deref().expect("developer token in the ready line")
}

fn protocol_token(sim: &Sim) -> &str {
    sim.ready.protocol_token.as_deref().expect("protocol token in the ready line")
}

/// Assert what whoami reports for a channel's calls.
#[track_caller]
fn assert_caller(channel: &Channel, header: &str, kind: &str, subject: &str) {
    let me = channel.whoami();
    assert_eq!(me.token_header, header, "token header");
    assert_eq!(me.token_kind, kind, "token kind");
    assert!(me.client_certificate_subject.contains(subject), "subject: {me:?}");
    if subject.is_empty() {
        assert_eq!(me.client_certificate_subject, "", "no client certificate expected");
    }
    assert_eq!(me.port, u32::from(channel.port()), "whoami answered on another port");
}

// ---- client certificates ----

#[test]
fn cert_manager_version_and_host() {
    let manager = connect_cert();
    assert_eq!(manager.host(), "127.0.0.1");
    assert_eq!(manager.port(), cert_sim().ready.manager_port);
    let version = manager.manager_version().unwrap();
    assert_eq!((version.major, version.minor, version.patch), (6, 3, 7));
    assert_eq!(version.full, "6.3.7-sim");
    assert_eq!(version.bream, "8.3.2");
    assert_eq!(version.distribution, "24.11.8-sim");
    let host = manager.describe_host().unwrap();
    assert_eq!(host.product_code, "GRD-SIM");
    assert_eq!(host.description, "MinKNOW simulator");
    assert_eq!(host.serial, "SIM0001");
    assert!(!host.network_name.is_empty());
}

#[test]
fn cert_positions_match_the_ready_line() {
    let sim = cert_sim();
    let positions = connect_cert().positions().unwrap();
    let names: Vec<&str> = positions.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["X1", "X2", "X3"]);
    let running = |name: &str| Position {
        name: name.to_owned(),
        state: 1,
        state_name: "running".to_owned(),
        port: sim.ready.position_port(name),
        error_info: String::new(),
        simulated: true,
        integrated: false,
        parent: String::new(),
    };
    assert_eq!(positions[0], running("X1"));
    assert_eq!(positions[1], running("X2"));
    assert_ne!(positions[0].port, positions[1].port);
    let x3 = &positions[2];
    assert_eq!((x3.state, x3.state_name.as_str(), x3.port), (3, "hardware_removed", 0));
    assert_eq!(x3.error_info, "no device connected");
}

#[test]
fn cert_with_certificate_function() {
    let ready = &cert_sim().ready;
    let manager = Channel::connect_with_certificate(
        "127.0.0.1",
        ready.manager_port.into(),
        Some(&ready.ca),
        &ready.client_certificate,
        &ready.client_key,
    )
    .expect("connect_with_certificate");
    assert_caller(&manager, "", "", CLIENT_SUBJECT);
    let x1 = manager.open_position("X1").unwrap();
    assert_caller(&x1, "", "", CLIENT_SUBJECT);
}

#[test]
fn cert_from_pem_bytes() {
    let ready = &cert_sim().ready;
    let read = |path: &str| std::fs::read(path).unwrap();
    let options = Options::new()
        .ca_pem(&read(&ready.ca))
        .cert_pem(&read(&ready.client_certificate), &read(&ready.client_key));
    let manager = Channel::connect("127.0.0.1", ready.manager_port.into(), &options).unwrap();
    assert_caller(&manager, "", "", CLIENT_SUBJECT);
}

#[test]
fn cert_each_running_position() {
    let sim = cert_sim();
    let manager = connect_cert();
    for name in ["X1", "X2"] {
        let position = manager.open_position(name).unwrap();
        assert_eq!(position.port(), sim.ready.position_port(name));
        assert_eq!(position.host(), "127.0.0.1", "children dial the manager's host");
        let raw = position.unary(proto::INSTANCE_VERSION, &[], Some(Duration::from_secs(10)));
        let reply: proto::GetVersionInfoResponse = proto::decode(&raw.unwrap());
        let expected = format!("6.3.7-sim {name}");
        assert_eq!(reply.minknow.expect("minknow field").full, expected);
        assert_eq!(position.position_version().unwrap().full, expected);
        assert_caller(&position, "", "", CLIENT_SUBJECT);
    }
}

#[test]
fn cert_stopped_position_is_not_running() {
    let failure =
        expect_failure(connect_cert().open_position("X3"), Status::PositionNotRunning, &["X3"]);
    let message = failure.message.to_lowercase();
    assert!(message.contains("hardware") && message.contains("removed"), "{}", failure.message);
}

#[test]
fn cert_unknown_position_lists_the_names() {
    expect_failure(
        connect_cert().open_position("X9"),
        Status::PositionNotFound,
        &["X9", "X1", "X2", "X3"],
    );
}

#[test]
fn cert_basecaller() {
    let sim = cert_sim();
    let manager = connect_cert();
    assert_eq!(manager.basecaller_port().unwrap(), sim.ready.basecaller_port);
    let basecaller = manager.open_basecaller().unwrap();
    assert_eq!(basecaller.port(), sim.ready.basecaller_port);
    let payload = b"to the basecaller".to_vec();
    assert_eq!(basecaller.echo(payload.clone(), 7).unwrap(), payload);
    assert_caller(&basecaller, "", "", CLIENT_SUBJECT);
}

#[test]
fn cert_open_port_by_number() {
    let sim = cert_sim();
    let manager = connect_cert();
    let x2 = manager.open_port(sim.ready.position_port("X2").into()).unwrap();
    assert_eq!(x2.position_version().unwrap().full, "6.3.7-sim X2");
}

#[test]
fn cert_whoami_on_the_manager() {
    assert_caller(&connect_cert(), "", "", CLIENT_SUBJECT);
}

#[test]
fn cert_required_without_one_is_unauthenticated() {
    let sim = cert_sim();
    let options = Options::new().ca(&sim.ready.ca);
    let port = sim.ready.manager_port;
    expect_failure(
        Channel::connect("127.0.0.1", port.into(), &options),
        Status::Unauthenticated,
        &[&format!("127.0.0.1:{port}"), "no token"],
    );
}

/// The manager's second port (9502's role) never asks for a client
/// certificate, so a certificate-only MinKNOW refuses calls there.
#[test]
fn cert_on_the_web_port_is_unauthenticated() {
    let sim = cert_sim();
    let port = sim.ready.manager_web_port;
    let failure = expect_failure(
        Channel::connect("127.0.0.1", port.into(), &cert_options(sim)),
        Status::Unauthenticated,
        &[&format!("127.0.0.1:{port}")],
    );
    assert_eq!(failure.grpc, 16, "gRPC UNAUTHENTICATED");
    assert!(failure.message.contains("client certificate"), "{}", failure.message);
}

// ---- developer token ----

#[test]
fn developer_token_function_reaches_children() {
    let sim = developer_sim();
    let ca = Some(sim.ready.ca.as_str());
    let manager =
        Channel::connect_with_token("127.0.0.1", manager_port(sim), ca, developer_token(sim))
            .expect("connect_with_token");
    assert_caller(&manager, "local-auth", "developer", "");
    let x1 = manager.open_position("X1").unwrap();
    assert_caller(&x1, "local-auth", "developer", "");
    let basecaller = manager.open_basecaller().unwrap();
    assert_caller(&basecaller, "local-auth", "developer", "");
}

#[test]
fn developer_token_option() {
    let sim = developer_sim();
    let options = Options::new().ca(&sim.ready.ca).developer_token(developer_token(sim));
    let manager = Channel::connect("127.0.0.1", manager_port(sim), &options).unwrap();
    assert_caller(&manager, "local-auth", "developer", "");
    assert_caller(&manager.open_position("X2").unwrap(), "local-auth", "developer", "");
}

#[test]
fn developer_token_wrong_is_unauthenticated() {
    let sim = developer_sim();
    let options = Options::new().ca(&sim.ready.ca).developer_token("not-the-token");
    let failure = expect_failure(
        Channel::connect("127.0.0.1", manager_port(sim), &options),
        Status::Unauthenticated,
        &[&format!("127.0.0.1:{}", sim.ready.manager_port), "developer token"],
    );
    assert_eq!(failure.grpc, 16);
    assert!(!failure.message.contains("not-the-token"), "the token leaked: {}", failure.message);
}

#[test]
fn developer_token_missing_is_unauthenticated() {
    let sim = developer_sim();
    let options = Options::new().ca(&sim.ready.ca);
    expect_failure(
        Channel::connect("127.0.0.1", manager_port(sim), &options),
        Status::Unauthenticated,
        &["no token"],
    );
}

// ---- local token ----

#[test]
fn local_token_on_every_loopback_spelling() {
    let sim = local_sim();
    for host in ["127.0.0.1", "localhost", "::1", "[::1]"] {
        let options = Options::new().ca(&sim.ready.ca);
        let manager = Channel::connect(host, manager_port(sim), &options)
            .unwrap_or_else(|f| panic!("connect to {host}: {f:?}"));
        assert_caller(&manager, "local-auth", "local", "");
        let x1 = manager.open_position("X1").unwrap();
        assert_caller(&x1, "local-auth", "local", "");
    }
}

#[test]
fn local_token_mode_on_is_used() {
    let sim = local_sim();
    let options = Options::new().ca(&sim.ready.ca).local_token_mode(LocalMode::On);
    let manager = Channel::connect("::1", manager_port(sim), &options).unwrap();
    assert_eq!(manager.host(), "::1");
    assert_caller(&manager, "local-auth", "local", "");
}

#[test]
fn local_token_mode_off_is_unauthenticated() {
    let sim = local_sim();
    let options = Options::new().ca(&sim.ready.ca).local_token_mode(LocalMode::Off);
    expect_failure(
        Channel::connect("127.0.0.1", manager_port(sim), &options),
        Status::Unauthenticated,
        &["127.0.0.1", "no token"],
    );
}

/// A token that rotates every second with no grace: each call must carry
/// the current token, so calls across several rotations only all succeed
/// if the library re-reads the file before expiry or, when its copy is
/// stale, on UNAUTHENTICATED (and retries).
#[test]
fn local_token_rotation_is_followed() {
    let sim = SimBuilder::auth("local-token")
        .arg("--token-rotate")
        .arg("1")
        .arg("--token-grace")
        .arg("0")
        .start();
    let token_file = sim.ready.token_file.clone().expect("token file in the ready line");
    let manager =
        Channel::connect("127.0.0.1", manager_port(&sim), &Options::new().ca(&sim.ready.ca))
            .expect("connect");
    let x1 = manager.open_position("X1").unwrap();
    let read = || std::fs::read_to_string(&token_file).unwrap_or_default();
    let mut seen = read();
    let mut rotations = 0;
    let mut calls = 0;
    // Call continuously until the file has changed twice (about 2 s).
    let finished = wait_until(Duration::from_secs(10), || {
        for channel in [&manager, &x1] {
            let me = channel.whoami();
            assert_eq!(me.token_kind, "local", "after {rotations} rotations, {calls} calls");
            calls += 1;
        }
        let now = read();
        if !now.is_empty() && now != seen {
            rotations += 1;
            seen = now;
        }
        rotations >= 2
    });
    assert!(finished, "the token file did not rotate twice in 10 s");
    // Not asserted (timing decides how often the library's copy is stale),
    // but shown: each rejection the simulator logged was a stale token that
    // the library re-read and retried successfully.
    let rejected = sim.stderr().matches("rejected test.whoami").count();
    eprintln!("{calls} calls over {rotations} rotations; {rejected} stale-token retries");
    // And right after the last observed rotation.
    assert_caller(&manager, "local-auth", "local", "");
    assert_caller(&x1, "local-auth", "local", "");
}

// ---- protocol token ----

#[test]
fn protocol_token_option_reaches_children() {
    let sim = protocol_sim();
    let options = Options::new().ca(&sim.ready.ca).protocol_token(protocol_token(sim));
    let manager = Channel::connect("127.0.0.1", manager_port(sim), &options).unwrap();
    assert_caller(&manager, "protocol-auth", "protocol", "");
    assert_caller(&manager.open_position("X1").unwrap(), "protocol-auth", "protocol", "");
}

#[test]
fn protocol_token_wrong_is_unauthenticated() {
    let sim = protocol_sim();
    let options = Options::new().ca(&sim.ready.ca).protocol_token("wrong-protocol-token");
    expect_failure(
        Channel::connect("127.0.0.1", manager_port(sim), &options),
        Status::Unauthenticated,
        &["protocol token"],
    );
}

// ---- guest ----

#[test]
fn guest_needs_no_credentials() {
    let sim = guest_sim();
    let manager =
        Channel::connect("127.0.0.1", manager_port(sim), &Options::new().ca(&sim.ready.ca))
            .unwrap();
    assert_caller(&manager, "", "", "");
    assert_eq!(manager.positions().unwrap().len(), 3);
    let x1 = manager.open_position("X1").unwrap();
    assert_eq!(x1.position_version().unwrap().full, "6.3.7-sim X1");
}

/// A client certificate and a token together: both reach the server.
#[test]
fn guest_sees_certificate_and_token_together() {
    let sim = guest_sim();
    let options = cert_options(sim).developer_token("some-token");
    let manager = Channel::connect("127.0.0.1", manager_port(sim), &options).unwrap();
    // Guest mode has no developer token, so it is sent but matches nothing.
    assert_caller(&manager, "local-auth", "", CLIENT_SUBJECT);
}
