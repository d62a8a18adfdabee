use serde_json::json;

use super::*;

const AWS: &str = "registry.terraform.io/hashicorp/aws";

/// An `aws_security_group` as terraform-provider-aws 6.x writes it: the cache's group, its rule
/// from the clients' group on 6379 (made by an `aws_vpc_security_group_ingress_rule`, which the
/// group's inline `ingress` lists too), and the default egress rule.
fn cache_group() -> serde_json::Value {
    json!({
        "arn": "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0aaaaaaaaaaaaaaa1",
        "description": "Managed by Terraform",
        "egress": [{"cidr_blocks": ["0.0.0.0/0"], "description": "", "from_port": 0,
                    "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": "-1",
                    "security_groups": [], "self": false, "to_port": 0}],
        "id": "sg-0aaaaaaaaaaaaaaa1",
        "ingress": [{"cidr_blocks": [], "description": "clients", "from_port": 6379,
                     "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": "tcp",
                     "security_groups": ["sg-0bbbbbbbbbbbbbbb2"], "self": false, "to_port": 6379}],
        "name": "cache-sg",
        "name_prefix": "",
        "owner_id": "123456789012",
        "region": "eu-west-1",
        "revoke_rules_on_delete": false,
        "tags": {"Name": "cache-sg"},
        "tags_all": {"Name": "cache-sg", "team": "payments"},
        "timeouts": null,
        "vpc_id": "vpc-0123456789abcdef0"
    })
}

fn source(type_name: &str, state: serde_json::Value) -> MoveSource {
    MoveSource {
        provider: AWS.into(),
        type_name: type_name.into(),
        schema_version: SECURITY_GROUP_VERSION,
        state,
        identity: None,
    }
}

#[test]
fn an_aws_security_group_becomes_the_access_whose_cluster_group_it_is() {
    let m = adopt(&source(SECURITY_GROUP, cache_group())).expect("adopted");
    let v = m.state.to_value();
    assert!(v.is_wholly_known(), "{v:?}");
    for (attr, want) in [
        ("id", "sg-0aaaaaaaaaaaaaaa1"),
        ("cluster_security_group_id", "sg-0aaaaaaaaaaaaaaa1"),
        ("vpc_id", "vpc-0123456789abcdef0"),
        ("owner_id", "123456789012"),
        ("name", "cache-sg"),
    ] {
        assert_eq!(v.get(attr).as_str(), Some(want), "{attr}");
    }
    assert_eq!(v.get("port").as_f64(), Some(6379.0));
    assert_eq!(v.get("create_client_security_group"), &Value::Bool(false));
    assert!(v.get("client_security_group_id").is_null());
    assert_eq!(v.get("ingress_rule_ids"), &Value::Map(Default::default()));
    assert_eq!(v.get("tags").get("team").as_str(), Some("payments"));
    assert_eq!(
        m.identity,
        Some(Value::from_json(&json!({
            "account_id": "123456789012", "region": "eu-west-1", "id": "sg-0aaaaaaaaaaaaaaa1"
        })))
    );
}

#[test]
fn the_region_comes_from_the_identity_then_the_state_then_the_arn() {
    let mut s = source(SECURITY_GROUP, cache_group());
    s.identity = Some(
        json!({"account_id": "123456789012", "region": "us-west-2", "id": "sg-0aaaaaaaaaaaaaaa1"}),
    );
    let region = |s: &MoveSource| {
        adopt(s)
            .ok()
            .and_then(|m| m.identity)
            .and_then(|i| i.get("region").as_str().map(str::to_string))
    };
    assert_eq!(region(&s).as_deref(), Some("us-west-2"));
    s.identity = None;
    if let Some(o) = s.state.as_object_mut() {
        o.remove("region"); // terraform-provider-aws 5.x writes no region
        o.remove("owner_id");
    }
    assert_eq!(region(&s).as_deref(), Some("eu-west-1"));
    let m = adopt(&s).expect("adopted");
    assert_eq!(m.state.outputs.owner_id, "123456789012", "from the ARN");
    if let Some(o) = s.state.as_object_mut() {
        o.remove("arn");
    }
    assert_eq!(
        adopt(&s).map(|m| m.identity),
        Ok(None),
        "no Region: the refresh fills it in"
    );
}

