//! The few MinKNOW messages this library reads, as prost types. Field
//! numbers follow MinKNOW's public API (see `proto/` for the same schema as
//! `.proto` files, which the simulator and the bindings compile).

#![allow(missing_docs)]

#[derive(Clone, PartialEq, prost::Message)]
pub struct LocalAuthenticationTokenPathResponse {
    #[prost(string, tag = "1")]
    pub path: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DescribeHostResponse {
    #[prost(string, tag = "1")]
    pub product_code: String,
    #[prost(string, tag = "2")]
    pub description: String,
    #[prost(string, tag = "3")]
    pub serial: String,
    #[prost(string, tag = "4")]
    pub network_name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
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

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetVersionInfoResponse {
    #[prost(message, optional, tag = "1")]
    pub minknow: Option<MinknowVersion>,
    #[prost(string, tag = "2")]
    pub bream: String,
    #[prost(string, tag = "3")]
    pub distribution_version: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcPorts {
    #[prost(uint32, tag = "1")]
    pub secure: u32,
    #[prost(uint32, tag = "3")]
    pub secure_grpc_web: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct FlowCellPosition {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(int32, tag = "3")]
    pub state: i32,
    #[prost(message, optional, tag = "4")]
    pub rpc_ports: Option<RpcPorts>,
    #[prost(string, tag = "5")]
    pub error_info: String,
    #[prost(bool, tag = "7")]
    pub is_integrated: bool,
    #[prost(bool, tag = "10")]
    pub is_simulated: bool,
    #[prost(string, tag = "12")]
    pub parent_name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct FlowCellPositionsResponse {
    #[prost(int32, tag = "1")]
    pub total_count: i32,
    #[prost(message, repeated, tag = "2")]
    pub positions: Vec<FlowCellPosition>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BasecallerApiResponse {
    #[prost(uint32, tag = "1")]
    pub secure: u32,
    #[prost(uint32, tag = "3")]
    pub secure_grpc_web: u32,
}

/// Method paths of the RPCs the library makes itself.
pub mod methods {
    pub const MANAGER_VERSION: &str = "/minknow_api.manager.ManagerService/get_version_info";
    pub const DESCRIBE_HOST: &str = "/minknow_api.manager.ManagerService/describe_host";
    pub const POSITIONS: &str = "/minknow_api.manager.ManagerService/flow_cell_positions";
    pub const TOKEN_PATH: &str =
        "/minknow_api.manager.ManagerService/local_authentication_token_path";
    pub const BASECALLER: &str = "/minknow_api.manager.ManagerService/basecaller_api";
    pub const INSTANCE_VERSION: &str = "/minknow_api.instance.InstanceService/get_version_info";
}
