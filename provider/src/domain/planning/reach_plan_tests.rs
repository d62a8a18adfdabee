use serde_json::json;

use super::*;
use crate::domain::declaration::desired;

fn desired(cfg: serde_json::Value) -> Desired {
    desired::parse(&Value::from_json(&cfg)).unwrap().value
}

fn planned(extra: serde_json::Value) -> Value {
    let mut v = Value::from_json(&json!({"port": 6379, "vpc_id": "vpc-0123456789abcdef0"}));
    if let Value::Map(m) = Value::from_json(&extra) {
        for (k, x) in m {
            v.set(&k, x);
        }
    }
    v
}

#[test]
fn a_create_knows_the_declared_sources_and_their_findings_but_not_the_new_ids() {
    let d = desired(
        json!({"vpc_id": "vpc-0123456789abcdef0", "allowed_cidr_blocks": ["203.0.113.0/24"],
        "allow_public_cidrs": true, "allowed_prefix_list_ids": ["pl-0123abcd"]}),
    );
    let mut p = planned(json!({}));
    for n in [
        "cluster_security_group_id",
        "client_security_group_id",
        "ingress_rule_ids",
        "owner_id",
    ] {
        p.set(n, Value::Unknown);
    }
    let v = predict(&d, &p, &ClusterFacts::None, &Value::Null);
    let sources = v.get("sources").as_list().unwrap().to_vec();
    assert_eq!(sources.len(), 3);
    // own client first (its id unknown), then by kind
    assert!(sources[0].get("reference").is_unknown());
    assert_eq!(sources[0].get("network_interfaces"), &Value::Number(0.0));
    assert_eq!(sources[1].get("reference"), &Value::from("203.0.113.0/24"));
    assert_eq!(sources[1].get("public"), &Value::Bool(true));
    assert!(
        sources[2].get("public").is_unknown(),
        "a prefix list's entries are not known"
    );
    assert!(sources
        .iter()
        .all(|s| s.get("rule_id").is_unknown() && s.get("on_group").is_unknown()));
    let f = v.get("findings").as_list().unwrap().to_vec();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].get("id"), &Value::from("public-source"));
    assert_eq!(v.get("cluster"), &Value::Null);
}

#[test]
fn a_cluster_not_read_leaves_cluster_and_findings_unknown() {
    let d = desired(
        json!({"cluster": {"replication_group_id": "demo"}, "create_client_security_group": false,
        "allowed_cidr_blocks": ["10.0.0.0/8"]}),
    );
    let p = planned(
        json!({"cluster_security_group_id": "sg-00000000000000001", "owner_id": "123456789012",
        "client_security_group_id": null, "ingress_rule_ids": {"10.0.0.0/8": "sgr-1"}}),
    );
    let v = predict(&d, &p, &ClusterFacts::NotRead, &Value::Null);
    assert!(v.get("cluster").is_unknown() && v.get("findings").is_unknown());
    let s = &v.get("sources").as_list().unwrap()[0];
    assert_eq!(s.get("rule_id"), &Value::from("sgr-1"));
    assert_eq!(s.get("on_group"), &Value::from("sg-00000000000000001"));
}

#[test]
fn conform_keeps_what_the_plan_knew_and_fills_the_rest_by_identity() {
    let planned = Value::from_json(
        &json!({"schema_version": 1, "port": 6379, "cluster": null, "findings": [],
        "sources": [{"kind": "security_group", "reference": null, "managed": true}, {"kind": "cidr", "reference": "10.0.0.0/8", "managed": true}]}),
    );
    let mut planned = planned;
    let mut first = planned.get("sources").as_list().unwrap()[0].clone();
    first.set("reference", Value::Unknown);
    first.set("rule_id", Value::Unknown);
    let second = planned.get("sources").as_list().unwrap()[1].clone();
    planned.set("sources", Value::List(vec![first, second]));
    let observed = Value::from_json(&json!({"schema_version": 1, "port": 6379, "cluster": null,
        "findings": [{"id": "nacl-denies-port"}],
        "sources": [{"kind": "cidr", "reference": "10.0.0.0/8", "managed": true, "rule_id": "sgr-2"},
                    {"kind": "security_group", "reference": "sg-00000000000000009", "managed": true, "rule_id": "sgr-1"},
                    {"kind": "cidr", "reference": "10.9.0.0/16", "managed": false, "rule_id": "sgr-3"}]}));
    let c = conform(&planned, &observed);
    let s = c.get("sources").as_list().unwrap();
    assert_eq!(s.len(), 2, "what only AWS reveals waits for the refresh");
    assert_eq!(s[0].get("reference"), &Value::from("sg-00000000000000009"));
    assert_eq!(s[0].get("rule_id"), &Value::from("sgr-1"));
    assert_eq!(
        s[1].get("rule_id"),
        &Value::Null,
        "a known value of the plan is kept"
    );
    assert_eq!(c.get("findings"), &Value::List(vec![]));
    assert_eq!(conform(&Value::Unknown, &observed), observed);
}
