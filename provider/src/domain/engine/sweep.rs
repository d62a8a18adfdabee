//! Groups left behind by creates that never finished (the provider killed, the run cancelled, an
//! answer lost with a generated name): both groups of a create carry a creation marker until it
//! completes. Markers older than the create timeout they record belong to no running create; such
//! groups are deleted, each named in a warning, by the next create in the VPC and by the `sweep`
//! command.

use tokio::time::Instant;

use crate::domain::cloud::{Group, GroupFilter};
use crate::domain::desired::Op;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::engine::bookkeeping as bk;
use crate::domain::engine::target::Target;
use crate::domain::engine::{cloud_diag, Engine};
use crate::domain::types::ClusterRef;

/// What happened to one group left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Swept {
    pub group_id: String,
    pub name: String,
    pub vpc_id: String,
    /// None when deleted (or, in a dry run, when it would be); else why not.
    pub error: Option<String>,
}

impl std::fmt::Display for Swept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            None => write!(f, "{} ({}, {})", self.group_id, self.name, self.vpc_id),
            Some(e) => write!(
                f,
                "{} ({}, {}): not deleted: {e}",
                self.group_id, self.name, self.vpc_id
            ),
        }
    }
}

impl Engine {
    /// The groups with an expired creation marker (in `vpc`, when given).
    pub async fn abandoned(&self, vpc: Option<&str>) -> Result<Vec<Group>, Diagnostic> {
        let filter = GroupFilter {
            vpc_id: vpc.map(str::to_string),
            names: Vec::new(),
            tags: vec![(bk::CREATING.to_string(), None)],
        };
        let groups = self
            .cloud
            .find_security_groups(&filter)
            .await
            .map_err(|e| cloud_diag("find groups of unfinished creates", &e))?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut out: Vec<Group> = groups
            .into_iter()
            .filter(|g| {
                g.tags
                    .get(bk::CREATING)
                    .is_some_and(|m| bk::marker_expired(m, now))
            })
            .collect();
        // Cluster groups first: their rules name the client groups.
        out.sort_by_key(|g| {
            (
                g.tags.get(bk::ROLE).map(String::as_str) != Some(bk::ROLE_CLUSTER),
                g.id.clone(),
            )
        });
        Ok(out)
    }

    /// Deletes the groups of unfinished creates (in `vpc`, when given); with `dry_run`, only lists them.
    pub async fn sweep(&self, vpc: Option<&str>, dry_run: bool) -> Result<Vec<Swept>, Diagnostic> {
        let mut out = Vec::new();
        for g in self.abandoned(vpc).await? {
            let error = if dry_run {
                None
            } else {
                self.sweep_group(&g).await.err().map(|d| d.detail)
            };
            out.push(Swept {
                group_id: g.id,
                name: g.name,
                vpc_id: g.vpc_id,
                error,
            });
        }
        Ok(out)
    }

    async fn sweep_group(&self, g: &Group) -> Result<(), Diagnostic> {
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        if let Some(c) = g
            .tags
            .get(bk::CLUSTER)
            .and_then(|c| ClusterRef::from_tag(c))
        {
            self.detach(&c, &g.id, deadline).await?;
        }
        self.delete_group(&g.id, &g.vpc_id, deadline, Op::Delete)
            .await
    }

    /// Before a create with a generated name: sweeps the VPC's groups of unfinished creates, so that
    /// nothing an earlier, interrupted run made stays behind. Returns a warning naming each group
    /// found (deleted, or why not); failing to look is a warning too, never fatal.
    pub(crate) async fn sweep_before_create(&self, t: &Target) -> Vec<Diagnostic> {
        match self.sweep(Some(&t.vpc), false).await {
            Ok(swept) => swept
                .into_iter()
                .map(|s| {
                    tracing::warn!(group = %s.group_id, "security group left by an unfinished create: {s}");
                    let (summary, what) = match &s.error {
                        None => ("Deleted a security group left by an unfinished create", "was deleted"),
                        Some(_) => ("Could not delete a security group left by an unfinished create", "is still there; run `terraform-provider-elasticache sweep` or delete it by hand"),
                    };
                    Diagnostic::warning(
                        AttrPath::root(),
                        summary,
                        format!("{s}: a create that never finished (its answer lost, or its provider stopped) made it and its creation marker expired; it {what}."),
                    )
                })
                .collect(),
            Err(d) => {
                tracing::warn!("could not look for groups of unfinished creates: {d}");
                vec![Diagnostic::warning(
                    AttrPath::root(),
                    "Could not look for security groups of unfinished creates",
                    d.detail,
                )]
            }
        }
    }
}
