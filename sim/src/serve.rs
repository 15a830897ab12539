//! One tonic server per role (manager, web manager, basecaller, each position), each over the
//! simulator's own TLS accept loops.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::transport::Server;

use crate::conn;
use crate::manager::Manager;
use crate::position::Instance;
use crate::proto::minknow_api::instance::instance_service_server::InstanceServiceServer;
use crate::proto::minknow_api::manager::manager_service_server::ManagerServiceServer;
use crate::proto::minknow_sim::test_service_server::TestServiceServer;
use crate::state::SimState;
use crate::test_service::Tester;
use crate::tls::PortTls;

/// MinKNOW's clients allow 16 MiB messages; a little more leaves room for a full payload.
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024 + 64 * 1024;

/// What a port serves besides TestService, which is everywhere.
pub enum Role {
    Manager,
    Position(String),
    Basecaller,
}

pub fn spawn(
    role: Role,
    listeners: Vec<TcpListener>,
    tls: PortTls,
    state: Arc<SimState>,
) -> JoinHandle<()> {
    let mut shutdown = state.shutdown.clone();
    let incoming = conn::incoming(listeners, tls, &shutdown);
    let tester = TestServiceServer::new(Tester::new(state.clone()))
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    let router = Server::builder().add_service(tester);
    let router = match role {
        Role::Manager => router.add_service(
            ManagerServiceServer::new(Manager::new(state))
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
        ),
        Role::Position(name) => router.add_service(
            InstanceServiceServer::new(Instance::new(state, name))
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
        ),
        Role::Basecaller => router,
    };
    tokio::spawn(async move {
        let signal = async move {
            let _ = shutdown.wait_for(|down| *down).await;
        };
        if let Err(e) = router.serve_with_incoming_shutdown(incoming, signal).await {
            eprintln!("minknow-sim: server stopped: {e}");
        }
    })
}
