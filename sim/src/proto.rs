//! Code generated from `proto/` by the build script: messages, servers, and the clients the
//! integration tests use.

#![allow(clippy::all, clippy::pedantic, missing_docs, non_camel_case_types)]

pub mod minknow_api {
    pub mod instance {
        tonic::include_proto!("minknow_api.instance");
    }
    pub mod manager {
        tonic::include_proto!("minknow_api.manager");
    }
}

pub mod minknow_sim {
    tonic::include_proto!("minknow_sim");
}
