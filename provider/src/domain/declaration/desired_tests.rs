//! The inputs parsed once: every problem at its attribute path, unknown values left to the plan.

use super::*;
use crate::domain::diag::Diagnostic;
use crate::domain::types::ClusterRef;

fn cfg(j: serde_json::Value) -> Value {
    Value::from_json(&j)
}

/// The diagnostics of a configuration: its errors, or its warnings when it parses.
fn diags(c: &Value) -> Vec<Diagnostic> {
    match parse(c) {
        Ok(c) => c.warnings,
        Err(d) => d,
    }
}

/// (case, config, expected path of the first error or None for valid, text the detail must contain)
#[test]
fn validation_table() {
    let cases: Vec<(&str, serde_json::Value, Option<&str>, &str)> = vec![
        (
            "minimal",
            serde_json::json!({"vpc_id": "vpc-0123456789abcdef0"}),
            None,
            "",
        ),
        (
            "cluster only",
            serde_json::json!({"cluster": {"replication_group_id": "demo"}}),
            None,
            "",
        ),
        (
            "neither vpc nor cluster",
            serde_json::json!({}),
            Some("vpc_id"),
            "set cluster",
        ),
        (
            "bad vpc",
            serde_json::json!({"vpc_id": "vpc-xyz"}),
            Some("vpc_id"),
            "not a VPC id",
        ),
        (
            "two cluster ids",
            serde_json::json!({"cluster": {"replication_group_id": "a", "cache_cluster_id": "b"}}),
            Some("cluster.cache_cluster_id"),
            "replication_group_id and cache_cluster_id are set",
        ),
        (
            "no cluster id",
            serde_json::json!({"cluster": {}}),
            Some("cluster"),
            "none is set",
        ),
        (
            "port zero",
            serde_json::json!({"vpc_id": "vpc-01234567", "port": 0}),
            Some("port"),
            "1 to 65535",
        ),
        (
            "port too big",
            serde_json::json!({"vpc_id": "vpc-01234567", "port": 70000}),
            Some("port"),
            "1 to 65535",
        ),
        (
            "port fraction",
            serde_json::json!({"vpc_id": "vpc-01234567", "port": 63.5}),
            Some("port"),
            "integer",
        ),
        (
            "name and prefix",
            serde_json::json!({"vpc_id": "vpc-01234567", "name": "a", "name_prefix": "b"}),
            Some("name_prefix"),
            "not both",
        ),
        (
            "name sg-",
            serde_json::json!({"vpc_id": "vpc-01234567", "name": "sg-foo"}),
            Some("name"),
            "start with sg-",
        ),
        (
            "name too long",
            serde_json::json!({"vpc_id": "vpc-01234567", "name": "a".repeat(248)}),
            Some("name"),
            "at most 247",
        ),
        (
            "name bad char",
            serde_json::json!({"vpc_id": "vpc-01234567", "name": "a%b"}),
            Some("name"),
            "'%'",
        ),
        (
            "prefix too long",
            serde_json::json!({"vpc_id": "vpc-01234567", "name_prefix": "a".repeat(222)}),
            Some("name_prefix"),
            "at most 221",
        ),
        (
            "description bad char",
            serde_json::json!({"vpc_id": "vpc-01234567", "description": "caf\u{e9}"}),
            Some("description"),
            "not allowed",
        ),
        (
            "bad sg",
            serde_json::json!({"vpc_id": "vpc-01234567", "client_security_group_ids": ["sg-1"]}),
            Some("client_security_group_ids[0]"),
            "not a security group id",
        ),
        (
            "sg of 9 hex digits",
            serde_json::json!({"vpc_id": "vpc-01234567", "client_security_group_ids": ["sg-0123abcd9"]}),
            Some("client_security_group_ids[0]"),
            "8 or 17 hex digits",
        ),
        (
            "peered sg ok",
            serde_json::json!({"vpc_id": "vpc-01234567", "client_security_group_ids": ["123456789012/sg-0123456789abcdef0"]}),
            None,
            "",
        ),
        (
            "peered bad account",
            serde_json::json!({"vpc_id": "vpc-01234567", "client_security_group_ids": ["1234/sg-01234567"]}),
            Some("client_security_group_ids[0]"),
            "12 digits",
        ),
        (
            "bad cidr",
            serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["10.0.0.0/33"]}),
            Some("allowed_cidr_blocks[0]"),
            "not a CIDR",
        ),
        (
            "public cidr",
            serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["0.0.0.0/0"]}),
            Some("allowed_cidr_blocks[0]"),
            "allow_public_cidrs = true",
        ),
        (
            "public v6",
            serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["::/0"]}),
            Some("allowed_cidr_blocks[0]"),
            "allow_public_cidrs",
        ),
        (
            "public allowed",
            serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["0.0.0.0/0", "::/0"], "allow_public_cidrs": true}),
            None,
            "",
        ),
        (
            "private mixed",
            serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["10.1.2.3/16", "fd00::/8", "100.64.0.0/10"]}),
            None,
            "",
        ),
        (
            "duplicate network",
            serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["10.1.0.0/16", "10.1.2.3/16"]}),
            Some("allowed_cidr_blocks[1]"),
            "same network",
        ),
        (
            "bad prefix list",
            serde_json::json!({"vpc_id": "vpc-01234567", "allowed_prefix_list_ids": ["prefix"]}),
            Some("allowed_prefix_list_ids[0]"),
            "prefix list",
        ),
        (
            "ssh without client group",
            serde_json::json!({"vpc_id": "vpc-01234567", "create_client_security_group": false, "client_ssh_cidr_blocks": ["10.0.0.0/8"]}),
            Some("client_ssh_cidr_blocks"),
            "create_client_security_group = true",
        ),
        (
            "public ssh",
            serde_json::json!({"vpc_id": "vpc-01234567", "client_ssh_cidr_blocks": ["8.8.8.8/32"]}),
            Some("client_ssh_cidr_blocks[0]"),
            "allow_public_cidrs",
        ),
        (
            "attach without cluster",
            serde_json::json!({"vpc_id": "vpc-01234567", "attach_to_cluster": true}),
            Some("attach_to_cluster"),
            "Set cluster",
        ),
        (
            "reserved tag",
            serde_json::json!({"vpc_id": "vpc-01234567", "tags": {"aws:x": "y"}}),
            Some("tags[\"aws:x\"]"),
            "reserved",
        ),
        (
            "own tag",
            serde_json::json!({"vpc_id": "vpc-01234567", "tags": {"elasticache-access:name": "y"}}),
            Some("tags[\"elasticache-access:name\"]"),
            "reserved",
        ),
        (
            "bad timeout",
            serde_json::json!({"vpc_id": "vpc-01234567", "timeouts": {"create": "ten minutes"}}),
            Some("timeouts.create"),
            "not a duration",
        ),
        (
            "good timeout",
            serde_json::json!({"vpc_id": "vpc-01234567", "timeouts": {"create": "1h30m", "delete": "45s"}}),
            None,
            "",
        ),
        (
            "zero timeout",
            serde_json::json!({"vpc_id": "vpc-01234567", "timeouts": {"create": "0s"}}),
            Some("timeouts.create"),
            "is zero",
        ),
        (
            "zero timeout written with a fraction",
            serde_json::json!({"vpc_id": "vpc-01234567", "timeouts": {"update": "0.0m"}}),
            Some("timeouts.update"),
            "from 1s to 24h",
        ),
        (
            "sub-second timeout",
            serde_json::json!({"vpc_id": "vpc-01234567", "timeouts": {"delete": "500ms"}}),
            Some("timeouts.delete"),
            "shorter than a second",
        ),
        (
            "timeout past a day",
            serde_json::json!({"vpc_id": "vpc-01234567", "timeouts": {"create": "600h"}}),
            Some("timeouts.create"),
            "longer than 24h",
        ),
        (
            "the bounds themselves",
            serde_json::json!({"vpc_id": "vpc-01234567", "timeouts": {"create": "1s", "delete": "24h"}}),
            None,
            "",
        ),
        (
            "unknown attribute",
            serde_json::json!({"vpc_id": "vpc-01234567", "prot": 1}),
            Some("prot"),
            "Remove it",
        ),
        (
            "wrong type",
            serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": "10.0.0.0/8"}),
            Some("allowed_cidr_blocks"),
            "a list",
        ),
        (
            "one group named twice",
            serde_json::json!({"vpc_id": "vpc-01234567", "client_security_group_ids": ["sg-0123456789abcdef0", "123456789012/sg-0123456789abcdef0"]}),
            Some("client_security_group_ids[1]"),
            "sg-0123456789abcdef0",
        ),
        (
            "computed attribute as input",
            serde_json::json!({"vpc_id": "vpc-01234567", "owner_id": "1"}),
            Some("owner_id"),
            "Remove it",
        ),
    ];
    for (case, j, want_path, want_text) in cases {
        let diags = diags(&cfg(j));
        let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
        match want_path {
            None => assert!(errors.is_empty(), "{case}: unexpected {errors:?}"),
            Some(p) => {
                let d = errors
                    .iter()
                    .find(|d| d.path.as_ref().map(|x| x.to_string()) == Some(p.to_string()));
                let Some(d) = d else {
                    panic!("{case}: no error at {p}: {diags:?}")
                };
                assert!(
                    format!("{} {}", d.summary, d.detail).contains(want_text),
                    "{case}: {d:?} lacks {want_text:?}"
                );
            }
        }
    }
}

