//! The Pulumi adapter's own conversions (the lifecycle through it is in `lifecycle_tests.rs`).

use prost::Message;

use super::*;
use crate::domain::declaration::settings;
use crate::domain::diag::AttrPath;
use elasticache_proto::pulumirpc::{diff_response::DiffChanges, property_diff::Kind as DiffKind};
use std::time::Duration;

#[test]
fn custom_timeouts_are_whole_seconds_of_at_least_one() {
    assert_eq!(custom_timeout(0.0), None);
    assert_eq!(custom_timeout(f64::NAN), None);
    assert_eq!(custom_timeout(90.0), Some(Duration::from_secs(90)));
}

#[test]
fn diff_kinds_and_replaces() {
    let p = Plan {
        changes: vec![
            plan::Change {
                attr: "name".into(),
                kind: ChangeKind::Update,
                replaces: true,
            },
            plan::Change {
                attr: "port".into(),
                kind: ChangeKind::Add,
                replaces: false,
            },
            plan::Change {
                attr: "ingress_rule_ids".into(),
                kind: ChangeKind::Update,
                replaces: false,
            },
        ],
        requires_replace: vec![AttrPath::attr("name")],
        ..Default::default()
    };
    let r = convert::diff_response(&p);
    assert_eq!(r.changes, DiffChanges::DiffSome as i32);
    assert_eq!(r.replaces, vec!["name"]);
    assert_eq!(r.detailed_diff["name"].kind, DiffKind::UpdateReplace as i32);
    assert_eq!(r.detailed_diff["port"].kind, DiffKind::Add as i32);
    assert!(r.detailed_diff["port"].input_diff);
    assert!(!r.detailed_diff["ingressRuleIds"].input_diff);
    assert!(!r.delete_before_replace);
    let none = convert::diff_response(&Plan::default());
    assert_eq!(none.changes, DiffChanges::DiffNone as i32);
}

#[test]
fn configure_variables_map_to_the_provider_settings() {
    let req = rpc::ConfigureRequest {
        variables: [
            (
                "elasticache:config:region".to_string(),
                "us-east-1".to_string(),
            ),
            ("elasticache:config:maxRetries".to_string(), "3".to_string()),
            (
                "elasticache:config:endpoints".to_string(),
                "{\"ec2\":\"http://127.0.0.1:1\"}".to_string(),
            ),
            (
                "elasticache:config:version".to_string(),
                "0.1.0".to_string(),
            ),
        ]
        .into(),
        ..Default::default()
    };
    let v = convert::config_value(&req).expect("decodes").value;
    let s = settings::parse(&v).expect("valid").value;
    let aws = s.aws.known().cloned().expect("known");
    assert_eq!(aws.region.as_deref(), Some("us-east-1"));
    assert_eq!(aws.max_attempts, 3);
    assert_eq!(aws.endpoints.ec2.as_deref(), Some("http://127.0.0.1:1"));
}

#[test]
fn init_failed_detail_round_trips() {
    let st = with_detail(
        Code::Unknown,
        "boom",
        INIT_FAILED_TYPE_URL,
        rpc::ErrorResourceInitFailed {
            id: "sg-1".into(),
            ..Default::default()
        }
        .encode_to_vec(),
    );
    let decoded = RpcStatus::decode(st.details()).unwrap_or_default();
    assert_eq!(decoded.details.len(), 1);
    assert_eq!(decoded.details[0].type_url, INIT_FAILED_TYPE_URL);
    let inner =
        rpc::ErrorResourceInitFailed::decode(&decoded.details[0].value[..]).unwrap_or_default();
    assert_eq!(inner.id, "sg-1");
}

#[test]
fn delete_before_replace_follows_the_core_but_not_for_auto_names() {
    let colliding = Plan {
        replacement_collides: true,
        ..Default::default()
    };
    let named = |n: &str| Value::from_json(&serde_json::json!({ "name": n }));
    assert!(convert::delete_before_replace(
        &colliding,
        &named("cache"),
        "cache"
    ));
    // An auto-name is drawn anew by the Check of a replacement: no collision.
    assert!(!convert::delete_before_replace(
        &colliding,
        &named("cache-a1b2c3d"),
        "cache"
    ));
    assert!(!convert::delete_before_replace(
        &Plan::default(),
        &named("cache"),
        "cache"
    ));
    assert_eq!(
        inputs::logical_name("", "urn:pulumi:s::p::t::cache"),
        "cache"
    );
    assert_eq!(
        inputs::logical_name("given", "urn:pulumi:s::p::t::cache"),
        "given"
    );
}
