//! The ElastiCache half of the AWS implementation: what a cluster is (VPC, port, endpoint, status,
//! members) and which security groups it uses.

use aws_sdk_elasticache::types::CacheCluster;
use tracing::debug;

use crate::aws::errors::{cloud_error, is_denied_or_not_offered, not_found};
use crate::aws::members::{cache_cluster_groups, subnet_facts};
use crate::aws::Aws;
use crate::domain::cloud::{
    CloudError, ClusterGroups, ClusterInfo, ClusterKind, ClusterRef, ClustersUsing, Posture,
};
use crate::domain::declaration::model::{DEFAULT_PORT, MEMCACHED_PORT};
use crate::domain::declaration::reach::authentication;

/// Page size for DescribeCacheClusters without a cluster id (the API's maximum is 100).
const CACHE_CLUSTER_PAGE: i32 = 100;

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn port_of(port: Option<i32>) -> Option<u16> {
    port.and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0)
}

fn engine_default_port(engine: Option<&str>) -> u16 {
    match engine.map(str::to_ascii_lowercase).as_deref() {
        Some("memcached") => MEMCACHED_PORT,
        _ => DEFAULT_PORT,
    }
}

fn endpoint_text(address: Option<&str>, port: Option<u16>) -> Option<String> {
    let address = address.filter(|a| !a.is_empty())?;
    Some(match port {
        Some(p) => format!("{address}:{p}"),
        None => address.to_string(),
    })
}

impl Aws {
    /// DescribeCacheClusters for one cluster.
    pub(crate) async fn describe_cache_cluster(
        &self,
        id: &str,
        node_info: bool,
    ) -> Result<CacheCluster, CloudError> {
        debug!(
            operation = "DescribeCacheClusters",
            cache_cluster_id = id,
            "AWS call"
        );
        let out = self
            .elasticache
            .describe_cache_clusters()
            .cache_cluster_id(id)
            .set_show_cache_node_info(node_info.then_some(true))
            .send()
            .await
            .map_err(|e| cloud_error("DescribeCacheClusters", e))?;
        out.cache_clusters().first().cloned().ok_or_else(|| {
            not_found(
                "CacheClusterNotFound",
                format!("cache cluster {id} not found"),
            )
        })
    }

