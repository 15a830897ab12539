//! What a caller can say about a connection. Everything is optional; what
//! is not given comes from MinKNOW's environment variables (unless turned
//! off) and then from the defaults.

use std::path::PathBuf;
use std::time::Duration;

use crate::env::Env;
use crate::sources::token_policy::LocalTokenMode;
use crate::sources::Material;

/// The manager port that accepts client certificates (MinKNOW 5.6+).
pub const CLIENT_CERT_PORT: u16 = 9501;
/// The manager port without client-certificate support (all releases).
pub const TOKEN_PORT: u16 = 9502;
/// The name MinKNOW's certificates are valid for.
pub const DEFAULT_SERVER_NAME: &str = "localhost";
/// Default bound on connecting, retries included.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// CA certificates to trust (PEM bytes or paths). When any are given,
    /// only these are trusted.
    pub ca: Vec<Material>,
    /// Root that the OS default CA locations are taken relative to (tests).
    pub ca_search_root: Option<PathBuf>,
    /// Client certificate chain and key.
    pub identity: Option<(Material, Material)>,
    pub developer_token: Option<String>,
    pub protocol_token: Option<String>,
    pub local_token: LocalTokenMode,
    /// The name the server's certificate must be valid for.
    pub server_name: Option<String>,
    /// Read MinKNOW's environment variables for what is not given.
    pub use_environment: bool,
    /// Use this environment instead of the process's (tests).
    pub environment: Option<Env>,
    /// Bound on connecting (TCP, TLS, HTTP/2, the first call, retries).
    pub connect_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            ca: Vec::new(),
            ca_search_root: None,
            identity: None,
            developer_token: None,
            protocol_token: None,
            local_token: LocalTokenMode::Auto,
            server_name: None,
            use_environment: true,
            environment: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

impl ConnectOptions {
    /// The environment this connection reads: an injected one, the
    /// process's, or none at all.
    pub fn env(&self) -> Env {
        match (&self.environment, self.use_environment) {
            (_, false) => Env::empty(),
            (Some(env), true) => env.clone(),
            (None, true) => Env::from_process(),
        }
    }
}

/// The manager port to dial: the caller's, else 9501 with a client
/// certificate and 9502 without (the reference client's rule).
pub fn manager_port(explicit: Option<u16>, has_client_certificate: bool) -> u16 {
    match explicit {
        Some(port) => port,
        None if has_client_certificate => CLIENT_CERT_PORT,
        None => TOKEN_PORT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_defaults() {
        assert_eq!(manager_port(None, true), 9501);
        assert_eq!(manager_port(None, false), 9502);
        assert_eq!(manager_port(Some(1234), true), 1234);
        assert_eq!(manager_port(Some(9501), false), 9501);
    }

    #[test]
    fn environment_can_be_turned_off() {
        let env = Env::from_pairs(&[(crate::env::PROTOCOL_TOKEN, "x")]);
        let opts = ConnectOptions { environment: Some(env.clone()), ..Default::default() };
        assert_eq!(opts.env(), env);
        let off = ConnectOptions { use_environment: false, ..opts };
        assert_eq!(off.env(), Env::empty());
    }
}
