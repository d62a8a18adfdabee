//! Groups left behind by creates that never finished (the provider killed, the run cancelled, an
//! answer lost), swept by the next create with a generated name in the VPC and by the `sweep`
//! command of both binaries. A group is swept only with the full proof (see `super::ownership`
//! and [`super::lease`]): made by this provider (name, description, tags, creation token), under a
//! lease that expired by AWS's clock past its grace; a client group only when its cluster group is
//! gone or swept with it. The `sweep` command also deletes client groups whose access is gone (their
//! cluster group was deleted by hand). Right before a delete the group is read again, and left
//! alone if anything changed since it was judged. Nothing else is touched: a group with a copied
//! tag, or a marker of release 0.2, is only reported.

use std::collections::BTreeSet;

use tokio::time::Instant;

use crate::domain::cloud::{AwsTime, Group, GroupFilter};
use crate::domain::declaration::desired::Op;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::engine::bookkeeping as bk;
use crate::domain::engine::lease::Creation;
use crate::domain::engine::ownership::{format_unix, unproven};
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

/// A marked group the sweep leaves alone, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Untouched {
    pub group_id: String,
    pub name: String,
    pub why: String,
}

/// What a sweep found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub swept: Vec<Swept>,
    pub untouched: Vec<Untouched>,
}

/// A group judged abandoned, with what it looked like then.
struct Candidate {
    group: Group,
}

fn untouched(g: &Group, why: String) -> Untouched {
    Untouched {
        group_id: g.id.clone(),
        name: g.name.clone(),
        why,
    }
}

impl Engine {
    /// Judges the groups with a creation lease (in `vpc`, when given): the provably abandoned
    /// ones, cluster groups first, and the others with the reason they stay.
    async fn judge(
        &self,
        vpc: Option<&str>,
    ) -> Result<(Vec<Candidate>, Vec<Untouched>), Diagnostic> {
        let filter = GroupFilter {
            vpc_id: vpc.map(str::to_string),
            names: Vec::new(),
            tags: vec![(bk::CREATING.to_string(), None)],
        };
        let find = || self.cloud.find_security_groups(&filter);
        let groups = find()
            .await
            .map_err(|e| cloud_diag("find groups of unfinished creates", &e))?;
        let now = self.clock();
        let (mut out, mut left) = (Vec::new(), Vec::new());
        for g in groups {
            match self.abandonment(&g, now) {
                Ok(()) => out.push(Candidate { group: g }),
                Err(Some(why)) => left.push(untouched(&g, why)),
                Err(None) => {}
            }
        }
        self.keep_clients_of_live_accesses(&mut out, &mut left)
            .await?;
        out.sort_by_key(|c| {
            (
                c.group.tags.get(bk::ROLE).map(String::as_str) != Some(bk::ROLE_CLUSTER),
                c.group.id.clone(),
            )
        });
        Ok((out, left))
    }

    /// Ok when `g` is provably abandoned at `now`; else why not (None: nothing worth reporting).
    fn abandonment(&self, g: &Group, now: AwsTime) -> Result<(), Option<String>> {
        let lease = match Creation::of(g) {
            Creation::Done => return Err(None),
            Creation::Legacy(m) => return Err(Some(format!("it carries a creation marker of release 0.2 ({m}), which proves neither that this provider made it nor that its create is gone; delete it by hand if it is an orphan, or import it"))),
            Creation::Leased(l) => l,
        };
        let role = g.tags.get(bk::ROLE).map(String::as_str).unwrap_or_default();
        if role != bk::ROLE_CLUSTER && role != bk::ROLE_CLIENTS {
            return Err(Some(
                "it carries a creation lease but no elasticache-access:role tag".into(),
            ));
        }
        if let Some(why) = unproven(g, role) {
            return Err(Some(format!("it carries a creation lease, but {why}")));
        }
        if !g.tags.contains_key(bk::ORIGIN) {
            return Err(Some(
                "it carries a creation lease but no creation token".into(),
            ));
        }
        if !lease.expired(now, self.timing.grace) {
            return Err(Some(format!(
                "a create may still be running: its lease runs until {} (AWS's clock)",
                format_unix(lease.expires)
            )));
        }
        Ok(())
    }

