//! Secrets kept out of messages: by path, and by text.

use super::*;
use crate::domain::declaration::desired;

fn v(j: serde_json::Value) -> Value {
    Value::from_json(&j)
}

#[test]
fn a_cidr_block_is_hidden_with_its_network_and_addresses() {
    let s = Secrets::default();
    assert_eq!(s.scrub("nothing remembered"), "nothing remembered");
    s.remember(&v(serde_json::json!(["10.1.2.3/16"])));
    let text =
        "\"10.1.2.3/16\" is the network 10.1.0.0/16; peer: 10.1.2.3 or 10.1.0.0; keep 10.2.0.0/16";
    assert_eq!(
        s.scrub(text),
        "\"[secret]\" is the network [secret]; peer: [secret] or [secret]; keep 10.2.0.0/16"
    );
}

#[test]
fn keys_numbers_group_parts_and_escapes_are_hidden_in_one_pass() {
    let s = Secrets::default();
    s.remember(&v(serde_json::json!({"team-name": "line\nbreak value"})));
    s.remember(&v(serde_json::json!([
        16379,
        "123456789012/sg-0123456789abcdef0",
        "secret"
    ])));
    let out = s.scrub(
        "tag \"team-name\" = \"line\\nbreak value\" on port 16379, group sg-0123456789abcdef0 of 123456789012; a secret",
    );
    assert_eq!(
        out,
        "tag \"[secret]\" = \"[secret]\" on port [secret], group [secret] of [secret]; a [secret]"
    );
    // The replacement text itself is not replaced again ("secret" is one of the secrets).
    assert!(!out.contains("[[secret]]"), "{out}");
}

#[test]
fn short_strings_are_hidden_only_where_quoted() {
    let s = Secrets::default();
    s.remember(&v(serde_json::json!({"d": "ab"})));
    assert_eq!(
        s.scrub("description \"ab\" or 'ab' about cabs"),
        "description [secret] or [secret] about cabs"
    );
}

#[test]
fn a_diagnostic_about_a_secret_keeps_its_path_and_summary_only() {
    let secret: BTreeSet<String> = ["allowed_cidr_blocks".to_string(), "tags".to_string()].into();
    let config = v(serde_json::json!({
        "vpc_id": "vpc-01234567",
        "allowed_cidr_blocks": ["10.1.2.3/16", "10.0.0.0/33"],
        "tags": {"aws:owner": "hidden-owner"},
        "description": "caf\u{e9} visible",
    }));
    let diags = desired::parse(&config).expect_err("invalid");
    let canonical = desired::parse(&v(serde_json::json!({
        "vpc_id": "vpc-01234567",
        "allowed_cidr_blocks": ["10.1.2.3/16"],
    })))
    .expect("valid")
    .warnings;
    let all: Vec<Diagnostic> = diags
        .iter()
        .chain(&canonical)
        .map(|d| shown(d, &secret))
        .collect();
    let text = format!("{all:?}");
    for hidden in [
        "10.1.2.3",
        "10.1.0.0",
        "10.0.0.0/33",
        "aws:owner",
        "hidden-owner",
    ] {
        assert!(!text.contains(hidden), "{hidden} shown: {text}");
    }
    let at = |p: &str| {
        all.iter()
            .filter(|d| d.path.as_ref().map(ToString::to_string).as_deref() == Some(p))
            .collect::<Vec<_>>()
    };
    assert!(at("allowed_cidr_blocks[1]")[0]
        .detail
        .contains("such as 10.0.0.0/16"));
    assert_eq!(
        at("tags")[0].summary,
        "Reserved tag key",
        "the key is cut from the path"
    );
    let warned = at("allowed_cidr_blocks[0]");
    assert!(warned[0].detail.contains("network address"), "{warned:?}");
    // Not secret: shown as the core wrote it.
    let described = at("description");
    assert!(described[0].detail.contains('\u{e9}'), "{described:?}");
}

#[test]
fn summaries_quote_no_value() {
    // The path-based layer shows summaries as written: they must name attributes only.
    let values = [
        "vpc-xyz",
        "10.0.0.0/33",
        "8.8.8.8/32",
        "sg-1",
        "pl-123",
        "bad_id!",
        "sg-name",
        "aws:x",
        "ten minutes",
        "0s",
    ];
    let config = v(serde_json::json!({
        "vpc_id": "vpc-xyz",
        "allowed_cidr_blocks": ["10.0.0.0/33", "8.8.8.8/32"],
        "client_security_group_ids": ["sg-1"],
        "allowed_prefix_list_ids": ["pl-123"],
        "name": "sg-name",
        "tags": {"aws:x": "y"},
        "timeouts": {"create": "ten minutes", "delete": "0s"},
    }));
    let mut diags = desired::parse(&config).expect_err("invalid");
    diags.extend(
        desired::parse(&v(
            serde_json::json!({"cluster": {"replication_group_id": "bad_id!"}}),
        ))
        .expect_err("invalid"),
    );
    assert!(diags.len() >= 8, "{diags:?}");
    for d in &diags {
        for x in values {
            assert!(!d.summary.contains(x), "{x} in the summary of {d:?}");
        }
    }
}
