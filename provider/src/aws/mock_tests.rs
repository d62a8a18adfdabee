//! The engine over the real AWS module and SDK clients, with AWS's answers scripted by
//! aws-smithy-mocks: error paths the emulator cannot produce (throttling past the SDK's retries,
//! eventual consistency, DependencyViolation, InvalidPermission.Duplicate, a failure halfway).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ec2::operation::authorize_security_group_ingress::{
    AuthorizeSecurityGroupIngressError, AuthorizeSecurityGroupIngressOutput,
};
use aws_sdk_ec2::operation::create_security_group::{
    CreateSecurityGroupError, CreateSecurityGroupOutput,
};
use aws_sdk_ec2::operation::create_tags::CreateTagsOutput;
use aws_sdk_ec2::operation::delete_security_group::{
    DeleteSecurityGroupError, DeleteSecurityGroupOutput,
};
use aws_sdk_ec2::operation::delete_tags::DeleteTagsOutput;
use aws_sdk_ec2::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput;
use aws_sdk_ec2::operation::describe_security_group_rules::DescribeSecurityGroupRulesOutput;
use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput;
use aws_sdk_ec2::types::{NetworkInterface, SecurityGroup, SecurityGroupRule};
use aws_sdk_elasticache::operation::describe_cache_clusters::DescribeCacheClustersOutput;
use aws_sdk_elasticache::operation::describe_serverless_caches::DescribeServerlessCachesOutput;
use aws_smithy_mocks::{mock, mock_client, Rule as MockRule, RuleMode};
use aws_smithy_types::error::metadata::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;

use super::Aws;
use crate::domain::declaration::desired::{self, Desired};
use crate::domain::declaration::value::Value;
use crate::domain::engine::{Backoff, Engine, TagSettings};

const OWN: &str = "123456789012";
const CLUSTER_SG: &str = "sg-0000000000000c001";
const CLIENT_SG: &str = "sg-0000000000000c002";

fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(code)
        .message(format!("{code} (scripted)"))
        .build()
}

static PARTITION: AtomicUsize = AtomicUsize::new(0);

fn engine(ec2: &[&MockRule], elasticache: &[&MockRule]) -> Engine {
    let n = PARTITION.fetch_add(1, Ordering::SeqCst);
    let retry = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(2));
    let p1 = aws_sdk_ec2::config::retry::RetryPartition::new(format!("engine-mock-ec2-{n}"));
    let p2 = aws_sdk_ec2::config::retry::RetryPartition::new(format!("engine-mock-ec-{n}"));
    let ec2c = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, ec2, |c| c
        .retry_config(retry.clone())
        .retry_partition(p1.clone()));
    let ecc = mock_client!(aws_sdk_elasticache, RuleMode::MatchAny, elasticache, |c| c
        .retry_config(retry.clone())
        .retry_partition(p2.clone()));
    Engine::new(
        Arc::new(Aws::from_clients(ec2c, ecc)),
        TagSettings::default(),
    )
    .with_backoff(Backoff {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(4),
        consistency: Duration::from_millis(30),
    })
}

fn wanted() -> Desired {
    let c = Value::from_json(
        &serde_json::json!({"vpc_id": "vpc-0123456789abcdef0", "name": "m", "allowed_cidr_blocks": ["10.0.0.0/16"], "timeouts": {"create": "2s", "delete": "1s"}}),
    );
    desired::parse(&c).expect("valid").value
}

fn create_groups() -> MockRule {
    mock!(aws_sdk_ec2::Client::create_security_group).then_compute_output(|req| {
        let id = if req.group_name() == Some("m-cluster") {
            CLUSTER_SG
        } else {
            CLIENT_SG
        };
        CreateSecurityGroupOutput::builder()
            .group_id(id)
            .security_group_arn(format!("arn:aws:ec2:us-east-1:{OWN}:security-group/{id}"))
            .build()
    })
}

fn rule_out(id: &str, group: &str) -> SecurityGroupRule {
    SecurityGroupRule::builder()
        .security_group_rule_id(id)
        .group_id(group)
        .group_owner_id(OWN)
        .is_egress(false)
        .ip_protocol("tcp")
        .from_port(6379)
        .to_port(6379)
        .cidr_ipv4("10.0.0.0/16")
        .build()
}

