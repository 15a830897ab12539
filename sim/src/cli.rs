//! Command-line options, parsed by hand to keep the simulator light.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

/// The longest a simulator may live, so a forgotten one always goes away by itself.
pub const MAX_LIFETIME_SECS: u64 = 86_400;
/// Enough for a PromethION 48 plus spares; more only slows start-up.
pub const MAX_POSITIONS: u32 = 64;

pub const USAGE: &str = "\
usage: minknow-sim [options]

Plays MinKNOW's authentication surface on loopback and prints one JSON line with its
ports when ready.

  --listen ADDR             loopback address to serve on (default 127.0.0.1; repeatable,
                            e.g. 127.0.0.1 and ::1, all on the same ports)
  --auth MODES              comma-separated: guest, local-token, developer-token,
                            protocol-token, client-cert (default guest); a call is
                            authorised when any of them is satisfied
  --positions N             running flow cell positions X1..XN (default 2)
  --stopped M               extra positions that are not running (default 1)
  --dir DIR                 where certificates and the token file go (default: a fresh
                            directory under the system temp dir, removed at exit)
  --expired-server-cert     serve a leaf certificate whose validity is in the past
  --server-cert-name NAME   make the leaf certificate valid for NAME, not localhost
  --trust-client-ca PATH    also accept client certificates issued by the CAs in PATH
                            (repeatable)
  --token-rotate SECS       issue a new local token every SECS seconds (default 0: never)
  --token-grace SECS        keep accepting the previous local token for SECS after a
                            rotation (default 2)
  --token-fault KIND:MS     at each rotation, leave the token file missing (KIND missing)
                            or half written (KIND half) for MS milliseconds (1-10000)
                            before the new file appears, as a careless rotation may
  --keep-identity           with --dir: save the CAs, certificates, server key and ports
                            there, and on a later start with the same --dir reuse them
                            (same CA, same ports), as a restarted MinKNOW keeps its own
  --developer-token T       the developer token (default: random, in the ready line)
  --protocol-token T        the protocol token (default: random, in the ready line)
  --lifetime SECS           exit after SECS seconds (default 600, at most 86400)
  --exit-on-stdin-eof       exit when standard input closes
  --help                    print this and exit
";

/// One way a call may be authorised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    Guest,
    LocalToken,
    DeveloperToken,
    ProtocolToken,
    ClientCert,
}

impl AuthMode {
    pub fn name(self) -> &'static str {
        match self {
            AuthMode::Guest => "guest",
            AuthMode::LocalToken => "local-token",
            AuthMode::DeveloperToken => "developer-token",
            AuthMode::ProtocolToken => "protocol-token",
            AuthMode::ClientCert => "client-cert",
        }
    }

    fn parse(text: &str) -> Option<AuthMode> {
        [
            AuthMode::Guest,
            AuthMode::LocalToken,
            AuthMode::DeveloperToken,
            AuthMode::ProtocolToken,
            AuthMode::ClientCert,
        ]
        .into_iter()
        .find(|mode| mode.name() == text)
    }
}

/// How a rotation goes wrong, for fault tests (`--token-fault`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFault {
    /// The file is removed, then the new one appears `ms` later.
    Missing { ms: u64 },
    /// The file holds the first half of the new JSON for `ms`, then all of it.
    Half { ms: u64 },
}

/// The longest a token file may stay broken: longer is no longer "briefly".
pub const MAX_TOKEN_FAULT_MS: u64 = 10_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub listen: Vec<IpAddr>,
    pub auth: Vec<AuthMode>,
    pub positions: u32,
    pub stopped: u32,
    pub dir: Option<PathBuf>,
    pub expired_server_cert: bool,
    pub server_cert_name: String,
    pub trust_client_ca: Vec<PathBuf>,
    pub token_rotate_secs: u64,
    pub token_grace_secs: u64,
    pub token_fault: Option<TokenFault>,
    pub keep_identity: bool,
    pub developer_token: Option<String>,
    pub protocol_token: Option<String>,
    pub lifetime_secs: u64,
    pub exit_on_stdin_eof: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: Vec::new(),
            auth: Vec::new(),
            positions: 2,
            stopped: 1,
            dir: None,
            expired_server_cert: false,
            server_cert_name: "localhost".to_string(),
            trust_client_ca: Vec::new(),
            token_rotate_secs: 0,
            token_grace_secs: 2,
            token_fault: None,
            keep_identity: false,
            developer_token: None,
            protocol_token: None,
            lifetime_secs: 600,
            exit_on_stdin_eof: false,
        }
    }
}