    /// Client groups whose cluster group still exists and is not being swept with them stay.
    async fn keep_clients_of_live_accesses(
        &self,
        out: &mut Vec<Candidate>,
        left: &mut Vec<Untouched>,
    ) -> Result<(), Diagnostic> {
        let swept: BTreeSet<String> = out.iter().map(|c| c.group.id.clone()).collect();
        let wanted: Vec<String> = out
            .iter()
            .filter_map(|c| c.group.tags.get(bk::ACCESS))
            .filter(|a| !swept.contains(*a))
            .cloned()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let alive = self
            .cloud
            .describe_security_groups(&wanted)
            .await
            .map_err(|e| cloud_diag("read the cluster groups of the client groups", &e))?;
        out.retain(|c| match c.group.tags.get(bk::ACCESS) {
            Some(a) if alive.iter().any(|g| &g.id == a) => {
                left.push(untouched(
                    &c.group,
                    format!("its cluster group {a} exists and is not abandoned"),
                ));
                false
            }
            _ => true,
        });
        Ok(())
    }

    /// Client groups this provider made whose access is gone: their cluster group was deleted, and
    /// no lease holds them (the `sweep` command only).
    async fn orphaned_clients(&self, vpc: Option<&str>) -> Result<Vec<Candidate>, Diagnostic> {
        let filter = GroupFilter {
            vpc_id: vpc.map(str::to_string),
            names: Vec::new(),
            tags: vec![(bk::ROLE.to_string(), Some(bk::ROLE_CLIENTS.to_string()))],
        };
        let clients: Vec<Group> = self
            .cloud
            .find_security_groups(&filter)
            .await
            .map_err(|e| cloud_diag("find the client groups", &e))?
            .into_iter()
            .filter(|g| {
                matches!(Creation::of(g), Creation::Done) && unproven(g, bk::ROLE_CLIENTS).is_none()
            })
            .collect();
        let access: BTreeSet<String> = clients
            .iter()
            .filter_map(|g| g.tags.get(bk::ACCESS).cloned())
            .collect();
        if access.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = access.into_iter().collect();
        let alive = self
            .cloud
            .describe_security_groups(&ids)
            .await
            .map_err(|e| cloud_diag("read the client groups' cluster groups", &e))?;
        Ok(clients
            .into_iter()
            .filter(|g| {
                g.tags
                    .get(bk::ACCESS)
                    .is_some_and(|a| !alive.iter().any(|x| &x.id == a))
            })
            .map(|group| Candidate { group })
            .collect())
    }

    /// Deletes the groups of abandoned creates (in `vpc`, when given), and with `orphans` the
    /// client groups whose access is gone; with `dry_run`, only lists them.
    pub async fn sweep(
        &self,
        vpc: Option<&str>,
        dry_run: bool,
        orphans: bool,
    ) -> Result<SweepReport, Diagnostic> {
        let (mut found, untouched) = self.judge(vpc).await?;
        if orphans {
            found.extend(self.orphaned_clients(vpc).await?);
        }
        let mut swept = Vec::new();
        for c in found {
            let error = if dry_run {
                None
            } else {
                self.sweep_group(&c).await.err()
            };
            let g = c.group;
            swept.push(Swept {
                group_id: g.id,
                name: g.name,
                vpc_id: g.vpc_id,
                error,
            });
        }
        Ok(SweepReport { swept, untouched })
    }

    async fn sweep_group(&self, c: &Candidate) -> Result<(), String> {
        let g = &c.group;
        let deadline = Instant::now() + std::time::Duration::from_secs(120);
        let now = self
            .cloud
            .describe_security_groups(std::slice::from_ref(&g.id))
            .await
            .map_err(|e| e.to_string())?;
        let Some(now) = now.into_iter().find(|x| x.id == g.id) else {
            return Ok(());
        };
        if Creation::of(&now) != Creation::of(g)
            || now.tags.get(bk::ACCESS) != g.tags.get(bk::ACCESS)
        {
            return Err("it changed since it was judged abandoned (a create took it over, or a state recorded it)".into());
        }
        if let Some(cluster) = g
            .tags
            .get(bk::CLUSTER)
            .and_then(|t| ClusterRef::from_tag(t))
        {
            self.detach(&cluster, &g.id, deadline)
                .await
                .map_err(|d| d.detail)?;
        }
        self.delete_group(&g.id, &g.vpc_id, deadline, Op::Delete)
            .await
            .map_err(|d| d.detail)
    }

    /// Before a create with a generated name: sweeps the VPC's groups of abandoned creates, so
    /// that nothing an earlier, interrupted run made stays behind. Returns a warning naming each
    /// group swept (deleted, or why not); failing to look is a warning too, never fatal.
    pub(crate) async fn sweep_before_create(&self, t: &Target) -> Vec<Diagnostic> {
        match self.sweep(Some(&t.vpc), false, false).await {
            Ok(r) => r
                .swept
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
                        format!("{s}: a create that never finished (its answer lost, or its provider stopped) made it, and its creation lease expired by AWS's clock; it {what}."),
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
