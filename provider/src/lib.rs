//! elasticache-access: one resource, `elasticache_access`, that authorizes network access to an AWS
//! ElastiCache cluster, served to Terraform (plugin protocol 6) and to Pulumi (resource provider
//! protocol) from one protocol-neutral core.
//!
//! # Layout
//! - [`model`]: the resource declared once (inputs, outputs, provider configuration, behaviour table).
//! - [`schema`]: the protocol-neutral schema derived from [`model`] (types, descriptions, modes).
//! - [`value`], [`diag`]: dynamic values with unknowns, and diagnostics with attribute paths.
//! - [`validate`]: every input rule, checked before any AWS call; normalization of inputs.
//! - [`plan`]: one pipeline that decides the planned state, what replaces and what updates in place.
//! - [`cloud`]: the AWS operations the engine needs, in core types; [`aws`] implements them.
//! - [`engine`]: create, read, update, delete and import, written against [`cloud::Cloud`].
//! - [`state`]: the resource's state as a [`value::Value`] and back.
//!
//! The core ([`model`] to [`engine`]) knows nothing of gRPC, msgpack, protobuf Struct or AWS SDK types:
//! adapters convert in, call the core, convert out.

pub mod aws;
pub mod cloud;
pub mod diag;
pub mod engine;
pub mod generate;
pub mod model;
pub mod plan;
pub mod pulumi;
pub mod schema;
pub mod state;
pub mod terraform;
pub mod validate;
pub mod value;
