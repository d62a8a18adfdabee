//! go-plugin's services beside the provider: the controller (Shutdown) and stdio forwarding.

use std::sync::Arc;

use elasticache_proto::plugin;
use tokio::sync::watch;
use tonic::{Request, Response, Status};

type Rpc<T> = Result<Response<T>, Status>;

/// go-plugin's controller: Shutdown asks the server to stop serving, after which the process exits.
pub struct Controller {
    pub shutdown: Arc<watch::Sender<bool>>,
}

#[tonic::async_trait]
impl plugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<plugin::Empty>) -> Rpc<plugin::Empty> {
        tracing::debug!("controller Shutdown: stopping");
        let _ = self.shutdown.send(true);
        Ok(Response::new(plugin::Empty {}))
    }
}

/// go-plugin's stdio forwarding: this provider writes nothing to stdout or stderr that needs it
/// (logs go to stderr directly), so the stream ends at once.
pub struct Stdio;

#[tonic::async_trait]
impl plugin::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = tokio_stream::Empty<Result<plugin::StdioData, Status>>;

    async fn stream_stdio(&self, _: Request<()>) -> Rpc<Self::StreamStdioStream> {
        Ok(Response::new(tokio_stream::empty()))
    }
}
