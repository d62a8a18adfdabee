//! The plan and the state it leads to: built from the parsed inputs
//! ([`declaration`](crate::domain::declaration)) and what the cloud port reports, used by the engine.
//!
//! # Layout
//! - [`plan`]: one plan pipeline.
//! - [`state`]: the state and its codec.
//! - [`identity`]: the resource identity.
//! - [`quota`]: what AWS's Amazon VPC quotas allow an access (the plan's checks count with it).
//! - [`reach_plan`]: what a plan knows of who can reach the cache.

pub mod identity;
pub mod plan;
pub mod quota;
pub mod reach_plan;
pub mod state;
