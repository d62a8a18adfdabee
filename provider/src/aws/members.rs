//! A replication group's members, each read by id (beyond the one page of `census.rs`, never a
//! page through the Region's clusters).
//!
//! A describe of a replication group names its members (`MemberClusters`) but not their security
//! groups nor their subnet group, so the members are read after it. To spare that round trip, the
//! members a process expects are read beside the replication group: those it knows (seen last, or
//! learned from the access's private state), else the first member under the names ElastiCache
//! gives a group's nodes (`<id>-001` with cluster mode disabled, `<id>-0001-001` with it enabled;
//! <https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Replication.Redis.Groups.html>). Those
//! reads are only hints: a read is kept when the replication group names its id and the answer
//! names the replication group back; what it names that was not read beside it is read after it; a
//! hint that fails, is not found, or names another group is dropped.

use aws_sdk_elasticache::types::{CacheCluster, CacheSubnetGroup, ReplicationGroup};

use crate::aws::Aws;
use crate::domain::cloud::{CloudError, ClusterGroups, ClusterHints};

/// A member read by id: its id, its security groups, the whole answer.
pub(crate) type MemberRead = (String, Vec<String>, CacheCluster);

/// The ids ElastiCache gives the first member of replication group `id`: the primary of a group
/// with cluster mode disabled, and of the first shard of one with it enabled.
pub(crate) fn likely_first_members(id: &str) -> Vec<String> {
    vec![format!("{id}-001"), format!("{id}-0001-001")]
}

pub(crate) fn cache_cluster_groups(c: &CacheCluster) -> Vec<String> {
    c.security_groups()
        .iter()
        .filter_map(|m| m.security_group_id().map(str::to_string))
        .collect()
}

/// A subnet group's VPC and its subnets.
pub(crate) type SubnetFacts = (Option<String>, Vec<String>);

/// A subnet group read beside the replication group (by the name a hint gave, or on the census's
/// page): the name, and the read.
pub(crate) type HintedSubnets = (String, Result<SubnetFacts, CloudError>);

/// A subnet group's VPC and subnets, as its describe tells them.
pub(crate) fn subnet_facts(g: &CacheSubnetGroup) -> SubnetFacts {
    let subnets = g
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier().map(str::to_string))
        .collect();
    (g.vpc_id().map(str::to_string), subnets)
}