#[test]
fn unknown_values_are_accepted_where_undecidable() {
    let mut c = cfg(serde_json::json!({"allowed_cidr_blocks": ["0.0.0.0/0"]}));
    c.set("vpc_id", Value::Unknown);
    c.set("allow_public_cidrs", Value::Unknown);
    c.set(
        "client_security_group_ids",
        Value::List(vec![Value::Unknown]),
    );
    c.set("port", Value::Unknown);
    assert!(diags(&c).is_empty(), "{:?}", diags(&c));
    c.set("allow_public_cidrs", Value::Bool(false));
    assert!(!diags(&c).is_empty());
}

#[test]
fn rule_quota_is_left_to_the_plan() {
    // validation knows neither the account's quota nor the prefix lists' sizes: the plan decides
    let cidrs: Vec<String> = (0..61).map(|i| format!("10.{i}.0.0/16")).collect();
    let d = diags(&cfg(
        serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": cidrs}),
    ));
    assert!(d.iter().all(|d| !d.summary.contains("quota")), "{d:?}");
}

#[test]
fn inputs_parse_into_typed_values() {
    let c = parse(&cfg(serde_json::json!({
        "cluster": {"replication_group_id": "demo"},
        "port": 6380,
        "client_security_group_ids": ["222222222222/sg-0123456789abcdef0"],
        "allowed_cidr_blocks": ["10.1.2.3/16"],
    })))
    .expect("parses");
    let d = c.value;
    assert_eq!(
        d.cluster,
        Some(Known::Known(ClusterRef::ReplicationGroup("demo".into())))
    );
    assert_eq!(
        d.port.as_ref().and_then(Known::known).map(|p| p.get()),
        Some(6380)
    );
    let groups = d
        .client_security_group_ids
        .as_ref()
        .and_then(Known::known)
        .cloned()
        .unwrap_or_default();
    assert_eq!(groups[0].text(), "222222222222/sg-0123456789abcdef0");
    let cidrs = d
        .allowed_cidr_blocks
        .as_ref()
        .and_then(Known::known)
        .cloned()
        .unwrap_or_default();
    assert_eq!(cidrs[0].net().to_string(), "10.1.0.0/16");
    assert_eq!(cidrs[0].text(), "10.1.2.3/16", "the spelling is kept");
    assert_eq!(c.warnings.len(), 1, "non-canonical CIDR: {:?}", c.warnings);
}

