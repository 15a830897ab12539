//! Sources: options and environment turned into material (CA certificates,
//! the client identity, which token applies). Pure functions of their
//! inputs; nothing here dials the network.

pub mod ca;
pub mod identity;
pub mod pem;
pub mod token_policy;

use std::fmt;
use std::path::PathBuf;

use zeroize::Zeroizing;

/// Where a piece of PEM material comes from, so that errors can name it.
#[derive(Clone, PartialEq, Eq)]
pub enum Material {
    /// A file to read when the channel is built. `origin` says who named it
    /// (an option, or an environment variable), for error messages.
    Path { path: PathBuf, origin: String },
    /// PEM bytes given directly. `origin` names the option. They may be a
    /// private key, so they are wiped when dropped.
    Pem { bytes: Zeroizing<Vec<u8>>, origin: String },
}

impl Material {
    pub fn path(path: impl Into<PathBuf>, origin: impl Into<String>) -> Self {
        Material::Path { path: path.into(), origin: origin.into() }
    }

    pub fn pem(bytes: impl Into<Vec<u8>>, origin: impl Into<String>) -> Self {
        Material::Pem { bytes: Zeroizing::new(bytes.into()), origin: origin.into() }
    }

    /// How to name this material in a message: the path and who gave it,
    /// or the option that held the bytes. Never the bytes themselves.
    pub fn describe(&self) -> String {
        match self {
            Material::Path { path, origin } => format!("{} (from {origin})", path.display()),
            Material::Pem { origin, .. } => format!("PEM bytes from {origin}"),
        }
    }
}

// Debug must not print PEM bytes: they may be a private key.
impl fmt::Debug for Material {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}
