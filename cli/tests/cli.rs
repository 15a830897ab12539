//! `minknow-auth`'s other subcommands: the certificates it makes are
//! accepted by the simulator in client-certificate mode, the manager
//! queries print JSON that parses back, and a bad command line is status 2.

#[allow(dead_code)]
#[path = "../../tests/common/sim.rs"]
mod sim;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use sim::{Sim, SimBuilder};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_minknow-auth")).args(args).output().expect("runs")
}

/// `--json` output parsed back; asserts the exit status matches `ok`.
fn json(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let output = run(&all);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let value: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout} {:?}", output.stderr));
    assert_eq!(output.status.success(), value["ok"] == true, "{value:#}");
    value
}

fn create(dir: &Path, extra: &[&str]) -> Value {
    let out = dir.display().to_string();
    let mut args = vec!["create-client-certificate", "--out-dir", &out];
    args.extend_from_slice(extra);
    json(&args)
}

/// Connection options for the manager of `sim` with this identity.
fn with_identity(sim: &Sim, dir: &Path) -> Vec<String> {
    vec![
        "--host".into(),
        "127.0.0.1".into(),
        "--port".into(),
        sim.ready.manager_port.to_string(),
        "--ca".into(),
        sim.ready.ca.clone(),
        "--cert".into(),
        dir.join("client-chain.pem").display().to_string(),
        "--key".into(),
        dir.join("client.key").display().to_string(),
        "--no-environment".into(),
    ]
}

fn pem_blocks(path: &Path) -> Vec<Vec<u8>> {
    use rustls_pki_types::pem::PemObject;
    let pem = std::fs::read(path).unwrap();
    rustls_pki_types::CertificateDer::pem_slice_iter(&pem).map(|c| c.unwrap().to_vec()).collect()
}

#[test]
fn a_self_signed_certificate_is_accepted_once_minknow_trusts_it() {
    let dir = tempfile::tempdir().unwrap();
    let made = create(dir.path(), &["--name", "lab-robot", "--days", "30"]);
    assert_eq!(made["subject"], "CN=lab-robot", "{made:#}");
    assert_eq!(made["self_signed"], true);
    assert_eq!(made["minknow_directory"], "conf/rpc-client-certs");
    let cert = dir.path().join("client.crt");
    assert_eq!(made["ca_for_minknow"], cert.display().to_string());

    // The key: unencrypted PKCS#8, readable by its owner only.
    let key = dir.path().join("client.key");
    let key_text = std::fs::read_to_string(&key).unwrap();
    assert!(key_text.starts_with("-----BEGIN PRIVATE KEY-----"), "{}", &key_text[..30]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // What MinKNOW requires of a client certificate.
    let der = &pem_blocks(&cert)[0];
    let parsed = minknow_auth::x509::Certificate::parse(der).unwrap();
    let ku = parsed.extensions.key_usage.expect("keyUsage");
    assert!(ku.has(1), "digitalSignature");
    let ekus = parsed.extensions.extended_key_usage.expect("extendedKeyUsage");
    assert!(ekus.contains(&minknow_auth::x509::EKU_CLIENT_AUTH));
    assert_eq!(pem_blocks(&dir.path().join("client-chain.pem")).len(), 1);

    // Refused before MinKNOW trusts it, accepted after.
    let untrusting = SimBuilder::auth("client-cert").start();
    let args = with_identity(&untrusting, dir.path());
    let mut version = vec!["version"];
    version.extend(args.iter().map(String::as_str));
    assert_eq!(json(&version)["ok"], false);

    let sim = SimBuilder::auth("client-cert")
        .arg("--trust-client-ca")
        .arg(cert.to_str().unwrap())
        .start();
    let args = with_identity(&sim, dir.path());
    let mut version = vec!["version"];
    version.extend(args.iter().map(String::as_str));
    let reply = json(&version);
    assert!(reply["minknow"]["full"].is_string(), "{reply:#}");
    assert_eq!(reply["port"], sim.ready.manager_port);

    // The files are not overwritten unless asked.
    assert_eq!(create(dir.path(), &[])["ok"], false);
    assert_eq!(create(dir.path(), &["--force"])["ok"], true);
}

#[test]
fn a_certificate_signed_by_a_lab_ca_has_the_chain_in_order() {
    // The self-signed certificate the command makes may act as a lab CA.
    let ca_dir = tempfile::tempdir().unwrap();
    create(ca_dir.path(), &["--name", "Lab CA"]);
    let ca_cert = ca_dir.path().join("client.crt");
    let ca_key = ca_dir.path().join("client.key");

    let dir = tempfile::tempdir().unwrap();
    let made = create(
        dir.path(),
        &["--ca-cert", ca_cert.to_str().unwrap(), "--ca-key", ca_key.to_str().unwrap()],
    );
    assert_eq!(made["self_signed"], false, "{made:#}");
    assert_eq!(made["ca_for_minknow"], ca_cert.display().to_string());
    let chain = pem_blocks(&dir.path().join("client-chain.pem"));
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[0], pem_blocks(&dir.path().join("client.crt"))[0], "client certificate first");
    assert_eq!(chain[1], pem_blocks(&ca_cert)[0], "then the CA");

    let sim = SimBuilder::auth("client-cert")
        .arg("--trust-client-ca")
        .arg(ca_cert.to_str().unwrap())
        .start();
    let args = with_identity(&sim, dir.path());
    let mut doctor = vec!["doctor"];
    doctor.extend(args.iter().map(String::as_str));
    let report = json(&doctor);
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["resolution"]["identity"]["issuer"], "CN=Lab CA");
    assert_eq!(report["steps"][5]["details"]["client_certificate_sent"], true);
}

