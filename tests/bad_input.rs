//! Bad input, table-driven, through the exported C functions: NULL, empty
//! and non-UTF-8 arguments; missing files, directories, empty files;
//! garbage, truncated and DER material where PEM belongs; keys and
//! certificates swapped; encrypted and mismatched keys; expired and
//! not-yet-valid client certificates; a chain in the wrong order; broken
//! token files; bad ports, positions and method paths; messages over the
//! limit; handles used after their parent was freed.
//!
//! Every case states the exact status and the words that name the culprit;
//! all cases run (none stops the others), then the test fails listing
//! every case that did not hold. At least 60 cases.

mod common;

use std::ffi::{c_char, CString};
use std::path::Path;
use std::ptr;
use std::time::Duration;

use common::ffi::{c, with_err};
use common::{proto, Channel, Failure, Options, Sim, SimBuilder, Status};
use minknow_auth::ffi::call::*;
use minknow_auth::ffi::channel::*;
use minknow_auth::ffi::options::*;

const TIMEOUT: Duration = Duration::from_secs(5);

/// One row of the table: what happened, what should have.
struct Case {
    name: String,
    expected: Status,
    needles: Vec<String>,
    outcome: Result<(), Failure>,
}

#[derive(Default)]
struct Table {
    cases: Vec<Case>,
}

impl Table {
    fn add<T>(
        &mut self,
        name: &str,
        expected: Status,
        needles: &[&str],
        outcome: Result<T, Failure>,
    ) {
        self.cases.push(Case {
            name: name.to_owned(),
            expected,
            needles: needles.iter().map(|n| (*n).to_owned()).collect(),
            outcome: outcome.map(drop),
        });
    }

    /// Every mismatch, one line each.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for case in &self.cases {
            match (&case.outcome, case.expected) {
                (Ok(()), Status::Ok) => {}
                (Ok(()), expected) => {
                    problems.push(format!("{}: expected {expected:?}, got OK", case.name))
                }
                (Err(f), expected) if f.status != expected => problems.push(format!(
                    "{}: expected {expected:?}, got {:?}: {}",
                    case.name, f.status, f.message
                )),
                (Err(f), _) => {
                    for needle in case.needles.iter().filter(|n| !f.message.contains(n.as_str())) {
                        problems.push(format!(
                            "{}: message lacks {needle:?}: {}",
                            case.name, f.message
                        ));
                    }
                }
            }
        }
        problems
    }
}

