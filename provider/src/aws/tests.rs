//! The AWS implementation against aws-smithy-mocks (AWS's own error answers, pagination, exact
//! requests) and a one-shot loopback HTTP server (what goes on the wire).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ec2::types::{IpPermission, ResourceType, SecurityGroup, SecurityGroupRule, Tag};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::retry::RetryConfig;

use super::*;
use crate::domain::cloud::Source;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_ec2::config::retry::RetryPartition;
use aws_sdk_ec2::operation::authorize_security_group_ingress::{
    AuthorizeSecurityGroupIngressError, AuthorizeSecurityGroupIngressOutput,
};
use aws_sdk_ec2::operation::delete_security_group::DeleteSecurityGroupError;
use aws_sdk_ec2::operation::describe_security_group_rules::DescribeSecurityGroupRulesOutput;
use aws_sdk_ec2::operation::describe_security_groups::{
    DescribeSecurityGroupsError, DescribeSecurityGroupsOutput,
};
use aws_sdk_ec2::operation::update_security_group_rule_descriptions_ingress::UpdateSecurityGroupRuleDescriptionsIngressOutput;
use aws_sdk_ec2::types::ReferencedSecurityGroup;
use aws_sdk_elasticache::operation::describe_replication_groups::DescribeReplicationGroupsError;
use aws_smithy_mocks::{mock, mock_client, Rule as MockRule, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::error::ErrorMetadata;

static PARTITION: AtomicUsize = AtomicUsize::new(0);

/// Standard retry with `attempts` attempts and a 1 ms backoff, in a retry partition of its own
/// (so tests never share a retry token bucket).
pub(super) fn fast_retry(attempts: u32) -> (RetryConfig, RetryPartition) {
    let n = PARTITION.fetch_add(1, Ordering::SeqCst);
    (
        RetryConfig::standard()
            .with_max_attempts(attempts)
            .with_initial_backoff(Duration::from_millis(1))
            .with_max_backoff(Duration::from_millis(5)),
        RetryPartition::new(format!("aws-rs-test-{n}")),
    )
}

pub(super) fn ec2_client(rules: &[&MockRule], attempts: u32) -> aws_sdk_ec2::Client {
    let (retry, partition) = fast_retry(attempts);
    mock_client!(aws_sdk_ec2, RuleMode::MatchAny, rules, |c| c
        .retry_config(retry.clone())
        .retry_partition(partition.clone()))
}

pub(super) fn elasticache_client(rules: &[&MockRule]) -> aws_sdk_elasticache::Client {
    let (retry, partition) = fast_retry(3);
    mock_client!(aws_sdk_elasticache, RuleMode::MatchAny, rules, |c| c
        .retry_config(retry.clone())
        .retry_partition(partition.clone()))
}

/// An `Aws` over mocks. ElastiCache answers "not found" to a cache cluster or subnet group that no
/// rule names: a describe of a replication group reads its likely first members and its hinted
/// subnet group beside it (`members.rs`), and AWS answers those so when they do not exist.
pub(super) fn aws(ec2: &[&MockRule], elasticache: &[&MockRule]) -> Aws {
    use aws_sdk_elasticache::operation::describe_cache_clusters::DescribeCacheClustersError;
    use aws_sdk_elasticache::operation::describe_cache_subnet_groups::DescribeCacheSubnetGroupsError;
    let no_cluster = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .then_error(|| DescribeCacheClustersError::generic(meta("CacheClusterNotFound")));
    let no_subnets =
        mock!(aws_sdk_elasticache::Client::describe_cache_subnet_groups).then_error(|| {
            DescribeCacheSubnetGroupsError::generic(meta("CacheSubnetGroupNotFoundFault"))
        });
    let mut rules = elasticache.to_vec();
    rules.extend([&no_cluster, &no_subnets]);
    Aws::from_clients(ec2_client(ec2, 3), elasticache_client(&rules))
}

pub(super) fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(code)
        .message(format!("{code} (test)"))
        .build()
}

pub(super) fn group(id: &str) -> SecurityGroup {
    SecurityGroup::builder()
        .group_id(id)
        .group_name("web-cluster")
        .vpc_id("vpc-1")
        .owner_id("111111111111")
        .tags(Tag::builder().key("Name").value("web").build())
        .build()
}

pub(super) fn spec(source: Source, port: u16) -> RuleSpec {
    RuleSpec {
        source,
        port,
        description: "web".to_string(),
    }
}

pub(super) fn cidr(s: &str) -> Source {
    Source::Cidr(s.parse().unwrap())
}

pub(super) fn tags() -> BTreeMap<String, String> {
    BTreeMap::from([("managed-by".to_string(), "elasticache-access".to_string())])
}

pub(super) fn rg_ref(id: &str) -> ClusterRef {
    ClusterRef::ReplicationGroup(id.to_string())
}