#[test]
fn positions_version_and_token_path_print_json() {
    let sim = SimBuilder::auth("local-token").arg("--positions").arg("3").start();
    let port = sim.ready.manager_port.to_string();
    let base = ["--host", "127.0.0.1", "--port", &port, "--ca", &sim.ready.ca, "--no-environment"];

    let mut args = vec!["positions"];
    args.extend_from_slice(&base);
    let positions = json(&args);
    let list = positions["positions"].as_array().expect("positions");
    let running: Vec<&Value> = list.iter().filter(|p| p["state"] == "running").collect();
    assert_eq!(running.len(), 3, "{positions:#}");
    assert_eq!(running[0]["name"], "X1");
    assert_eq!(running[0]["port"], sim.ready.position_port("X1"));

    let mut args = vec!["version"];
    args.extend_from_slice(&base);
    assert!(json(&args)["minknow"]["major"].is_i64());

    let mut args = vec!["token-path"];
    args.extend_from_slice(&base);
    let path = json(&args);
    assert_eq!(path["token_file"].as_str(), sim.ready.token_file.as_deref(), "{path:#}");

    // Text output too.
    let mut args = vec!["token-path"];
    args.extend_from_slice(&base);
    let text = String::from_utf8(run(&args).stdout).unwrap();
    assert_eq!(text.trim(), sim.ready.token_file.as_deref().unwrap());
}

#[test]
fn a_failed_query_is_json_with_the_library_error() {
    let sim = SimBuilder::auth("developer-token").start();
    let port = sim.ready.manager_port.to_string();
    let reply = json(&["version", "--host", "127.0.0.1", "--port", &port, "--ca", &sim.ready.ca]);
    assert_eq!(reply["ok"], false);
    assert_eq!(reply["error"]["status"], "unauthenticated", "{reply:#}");
    assert!(reply["error"]["message"].as_str().unwrap().contains(&port));
}

#[test]
fn bad_command_lines_are_status_2() {
    for args in [
        &[][..],
        &["frobnicate"][..],
        &["doctor", "--port", "0"][..],
        &["doctor", "--port"][..],
        &["doctor", "--bogus", "1"][..],
        &["create-client-certificate", "--ca-cert", "x"][..],
        &["create-client-certificate", "--days", "0"][..],
    ] {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("usage:"), "{args:?}");
    }
    let help = run(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    for command in ["doctor", "positions", "version", "token-path", "create-client-certificate"] {
        assert!(text.contains(command), "{command} missing from --help");
    }
}