fn non_utf8() -> CString {
    CString::new(vec![b'h', 0xff, 0xfe, b'x']).unwrap()
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

/// Certificates made for this test (rcgen), in files.
struct Material {
    dir: tempfile::TempDir,
}

impl Material {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

fn client_params(cn: &str) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    params
}

fn make_material() -> Material {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // A lab CA and a client leaf it signed, for the wrong-order chain.
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = client_params("Bad Input Lab CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = client_params("bad-input client").signed_by(&leaf_key, &ca).unwrap();
    write(d, "wrong-order.pem", format!("{}{}", ca.pem(), leaf.pem()));
    write(d, "leaf.key", leaf_key.serialize_pem());
    write(d, "leaf.pem", leaf.pem());
    write(d, "leaf.der", leaf.der());
    write(d, "leaf-key.der", leaf_key.serialize_der());

    // Self-signed client certificates outside their validity.
    for (name, from, to) in [("expired", 2020, 2021), ("not-yet-valid", 2090, 2091)] {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = client_params(&format!("{name} client"));
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(to, 1, 1);
        write(d, &format!("{name}.pem"), params.self_signed(&key).unwrap().pem());
        write(d, &format!("{name}.key"), key.serialize_pem());
    }

    // Another key, matching nothing.
    write(d, "other.key", rcgen::KeyPair::generate().unwrap().serialize_pem());
    // Encrypted keys in both PEM forms (only the form matters: the library
    // refuses before decrypting).
    write(
        d,
        "pkcs8-encrypted.key",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n\
         -----END ENCRYPTED PRIVATE KEY-----\n",
    );
    write(
        d,
        "legacy-encrypted.key",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
         DEK-Info: AES-256-CBC,0123456789ABCDEF0123456789ABCDEF\n\nAAAA\n\
         -----END RSA PRIVATE KEY-----\n",
    );
    let pem = leaf.pem();
    write(d, "truncated.pem", &pem[..pem.len() / 2]);
    write(d, "corrupt.pem", pem.replacen("MII", "M!I", 1));
    write(d, "garbage.pem", "this is not a certificate at all\n");
    write(d, "empty.pem", "");
    std::fs::create_dir(d.join("a-directory")).unwrap();
    Material { dir }
}

fn connect(sim: &Sim, options: &Options) -> Result<Channel, Failure> {
    Channel::connect("127.0.0.1", sim.ready.manager_port.into(), options)
}

fn with_ca(sim: &Sim) -> Options {
    Options::new().ca(&sim.ready.ca).connect_timeout(TIMEOUT)
}

/// Connect to the client-certificate simulator presenting `chain`/`key`.
fn connect_identity(sim: &Sim, chain: &str, key: &str) -> Result<Channel, Failure> {
    connect(sim, &with_ca(sim).cert(chain, key))
}

/// Connect trusting only `ca` (a path).
fn connect_trusting(sim: &Sim, ca: &str) -> Result<Channel, Failure> {
    let options = Options::new().ca(ca).connect_timeout(TIMEOUT);
    connect(sim, &with_sim_cert(sim, options))
}

fn with_sim_cert(sim: &Sim, options: Options) -> Options {
    options.cert(&sim.ready.client_certificate, &sim.ready.client_key)
}

/// One option setter on fresh options.
fn setter(
    f: impl FnOnce(*mut minknow_options, *mut *mut minknow_error) -> Status,
) -> Result<(), Failure> {
    Options::new().set(f)
}

use minknow_auth::ffi::error::minknow_error;

fn identity_cases(t: &mut Table, sim: &Sim, m: &Material) {
    let ready = &sim.ready;
    let (cert, key) = (ready.client_certificate.as_str(), ready.client_key.as_str());
    let missing = m.path("missing.pem");
    let dir = m.path("a-directory");
    let empty = m.path("empty.pem");
    let t_ = |t: &mut Table, name, status, needles: &[&str], chain: &str, key: &str| {
        t.add(name, status, needles, connect_identity(sim, chain, key));
    };
    t_(t, "chain: missing file", Status::FileError, &[&missing, "no such file"], &missing, key);
    t_(t, "key: missing file", Status::FileError, &[&missing, "no such file"], cert, &missing);
    t_(t, "chain: a directory", Status::FileError, &[&dir, "directory"], &dir, key);
    t_(t, "key: a directory", Status::FileError, &[&dir, "directory"], cert, &dir);
    t_(t, "chain: empty file", Status::FileError, &[&empty, "empty"], &empty, key);
    t_(t, "key: empty file", Status::FileError, &[&empty, "empty"], cert, &empty);
    let garbage = m.path("garbage.pem");
    t_(t, "chain: garbage", Status::BadCertificate, &[&garbage, "not PEM"], &garbage, key);
    t_(t, "key: garbage", Status::BadKey, &[&garbage, "not PEM"], cert, &garbage);
    let truncated = m.path("truncated.pem");
    t_(
        t,
        "chain: truncated PEM",
        Status::BadCertificate,
        &[&truncated, "truncated"],
        &truncated,
        key,
    );
    let corrupt = m.path("corrupt.pem");
    t_(t, "chain: corrupt base64", Status::BadCertificate, &[&corrupt], &corrupt, key);
    let der = m.path("leaf.der");
    t_(t, "chain: DER, not PEM", Status::BadCertificate, &[&der, "DER"], &der, key);
    let key_der = m.path("leaf-key.der");
    t_(t, "key: DER, not PEM", Status::BadKey, &[&key_der, "DER"], cert, &key_der);
    t_(t, "chain: a private key", Status::BadCertificate, &[key, "private key"], key, key);
    t_(t, "key: a certificate", Status::BadKey, &[cert, "certificate"], cert, cert);
    let pkcs8 = m.path("pkcs8-encrypted.key");
    t_(t, "key: PKCS#8 encrypted", Status::EncryptedKey, &[&pkcs8, "encrypted"], cert, &pkcs8);
    let legacy = m.path("legacy-encrypted.key");
    t_(t, "key: legacy encrypted", Status::EncryptedKey, &[&legacy, "encrypted"], cert, &legacy);
    let other = m.path("other.key");
    t_(t, "key: mismatched", Status::KeyMismatch, &[&other, cert], cert, &other);
    let order = m.path("wrong-order.pem");
    let leaf_key = m.path("leaf.key");
    t_(t, "chain: wrong order", Status::KeyMismatch, &[&order, "wrong order"], &order, &leaf_key);
    let (expired, expired_key) = (m.path("expired.pem"), m.path("expired.key"));
    t_(
        t,
        "client cert expired",
        Status::BadCertificate,
        &["expired client", "expired at"],
        &expired,
        &expired_key,
    );
    let (future, future_key) = (m.path("not-yet-valid.pem"), m.path("not-yet-valid.key"));
    t_(
        t,
        "client cert not yet valid",
        Status::BadCertificate,
        &["not-yet-valid client", "not valid before"],
        &future,
        &future_key,
    );
    t_(t, "identity: the valid pair", Status::Ok, &[], cert, key);

    // PEM bytes instead of files.
    let pem = |chain: &[u8], key: &[u8]| connect(sim, &with_ca(sim).cert_pem(chain, key));
    let cert_bytes = std::fs::read(cert).unwrap();
    let key_bytes = std::fs::read(key).unwrap();
    t.add(
        "chain PEM: empty",
        Status::BadCertificate,
        &["chain_pem", "empty"],
        pem(b"", &key_bytes),
    );
    t.add("key PEM: garbage", Status::BadKey, &["key_pem", "not PEM"], pem(&cert_bytes, b"xyz\n"));
    t.add(
        "chain PEM: a path",
        Status::PemLooksLikePath,
        &["chain_pem", cert],
        pem(cert.as_bytes(), &key_bytes),
    );
    t.add(
        "PEM: swapped",
        Status::BadCertificate,
        &["chain_pem", "private key"],
        pem(&key_bytes, &cert_bytes),
    );
}

fn trust_cases(t: &mut Table, sim: &Sim, m: &Material) {
    let missing = m.path("missing.pem");
    t.add(
        "CA: missing file",
        Status::FileError,
        &[&missing, "no such file"],
        connect_trusting(sim, &missing),
    );
    let dir = m.path("a-directory");
    t.add("CA: a directory", Status::FileError, &[&dir, "directory"], connect_trusting(sim, &dir));
    let empty = m.path("empty.pem");
    t.add("CA: empty file", Status::FileError, &[&empty, "empty"], connect_trusting(sim, &empty));
    let garbage = m.path("garbage.pem");
    t.add(
        "CA: garbage",
        Status::BadCertificate,
        &[&garbage, "not PEM"],
        connect_trusting(sim, &garbage),
    );
    let der = m.path("leaf.der");
    t.add("CA: DER", Status::BadCertificate, &[&der, "DER"], connect_trusting(sim, &der));
    let key = m.path("leaf.key");
    t.add(
        "CA: a private key",
        Status::BadCertificate,
        &[&key, "private key"],
        connect_trusting(sim, &key),
    );
    let other = m.path("leaf.pem");
    t.add(
        "CA: not the server's",
        Status::CertificateVerifyFailed,
        &[&format!("127.0.0.1:{}", sim.ready.manager_port), "not trusted"],
        connect_trusting(sim, &other),
    );
    let looks = Options::new().ca_pem(sim.ready.ca.as_bytes()).connect_timeout(TIMEOUT);
    t.add(
        "CA PEM: a path",
        Status::PemLooksLikePath,
        &["minknow_options_add_ca_pem"],
        connect(sim, &with_sim_cert(sim, looks)),
    );
}

fn token_file_cases(t: &mut Table, sim: &Sim) {
    let path = sim.ready.token_file.clone().expect("a token file");
    let good = std::fs::read(&path).unwrap();
    let cases: [(&str, Vec<u8>, &str); 9] = [
        ("token file: empty", b"".to_vec(), "is empty"),
        ("token file: not JSON", b"{\"token\": \"abc\"".to_vec(), "not valid JSON"),
        ("token file: not an object", b"[1, 2]".to_vec(), "not a JSON object"),
        (
            "token file: no token",
            br#"{"expires": "2030-01-01T00:00:00Z"}"#.to_vec(),
            "no \"token\"",
        ),
        ("token file: no expires", br#"{"token": "abc"}"#.to_vec(), "no \"expires\""),
        (
            "token file: token a number",
            br#"{"token": 5, "expires": "2030-01-01T00:00:00Z"}"#.to_vec(),
            "not a string",
        ),
        ("token file: bad date", br#"{"token": "abc", "expires": "soon"}"#.to_vec(), "RFC 3339"),
        (
            "token file: control characters",
            b"{\"token\": \"a\\u0001b\", \"expires\": \"2030-01-01T00:00:00Z\"}".to_vec(),
            "printable ASCII",
        ),
        ("token file: huge", vec![b' '; 70 * 1024], "larger than"),
    ];
    let options = || with_ca(sim).local_token_mode(minknow_local_token_mode::Auto);
    for (name, contents, why) in cases {
        std::fs::write(&path, &contents).unwrap();
        let result = connect(sim, &options());
        t.add(name, Status::Unauthenticated, &["local token not used", &path, why], result);
    }
    std::fs::remove_file(&path).unwrap();
    t.add(
        "token file: missing",
        Status::Unauthenticated,
        &["local token not used", &path],
        connect(sim, &options()),
    );
    std::fs::create_dir(&path).unwrap();
    t.add(
        "token file: a directory",
        Status::Unauthenticated,
        &[&path, "directory"],
        connect(sim, &options()),
    );
    std::fs::remove_dir(&path).unwrap();
    std::fs::write(&path, good).unwrap();
    t.add("token file: restored", Status::Ok, &[], connect(sim, &options()));
}

fn argument_cases(t: &mut Table, sim: &Sim) {
    let bad = non_utf8();
    let empty = c("");
    let port = i32::from(sim.ready.manager_port);
    let raw_connect = |host: *const c_char, port: i32| -> Result<(), Failure> {
        let mut out = ptr::null_mut();
        let r = with_err(|e| minknow_connect(host, port, ptr::null(), &mut out, e));
        assert!(out.is_null());
        r
    };
    t.add("connect: NULL host", Status::NullArgument, &["host"], raw_connect(ptr::null(), port));
    t.add(
        "connect: non-UTF-8 host",
        Status::InvalidArgument,
        &["host", "UTF-8"],
        raw_connect(bad.as_ptr(), port),
    );
    t.add(
        "connect: empty host",
        Status::InvalidArgument,
        &["host"],
        raw_connect(empty.as_ptr(), port),
    );
    let spaced = c("seq host");
    t.add(
        "connect: host with a space",
        Status::InvalidArgument,
        &["seq host"],
        raw_connect(spaced.as_ptr(), port),
    );
    let host = c("127.0.0.1");
    for p in [0, -2, 65_536, i32::MAX] {
        let name = format!("connect: port {p}");
        t.add(
            &name,
            Status::InvalidArgument,
            &["port", &p.to_string()],
            raw_connect(host.as_ptr(), p),
        );
    }
    let mut out = ptr::null_mut();
    t.add(
        "connect: NULL out_channel",
        Status::NullArgument,
        &["out_channel"],
        with_err(|e| minknow_connect(host.as_ptr(), port, ptr::null(), ptr::null_mut(), e)),
    );
    let r = with_err(|e| {
        minknow_connect_with_certificate(
            host.as_ptr(),
            port,
            ptr::null(),
            bad.as_ptr(),
            bad.as_ptr(),
            &mut out,
            e,
        )
    });
    t.add("connect_with_certificate: non-UTF-8 chain", Status::InvalidArgument, &["chain_path"], r);
    let r = with_err(|e| {
        minknow_connect_with_certificate(
            host.as_ptr(),
            port,
            ptr::null(),
            empty.as_ptr(),
            ptr::null(),
            &mut out,
            e,
        )
    });
    t.add("connect_with_certificate: NULL key", Status::NullArgument, &["key_path"], r);
    let r = with_err(|e| {
        minknow_connect_with_token(host.as_ptr(), port, bad.as_ptr(), empty.as_ptr(), &mut out, e)
    });
    t.add("connect_with_token: non-UTF-8 CA", Status::InvalidArgument, &["ca_path"], r);
    let ca = c(&sim.ready.ca);
    let newline = c("a\nb");
    let r = with_err(|e| {
        minknow_connect_with_token(host.as_ptr(), port, ca.as_ptr(), newline.as_ptr(), &mut out, e)
    });
    t.add("connect_with_token: token with a newline", Status::InvalidArgument, &["token"], r);

    // Option setters.
    t.add(
        "options_new: NULL out",
        Status::NullArgument,
        &["out_options"],
        with_err(|e| minknow_options_new(ptr::null_mut(), e)),
    );
    t.add(
        "add_ca_file: NULL options",
        Status::NullArgument,
        &["options"],
        with_err(|e| minknow_options_add_ca_file(ptr::null_mut(), ca.as_ptr(), e)),
    );
    t.add(
        "add_ca_file: empty",
        Status::InvalidArgument,
        &["path"],
        setter(|o, e| minknow_options_add_ca_file(o, empty.as_ptr(), e)),
    );
    t.add(
        "add_ca_file: non-UTF-8",
        Status::InvalidArgument,
        &["path", "UTF-8"],
        setter(|o, e| minknow_options_add_ca_file(o, bad.as_ptr(), e)),
    );
    t.add(
        "add_ca_pem: NULL with a length",
        Status::NullArgument,
        &["pem"],
        setter(|o, e| minknow_options_add_ca_pem(o, ptr::null(), 5, e)),
    );
    t.add(
        "client_certificate_files: empty chain",
        Status::InvalidArgument,
        &["chain_path"],
        setter(|o, e| {
            minknow_options_set_client_certificate_files(o, empty.as_ptr(), ca.as_ptr(), e)
        }),
    );
    t.add(
        "client_certificate_files: non-UTF-8 key",
        Status::InvalidArgument,
        &["key_path"],
        setter(|o, e| {
            minknow_options_set_client_certificate_files(o, ca.as_ptr(), bad.as_ptr(), e)
        }),
    );
    t.add(
        "client_certificate_pem: NULL key",
        Status::NullArgument,
        &["key_pem"],
        setter(|o, e| {
            minknow_options_set_client_certificate_pem(o, b"x".as_ptr(), 1, ptr::null(), 3, e)
        }),
    );
    t.add(
        "developer_token: empty",
        Status::InvalidArgument,
        &["token", "empty"],
        setter(|o, e| minknow_options_set_developer_token(o, empty.as_ptr(), e)),
    );
    t.add(
        "developer_token: non-UTF-8",
        Status::InvalidArgument,
        &["token"],
        setter(|o, e| minknow_options_set_developer_token(o, bad.as_ptr(), e)),
    );
    t.add(
        "protocol_token: newline",
        Status::InvalidArgument,
        &["token"],
        setter(|o, e| minknow_options_set_protocol_token(o, newline.as_ptr(), e)),
    );
    t.add(
        "protocol_token: NULL",
        Status::NullArgument,
        &["token"],
        setter(|o, e| minknow_options_set_protocol_token(o, ptr::null(), e)),
    );
    for mode in [3, -1] {
        t.add(
            &format!("local_token_mode: {mode}"),
            Status::InvalidArgument,
            &["mode"],
            setter(|o, e| minknow_options_set_local_token_mode(o, mode, e)),
        );
    }
    let name = c("not a name!");
    t.add(
        "server_name: not a name",
        Status::InvalidArgument,
        &["not a name!"],
        setter(|o, e| minknow_options_set_server_name(o, name.as_ptr(), e)),
    );
    t.add(
        "server_name: empty",
        Status::InvalidArgument,
        &["name"],
        setter(|o, e| minknow_options_set_server_name(o, empty.as_ptr(), e)),
    );
    for ms in [0, 600_001] {
        t.add(
            &format!("connect_timeout_ms: {ms}"),
            Status::InvalidArgument,
            &["timeout_ms"],
            setter(|o, e| minknow_options_set_connect_timeout_ms(o, ms, e)),
        );
    }
    t.add(
        "use_environment: NULL options",
        Status::NullArgument,
        &["options"],
        with_err(|e| minknow_options_set_use_environment(ptr::null_mut(), true, e)),
    );
}

fn channel_cases(t: &mut Table, sim: &Sim) {
    let options = with_sim_cert(sim, with_ca(sim));
    let manager = connect(sim, &options).expect("the manager");
    let bad = non_utf8();

    // Ports and positions.
    for p in [0, -5, 70_000] {
        t.add(
            &format!("open_port: {p}"),
            Status::InvalidArgument,
            &["port", &p.to_string()],
            manager.open_port(p),
        );
    }
    t.add(
        "open_position: unknown",
        Status::PositionNotFound,
        &["X99", "X1"],
        manager.open_position("X99"),
    );
    t.add(
        "open_position: empty name",
        Status::PositionNotFound,
        &["X1"],
        manager.open_position(""),
    );
    t.add(
        "open_position: stopped",
        Status::PositionNotRunning,
        &["X3"],
        manager.open_position("X3"),
    );
    let mut out = ptr::null_mut();
    let r = with_err(|e| minknow_channel_open_position(manager.0, bad.as_ptr(), &mut out, e));
    t.add("open_position: non-UTF-8", Status::InvalidArgument, &["name", "UTF-8"], r);

    // Method paths, for unary calls and streams.
    for method in
        ["", "get_version_info", "/Service/method", "/a.B/", "/a.B/c/d", "/a.B/c d", "//x"]
    {
        let name = format!("unary: method {method:?}");
        t.add(
            &name,
            Status::InvalidArgument,
            &["method", method],
            manager.unary(method, &[], Some(TIMEOUT)),
        );
        let name = format!("call_start: method {method:?}");
        t.add(
            &name,
            Status::InvalidArgument,
            &["method", method],
            manager.start(method, Some(TIMEOUT)),
        );
    }
    let mut reply = ptr::null_mut();
    let r = with_err(|e| minknow_unary(manager.0, bad.as_ptr(), ptr::null(), 0, 0, &mut reply, e));
    t.add("unary: non-UTF-8 method", Status::InvalidArgument, &["method"], r);
    let method = c(proto::ECHO);
    let r =
        with_err(|e| minknow_unary(manager.0, method.as_ptr(), ptr::null(), 4, 0, &mut reply, e));
    t.add("unary: NULL request with a length", Status::NullArgument, &["request"], r);

    // Messages over the 16 MiB limit, both ways out.
    let huge = vec![0u8; 16 * 1024 * 1024 + 1];
    t.add(
        "unary: request over 16 MiB",
        Status::MessageTooLarge,
        &["16777217", "limit"],
        manager.unary(proto::ECHO, &huge, Some(TIMEOUT)),
    );
    let call = manager.start(proto::BIDI_ECHO, Some(TIMEOUT)).unwrap();
    t.add(
        "call_send: message over 16 MiB",
        Status::MessageTooLarge,
        &["16777217", "limit"],
        call.send(&huge),
    );
    call.close_send().unwrap();
    t.add(
        "call_send: after close_send",
        Status::InvalidState,
        &["close_send", proto::BIDI_ECHO],
        call.send(b"x"),
    );
    t.add(
        "call_recv: after close_send ends cleanly",
        Status::Ok,
        &[],
        call.recv().map(|m| assert_eq!(m, None)),
    );
    let cancelled = manager.start(proto::BIDI_ECHO, None).unwrap();
    cancelled.cancel();
    t.add(
        "call_recv: after cancel",
        Status::Cancelled,
        &["cancelled", proto::BIDI_ECHO],
        cancelled.recv(),
    );
    t.add("call_send: after cancel", Status::Cancelled, &["cancelled"], cancelled.send(b"x"));

    // Handles used after their parent was freed: documented to keep working.
    let parent = connect(sim, &options).unwrap();
    let child = parent.open_position("X1").unwrap();
    let stream = parent.start(proto::BIDI_ECHO, Some(TIMEOUT)).unwrap();
    drop(parent);
    t.add("child after its parent was freed", Status::Ok, &[], child.position_version());
    let echoed = stream.send(&proto::chunk(vec![1, 2, 3], 9)).and_then(|()| stream.recv());
    t.add(
        "stream after its channel was freed",
        Status::Ok,
        &[],
        echoed.map(|m| assert!(m.is_some())),
    );
    let grandchild = child.open_port(i32::from(sim.ready.position_port("X2")));
    t.add("grandchild of a freed manager", Status::Ok, &[], grandchild);
}

#[test]
fn every_bad_input_has_its_status_and_names_the_culprit() {
    let cert_sim = SimBuilder::auth("client-cert").start();
    let token_sim = SimBuilder::auth("local-token").start();
    let material = make_material();
    let mut table = Table::default();

    identity_cases(&mut table, &cert_sim, &material);
    trust_cases(&mut table, &cert_sim, &material);
    token_file_cases(&mut table, &token_sim);
    argument_cases(&mut table, &cert_sim);
    channel_cases(&mut table, &cert_sim);

    let problems = table.problems();
    println!("bad input: {} cases, {} problems", table.cases.len(), problems.len());
    assert!(
        problems.is_empty(),
        "{} of {} cases did not hold:\n{}",
        problems.len(),
        table.cases.len(),
        problems.join("\n")
    );
    assert!(table.cases.len() >= 60, "only {} cases", table.cases.len());
}
