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
use aws_smithy_mocks::{mock, Rule as MockRule};

/// Issue 23: a process that knows nothing of a replication group and has no census (here its page
/// reads fail: the catch-all "not found" of `aws()`) reads, beside it, its first
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

fn member_of(id: &str, rg: &str, subnets: &str) -> CacheCluster {
    CacheCluster::builder()
        .cache_cluster_id(id)
        .replication_group_id(rg)
        .cache_subnet_group_name(subnets)
        .security_groups(
            SecurityGroupMembership::builder()
                .security_group_id("sg-a")
                .build(),
        )
        .build()
}

fn replication_group_rule(id: &'static str, members: &'static [&'static str]) -> MockRule {
    mock!(aws_sdk_elasticache::Client::describe_replication_groups)
        .match_requests(move |r| r.replication_group_id() == Some(id))
        .then_output(move || {
            let mut rg = ReplicationGroup::builder().replication_group_id(id);
            for m in members {
                rg = rg.member_clusters(*m);
            }
            DescribeReplicationGroupsOutput::builder()
                .replication_groups(rg.build())
                .build()
        })
}

/// Issue 23: the first describe of a process reads one page of the Region's clusters and subnet
/// groups beside the replication group (the census) and takes every member and the subnet group
/// from it: one round trip where two were, with nothing read by id or by name. A second
/// replication group described later is not read from that page again (no second census): its
/// members and subnet group, named by the page, are read by id beside it; a third, not on the page,
/// is read after it as before.
#[tokio::test]
async fn the_census_answers_the_first_describe_and_seeds_the_later_ones() {
    let rg1 = replication_group_rule("rg-1", &["rg-1-001", "rg-1-002", "rg-1-003"]);
    let rg2 = replication_group_rule("rg-2", &["rg-2-001"]);
    let rg3 = replication_group_rule("rg-3", &["rg-3-001"]);
    let page = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| r.cache_cluster_id().is_none() && r.max_records() == Some(100))
        .then_output(|| {
            DescribeCacheClustersOutput::builder()
                .cache_clusters(member_of("rg-1-001", "rg-1", "subnets-1"))
                .cache_clusters(member_of("rg-1-002", "rg-1", "subnets-1"))
                .cache_clusters(member_of("rg-1-003", "rg-1", "subnets-1"))
                .cache_clusters(member_of("rg-2-001", "rg-2", "subnets-2"))
                .build()
        });
    let subnet = |name: &str, vpc: &str| {
        CacheSubnetGroup::builder()
            .cache_subnet_group_name(name)
            .vpc_id(vpc)
            .build()
    };
    let subnet_page = mock!(aws_sdk_elasticache::Client::describe_cache_subnet_groups)
        .match_requests(|r| r.cache_subnet_group_name().is_none() && r.max_records() == Some(100))
        .then_output(move || {
            DescribeCacheSubnetGroupsOutput::builder()
                .cache_subnet_groups(subnet("subnets-1", "vpc-1"))
                .cache_subnet_groups(subnet("subnets-2", "vpc-2"))
                .build()
        });
    let by_id = |id: &'static str, rg: &'static str, subnets: &'static str| {
        mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
            .match_requests(move |r| r.cache_cluster_id() == Some(id))
            .then_output(move || {
                DescribeCacheClustersOutput::builder()
                    .cache_clusters(member_of(id, rg, subnets))
                    .build()
            })
    };
    let (m1, m2, m3) = (
        by_id("rg-1-001", "rg-1", "subnets-1"),
        by_id("rg-2-001", "rg-2", "subnets-2"),
        by_id("rg-3-001", "rg-3", "subnets-3"),
    );
    let by_name = |name: &'static str, vpc: &'static str| {
        mock!(aws_sdk_elasticache::Client::describe_cache_subnet_groups)
            .match_requests(move |r| r.cache_subnet_group_name() == Some(name))
            .then_output(move || {
                DescribeCacheSubnetGroupsOutput::builder()
                    .cache_subnet_groups(subnet(name, vpc))
                    .build()
            })
    };
    let (s2, s3) = (by_name("subnets-2", "vpc-2"), by_name("subnets-3", "vpc-3"));
    let rules = [
        &rg1,
        &rg2,
        &rg3,
        &page,
        &subnet_page,
        &m1,
        &m2,
        &m3,
        &s2,
        &s3,
    ];
    let aws = aws(&[], &rules);
    let info = aws.describe_cluster(&rg_ref("rg-1")).await.unwrap();
    assert_eq!(info.member_groups.len(), 3);
    assert_eq!(info.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(
        (page.num_calls(), subnet_page.num_calls(), m1.num_calls()),
        (1, 1, 0),
        "the first describe is answered by the census alone"
    );
    let info = aws.describe_cluster(&rg_ref("rg-2")).await.unwrap();
    assert_eq!(info.vpc_id.as_deref(), Some("vpc-2"));
    assert_eq!(
        (page.num_calls(), m2.num_calls(), s2.num_calls()),
        (1, 1, 1),
        "a later describe reads what the census named by id, beside the group"
    );
    let info = aws.describe_cluster(&rg_ref("rg-3")).await.unwrap();
    assert_eq!(info.vpc_id.as_deref(), Some("vpc-3"));
    assert_eq!(
        (page.num_calls(), subnet_page.num_calls(), m3.num_calls()),
        (1, 1, 1),
        "never a second census"
    );
}

/// A single cache cluster (Memcached) described first in a process takes its subnet group from
/// the census's page: the cluster and its VPC in one round trip, nothing read by name.
#[tokio::test]
async fn a_single_cache_cluster_takes_its_subnet_group_from_the_census() {
    let cluster = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| r.cache_cluster_id() == Some("mc-1"))
        .then_output(|| {
            DescribeCacheClustersOutput::builder()
                .cache_clusters(
                    CacheCluster::builder()
                        .cache_cluster_id("mc-1")
                        .engine("memcached")
                        .cache_subnet_group_name("subnets-m")
                        .build(),
                )
                .build()
        });
    let page = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| r.cache_cluster_id().is_none())
        .then_output(|| DescribeCacheClustersOutput::builder().build());
    let subnet_page = mock!(aws_sdk_elasticache::Client::describe_cache_subnet_groups)
        .match_requests(|r| r.cache_subnet_group_name().is_none())
        .then_output(|| {
            DescribeCacheSubnetGroupsOutput::builder()
                .cache_subnet_groups(
                    CacheSubnetGroup::builder()
                        .cache_subnet_group_name("subnets-m")
                        .vpc_id("vpc-m")
                        .build(),
                )
                .build()
        });
    let aws = aws(&[], &[&cluster, &page, &subnet_page]);
    let info = aws
        .describe_cluster(&ClusterRef::CacheCluster("mc-1".into()))
        .await
        .unwrap();
    assert_eq!(info.vpc_id.as_deref(), Some("vpc-m"));
    assert_eq!((cluster.num_calls(), subnet_page.num_calls()), (1, 1));
}
