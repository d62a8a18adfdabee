//! The engine over the real AWS module and SDK clients, with AWS's answers scripted by
//! aws-smithy-mocks: the error paths the emulator cannot produce (throttling, eventual consistency,
//! DependencyViolation, InvalidPermission.Duplicate, a failure halfway through create).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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
use aws_sdk_ec2::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput;
use aws_sdk_ec2::operation::describe_security_group_rules::DescribeSecurityGroupRulesOutput;
use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput;
use aws_sdk_ec2::types::{NetworkInterface, SecurityGroup, SecurityGroupRule};
use aws_sdk_elasticache::operation::describe_cache_clusters::DescribeCacheClustersOutput;
use aws_smithy_mocks::{mock, mock_client, Rule as MockRule, RuleMode};
use aws_smithy_types::error::metadata::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;

use super::*;
use crate::aws::Aws;

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
    Engine::new(Arc::new(Aws::from_clients(ec2c, ecc)), BTreeMap::new()).with_backoff(Backoff {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(4),
    })
}

fn planned() -> Value {
    let c = Value::from_json(
        &serde_json::json!({"vpc_id": "vpc-0123456789abcdef0", "name": "m", "allowed_cidr_blocks": ["10.0.0.0/16"], "timeouts": {"delete": "200ms"}}),
    );
    plan::plan(&PlanInput {
        prior: None,
        config: &c,
        default_tags: Some(&BTreeMap::new()),
        cluster: None,
    })
    .planned
}

fn create_groups() -> MockRule {
    mock!(aws_sdk_ec2::Client::create_security_group).then_compute_output(|req| {
        let id = if req.group_name() == Some("m-cluster") {
            "sg-0000000000000c001"
        } else {
            "sg-0000000000000c002"
        };
        CreateSecurityGroupOutput::builder().group_id(id).build()
    })
}

fn rule_out(id: &str, group: &str) -> SecurityGroupRule {
    SecurityGroupRule::builder()
        .security_group_rule_id(id)
        .group_id(group)
        .group_owner_id("123456789012")
        .is_egress(false)
        .ip_protocol("tcp")
        .from_port(6379)
        .to_port(6379)
        .cidr_ipv4("10.0.0.0/16")
        .build()
}

fn authorize_ok() -> MockRule {
    mock!(aws_sdk_ec2::Client::authorize_security_group_ingress).then_compute_output(|req| {
        let g = req.group_id().unwrap_or_default().to_string();
        let mut out = AuthorizeSecurityGroupIngressOutput::builder().r#return(true);
        for (i, _) in req.ip_permissions().iter().enumerate() {
            out = out.security_group_rules(rule_out(&format!("sgr-00000000000000{i:03}"), &g));
        }
        out.build()
    })
}

fn describe_groups() -> MockRule {
    mock!(aws_sdk_ec2::Client::describe_security_groups).then_output(|| {
        DescribeSecurityGroupsOutput::builder()
            .security_groups(
                SecurityGroup::builder()
                    .group_id("sg-0000000000000c001")
                    .group_name("m-cluster")
                    .vpc_id("vpc-0123456789abcdef0")
                    .owner_id("123456789012")
                    .build(),
            )
            .build()
    })
}

#[tokio::test]
async fn throttled_create_is_retried_by_the_sdk_and_succeeds() {
    let throttled = mock!(aws_sdk_ec2::Client::create_security_group)
        .sequence()
        .error(|| CreateSecurityGroupError::generic(meta("RequestLimitExceeded")))
        .times(2)
        .output(|| {
            CreateSecurityGroupOutput::builder()
                .group_id("sg-0000000000000c001")
                .build()
        })
        .output(|| {
            CreateSecurityGroupOutput::builder()
                .group_id("sg-0000000000000c002")
                .build()
        })
        .build();
    let (auth, desc) = (authorize_ok(), describe_groups());
    let e = engine(&[&throttled, &auth, &desc], &[]);
    let st = e.create(&planned()).await;
    let st = st.unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        throttled.num_calls(),
        4,
        "two throttled answers, then the two groups"
    );
    assert_eq!(st.get("id"), &Value::from("sg-0000000000000c001"));
    assert_eq!(auth.num_calls(), 1, "every rule in one call");
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
                .security_group_rules(rule_out("sgr-00000000000000001", "sg-0000000000000c001"))
                .build()
        })
        .build();
    let desc = describe_groups();
    let e = engine(&[&groups, &auth, &desc], &[]);
    let st = e
        .create(&planned())
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(auth.num_calls(), 4);
    assert_eq!(
        st.get("ingress_rule_ids").get("10.0.0.0/16"),
        &Value::from("sgr-00000000000000001")
    );
}

