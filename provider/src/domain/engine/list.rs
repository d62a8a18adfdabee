//! Finding every access in the Region (`terraform query`): the cluster groups carrying this
//! provider's bookkeeping tags, each read the way an import reads it.

use std::collections::BTreeMap;

use crate::domain::cloud::{ClusterRef, GroupFilter};
use crate::domain::diag::Diagnostic;
use crate::domain::engine::bookkeeping as bk;
use crate::domain::engine::{cloud_diag, Engine};
use crate::domain::planning::state::AccessState;

/// Which accesses to list: every one given is required to match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub vpc_id: Option<String>,
    pub cluster: Option<ClusterRef>,
    /// Tags the cluster group carries, with these values.
    pub tags: BTreeMap<String, String>,
}

impl Engine {
    /// The accesses of the Region that match `f`, by cluster group id. Groups of a create still in
    /// progress (or left by one that never finished) are no access yet, and are left out.
    pub async fn list(&self, f: &ListFilter) -> Result<Vec<AccessState>, Diagnostic> {
        let mut tags = vec![(bk::ROLE.to_string(), Some(bk::ROLE_CLUSTER.to_string()))];
        tags.extend(f.tags.iter().map(|(k, v)| (k.clone(), Some(v.clone()))));
        let filter = GroupFilter {
            vpc_id: f.vpc_id.clone(),
            names: Vec::new(),
            tags,
        };
        let mut groups = self
            .cloud
            .find_security_groups(&filter)
            .await
            .map_err(|e| cloud_diag("find the accesses' security groups", &e))?;
        groups.retain(|g| {
            !super::lease::Creation::of(g).is_marked()
                && f.cluster.as_ref().is_none_or(|c| {
                    g.tags
                        .get(bk::CLUSTER)
                        .and_then(|t| ClusterRef::from_tag(t))
                        .as_ref()
                        == Some(c)
                })
        });
        groups.sort_by(|a, b| a.id.cmp(&b.id));
        let mut out = Vec::with_capacity(groups.len());
        for g in groups {
            match self.import(&g.id).await {
                Ok(s) => out.push(s),
                // Deleted since the search (a destroy running alongside): no longer an access.
                Err(d) if d.summary == "Cannot import" => {
                    tracing::info!(group = %g.id, "left out of the list: {d}")
                }
                Err(d) => return Err(d),
            }
        }
        Ok(out)
    }
}
