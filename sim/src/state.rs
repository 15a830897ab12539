//! What every service on every port shares: the authoriser and the simulated host's layout.

use std::path::PathBuf;

use tokio::sync::watch;

use crate::auth::Authoriser;

/// One simulated flow cell position.
#[derive(Clone, Debug)]
pub struct Position {
    pub name: String,
    /// Zero for a position that is not running.
    pub port: u16,
    pub running: bool,
}

pub struct SimState {
    pub auth: Authoriser,
    pub positions: Vec<Position>,
    pub basecaller_port: u16,
    /// The local token file, when local-token mode is on.
    pub token_path: Option<PathBuf>,
    pub hostname: String,
    /// Turns true once when the simulator is going away, so open streams can end.
    pub shutdown: watch::Receiver<bool>,
}

/// This machine's name, as `describe_host` reports it.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, and gethostname writes at most that.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(name) if rc == 0 && !name.is_empty() => name.to_string(),
        _ => "localhost".to_string(),
    }
}
