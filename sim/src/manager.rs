//! The manager service, MinKNOW's entry point on ports like 9501 and 9502.

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::proto::minknow_api::instance::get_version_info_response::MinknowVersion;
use crate::proto::minknow_api::instance::GetVersionInfoResponse;
use crate::proto::minknow_api::manager::flow_cell_position::{RpcPorts, State};
use crate::proto::minknow_api::manager::manager_service_server::ManagerService;
use crate::proto::minknow_api::manager::*;
use crate::state::{Position, SimState};

/// MinKNOW sends positions a few at a time; a small page makes clients handle several.
const PAGE_SIZE: usize = 3;

/// The version the simulator claims; `suffix` tells positions apart.
pub fn version_info(suffix: Option<&str>) -> GetVersionInfoResponse {
    let full = match suffix {
        Some(name) => format!("6.3.7-sim {name}"),
        None => "6.3.7-sim".to_string(),
    };
    GetVersionInfoResponse {
        minknow: Some(MinknowVersion { major: 6, minor: 3, patch: 7, full }),
        bream: "8.3.2".to_string(),
        distribution_version: "24.11.8-sim".to_string(),
    }
}

pub struct Manager {
    state: Arc<SimState>,
}

impl Manager {
    pub fn new(state: Arc<SimState>) -> Self {
        Manager { state }
    }
}

fn describe(position: &Position) -> FlowCellPosition {
    let (state, rpc_ports, error_info) = if position.running {
        (State::Running, Some(RpcPorts { secure: position.port.into(), secure_grpc_web: 0 }), "")
    } else {
        (State::HardwareRemoved, None, "no device connected")
    };
    FlowCellPosition {
        name: position.name.clone(),
        state: state.into(),
        rpc_ports,
        error_info: error_info.to_string(),
        is_integrated: false,
        is_simulated: true,
        parent_name: String::new(),
    }
}

type PositionStream = Pin<Box<dyn Stream<Item = Result<FlowCellPositionsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ManagerService for Manager {
    async fn describe_host(
        &self,
        request: Request<DescribeHostRequest>,
    ) -> Result<Response<DescribeHostResponse>, Status> {
        self.state.auth.authorise(&request, "describe_host")?;
        Ok(Response::new(DescribeHostResponse {
            product_code: "GRD-SIM".to_string(),
            description: "MinKNOW simulator".to_string(),
            serial: "SIM0001".to_string(),
            network_name: self.state.hostname.clone(),
        }))
    }

    async fn get_version_info(
        &self,
        request: Request<GetVersionInfoRequest>,
    ) -> Result<Response<GetVersionInfoResponse>, Status> {
        self.state.auth.authorise(&request, "get_version_info")?;
        Ok(Response::new(version_info(None)))
    }

    type flow_cell_positionsStream = PositionStream;

    /// Sends every position in pages, then keeps the stream open as MinKNOW does (it goes on
    /// reporting changes), until the client cancels or the simulator exits.
    async fn flow_cell_positions(
        &self,
        request: Request<FlowCellPositionsRequest>,
    ) -> Result<Response<PositionStream>, Status> {
        self.state.auth.authorise(&request, "flow_cell_positions")?;
        let positions: Vec<FlowCellPosition> = self.state.positions.iter().map(describe).collect();
        let total_count = i32::try_from(positions.len()).unwrap_or(i32::MAX);
        let mut shutdown = self.state.shutdown.clone();
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            for page in positions.chunks(PAGE_SIZE) {
                let response = FlowCellPositionsResponse { total_count, positions: page.to_vec() };
                if tx.send(Ok(response)).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                _ = tx.closed() => {}
                _ = shutdown.wait_for(|down| *down) => {}
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    /// Callable without credentials, as in MinKNOW: it is how a client finds the token.
    async fn local_authentication_token_path(
        &self,
        _request: Request<LocalAuthenticationTokenPathRequest>,
    ) -> Result<Response<LocalAuthenticationTokenPathResponse>, Status> {
        match &self.state.token_path {
            Some(path) => Ok(Response::new(LocalAuthenticationTokenPathResponse {
                path: path.display().to_string(),
            })),
            None => Err(Status::failed_precondition(
                "local token authentication is off on this simulator (start it with \
                 --auth local-token)",
            )),
        }
    }

    async fn basecaller_api(
        &self,
        request: Request<BasecallerApiRequest>,
    ) -> Result<Response<BasecallerApiResponse>, Status> {
        self.state.auth.authorise(&request, "basecaller_api")?;
        Ok(Response::new(BasecallerApiResponse {
            secure: self.state.basecaller_port.into(),
            secure_grpc_web: 0,
        }))
    }
}