// (a)
#[tokio::test]
async fn request_limit_exceeded_is_retried_by_the_sdk() {
    let rule = mock!(aws_sdk_ec2::Client::describe_security_groups)
        .sequence()
        .error(|| DescribeSecurityGroupsError::generic(meta("RequestLimitExceeded")))
        .times(2)
        .output(|| {
            DescribeSecurityGroupsOutput::builder()
                .security_groups(group("sg-1"))
                .build()
        })
        .build();
    let aws = Aws::from_clients(ec2_client(&[&rule], 3), elasticache_client(&[]));
    let groups = aws
        .describe_security_groups(&["sg-1".to_string()])
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 3);
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].id, "sg-1");
    assert_eq!(groups[0].owner_id, "111111111111");
    assert_eq!(groups[0].tags.get("Name").map(String::as_str), Some("web"));
}

// (h)
#[tokio::test]
async fn request_limit_exceeded_past_max_attempts_is_throttled() {
    let rule = mock!(aws_sdk_ec2::Client::describe_security_groups)
        .sequence()
        .error(|| DescribeSecurityGroupsError::generic(meta("RequestLimitExceeded")))
        .times(10)
        .build();
    let aws = Aws::from_clients(ec2_client(&[&rule], 4), elasticache_client(&[]));
    let err = aws
        .describe_security_groups(&["sg-1".to_string()])
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::Throttled { .. }), "{err:?}");
    assert_eq!(err.code(), "RequestLimitExceeded");
    assert_eq!(rule.num_calls(), 4);
}

// (b)
#[tokio::test]
async fn duplicate_permission_maps_to_duplicate() {
    let rule = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress).then_error(|| {
        AuthorizeSecurityGroupIngressError::generic(meta("InvalidPermission.Duplicate"))
    });
    let aws = aws(&[&rule], &[]);
    let err = aws
        .authorize_ingress("sg-1", &[spec(cidr("10.0.0.0/16"), 6379)], &tags())
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::Duplicate { .. }), "{err:?}");
    assert_eq!(rule.num_calls(), 1, "a duplicate is not retried");
}

// (c)
#[tokio::test]
async fn dependency_violation_maps_to_in_use() {
    let rule = mock!(aws_sdk_ec2::Client::delete_security_group)
        .then_error(|| DeleteSecurityGroupError::generic(meta("DependencyViolation")));
    let aws = aws(&[&rule], &[]);
    let err = aws.delete_security_group("sg-1").await.unwrap_err();
    assert!(matches!(err, CloudError::InUse { .. }), "{err:?}");
    assert_eq!(err.code(), "DependencyViolation");
}

// (d)
#[tokio::test]
async fn not_found_codes_map_to_not_found() {
    let ec2 = mock!(aws_sdk_ec2::Client::delete_security_group)
        .then_error(|| DeleteSecurityGroupError::generic(meta("InvalidGroup.NotFound")));
    let ec = mock!(aws_sdk_elasticache::Client::describe_replication_groups).then_error(|| {
        DescribeReplicationGroupsError::generic(meta("ReplicationGroupNotFoundFault"))
    });
    let aws = aws(&[&ec2], &[&ec]);
    let err = aws.delete_security_group("sg-1").await.unwrap_err();
    assert!(matches!(err, CloudError::NotFound { .. }), "{err:?}");
    assert_eq!(err.code(), "InvalidGroup.NotFound");
    let err = aws.describe_cluster(&rg_ref("rg-x")).await.unwrap_err();
    assert!(matches!(err, CloudError::NotFound { .. }), "{err:?}");
}

