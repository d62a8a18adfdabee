//! Property tests of every input parser: random strings (and numbers) never panic; a refusal has a
//! message, and parsed as a configuration it is a diagnostic at the attribute's path.

use proptest::prelude::*;

use super::*;
use crate::domain::declaration::value::Value;
use crate::domain::declaration::{desired, settings};

/// Strings near the formats (ids, CIDR blocks, durations, ARNs, URLs) and anything at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "(sg|vpc|pl)-[0-9a-fA-F]{0,20}",
        "[0-9]{0,14}/sg-[0-9a-f]{0,18}",
        "[0-9a-f:.]{0,40}/[0-9-]{0,4}",
        "[0-9.-]{0,6}(ns|us|µs|ms|s|m|h|d)?([0-9.]{0,4}(s|m|h))?",
        "arn:[a-z-]{0,8}:iam::[0-9]{0,13}:[a-z]{0,5}/.{0,8}",
        "(https?|ftp)://[^/]{0,20}(:[0-9]{0,6})?(/.{0,6})?",
        "[a-zA-Z0-9-]{0,60}",
    ]
}

fn message(r: Result<impl Sized, String>) {
    if let Err(e) = r {
        assert!(!e.trim().is_empty(), "empty error message");
    }
}

/// Parses `{attr: v}` (with a VPC so that the configuration is otherwise valid) and checks that
/// every error points at `attr`.
fn at_path(attr: &str, v: serde_json::Value) {
    let mut j = serde_json::json!({"vpc_id": "vpc-0123456789abcdef0", "allow_public_cidrs": true});
    j[attr] = v;
    if let Err(diags) = desired::parse(&Value::from_json(&j)) {
        for d in diags.iter().filter(|d| d.is_error()) {
            let head = d.path.as_ref().and_then(|p| p.head());
            assert_eq!(head, Some(attr.split('.').next().unwrap_or(attr)), "{d:?}");
            assert!(!d.detail.is_empty(), "{d:?}");
        }
    }
}

fn setting_at_path(j: serde_json::Value, attr: &str) {
    if let Err(diags) = settings::parse(&Value::from_json(&j)) {
        for d in &diags {
            assert_eq!(d.path.as_ref().and_then(|p| p.head()), Some(attr), "{d:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn string_parsers_never_panic(s in text(), max in 0usize..300) {
        message(Cidr::parse(&s));
        message(GroupRef::parse(&s));
        message(PrefixListId::parse(&s));
        message(VpcId::parse(&s));
        message(Timeout::parse(&s));
        message(parse_duration(&s));
        for attr in CLUSTER_ATTRS.into_iter().chain(["no_such_attribute"]) {
            message(ClusterRef::parse(attr, &s));
        }
        for (summary, detail) in aws_text_problems("description", &s, max) {
            prop_assert!(!summary.is_empty() && !detail.is_empty());
        }
        message(settings::role_arn_rule(&s));
        message(settings::endpoint_rule(&s));
    }

    #[test]
    fn port_parser_never_panics(n in prop_oneof![any::<f64>(), -100_000.0..100_000.0f64]) {
        message(Port::parse(n));
        at_path("port", serde_json::json!(n));
    }

    #[test]
    fn every_refused_string_is_reported_at_its_attribute(s in text()) {
        for attr in ["vpc_id", "name", "name_prefix", "description"] {
            at_path(attr, serde_json::json!(s));
        }
        for attr in ["client_security_group_ids", "allowed_cidr_blocks", "allowed_prefix_list_ids"] {
            at_path(attr, serde_json::json!([s.clone(), "10.0.0.0/8"]));
        }
        at_path("cluster", serde_json::json!({"replication_group_id": s.clone()}));
        at_path("timeouts", serde_json::json!({"create": s.clone(), "delete": s.clone()}));
        at_path("tags", serde_json::json!({s.clone(): s.clone()}));
        for attr in ["region", "profile", "max_retries"] {
            let v = if attr == "max_retries" { serde_json::json!(s.len() as f64 - 3.5) } else { serde_json::json!(s.clone()) };
            setting_at_path(serde_json::json!({attr: v}), attr);
        }
        setting_at_path(serde_json::json!({"endpoints": {"ec2": s.clone()}}), "endpoints");
        setting_at_path(serde_json::json!({"assume_role": {"role_arn": s.clone(), "duration": s.clone()}}), "assume_role");
    }
}
