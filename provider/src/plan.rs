//! The plan: one pipeline, in a fixed order, that both protocols consume.
//!
//! 1. start from the configuration (inputs only), every attribute present;
//! 2. optional+computed inputs the user did not set: the prior value, or a value derived from the
//!    cluster, or the default, or unknown;
//! 3. replacement: which changed attributes replace the access (`BEHAVIOUR[..].replaces`);
//! 4. computed outputs: the prior value when nothing they derive from changed, else the new value when
//!    it can be known now, else unknown;
//! 5. checks that need the cluster's facts (its VPC must match `vpc_id`).
//!
//! Terraform takes `planned` and `requires_replace`; Pulumi takes `changes` (detailed diff) too.

use std::collections::{BTreeMap, BTreeSet};

use crate::cloud::{ClusterInfo, Source};
use crate::diag::{AttrPath, Diagnostic};
use crate::model::{self, Mode};
use crate::schema;
use crate::state;
use crate::validate;
use crate::value::Value;

/// What the plan is computed from.
#[derive(Clone, Copy, Debug)]
pub struct PlanInput<'a> {
    /// The prior state; None when the access is being created.
    pub prior: Option<&'a Value>,
    /// The configuration (inputs; may contain unknowns).
    pub config: &'a Value,
    /// The provider's `default_tags`; None when not known yet.
    pub default_tags: Option<&'a BTreeMap<String, String>>,
    /// The facts of `config.cluster`, when it is known and was read.
    pub cluster: Option<&'a ClusterInfo>,
}

/// How an input attribute changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Add,
    Delete,
    Update,
}

/// One input attribute that changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub attr: String,
    pub kind: ChangeKind,
    pub replaces: bool,
}

/// The outcome of planning.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// The planned state: every attribute, unknown where it is decided only by the apply.
    pub planned: Value,
    /// Attributes whose change replaces the access.
    pub requires_replace: Vec<AttrPath>,
    pub diagnostics: Vec<Diagnostic>,
    /// Input attributes that change (empty: nothing to do for the inputs).
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn replaces(&self) -> bool {
        !self.requires_replace.is_empty()
    }
}

/// `default_tags` merged with `tags` (the resource's win); None when either is unknown.
pub fn merged_tags(
    default_tags: Option<&BTreeMap<String, String>>,
    tags: &Value,
) -> Option<BTreeMap<String, String>> {
    let mut out = default_tags?.clone();
    match tags {
        Value::Null => {}
        Value::Map(m) => {
            for (k, v) in m {
                out.insert(k.clone(), v.as_str()?.to_string());
            }
        }
        _ => return None,
    }
    Some(out)
}

/// The sources of the cluster group's rules, as keys of `ingress_rule_ids`; None when not known yet.
/// `client_group` is the created client group's id (None when none is created or it is not known);
/// `own_account` the groups' owner, empty when not known (see [`Source::as_seen_from`]).
pub fn desired_sources(
    config: &Value,
    client_group: Option<&str>,
    own_account: &str,
) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    if validate::flag(config, "create_client_security_group")? {
        out.insert(client_group?.to_string());
    }
    for item in list(config, "client_security_group_ids")? {
        out.insert(
            validate::parse_group_source(item.as_str()?)
                .ok()?
                .as_seen_from(own_account)
                .key(),
        );
    }
    for item in list(config, "allowed_cidr_blocks")? {
        out.insert(Source::Cidr(validate::parse_cidr(item.as_str()?).ok()?).key());
    }
    for item in list(config, "allowed_prefix_list_ids")? {
        out.insert(item.as_str()?.to_string());
    }
    Some(out)
}

/// The normalized SSH CIDRs; None when not known yet.
pub fn desired_ssh(config: &Value) -> Option<BTreeSet<String>> {
    list(config, "client_ssh_cidr_blocks")?
        .iter()
        .map(|i| Some(validate::parse_cidr(i.as_str()?).ok()?.to_string()))
        .collect()
}

fn list<'a>(config: &'a Value, name: &str) -> Option<&'a [Value]> {
    match config.get(name) {
        Value::Null => Some(&[]),
        Value::List(l) => Some(l),
        _ => None,
    }
}

