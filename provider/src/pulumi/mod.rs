//! The Pulumi adapter: `pulumi-resource-elasticache` serves `pulumirpc.ResourceProvider` for package
//! `elasticache`, resource `elasticache:index:Access` and function `elasticache:index:getIamAuthToken`.
//!
//! # Layout
//! - [`codec`]: `google.protobuf.Struct` ⇄ [`crate::domain::declaration::value::Value`] (camelCase ⇄ snake_case by the
//!   schema, unknown sentinels, secrets, output values).
//! - [`inputs`]: what Check adds: auto-naming, normalization, secrets of derived outputs.
//! - [`schema`]: the Pulumi package schema, derived from [`crate::domain::declaration::schema`].
//! - [`server`]: the RPCs, each converting in, calling the core's service, converting out, with
//!   `provider` (the provider's state and the conversions the RPCs share) and [`convert`] (Pulumi's
//!   wire forms: requests, diagnostics, failures, the diff answer); `invoke`: the function
//!   `elasticache:index:getIamAuthToken` (its token a secret).
//! - [`logging`]: a `tracing` layer that forwards to the engine's `Log` RPC.
//! - [`redact`]: secret inputs kept out of diagnostics, failures and logs.
//!
//! Launch: the plugin binds 127.0.0.1:0, prints the port as its first stdout line, and serves until
//! SIGINT/SIGTERM (see [`serve`]).

pub mod codec;
pub mod convert;
pub mod inputs;
mod invoke;
pub mod logging;
mod provider;
pub mod redact;
pub mod schema;
pub mod server;

use std::future::Future;

use elasticache_proto::pulumirpc::resource_provider_server::ResourceProviderServer;
use tokio::net::TcpListener;

/// Pulumi messages can be large (state of many resources); the engine allows up to 400 MiB.
pub const MAX_MESSAGE_SIZE: usize = 400 * 1024 * 1024;

/// Serves `provider` on `listener` until `shutdown` completes.
pub async fn serve<F>(
    listener: TcpListener,
    provider: server::Provider,
    shutdown: F,
) -> Result<(), tonic::transport::Error>
where
    F: Future<Output = ()> + Send,
{
    let svc = ResourceProviderServer::new(provider)
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    tonic::transport::Server::builder()
        .add_service(svc)
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            shutdown,
        )
        .await
}
