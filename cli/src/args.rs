//! The command line, parsed by hand (a handful of options).

use std::path::PathBuf;
use std::time::Duration;

use minknow_auth::channel::options::ConnectOptions;
use minknow_auth::sources::Material;
use minknow_auth::{Error, Status};

pub const USAGE: &str = "\
usage: minknow-auth [--json] COMMAND [options]

commands:
  doctor        resolve what a connection would use, dial step by step (TCP, TLS,
                HTTP/2, an unauthenticated call, an authenticated call) and explain
                the first failure with its likely cause and fix
  version       MinKNOW's version, from the manager
  positions     the flow cell positions and their ports
  token-path    the local token file the manager names (asked without credentials)
  create-client-certificate
                a key and a certificate MinKNOW accepts as a client certificate

connection options (doctor, version, positions, token-path):
  --host H            the MinKNOW host (default localhost)
  --port P            the manager port (default 9501 with a client certificate, else 9502)
  --ca F              trust the CA certificate(s) in F (repeatable; default:
                      MINKNOW_TRUSTED_CA, then MinKNOW's install locations)
  --cert C --key K    client certificate chain (client certificate first) and its key
  --token T           a developer token (visible to other users in `ps`: prefer --token-file)
  --token-file F      read the developer token from the file F
  --server-name N     the name the server certificate must be valid for (default localhost)
  --timeout SECS      bound on connecting (default 10)
  --no-environment    ignore MinKNOW's environment variables

create-client-certificate options:
  --out-dir D         where to write client.key, client.crt and client-chain.pem (default .)
  --ca-cert F --ca-key K
                      sign with this CA (default: self-signed)
  --name CN           the certificate's common name (default minknow-auth-client)
  --days N            validity in days (default 365)
  --force             overwrite existing files

  --json              print JSON (every command)
  --help              print this
";

pub struct Parsed {
    pub command: Command,
    pub json: bool,
}

pub enum Command {
    Help,
    Doctor(Connection),
    Version(Connection),
    Positions(Connection),
    TokenPath(Connection),
    CreateClientCertificate(CertificateOptions),
}

/// Where to connect and with what.
#[derive(Default)]
pub struct Connection {
    pub host: String,
    pub port: Option<u16>,
    pub ca: Vec<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    pub server_name: Option<String>,
    pub timeout: Option<Duration>,
    pub no_environment: bool,
}

impl Connection {
    /// The library's options for this command line. Reads the token file.
    pub fn options(&self) -> Result<ConnectOptions, Error> {
        let mut options = ConnectOptions {
            ca: self.ca.iter().map(|p| Material::path(p, "--ca")).collect(),
            ..ConnectOptions::default()
        };
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                options.identity =
                    Some((Material::path(cert, "--cert"), Material::path(key, "--key")))
            }
            (None, None) => {}
            _ => {
                let message = "--cert and --key go together: give both or neither";
                return Err(Error::new(Status::IncompleteIdentity, message));
            }
        }
        options.developer_token = match (&self.token, &self.token_file) {
            (Some(token), _) => Some(token.clone()),
            (None, Some(path)) => Some(read_token(path)?),
            (None, None) => None,
        };
        options.server_name = self.server_name.clone();
        options.use_environment = !self.no_environment;
        if let Some(timeout) = self.timeout {
            options.connect_timeout = timeout;
        }
        Ok(options)
    }
}

fn read_token(path: &PathBuf) -> Result<String, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(Status::FileError, format!("--token-file {}: {e}", path.display()))
    })?;
    Ok(text.trim().to_owned())
}

#[derive(Default)]
pub struct CertificateOptions {
    pub out_dir: Option<PathBuf>,
    pub ca_cert: Option<PathBuf>,
    pub ca_key: Option<PathBuf>,
    pub name: Option<String>,
    pub days: Option<u32>,
    pub force: bool,
}

/// Parse everything after the program name. `--json` may come anywhere.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut json = false;
    let mut rest = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--json" => json = true,
            "--help" | "-h" => return Ok(Parsed { command: Command::Help, json }),
            _ => rest.push(arg),
        }
    }
    let mut rest = rest.into_iter();
    let Some(name) = rest.next() else {
        return Err("no command given".to_owned());
    };
    let options: Vec<String> = rest.collect();
    let command = match name.as_str() {
        "doctor" => Command::Doctor(connection(&options)?),
        "version" => Command::Version(connection(&options)?),
        "positions" => Command::Positions(connection(&options)?),
        "token-path" => Command::TokenPath(connection(&options)?),
        "create-client-certificate" => Command::CreateClientCertificate(certificate(&options)?),
        other => return Err(format!("unknown command {other:?}")),
    };
    Ok(Parsed { command, json })
}

/// Pairs of `--name value` (or `--name=value`); flags have no value.
fn pairs(args: &[String], flags: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if !arg.starts_with("--") {
            return Err(format!("unexpected argument {arg:?}"));
        }
        if flags.contains(&arg.as_str()) {
            out.push((arg.clone(), String::new()));
            continue;
        }
        if let Some((name, value)) = arg.split_once('=') {
            out.push((name.to_owned(), value.to_owned()));
            continue;
        }
        let value = iter.next().ok_or_else(|| format!("{arg} needs a value"))?;
        out.push((arg.clone(), value.clone()));
    }
    Ok(out)
}

fn connection(args: &[String]) -> Result<Connection, String> {
    let mut c = Connection { host: "localhost".to_owned(), ..Connection::default() };
    for (name, value) in pairs(args, &["--no-environment"])? {
        match name.as_str() {
            "--host" => c.host = value,
            "--port" => {
                let port = value.parse::<u16>().ok().filter(|&p| p != 0);
                c.port = Some(port.ok_or_else(|| format!("--port {value:?} is not a port"))?);
            }
            "--ca" => c.ca.push(value.into()),
            "--cert" => c.cert = Some(value.into()),
            "--key" => c.key = Some(value.into()),
            "--token" => c.token = Some(value),
            "--token-file" => c.token_file = Some(value.into()),
            "--server-name" => c.server_name = Some(value),
            "--timeout" => {
                let secs = value.parse::<f64>().ok().filter(|s| *s > 0.0 && *s <= 3600.0);
                let secs = secs.ok_or_else(|| format!("--timeout {value:?} is not 0-3600 s"))?;
                c.timeout = Some(Duration::from_secs_f64(secs));
            }
            "--no-environment" => c.no_environment = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(c)
}

fn certificate(args: &[String]) -> Result<CertificateOptions, String> {
    let mut c = CertificateOptions::default();
    for (name, value) in pairs(args, &["--force"])? {
        match name.as_str() {
            "--out-dir" => c.out_dir = Some(value.into()),
            "--ca-cert" => c.ca_cert = Some(value.into()),
            "--ca-key" => c.ca_key = Some(value.into()),
            "--name" if !value.is_empty() => c.name = Some(value),
            "--days" => {
                let days = value.parse::<u32>().ok().filter(|d| (1..=36_500).contains(d));
                c.days = Some(days.ok_or_else(|| format!("--days {value:?} is not 1-36500"))?);
            }
            "--force" => c.force = true,
            other => return Err(format!("unknown option {other} (or an empty value)")),
        }
    }
    if c.ca_cert.is_some() != c.ca_key.is_some() {
        return Err("--ca-cert and --ca-key go together".to_owned());
    }
    Ok(c)
}
