//! The Terraform adapter: a go-plugin (protocol 6) server for `elasticache_access`.
//!
//! # Layout
//! - [`handshake`]: the magic cookie, protocol negotiation, the private unix socket (or loopback TCP)
//!   and the handshake line Terraform reads from stdout.
//! - [`tls`]: AutoMTLS: our rcgen certificate with ALPN h2, and a verifier that accepts exactly the
//!   client certificate Terraform passed in `PLUGIN_CLIENT_CERT`.
//! - [`msgpack`]: cty's msgpack encoding of values (unknowns, every attribute present), driven by the
//!   schema.
//! - [`convert`]: core schema, paths, diagnostics and values to tfplugin6's, and back; [`wire`]: the
//!   resource's attributes, configuration inputs and state on the wire, shared by the RPCs.
//! - [`server`]: the `tfplugin6.Provider` service: provider-level RPCs, and the others handed to
//!   [`resource`] (read, plan, apply, import, move), [`identity`] (identity schemas and data),
//!   [`list`] (`terraform query`) and [`ephemeral`] (the ephemeral resource
//!   `elasticache_iam_auth_token`: Open, Renew, Close); [`go_plugin`]: go-plugin's controller and
//!   stdio services; [`schema_json`]: the document `terraform providers schema -json` prints.
//! - [`log`]: hclog JSON lines on stderr at the level of `TF_LOG_PROVIDER` / `TF_LOG`.
//! - [`debug`]: debug mode (`--debug`): the `TF_REATTACH_PROVIDERS` line instead of the handshake,
//!   no AutoMTLS, stderr lines forwarded on go-plugin's stdio stream.
//!
//! [`run`] ties them together: it does no AWS or network work before the handshake line, so Terraform
//! sees the line within milliseconds; AWS clients are made at ConfigureProvider.

pub mod convert;
pub mod debug;
pub mod ephemeral;
pub mod go_plugin;
pub mod handshake;
pub mod identity;
pub mod list;
pub mod log;
pub mod msgpack;
pub mod resource;
pub mod schema_json;
pub mod server;
pub mod tls;
pub mod wire;

use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use elasticache_proto::{plugin, tfplugin6};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

use handshake::Listener;

/// go-plugin clients accept messages up to 2 GiB; tonic's default is 4 MiB.
const MAX_MESSAGE: usize = i32::MAX as usize;
/// How long a graceful stop may wait for open connections after Shutdown.
const STOP_GRACE: Duration = Duration::from_millis(1500);

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// One accepted connection (plain or TLS, unix or TCP) as tonic serves it.
pub struct Conn(Box<dyn Io>);

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

/// Accepts connections, completes TLS handshakes off the accept loop, and hands finished
/// connections to tonic. A failed TLS handshake (a stranger) is logged and dropped.
fn incoming(
    listener: Listener,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> ReceiverStream<Result<Conn, std::io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted: std::io::Result<Box<dyn Io>> = match &listener {
                Listener::Unix { listener, .. } => listener
                    .accept()
                    .await
                    .map(|(s, _)| Box::new(s) as Box<dyn Io>),
                Listener::Tcp(l) => l.accept().await.map(|(s, _)| {
                    let _ = s.set_nodelay(true);
                    Box::new(s) as Box<dyn Io>
                }),
            };
            let stream = match accepted {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let tx = tx.clone();
            match &tls {
                None => {
                    if tx.send(Ok(Conn(stream))).await.is_err() {
                        return;
                    }
                }
                Some(cfg) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(cfg.clone());
                    tokio::spawn(async move {
                        match tokio::time::timeout(Duration::from_secs(30), acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(s)) => {
                                let _ = tx.send(Ok(Conn(Box::new(s)))).await;
                            }
                            Ok(Err(e)) if peer_went_away(&e) => {
                                tracing::debug!(error = %e, "connection closed before the TLS handshake completed")
                            }
                            Ok(Err(e)) => tracing::warn!(error = %e, "TLS handshake refused"),
                            Err(_) => tracing::warn!("TLS handshake timed out"),
                        }
                    });
                }
            }
        }
    });
    ReceiverStream::new(rx)
}

