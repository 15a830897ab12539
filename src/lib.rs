//! libminknow_auth: authenticated gRPC channels to Oxford Nanopore's MinKNOW,
//! for programs that are not written in Python.
//!
//! The layers, bottom up (each only calls the ones below it):
//! - [`env`] and [`sources`]: options and environment into material (CA
//!   certificates, client identity, token policy). Pure functions.
//! - [`x509`] and [`trust`]: the rustls configuration, with a server
//!   certificate verifier that accepts what MinKNOW serves.
//! - [`credentials`]: the token metadata every call carries.
//! - [`channel`]: TLS connections, eager connect, child channels.
//! - [`call`]: raw-bytes calls of every kind.
//! - [`manager`]: typed helpers for the manager's RPCs.
//! - [`diagnose`]: why a connection works or not, step by step.
//! - [`ffi`]: the C ABI.

pub mod calendar;
pub mod call;
pub mod channel;
pub mod credentials;
pub mod diagnose;
pub mod env;
pub mod error;
pub mod ffi;
pub mod log;
pub mod manager;
pub mod runtime;
pub mod schema;
pub mod sources;
pub mod trust;
pub mod x509;

pub use error::{Error, Result, Status};
