//! Everything a connection needs that can be known before dialling: which
//! CAs to trust, which client identity to present, which token plan to
//! follow. Files are read here, each time a channel is built.

use std::path::PathBuf;

use crate::env::{self, Env};
use crate::error::{Error, Result, Status};
use crate::log::{log_at, Level};
use crate::sources::ca::{self, CaSearch, Os, TrustedCas};
use crate::sources::identity::Identity;
use crate::sources::token_policy::{self, TokenPlan};
use crate::sources::Material;

use super::options::ConnectOptions;

/// What was resolved, and notes on choices a user may want explained.
pub struct Resolved {
    pub cas: TrustedCas,
    pub identity: Option<Identity>,
    pub plan: TokenPlan,
    pub notes: Vec<String>,
}

pub fn resolve(host: &str, options: &ConnectOptions, env: &Env) -> Result<Resolved> {
    let mut notes = Vec::new();
    let search = CaSearch { explicit: options.ca.clone(), root: options.ca_search_root.clone() };
    let cas = ca::resolve(&search, env, Os::current())?;
    for attempt in &cas.attempts {
        match &attempt.outcome {
            Ok(n) => log_at!(Level::Debug, "trusted CA: {} ({n} certificate(s))", attempt.source),
            Err(why) => log_at!(Level::Debug, "trusted CA: {} not used: {why}", attempt.source),
        }
    }
    let identity = match identity_material(options, env, &mut notes)? {
        Some((chain, key)) => Some(load_identity(&chain, &key)?),
        None => None,
    };
    let names = token_policy::own_host_names();
    let local = token_policy::local_token_use(options.local_token, host, env, &names);
    let plan = token_policy::plan(
        options.developer_token.as_deref(),
        options.protocol_token.as_deref(),
        local,
        env,
    );
    match &identity {
        Some(id) => log_at!(Level::Debug, "client certificate: {}", id.subject()),
        None => log_at!(Level::Debug, "no client certificate"),
    }
    log_at!(Level::Debug, "token plan for {host}: {}", plan.describe());
    if let TokenPlan::Local { forced_remote: true, .. } = plan {
        notes.push(format!(
            "the local token will be sent to {host}, which is not this machine, because it was \
             forced on"
        ));
    }
    Ok(Resolved { cas, identity, plan, notes })
}

/// Read and check the client identity, including that it is valid now
/// (an expired client certificate would only show up as "socket closed").
fn load_identity(chain: &Material, key: &Material) -> Result<Identity> {
    let identity = Identity::load(chain, key)?;
    let now = crate::credentials::clock::Clock::now_ms(&crate::credentials::clock::SystemClock);
    identity.check_valid_at(now.div_euclid(1000))?;
    Ok(identity)
}

/// The caller's chain and key, else the environment's. Unlike the
/// reference client, a variable that names an unreadable file is an error
/// (naming the variable), not a silent fallback to no certificate.
fn identity_material(
    options: &ConnectOptions,
    env: &Env,
    notes: &mut Vec<String>,
) -> Result<Option<(Material, Material)>> {
    if let Some(pair) = &options.identity {
        return Ok(Some(pair.clone()));
    }
    let chain = env.non_empty(env::CLIENT_CERTIFICATE_CHAIN);
    let key = env.non_empty(env::CLIENT_KEY);
    match (chain, key) {
        (Some(chain), Some(key)) => Ok(Some((
            Material::path(PathBuf::from(chain), env::CLIENT_CERTIFICATE_CHAIN),
            Material::path(PathBuf::from(key), env::CLIENT_KEY),
        ))),
        (None, None) => Ok(None),
        (Some(_), None) | (None, Some(_)) => {
            let (set, unset) = if chain.is_some() {
                (env::CLIENT_CERTIFICATE_CHAIN, env::CLIENT_KEY)
            } else {
                (env::CLIENT_KEY, env::CLIENT_CERTIFICATE_CHAIN)
            };
            // The reference client warns and ignores a lone variable; do
            // the same, and keep the note for diagnostics.
            notes.push(format!("{set} is set but {unset} is not; no client certificate is used"));
            Ok(None)
        }
    }
}

/// Check a host name or address given by a caller.
pub fn check_host(host: &str) -> Result<String> {
    let trimmed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let bad = trimmed.is_empty()
        || trimmed.len() > 253
        || trimmed.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'/');
    if bad {
        return Err(Error::new(
            Status::InvalidArgument,
            format!("host {host:?} is not a host name or IP address"),
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(check_host("[::1]").unwrap(), "::1");
        assert_eq!(check_host("seq-01.lab").unwrap(), "seq-01.lab");
        for bad in ["", "a b", "a/b", "[]", "a\nb"] {
            assert_eq!(check_host(bad).unwrap_err().status(), Status::InvalidArgument, "{bad:?}");
        }
    }

    #[test]
    fn lone_identity_variable_is_ignored_with_a_note() {
        let env = Env::from_pairs(&[(env::CLIENT_KEY, "/k.pem")]);
        let mut notes = Vec::new();
        let got = identity_material(&ConnectOptions::default(), &env, &mut notes).unwrap();
        assert!(got.is_none());
        assert!(notes[0].contains(env::CLIENT_CERTIFICATE_CHAIN), "{notes:?}");
    }

    #[test]
    fn identity_from_environment_names_the_variables() {
        let env = Env::from_pairs(&[
            (env::CLIENT_KEY, "/k.pem"),
            (env::CLIENT_CERTIFICATE_CHAIN, "/c.pem"),
        ]);
        let mut notes = Vec::new();
        let (chain, key) =
            identity_material(&ConnectOptions::default(), &env, &mut notes).unwrap().unwrap();
        assert!(chain.describe().contains(env::CLIENT_CERTIFICATE_CHAIN));
        assert!(key.describe().contains(env::CLIENT_KEY));
    }
}
