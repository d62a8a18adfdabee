//! One lifecycle table run through both adapters, in-process, against the fake cloud: each case
//! creates an access, changes it (with a fault on one AWS call when the case says so), refreshes,
//! re-applies, imports or destroys it, speaking Terraform's msgpack through `tfplugin6.Provider` and
//! Pulumi's protobuf Struct through `pulumirpc.ResourceProvider`. Both must plan the same changes,
//! end in the same state, and leave the fake cloud holding exactly what the state says.
//!
//! [`cases`]: the table and its runner; [`terraform`] and [`pulumi`]: each adapter driven as its
//! engine drives it.

mod cases;
mod pulumi;
mod terraform;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::declaration::model::Mode;
use crate::domain::declaration::schema;
use crate::domain::declaration::value::Value;
use crate::domain::engine::rig::{fast, Rig};
use crate::domain::service::Service;

/// A plan as an engine sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    /// The inputs the plan changes (Terraform: planned differs from prior; Pulumi: the detailed
    /// diff's keys), snake_case.
    pub changes: BTreeSet<String>,
    /// Every attribute the plan changes, computed ones included.
    pub pending: BTreeSet<String>,
    pub replaces: bool,
    /// The planned values.
    pub planned: Value,
}

/// An apply's outcome: the state the engine records, and the error text when it failed.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub state: Option<Value>,
    pub error: Option<String>,
}

/// One engine's way of driving the provider: its wire formats in, its answers out.
#[async_trait]
pub trait Driver: Send + Sync {
    /// The engine's name, for failure messages.
    fn engine(&self) -> &'static str;
    async fn configure(&self, provider: &serde_json::Value) -> Result<(), String>;
    async fn plan(
        &self,
        prior: Option<&Value>,
        config: &serde_json::Value,
    ) -> Result<Planned, String>;
    /// Plans and applies as the engine does (a replacement deletes, then creates).
    async fn apply(&self, prior: Option<&Value>, config: &serde_json::Value) -> Outcome;
    /// Refresh: `None` when the access is gone.
    async fn read(&self, state: &Value) -> Result<Option<Value>, String>;
    /// Import by id, then the engine's read of the imported state.
    async fn import(&self, id: &str) -> Result<Value, String>;
    async fn delete(&self, state: &Value) -> Result<(), String>;
}

/// A fresh fake cloud and the service both adapters are built over.
pub fn service(rig: &Rig) -> Arc<Service> {
    Arc::new(Service::new(rig.connector.clone()).with_backoff(fast()))
}

/// The attributes whose values differ between `a` and `b`.
pub fn differing(a: &Value, b: &Value) -> BTreeSet<String> {
    let keys: BTreeSet<String> = [a.as_map(), b.as_map()]
        .into_iter()
        .flatten()
        .flat_map(|m| m.keys().cloned())
        .collect();
    keys.into_iter().filter(|k| a.get(k) != b.get(k)).collect()
}

/// The inputs among `attrs`.
pub fn inputs(attrs: &BTreeSet<String>) -> BTreeSet<String> {
    attrs
        .iter()
        .filter(|a| {
            schema::resource()
                .attribute(a)
                .is_some_and(|x| x.mode != Mode::Computed)
        })
        .cloned()
        .collect()
}

/// An outcome from a successful apply, or the failure's text.
pub fn ok(o: Outcome) -> Result<Value, String> {
    match (o.error, o.state) {
        (None, Some(s)) => Ok(s),
        (Some(e), _) => Err(e),
        (None, None) => Err("the apply succeeded but returned no state".into()),
    }
}