#[tokio::test]
async fn failure_halfway_through_create_carries_the_created_ids() {
    let groups = create_groups();
    let auth = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress).then_error(|| {
        AuthorizeSecurityGroupIngressError::generic(meta("RulesPerSecurityGroupLimitExceeded"))
    });
    let e = engine(&[&groups, &auth], &[]);
    let err = e
        .create(&planned())
        .await
        .err()
        .unwrap_or_else(|| panic!("create should fail"));
    let st = err.state.unwrap_or_default();
    assert_eq!(st.get("id"), &Value::from("sg-0000000000000c001"));
    assert_eq!(
        st.get("client_security_group_id"),
        &Value::from("sg-0000000000000c002")
    );
    assert!(st.is_wholly_known());
    let d = &err.diagnostics[0];
    assert!(
        d.detail.contains("RulesPerSecurityGroupLimitExceeded") && d.detail.contains("quota"),
        "{d:?}"
    );
}

#[tokio::test]
async fn duplicate_permission_adopts_the_existing_rule() {
    let groups = create_groups();
    let auth = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress)
        .match_requests(|r| r.group_id() == Some("sg-0000000000000c001"))
        .sequence()
        .error(|| AuthorizeSecurityGroupIngressError::generic(meta("InvalidPermission.Duplicate")))
        .output(|| {
            AuthorizeSecurityGroupIngressOutput::builder()
                .security_group_rules(
                    SecurityGroupRule::builder()
                        .security_group_rule_id("sgr-0000000000000new1")
                        .group_id("sg-0000000000000c001")
                        .is_egress(false)
                        .ip_protocol("tcp")
                        .from_port(6379)
                        .to_port(6379)
                        .referenced_group_info(
                            aws_sdk_ec2::types::ReferencedSecurityGroup::builder()
                                .group_id("sg-0000000000000c002")
                                .user_id("123456789012")
                                .build(),
                        )
                        .group_owner_id("123456789012")
                        .build(),
                )
                .build()
        })
        .build();
    let existing = mock!(aws_sdk_ec2::Client::describe_security_group_rules).then_output(|| {
        DescribeSecurityGroupRulesOutput::builder()
            .security_group_rules(rule_out("sgr-00000000000old001", "sg-0000000000000c001"))
            .build()
    });
    let tag =
        mock!(aws_sdk_ec2::Client::create_tags).then_output(|| CreateTagsOutput::builder().build());
    let desc = describe_groups();
    let e = engine(&[&groups, &auth, &existing, &tag, &desc], &[]);
    let st = e
        .create(&planned())
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        st.get("ingress_rule_ids").get("10.0.0.0/16"),
        &Value::from("sgr-00000000000old001"),
        "the existing identical rule is adopted"
    );
    assert_eq!(
        st.get("ingress_rule_ids").get("sg-0000000000000c002"),
        &Value::from("sgr-0000000000000new1")
    );
    assert_eq!(tag.num_calls(), 1, "the adopted rule is tagged");
    assert_eq!(auth.num_calls(), 2);
}

#[tokio::test]
async fn dependency_violation_is_retried_then_reported_with_what_holds_the_group() {
    let del = mock!(aws_sdk_ec2::Client::delete_security_group)
        .sequence()
        .error(|| DeleteSecurityGroupError::generic(meta("DependencyViolation")))
        .times(2)
        .output(|| DeleteSecurityGroupOutput::builder().build())
        .build();
    let e = engine(&[&del], &[]);
    let mut st = planned();
    st.set("id", Value::from("sg-0000000000000c001"));
    st.set("client_security_group_id", Value::Null);
    assert!(e.delete(&st).await.is_ok());
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
    let refs = mock!(aws_sdk_ec2::Client::describe_security_groups)
        .then_output(|| DescribeSecurityGroupsOutput::builder().build());
    let clusters = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
        .then_output(|| DescribeCacheClustersOutput::builder().build());
    let e = engine(&[&stuck, &enis, &refs], &[&clusters]);
    let err = e
        .delete(&st)
        .await
        .err()
        .unwrap_or_else(|| panic!("delete should fail"));
    let d = &err.diagnostics[0];
    assert!(
        d.summary.contains("still in use") && d.detail.contains("eni-0123456789abcdef0"),
        "{d:?}"
    );
    assert!(
        stuck.num_calls() >= 3,
        "retried until the delete timeout: {}",
        stuck.num_calls()
    );
    assert_eq!(
        err.state.as_ref().map(|s| s.get("id").clone()),
        Some(Value::from("sg-0000000000000c001"))
    );
}