// (e)
#[tokio::test]
async fn describe_rules_maps_peered_groups_and_normalizes_cidrs_across_pages() {
    let page1 = mock!(aws_sdk_ec2::Client::describe_security_group_rules)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            DescribeSecurityGroupRulesOutput::builder()
                .security_group_rules(
                    SecurityGroupRule::builder()
                        .security_group_rule_id("sgr-peer")
                        .group_id("sg-1")
                        .group_owner_id("111111111111")
                        .is_egress(false)
                        .ip_protocol("tcp")
                        .from_port(6379)
                        .to_port(6379)
                        .referenced_group_info(
                            ReferencedSecurityGroup::builder()
                                .group_id("sg-peer")
                                .user_id("222222222222")
                                .build(),
                        )
                        .description("peer")
                        .tags(Tag::builder().key("k").value("v").build())
                        .build(),
                )
                .security_group_rules(
                    SecurityGroupRule::builder()
                        .security_group_rule_id("sgr-same")
                        .group_id("sg-1")
                        .group_owner_id("111111111111")
                        .ip_protocol("tcp")
                        .from_port(6379)
                        .to_port(6379)
                        .referenced_group_info(
                            ReferencedSecurityGroup::builder()
                                .group_id("sg-2")
                                .user_id("111111111111")
                                .build(),
                        )
                        .build(),
                )
                .next_token("page-2")
                .build()
        });
    let page2 = mock!(aws_sdk_ec2::Client::describe_security_group_rules)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            DescribeSecurityGroupRulesOutput::builder()
                .security_group_rules(
                    SecurityGroupRule::builder()
                        .security_group_rule_id("sgr-cidr")
                        .group_id("sg-1")
                        .ip_protocol("tcp")
                        .from_port(6379)
                        .to_port(6379)
                        .cidr_ipv4("10.1.2.3/16")
                        .build(),
                )
                .security_group_rules(
                    SecurityGroupRule::builder()
                        .security_group_rule_id("sgr-egress")
                        .group_id("sg-1")
                        .is_egress(true)
                        .ip_protocol("-1")
                        .from_port(-1)
                        .to_port(-1)
                        .cidr_ipv6("2001:db8::1/32")
                        .build(),
                )
                .security_group_rules(
                    SecurityGroupRule::builder()
                        .security_group_rule_id("sgr-pl")
                        .group_id("sg-1")
                        .ip_protocol("tcp")
                        .from_port(6379)
                        .to_port(6379)
                        .prefix_list_id("pl-123")
                        .build(),
                )
                .build()
        });
    let aws = aws(&[&page1, &page2], &[]);
    let rules = aws.describe_rules(&["sg-1".to_string()]).await.unwrap();
    assert_eq!((page1.num_calls(), page2.num_calls()), (1, 1));
    assert_eq!(rules.len(), 5);

    let peer = &rules[0];
    assert_eq!(peer.id, "sgr-peer");
    assert_eq!(
        peer.source,
        Some(Source::Group {
            id: "sg-peer".to_string(),
            owner: Some("222222222222".to_string())
        })
    );
    assert_eq!(peer.source_text, "222222222222/sg-peer");
    assert_eq!(peer.description.as_deref(), Some("peer"));
    assert_eq!(peer.tags.get("k").map(String::as_str), Some("v"));
    assert!(peer.is_tcp_port(6379));
    assert!(!peer.is_egress);

    assert_eq!(
        rules[1].source,
        Some(Source::Group {
            id: "sg-2".to_string(),
            owner: None
        })
    );
    assert_eq!(rules[1].source_text, "sg-2");

    assert_eq!(rules[2].source, Some(cidr("10.1.0.0/16")));
    assert_eq!(rules[2].source_text, "10.1.0.0/16");

    assert!(rules[3].is_egress);
    assert_eq!(rules[3].protocol, "-1");
    assert_eq!((rules[3].from_port, rules[3].to_port), (-1, -1));
    assert_eq!(rules[3].source, Some(cidr("2001:db8::/32")));

    assert_eq!(
        rules[4].source,
        Some(Source::PrefixList("pl-123".to_string()))
    );
    assert_eq!(rules[4].source_text, "pl-123");
}

// (f)
#[tokio::test]
async fn authorize_ingress_sends_one_call_with_one_permission_per_rule() {
    let rule = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress)
        .match_requests(|req| {
            let perms = req.ip_permissions();
            let one_source = |p: &IpPermission| {
                p.user_id_group_pairs().len()
                    + p.ip_ranges().len()
                    + p.ipv6_ranges().len()
                    + p.prefix_list_ids().len()
                    == 1
            };
            let tagged = req.tag_specifications().len() == 1
                && req.tag_specifications()[0].resource_type()
                    == Some(&ResourceType::SecurityGroupRule)
                && req.tag_specifications()[0].tags()[0].key() == Some("managed-by");
            req.group_id() == Some("sg-1")
                && tagged
                && perms.len() == 4
                && perms.iter().all(|p| {
                    p.ip_protocol() == Some("tcp")
                        && p.from_port() == Some(6380)
                        && p.to_port() == Some(6380)
                        && one_source(p)
                })
                && perms[0].user_id_group_pairs()[0].group_id() == Some("sg-client")
                && perms[0].user_id_group_pairs()[0].user_id().is_none()
                && perms[0].user_id_group_pairs()[0].description() == Some("web")
                && perms[1].user_id_group_pairs()[0].group_id() == Some("sg-peer")
                && perms[1].user_id_group_pairs()[0].user_id() == Some("222222222222")
                && perms[2].ip_ranges()[0].cidr_ip() == Some("10.0.0.0/8")
                && perms[2].ip_ranges()[0].description() == Some("web")
                && perms[3].ipv6_ranges()[0].cidr_ipv6() == Some("2001:db8::/32")
        })
        .then_output(|| {
            let created = |id: &str, cidr: &str| {
                SecurityGroupRule::builder()
                    .security_group_rule_id(id)
                    .group_id("sg-1")
                    .group_owner_id("111111111111")
                    .is_egress(false)
                    .ip_protocol("tcp")
                    .from_port(6380)
                    .to_port(6380)
                    .cidr_ipv4(cidr)
                    .description("web")
                    .tags(
                        Tag::builder()
                            .key("managed-by")
                            .value("elasticache-access")
                            .build(),
                    )
                    .build()
            };
            AuthorizeSecurityGroupIngressOutput::builder()
                .r#return(true)
                .security_group_rules(created("sgr-a", "10.0.0.0/8"))
                .build()
        });
    let aws = aws(&[&rule], &[]);
    let specs = [
        spec(
            Source::Group {
                id: "sg-client".to_string(),
                owner: None,
            },
            6380,
        ),
        spec(
            Source::Group {
                id: "sg-peer".to_string(),
                owner: Some("222222222222".to_string()),
            },
            6380,
        ),
        spec(cidr("10.0.0.0/8"), 6380),
        spec(cidr("2001:db8::/32"), 6380),
    ];
    let created = aws
        .authorize_ingress("sg-1", &specs, &tags())
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 1);
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].id, "sgr-a");
    assert_eq!(created[0].source, Some(cidr("10.0.0.0/8")));
    assert!(created[0].is_tcp_port(6380));
    assert_eq!(created[0].tags, tags());
}

