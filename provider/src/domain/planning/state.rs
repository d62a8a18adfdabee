//! The resource's state and its codec: one object holding every attribute of the schema (inputs as
//! recorded and outputs), as the typed [`AccessState`] and as a [`Value`] both protocols carry.

use std::collections::BTreeMap;

use crate::domain::declaration::desired::{self, Desired};
use crate::domain::declaration::model::{AccessOutputs, Mode, UnmanagedRule, SCHEMA_VERSION};
use crate::domain::declaration::schema::{self, Type};
use crate::domain::declaration::value::Value;
use crate::domain::diag::Diagnostic;

/// An access as recorded: the inputs it was applied with (where AWS shows them, as AWS holds them)
/// and what the provider computed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccessState {
    pub inputs: Desired,
    pub outputs: AccessOutputs,
}

impl AccessState {
    /// The access's id (its cluster security group).
    pub fn id(&self) -> &str {
        &self.outputs.id
    }

    /// Decodes a state value (every input known).
    pub fn from_value(v: &Value) -> Result<AccessState, Diagnostic> {
        let inputs = desired::parse_recorded(&inputs_of(v)).map_err(|d| {
            let what: Vec<String> = d.iter().map(ToString::to_string).collect();
            Diagnostic::general(
                "Invalid stored state",
                format!("The state of this access holds values this provider cannot read ({}). Remove it from the state and import it again.", what.join("; ")),
            )
        })?;
        Ok(AccessState {
            inputs,
            outputs: outputs_of(v),
        })
    }

    /// The state as a value with every attribute present.
    pub fn to_value(&self) -> Value {
        let mut v = self.inputs.to_value();
        if let Value::Map(o) = outputs_value(&self.outputs) {
            for (k, x) in o {
                v.set(&k, x);
            }
        }
        complete(v)
    }
}

fn strings_map(v: &Value) -> BTreeMap<String, String> {
    v.as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, x)| x.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: &Value, name: &str) -> String {
    v.get(name).as_str().unwrap_or_default().to_string()
}

fn integer(v: &Value) -> i64 {
    match v {
        Value::Number(n) => *n as i64,
        Value::String(s) => s.parse().unwrap_or_default(),
        _ => 0,
    }
}

fn outputs_of(v: &Value) -> AccessOutputs {
    let unmanaged = v
        .get("unmanaged_ingress")
        .as_list()
        .unwrap_or_default()
        .iter()
        .map(|r| UnmanagedRule {
            rule_id: text(r, "rule_id"),
            protocol: text(r, "protocol"),
            from_port: integer(r.get("from_port")),
            to_port: integer(r.get("to_port")),
            source: text(r, "source"),
            description: text(r, "description"),
        })
        .collect();
    AccessOutputs {
        id: text(v, "id"),
        cluster_security_group_id: text(v, "cluster_security_group_id"),
        client_security_group_id: v
            .get("client_security_group_id")
            .as_str()
            .map(str::to_string),
        ingress_rule_ids: strings_map(v.get("ingress_rule_ids")),
        client_ssh_rule_ids: strings_map(v.get("client_ssh_rule_ids")),
        owner_id: text(v, "owner_id"),
        cluster_endpoint: v.get("cluster_endpoint").as_str().map(str::to_string),
        tags_all: strings_map(v.get("tags_all")),
        unmanaged_ingress: unmanaged,
        reachability: v
            .get("reachability")
            .to_json()
            .and_then(|j| serde_json::from_value(j).ok()),
    }
}

fn outputs_value(o: &AccessOutputs) -> Value {
    Value::from_json(&serde_json::to_value(o).unwrap_or_default())
}

/// Every attribute of the schema present (null when absent); attributes the schema does not know are
/// dropped. Nested objects get the same treatment; sets of strings are sorted. The value is completed
/// in place: nothing is copied.
pub fn complete(mut v: Value) -> Value {
    complete_object(&mut v, &schema::resource().attributes);
    v
}

/// [`complete`] for an object of `attrs` (the provider configuration, say).
pub fn complete_with(mut v: Value, attrs: &[schema::Attribute]) -> Value {
    complete_object(&mut v, attrs);
    v
}

/// An object of `attrs`; anything but a map becomes one with every attribute null.
fn complete_object(v: &mut Value, attrs: &[schema::Attribute]) {
    if !matches!(v, Value::Map(_)) {
        *v = Value::Map(BTreeMap::new());
    }
    let Value::Map(m) = v else { return };
    m.retain(|k, _| attrs.iter().any(|a| a.name == *k));
    for a in attrs {
        match m.get_mut(&a.name) {
            Some(x) => complete_typed(x, &a.ty),
            None => {
                m.insert(a.name.clone(), Value::Null);
            }
        }
    }
}

fn complete_typed(v: &mut Value, ty: &Type) {
    match (ty, v) {
        (Type::Object(attrs), v @ Value::Map(_)) => complete_object(v, attrs),
        (Type::Set(inner), Value::List(items)) => {
            items.iter_mut().for_each(|i| complete_typed(i, inner));
            // A set has no order: keep known strings sorted and unique, so equal sets compare equal.
            if items.iter().all(|i| matches!(i, Value::String(_))) {
                items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                items.dedup();
            }
        }
        (Type::List(inner), Value::List(items)) => {
            items.iter_mut().for_each(|i| complete_typed(i, inner));
        }
        _ => {}
    }
}