fn string_map_keys(v: &Value) -> Option<BTreeSet<String>> {
    v.as_map().map(|m| m.keys().cloned().collect())
}

fn tags_value(t: Option<BTreeMap<String, String>>) -> Value {
    match t {
        None => Value::Unknown,
        Some(m) => Value::Map(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect()),
    }
}

/// Plans a create (prior None) or an update of the access.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let config = input.config;
    let mut diagnostics = validate::resource_config(config);
    let resource = schema::resource();

    // 1. configuration, every attribute present
    let mut planned = Value::Map(BTreeMap::new());
    for a in &resource.attributes {
        let v = if a.mode == Mode::Computed {
            Value::Null
        } else {
            config.get(&a.name).clone()
        };
        planned.set(&a.name, v);
    }
    let mut planned = state::complete(&planned);
    let prior = input.prior.map(state::complete);
    let prior = prior.as_ref();
    let cluster_cfg = config.get("cluster");
    let cluster_changed = prior
        .map(|p| p.get("cluster") != cluster_cfg)
        .unwrap_or(true);
    let info = input.cluster;

    // 2. optional+computed inputs
    let vpc = match (config.get("vpc_id"), prior) {
        (Value::Null, Some(p)) if !cluster_changed => p.get("vpc_id").clone(),
        (Value::Null, _) => match (cluster_cfg, info) {
            (Value::Null, _) => Value::Null,
            (_, Some(i)) => i
                .vpc_id
                .clone()
                .map(Value::String)
                .unwrap_or(Value::Unknown),
            _ => Value::Unknown,
        },
        (v, _) => v.clone(),
    };
    planned.set("vpc_id", vpc);
    let port = match (config.get("port"), prior) {
        (Value::Null, Some(p)) if !cluster_changed && !p.get("port").is_null() => {
            p.get("port").clone()
        }
        (Value::Null, _) => match (cluster_cfg, info) {
            (Value::Null, _) => Value::from(model::DEFAULT_PORT),
            (_, Some(i)) => Value::from(i.port.unwrap_or(model::DEFAULT_PORT)),
            _ => Value::Unknown,
        },
        (v, _) => match validate::integer(v) {
            Some(n) => Value::Number(n as f64),
            None => v.clone(),
        },
    };
    planned.set("port", port);
    let name = match (config.get("name"), prior) {
        (Value::Null, Some(p)) if p.get("name_prefix") == config.get("name_prefix") => {
            p.get("name").clone()
        }
        (Value::Null, _) => Value::Unknown,
        (v, _) => v.clone(),
    };
    planned.set("name", name);

    // 3. replacement
    let mut requires_replace = Vec::new();
    let mut changes = Vec::new();
    if let Some(p) = prior {
        for a in resource
            .attributes
            .iter()
            .filter(|a| a.mode != Mode::Computed)
        {
            let (old, new) = (p.get(&a.name), planned.get(&a.name));
            if old == new {
                continue;
            }
            let kind = match (old, new) {
                (Value::Null, _) => ChangeKind::Add,
                (_, Value::Null) => ChangeKind::Delete,
                _ => ChangeKind::Update,
            };
            let replaces = a.replaces;
            if replaces {
                requires_replace.push(AttrPath::attr(&a.name));
            }
            changes.push(Change {
                attr: a.name.clone(),
                kind,
                replaces,
            });
        }
    }
    let replacing = !requires_replace.is_empty();

    // 4. computed outputs
    let create_client = validate::flag(config, "create_client_security_group");
    let tags_all = tags_value(merged_tags(input.default_tags, config.get("tags")));
    let endpoint = match (cluster_cfg, info) {
        (Value::Null, _) => Value::Null,
        (_, Some(i)) => i.endpoint.clone().map(Value::String).unwrap_or(Value::Null),
        _ => Value::Unknown,
    };
    match prior.filter(|_| !replacing) {
        None => {
            for n in [
                "id",
                "cluster_security_group_id",
                "owner_id",
                "ingress_rule_ids",
            ] {
                planned.set(n, Value::Unknown);
            }
            planned.set(
                "client_security_group_id",
                match create_client {
                    Some(false) => Value::Null,
                    _ => Value::Unknown,
                },
            );
            planned.set(
                "client_ssh_rule_ids",
                match desired_ssh(config) {
                    Some(s) if s.is_empty() => Value::Map(BTreeMap::new()),
                    _ => Value::Unknown,
                },
            );
            planned.set("cluster_endpoint", endpoint);
            planned.set("tags_all", tags_all);
            planned.set("unmanaged_ingress", Value::List(Vec::new()));
        }
        Some(p) => {
            for n in ["id", "cluster_security_group_id", "owner_id"] {
                planned.set(n, p.get(n).clone());
            }
            let client = match (create_client, p.get("client_security_group_id")) {
                (Some(false), _) => Value::Null,
                (Some(true), Value::String(id)) => Value::String(id.clone()),
                _ => Value::Unknown,
            };
            let same_port = p.get("port") == planned.get("port");
            let own = p.get("owner_id").as_str().unwrap_or_default();
            let rules = match (&client, desired_sources(config, client.as_str(), own)) {
                (_, Some(want))
                    if same_port
                        && string_map_keys(p.get("ingress_rule_ids")) == Some(want.clone()) =>
                {
                    p.get("ingress_rule_ids").clone()
                }
                (_, Some(want)) if want.is_empty() => Value::Map(BTreeMap::new()),
                _ => Value::Unknown,
            };
            let ssh = match desired_ssh(config) {
                Some(want)
                    if client.as_str().is_some()
                        && string_map_keys(p.get("client_ssh_rule_ids")) == Some(want.clone()) =>
                {
                    p.get("client_ssh_rule_ids").clone()
                }
                Some(want) if want.is_empty() => Value::Map(BTreeMap::new()),
                _ => Value::Unknown,
            };
            planned.set("client_security_group_id", client);
            let rules_unknown = rules.is_unknown();
            planned.set("ingress_rule_ids", rules);
            planned.set("client_ssh_rule_ids", ssh);
            planned.set(
                "cluster_endpoint",
                if cluster_changed {
                    endpoint
                } else {
                    p.get("cluster_endpoint").clone()
                },
            );
            planned.set("tags_all", tags_all);
            // A new rule identical to an unmanaged one adopts it, so unmanaged rules may change
            // whenever the managed ones do.
            let unmanaged = match validate::flag(config, "exclusive_ingress") {
                Some(true) => Value::List(Vec::new()),
                Some(false)
                    if rules_unknown
                        && p.get("unmanaged_ingress")
                            .as_list()
                            .map(|l| !l.is_empty())
                            .unwrap_or(true) =>
                {
                    Value::Unknown
                }
                Some(false) => p.get("unmanaged_ingress").clone(),
                None => Value::Unknown,
            };
            planned.set("unmanaged_ingress", unmanaged);
        }
    }
    if let Some(p) = prior {
        // Computed outputs that change are changes too (Pulumi shows them; Terraform sees the values).
        for n in [
            "ingress_rule_ids",
            "client_ssh_rule_ids",
            "client_security_group_id",
            "tags_all",
            "unmanaged_ingress",
        ] {
            if !replacing && p.get(n) != planned.get(n) && changes.iter().all(|c| c.attr != n) {
                changes.push(Change {
                    attr: n.to_string(),
                    kind: ChangeKind::Update,
                    replaces: false,
                });
            }
        }
    }

    // 5. checks that need the cluster's facts
    if let (Some(i), Some(v)) = (info, config.get("vpc_id").as_str()) {
        if let Some(cv) = &i.vpc_id {
            if cv != v {
                diagnostics.push(Diagnostic::error(
                    AttrPath::attr("vpc_id"),
                    "vpc_id does not match the cluster's VPC",
                    format!("Cluster {} is in {cv}, but vpc_id is {v}. Remove vpc_id to use the cluster's VPC, or point cluster at a cluster in {v}.", i.id),
                ));
            }
        }
    }
    Plan {
        planned,
        requires_replace,
        diagnostics,
        changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::ClusterKind;

    fn v(j: serde_json::Value) -> Value {
        Value::from_json(&j)
    }

    fn prior_state() -> Value {
        state::complete(&v(serde_json::json!({
            "vpc_id": "vpc-0123456789abcdef0", "port": 6379, "name": "app", "description": "d",
            "allowed_cidr_blocks": ["10.1.0.0/16"],
            "id": "sg-00000000000000001", "cluster_security_group_id": "sg-00000000000000001",
            "client_security_group_id": "sg-00000000000000002", "owner_id": "123456789012",
            "ingress_rule_ids": {"sg-00000000000000002": "sgr-1", "10.1.0.0/16": "sgr-2"},
            "client_ssh_rule_ids": {}, "tags_all": {}, "unmanaged_ingress": []
        })))
    }

    fn base_config() -> serde_json::Value {
        serde_json::json!({"vpc_id": "vpc-0123456789abcdef0", "name": "app", "description": "d", "allowed_cidr_blocks": ["10.1.0.0/16"]})
    }

    fn plan_with(config: serde_json::Value) -> Plan {
        let prior = prior_state();
        let tags = BTreeMap::new();
        plan(&PlanInput {
            prior: Some(&prior),
            config: &v(config),
            default_tags: Some(&tags),
            cluster: None,
        })
    }

    #[test]
    fn decisions_table() {
        // (case, config change, replaces?, changed attributes, ingress_rule_ids unknown?)
        let cases: Vec<(&str, serde_json::Value, bool, Vec<&str>, bool)> = vec![
            ("no change", serde_json::json!({}), false, vec![], false),
            (
                "port",
                serde_json::json!({"port": 6380}),
                false,
                vec!["port", "ingress_rule_ids"],
                true,
            ),
            (
                "description",
                serde_json::json!({"description": "new"}),
                false,
                vec!["description"],
                false,
            ),
            (
                "name",
                serde_json::json!({"name": "other"}),
                true,
                vec!["name"],
                true,
            ),
            (
                "vpc",
                serde_json::json!({"vpc_id": "vpc-0123456789abcdef1"}),
                true,
                vec!["vpc_id"],
                true,
            ),
            (
                "name_prefix",
                serde_json::json!({"name": null, "name_prefix": "p-"}),
                true,
                vec!["name", "name_prefix"],
                true,
            ),
            (
                "add cidr",
                serde_json::json!({"allowed_cidr_blocks": ["10.1.0.0/16", "fd00::/8"]}),
                false,
                vec!["allowed_cidr_blocks", "ingress_rule_ids"],
                true,
            ),
            (
                "tags",
                serde_json::json!({"tags": {"team": "x"}}),
                false,
                vec!["tags", "tags_all"],
                false,
            ),
            (
                "no client group",
                serde_json::json!({"create_client_security_group": false}),
                false,
                vec![
                    "create_client_security_group",
                    "ingress_rule_ids",
                    "client_security_group_id",
                ],
                true,
            ),
            (
                "exclusive",
                serde_json::json!({"exclusive_ingress": true}),
                false,
                vec!["exclusive_ingress"],
                false,
            ),
            (
                "cidr spelled differently",
                serde_json::json!({"allowed_cidr_blocks": ["10.1.2.3/16"]}),
                false,
                vec!["allowed_cidr_blocks"],
                false,
            ),
        ];
        for (case, change, replaces, changed, rules_unknown) in cases {
            let mut c = base_config();
            if let (Some(o), Some(ch)) = (c.as_object_mut(), change.as_object()) {
                for (k, x) in ch {
                    o.insert(k.clone(), x.clone());
                }
            }
            let p = plan_with(c);
            assert!(
                !crate::diag::has_errors(&p.diagnostics),
                "{case}: {:?}",
                p.diagnostics
            );
            assert_eq!(p.replaces(), replaces, "{case}");
            let mut got: Vec<&str> = p.changes.iter().map(|c| c.attr.as_str()).collect();
            let mut want = changed.clone();
            got.sort();
            want.sort();
            if !replaces {
                assert_eq!(got, want, "{case}");
            } else {
                for w in want {
                    assert!(got.contains(&w), "{case}: {w} missing in {got:?}");
                }
            }
            assert_eq!(
                p.planned.get("ingress_rule_ids").is_unknown(),
                rules_unknown,
                "{case}"
            );
        }
    }

    #[test]
    fn create_plan_marks_outputs_unknown_and_defaults_port() {
        let c = v(serde_json::json!({"vpc_id": "vpc-0123456789abcdef0"}));
        let p = plan(&PlanInput {
            prior: None,
            config: &c,
            default_tags: None,
            cluster: None,
        });
        assert!(p.diagnostics.is_empty());
        assert_eq!(p.planned.get("port"), &Value::Number(6379.0));
        for n in [
            "id",
            "name",
            "client_security_group_id",
            "ingress_rule_ids",
            "tags_all",
        ] {
            assert!(p.planned.get(n).is_unknown(), "{n}");
        }
        assert_eq!(p.planned.get("cluster_endpoint"), &Value::Null);
        assert_eq!(p.planned.get("unmanaged_ingress"), &Value::List(vec![]));
    }

    #[test]
    fn cluster_facts_fill_vpc_and_port_and_catch_mismatch() {
        let info = ClusterInfo {
            kind: ClusterKind::CacheCluster,
            id: "mc".into(),
            vpc_id: Some("vpc-0123456789abcdef0".into()),
            port: Some(11211),
            endpoint: Some("mc.cache:11211".into()),
            engine: Some("memcached".into()),
            security_group_ids: vec![],
        };
        let c = v(serde_json::json!({"cluster": {"cache_cluster_id": "mc"}}));
        let p = plan(&PlanInput {
            prior: None,
            config: &c,
            default_tags: None,
            cluster: Some(&info),
        });
        assert_eq!(p.planned.get("port"), &Value::Number(11211.0));
        assert_eq!(
            p.planned.get("vpc_id"),
            &Value::from("vpc-0123456789abcdef0")
        );
        assert_eq!(
            p.planned.get("cluster_endpoint"),
            &Value::from("mc.cache:11211")
        );
        let unresolved = plan(&PlanInput {
            prior: None,
            config: &c,
            default_tags: None,
            cluster: None,
        });
        assert!(unresolved.planned.get("port").is_unknown());
        let bad = v(
            serde_json::json!({"cluster": {"cache_cluster_id": "mc"}, "vpc_id": "vpc-0123456789abcdef9"}),
        );
        let p = plan(&PlanInput {
            prior: None,
            config: &bad,
            default_tags: None,
            cluster: Some(&info),
        });
        assert!(p
            .diagnostics
            .iter()
            .any(|d| d.path == Some(AttrPath::attr("vpc_id"))
                && d.detail.contains("vpc-0123456789abcdef0")));
    }

    #[test]
    fn unknown_inputs_plan_unknown_outputs() {
        let mut c = v(base_config());
        c.set(
            "client_security_group_ids",
            Value::List(vec![Value::Unknown]),
        );
        let prior = prior_state();
        let p = plan(&PlanInput {
            prior: Some(&prior),
            config: &c,
            default_tags: Some(&BTreeMap::new()),
            cluster: None,
        });
        assert!(p.planned.get("ingress_rule_ids").is_unknown());
        assert!(!p.replaces());
        let mut c = v(base_config());
        c.set("vpc_id", Value::Unknown);
        let p = plan(&PlanInput {
            prior: Some(&prior),
            config: &c,
            default_tags: Some(&BTreeMap::new()),
            cluster: None,
        });
        assert!(p.replaces(), "an unknown vpc_id may differ: plan a replace");
    }

    #[test]
    fn default_tags_merge_under_resource_tags() {
        let d: BTreeMap<String, String> = [
            ("env".to_string(), "prod".to_string()),
            ("team".to_string(), "a".to_string()),
        ]
        .into();
        let m = merged_tags(Some(&d), &v(serde_json::json!({"team": "b"})));
        assert_eq!(
            m.map(|m| m.into_iter().collect::<Vec<_>>()),
            Some(vec![
                ("env".into(), "prod".into()),
                ("team".into(), "b".into())
            ])
        );
        assert_eq!(merged_tags(None, &Value::Null), None);
    }
}