#[test]
fn a_conventional_name_keeps_its_base_and_any_other_name_is_kept_whole() {
    let mut g = cache_group();
    g["name"] = json!("payments-cluster");
    let m = adopt(&source(SECURITY_GROUP, g)).expect("adopted");
    assert_eq!(m.state.to_value().get("name").as_str(), Some("payments"));
    let mut g = cache_group();
    g["name"] = json!("cache-20240102030405060700000001");
    g["name_prefix"] = json!("cache-");
    let m = adopt(&source(SECURITY_GROUP, g)).expect("adopted");
    let v = m.state.to_value();
    assert_eq!(
        v.get("name").as_str(),
        Some("cache-20240102030405060700000001")
    );
    assert!(v.get("name_prefix").is_null());
}

#[test]
fn a_rule_is_refused_with_the_removed_and_import_blocks_to_use() {
    let rule = json!({"id": "sgr-0123456789abcdef0", "security_group_id": "sg-0aaaaaaaaaaaaaaa1",
                      "referenced_security_group_id": "sg-0bbbbbbbbbbbbbbb2", "from_port": 6379});
    for t in RULE_TYPES {
        let e = adopt(&source(t, rule.clone())).expect_err("refused");
        assert!(
            e.detail.contains("removed {") && e.detail.contains("destroy = false"),
            "{e}"
        );
        assert!(
            e.detail.contains(
                "import {\n  to = elasticache_access.NAME\n  id = \"sg-0aaaaaaaaaaaaaaa1\"\n}"
            ),
            "{e}"
        );
    }
}

#[test]
fn other_types_providers_versions_and_shapes_are_refused_saying_what_to_do() {
    let mut other_provider = source(SECURITY_GROUP, cache_group());
    other_provider.provider = "registry.terraform.io/example/aws".into();
    let mut old = source(SECURITY_GROUP, cache_group());
    old.schema_version = 0;
    let mut classic = cache_group();
    classic["vpc_id"] = json!("");
    let mut default = cache_group();
    default["name"] = json!("default");
    let cases = [
        (
            source("aws_elasticache_replication_group", json!({"id": "redis"})),
            "import {",
        ),
        (other_provider, "Only terraform-provider-aws"),
        (old, "schema version 0"),
        (source(SECURITY_GROUP, classic), "no VPC"),
        (source(SECURITY_GROUP, default), "default security group"),
        (
            source(SECURITY_GROUP, json!({"name": "x"})),
            "no security group id",
        ),
    ];
    for (src, says) in cases {
        let e = adopt(&src).expect_err("refused");
        assert!(e.summary.contains("Cannot move"), "{e}");
        assert!(e.detail.contains(says), "{says}: {e}");
    }
    // the same from another registry host is terraform-provider-aws too
    let mut tofu = source(SECURITY_GROUP, cache_group());
    tofu.provider = "registry.opentofu.org/hashicorp/aws".into();
    assert!(adopt(&tofu).is_ok());
}

#[test]
fn the_port_hint_needs_one_port() {
    let mut g = cache_group();
    g["ingress"] = json!([
        {"cidr_blocks": ["10.0.0.0/8"], "from_port": 22, "to_port": 22, "protocol": "tcp",
         "security_groups": [], "self": false},
        {"cidr_blocks": ["10.1.0.0/16"], "from_port": 11211, "to_port": 11211, "protocol": "6",
         "security_groups": [], "self": false}
    ]);
    let m = adopt(&source(SECURITY_GROUP, g)).expect("adopted");
    assert!(
        m.state.to_value().get("port").is_null(),
        "two ports: the refresh decides"
    );
    let mut g = cache_group();
    g["ingress"] = json!([]);
    let m = adopt(&source(SECURITY_GROUP, g)).expect("adopted");
    assert!(m.state.to_value().get("port").is_null());
}
