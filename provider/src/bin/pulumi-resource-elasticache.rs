//! `pulumi-resource-elasticache`: the Pulumi resource provider plugin for package `elasticache`.
//!
//! Usage (as the Pulumi engine starts it): `pulumi-resource-elasticache [--logtostderr] [-v=N]
//! [--tracing ENDPOINT] [ENGINE_ADDRESS]`. Prints the port it serves on (127.0.0.1) as the first line
//! of stdout, then serves gRPC until SIGINT or SIGTERM.

use std::io::Write;

use anyhow::Context;
use elasticache_provider::pulumi::{self, logging::LogOptions, server::Provider};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let opts = LogOptions::parse(std::env::args().skip(1));
    let log = pulumi::logging::init(&opts);
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on 127.0.0.1")?;
    let port = listener.local_addr()?.port();
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{port}")?;
        out.flush()?;
    }
    pulumi::serve(listener, Provider::new(Some(log)), shutdown_signal())
        .await
        .context("serving the Pulumi provider")?;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
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
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
