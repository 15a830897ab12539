//! The client certificate, offered to the server during the handshake.
//!
//! rustls's `with_client_auth_cert` cross-checks the key with webpki and so
//! refuses X.509 v1 client certificates, which MinKNOW accepts. A resolver
//! holding the chain and the provider-loaded key skips that check; the key
//! has already been matched to the certificate by [`Identity::load`].

use std::fmt;
use std::sync::Arc;

use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;

use crate::sources::identity::Identity;

/// Always offers the one configured identity.
pub struct IdentityResolver {
    key: Arc<CertifiedKey>,
    subject: String,
}

impl IdentityResolver {
    pub fn new(identity: &Identity) -> Self {
        IdentityResolver { key: identity.certified_key(), subject: identity.subject().to_owned() }
    }
}

// Name the certificate, never the key.
impl fmt::Debug for IdentityResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityResolver").field("subject", &self.subject).finish()
    }
}

impl ResolvesClientCert for IdentityResolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        // The CA hints are ignored on purpose: MinKNOW's list of accepted
        // client CAs is operator-managed, and a missing hint must not stop
        // the certificate from being sent. Offering a key that cannot sign
        // any scheme the server allows would only fail later.
        self.key.key.choose_scheme(sigschemes)?;
        Some(Arc::clone(&self.key))
    }

    fn has_certs(&self) -> bool {
        true
    }
}
