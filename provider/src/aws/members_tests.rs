//! A replication group's members and subnet group read beside it (`members.rs`), against
//! aws-smithy-mocks.

use super::tests::*;
use super::*;

use aws_sdk_elasticache::operation::describe_cache_clusters::DescribeCacheClustersOutput;
use aws_sdk_elasticache::operation::describe_cache_subnet_groups::DescribeCacheSubnetGroupsOutput;
use aws_sdk_elasticache::operation::describe_replication_groups::DescribeReplicationGroupsOutput;
use aws_sdk_elasticache::types::{
    CacheCluster, CacheSubnetGroup, ReplicationGroup, SecurityGroupMembership,
};
use aws_smithy_mocks::mock;

/// Issue 23: a process that knows nothing of a replication group reads, beside it, its first
/// member under the names ElastiCache gives (`<id>-001`, `<id>-0001-001`): confirmed by the group,
/// it names the subnet group, read beside the other members (two round trips, not three); a
/// guess the group does not name is dropped.
#[tokio::test]
async fn the_first_member_is_read_beside_a_replication_group_no_process_knows() {
    let member = |id: &str, rg: &str| {
        CacheCluster::builder()
            .cache_cluster_id(id)
            .replication_group_id(rg)
            .cache_subnet_group_name("subnets-1")
            .security_groups(
                SecurityGroupMembership::builder()
                    .security_group_id("sg-a")
                    .build(),
            )
            .build()
    };
    let rg = mock!(aws_sdk_elasticache::Client::describe_replication_groups)
        .match_requests(|r| r.replication_group_id() == Some("rg-1"))
        .then_output(|| {
            DescribeReplicationGroupsOutput::builder()
                .replication_groups(
                    ReplicationGroup::builder()
                        .replication_group_id("rg-1")
                        .member_clusters("rg-1-0001-001")
                        .member_clusters("rg-1-0001-002")
                        .build(),
                )
                .build()
        });
    let first = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| r.cache_cluster_id() == Some("rg-1-0001-001"))
        .then_output(move || {
            DescribeCacheClustersOutput::builder()
                .cache_clusters(member("rg-1-0001-001", "rg-1"))
                .build()
        });
    let second = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| r.cache_cluster_id() == Some("rg-1-0001-002"))
        .then_output(move || {
            DescribeCacheClustersOutput::builder()
                .cache_clusters(member("rg-1-0001-002", "rg-1"))
                .build()
        });
    // `rg-1-001` exists but is no member of rg-1 (a cluster of another group): dropped
    let stranger = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| r.cache_cluster_id() == Some("rg-1-001"))
        .then_output(move || {
            DescribeCacheClustersOutput::builder()
                .cache_clusters(member("rg-1-001", "rg-9"))
                .build()
        });
    let sn = mock!(aws_sdk_elasticache::Client::describe_cache_subnet_groups)
        .match_requests(|r| r.cache_subnet_group_name() == Some("subnets-1"))
        .then_output(|| {
            DescribeCacheSubnetGroupsOutput::builder()
                .cache_subnet_groups(
                    CacheSubnetGroup::builder()
                        .cache_subnet_group_name("subnets-1")
                        .vpc_id("vpc-9")
                        .build(),
                )
                .build()
        });
    let aws = aws(&[], &[&rg, &first, &second, &stranger, &sn]);
    let info = aws.describe_cluster(&rg_ref("rg-1")).await.unwrap();
    assert_eq!(
        info.member_groups,
        vec![
            ("rg-1-0001-001".into(), vec!["sg-a".into()]),
            ("rg-1-0001-002".into(), vec!["sg-a".into()]),
        ]
    );
    assert_eq!(info.vpc_id.as_deref(), Some("vpc-9"));
    assert_eq!(
        (
            first.num_calls(),
            second.num_calls(),
            stranger.num_calls(),
            sn.num_calls()
        ),
        (1, 1, 1, 1),
        "each guess read once, beside the replication group; the rest once"
    );
}