fn group_rule_out(id: &str) -> SecurityGroupRule {
    SecurityGroupRule::builder()
        .security_group_rule_id(id)
        .group_id(CLUSTER_SG)
        .group_owner_id(OWN)
        .is_egress(false)
        .ip_protocol("tcp")
        .from_port(6379)
        .to_port(6379)
        .referenced_group_info(
            aws_sdk_ec2::types::ReferencedSecurityGroup::builder()
                .group_id(CLIENT_SG)
                .user_id(OWN)
                .build(),
        )
        .build()
}

fn authorize_ok() -> MockRule {
    mock!(aws_sdk_ec2::Client::authorize_security_group_ingress).then_compute_output(|req| {
        let mut out = AuthorizeSecurityGroupIngressOutput::builder().r#return(true);
        for (i, p) in req.ip_permissions().iter().enumerate() {
            let id = format!("sgr-00000000000000{i:03}");
            out = out.security_group_rules(if p.ip_ranges().is_empty() {
                group_rule_out(&id)
            } else {
                rule_out(&id, CLUSTER_SG)
            });
        }
        out.build()
    })
}

fn tags_ok() -> (MockRule, MockRule) {
    (
        mock!(aws_sdk_ec2::Client::create_tags).then_output(|| CreateTagsOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::delete_tags).then_output(|| DeleteTagsOutput::builder().build()),
    )
}

fn no_rules() -> MockRule {
    mock!(aws_sdk_ec2::Client::describe_security_group_rules)
        .then_output(|| DescribeSecurityGroupRulesOutput::builder().build())
}

fn no_groups() -> MockRule {
    mock!(aws_sdk_ec2::Client::describe_security_groups)
        .then_output(|| DescribeSecurityGroupsOutput::builder().build())
}

fn ids(st: &crate::domain::planning::state::AccessState) -> BTreeMap<String, String> {
    st.outputs.ingress_rule_ids.clone()
}

#[tokio::test]
async fn throttled_create_is_retried_by_the_sdk_and_succeeds() {
    let throttled = mock!(aws_sdk_ec2::Client::create_security_group)
        .sequence()
        .error(|| CreateSecurityGroupError::generic(meta("RequestLimitExceeded")))
        .times(2)
        .output(|| {
            CreateSecurityGroupOutput::builder()
                .group_id(CLUSTER_SG)
                .build()
        })
        .output(|| {
            CreateSecurityGroupOutput::builder()
                .group_id(CLIENT_SG)
                .build()
        })
        .build();
    let (auth, (ct, dt), rules, groups) = (authorize_ok(), tags_ok(), no_rules(), no_groups());
    let e = engine(&[&throttled, &auth, &ct, &dt, &rules, &groups], &[]);
    let st = e.create(&wanted()).await.unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(
        throttled.num_calls(),
        4,
        "two throttled answers, then the two groups"
    );
    assert_eq!(st.outputs.id, CLUSTER_SG);
    assert_eq!(auth.num_calls(), 1, "every rule in one call");
    assert_eq!(ids(&st).len(), 2, "{:?}", ids(&st));
}

#[tokio::test]
async fn group_not_yet_visible_is_retried_until_it_is() {
    let groups = create_groups();
    let auth = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress)
        .sequence()
        .error(|| AuthorizeSecurityGroupIngressError::generic(meta("InvalidGroup.NotFound")))
        .times(3)
        .output(|| {
            AuthorizeSecurityGroupIngressOutput::builder()
                .security_group_rules(rule_out("sgr-00000000000000001", CLUSTER_SG))
                .security_group_rules(group_rule_out("sgr-00000000000000002"))
                .build()
        })
        .build();
    let ((ct, dt), rules, desc) = (tags_ok(), no_rules(), no_groups());
    let e = engine(&[&groups, &auth, &ct, &dt, &rules, &desc], &[]);
    let st = e.create(&wanted()).await.unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(auth.num_calls(), 4);
    assert_eq!(
        ids(&st).get("10.0.0.0/16").map(String::as_str),
        Some("sgr-00000000000000001")
    );
}

#[tokio::test]
async fn failure_halfway_through_create_carries_the_created_ids() {
    let groups = create_groups();
    let auth = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress).then_error(|| {
        AuthorizeSecurityGroupIngressError::generic(meta("RulesPerSecurityGroupLimitExceeded"))
    });
    let ((ct, dt), rules, desc) = (tags_ok(), no_rules(), no_groups());
    let e = engine(&[&groups, &auth, &ct, &dt, &rules, &desc], &[]);
    let f = e.create(&wanted()).await.expect_err("create fails");
    let st = f.state.expect("a partial state");
    assert_eq!(st.outputs.id, CLUSTER_SG);
    assert_eq!(
        st.outputs.client_security_group_id.as_deref(),
        Some(CLIENT_SG)
    );
    assert!(
        st.outputs.ingress_rule_ids.is_empty(),
        "no rule exists: {:?}",
        st.outputs.ingress_rule_ids
    );
    let d = &f.diagnostics[0];
    assert!(
        d.detail.contains("RulesPerSecurityGroupLimitExceeded") && d.detail.contains("quota"),
        "{d:?}"
    );
}