    /// DescribeCacheClusters without an id, every page.
    async fn all_cache_clusters(
        &self,
        mut keep: impl FnMut(&CacheCluster),
    ) -> Result<(), CloudError> {
        let mut marker: Option<String> = None;
        loop {
            debug!(
                operation = "DescribeCacheClusters",
                page = marker.is_some(),
                "AWS call"
            );
            let out = self
                .elasticache
                .describe_cache_clusters()
                .max_records(CACHE_CLUSTER_PAGE)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeCacheClusters", e))?;
            out.cache_clusters().iter().for_each(&mut keep);
            match out.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => return Ok(()),
            }
        }
    }

    /// DescribeCacheSubnetGroups: the VPC of a cache subnet group and its subnets.
    pub(crate) async fn subnet_group_vpc(
        &self,
        name: &str,
    ) -> Result<(Option<String>, Vec<String>), CloudError> {
        // Read each time, not kept for the process: a subnet group may be deleted and made again
        // under its name in another VPC (a program moving its cache), and its subnets change with
        // ModifyCacheSubnetGroup; a long-lived Pulumi plugin would plan from the old VPC.
        debug!(
            operation = "DescribeCacheSubnetGroups",
            cache_subnet_group_name = name,
            "AWS call"
        );
        let out = self
            .elasticache
            .describe_cache_subnet_groups()
            .cache_subnet_group_name(name)
            .send()
            .await
            .map_err(|e| cloud_error("DescribeCacheSubnetGroups", e))?;
        Ok(out
            .cache_subnet_groups()
            .first()
            .map(subnet_facts)
            .unwrap_or_default())
    }

    async fn describe_replication_group(&self, id: &str) -> Result<ClusterInfo, CloudError> {
        let (rg, (early, early_subnets)) =
            tokio::join!(self.replication_group(id), self.early_reads(id));
        let rg = rg?;
        let endpoint = rg.configuration_endpoint().or_else(|| {
            rg.node_groups()
                .first()
                .and_then(|ng| ng.primary_endpoint())
        });
        let (member_groups, (vpc_id, subnet_ids), iam) = self
            .after_replication_group(id, &rg, early, early_subnets)
            .await?;
        let first = member_groups.first().map(|(_, _, cc)| cc);
        let engine = first
            .and_then(|cc| cc.engine())
            .or(rg.engine())
            .map(str::to_string);
        let security_group_ids = member_groups
            .first()
            .map(|(_, g, _)| g.clone())
            .unwrap_or_default();
        let posture = Posture {
            transit_encryption: rg.transit_encryption_enabled(),
            authentication: Some(
                authentication(
                    iam,
                    !rg.user_group_ids().is_empty(),
                    rg.auth_token_enabled().unwrap_or(false),
                )
                .to_string(),
            ),
            subnet_ids,
        };
        let port = endpoint
            .and_then(|e| port_of(e.port()))
            .unwrap_or_else(|| engine_default_port(engine.as_deref()));
        Ok(ClusterInfo {
            kind: ClusterKind::ReplicationGroup,
            id: id.to_string(),
            vpc_id,
            port: Some(port),
            endpoint: endpoint_text(endpoint.and_then(|e| e.address()), Some(port)),
            engine,
            security_group_ids,
            status: rg.status().unwrap_or_default().to_string(),
            members: rg.member_clusters().to_vec(),
            replication_group_id: None,
            member_groups: member_groups.into_iter().map(|(m, g, _)| (m, g)).collect(),
            posture,
        })
    }

    async fn describe_single_cache_cluster(&self, id: &str) -> Result<ClusterInfo, CloudError> {
        let (cc, census) = tokio::join!(
            self.describe_cache_cluster(id, true),
            self.census_if_first()
        );
        let cc = cc?;
        let endpoint = cc
            .configuration_endpoint()
            .or_else(|| cc.cache_nodes().first().and_then(|n| n.endpoint()));
        let engine = cc.engine().map(str::to_string);
        let port = endpoint
            .and_then(|e| port_of(e.port()))
            .unwrap_or_else(|| engine_default_port(engine.as_deref()));
        let (vpc_id, subnet_ids) = match non_empty(cc.cache_subnet_group_name()) {
            Some(name) => match census.and_then(|c| c.subnet_group(name)) {
                Some(facts) => facts,
                None => self.subnet_group_vpc(name).await?,
            },
            None => (None, Vec::new()),
        };
        let posture = Posture {
            transit_encryption: cc.transit_encryption_enabled(),
            authentication: Some(
                authentication(false, false, cc.auth_token_enabled().unwrap_or(false)).to_string(),
            ),
            subnet_ids,
        };
        Ok(ClusterInfo {
            kind: ClusterKind::CacheCluster,
            id: id.to_string(),
            vpc_id,
            port: Some(port),
            endpoint: endpoint_text(endpoint.and_then(|e| e.address()), Some(port)),
            engine,
            security_group_ids: cache_cluster_groups(&cc),
            status: cc.cache_cluster_status().unwrap_or_default().to_string(),
            members: Vec::new(),
            replication_group_id: non_empty(cc.replication_group_id()).map(str::to_string),
            member_groups: vec![(id.to_string(), cache_cluster_groups(&cc))],
            posture,
        })
    }

    async fn describe_serverless_cache(
        &self,
        name: &str,
    ) -> Result<aws_sdk_elasticache::types::ServerlessCache, CloudError> {
        debug!(
            operation = "DescribeServerlessCaches",
            serverless_cache_name = name,
            "AWS call"
        );
        let out = self
            .elasticache
            .describe_serverless_caches()
            .serverless_cache_name(name)
            .send()
            .await
            .map_err(|e| cloud_error("DescribeServerlessCaches", e))?;
        out.serverless_caches().first().cloned().ok_or_else(|| {
            not_found(
                "ServerlessCacheNotFoundFault",
                format!("serverless cache {name} not found"),
            )
        })
    }

    async fn describe_serverless(&self, name: &str) -> Result<ClusterInfo, CloudError> {
        let sc = self.describe_serverless_cache(name).await?;
        let engine = sc.engine().map(str::to_string);
        let endpoint = sc.endpoint();
        let port = endpoint
            .and_then(|e| port_of(e.port()))
            .unwrap_or_else(|| engine_default_port(engine.as_deref()));
        let vpc_id = match sc.subnet_ids().first() {
            Some(subnet) => {
                debug!(operation = "DescribeSubnets", subnet_id = %subnet, "AWS call");
                let out = self
                    .ec2
                    .describe_subnets()
                    .subnet_ids(subnet)
                    .send()
                    .await
                    .map_err(|e| cloud_error("DescribeSubnets", e))?;
                out.subnets()
                    .first()
                    .and_then(|s| s.vpc_id())
                    .map(str::to_string)
            }
            None => None,
        };
        let user_groups: Vec<String> = non_empty(sc.user_group_id())
            .map(str::to_string)
            .into_iter()
            .collect();
        Ok(ClusterInfo {
            kind: ClusterKind::Serverless,
            id: name.to_string(),
            vpc_id,
            port: Some(port),
            endpoint: endpoint_text(endpoint.and_then(|e| e.address()), Some(port)),
            engine,
            security_group_ids: sc.security_group_ids().to_vec(),
            status: sc.status().unwrap_or_default().to_string(),
            members: Vec::new(),
            replication_group_id: None,
            member_groups: vec![(name.to_string(), sc.security_group_ids().to_vec())],
            // A serverless cache always encrypts in transit; a user group is its only
            // authentication (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption.html).
            posture: Posture {
                transit_encryption: Some(true),
                authentication: Some(
                    authentication(
                        self.user_groups_use_iam(&user_groups).await,
                        !user_groups.is_empty(),
                        false,
                    )
                    .to_string(),
                ),
                subnet_ids: sc.subnet_ids().to_vec(),
            },
        })
    }

    pub(crate) async fn ec_describe_cluster(
        &self,
        cluster: &ClusterRef,
    ) -> Result<ClusterInfo, CloudError> {
        match cluster {
            ClusterRef::ReplicationGroup(id) => self.describe_replication_group(id).await,
            ClusterRef::CacheCluster(id) => self.describe_single_cache_cluster(id).await,
            ClusterRef::Serverless(name) => self.describe_serverless(name).await,
        }
    }

    /// The cluster's groups member by member: the replication group (its status and members), then
    /// each member by id; never a page through the Region.
    pub(crate) async fn ec_cluster_groups(
        &self,
        cluster: &ClusterRef,
    ) -> Result<ClusterGroups, CloudError> {
        match cluster {
            ClusterRef::ReplicationGroup(id) => self.replication_group_groups(id).await,
            ClusterRef::CacheCluster(id) => {
                let cc = self.describe_cache_cluster(id, false).await?;
                Ok(ClusterGroups {
                    status: cc.cache_cluster_status().unwrap_or_default().to_string(),
                    members: vec![(id.clone(), cache_cluster_groups(&cc))],
                })
            }
            ClusterRef::Serverless(name) => {
                let sc = self.describe_serverless_cache(name).await?;
                Ok(ClusterGroups {
                    status: sc.status().unwrap_or_default().to_string(),
                    members: vec![(name.clone(), sc.security_group_ids().to_vec())],
                })
            }
        }
    }

    /// DescribeReplicationGroups of one group.
    pub(crate) async fn replication_group(
        &self,
        id: &str,
    ) -> Result<aws_sdk_elasticache::types::ReplicationGroup, CloudError> {
        debug!(operation = "DescribeReplicationGroups", replication_group_id = %id, "AWS call");
        let out = self
            .elasticache
            .describe_replication_groups()
            .replication_group_id(id)
            .send()
            .await
            .map_err(|e| cloud_error("DescribeReplicationGroups", e))?;
        out.replication_groups().first().cloned().ok_or_else(|| {
            not_found(
                "ReplicationGroupNotFoundFault",
                format!("replication group {id} not found"),
            )
        })
    }

    /// The clusters of the Region that use `group_id` (every page of DescribeCacheClusters, and of
    /// DescribeServerlessCaches).
    pub(crate) async fn clusters_using_group(
        &self,
        group_id: &str,
    ) -> Result<ClustersUsing, CloudError> {
        let mut found = ClustersUsing::default();
        let mut out: Vec<ClusterRef> = Vec::new();
        let listed = self
            .all_cache_clusters(|c| {
                if c.security_groups()
                    .iter()
                    .any(|m| m.security_group_id() == Some(group_id))
                {
                    let r = match (c.replication_group_id(), c.cache_cluster_id()) {
                        (Some(rg), _) => Some(ClusterRef::ReplicationGroup(rg.to_string())),
                        (None, Some(id)) => Some(ClusterRef::CacheCluster(id.to_string())),
                        _ => None,
                    };
                    if let Some(r) = r.filter(|r| !out.contains(r)) {
                        out.push(r);
                    }
                }
            })
            .await;
        skip_unlisted(listed, "cache clusters and replication groups", &mut found)?;
        found.clusters = out;
        let serverless = self.serverless_using(group_id).await;
        match serverless {
            Ok(s) => found.clusters.extend(s),
            Err(e) => skip_unlisted(Err(e), "serverless caches", &mut found)?,
        }
        Ok(found)
    }

    /// DescribeServerlessCaches, every page: the serverless caches that use `group_id`.
    async fn serverless_using(&self, group_id: &str) -> Result<Vec<ClusterRef>, CloudError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            debug!(
                operation = "DescribeServerlessCaches",
                page = token.is_some(),
                "AWS call"
            );
            let page = self
                .elasticache
                .describe_serverless_caches()
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeServerlessCaches", e))?;
            for sc in page.serverless_caches() {
                if sc.security_group_ids().iter().any(|g| g == group_id) {
                    out.extend(
                        sc.serverless_cache_name()
                            .map(|n| ClusterRef::Serverless(n.to_string())),
                    );
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// Writes the cluster's security groups in one attempt: the SDK never resends the list, which
    /// another process may have changed meanwhile; the engine re-reads the groups before it tries
    /// again (see `domain::engine::attach`).
    pub(crate) async fn ec_set_cluster_security_groups(
        &self,
        cluster: &ClusterRef,
        group_ids: &[String],
    ) -> Result<(), CloudError> {
        let groups = Some(group_ids.to_vec());
        match cluster {
            ClusterRef::ReplicationGroup(id) => {
                debug!(operation = "ModifyReplicationGroup", replication_group_id = id, security_group_ids = ?group_ids, "AWS call");
                self.elasticache
                    .modify_replication_group()
                    .replication_group_id(id)
                    .set_security_group_ids(groups)
                    .apply_immediately(true)
                    .customize()
                    .config_override(once())
                    .send()
                    .await
                    .map_err(|e| cloud_error("ModifyReplicationGroup", e))?;
            }
            ClusterRef::CacheCluster(id) => {
                debug!(operation = "ModifyCacheCluster", cache_cluster_id = id, security_group_ids = ?group_ids, "AWS call");
                self.elasticache
                    .modify_cache_cluster()
                    .cache_cluster_id(id)
                    .set_security_group_ids(groups)
                    .apply_immediately(true)
                    .customize()
                    .config_override(once())
                    .send()
                    .await
                    .map_err(|e| cloud_error("ModifyCacheCluster", e))?;
            }
            ClusterRef::Serverless(name) => {
                debug!(operation = "ModifyServerlessCache", serverless_cache_name = name, security_group_ids = ?group_ids, "AWS call");
                self.elasticache
                    .modify_serverless_cache()
                    .serverless_cache_name(name)
                    .set_security_group_ids(groups)
                    .customize()
                    .config_override(once())
                    .send()
                    .await
                    .map_err(|e| cloud_error("ModifyServerlessCache", e))?;
            }
        }
        Ok(())
    }
}

/// A configuration override with the SDK's retries off, for calls whose retry must be decided anew.
fn once() -> aws_sdk_elasticache::config::Builder {
    aws_sdk_elasticache::config::Builder::default()
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
}

/// A kind of cluster the caller may not list, or the Region does not offer, is skipped and named;
/// any other failure stops the search.
fn skip_unlisted(
    listed: Result<(), CloudError>,
    kind: &str,
    found: &mut ClustersUsing,
) -> Result<(), CloudError> {
    match listed {
        Ok(()) => Ok(()),
        Err(e) if is_denied_or_not_offered(&e) => {
            debug!(kind, code = e.code(), "cluster kind skipped");
            found.skipped.push(format!("{kind} ({e})"));
            Ok(())
        }
        Err(e) => Err(e),
    }
}