impl Options {
    pub fn has(&self, mode: AuthMode) -> bool {
        self.auth.contains(&mode)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Boxed: the options are large and parsed once.
    Run(Box<Options>),
    Help,
}

/// A bad command line; the message names the option at fault.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(text: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(text.into()))
}

/// Parses the arguments after the program name.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, UsageError> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both "--opt value" and "--opt=value" are accepted.
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_string(), Some(value)),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, UsageError> {
            match inline {
                Some(v) => Ok(v.to_string()),
                None => args.next().ok_or_else(|| UsageError(format!("{name} needs a value"))),
            }
        };
        match name.as_str() {
            "--help" | "-h" => return Ok(Command::Help),
            "--listen" => add_listen(&mut options, &value()?)?,
            "--auth" => options.auth = parse_modes(&value()?)?,
            "--positions" => options.positions = count(&name, &value()?)?,
            "--stopped" => options.stopped = count(&name, &value()?)?,
            "--dir" => options.dir = Some(PathBuf::from(non_empty(&name, value()?)?)),
            "--expired-server-cert" => flag(&name, inline, &mut options.expired_server_cert)?,
            "--server-cert-name" => options.server_cert_name = dns_name(&name, value()?)?,
            "--trust-client-ca" => {
                options.trust_client_ca.push(PathBuf::from(non_empty(&name, value()?)?))
            }
            "--token-rotate" => options.token_rotate_secs = seconds(&name, &value()?, 0)?,
            "--token-grace" => options.token_grace_secs = seconds(&name, &value()?, 0)?,
            "--token-fault" => options.token_fault = Some(token_fault(&name, &value()?)?),
            "--keep-identity" => flag(&name, inline, &mut options.keep_identity)?,
            "--developer-token" => options.developer_token = Some(token(&name, value()?)?),
            "--protocol-token" => options.protocol_token = Some(token(&name, value()?)?),
            "--lifetime" => options.lifetime_secs = seconds(&name, &value()?, 1)?,
            "--exit-on-stdin-eof" => flag(&name, inline, &mut options.exit_on_stdin_eof)?,
            _ => return err(format!("unknown option {arg}")),
        }
    }
    finish(options).map(|options| Command::Run(Box::new(options)))
}

