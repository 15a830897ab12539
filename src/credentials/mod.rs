//! Credentials: the token metadata every call carries.
//!
//! One small value shared (through `Arc`) by a manager channel and all of
//! its children, consulted for each call. It never dials: the channel layer
//! asks the manager where the local token lives and hands the path down.

pub mod clock;
pub mod local_token;
pub mod rfc3339;

use tonic::metadata::{Ascii, MetadataMap, MetadataValue};

use crate::error::{Error, Result, Status};
use local_token::{check_token_text, LocalToken};

/// The metadata key for developer and local tokens.
pub const LOCAL_AUTH: &str = "local-auth";
/// The metadata key for protocol tokens.
pub const PROTOCOL_AUTH: &str = "protocol-auth";

/// Which token, if any, goes on each call.
pub enum Credentials {
    None,
    Developer(MetadataValue<Ascii>),
    Protocol(MetadataValue<Ascii>),
    Local(LocalToken),
}

impl Credentials {
    /// A developer token (sent as `local-auth`). `origin` names the option
    /// for the error message.
    pub fn developer(token: &str, origin: &str) -> Result<Credentials> {
        Ok(Credentials::Developer(token_value(token, origin)?))
    }

    /// A protocol token (sent as `protocol-auth`).
    pub fn protocol(token: &str, origin: &str) -> Result<Credentials> {
        Ok(Credentials::Protocol(token_value(token, origin)?))
    }

    /// Add this call's token to `metadata`.
    pub fn apply(&self, metadata: &mut MetadataMap) {
        match self {
            Credentials::None => {}
            Credentials::Developer(v) => {
                metadata.insert(LOCAL_AUTH, v.clone());
            }
            Credentials::Protocol(v) => {
                metadata.insert(PROTOCOL_AUTH, v.clone());
            }
            Credentials::Local(token) => {
                metadata.insert(LOCAL_AUTH, token.current());
            }
        }
    }

    /// The server said UNAUTHENTICATED: re-read what can be re-read.
    /// Returns whether the token changed, so the call is worth retrying.
    pub fn refresh_after_rejection(&self) -> bool {
        match self {
            Credentials::Local(token) => token.refresh_after_rejection(),
            _ => false,
        }
    }

    /// Which source is in use, for logs and messages (never the token).
    pub fn describe(&self) -> &'static str {
        match self {
            Credentials::None => "no token",
            Credentials::Developer(_) => "developer token",
            Credentials::Protocol(_) => "protocol token",
            Credentials::Local(_) => "local token",
        }
    }
}

fn token_value(token: &str, origin: &str) -> Result<MetadataValue<Ascii>> {
    check_token_text(token)
        .map_err(|why| Error::new(Status::InvalidArgument, format!("{origin}: token {why}")))?;
    MetadataValue::try_from(token).map_err(|_| {
        Error::new(Status::InvalidArgument, format!("{origin}: token is not valid gRPC metadata"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn developer_token_goes_as_local_auth() {
        let creds = Credentials::developer("dev-token", "test").unwrap();
        let mut md = MetadataMap::new();
        creds.apply(&mut md);
        assert_eq!(md.get(LOCAL_AUTH).unwrap(), "dev-token");
        assert!(md.get(PROTOCOL_AUTH).is_none());
    }

    #[test]
    fn protocol_token_goes_as_protocol_auth() {
        let creds = Credentials::protocol("p", "test").unwrap();
        let mut md = MetadataMap::new();
        creds.apply(&mut md);
        assert_eq!(md.get(PROTOCOL_AUTH).unwrap(), "p");
        assert!(md.get(LOCAL_AUTH).is_none());
    }

    #[test]
    fn bad_tokens_are_refused_by_origin() {
        let err = Credentials::developer("", "option developer_token").err().unwrap();
        assert_eq!(err.status(), Status::InvalidArgument);
        assert!(err.message().contains("option developer_token"));
        assert!(Credentials::protocol("a\r\nb", "PROTOCOL_TOKEN").is_err());
    }
}
