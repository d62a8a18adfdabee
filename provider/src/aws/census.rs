//! One page of the Region's cache clusters and cache subnet groups, read once per process beside
//! the first describe of a replication group the process knows nothing of (or of a single cache
//! cluster, whose subnet group it then holds).
//!
//! A replication group's describe names its members but neither their security groups nor their
//! subnet group; a member names the subnet group, which names the VPC. Read one after the other
//! that is three round trips, and a plan and an apply's re-plan each start with no hints (a
//! create's private state is empty). One page of DescribeCacheClusters (100 clusters) and one of
//! DescribeCacheSubnetGroups (100 groups), read beside DescribeReplicationGroups, answer all three
//! at once for any account whose clusters fit on a page.
//!
//! Bounds: at most two calls per process, whatever the Region holds (never a walk through the
//! pages); what the page missed is read by id after the replication group, as without it. What the
//! page tells is used as read only by the describes that were waiting for it (read during them);
//! for the process's later describes it only seeds hints (`ClusterHints`: member and subnet group
//! names), each read again by id beside the replication group and checked against it, so a
//! long-lived Pulumi plugin never plans from an old page.

use std::collections::BTreeMap;

use aws_sdk_elasticache::types::CacheCluster;
use tracing::debug;

use crate::aws::errors::cloud_error;
use crate::aws::members::{cache_cluster_groups, subnet_facts, MemberRead, SubnetFacts};
use crate::aws::Aws;
use crate::domain::cloud::{CloudError, ClusterHints};

/// Records per page (the most either describe allows).
const CENSUS_PAGE: i32 = 100;

/// What the page told: the members of each replication group on it, and every subnet group's VPC
/// and subnets.
#[derive(Debug, Default)]
pub(crate) struct Census {
    members: BTreeMap<String, Vec<MemberRead>>,
    subnets: BTreeMap<String, SubnetFacts>,
}

impl Census {
    /// The members of replication group `id` the page held (each still to be confirmed by it).
    pub(crate) fn members_of(&self, id: &str) -> Vec<MemberRead> {
        self.members.get(id).cloned().unwrap_or_default()
    }

    /// Every subnet group the page held, as read.
    pub(crate) fn subnet_groups(&self) -> Vec<(String, Result<SubnetFacts, CloudError>)> {
        self.subnets
            .iter()
            .map(|(n, f)| (n.clone(), Ok(f.clone())))
            .collect()
    }

    /// Subnet group `name`'s facts, when the page held it.
    pub(crate) fn subnet_group(&self, name: &str) -> Option<SubnetFacts> {
        self.subnets.get(name).cloned()
    }

    /// The hints the page gives each replication group on it.
    fn hints(&self) -> impl Iterator<Item = (&String, ClusterHints)> {
        self.members.iter().map(|(rg, ms)| {
            let hints = ClusterHints {
                members: ms.iter().map(|(m, _, _)| m.clone()).collect(),
                subnet_group: ms.iter().find_map(|(_, _, cc)| {
                    cc.cache_subnet_group_name()
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                }),
            };
            (rg, hints)
        })
    }

    fn add_member(&mut self, cc: &CacheCluster) {
        let (Some(rg), Some(id)) = (cc.replication_group_id(), cc.cache_cluster_id()) else {
            return;
        };
        let read = (id.to_string(), cache_cluster_groups(cc), cc.clone());
        self.members.entry(rg.to_string()).or_default().push(read);
    }
}

impl Aws {
    /// The census, when this process has not taken it yet (taken now, or joined while another
    /// describe takes it); None once it was taken, or when its reads failed (each describe then
    /// reads by id, as without it).
    pub(crate) async fn census_if_first(&self) -> Option<&Census> {
        if self.census.initialized() {
            return None;
        }
        self.census
            .get_or_init(|| async {
                let census = self.take_census().await;
                if let Some(c) = &census {
                    for (rg, hints) in c.hints() {
                        if self.hints(rg).is_none() {
                            self.remember(rg, |h| *h = hints);
                        }
                    }
                }
                census
            })
            .await
            .as_ref()
    }

    /// One page of each describe, at once.
    async fn take_census(&self) -> Option<Census> {
        debug!(
            operation = "DescribeCacheClusters",
            max_records = CENSUS_PAGE,
            "AWS call (census)"
        );
        debug!(
            operation = "DescribeCacheSubnetGroups",
            max_records = CENSUS_PAGE,
            "AWS call (census)"
        );
        let (clusters, subnets) = tokio::join!(
            self.elasticache
                .describe_cache_clusters()
                .max_records(CENSUS_PAGE)
                .send(),
            self.elasticache
                .describe_cache_subnet_groups()
                .max_records(CENSUS_PAGE)
                .send()
        );
        let clusters = clusters.map_err(|e| cloud_error("DescribeCacheClusters", e));
        let subnets = subnets.map_err(|e| cloud_error("DescribeCacheSubnetGroups", e));
        let (clusters, subnets) = match (clusters, subnets) {
            (Ok(c), Ok(s)) => (c, s),
            (Err(e), _) | (_, Err(e)) => {
                debug!(error = %e, "census not taken; the describes read by id");
                return None;
            }
        };
        let mut census = Census::default();
        clusters
            .cache_clusters()
            .iter()
            .for_each(|cc| census.add_member(cc));
        for g in subnets.cache_subnet_groups() {
            if let Some(name) = g.cache_subnet_group_name() {
                census.subnets.insert(name.to_string(), subnet_facts(g));
            }
        }
        Some(census)
    }
}