fn subnet_group_of(cc: &CacheCluster) -> Option<&str> {
    cc.cache_subnet_group_name()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The hinted reads that `rg` confirms: it names the member, and the member names it.
pub(crate) fn confirmed(rg: &ReplicationGroup, early: Vec<MemberRead>) -> Vec<MemberRead> {
    let members = rg.member_clusters();
    early
        .into_iter()
        .filter(|(m, _, cc)| {
            members.contains(m) && cc.replication_group_id() == rg.replication_group_id()
        })
        .collect()
}

impl Aws {
    /// What this process holds of replication group `id` (seen, or learned).
    pub(crate) fn hints(&self, id: &str) -> Option<ClusterHints> {
        let m = self.members.lock().unwrap_or_else(|p| p.into_inner());
        m.get(id).cloned()
    }

    pub(crate) fn remember(&self, id: &str, f: impl FnOnce(&mut ClusterHints)) {
        let mut m = self.members.lock().unwrap_or_else(|p| p.into_inner());
        f(m.entry(id.to_string()).or_default());
    }

    /// The members of replication group `id` read beside it: those this process knows, else the
    /// likely first member. Each read stands alone: one that fails is left out (a hint).
    pub(crate) async fn hinted_members(&self, id: &str) -> Vec<MemberRead> {
        let hints = self
            .hints(id)
            .map(|h| h.members)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| likely_first_members(id));
        let reads = hints.iter().map(|m| async move {
            let cc = self.describe_cache_cluster(m, false).await.ok()?;
            Some((m.clone(), cache_cluster_groups(&cc), cc))
        });
        futures_util::future::join_all(reads)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// DescribeCacheClusters of each member by id, all at once (one round trip, not one per
    /// member). A member being removed from its group (not found) is left out.
    pub(crate) async fn member_groups(
        &self,
        members: &[String],
    ) -> Result<Vec<MemberRead>, CloudError> {
        let reads = members.iter().map(|m| async move {
            match self.describe_cache_cluster(m, false).await {
                Ok(cc) => Ok(Some((m.clone(), cache_cluster_groups(&cc), cc))),
                Err(CloudError::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        });
        let found = futures_util::future::try_join_all(reads).await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// Every member `rg` names, in its order: those of `early` (reads it confirmed), the others
    /// read now. The members are remembered for the process's next look.
    pub(crate) async fn complete_members(
        &self,
        id: &str,
        rg: &ReplicationGroup,
        early: Vec<MemberRead>,
    ) -> Result<Vec<MemberRead>, CloudError> {
        let members = rg.member_clusters();
        self.remember(id, |h| h.members = members.to_vec());
        let missing: Vec<String> = members
            .iter()
            .filter(|m| !early.iter().any(|(e, _, _)| e == *m))
            .cloned()
            .collect();
        let mut read = self.member_groups(&missing).await?;
        read.extend(early);
        read.sort_by_key(|(m, _, _)| members.iter().position(|x| x == m));
        Ok(read)
    }

    /// The subnet group this process expects replication group `id`'s members to use, read
    /// beside it (a hint, checked by [`Aws::after_replication_group`]).
    pub(crate) async fn hinted_subnet_group(&self, id: &str) -> Option<HintedSubnets> {
        let name = self.hints(id)?.subnet_group?;
        let read = self.subnet_group_vpc(&name).await;
        Some((name, read))
    }

    /// What a describe of replication group `id` reads beside it: the census's page when this
    /// process knows none of its members and has not taken the census yet (`census.rs`), else the
    /// members and subnet group it expects (known, or the likely first members).
    pub(crate) async fn early_reads(&self, id: &str) -> (Vec<MemberRead>, Vec<HintedSubnets>) {
        let known = self.hints(id).is_some_and(|h| !h.members.is_empty());
        if !known {
            if let Some(c) = self.census_if_first().await {
                return (c.members_of(id), c.subnet_groups());
            }
        }
        let (members, subnets) =
            tokio::join!(self.hinted_members(id), self.hinted_subnet_group(id));
        (members, subnets.into_iter().collect())
    }

    /// What a describe of replication group `rg` reads after it, at once: the members not read
    /// beside it, the VPC and subnets of their subnet group (all members share the replication
    /// group's), and whether its user groups use IAM. The subnet group read beside the replication
    /// group (`early_subnets`) counts when the members name it; else the one they name is read
    /// beside the other members when a member read beside the replication group names it, after
    /// them otherwise.
    pub(crate) async fn after_replication_group(
        &self,
        id: &str,
        rg: &ReplicationGroup,
        early: Vec<MemberRead>,
        early_subnets: Vec<HintedSubnets>,
    ) -> Result<(Vec<MemberRead>, SubnetFacts, bool), CloudError> {
        let early = confirmed(rg, early);
        let named = early
            .iter()
            .find_map(|(_, _, cc)| subnet_group_of(cc))
            .map(str::to_string);
        let read_now = named.filter(|m| !early_subnets.iter().any(|(n, _)| n == m));
        let (members, now_read, iam) = tokio::join!(
            self.complete_members(id, rg, early),
            async {
                match &read_now {
                    Some(name) => Some(self.subnet_group_vpc(name).await),
                    None => None,
                }
            },
            self.user_groups_use_iam(rg.user_group_ids()),
        );
        let members = members?;
        let Some(name) = members
            .first()
            .and_then(|(_, _, cc)| subnet_group_of(cc))
            .map(str::to_string)
        else {
            return Ok((members, (None, Vec::new()), iam));
        };
        let early = early_subnets.into_iter().find(|(n, _)| *n == name);
        let vpc = match (early, now_read) {
            (Some((_, read)), _) => read?,
            (None, Some(read)) if read_now.as_deref() == Some(name.as_str()) => read?,
            _ => self.subnet_group_vpc(&name).await?,
        };
        self.remember(id, |h| h.subnet_group = Some(name));
        Ok((members, vpc, iam))
    }

    /// A replication group's status and its members' groups: the members this process expects are
    /// read beside the replication group (one round trip, not two); the others after it.
    pub(crate) async fn replication_group_groups(
        &self,
        id: &str,
    ) -> Result<ClusterGroups, CloudError> {
        let (rg, early) = tokio::join!(self.replication_group(id), self.hinted_members(id));
        let rg = rg?;
        let early = confirmed(&rg, early);
        let groups = self.complete_members(id, &rg, early).await?;
        Ok(ClusterGroups {
            status: rg.status().unwrap_or_default().to_string(),
            members: groups.into_iter().map(|(m, g, _)| (m, g)).collect(),
        })
    }
}
