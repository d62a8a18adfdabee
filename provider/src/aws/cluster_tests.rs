//! The ElastiCache side of the AWS implementation against aws-smithy-mocks: describing a cluster of
//! each kind, the members of a replication group, and who holds a security group.

use super::tests::*;
use super::*;
use crate::domain::cloud::{ClusterGroups, ClusterHints, ClusterKind};
use crate::domain::declaration::model::MEMCACHED_PORT;

use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput;
use aws_sdk_elasticache::operation::describe_cache_clusters::DescribeCacheClustersOutput;
use aws_sdk_elasticache::operation::describe_cache_subnet_groups::DescribeCacheSubnetGroupsOutput;
use aws_sdk_elasticache::operation::describe_replication_groups::{
    DescribeReplicationGroupsError, DescribeReplicationGroupsOutput,
};
use aws_sdk_elasticache::types::{
    CacheCluster, CacheSubnetGroup, Endpoint, NodeGroup, ReplicationGroup, SecurityGroupMembership,
};
use aws_smithy_mocks::mock;

#[tokio::test]
async fn describe_cluster_of_a_cache_cluster_and_a_serverless_cache() {
    let cc = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| {
            r.cache_cluster_id() == Some("mc-1") && r.show_cache_node_info() == Some(true)
        })
        .then_output(|| {
            DescribeCacheClustersOutput::builder()
                .cache_clusters(
                    CacheCluster::builder()
                        .cache_cluster_id("mc-1")
                        .engine("memcached")
                        .cache_subnet_group_name("subnets-1")
                        .configuration_endpoint(
                            Endpoint::builder()
                                .address("mc-1.cfg.cache.amazonaws.com")
                                .build(),
                        )
                        .security_groups(
                            SecurityGroupMembership::builder()
                                .security_group_id("sg-m")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    // (by name: the census's page, asked without one, is answered by `aws()`'s catch-all)
    let sn = mock!(aws_sdk_elasticache::Client::describe_cache_subnet_groups)
        .match_requests(|r| r.cache_subnet_group_name() == Some("subnets-1"))
        .then_output(|| {
            DescribeCacheSubnetGroupsOutput::builder()
                .cache_subnet_groups(CacheSubnetGroup::builder().vpc_id("vpc-m").build())
                .build()
        });
    let sl = mock!(aws_sdk_elasticache::Client::describe_serverless_caches)
        .match_requests(|r| r.serverless_cache_name() == Some("sl-1"))
        .then_output(|| {
            aws_sdk_elasticache::operation::describe_serverless_caches::DescribeServerlessCachesOutput::builder()
                .serverless_caches(
                    aws_sdk_elasticache::types::ServerlessCache::builder()
                        .serverless_cache_name("sl-1")
                        .engine("valkey")
                        .endpoint(Endpoint::builder().address("sl-1.serverless.cache.amazonaws.com").port(6379).build())
                        .security_group_ids("sg-s")
                        .subnet_ids("subnet-1")
                        .subnet_ids("subnet-2")
                        .build(),
                )
                .build()
        });
    let subnets = mock!(aws_sdk_ec2::Client::describe_subnets)
        .match_requests(|r| r.subnet_ids() == ["subnet-1"])
        .then_output(|| {
            aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput::builder()
                .subnets(
                    aws_sdk_ec2::types::Subnet::builder()
                        .subnet_id("subnet-1")
                        .vpc_id("vpc-s")
                        .build(),
                )
                .build()
        });
    let aws = aws(&[&subnets], &[&cc, &sn, &sl]);

    let mc = aws
        .describe_cluster(&ClusterRef::CacheCluster("mc-1".to_string()))
        .await
        .unwrap();
    assert_eq!(mc.kind, ClusterKind::CacheCluster);
    assert_eq!(
        mc.port,
        Some(MEMCACHED_PORT),
        "no port in the endpoint: the engine's default"
    );
    assert_eq!(
        mc.endpoint.as_deref(),
        Some("mc-1.cfg.cache.amazonaws.com:11211")
    );
    assert_eq!(mc.vpc_id.as_deref(), Some("vpc-m"));
    assert_eq!(mc.security_group_ids, ["sg-m"]);

    let serverless = ClusterRef::Serverless("sl-1".to_string());
    let sc = aws.describe_cluster(&serverless).await.unwrap();
    assert_eq!(sc.kind, ClusterKind::Serverless);
    assert_eq!(sc.port, Some(6379));
    assert_eq!(
        sc.endpoint.as_deref(),
        Some("sl-1.serverless.cache.amazonaws.com:6379")
    );
    assert_eq!(sc.vpc_id.as_deref(), Some("vpc-s"));
    assert_eq!(sc.security_group_ids, ["sg-s"]);
    assert_eq!(
        (
            cc.num_calls(),
            sn.num_calls(),
            sl.num_calls(),
            subnets.num_calls()
        ),
        (1, 1, 1, 1)
    );

    assert_eq!(
        aws.cluster_groups(&serverless).await.unwrap().members,
        [("sl-1".to_string(), vec!["sg-s".to_string()])]
    );
    assert_eq!(sl.num_calls(), 2);
}

#[tokio::test]
async fn find_holders_reports_interfaces_groups_and_clusters() {
    let enis = mock!(aws_sdk_ec2::Client::describe_network_interfaces)
        .match_requests(|r| r.filters()[0].name() == Some("group-id") && r.filters()[0].values() == ["sg-1"])
        .then_output(|| {
            aws_sdk_ec2::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput::builder()
                .network_interfaces(
                    aws_sdk_ec2::types::NetworkInterface::builder()
                        .network_interface_id("eni-1")
                        .build(),
                )
                .build()
        });
    let referencing = |direction: &'static str, ids: &'static [&'static str]| {
        mock!(aws_sdk_ec2::Client::describe_security_groups)
            .match_requests(move |r| {
                r.filters().len() == 2
                    && r.filters()[0].name() == Some("vpc-id")
                    && r.filters()[0].values() == ["vpc-1"]
                    && r.filters()[1].name() == Some(direction)
                    && r.filters()[1].values() == ["sg-1"]
            })
            .then_output(move || {
                let mut b = DescribeSecurityGroupsOutput::builder();
                for id in ids {
                    b = b.security_groups(group(id));
                }
                b.build()
            })
    };
    let ingress = referencing("ip-permission.group-id", &["sg-1", "sg-2"]);
    let egress = referencing("egress.ip-permission.group-id", &["sg-3", "sg-2"]);
    let clusters = mock!(aws_sdk_elasticache::Client::describe_cache_clusters).then_output(|| {
        let member = |id: &str, rg: Option<&str>, sg: &str| {
            CacheCluster::builder()
                .cache_cluster_id(id)
                .set_replication_group_id(rg.map(str::to_string))
                .security_groups(
                    SecurityGroupMembership::builder()
                        .security_group_id(sg)
                        .build(),
                )
                .build()
        };
        DescribeCacheClustersOutput::builder()
            .cache_clusters(member("rg-1-001", Some("rg-1"), "sg-1"))
            .cache_clusters(member("rg-1-002", Some("rg-1"), "sg-1"))
            .cache_clusters(member("mc-1", None, "sg-1"))
            .cache_clusters(member("other", None, "sg-9"))
            .build()
    });
    let serverless = mock!(aws_sdk_elasticache::Client::describe_serverless_caches).then_output(|| {
        aws_sdk_elasticache::operation::describe_serverless_caches::DescribeServerlessCachesOutput::builder()
            .serverless_caches(aws_sdk_elasticache::types::ServerlessCache::builder().serverless_cache_name("sl-1").security_group_ids("sg-1").build())
            .serverless_caches(aws_sdk_elasticache::types::ServerlessCache::builder().serverless_cache_name("sl-2").security_group_ids("sg-9").build())
            .build()
    });
    let aws = aws(&[&enis, &ingress, &egress], &[&clusters, &serverless]);
    let holders = aws.find_holders("sg-1", "vpc-1").await.unwrap();
    assert_eq!(
        holders,
        Holders {
            network_interfaces: vec!["eni-1".to_string()],
            clusters: vec!["rg-1".to_string(), "mc-1".to_string(), "sl-1".to_string()],
            referencing_groups: vec!["sg-2".to_string(), "sg-3".to_string()],
        }
    );
}

// (g)
#[tokio::test]
async fn describe_cluster_of_a_replication_group_reads_each_member_by_id_once() {
    let rg = mock!(aws_sdk_elasticache::Client::describe_replication_groups)
        .match_requests(|r| r.replication_group_id() == Some("rg-1"))
        .then_output(|| {
            DescribeReplicationGroupsOutput::builder()
                .replication_groups(
                    ReplicationGroup::builder()
                        .replication_group_id("rg-1")
                        .member_clusters("rg-1-001")
                        .member_clusters("rg-1-002")
                        .node_groups(
                            NodeGroup::builder()
                                .primary_endpoint(
                                    Endpoint::builder()
                                        .address("rg-1.abc.cache.amazonaws.com")
                                        .port(6380)
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let cc = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| r.cache_cluster_id() == Some("rg-1-001"))
        .then_output(|| {
            DescribeCacheClustersOutput::builder()
                .cache_clusters(
                    CacheCluster::builder()
                        .cache_cluster_id("rg-1-001")
                        .replication_group_id("rg-1")
                        .engine("valkey")
                        .cache_subnet_group_name("subnets-1")
                        .security_groups(
                            SecurityGroupMembership::builder()
                                .security_group_id("sg-b")
                                .status("active")
                                .build(),
                        )
                        .security_groups(
                            SecurityGroupMembership::builder()
                                .security_group_id("sg-a")
                                .status("active")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let cc2 = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| r.cache_cluster_id() == Some("rg-1-002"))
        .then_output(|| {
            DescribeCacheClustersOutput::builder()
                .cache_clusters(
                    CacheCluster::builder()
                        .cache_cluster_id("rg-1-002")
                        .replication_group_id("rg-1")
                        .security_groups(
                            SecurityGroupMembership::builder()
                                .security_group_id("sg-b")
                                .status("active")
                                .build(),
                        )
                        .build(),
                )
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
    let aws = aws(&[], &[&rg, &cc, &cc2, &sn]);
    let info = aws.describe_cluster(&rg_ref("rg-1")).await.unwrap();
    let calls = (
        rg.num_calls(),
        cc.num_calls(),
        cc2.num_calls(),
        sn.num_calls(),
    );
    assert_eq!(calls, (1, 1, 1, 1));
    assert_eq!(
        info,
        ClusterInfo {
            kind: ClusterKind::ReplicationGroup,
            id: "rg-1".to_string(),
            vpc_id: Some("vpc-9".to_string()),
            port: Some(6380),
            endpoint: Some("rg-1.abc.cache.amazonaws.com:6380".to_string()),
            engine: Some("valkey".to_string()),
            security_group_ids: vec!["sg-b".to_string(), "sg-a".to_string()],
            status: info.status.clone(),
            members: info.members.clone(),
            replication_group_id: None,
            member_groups: vec![
                (
                    "rg-1-001".to_string(),
                    vec!["sg-b".to_string(), "sg-a".to_string()]
                ),
                ("rg-1-002".to_string(), vec!["sg-b".to_string()]),
            ],
            posture: crate::domain::cloud::Posture {
                authentication: Some("none".into()),
                ..Default::default()
            },
        }
    );
}

#[tokio::test]
async fn cluster_groups_of_a_replication_group_reads_each_member_by_id() {
    let member = |id: &str, rg: &str, groups: &[&str]| {
        let mut b = CacheCluster::builder()
            .cache_cluster_id(id)
            .replication_group_id(rg);
        for g in groups {
            b = b.security_groups(
                SecurityGroupMembership::builder()
                    .security_group_id(*g)
                    .build(),
            );
        }
        b.build()
    };
    let rg = mock!(aws_sdk_elasticache::Client::describe_replication_groups)
        .match_requests(|r| r.replication_group_id() == Some("rg-1"))
        .then_output(|| {
            DescribeReplicationGroupsOutput::builder()
                .replication_groups(
                    ReplicationGroup::builder()
                        .replication_group_id("rg-1")
                        .status("modifying")
                        .member_clusters("rg-1-001")
                        .member_clusters("rg-1-002")
                        .build(),
                )
                .build()
        });
    let m1 = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| r.cache_cluster_id() == Some("rg-1-001"))
        .then_output(move || {
            DescribeCacheClustersOutput::builder()
                .cache_clusters(member("rg-1-001", "rg-1", &["sg-b", "sg-a"]))
                .build()
        });
    let m2 = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| r.cache_cluster_id() == Some("rg-1-002"))
        .then_output(move || {
            DescribeCacheClustersOutput::builder()
                .cache_clusters(member("rg-1-002", "rg-1", &["sg-a", "sg-c"]))
                .build()
        });
    let missing = mock!(aws_sdk_elasticache::Client::describe_replication_groups)
        .match_requests(|r| r.replication_group_id() == Some("rg-missing"))
        .then_error(|| {
            DescribeReplicationGroupsError::generic(meta("ReplicationGroupNotFoundFault"))
        });
    let aws = aws(&[], &[&rg, &m1, &m2, &missing]);
    let groups = aws.cluster_groups(&rg_ref("rg-1")).await.unwrap();
    assert_eq!(
        groups,
        ClusterGroups {
            status: "modifying".into(),
            members: vec![
                ("rg-1-001".into(), vec!["sg-b".into(), "sg-a".into()]),
                ("rg-1-002".into(), vec!["sg-a".into(), "sg-c".into()]),
            ],
        }
    );
    assert!(
        !groups.is_available() && groups.has_anywhere("sg-c") && !groups.has_everywhere("sg-c")
    );
    assert_eq!(
        (rg.num_calls(), m1.num_calls(), m2.num_calls()),
        (1, 1, 1),
        "one call per member, no paging"
    );
    let err = aws.cluster_groups(&rg_ref("rg-missing")).await.unwrap_err();
    assert!(matches!(err, CloudError::NotFound { .. }), "{err:?}");
}

/// Issue 22, item 7: a modification of the cluster's groups is one attempt. A throttled (or lost)
/// ModifyReplicationGroup is never resent by the SDK with a list that another state may have
/// changed meanwhile: the engine reads the groups again before it tries again.
#[tokio::test]
async fn a_modification_is_one_attempt_never_resent_by_the_sdk() {
    use aws_sdk_elasticache::operation::modify_replication_group::{
        ModifyReplicationGroupError, ModifyReplicationGroupOutput,
    };
    let modify = mock!(aws_sdk_elasticache::Client::modify_replication_group)
        .sequence()
        .error(|| ModifyReplicationGroupError::generic(meta("Throttling")))
        .output(|| ModifyReplicationGroupOutput::builder().build())
        .build();
    let aws = aws(&[], &[&modify]);
    let err = aws
        .set_cluster_security_groups(&rg_ref("rg-1"), &["sg-a".into(), "sg-b".into()])
        .await
        .expect_err("the throttled answer reaches the engine");
    assert!(matches!(err, CloudError::Throttled { .. }), "{err:?}");
    assert_eq!(modify.num_calls(), 1, "the SDK did not resend the list");
}

/// Issue 23: members learned from the access's private state are read beside the replication
/// group; a hint that proves wrong (a member gone) is dropped for a fresh read; the subnet group's
/// VPC is read once per process.
#[tokio::test]
async fn learned_members_are_checked_and_the_subnet_group_is_read_once() {
    let rg = mock!(aws_sdk_elasticache::Client::describe_replication_groups)
        .match_requests(|r| r.replication_group_id() == Some("rg-1"))
        .then_output(|| {
            DescribeReplicationGroupsOutput::builder()
                .replication_groups(
                    ReplicationGroup::builder()
                        .replication_group_id("rg-1")
                        .member_clusters("rg-1-001")
                        .build(),
                )
                .build()
        });
    let m1 = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| r.cache_cluster_id() == Some("rg-1-001"))
        .then_output(|| {
            DescribeCacheClustersOutput::builder()
                .cache_clusters(
                    CacheCluster::builder()
                        .cache_cluster_id("rg-1-001")
                        .replication_group_id("rg-1")
                        .cache_subnet_group_name("subnets-1")
                        .security_groups(
                            SecurityGroupMembership::builder()
                                .security_group_id("sg-a")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let gone = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .match_requests(|r| r.cache_cluster_id() == Some("rg-1-009"))
        .then_error(|| {
            aws_sdk_elasticache::operation::describe_cache_clusters::DescribeCacheClustersError::generic(
                meta("CacheClusterNotFound"),
            )
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
    let aws = aws(&[], &[&rg, &m1, &gone, &sn]);
    let c = rg_ref("rg-1");
    assert_eq!(aws.hints_seen(&c), None);
    // stale hints: the member and the subnet group they name are read beside the replication
    // group, then dropped for what it and its members name
    aws.learn_hints(
        &c,
        &ClusterHints {
            members: vec!["rg-1-009".into()],
            subnet_group: Some("subnets-old".into()),
        },
    );
    let info = aws.describe_cluster(&c).await.unwrap();
    assert_eq!(
        info.member_groups,
        vec![("rg-1-001".into(), vec!["sg-a".into()])]
    );
    assert_eq!(info.vpc_id.as_deref(), Some("vpc-9"));
    assert_eq!(
        (gone.num_calls(), m1.num_calls(), sn.num_calls()),
        (1, 1, 1)
    );
    let seen = ClusterHints {
        members: vec!["rg-1-001".into()],
        subnet_group: Some("subnets-1".into()),
    };
    assert_eq!(aws.hints_seen(&c), Some(seen.clone()));
    // what this process saw is kept over a later hint; the right members and subnet group are read
    // beside the replication group (the subnet group on every describe: it may have been made
    // again elsewhere)
    aws.learn_hints(
        &c,
        &ClusterHints {
            members: vec!["rg-1-009".into()],
            subnet_group: None,
        },
    );
    let again = aws.describe_cluster(&c).await.unwrap();
    assert_eq!(again, info);
    let groups = aws.cluster_groups(&c).await.unwrap();
    assert_eq!(groups.members, info.member_groups);
    assert_eq!(
        (
            rg.num_calls(),
            m1.num_calls(),
            gone.num_calls(),
            sn.num_calls()
        ),
        (3, 3, 1, 2)
    );
    // a new process taught what this one saw reads all of it at once, nothing after
    let next = tests::aws(&[], &[&rg, &m1, &gone, &sn]);
    next.learn_hints(&c, &seen);
    assert_eq!(next.describe_cluster(&c).await.unwrap(), info);
    assert_eq!((rg.num_calls(), m1.num_calls(), sn.num_calls()), (4, 4, 3));
}
