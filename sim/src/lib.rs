//! minknow-sim: a loopback simulator of MinKNOW's authentication surface, for tests of
//! libminknow_auth and for developing against without a sequencer.
//!
//! The binary is `src/main.rs`; this library holds everything so tests can reach the pieces.

pub mod auth;
pub mod certs;
pub mod cli;
pub mod client_verify;
pub mod conn;
pub mod files;
pub mod manager;
pub mod position;
pub mod proto;
pub mod random;
pub mod run;
pub mod serve;
pub mod state;
pub mod test_service;
pub mod tls;
pub mod token_file;