/// Fills defaults and rejects options that only make sense with a mode that is off.
fn finish(mut options: Options) -> Result<Options, UsageError> {
    if options.listen.is_empty() {
        options.listen.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    if options.auth.is_empty() {
        options.auth.push(AuthMode::Guest);
    }
    let needs = [
        ("--developer-token", options.developer_token.is_some(), AuthMode::DeveloperToken),
        ("--protocol-token", options.protocol_token.is_some(), AuthMode::ProtocolToken),
        ("--token-rotate", options.token_rotate_secs != 0, AuthMode::LocalToken),
    ];
    for (option, given, mode) in needs {
        if given && !options.has(mode) {
            return err(format!("{option} needs --auth {}", mode.name()));
        }
    }
    if options.token_fault.is_some() && options.token_rotate_secs == 0 {
        return err("--token-fault needs --token-rotate");
    }
    if options.keep_identity && options.dir.is_none() {
        return err("--keep-identity needs --dir (where the identity is kept)");
    }
    Ok(options)
}

fn flag(name: &str, inline: Option<&str>, target: &mut bool) -> Result<(), UsageError> {
    if inline.is_some() {
        return err(format!("{name} takes no value"));
    }
    *target = true;
    Ok(())
}

fn add_listen(options: &mut Options, text: &str) -> Result<(), UsageError> {
    // Accept "[::1]" as well as "::1", since that is how addresses are often written.
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    let Ok(addr) = bare.parse::<IpAddr>() else {
        return err(format!("--listen: {text:?} is not an IP address"));
    };
    if !addr.is_loopback() {
        return err(format!(
            "--listen: {addr} is not a loopback address; the simulator only serves loopback"
        ));
    }
    if options.listen.contains(&addr) {
        return err(format!("--listen: {addr} given twice"));
    }
    options.listen.push(addr);
    Ok(())
}

fn parse_modes(text: &str) -> Result<Vec<AuthMode>, UsageError> {
    let mut modes = Vec::new();
    for part in text.split(',').map(str::trim) {
        let Some(mode) = AuthMode::parse(part) else {
            return err(format!(
                "--auth: unknown mode {part:?} (expected guest, local-token, developer-token, \
                 protocol-token or client-cert)"
            ));
        };
        if !modes.contains(&mode) {
            modes.push(mode);
        }
    }
    Ok(modes)
}

fn token_fault(name: &str, text: &str) -> Result<TokenFault, UsageError> {
    let parsed = text.split_once(':').and_then(|(kind, ms)| {
        let ms = ms.parse::<u64>().ok().filter(|ms| (1..=MAX_TOKEN_FAULT_MS).contains(ms))?;
        match kind {
            "missing" => Some(TokenFault::Missing { ms }),
            "half" => Some(TokenFault::Half { ms }),
            _ => None,
        }
    });
    parsed.map_or_else(
        || {
            err(format!(
                "{name}: expected missing:MS or half:MS with MS from 1 to {MAX_TOKEN_FAULT_MS}, \
                 got {text:?}"
            ))
        },
        Ok,
    )
}

fn count(name: &str, text: &str) -> Result<u32, UsageError> {
    match text.parse::<u32>() {
        Ok(n) if n <= MAX_POSITIONS => Ok(n),
        _ => {
            err(format!("{name}: expected a whole number from 0 to {MAX_POSITIONS}, got {text:?}"))
        }
    }
}

fn seconds(name: &str, text: &str, min: u64) -> Result<u64, UsageError> {
    match text.parse::<u64>() {
        Ok(n) if (min..=MAX_LIFETIME_SECS).contains(&n) => Ok(n),
        _ => err(format!(
            "{name}: expected whole seconds from {min} to {MAX_LIFETIME_SECS}, got {text:?}"
        )),
    }
}

fn non_empty(name: &str, text: String) -> Result<String, UsageError> {
    if text.is_empty() {
        return err(format!("{name} needs a non-empty value"));
    }
    Ok(text)
}

/// Tokens travel as gRPC metadata, so they must be visible ASCII without spaces.
fn token(name: &str, text: String) -> Result<String, UsageError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return err(format!("{name}: a token must be non-empty visible ASCII without spaces"));
    }
    Ok(text)
}