#[tokio::test]
async fn update_rule_descriptions_sends_rule_ids_and_descriptions_only() {
    // A group of a peered account and a prefix list: neither source is restated.
    let rule = mock!(aws_sdk_ec2::Client::update_security_group_rule_descriptions_ingress)
        .match_requests(|req| {
            let d = req.security_group_rule_descriptions();
            req.group_id() == Some("sg-1")
                && req.ip_permissions().is_empty()
                && d.len() == 2
                && d[0].security_group_rule_id() == Some("sgr-1")
                && d[0].description() == Some("web")
                && d[1].security_group_rule_id() == Some("sgr-2")
                && d[1].description() == Some("web")
        })
        .then_output(|| {
            UpdateSecurityGroupRuleDescriptionsIngressOutput::builder()
                .r#return(true)
                .build()
        });
    let aws = aws(&[&rule], &[]);
    aws.update_rule_descriptions(
        "sg-1",
        &[
            (
                "sgr-1".to_string(),
                spec(
                    Source::Group {
                        id: "sg-peer".to_string(),
                        owner: Some("222222222222".to_string()),
                    },
                    6379,
                ),
            ),
            (
                "sgr-2".to_string(),
                spec(Source::PrefixList("pl-1".to_string()), 6379),
            ),
        ],
    )
    .await
    .unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn an_empty_description_is_omitted_so_aws_removes_it() {
    let rule = mock!(aws_sdk_ec2::Client::update_security_group_rule_descriptions_ingress)
        .match_requests(|req| {
            let d = req.security_group_rule_descriptions();
            d.len() == 1 && d[0].description().is_none()
        })
        .then_output(|| UpdateSecurityGroupRuleDescriptionsIngressOutput::builder().build());
    let aws = aws(&[&rule], &[]);
    let mut s = spec(Source::Cidr("10.0.0.0/8".parse().unwrap()), 6379);
    s.description = String::new();
    aws.update_rule_descriptions("sg-1", &[("sgr-1".to_string(), s)])
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn empty_inputs_make_no_call() {
    // The mock clients have no rules: any call would panic.
    let aws = aws(&[], &[]);
    assert_eq!(aws.describe_security_groups(&[]).await.unwrap(), vec![]);
    assert_eq!(aws.describe_rules(&[]).await.unwrap(), vec![]);
    assert_eq!(
        aws.authorize_ingress("sg-1", &[], &tags()).await.unwrap(),
        vec![]
    );
    aws.revoke_ingress("sg-1", &[]).await.unwrap();
    aws.update_rule_descriptions("sg-1", &[]).await.unwrap();
    aws.create_tags(&[], &tags()).await.unwrap();
    aws.create_tags(&["sg-1".to_string()], &BTreeMap::new())
        .await
        .unwrap();
    aws.delete_tags(&["sg-1".to_string()], &[]).await.unwrap();
}

#[test]
fn errors_without_a_code_are_timeout_or_request_failed() {
    type E = SdkError<DescribeSecurityGroupsError, HttpResponse>;
    let e = cloud_error(
        "DescribeSecurityGroups",
        E::timeout_error("operation timed out"),
    );
    assert!(matches!(e, CloudError::Other { .. }), "{e:?}");
    assert_eq!(e.code(), "Timeout");
    let e = cloud_error(
        "DescribeSecurityGroups",
        E::construction_failure("bad input"),
    );
    assert_eq!(e.code(), "RequestFailed");
    assert!(e.to_string().contains("bad input"), "{e}");
}
