//! Deciding whether a call is authorised: any configured mode that the call satisfies will do.

use std::sync::Arc;

use tonic::{Request, Status};

use crate::cli::AuthMode;
use crate::conn::ConnInfo;
use crate::token_file::{constant_time_eq, LocalMatch, LocalTokens};

pub const LOCAL_AUTH: &str = "local-auth";
pub const PROTOCOL_AUTH: &str = "protocol-auth";

/// What a call carried and which credential, if any, it matched. Holds no secret.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    /// The token header sent ("local-auth", "protocol-auth"), "" when none.
    pub token_header: &'static str,
    /// "developer", "local", "local-previous", "protocol", or "" when no token matched.
    pub token_kind: &'static str,
    pub client_subject: Option<String>,
    pub port: u16,
    pub peer: String,
    pub port_asks_for_client_cert: bool,
}

pub struct Authoriser {
    modes: Vec<AuthMode>,
    developer: Option<String>,
    protocol: Option<String>,
    local: Option<Arc<LocalTokens>>,
}

impl Authoriser {
    pub fn new(
        modes: Vec<AuthMode>,
        developer: Option<String>,
        protocol: Option<String>,
        local: Option<Arc<LocalTokens>>,
    ) -> Self {
        Authoriser { modes, developer, protocol, local }
    }

    /// Describes the call's credentials without judging them.
    pub fn identify<T>(&self, request: &Request<T>) -> Caller {
        let info = request.extensions().get::<ConnInfo>();
        let mut caller = Caller {
            client_subject: info.and_then(|i| i.client_subject.clone()),
            port: info.map_or(0, |i| i.local_port),
            peer: info.map_or_else(String::new, |i| i.peer.to_string()),
            port_asks_for_client_cert: info.is_some_and(|i| i.asks_for_client_cert),
            ..Caller::default()
        };
        let metadata = request.metadata();
        let local = metadata.get(LOCAL_AUTH).and_then(|v| v.to_str().ok());
        let protocol = metadata.get(PROTOCOL_AUTH).and_then(|v| v.to_str().ok());
        if let Some(kind) = local.and_then(|t| self.local_kind(t)) {
            (caller.token_header, caller.token_kind) = (LOCAL_AUTH, kind);
        } else if let Some(kind) = protocol.and_then(|t| self.protocol_kind(t)) {
            (caller.token_header, caller.token_kind) = (PROTOCOL_AUTH, kind);
        } else if metadata.contains_key(LOCAL_AUTH) {
            caller.token_header = LOCAL_AUTH;
        } else if metadata.contains_key(PROTOCOL_AUTH) {
            caller.token_header = PROTOCOL_AUTH;
        }
        caller
    }

    /// Lets the call through if any configured mode is satisfied; otherwise UNAUTHENTICATED
    /// with what was missing, and one line on stderr.
    pub fn authorise<T>(&self, request: &Request<T>, method: &str) -> Result<Caller, Status> {
        let caller = self.identify(request);
        if self.modes.iter().any(|mode| self.satisfied(*mode, &caller)) {
            return Ok(caller);
        }
        let reason = self.rejection(&caller);
        eprintln!(
            "minknow-sim: port {}: rejected {method} from {}: {reason}",
            caller.port, caller.peer
        );
        Err(Status::unauthenticated(reason))
    }

    fn satisfied(&self, mode: AuthMode, caller: &Caller) -> bool {
        match mode {
            AuthMode::Guest => true,
            AuthMode::ClientCert => caller.client_subject.is_some(),
            AuthMode::DeveloperToken => caller.token_kind == "developer",
            AuthMode::LocalToken => caller.token_kind.starts_with("local"),
            AuthMode::ProtocolToken => caller.token_kind == "protocol",
        }
    }

