//! `create-client-certificate`: a key pair and a certificate MinKNOW
//! accepts from a client: keyUsage digitalSignature, extendedKeyUsage
//! clientAuth, the key as unencrypted PKCS#8 PEM written with mode 0600,
//! and the chain file client certificate first. Self-signed (marked as a
//! CA, as `openssl req -x509` makes them, so it may also sign others) or
//! signed by a given CA. The library checks the result the way it checks
//! any client identity before it is reported as done.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use minknow_auth::sources::identity::Identity;
use minknow_auth::sources::Material;
use minknow_auth::{Error, Status};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::args::CertificateOptions;
use crate::Outcome;

const DEFAULT_NAME: &str = "minknow-auth-client";
const DEFAULT_DAYS: u32 = 365;

pub fn create(options: &CertificateOptions) -> Outcome {
    match make(options) {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Failed(e),
    }
}

fn make(options: &CertificateOptions) -> Result<Outcome, Error> {
    let dir = options.out_dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let name = options.name.clone().unwrap_or_else(|| DEFAULT_NAME.to_owned());
    let days = options.days.unwrap_or(DEFAULT_DAYS);
    let key_path = dir.join("client.key");
    let cert_path = dir.join("client.crt");
    let chain_path = dir.join("client-chain.pem");
    for path in [&key_path, &cert_path, &chain_path] {
        if path.exists() && !options.force {
            let message = format!("{} exists; pass --force to overwrite it", path.display());
            return Err(Error::new(Status::InvalidArgument, message));
        }
    }

    let key = KeyPair::generate().map_err(|e| internal("generating a key", e))?;
    let self_signed = options.ca_cert.is_none();
    let params = params(&name, days, self_signed)?;
    let (cert_pem, chain_pem, ca_for_minknow) = match (&options.ca_cert, &options.ca_key) {
        (Some(ca_cert), Some(ca_key)) => {
            let ca_pem = read(ca_cert, "--ca-cert")?;
            let ca_key_pem = read(ca_key, "--ca-key")?;
            let ca_key = KeyPair::from_pem(&ca_key_pem).map_err(|e| {
                let message = format!(
                    "--ca-key {}: not an unencrypted PKCS#8 PEM key rcgen can sign with: {e}",
                    ca_key.display()
                );
                Error::new(Status::BadKey, message)
            })?;
            let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key).map_err(|e| {
                let message =
                    format!("--ca-cert {}: not a PEM certificate: {e}", ca_cert.display());
                Error::new(Status::BadCertificate, message)
            })?;
            let cert = params.signed_by(&key, &issuer).map_err(|e| internal("signing", e))?;
            let first_ca = first_pem_block(&ca_pem);
            let chain = format!("{}{}", cert.pem(), first_ca);
            (cert.pem(), chain, ca_cert.clone())
        }
        _ => {
            let cert = params.self_signed(&key).map_err(|e| internal("signing", e))?;
            (cert.pem(), cert.pem(), cert_path.clone())
        }
    };

    std::fs::create_dir_all(&dir).map_err(|e| file_error(&dir, e))?;
    write(&key_path, key.serialize_pem().as_bytes(), 0o600, options.force)?;
    write(&cert_path, cert_pem.as_bytes(), 0o644, options.force)?;
    write(&chain_path, chain_pem.as_bytes(), 0o644, options.force)?;
    // The same checks a connection makes before any network I/O.
    let identity = Identity::load(
        &Material::path(&chain_path, "client-chain.pem"),
        &Material::path(&key_path, "client.key"),
    )?;

    let ca_text = ca_for_minknow.display().to_string();
    let text = format!(
        "wrote {key} (private key, unencrypted, mode 0600)\n\
         wrote {cert} ({subject}, valid {days} days)\n\
         wrote {chain} (client certificate first{then})\n\
         next: copy {ca_text} into MinKNOW's conf/rpc-client-certs directory on the sequencer\n\
         \x20     (e.g. /opt/ont/minknow/conf/rpc-client-certs/) and restart MinKNOW;\n\
         \x20     then connect to port 9501 with --cert {chain} --key {key}, or set\n\
         \x20     MINKNOW_API_CLIENT_CERTIFICATE_CHAIN={chain} MINKNOW_API_CLIENT_KEY={key}\n",
        key = key_path.display(),
        cert = cert_path.display(),
        chain = chain_path.display(),
        subject = identity.subject(),
        then = if self_signed { ", self-signed" } else { ", then the CA" },
    );
    let json = json!({
        "ok": true,
        "subject": identity.subject(),
        "self_signed": self_signed,
        "not_after": minknow_auth::x509::format_time(identity.not_after()),
        "key": key_path.display().to_string(),
        "certificate": cert_path.display().to_string(),
        "chain": chain_path.display().to_string(),
        "ca_for_minknow": ca_text,
        "minknow_directory": "conf/rpc-client-certs",
        "port": 9501,
    });
    Ok(Outcome::Report { ok: true, json, text })
}

fn params(name: &str, days: u32, self_signed: bool) -> Result<CertificateParams, Error> {
    let mut params =
        CertificateParams::new(Vec::<String>::new()).map_err(|e| internal("parameters", e))?;
    params.distinguished_name.push(DnType::CommonName, name);
    let now = OffsetDateTime::now_utc();
    // An hour back, for clocks a little behind this one.
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(i64::from(days));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    if self_signed {
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages.push(KeyUsagePurpose::KeyCertSign);
    } else {
        params.is_ca = IsCa::ExplicitNoCa;
    }
    Ok(params)
}

fn first_pem_block(pem: &str) -> String {
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find("-----BEGIN CERTIFICATE-----").unwrap_or(0);
    match pem[start..].find(END) {
        Some(end) => format!("{}\n", &pem[start..start + end + END.len()]),
        None => pem.to_owned(),
    }
}

fn read(path: &Path, option: &str) -> Result<String, Error> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::new(Status::FileError, format!("{option} {}: {e}", path.display())))
}

/// Write a new file with `mode` from the start (never a moment readable by
/// others), replacing an old one only when forced.
fn write(path: &Path, bytes: &[u8], mode: u32, force: bool) -> Result<(), Error> {
    if force && path.exists() {
        std::fs::remove_file(path).map_err(|e| file_error(path, e))?;
    }
    let mut open = OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = open.open(path).map_err(|e| file_error(path, e))?;
    file.write_all(bytes).map_err(|e| file_error(path, e))?;
    file.sync_all().map_err(|e| file_error(path, e))
}

fn file_error(path: &Path, e: std::io::Error) -> Error {
    Error::new(Status::FileError, format!("{}: {e}", path.display()))
}

fn internal(what: &str, e: rcgen::Error) -> Error {
    Error::new(Status::Internal, format!("{what}: {e}"))
}
