//! Deriving the state from what AWS holds: managed rules keyed by source, foreign rules visible,
//! the recorded spelling kept where AWS agrees.

use super::*;
use crate::domain::declaration::desired;
use crate::domain::declaration::value::Value;

const OWN: &str = "123456789012";

fn group(id: &str, name: &str, tags: &[(&str, &str)]) -> Group {
    Group {
        id: id.into(),
        name: name.into(),
        description: String::new(),
        vpc_id: "vpc-01234567".into(),
        owner_id: OWN.into(),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn rule(id: &str, group: &str, source: Source, port: u16, managed_by: Option<&str>) -> Rule {
    Rule {
        id: id.into(),
        group_id: group.into(),
        is_egress: false,
        protocol: "tcp".into(),
        from_port: port.into(),
        to_port: port.into(),
        source_text: source.key(),
        source: Some(source),
        description: Some("access app".into()),
        tags: managed_by
            .map(|g| BTreeMap::from([(bk::ACCESS.to_string(), g.to_string())]))
            .unwrap_or_default(),
        owner_id: Some(OWN.into()),
    }
}

fn reference(j: serde_json::Value) -> Desired {
    desired::parse_recorded(&Value::from_json(&j)).expect("valid")
}

fn world(rules: Vec<Rule>) -> World {
    World {
        cluster_group: group(
            "sg-0000000000000c001",
            "app-cluster",
            &[(bk::NAME, "app"), ("team", "a")],
        ),
        client_group: None,
        rules,
        managed: BTreeSet::new(),
        cluster: None,
        attached: None,
        endpoint: None,
    }
}

#[test]
fn managed_rules_are_keyed_by_source_and_foreign_ones_are_unmanaged() {
    let cg = "sg-0000000000000c001";
    let cidr = Source::Cidr("10.1.0.0/16".parse().unwrap());
    let w = world(vec![
        rule("sgr-1", cg, cidr.clone(), 6379, Some(cg)),
        rule("sgr-2", cg, cidr.clone(), 6380, Some(cg)),
        rule(
            "sgr-3",
            cg,
            Source::Cidr("192.168.0.0/24".parse().unwrap()),
            6379,
            None,
        ),
    ]);
    let r = reference(
        serde_json::json!({"vpc_id": "vpc-01234567", "name": "app", "port": 6379, "create_client_security_group": false, "allowed_cidr_blocks": ["10.1.2.3/16"]}),
    );
    let st = derive(&w, &r, &TagSettings::default());
    let ids = &st.outputs.ingress_rule_ids;
    assert_eq!(ids.get("10.1.0.0/16").map(String::as_str), Some("sgr-1"));
    assert_eq!(
        ids.get("10.1.0.0/16 tcp/6380").map(String::as_str),
        Some("sgr-2"),
        "{ids:?}"
    );
    assert_eq!(
        st.outputs
            .unmanaged_ingress
            .iter()
            .map(|u| u.rule_id.as_str())
            .collect::<Vec<_>>(),
        vec!["sgr-3"]
    );
    let cidrs = known(&st.inputs.allowed_cidr_blocks)
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        cidrs.iter().map(Cidr::text).collect::<Vec<_>>(),
        vec!["10.1.2.3/16"],
        "the spelling is kept"
    );
    assert_eq!(
        st.outputs.tags_all.get("team").map(String::as_str),
        Some("a")
    );
}

#[test]
fn a_source_removed_in_aws_leaves_the_inputs() {
    let w = world(vec![]);
    let r = reference(
        serde_json::json!({"vpc_id": "vpc-01234567", "name": "app", "create_client_security_group": false, "allowed_cidr_blocks": ["10.1.0.0/16"]}),
    );
    let st = derive(&w, &r, &TagSettings::default());
    let cidrs = known(&st.inputs.allowed_cidr_blocks)
        .cloned()
        .unwrap_or_default();
    assert!(cidrs.is_empty(), "{cidrs:?}");
    assert!(st.outputs.ingress_rule_ids.is_empty());
}
