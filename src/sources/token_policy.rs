//! Which token a connection sends, following the reference client's rules:
//! a developer token given by the caller, else the local token (local hosts
//! only, unless `MINKNOW_API_USE_LOCAL_TOKEN` says otherwise), else the
//! protocol token from `PROTOCOL_TOKEN`.

use std::ffi::OsStr;
use std::net::{IpAddr, Ipv4Addr};

use crate::env::{self, Env};

/// Whether to use the local token, as the caller asked for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LocalTokenMode {
    /// Decide from `MINKNOW_API_USE_LOCAL_TOKEN`, else from whether the host
    /// is this machine (the reference client's behaviour).
    #[default]
    Auto,
    /// Always try the local token, even for a remote host.
    On,
    /// Never use the local token.
    Off,
}

/// The outcome of the local-token rule for one host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalTokenUse {
    /// Do not try the local token.
    No,
    /// Try it: the host is this machine.
    LocalHost,
    /// Try it although the host is not this machine, because the caller or
    /// the environment forced it. Worth a warning.
    ForcedRemote,
}

/// The token plan for a connection: what to send, in what order to try.
#[derive(Clone, PartialEq, Eq)]
pub enum TokenPlan {
    /// Send no token metadata.
    None,
    /// Send this developer token as `local-auth`.
    Developer(String),
    /// Ask the manager for the local token file and send its token as
    /// `local-auth`; if that fails, fall back to `protocol` when present.
    Local { forced_remote: bool, protocol: Option<String> },
    /// Send this protocol token as `protocol-auth`.
    Protocol(String),
}

// Never print a token, even in debug output.
impl std::fmt::Debug for TokenPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl TokenPlan {
    /// A description for logs and diagnostics, without any secret.
    pub fn describe(&self) -> &'static str {
        match self {
            TokenPlan::None => "no token",
            TokenPlan::Developer(_) => "developer token (local-auth)",
            TokenPlan::Local { protocol: None, .. } => "local token file (local-auth)",
            TokenPlan::Local { protocol: Some(_), .. } => {
                "local token file (local-auth), else PROTOCOL_TOKEN (protocol-auth)"
            }
            TokenPlan::Protocol(_) => "PROTOCOL_TOKEN (protocol-auth)",
        }
    }
}

/// Choose the token plan from the caller's options and the environment.
///
/// `protocol_token` is an explicit protocol token from the caller; when it
/// is `None` the `PROTOCOL_TOKEN` variable is used.
pub fn plan(
    developer_token: Option<&str>,
    protocol_token: Option<&str>,
    local: LocalTokenUse,
    env: &Env,
) -> TokenPlan {
    if let Some(token) = developer_token {
        return TokenPlan::Developer(token.to_owned());
    }
    let protocol = protocol_token
        .map(str::to_owned)
        .or_else(|| env.non_empty(env::PROTOCOL_TOKEN).and_then(|v| v.to_str()).map(str::to_owned));
    match (local, protocol) {
        (LocalTokenUse::No, Some(token)) => TokenPlan::Protocol(token),
        (LocalTokenUse::No, None) => TokenPlan::None,
        (local, protocol) => {
            TokenPlan::Local { forced_remote: local == LocalTokenUse::ForcedRemote, protocol }
        }
    }
}

/// Apply the local-token rule: the caller's mode first, then
/// `MINKNOW_API_USE_LOCAL_TOKEN` (empty, `0`, `no` mean off, in any case;
/// anything else on), then whether `host` is this machine.
pub fn local_token_use(
    mode: LocalTokenMode,
    host: &str,
    env: &Env,
    own_names: &[String],
) -> LocalTokenUse {
    let local = is_local_host(host, own_names);
    let wanted = match mode {
        LocalTokenMode::On => true,
        LocalTokenMode::Off => false,
        LocalTokenMode::Auto => match env.get(env::USE_LOCAL_TOKEN) {
            Some(value) => env_flag_is_on(value),
            None => local,
        },
    };
    match (wanted, local) {
        (false, _) => LocalTokenUse::No,
        (true, true) => LocalTokenUse::LocalHost,
        (true, false) => LocalTokenUse::ForcedRemote,
    }
}

fn env_flag_is_on(value: &OsStr) -> bool {
    let text = value.to_string_lossy().to_ascii_lowercase();
    !matches!(text.trim(), "" | "0" | "no")
}

/// Whether `host` names this machine as the reference client decides it:
/// `localhost` and `localhost.localdomain` (any case, trailing dot
/// allowed), `127.0.0.1` and `::1` in any spelling (bracketed, expanded,
/// IPv4-mapped), or one of `own_names` (the machine's host names). Other
/// loopback addresses (127.0.0.2, ...) are not: the local token goes only
/// where the reference client would send it, unless forced.
pub fn is_local_host(host: &str, own_names: &[String]) -> bool {
    let host = host.trim();
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let name = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if name == "localhost" || name == "localhost.localdomain" {
        return true;
    }
    if let Ok(ip) = name.parse::<IpAddr>() {
        return is_loopback(ip);
    }
    own_names.iter().any(|own| !own.is_empty() && own.eq_ignore_ascii_case(&name))
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4 == Ipv4Addr::LOCALHOST,
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped() == Some(Ipv4Addr::LOCALHOST),
    }
}