/// A client that closed its connection before finishing the TLS handshake (go-plugin's gRPC client
/// reconnecting while the plugin shuts down does this): not worth a warning, unlike a refused
/// certificate.
fn peer_went_away(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    matches!(
        e.kind(),
        UnexpectedEof | BrokenPipe | ConnectionReset | ConnectionAborted
    )
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Runs the plugin: checks the cookie, listens, prints the handshake line and serves until
/// Terraform's controller asks it to shut down (exit 0) or SIGTERM.
pub async fn run() -> ExitCode {
    run_plugin(server::ProviderService::new()).await
}

/// [`run`] with another `tfplugin6.Provider` service behind the same handshake, AutoMTLS and
/// go-plugin side services (the tests' stand-in for another provider uses it).
pub async fn run_plugin<P: tfplugin6::provider_server::Provider>(provider: P) -> ExitCode {
    if let Err(e) = handshake::check_cookie(env(handshake::MAGIC_COOKIE_KEY).as_deref()) {
        eprintln!("{e}");
        return ExitCode::from(1);
    }
    log::init();
    match serve(provider).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "plugin failed");
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

/// Runs the provider in debug mode (`--debug`, see [`debug`]): no cookie, no AutoMTLS, the
/// `TF_REATTACH_PROVIDERS` line instead of the handshake, stderr lines on go-plugin's stdio stream.
pub async fn run_debug() -> ExitCode {
    let (lines, _) = broadcast::channel(go_plugin::STDIO_BACKLOG);
    log::init_with(log::StderrTee::new(Some(lines.clone())));
    match debug::serve(lines).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "plugin failed");
            ExitCode::from(1)
        }
    }
}

/// The listener: a private unix socket (under `PLUGIN_UNIX_SOCKET_DIR` when set), or loopback TCP
/// (Windows, or `ELASTICACHE_PLUGIN_NETWORK=tcp`) in `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT`.
async fn listen() -> Result<Listener, handshake::HandshakeError> {
    if cfg!(unix) && env("ELASTICACHE_PLUGIN_NETWORK").as_deref() != Some("tcp") {
        Listener::unix(
            env("PLUGIN_UNIX_SOCKET_DIR")
                .as_deref()
                .map(std::path::Path::new),
        )
    } else {
        let port = |n: &str| env(n).and_then(|v| v.parse::<u16>().ok());
        Listener::tcp(port("PLUGIN_MIN_PORT"), port("PLUGIN_MAX_PORT")).await
    }
}

async fn serve<P: tfplugin6::provider_server::Provider>(
    provider: P,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let version = handshake::negotiate(env("PLUGIN_PROTOCOL_VERSIONS").as_deref())?;
    let listener = listen().await?;
    let (network, address) = listener.address();

    // AutoMTLS unless Terraform sent no client certificate.
    let (tls_config, cert_b64) = match env("PLUGIN_CLIENT_CERT").filter(|c| !c.trim().is_empty()) {
        Some(pem) => {
            let client = tls::pem_to_der(&pem)?;
            let identity = tls::server_identity()?;
            let cfg = tls::server_config(&identity, client)?;
            (
                Some(Arc::new(cfg)),
                tls::cert_for_handshake(&identity.cert_der),
            )
        }
        None => (None, String::new()),
    };

    // Signal handlers go in before the handshake line: a SIGTERM sent the moment the line is read
    // must be seen (registered any later, a signal in between could be missed and the plugin hang).
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    spawn_signal_handlers(stop_tx.clone());
    spawn_parent_watch(stop_tx.clone());

    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{}",
            handshake::line(version, network, &address, &cert_b64)
        )?;
        out.flush()?;
    }
    tracing::debug!(network, address = %address, tls = tls_config.is_some(), "plugin serving");
    serve_until_stopped(
        provider,
        listener,
        tls_config,
        go_plugin::Stdio::silent(),
        stop_tx,
        stop_rx,
    )
    .await
}