    fn local_kind(&self, token: &str) -> Option<&'static str> {
        if let Some(developer) = &self.developer {
            if constant_time_eq(token, developer) {
                return Some("developer");
            }
        }
        match self.local.as_ref()?.check(token)? {
            LocalMatch::Current => Some("local"),
            LocalMatch::Previous => Some("local-previous"),
        }
    }

    fn protocol_kind(&self, token: &str) -> Option<&'static str> {
        let expected = self.protocol.as_ref()?;
        constant_time_eq(token, expected).then_some("protocol")
    }

    /// Says what the call lacked, naming headers and modes but never a value.
    fn rejection(&self, caller: &Caller) -> String {
        let mut problems = Vec::new();
        if caller.token_header.is_empty() {
            problems.push("no token metadata".to_string());
        } else {
            problems.push(format!("the {} token was not accepted", caller.token_header));
        }
        let cert_mode = self.modes.contains(&AuthMode::ClientCert);
        let cert_problem = match (caller.client_subject.is_some(), cert_mode) {
            (true, _) => Some("a client certificate is not accepted in this mode"),
            (false, true) if caller.port_asks_for_client_cert => {
                Some("no client certificate on this connection")
            }
            (false, true) => Some("this port never asks for a client certificate"),
            (false, false) => None,
        };
        problems.extend(cert_problem.map(str::to_string));
        let wanted: Vec<&str> = self.modes.iter().map(|m| wants(*m)).collect();
        format!("{}; this simulator accepts {}", problems.join(" and "), wanted.join(", or "))
    }
}

fn wants(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::Guest => "anyone",
        AuthMode::ClientCert => {
            "a trusted client certificate (manager_port, position and basecaller ports)"
        }
        AuthMode::DeveloperToken => "a developer token as local-auth",
        AuthMode::LocalToken => {
            "the token from local_authentication_token_path's file as local-auth"
        }
        AuthMode::ProtocolToken => "the protocol token as protocol-auth",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&'static str, &str)], subject: Option<&str>) -> Request<()> {
        let mut request = Request::new(());
        for (name, value) in headers {
            request.metadata_mut().insert(*name, value.parse().unwrap());
        }
        request.extensions_mut().insert(ConnInfo {
            local_port: 1234,
            peer: "127.0.0.1:5555".parse().unwrap(),
            client_subject: subject.map(str::to_string),
            asks_for_client_cert: true,
        });
        request
    }

    fn authoriser(modes: Vec<AuthMode>) -> Authoriser {
        Authoriser::new(modes, Some("dev".into()), Some("proto".into()), None)
    }

    #[test]
    fn guest_lets_everyone_in() {
        let caller = authoriser(vec![AuthMode::Guest]).authorise(&request(&[], None), "m").unwrap();
        assert_eq!(caller.port, 1234);
        assert_eq!(caller.token_kind, "");
    }

    #[test]
    fn tokens_match_their_headers() {
        let auth = authoriser(vec![AuthMode::DeveloperToken, AuthMode::ProtocolToken]);
        let dev = auth.authorise(&request(&[(LOCAL_AUTH, "dev")], None), "m").unwrap();
        assert_eq!((dev.token_header, dev.token_kind), (LOCAL_AUTH, "developer"));
        let proto = auth.authorise(&request(&[(PROTOCOL_AUTH, "proto")], None), "m").unwrap();
        assert_eq!((proto.token_header, proto.token_kind), (PROTOCOL_AUTH, "protocol"));
        // The right value under the wrong header does not count.
        assert!(auth.authorise(&request(&[(PROTOCOL_AUTH, "dev")], None), "m").is_err());
    }

    #[test]
    fn rejection_says_what_was_missing_without_secrets() {
        let auth = authoriser(vec![AuthMode::ClientCert, AuthMode::DeveloperToken]);
        let status = auth.authorise(&request(&[(LOCAL_AUTH, "wrong")], None), "m").unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert!(status.message().contains("local-auth token was not accepted"));
        assert!(status.message().contains("no client certificate"));
        assert!(!status.message().contains("wrong") && !status.message().contains("dev\""));
    }

    #[test]
    fn client_certificate_counts_only_in_its_mode() {
        let with = authoriser(vec![AuthMode::ClientCert]);
        let caller = with.authorise(&request(&[], Some("me")), "m").unwrap();
        assert_eq!(caller.client_subject.as_deref(), Some("me"));
        let without = authoriser(vec![AuthMode::DeveloperToken]);
        assert!(without.authorise(&request(&[], Some("me")), "m").is_err());
    }
}
