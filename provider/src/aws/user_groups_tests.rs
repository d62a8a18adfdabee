//! The posture of a replication group with an RBAC user group, against aws-smithy-mocks: `iam`
//! when a user of the group authenticates with IAM, `rbac` otherwise or when the reads are denied,
//! and each group read once per process.

use aws_sdk_elasticache::operation::describe_replication_groups::DescribeReplicationGroupsOutput;
use aws_sdk_elasticache::operation::describe_user_groups::{
    DescribeUserGroupsError, DescribeUserGroupsOutput,
};
use aws_sdk_elasticache::operation::describe_users::DescribeUsersOutput;
use aws_sdk_elasticache::types::{
    Authentication, AuthenticationType, ReplicationGroup, User, UserGroup,
};
use aws_smithy_mocks::{mock, Rule as MockRule};

use crate::aws::tests::{aws, meta, rg_ref};
use crate::domain::cloud::Cloud;

fn rg(id: &'static str, user_group: &'static str) -> MockRule {
    mock!(aws_sdk_elasticache::Client::describe_replication_groups)
        .match_requests(move |r| r.replication_group_id() == Some(id))
        .then_output(move || {
            DescribeReplicationGroupsOutput::builder()
                .replication_groups(
                    ReplicationGroup::builder()
                        .replication_group_id(id)
                        .user_group_ids(user_group)
                        .transit_encryption_enabled(true)
                        .build(),
                )
                .build()
        })
}

fn group(id: &'static str, users: &'static [&'static str]) -> MockRule {
    mock!(aws_sdk_elasticache::Client::describe_user_groups)
        .match_requests(move |r| r.user_group_id() == Some(id))
        .then_output(move || {
            let mut g = UserGroup::builder().user_group_id(id);
            for u in users {
                g = g.user_ids(*u);
            }
            DescribeUserGroupsOutput::builder()
                .user_groups(g.build())
                .build()
        })
}

fn user(id: &'static str, kind: AuthenticationType) -> MockRule {
    mock!(aws_sdk_elasticache::Client::describe_users)
        .match_requests(move |r| r.user_id() == Some(id))
        .then_output(move || {
            DescribeUsersOutput::builder()
                .users(
                    User::builder()
                        .user_id(id)
                        .authentication(Authentication::builder().r#type(kind.clone()).build())
                        .build(),
                )
                .build()
        })
}

async fn authentication_of(aws: &crate::aws::Aws, id: &str) -> Option<String> {
    let info = aws.describe_cluster(&rg_ref(id)).await.unwrap();
    info.posture.authentication
}

#[tokio::test]
async fn a_user_group_with_an_iam_user_is_iam_and_read_once() {
    let (r, g) = (rg("rg-iam", "ug-iam"), group("ug-iam", &["default", "app"]));
    let (d, a) = (
        user("default", AuthenticationType::NoPassword),
        user("app", AuthenticationType::Iam),
    );
    let aws = aws(&[], &[&r, &g, &d, &a]);
    assert_eq!(
        authentication_of(&aws, "rg-iam").await.as_deref(),
        Some("iam")
    );
    assert_eq!(
        authentication_of(&aws, "rg-iam").await.as_deref(),
        Some("iam")
    );
    let calls = (r.num_calls(), g.num_calls(), d.num_calls(), a.num_calls());
    assert_eq!(calls, (2, 1, 1, 1));
}

#[tokio::test]
async fn a_user_group_without_an_iam_user_is_rbac() {
    let (r, g) = (rg("rg-pw", "ug-pw"), group("ug-pw", &["default", "app"]));
    let (d, a) = (
        user("default", AuthenticationType::NoPassword),
        user("app", AuthenticationType::Password),
    );
    let aws = aws(&[], &[&r, &g, &d, &a]);
    assert_eq!(
        authentication_of(&aws, "rg-pw").await.as_deref(),
        Some("rbac")
    );
    assert_eq!((g.num_calls(), d.num_calls(), a.num_calls()), (1, 1, 1));
}

#[tokio::test]
async fn denied_user_group_reads_report_rbac_without_failing() {
    let r = rg("rg-denied", "ug-x");
    let g = mock!(aws_sdk_elasticache::Client::describe_user_groups)
        .then_error(|| DescribeUserGroupsError::generic(meta("AccessDenied")));
    let aws = aws(&[], &[&r, &g]);
    assert_eq!(
        authentication_of(&aws, "rg-denied").await.as_deref(),
        Some("rbac")
    );
    assert_eq!(
        authentication_of(&aws, "rg-denied").await.as_deref(),
        Some("rbac")
    );
    assert_eq!(g.num_calls(), 1);
}