/// The input attributes of a state or configuration (others dropped).
pub fn inputs_of(state: &Value) -> Value {
    let mut out = BTreeMap::new();
    for a in schema::resource()
        .attributes
        .iter()
        .filter(|a| a.mode != Mode::Computed)
    {
        let v = state.get(&a.name);
        if !v.is_null() {
            out.insert(a.name.clone(), v.clone());
        }
    }
    Value::Map(out)
}

/// Brings a stored state (JSON, as Terraform keeps it) written by schema version `from_version` to
/// the current layout.
pub fn upgrade(raw: &serde_json::Value, from_version: i64) -> Result<Value, Diagnostic> {
    if from_version > SCHEMA_VERSION {
        return Err(Diagnostic::general(
            "State written by a newer provider",
            format!("This state has schema version {from_version}, newer than this provider's {SCHEMA_VERSION}. Upgrade the provider."),
        ));
    }
    let mut v = Value::from_json(raw);
    if from_version < 1 {
        // Version 0 states had no client_ssh_rule_ids or unmanaged_ingress: start them empty.
        if v.get("client_ssh_rule_ids").is_null() {
            v.set("client_ssh_rule_ids", Value::Map(BTreeMap::new()));
        }
        if v.get("unmanaged_ingress").is_null() {
            v.set("unmanaged_ingress", Value::List(Vec::new()));
        }
    }
    Ok(complete(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_fills_every_attribute_and_drops_strangers() {
        let v = complete(Value::from_json(
            &serde_json::json!({"vpc_id": "vpc-1", "bogus": 1, "cluster": {"cache_cluster_id": "c"}}),
        ));
        let m = v.as_map().cloned().unwrap_or_default();
        assert_eq!(m.len(), schema::resource().attributes.len());
        assert!(!m.contains_key("bogus"));
        assert_eq!(v.get("cluster").as_map().map(|c| c.len()), Some(3));
        assert!(v.get("timeouts").is_null());
    }

    #[test]
    fn complete_works_in_place_below_the_top_level_too() {
        let v = complete(Value::from_json(&serde_json::json!({
            "cluster": {"replication_group_id": "r", "stranger": true},
            "timeouts": "not an object",
            "allowed_cidr_blocks": ["10.2.0.0/16", "10.1.0.0/16", "10.2.0.0/16"],
            "unmanaged_ingress": [{"rule_id": "sgr-1", "extra": 1}],
        })));
        let cluster = v.get("cluster").as_map().cloned().unwrap_or_default();
        assert_eq!(cluster.len(), 3, "{cluster:?}");
        assert!(!cluster.contains_key("stranger"));
        assert_eq!(
            v.get("timeouts"),
            &Value::from("not an object"),
            "a wrong shape is kept"
        );
        assert_eq!(
            v.get("allowed_cidr_blocks"),
            &Value::string_list(["10.1.0.0/16", "10.2.0.0/16"])
        );
        let rule = v.get("unmanaged_ingress").as_list().unwrap_or_default()[0].clone();
        assert!(
            rule.get("extra").is_null() && rule.as_map().is_some_and(|m| !m.contains_key("extra"))
        );
        assert!(
            rule.get("protocol").is_null()
                && rule.as_map().is_some_and(|m| m.contains_key("protocol"))
        );
        assert_eq!(
            complete(Value::from("x")),
            complete(Value::Null),
            "a non-object: every attribute null"
        );
    }

    #[test]
    fn upgrade_from_version_zero_and_refuses_newer() {
        let v = upgrade(&serde_json::json!({"id": "sg-1"}), 0).unwrap_or_default();
        assert_eq!(v.get("unmanaged_ingress"), &Value::List(vec![]));
        assert!(upgrade(&serde_json::json!({}), SCHEMA_VERSION + 1).is_err());
    }

    #[test]
    fn a_state_round_trips_through_the_typed_codec() {
        let v = complete(Value::from_json(&serde_json::json!({
            "vpc_id": "vpc-0123456789abcdef0", "port": 6379, "name": "app",
            "cluster": {"replication_group_id": "demo"}, "allowed_cidr_blocks": ["10.1.2.3/16"],
            "client_security_group_ids": ["222222222222/sg-0123456789abcdef1"],
            "tags": {"team": "a"}, "timeouts": {"create": "5m"},
            "id": "sg-00000000000000001", "cluster_security_group_id": "sg-00000000000000001",
            "client_security_group_id": "sg-00000000000000002", "owner_id": "123456789012",
            "ingress_rule_ids": {"sg-00000000000000002": "sgr-1"}, "client_ssh_rule_ids": {},
            "tags_all": {"team": "a"}, "cluster_endpoint": "x:6379",
            "unmanaged_ingress": [{"rule_id": "sgr-9", "protocol": "tcp", "from_port": 22, "to_port": 22, "source": "10.0.0.0/8", "description": ""}]
        })));
        let st = AccessState::from_value(&v);
        assert_eq!(st.map(|s| s.to_value()), Ok(v));
    }
}
