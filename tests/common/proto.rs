//! Hand-written prost messages for `proto/minknow_sim/test.proto` and the
//! one MinKNOW reply the tests decode themselves, so the tests check the
//! library's raw bytes with a decoder that is not the library's own.

use prost::Message;

pub const ECHO: &str = "/minknow_sim.TestService/echo";
pub const SERVER_STREAM: &str = "/minknow_sim.TestService/server_stream";
pub const CLIENT_STREAM: &str = "/minknow_sim.TestService/client_stream";
pub const BIDI_ECHO: &str = "/minknow_sim.TestService/bidi_echo";
pub const WHOAMI: &str = "/minknow_sim.TestService/whoami";
pub const INSTANCE_VERSION: &str = "/minknow_api.instance.InstanceService/get_version_info";
pub const MANAGER_VERSION: &str = "/minknow_api.manager.ManagerService/get_version_info";

#[derive(Clone, PartialEq, Message)]
pub struct Chunk {
    #[prost(bytes = "vec", tag = "1")]
    pub payload: Vec<u8>,
    #[prost(uint32, tag = "2")]
    pub sequence: u32,
}

#[derive(Clone, PartialEq, Message)]
pub struct StreamRequest {
    #[prost(uint32, tag = "1")]
    pub count: u32,
    #[prost(uint32, tag = "2")]
    pub size: u32,
    #[prost(uint32, tag = "3")]
    pub interval_ms: u32,
}

#[derive(Clone, PartialEq, Message)]
pub struct StreamSummary {
    #[prost(uint32, tag = "1")]
    pub count: u32,
    #[prost(uint64, tag = "2")]
    pub bytes: u64,
}

#[derive(Clone, PartialEq, Message)]
pub struct WhoAmIResponse {
    #[prost(string, tag = "1")]
    pub token_header: String,
    #[prost(string, tag = "2")]
    pub token_kind: String,
    #[prost(string, tag = "3")]
    pub client_certificate_subject: String,
    #[prost(uint32, tag = "4")]
    pub port: u32,
}

#[derive(Clone, PartialEq, Message)]
pub struct MinknowVersion {
    #[prost(int32, tag = "1")]
    pub major: i32,
    #[prost(int32, tag = "2")]
    pub minor: i32,
    #[prost(int32, tag = "3")]
    pub patch: i32,
    #[prost(string, tag = "4")]
    pub full: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct GetVersionInfoResponse {
    #[prost(message, optional, tag = "1")]
    pub minknow: Option<MinknowVersion>,
    #[prost(string, tag = "2")]
    pub bream: String,
    #[prost(string, tag = "3")]
    pub distribution_version: String,
}

pub fn chunk(payload: Vec<u8>, sequence: u32) -> Vec<u8> {
    Chunk { payload, sequence }.encode_to_vec()
}

pub fn stream_request(count: u32, size: u32, interval_ms: u32) -> Vec<u8> {
    StreamRequest { count, size, interval_ms }.encode_to_vec()
}

/// Decode `bytes` as `M`, panicking with the type's name on failure.
pub fn decode<M: Message + Default>(bytes: &[u8]) -> M {
    M::decode(bytes).unwrap_or_else(|e| {
        panic!("cannot decode {} ({} bytes): {e}", std::any::type_name::<M>(), bytes.len())
    })
}
