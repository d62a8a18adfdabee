//! go-plugin's services beside the provider: the controller (Shutdown) and stdio forwarding.

use std::pin::Pin;
use std::sync::Arc;

use elasticache_proto::plugin;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
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

/// How many stderr lines a slow stdio client may fall behind before it misses some.
pub const STDIO_BACKLOG: usize = 1024;

/// go-plugin's stdio forwarding (`plugin.GRPCStdio/StreamStdio`).
///
/// Launched by Terraform, the provider's stderr is Terraform's own pipe, so the stream ends at once
/// (forwarding the lines as well would show every log line twice). In debug mode
/// (`--debug`, see [`super::run_debug`]) Terraform has no pipe to the process: every stderr line the
/// provider writes (its hclog lines, see [`super::log::StderrTee`]) is then sent on the stream, on
/// channel STDERR, from the moment the client subscribes.
pub struct Stdio {
    lines: Option<broadcast::Sender<Vec<u8>>>,
}

impl Stdio {
    /// The stream that ends at once (a provider launched by Terraform).
    pub fn silent() -> Self {
        Stdio { lines: None }
    }

    /// The stream that carries every line sent on `lines` (debug mode).
    pub fn forwarding(lines: broadcast::Sender<Vec<u8>>) -> Self {
        Stdio { lines: Some(lines) }
    }
}

type StdioStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<plugin::StdioData, Status>> + Send>>;

fn stderr_data(data: Vec<u8>) -> plugin::StdioData {
    plugin::StdioData {
        channel: plugin::stdio_data::Channel::Stderr as i32,
        data,
    }
}

/// Copies lines from a broadcast subscription into the stream until either side goes away. A
/// client that fell behind misses the lines it lagged by (noted in the stream itself).
fn forward(mut rx: broadcast::Receiver<Vec<u8>>) -> StdioStream {
    let (tx, out) = mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let data = match rx.recv().await {
                Ok(line) => line,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    format!("[{n} stderr lines dropped: the stdio client fell behind]\n")
                        .into_bytes()
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if tx.send(Ok(stderr_data(data))).await.is_err() {
                return;
            }
        }
    });
    Box::pin(ReceiverStream::new(out))
}

#[tonic::async_trait]
impl plugin::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(&self, _: Request<()>) -> Rpc<Self::StreamStdioStream> {
        let stream: StdioStream = match &self.lines {
            None => Box::pin(tokio_stream::empty()),
            Some(lines) => forward(lines.subscribe()),
        };
        Ok(Response::new(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::grpc_stdio_server::GrpcStdio;
    use std::time::Duration;
    use tokio_stream::StreamExt;

    async fn next(stream: &mut StdioStream) -> Option<plugin::StdioData> {
        tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .ok()
            .flatten()
            .and_then(Result::ok)
    }

    #[tokio::test]
    async fn a_launched_provider_streams_nothing() {
        let stdio = Stdio::silent();
        let mut stream = match stdio.stream_stdio(Request::new(())).await {
            Ok(r) => r.into_inner(),
            Err(e) => panic!("{e}"),
        };
        assert!(next(&mut stream).await.is_none());
    }

    #[tokio::test]
    async fn debug_mode_streams_the_providers_stderr_lines() {
        use crate::terraform::log::{HclogLayer, StderrTee};
        use tracing_subscriber::prelude::*;

        let (tx, _) = broadcast::channel(STDIO_BACKLOG);
        let stdio = Stdio::forwarding(tx.clone());
        let mut stream = match stdio.stream_stdio(Request::new(())).await {
            Ok(r) => r.into_inner(),
            Err(e) => panic!("{e}"),
        };
        let sub =
            tracing_subscriber::registry().with(HclogLayer::new(StderrTee::new(Some(tx.clone()))));
        tracing::subscriber::with_default(sub, || {
            tracing::warn!(rpc = "ReadResource", "first line");
            tracing::warn!("second line");
        });
        for want in ["first line", "second line"] {
            let Some(got) = next(&mut stream).await else {
                panic!("the stream ended before {want:?}")
            };
            assert_eq!(got.channel, plugin::stdio_data::Channel::Stderr as i32);
            let text = String::from_utf8(got.data).unwrap_or_default();
            let json: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_default();
            assert_eq!(json["@message"], want, "{text}");
            assert!(text.ends_with('\n'), "{text:?}");
        }
        drop(stdio);
        drop(tx);
        assert!(
            next(&mut stream).await.is_none(),
            "the stream outlived its source"
        );
    }
}