#[test]
fn recorded_inputs_skip_the_rules_between_attributes() {
    // a state may hold what a configuration would be refused for (public CIDR without the flag)
    let v =
        cfg(serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["0.0.0.0/0"]}));
    assert!(parse(&v).is_err());
    assert!(parse_recorded(&v).is_ok());
}

#[test]
fn a_recorded_zero_timeout_reads_and_means_the_default() {
    // States written before zero was refused may hold it: they must still read (destroy works),
    // and the operation gets the default rather than an immediate deadline.
    let v = cfg(serde_json::json!({"vpc_id": "vpc-01234567", "timeouts": {"delete": "0s"}}));
    let d = parse_recorded(&v).expect("a recorded zero reads");
    assert_eq!(d.timeout(Op::Delete), Duration::from_secs(15 * 60));
    assert!(parse(&v).is_err(), "a configuration may not declare it");
}

#[test]
fn the_value_of_the_inputs_round_trips() {
    let v = cfg(
        serde_json::json!({"vpc_id": "vpc-01234567", "name": "a", "allowed_cidr_blocks": ["10.0.0.0/8"], "tags": {"k": "v"}, "timeouts": {"create": "5m"}}),
    );
    let d = parse(&v).expect("parses").value;
    let back = parse(&d.to_value()).expect("parses again").value;
    assert_eq!(back, d);
}
