//! The per-position instance service, served on each running position's own port.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::manager::version_info;
use crate::proto::minknow_api::instance::instance_service_server::InstanceService;
use crate::proto::minknow_api::instance::{GetVersionInfoRequest, GetVersionInfoResponse};
use crate::state::SimState;

pub struct Instance {
    state: Arc<SimState>,
    name: String,
}

impl Instance {
    pub fn new(state: Arc<SimState>, name: String) -> Self {
        Instance { state, name }
    }
}

#[tonic::async_trait]
impl InstanceService for Instance {
    /// Like the manager's, with the position's name appended so clients can tell ports apart.
    async fn get_version_info(
        &self,
        request: Request<GetVersionInfoRequest>,
    ) -> Result<Response<GetVersionInfoResponse>, Status> {
        self.state.auth.authorise(&request, "instance.get_version_info")?;
        Ok(Response::new(version_info(Some(&self.name))))
    }
}
