//! The resource's state: one object holding every attribute of [`crate::schema::resource`], inputs and
//! outputs together, as a [`Value`]. Helpers here keep every attribute present and move between states
//! of earlier schema versions and this one.

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::model::{Mode, SCHEMA_VERSION};
use crate::schema::{self, Type};
use crate::value::Value;

/// Every attribute of the schema present (null when absent); attributes the schema does not know are
/// dropped. Nested objects get the same treatment.
pub fn complete(v: &Value) -> Value {
    complete_object(v, &schema::resource().attributes)
}

fn complete_object(v: &Value, attrs: &[schema::Attribute]) -> Value {
    let mut out = BTreeMap::new();
    for a in attrs {
        let x = v.get(&a.name);
        out.insert(a.name.clone(), complete_typed(x, &a.ty));
    }
    Value::Map(out)
}

fn complete_typed(v: &Value, ty: &Type) -> Value {
    match (ty, v) {
        (_, Value::Null | Value::Unknown) => v.clone(),
        (Type::Object(attrs), Value::Map(_)) => complete_object(v, attrs),
        (Type::Set(inner), Value::List(items)) => {
            let mut items: Vec<Value> = items.iter().map(|i| complete_typed(i, inner)).collect();
            // A set has no order: keep known strings sorted and unique, so equal sets compare equal.
            if items.iter().all(|i| matches!(i, Value::String(_))) {
                items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                items.dedup();
            }
            Value::List(items)
        }
        (Type::List(inner), Value::List(items)) => {
            Value::List(items.iter().map(|i| complete_typed(i, inner)).collect())
        }
        _ => v.clone(),
    }
}

/// The input attributes of a state (non-null ones only): what a Pulumi import reports as inputs.
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

/// Brings a stored state (JSON, as Terraform keeps it) written by schema version `from_version` to the
/// current layout.
pub fn upgrade(raw: &serde_json::Value, from_version: i64) -> Result<Value, Diagnostic> {
    if from_version > SCHEMA_VERSION {
        return Err(Diagnostic::general(
            "State written by a newer provider",
            format!(
                "This state has schema version {from_version}, newer than this provider's {SCHEMA_VERSION}. Upgrade the provider."
            ),
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
    Ok(complete(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_fills_every_attribute_and_drops_strangers() {
        let v = complete(&Value::from_json(
            &serde_json::json!({"vpc_id": "vpc-1", "bogus": 1, "cluster": {"cache_cluster_id": "c"}}),
        ));
        let m = v.as_map().cloned().unwrap_or_default();
        assert_eq!(m.len(), schema::resource().attributes.len());
        assert!(!m.contains_key("bogus"));
        assert_eq!(v.get("cluster").as_map().map(|c| c.len()), Some(3));
        assert!(v.get("timeouts").is_null());
    }

    #[test]
    fn upgrade_from_version_zero_and_refuses_newer() {
        let v = upgrade(&serde_json::json!({"id": "sg-1"}), 0).unwrap_or_default();
        assert_eq!(v.get("unmanaged_ingress"), &Value::List(vec![]));
        assert!(upgrade(&serde_json::json!({}), SCHEMA_VERSION + 1).is_err());
    }
}
