//! The plan pipeline: optional+computed inputs, replacement, outputs that follow inputs.

use super::*;
use crate::domain::cloud::ClusterKind;
use crate::domain::declaration::desired;

const VPC: &str = "vpc-0123456789abcdef0";

fn facts(cluster: ClusterFacts) -> Facts {
    Facts {
        default_tags: Known::Known(BTreeMap::new()),
        cluster,
    }
}

fn info(port: u16) -> ClusterInfo {
    ClusterInfo {
        kind: ClusterKind::ReplicationGroup,
        id: "demo".into(),
        vpc_id: Some(VPC.into()),
        port: Some(port),
        endpoint: Some(format!("demo.example:{port}")),
        engine: Some("redis".into()),
        security_group_ids: vec![],
        status: "available".into(),
        members: vec![],
        replication_group_id: None,
        member_groups: vec![],
        posture: Default::default(),
    }
}

fn plan_of(prior: Option<&AccessState>, j: serde_json::Value, f: &Facts) -> Plan {
    let config = Value::from_json(&j);
    let d = desired::parse(&config).expect("valid").value;
    plan(prior, &config, &d, f)
}

/// A state as the apply of `p` would record it, with made-up ids.
fn applied(p: &Plan) -> AccessState {
    let mut v = p.planned.clone();
    for (attr, id) in [
        ("id", "sg-0000000000000c001"),
        ("cluster_security_group_id", "sg-0000000000000c001"),
        ("owner_id", "123456789012"),
    ] {
        v.set(attr, Value::from(id));
    }
    if v.get("client_security_group_id").is_unknown() {
        v.set(
            "client_security_group_id",
            Value::from("sg-0000000000000c002"),
        );
    }
    if v.get("ingress_rule_ids").is_unknown() {
        v.set(
            "ingress_rule_ids",
            Value::from_json(&serde_json::json!({"sg-0000000000000c002": "sgr-00000000000000001"})),
        );
    }
    for attr in ["client_ssh_rule_ids", "tags_all"] {
        if v.get(attr).is_unknown() {
            v.set(attr, Value::Map(Default::default()));
        }
    }
    if v.get("unmanaged_ingress").is_unknown() {
        v.set("unmanaged_ingress", Value::List(vec![]));
    }
    if v.get("cluster_endpoint").is_unknown() {
        v.set("cluster_endpoint", Value::from("demo.example:6379"));
    }
    AccessState::from_value(&v).expect("a state")
}

#[test]
fn the_cluster_decides_vpc_and_port_and_the_same_inputs_plan_nothing() {
    let f = facts(ClusterFacts::Known(info(6380)));
    let cfg = serde_json::json!({"name": "app", "cluster": {"replication_group_id": "demo"}});
    let p = plan_of(None, cfg.clone(), &f);
    assert_eq!(p.planned.get("vpc_id").as_str(), Some(VPC));
    assert_eq!(p.planned.get("port").as_f64(), Some(6380.0));
    assert!(p.planned.get("id").is_unknown());
    let st = applied(&p);
    let again = plan_of(Some(&st), cfg, &f);
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    assert_eq!(
        again.planned.get("id").as_str(),
        Some("sg-0000000000000c001"),
        "outputs that follow nothing changed are kept"
    );
}

#[test]
fn removing_port_plans_the_clusters_port() {
    let f = facts(ClusterFacts::Known(info(6379)));
    let with_port = serde_json::json!({"name": "app", "cluster": {"replication_group_id": "demo"}, "port": 7000});
    let st = applied(&plan_of(None, with_port, &f));
    let p = plan_of(
        Some(&st),
        serde_json::json!({"name": "app", "cluster": {"replication_group_id": "demo"}}),
        &f,
    );
    assert_eq!(p.planned.get("port").as_f64(), Some(6379.0));
    assert!(
        p.changes.iter().any(|c| c.attr == "port"),
        "{:?}",
        p.changes
    );
    assert!(
        p.planned.get("ingress_rule_ids").is_unknown(),
        "rule ids follow the port"
    );
    assert!(!p.replaces());
}

#[test]
fn a_new_name_replaces_and_a_new_description_does_not() {
    let f = facts(ClusterFacts::None);
    let st = applied(&plan_of(
        None,
        serde_json::json!({"name": "app", "vpc_id": VPC}),
        &f,
    ));
    let renamed = plan_of(
        Some(&st),
        serde_json::json!({"name": "other", "vpc_id": VPC}),
        &f,
    );
    assert!(renamed.replaces());
    assert!(renamed.planned.get("id").is_unknown());
    let described = plan_of(
        Some(&st),
        serde_json::json!({"name": "app", "vpc_id": VPC, "description": "x"}),
        &f,
    );
    assert!(!described.replaces(), "{:?}", described.requires_replace);
    assert_eq!(
        described
            .changes
            .iter()
            .map(|c| c.attr.as_str())
            .collect::<Vec<_>>(),
        vec!["description"]
    );
}

#[test]
fn a_cluster_not_found_without_prior_leaves_its_facts_unknown() {
    let f = facts(ClusterFacts::NotFound(ClusterRef::ReplicationGroup(
        "later".into(),
    )));
    let p = plan_of(
        None,
        serde_json::json!({"name": "app", "cluster": {"replication_group_id": "later"}}),
        &f,
    );
    assert!(
        p.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        p.diagnostics
    );
    for attr in ["vpc_id", "port", "cluster_endpoint"] {
        assert!(p.planned.get(attr).is_unknown(), "{attr}");
    }
}