fn dns_name(name: &str, text: String) -> Result<String, UsageError> {
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '*';
    if text.is_empty() || !text.chars().all(valid) {
        return err(format!("{name}: {text:?} is not a DNS name"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, UsageError> {
        match parse(args.iter().map(|s| s.to_string()))? {
            Command::Run(options) => Ok(*options),
            Command::Help => panic!("unexpected help"),
        }
    }

    fn error(args: &[&str]) -> String {
        run(args).unwrap_err().0
    }

    #[test]
    fn defaults() {
        let options = run(&[]).unwrap();
        assert_eq!(options.listen, vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
        assert_eq!(options.auth, vec![AuthMode::Guest]);
        assert_eq!((options.positions, options.stopped), (2, 1));
        assert_eq!(options.lifetime_secs, 600);
        assert_eq!(options.token_grace_secs, 2);
        assert_eq!(options.server_cert_name, "localhost");
    }

    #[test]
    fn all_options() {
        let options = run(&[
            "--listen",
            "127.0.0.1",
            "--listen=[::1]",
            "--auth",
            "client-cert,local-token,developer-token,protocol-token",
            "--positions",
            "5",
            "--stopped=0",
            "--dir",
            "/tmp/x",
            "--expired-server-cert",
            "--server-cert-name",
            "other.example",
            "--trust-client-ca",
            "a.pem",
            "--trust-client-ca",
            "b.pem",
            "--token-rotate",
            "3",
            "--token-grace",
            "1",
            "--developer-token",
            "dev",
            "--protocol-token",
            "proto",
            "--lifetime",
            "30",
            "--exit-on-stdin-eof",
        ])
        .unwrap();
        assert_eq!(options.listen.len(), 2);
        assert!(options.has(AuthMode::ClientCert) && !options.has(AuthMode::Guest));
        assert_eq!((options.positions, options.stopped), (5, 0));
        assert_eq!(options.trust_client_ca.len(), 2);
        assert_eq!((options.token_rotate_secs, options.token_grace_secs), (3, 1));
        assert_eq!(options.developer_token.as_deref(), Some("dev"));
        assert_eq!(options.protocol_token.as_deref(), Some("proto"));
        assert!(options.expired_server_cert && options.exit_on_stdin_eof);
        assert_eq!(options.lifetime_secs, 30);
    }

    #[test]
    fn help() {
        assert_eq!(parse(["--help".to_string()]), Ok(Command::Help));
    }

    #[test]
    fn errors_name_the_option() {
        assert!(error(&["--listen", "10.0.0.1"]).starts_with("--listen"));
        assert!(error(&["--listen", "localhost"]).starts_with("--listen"));
        assert!(error(&["--auth", "guest,magic"]).starts_with("--auth"));
        assert!(error(&["--positions", "x"]).starts_with("--positions"));
        assert!(error(&["--stopped", "1000"]).starts_with("--stopped"));
        assert!(error(&["--lifetime", "0"]).starts_with("--lifetime"));
        assert!(error(&["--lifetime", "86401"]).starts_with("--lifetime"));
        assert!(error(&["--lifetime"]).starts_with("--lifetime"));
        assert!(error(&["--developer-token", "x"]).starts_with("--developer-token"));
        assert!(error(&["--auth=protocol-token", "--protocol-token", "a b"])
            .starts_with("--protocol-token"));
        assert!(error(&["--token-rotate", "5"]).starts_with("--token-rotate"));
        assert!(error(&["--exit-on-stdin-eof=1"]).starts_with("--exit-on-stdin-eof"));
        assert!(error(&["--keep-identity"]).starts_with("--keep-identity"));
        let rotating = ["--auth", "local-token", "--token-rotate", "2", "--token-fault"];
        for bad in ["gone:5", "missing", "missing:0", "half:10001", "half:x"] {
            let args: Vec<&str> = rotating.iter().copied().chain([bad]).collect();
            assert!(error(&args).starts_with("--token-fault"), "{bad}");
        }
        assert!(error(&["--auth", "local-token", "--token-fault", "half:5"])
            .starts_with("--token-fault"));
    }

    #[test]
    fn token_faults_and_kept_identity() {
        let options = run(&[
            "--auth=local-token",
            "--token-rotate=2",
            "--token-fault=missing:300",
            "--dir=/tmp/x",
            "--keep-identity",
        ])
        .unwrap();
        assert_eq!(options.token_fault, Some(TokenFault::Missing { ms: 300 }));
        assert!(options.keep_identity);
        let half = run(&["--auth=local-token", "--token-rotate=2", "--token-fault=half:50"]);
        assert_eq!(half.unwrap().token_fault, Some(TokenFault::Half { ms: 50 }));
        assert!(error(&["--bogus"]).contains("--bogus"));
    }
}
