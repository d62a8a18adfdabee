//! elasticache-access: one resource, `elasticache_access`, that authorizes network access to an AWS
//! ElastiCache cluster, and the IAM auth token a client then presents (Terraform's ephemeral
//! resource `elasticache_iam_auth_token`, Pulumi's function `getIamAuthToken`), served to Terraform
//! (plugin protocol 6) and to Pulumi (resource provider protocol) from one protocol-neutral core.
//!
//! # Layout
//! - [`domain`]: the core, with no gRPC, msgpack, protobuf Struct or AWS SDK type in it (its own
//!   Layout lists its modules: declaration, parsed inputs, plan and state, the cloud port and the
//!   services over it, the engine, the service both adapters call).
//! - [`aws`]: the only code that talks to AWS (its Layout lists connect, clock, errors, ec2,
//!   elasticache, iam and iam_token).
//! - [`terraform`]: plugin protocol 6: handshake and AutoMTLS, go-plugin's services, debug mode,
//!   msgpack, the RPCs by subject (resource, identity, list, ephemeral), the schema JSON.
//! - [`pulumi`]: the port line, the Struct codec (unknowns, secrets), the provider's state and
//!   conversions per RPC (Invoke of the token function), the schema.
//! - `lifecycle_tests` (tests only): one lifecycle table driven through both adapters;
//!   `layout_tests` (tests only): these maps, and the README's, name every module and only paths that exist.
//! - [`docs`]: the generated pages (the token's in `docs::iam_token`); [`generate`]: writes (or checks) `docs/` and `sdk-schemas/`;
//!   [`sweep`]: the `sweep` command (groups of creates that never finished).
//! - `bin/`: the two binaries.

pub mod aws;
pub mod docs;
pub mod domain;
pub mod generate;
pub mod pulumi;
pub mod sweep;
pub mod terraform;

#[cfg(test)]
mod layout_tests;
#[cfg(test)]
mod lifecycle_tests;
