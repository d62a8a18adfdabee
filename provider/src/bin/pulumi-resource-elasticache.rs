//! `pulumi-resource-elasticache`: the Pulumi resource provider plugin for package `elasticache`.
//!
//! Usage (as the Pulumi engine starts it): `pulumi-resource-elasticache [--logtostderr] [-v=N]
//! [--tracing ENDPOINT] [ENGINE_ADDRESS]`. Prints the port it serves on (127.0.0.1) as the first line
//! of stdout, then serves gRPC until SIGINT or SIGTERM. `pulumi-resource-elasticache --version` prints
//! `pulumi-resource-elasticache VERSION` (the workspace version, as GetPluginInfo answers) and exits;
//! `pulumi-resource-elasticache sweep [--region R] [--vpc-id V] [--dry-run]` sweeps what abandoned
//! creates left (see `elasticache_provider::sweep`).

use std::io::Write;

use anyhow::Context;
use elasticache_provider::pulumi::{self, logging::LogOptions, server::Provider};
use tokio::net::TcpListener;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    if std::env::args().skip(1).eq(["--version"]) {
        println!("pulumi-resource-elasticache {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(code) = elasticache_provider::sweep::main_from_args(&args).await {
        std::process::exit(code);
    }
    let opts = LogOptions::parse(std::env::args().skip(1));
    let log = pulumi::logging::init(&opts);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on 127.0.0.1")?;
    let port = listener.local_addr()?.port();
    // Registered before the port line: a signal sent as soon as the engine reads it is not missed.
    let shutdown = shutdown_signal();
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{port}")?;
        out.flush()?;
    }
    pulumi::serve(listener, Provider::new(Some(log)), shutdown)
        .await
        .context("serving the Pulumi provider")?;
    Ok(())
}

/// Registers for SIGINT and SIGTERM now; the returned future ends at the first of them.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let streams = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        );
        async move {
            match streams {
                (Ok(mut int), Ok(mut term)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
