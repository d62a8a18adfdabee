//! The resource declared once and its inputs parsed once: the bottom layer above the shared
//! [`types`](crate::domain::types) and the cloud port's value types, which `desired` names for rule
//! sources.
//!
//! # Layout
//! - [`model`]: the resource declared once (inputs, outputs, provider configuration).
//! - [`input`]: each input declared once (its wire type, parsed type, parse and value).
//! - [`behaviour`]: its behaviour table and which outputs follow which inputs.
//! - [`schema`]: the protocol-neutral schema derived from it.
//! - [`reach`]: the `reachability` object declared once, its findings table.
//! - [`value`]: the dynamic value both adapters decode into; [`typecheck`]: its shapes.
//! - [`desired`] with [`parse`]: the inputs parsed once (each input's format, then the rules between
//!   inputs).
//! - [`settings`]: the provider configuration.

pub mod behaviour;
pub mod desired;
pub mod input;
pub mod model;
pub mod parse;
pub mod reach;
pub mod schema;
pub mod settings;
pub mod typecheck;
pub mod value;