/// This machine's host name, as `gethostname` reports it, if any.
pub fn own_host_names() -> Vec<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at
    // most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return Vec::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(name) if !name.is_empty() => vec![name.to_owned()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["seq-host-01".to_owned()]
    }

    #[test]
    fn loopback_spellings_are_local() {
        for host in [
            "localhost",
            "LOCALHOST",
            "localhost.",
            "localhost.localdomain",
            "127.0.0.1",
            "::1",
            "[::1]",
            "0:0:0:0:0:0:0:1",
            "0000:0000:0000:0000:0000:0000:0000:0001",
            "::ffff:127.0.0.1",
            "Seq-Host-01",
        ] {
            assert!(is_local_host(host, &names()), "{host} should be local");
        }
    }

    #[test]
    fn other_hosts_are_not_local() {
        for host in [
            "10.0.0.5",
            "::2",
            "example.org",
            "localhost.example.org",
            "seq-host-02",
            "",
            "::",
            "127.0.0.2",
            "127.1.2.3",
            "::ffff:127.0.0.2",
        ] {
            assert!(!is_local_host(host, &names()), "{host} should not be local");
        }
    }

    #[test]
    fn an_empty_own_name_matches_nothing() {
        assert!(!is_local_host("", &[String::new()]));
    }

    #[test]
    fn env_override_values() {
        let cases = [
            ("", false),
            ("0", false),
            ("no", false),
            ("NO", false),
            ("No", false),
            ("1", true),
            ("yes", true),
            ("true", true),
            ("false", true), // only "", "0" and "no" turn it off, as in the reference
        ];
        for (value, on) in cases {
            let env = Env::from_pairs(&[(env::USE_LOCAL_TOKEN, value)]);
            let remote = local_token_use(LocalTokenMode::Auto, "10.1.1.1", &env, &names());
            let expected = if on { LocalTokenUse::ForcedRemote } else { LocalTokenUse::No };
            assert_eq!(remote, expected, "value {value:?}");
            let local = local_token_use(LocalTokenMode::Auto, "localhost", &env, &names());
            let expected = if on { LocalTokenUse::LocalHost } else { LocalTokenUse::No };
            assert_eq!(local, expected, "value {value:?}");
        }
    }

    #[test]
    fn without_override_locality_decides() {
        let env = Env::empty();
        assert_eq!(
            local_token_use(LocalTokenMode::Auto, "::1", &env, &names()),
            LocalTokenUse::LocalHost
        );
        assert_eq!(
            local_token_use(LocalTokenMode::Auto, "10.1.1.1", &env, &names()),
            LocalTokenUse::No
        );
    }

    #[test]
    fn caller_mode_beats_environment() {
        let env = Env::from_pairs(&[(env::USE_LOCAL_TOKEN, "1")]);
        assert_eq!(
            local_token_use(LocalTokenMode::Off, "localhost", &env, &names()),
            LocalTokenUse::No
        );
        let env = Env::from_pairs(&[(env::USE_LOCAL_TOKEN, "0")]);
        assert_eq!(
            local_token_use(LocalTokenMode::On, "10.1.1.1", &env, &names()),
            LocalTokenUse::ForcedRemote
        );
    }

    #[test]
    fn developer_token_comes_first() {
        let env = Env::from_pairs(&[(env::PROTOCOL_TOKEN, "p")]);
        let plan = plan(Some("d"), None, LocalTokenUse::LocalHost, &env);
        assert_eq!(plan, TokenPlan::Developer("d".into()));
    }

    #[test]
    fn local_token_then_protocol_fallback() {
        let env = Env::from_pairs(&[(env::PROTOCOL_TOKEN, "p")]);
        let plan = plan(None, None, LocalTokenUse::LocalHost, &env);
        assert_eq!(plan, TokenPlan::Local { forced_remote: false, protocol: Some("p".into()) });
    }

    #[test]
    fn remote_host_uses_protocol_token() {
        let env = Env::from_pairs(&[(env::PROTOCOL_TOKEN, "p")]);
        assert_eq!(plan(None, None, LocalTokenUse::No, &env), TokenPlan::Protocol("p".into()));
    }

    #[test]
    fn explicit_protocol_token_beats_environment() {
        let env = Env::from_pairs(&[(env::PROTOCOL_TOKEN, "p")]);
        assert_eq!(plan(None, Some("q"), LocalTokenUse::No, &env), TokenPlan::Protocol("q".into()));
    }

    #[test]
    fn empty_protocol_variable_is_no_token() {
        let env = Env::from_pairs(&[(env::PROTOCOL_TOKEN, "")]);
        assert_eq!(plan(None, None, LocalTokenUse::No, &env), TokenPlan::None);
    }

    #[test]
    fn debug_output_hides_tokens() {
        let text = format!("{:?}", TokenPlan::Developer("secret-value".into()));
        assert!(!text.contains("secret-value"));
    }
}
