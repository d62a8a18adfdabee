//! elasticache-access: one resource, `elasticache_access`, that authorizes network access to an AWS
//! ElastiCache cluster, and the IAM auth token a client then presents (Terraform's ephemeral
//! resource `elasticache_iam_auth_token`, Pulumi's function `getIamAuthToken`), served to Terraform
//! (plugin protocol 6) and to Pulumi (resource provider protocol) from one protocol-neutral core.
//!
//! # Layout
//! - [`domain`]: the core, with no gRPC, msgpack, protobuf Struct or AWS SDK type in it:
//!   - [`domain::model`]: the resource declared once (inputs, outputs, provider configuration);
//!     [`domain::behaviour`]: its behaviour table and the table of which outputs follow which inputs;
//!   - [`domain::schema`]: the protocol-neutral schema derived from the declaration;
//!   - [`domain::types`], [`domain::desired`] (with [`domain::parse`]), [`domain::settings`]: inputs
//!     and provider settings parsed once into typed values ([`domain::types::Known`] for values unknown at plan time), every
//!     diagnostic with its attribute path ([`domain::diag`]); [`domain::typecheck`] checks shapes;
//!   - [`domain::value`]: the dynamic value both adapters decode into;
//!   - [`domain::plan`]: one plan pipeline; [`domain::state`]: the state and its codec;
//!   - [`domain::cloud`]: the port to AWS; [`domain::engine`]: create, read, import, update, delete,
//!     rules, attach, tags, bookkeeping and sweep, over a world of what AWS holds (tests: a fake
//!     cloud and a rig that drives the service as Terraform does); calls in flight end on a cancel;
//!   - [`domain::batch`], [`domain::scan`]: concurrent reads share batched describes, and a run
//!     that has read many accesses is answered by one scan of the Region's tagged groups;
//!   - [`domain::service`]: the one service both adapters call;
//!   - [`domain::auth_token`]: the IAM auth token declared once, its arguments checked with their
//!     paths, the [`domain::auth_token::TokenSigner`] port, open and renew.
//! - [`aws`]: the only code that talks to AWS: connect, errors (the code table), ec2, elasticache,
//!   iam (the action list), iam_token (tokens presigned with `aws-sigv4` and the same credentials).
//! - [`terraform`]: go-plugin handshake and AutoMTLS, its controller and stdio services, debug
//!   (reattach) mode, msgpack, conversions per RPC (the ephemeral resource's in `ephemeral`), the
//!   schema JSON.
//! - [`pulumi`]: the port line, the Struct codec (unknowns, secrets), the provider's state and
//!   conversions per RPC (Invoke of the token function), the schema.
//! - `lifecycle_tests` (tests only): one lifecycle table driven through both adapters.
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
mod lifecycle_tests;
