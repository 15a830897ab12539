//! The simulator's own TestService, on every port: one RPC of each streaming kind, plus
//! `whoami` to show which credentials a call carried.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::proto::minknow_sim::test_service_server::TestService;
use crate::proto::minknow_sim::*;
use crate::state::SimState;

/// Largest payload a chunk may have: the 16 MiB message limit, less room for framing.
pub const MAX_CHUNK: u32 = 16 * 1024 * 1024;
const MAX_STREAM_BYTES: u64 = 1 << 30;
const MAX_STREAM_COUNT: u32 = 10_000_000;
/// Small, so a client that reads slowly holds the sender back instead of filling memory.
const STREAM_BUFFER: usize = 4;

type ChunkStream = Pin<Box<dyn Stream<Item = Result<Chunk, Status>> + Send>>;

pub struct Tester {
    state: Arc<SimState>,
}

impl Tester {
    pub fn new(state: Arc<SimState>) -> Self {
        Tester { state }
    }
}

fn check_stream_request(request: &StreamRequest) -> Result<(), Status> {
    let total = u64::from(request.count) * u64::from(request.size);
    if request.size > MAX_CHUNK {
        return Err(Status::invalid_argument(format!("size is above {MAX_CHUNK} bytes")));
    }
    if request.count > MAX_STREAM_COUNT || total > MAX_STREAM_BYTES {
        return Err(Status::invalid_argument(format!(
            "at most {MAX_STREAM_COUNT} chunks and {MAX_STREAM_BYTES} bytes per stream"
        )));
    }
    Ok(())
}

#[tonic::async_trait]
impl TestService for Tester {
    async fn echo(&self, request: Request<Chunk>) -> Result<Response<Chunk>, Status> {
        self.state.auth.authorise(&request, "test.echo")?;
        Ok(Response::new(request.into_inner()))
    }

    type server_streamStream = ChunkStream;

    async fn server_stream(
        &self,
        request: Request<StreamRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        self.state.auth.authorise(&request, "test.server_stream")?;
        let spec = request.into_inner();
        check_stream_request(&spec)?;

        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        tokio::spawn(async move {
            let payload = vec![0x5a; spec.size as usize];
            for sequence in 0..spec.count {
                if sequence > 0 && spec.interval_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(spec.interval_ms.into())).await;
                }
                let chunk = Chunk { payload: payload.clone(), sequence };
                // The client went away: stop producing.
                if tx.send(Ok(chunk)).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn client_stream(
        &self,
        request: Request<Streaming<Chunk>>,
    ) -> Result<Response<StreamSummary>, Status> {
        self.state.auth.authorise(&request, "test.client_stream")?;
        let mut inbound = request.into_inner();
        let mut summary = StreamSummary::default();
        while let Some(chunk) = inbound.message().await? {
            summary.count = summary.count.saturating_add(1);
            summary.bytes = summary.bytes.saturating_add(chunk.payload.len() as u64);
        }
        Ok(Response::new(summary))
    }

    type bidi_echoStream = ChunkStream;

    async fn bidi_echo(
        &self,
        request: Request<Streaming<Chunk>>,
    ) -> Result<Response<ChunkStream>, Status> {
        self.state.auth.authorise(&request, "test.bidi_echo")?;
        // Each chunk goes back as soon as it arrives; tonic's stream pulls only as fast as the
        // client reads, so a slow reader slows the echo down.
        Ok(Response::new(Box::pin(request.into_inner())))
    }

    async fn whoami(
        &self,
        request: Request<WhoAmIRequest>,
    ) -> Result<Response<WhoAmIResponse>, Status> {
        let caller = self.state.auth.authorise(&request, "test.whoami")?;
        Ok(Response::new(WhoAmIResponse {
            token_header: caller.token_header.to_string(),
            token_kind: caller.token_kind.to_string(),
            client_certificate_subject: caller.client_subject.unwrap_or_default(),
            port: caller.port.into(),
        }))
    }
}
