//! Shared harness for the integration tests: a simulator process per test
//! file or test, safe wrappers over the exported C functions, and the
//! protobuf messages of `minknow_sim.TestService`.
//!
//! Each test binary compiles this module separately and uses only part of
//! it, so unused items are expected.
#![allow(dead_code, unused_imports)]

pub mod cprog;
pub mod ffi;
pub mod proto;
pub mod sim;

pub use ffi::{Call, Channel, Failure, Options};
pub use minknow_auth::Status;
pub use sim::{Ready, Sim, SimBuilder};

/// Assert that `result` failed with `status` and that its message contains
/// every one of `needles`; returns the failure for further checks.
#[track_caller]
pub fn expect_failure<T: std::fmt::Debug>(
    result: Result<T, Failure>,
    status: Status,
    needles: &[&str],
) -> Failure {
    let failure = match result {
        Ok(value) => panic!("expected {status:?}, got success: {value:?}"),
        Err(failure) => failure,
    };
    assert_eq!(failure.status, status, "wrong status; message: {}", failure.message);
    for needle in needles {
        assert!(
            failure.message.contains(needle),
            "message does not name {needle:?}: {}",
            failure.message
        );
    }
    failure
}
