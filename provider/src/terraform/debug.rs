//! Debug mode: `terraform-provider-elasticache --debug` (or `-debug`, as Go providers spell it).
//!
//! The provider serves as usual, but for a Terraform that attaches to it instead of launching it:
//! rather than go-plugin's handshake line it prints the `TF_REATTACH_PROVIDERS` value users export,
//! in the words and JSON shape terraform-plugin-go's debug servers use, and serves every Terraform
//! command run with that variable until it is interrupted (SIGINT, SIGTERM) or go-plugin's
//! controller asks it to shut down. A debugger attached to this process then sees every RPC.
//!
//! Terraform reattaches without a client certificate, so there is no AutoMTLS here: the server
//! listens on the same private unix socket (directory 0700, socket 0600) as a launched provider, or
//! on 127.0.0.1 with `ELASTICACHE_PLUGIN_NETWORK=tcp`. No magic cookie is needed: a person starts it.
//! The provider's stderr lines go to the terminal and, through go-plugin's stdio stream, to Terraform.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{broadcast, watch};

use super::go_plugin::Stdio;
use super::handshake::APP_PROTOCOL_VERSION;

/// The provider's address, the key of its `TF_REATTACH_PROVIDERS` entry.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/elasticache-access/elasticache";

/// One entry of `TF_REATTACH_PROVIDERS` (go-plugin's ReattachConfig as Terraform parses it).
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Reattach {
    pub protocol: &'static str,
    pub protocol_version: u32,
    pub pid: u32,
    /// Required for protocol 6: Terraform neither kills nor waits for a process it did not start.
    pub test: bool,
    pub addr: ReattachAddr,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ReattachAddr {
    pub network: String,
    pub string: String,
}

/// The `TF_REATTACH_PROVIDERS` value: a JSON object keyed by the provider's address.
pub fn reattach_json(network: &str, address: &str, pid: u32) -> String {
    let entry = Reattach {
        protocol: "grpc",
        protocol_version: APP_PROTOCOL_VERSION,
        pid,
        test: true,
        addr: ReattachAddr {
            network: network.to_string(),
            string: address.to_string(),
        },
    };
    let map = BTreeMap::from([(PROVIDER_ADDRESS, entry)]);
    serde_json::to_string(&map).unwrap_or_default()
}

/// What debug mode prints on stdout: the instructions, and the line to paste into a POSIX shell
/// (single quotes inside the value are closed, escaped and reopened) or, on Windows, the lines for
/// Command Prompt and PowerShell.
pub fn instructions(reattach: &str) -> String {
    let mut out = String::from(
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment \
         variable with the following:\n\n",
    );
    if cfg!(windows) {
        out.push_str(&format!(
            "\tCommand Prompt:\tset \"TF_REATTACH_PROVIDERS={reattach}\"\n"
        ));
        out.push_str(&format!(
            "\tPowerShell:\t$env:TF_REATTACH_PROVIDERS='{}'\n",
            reattach.replace('\'', "''")
        ));
    } else {
        out.push_str(&format!(
            "\tTF_REATTACH_PROVIDERS='{}'\n",
            reattach.replace('\'', r#"'"'"'"#)
        ));
    }
    out.push('\n');
    out
}

/// Serves in debug mode until interrupted; `lines` carries the provider's stderr lines.
pub async fn serve(
    lines: broadcast::Sender<Vec<u8>>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let listener = super::listen().await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    spawn_interrupt_handlers(stop_tx.clone());
    let (network, address) = listener.address();
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let reattach = reattach_json(network, &address, std::process::id());
        write!(out, "{}", instructions(&reattach))?;
        out.flush()?;
    }
    tracing::info!(network, address = %address, "debug mode: serving until interrupted");
    super::serve_until_stopped(
        super::server::ProviderService::new(),
        listener,
        None,
        Stdio::forwarding(lines),
        stop_tx,
        stop_rx,
    )
    .await
}

/// SIGINT (Ctrl-C in the terminal or the debugger) and SIGTERM stop the debug server. (A launched
/// provider ignores SIGINT, which Terraform forwards; nobody forwards it here.)
fn spawn_interrupt_handlers(stop: Arc<watch::Sender<bool>>) {
    let on_int = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("interrupted: stopping");
            let _ = on_int.send(true);
        }
    });
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::spawn(async move {
                if term.recv().await.is_some() {
                    tracing::info!("terminated: stopping");
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
    use super::*;

    #[test]
    fn the_reattach_value_has_go_plugins_shape() {
        let json = reattach_json("unix", "/tmp/plugin-elasticache-1/plugin.sock", 4242);
        assert_eq!(
            json,
            "{\"registry.terraform.io/elasticache-access/elasticache\":{\"Protocol\":\"grpc\",\
             \"ProtocolVersion\":6,\"Pid\":4242,\"Test\":true,\"Addr\":{\"Network\":\"unix\",\
             \"String\":\"/tmp/plugin-elasticache-1/plugin.sock\"}}}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_instructions_quote_the_value_for_a_shell() {
        let text = instructions("{\"a\":\"it's\"}");
        assert!(text.starts_with("Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n"));
        assert!(
            text.ends_with("\tTF_REATTACH_PROVIDERS='{\"a\":\"it'\"'\"'s\"}'\n\n"),
            "{text:?}"
        );
    }
}
