//! A snapshot of the environment variables MinKNOW clients read.
//!
//! The environment is read once, at the edge (when a channel is built), and
//! passed down as a value, so every rule below is a pure function that tests
//! can drive with any environment they like.

use std::collections::HashMap;
use std::ffi::OsString;

/// Path of a CA certificate file (PEM) to trust instead of the defaults.
pub const TRUSTED_CA: &str = "MINKNOW_TRUSTED_CA";
/// Path of the client certificate chain (PEM, client certificate first).
pub const CLIENT_CERTIFICATE_CHAIN: &str = "MINKNOW_API_CLIENT_CERTIFICATE_CHAIN";
/// Path of the client certificate's unencrypted private key (PEM).
pub const CLIENT_KEY: &str = "MINKNOW_API_CLIENT_KEY";
/// Forces the local token on (any value but empty, `0`, `no`) or off.
pub const USE_LOCAL_TOKEN: &str = "MINKNOW_API_USE_LOCAL_TOKEN";
/// The protocol token MinKNOW gives to protocol scripts it runs.
pub const PROTOCOL_TOKEN: &str = "PROTOCOL_TOKEN";
/// The position's secure port, given to protocol scripts.
pub const RPC_PORT_SECURE: &str = "MINKNOW_RPC_PORT_SECURE";

/// The variables above, as they were when the snapshot was taken.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Env {
    vars: HashMap<&'static str, OsString>,
}

const ALL: [&str; 6] = [
    TRUSTED_CA,
    CLIENT_CERTIFICATE_CHAIN,
    CLIENT_KEY,
    USE_LOCAL_TOKEN,
    PROTOCOL_TOKEN,
    RPC_PORT_SECURE,
];

impl Env {
    /// An empty environment: nothing is set.
    pub fn empty() -> Self {
        Env::default()
    }

    /// The process environment, now.
    pub fn from_process() -> Self {
        Env::from_lookup(|name| std::env::var_os(name))
    }

    /// An environment whose values come from `lookup` (used by tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Self {
        let vars = ALL.iter().filter_map(|&name| lookup(name).map(|v| (name, v))).collect();
        Env { vars }
    }

    /// An environment holding exactly `pairs` (only MinKNOW's names count).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Env::from_lookup(|name| {
            pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v))
        })
    }

    /// The raw value of `name`, if set (even if empty).
    pub fn get(&self, name: &str) -> Option<&OsString> {
        self.vars.get(name)
    }

    /// The value of `name` if it is set and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&OsString> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_minknow_variables_are_kept() {
        let env = Env::from_pairs(&[(TRUSTED_CA, "/ca.crt"), ("HOME", "/root")]);
        assert_eq!(env.get(TRUSTED_CA), Some(&OsString::from("/ca.crt")));
        assert_eq!(env.get("HOME"), None);
    }

    #[test]
    fn empty_values_are_set_but_not_non_empty() {
        let env = Env::from_pairs(&[(PROTOCOL_TOKEN, "")]);
        assert!(env.get(PROTOCOL_TOKEN).is_some());
        assert!(env.non_empty(PROTOCOL_TOKEN).is_none());
    }
}
