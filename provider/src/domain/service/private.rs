//! What an access keeps between runs beside its state, out of the user's sight (Terraform's private
//! state): facts about its cluster that save a later process a round trip to AWS. Protocol-neutral:
//! the service takes and gives this typed value; an adapter stores it as it can (the Terraform
//! adapter as bytes; Pulumi has no such slot and passes none).
//!
//! Only hints: what they name is read again beside the call that uses it, and a hint that proves
//! wrong (a member gone, other members) is dropped for a fresh read. Today: the members of the
//! access's replication group, which the first look at the cluster in a new process would
//! otherwise read only after the replication group, and their subnet group, otherwise read only after
//! a member (three round trips instead of one).

use serde::{Deserialize, Serialize};

use crate::domain::cloud::ClusterHints;
use crate::domain::declaration::value::Value;
use crate::domain::planning::state::AccessState;
use crate::domain::service::Service;
use crate::domain::types::{known, ClusterRef};

/// The private state of an access.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Private {
    /// The cluster the facts are of ([`ClusterRef::tag`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// A replication group's member clusters as last seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// Their cache subnet group's name as last seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_group: Option<String>,
}

impl Private {
    pub fn is_empty(&self) -> bool {
        self.cluster.is_none() && self.members.is_empty() && self.subnet_group.is_none()
    }
}

impl Service {
    /// Hands the hints of an earlier process to this one's cloud (before it reads or writes).
    pub fn learn(&self, p: Option<&Private>) {
        let (Some(engine), Some(p)) = (self.engine(), p) else {
            return;
        };
        if let Some(c) = p.cluster.as_deref().and_then(ClusterRef::from_tag) {
            if !p.members.is_empty() || p.subnet_group.is_some() {
                let hints = ClusterHints {
                    members: p.members.clone(),
                    subnet_group: p.subnet_group.clone(),
                };
                engine.cloud().learn_hints(&c, &hints);
            }
        }
    }

    /// The hints to keep with `state`: what this process saw of its cluster. None when it saw
    /// nothing (the caller keeps the hints it was given).
    pub fn private_of(&self, state: Option<&Value>) -> Option<Private> {
        let engine = self.engine()?;
        let st = AccessState::from_value(state?).ok()?;
        let c = known(&st.inputs.cluster)?;
        let hints = engine.cloud().hints_seen(c)?;
        Some(Private {
            cluster: Some(c.tag()),
            members: hints.members,
            subnet_group: hints.subnet_group,
        })
    }
}

#[cfg(test)]
#[path = "private_tests.rs"]
mod tests;