#[test]
fn default_tags_unknown_make_tags_all_unknown() {
    let f = Facts {
        default_tags: Known::Unknown,
        cluster: ClusterFacts::None,
    };
    let p = plan_of(
        None,
        serde_json::json!({"name": "app", "vpc_id": VPC, "tags": {"a": "b"}}),
        &f,
    );
    assert!(p.planned.get("tags_all").is_unknown());
}

#[test]
fn a_replacement_collides_only_when_a_fixed_name_stays_in_its_vpc() {
    let f = facts(ClusterFacts::None);
    let other_vpc = "vpc-0fedcba9876543210";
    let with_unknown_vpc = |j: serde_json::Value, prior: &AccessState| {
        let mut config = Value::from_json(&j);
        config.set("vpc_id", Value::Unknown);
        let d = desired::parse(&config).expect("valid").value;
        plan(Some(prior), &config, &d, &f)
    };
    let fixed = applied(&plan_of(
        None,
        serde_json::json!({"name": "app", "vpc_id": VPC}),
        &f,
    ));
    assert!(
        !plan_of(None, serde_json::json!({"name": "app", "vpc_id": VPC}), &f).replacement_collides
    );
    // The VPC may turn out the same: the replacement would make app-cluster next to the old one.
    let unknown_vpc = with_unknown_vpc(serde_json::json!({"name": "app"}), &fixed);
    assert!(unknown_vpc.replaces() && unknown_vpc.replacement_collides);
    // Not replaced by the plan, but an engine that replaces anyway (replaceOnChanges) must delete first.
    let described = plan_of(
        Some(&fixed),
        serde_json::json!({"name": "app", "vpc_id": VPC, "description": "x"}),
        &f,
    );
    assert!(!described.replaces() && described.replacement_collides);
    // Another name, or another VPC: the new groups do not meet the old ones.
    let renamed = plan_of(
        Some(&fixed),
        serde_json::json!({"name": "other", "vpc_id": VPC}),
        &f,
    );
    assert!(renamed.replaces() && !renamed.replacement_collides);
    let moved = plan_of(
        Some(&fixed),
        serde_json::json!({"name": "app", "vpc_id": other_vpc}),
        &f,
    );
    assert!(moved.replaces() && !moved.replacement_collides);
    // A generated name (name_prefix, or neither) differs for every create.
    for j in [
        serde_json::json!({"name_prefix": "app-", "vpc_id": VPC}),
        serde_json::json!({"vpc_id": VPC}),
    ] {
        let mut made = plan_of(None, j.clone(), &f);
        made.planned
            .set("name", Value::from("app-0000000000000000000000000a"));
        let p = with_unknown_vpc(j, &applied(&made));
        assert!(p.replaces() && !p.replacement_collides, "{p:?}");
    }
}

/// What an apply in the same call (Pulumi's Create and Update) takes instead of parsing `planned`
/// again must be `planned` parsed: the configuration's inputs and those the plan filled in.
#[test]
fn the_typed_plan_is_its_planned_value_parsed() {
    let demo = serde_json::json!({"cluster": {"replication_group_id": "demo"}});
    let first = plan_of(None, demo.clone(), &facts(ClusterFacts::Known(info(6380))));
    let prior = applied(&first);
    let cases = [
        (None, demo.clone(), facts(ClusterFacts::Known(info(6380)))),
        (None, demo.clone(), facts(ClusterFacts::NotRead)),
        (
            None,
            serde_json::json!({"vpc_id": VPC, "name_prefix": "app-", "allowed_cidr_blocks": ["10.1.0.0/16", "10.0.0.0/16"]}),
            facts(ClusterFacts::None),
        ),
        (
            Some(&prior),
            serde_json::json!({"cluster": {"replication_group_id": "demo"}, "description": "x"}),
            facts(ClusterFacts::Known(info(6380))),
        ),
    ];
    for (prior, config, f) in cases {
        let p = plan_of(prior, config.clone(), &f);
        let typed = p.typed.expect("the plan's values read as inputs");
        let parsed = desired::parse_recorded(&state::inputs_of(&p.planned)).expect("parses");
        assert_eq!(typed.inputs, parsed, "{config}");
        assert_eq!(typed.prior.as_ref(), prior, "{config}");
    }
}

/// The plan completes its inputs once, first, and sets only whole values after: what it returns
/// is complete, so no adapter completes it again.
#[test]
fn the_planned_state_is_complete() {
    let demo = serde_json::json!({"cluster": {"replication_group_id": "demo"}});
    let first = plan_of(None, demo.clone(), &facts(ClusterFacts::Known(info(6380))));
    let prior = applied(&first);
    let cases = [
        (None, demo.clone(), facts(ClusterFacts::Known(info(6380)))),
        (None, demo.clone(), facts(ClusterFacts::NotRead)),
        (
            None,
            serde_json::json!({"vpc_id": VPC, "client_ssh_cidr_blocks": ["10.9.0.0/16", "10.1.0.0/16"], "timeouts": {"create": "5m"}}),
            facts(ClusterFacts::None),
        ),
        (
            Some(&prior),
            serde_json::json!({"cluster": {"replication_group_id": "demo"}, "allowed_cidr_blocks": ["10.2.0.0/16"]}),
            facts(ClusterFacts::Known(info(6380))),
        ),
        (
            Some(&prior),
            demo.clone(),
            facts(ClusterFacts::Known(info(6379))),
        ),
    ];
    for (prior, config, f) in cases {
        let p = plan_of(prior, config.clone(), &f);
        assert_eq!(state::complete(p.planned.clone()), p.planned, "{config}");
    }
}