#[tokio::test]
async fn duplicate_permission_adopts_the_existing_rule() {
    let groups = create_groups();
    let auth = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress)
        .sequence()
        .error(|| AuthorizeSecurityGroupIngressError::generic(meta("InvalidPermission.Duplicate")))
        .output(|| {
            AuthorizeSecurityGroupIngressOutput::builder()
                .security_group_rules(group_rule_out("sgr-0000000000000new1"))
                .build()
        })
        .build();
    let existing = mock!(aws_sdk_ec2::Client::describe_security_group_rules).then_output(|| {
        DescribeSecurityGroupRulesOutput::builder()
            .security_group_rules(rule_out("sgr-00000000000old001", CLUSTER_SG))
            .build()
    });
    let ((ct, dt), desc) = (tags_ok(), no_groups());
    let e = engine(&[&groups, &auth, &existing, &ct, &dt, &desc], &[]);
    let st = e.create(&wanted()).await.unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(
        ids(&st).get("10.0.0.0/16").map(String::as_str),
        Some("sgr-00000000000old001"),
        "the existing identical rule is adopted"
    );
    assert_eq!(
        ids(&st).get(CLIENT_SG).map(String::as_str),
        Some("sgr-0000000000000new1")
    );
    assert!(ct.num_calls() >= 1, "the adopted rule is tagged");
    assert_eq!(auth.num_calls(), 2);
}

fn described(id: &str) -> SecurityGroup {
    SecurityGroup::builder()
        .group_id(id)
        .group_name("m-cluster")
        .vpc_id("vpc-0123456789abcdef0")
        .owner_id(OWN)
        .build()
}

#[tokio::test]
async fn dependency_violation_is_retried_then_reported_with_what_holds_the_group() {
    let st = {
        let mut s = crate::domain::planning::state::AccessState {
            inputs: wanted(),
            outputs: Default::default(),
        };
        s.outputs.id = CLUSTER_SG.into();
        s.outputs.cluster_security_group_id = CLUSTER_SG.into();
        s.outputs.owner_id = OWN.into();
        s
    };
    let groups = mock!(aws_sdk_ec2::Client::describe_security_groups).then_output(|| {
        DescribeSecurityGroupsOutput::builder()
            .security_groups(described(CLUSTER_SG))
            .build()
    });
    let rules = no_rules();
    let del = mock!(aws_sdk_ec2::Client::delete_security_group)
        .sequence()
        .error(|| DeleteSecurityGroupError::generic(meta("DependencyViolation")))
        .times(2)
        .output(|| DeleteSecurityGroupOutput::builder().build())
        .build();
    let e = engine(&[&groups, &rules, &del], &[]);
    e.delete(&st).await.unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(del.num_calls(), 3);

    let stuck = mock!(aws_sdk_ec2::Client::delete_security_group)
        .then_error(|| DeleteSecurityGroupError::generic(meta("DependencyViolation")));
    let enis = mock!(aws_sdk_ec2::Client::describe_network_interfaces).then_output(|| {
        DescribeNetworkInterfacesOutput::builder()
            .network_interfaces(
                NetworkInterface::builder()
                    .network_interface_id("eni-0123456789abcdef0")
                    .build(),
            )
            .build()
    });
    let clusters = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .then_output(|| DescribeCacheClustersOutput::builder().build());
    let serverless = mock!(aws_sdk_elasticache::Client::describe_serverless_caches)
        .then_output(|| DescribeServerlessCachesOutput::builder().build());
    let e = engine(&[&groups, &rules, &stuck, &enis], &[&clusters, &serverless]);
    let f = e.delete(&st).await.expect_err("delete fails");
    let d = &f.diagnostics[0];
    assert!(
        d.summary.contains("still in use") && d.detail.contains("eni-0123456789abcdef0"),
        "{d:?}"
    );
    assert!(
        stuck.num_calls() >= 3,
        "retried until the delete timeout: {}",
        stuck.num_calls()
    );
    assert_eq!(f.state.map(|s| s.outputs.id), Some(CLUSTER_SG.to_string()));
}
