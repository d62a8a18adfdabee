//! The plan checks' reads and the import's tolerance of a kind of cluster it may not list, against
//! aws-smithy-mocks.

use super::tests::*;
use super::*;

use aws_sdk_ec2::operation::describe_managed_prefix_lists::DescribeManagedPrefixListsOutput;
use aws_sdk_ec2::types::ManagedPrefixList;
use aws_sdk_elasticache::operation::describe_cache_clusters::{
    DescribeCacheClustersError, DescribeCacheClustersOutput,
};
use aws_sdk_elasticache::operation::describe_serverless_caches::DescribeServerlessCachesError;
use aws_sdk_elasticache::types::{CacheCluster, SecurityGroupMembership};
use aws_smithy_mocks::mock;

fn using(id: &str, group: &str) -> CacheCluster {
    CacheCluster::builder()
        .cache_cluster_id(id)
        .security_groups(
            SecurityGroupMembership::builder()
                .security_group_id(group)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn clusters_using_skips_a_kind_the_caller_may_not_list_and_names_it() {
    let cc = mock!(aws_sdk_elasticache::Client::describe_cache_clusters).then_output(|| {
        DescribeCacheClustersOutput::builder()
            .cache_clusters(using("mc-1", "sg-1"))
            .build()
    });
    for code in ["AccessDenied", "InvalidAction"] {
        let sl = mock!(aws_sdk_elasticache::Client::describe_serverless_caches)
            .then_error(move || DescribeServerlessCachesError::generic(meta(code)));
        let aws = aws(&[], &[&cc, &sl]);
        let found = aws
            .clusters_using("sg-1")
            .await
            .expect("the rest is searched");
        assert_eq!(
            found.clusters,
            vec![ClusterRef::CacheCluster("mc-1".into())]
        );
        assert_eq!(found.skipped.len(), 1, "{found:?}");
        assert!(
            found.skipped[0].starts_with("serverless caches (") && found.skipped[0].contains(code)
        );
        assert!(
            found.skipped[0].contains("elasticache:DescribeServerlessCaches"),
            "{found:?}"
        );
    }
    // anything else still fails the search
    let sl = mock!(aws_sdk_elasticache::Client::describe_serverless_caches)
        .then_error(|| DescribeServerlessCachesError::generic(meta("InternalFailure")));
    let broken = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .then_error(|| DescribeCacheClustersError::generic(meta("InternalFailure")));
    assert!(aws(&[], &[&cc, &sl]).clusters_using("sg-1").await.is_err());
    assert!(aws(&[], &[&broken]).clusters_using("sg-1").await.is_err());
}

/// A serverless access whose cluster the caller may not describe: the refresh fails (its state
/// cannot be known), naming the action to allow.
#[tokio::test]
async fn a_denied_describe_of_the_own_cluster_names_the_action_to_allow() {
    let sl = mock!(aws_sdk_elasticache::Client::describe_serverless_caches)
        .then_error(|| DescribeServerlessCachesError::generic(meta("AccessDenied")));
    let e = aws(&[], &[&sl])
        .describe_cluster(&ClusterRef::Serverless("sls".into()))
        .await
        .expect_err("denied");
    assert_eq!(e.code(), "AccessDenied");
    let text = e.to_string();
    assert!(
        text.contains("refused: elasticache:DescribeServerlessCaches"),
        "{text}"
    );
}

#[tokio::test]
async fn prefix_lists_are_read_by_filter_and_a_missing_one_is_absent() {
    let pls = mock!(aws_sdk_ec2::Client::describe_managed_prefix_lists)
        .match_requests(|r| {
            r.filters()
                .iter()
                .any(|f| f.name() == Some("prefix-list-id") && f.values() == ["pl-1", "pl-2"])
        })
        .then_output(|| {
            DescribeManagedPrefixListsOutput::builder()
                .prefix_lists(
                    ManagedPrefixList::builder()
                        .prefix_list_id("pl-1")
                        .max_entries(40)
                        .address_family("IPv6")
                        .build(),
                )
                .build()
        });
    let aws = aws(&[&pls], &[]);
    let found = aws
        .prefix_lists(&["pl-1".into(), "pl-2".into()])
        .await
        .unwrap();
    assert_eq!(
        found,
        vec![PrefixList {
            id: "pl-1".into(),
            max_entries: 40,
            address_family: "IPv6".into(),
        }]
    );
    // a client built without Service Quotas answers an error the plan turns into a warning
    assert!(aws.vpc_quota("L-0EA8095F").await.is_err());
}