/// Serves the provider, health, controller and stdio services on `listener` until `stop_rx` turns
/// true (then waits at most [`STOP_GRACE`] for open connections), and removes the socket.
async fn serve_until_stopped<P: tfplugin6::provider_server::Provider>(
    provider: P,
    listener: Listener,
    tls_config: Option<Arc<rustls::ServerConfig>>,
    stdio: go_plugin::Stdio,
    stop_tx: Arc<watch::Sender<bool>>,
    mut stop_rx: watch::Receiver<bool>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let socket_dir = match &listener {
        Listener::Unix { dir, .. } => Some(dir.clone()),
        Listener::Tcp(_) => None,
    };
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let provider = tfplugin6::provider_server::ProviderServer::new(provider)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    let controller =
        plugin::grpc_controller_server::GrpcControllerServer::new(go_plugin::Controller {
            shutdown: stop_tx,
        });
    let stdio = plugin::grpc_stdio_server::GrpcStdioServer::new(stdio);

    let mut stop_rx2 = stop_rx.clone();
    let signal = async move {
        let _ = stop_rx2.wait_for(|s| *s).await;
    };
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(controller)
        .add_service(stdio)
        .add_service(provider)
        .serve_with_incoming_shutdown(incoming(listener, tls_config), signal);
    tokio::pin!(server);
    let result = tokio::select! {
        r = &mut server => r.map_err(|e| e.into()),
        _ = async {
            let _ = stop_rx.wait_for(|s| *s).await;
            tokio::time::sleep(STOP_GRACE).await;
        } => {
            tracing::debug!("connections still open after shutdown; exiting anyway");
            Ok(())
        }
    };
    Listener::cleanup(socket_dir.as_deref());
    result
}

/// Stops the server when Terraform is gone without calling Shutdown (it crashed or was killed): the
/// plugin is then re-parented, and nobody would ever stop it.
fn spawn_parent_watch(stop: Arc<watch::Sender<bool>>) {
    #[cfg(unix)]
    {
        let parent = std::os::unix::process::parent_id();
        if parent <= 1 {
            return;
        }
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                if std::os::unix::process::parent_id() != parent {
                    tracing::warn!("Terraform exited without stopping the plugin; stopping");
                    let _ = stop.send(true);
                    return;
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = stop;
}

/// SIGINT is ignored, as go-plugin servers do: Terraform forwards Ctrl-C as StopProvider and waits
/// for the apply to end, so the plugin must not die under it. SIGTERM stops the server.
fn spawn_signal_handlers(stop: Arc<watch::Sender<bool>>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut int) = signal(SignalKind::interrupt()) {
            tokio::spawn(async move {
                while int.recv().await.is_some() {
                    tracing::debug!("SIGINT ignored; Terraform sends StopProvider");
                }
            });
        }
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::spawn(async move {
                if term.recv().await.is_some() {
                    let _ = stop.send(true);
                }
            });
        }
    }
    #[cfg(not(unix))]
    let _ = stop;
}

#[cfg(test)]
mod tests {
    use super::peer_went_away;
    use std::io::{Error, ErrorKind};

    #[test]
    fn a_closed_connection_is_not_a_refused_handshake() {
        assert!(peer_went_away(&Error::new(
            ErrorKind::UnexpectedEof,
            "tls handshake eof"
        )));
        assert!(peer_went_away(&Error::from(ErrorKind::BrokenPipe)));
        assert!(peer_went_away(&Error::from(ErrorKind::ConnectionReset)));
        // rustls reports a refused certificate as invalid data: that stays a warning
        assert!(!peer_went_away(&Error::new(
            ErrorKind::InvalidData,
            "invalid peer certificate"
        )));
    }
}
