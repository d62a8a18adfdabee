//! The access's resource identity (Terraform 1.12+): the account, the Region and the cluster group's
//! id, which name one access for good. It is a small function of the state and the Region the
//! provider talks to; [`reconcile`] keeps a recorded identity and fills in the parts a state written
//! before identities existed lacks, refusing only one that names another access.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::domain::declaration::model::Mode;
use crate::domain::declaration::model::Nesting;
use crate::domain::declaration::schema::{Attribute, Type};
use crate::domain::declaration::value::Value;
use crate::domain::diag::Diagnostic;

/// The identity schema's version.
pub const IDENTITY_VERSION: i64 = 0;

/// The identity's attributes, in order (all strings, all needed to import by identity).
pub fn attributes() -> &'static [Attribute] {
    static A: OnceLock<Vec<Attribute>> = OnceLock::new();
    A.get_or_init(|| {
        [
            (
                "account_id",
                "The 12-digit AWS account that owns the access's security groups (`owner_id`).",
            ),
            (
                "region",
                "The AWS Region of the access (the provider's Region).",
            ),
            (
                "id",
                "The id of the access's cluster security group (`sg-…`), the access's `id`.",
            ),
        ]
        .into_iter()
        .map(|(name, description)| Attribute {
            name: name.to_string(),
            ty: Type::String,
            description: description.to_string(),
            mode: Mode::Required,
            replaces: false,
            default: None,
            nesting: Nesting::Attribute,
            range: None,
            sensitive: false,
        })
        .collect()
    })
}

/// A string part of an identity: unknown stays unknown, an empty or missing one is null.
fn part(v: &Value) -> Value {
    match v {
        Value::Unknown => Value::Unknown,
        Value::String(s) if !s.is_empty() => v.clone(),
        _ => Value::Null,
    }
}

/// The identity of the access whose state (or planned state) is `state`, in `region` (None: not
/// known yet, as when the provider's configuration is not).
pub fn of(state: &Value, region: Option<&str>) -> Value {
    let region = region
        .filter(|r| !r.is_empty())
        .map(Value::from)
        .unwrap_or(Value::Unknown);
    let mut m = BTreeMap::new();
    m.insert("account_id".to_string(), part(state.get("owner_id")));
    m.insert("region".to_string(), region);
    m.insert("id".to_string(), part(state.get("id")));
    Value::Map(m)
}

/// The identity to record, given the one Terraform holds (`prior`, None or null for a state written
/// before identities) and the one `derived` from the state: each part is the prior one when known,
/// else the derived one. An identity never changes: a known prior part that differs from a known
/// derived one names another access, and is an error.
pub fn reconcile(prior: Option<&Value>, derived: &Value) -> Result<Value, Diagnostic> {
    let Some(prior) = prior.filter(|p| matches!(p, Value::Map(_))) else {
        return Ok(derived.clone());
    };
    let mut out = BTreeMap::new();
    for a in attributes() {
        let (p, d) = (part(prior.get(&a.name)), part(derived.get(&a.name)));
        let v = match (&p, &d) {
            (Value::String(x), Value::String(y)) if x != y => {
                return Err(Diagnostic::general(
                    "Unexpected identity change",
                    format!("Terraform recorded this access's {} as {x:?}, but the access it tracks has {y:?}: the state and its identity name different accesses. Remove the resource from the state (terraform state rm) and import it again.", a.name),
                ))
            }
            (Value::String(_), _) => p,
            _ => d,
        };
        out.insert(a.name.clone(), v);
    }
    Ok(Value::Map(out))
}

/// The cluster group id an import by identity names, after checking that the identity belongs to
/// this provider's Region (`region`, when known).
pub fn import_id(identity: &Value, region: Option<&str>) -> Result<String, Diagnostic> {
    let id = identity.get("id").as_str().unwrap_or_default().trim();
    if id.is_empty() {
        return Err(Diagnostic::general(
            "Cannot import",
            "The import identity has no id: set id to the access's cluster security group (sg-…).",
        ));
    }
    if let (Some(want), Some(r)) = (identity.get("region").as_str(), region) {
        if !want.is_empty() && want != r {
            return Err(Diagnostic::general(
                "Cannot import",
                format!("The import identity names Region {want}, but this provider configuration works in {r}: use a provider configured for {want}."),
            ));
        }
    }
    Ok(id.to_string())
}

/// Checks an imported access against the account the import identity names.
pub fn check_account(identity: &Value, imported: &Value) -> Result<(), Diagnostic> {
    match (
        identity.get("account_id").as_str().filter(|a| !a.is_empty()),
        imported.get("owner_id").as_str().filter(|a| !a.is_empty()),
    ) {
        (Some(want), Some(got)) if want != got => Err(Diagnostic::general(
            "Cannot import",
            format!("The import identity names account {want}, but the security group belongs to account {got}: check account_id, or use a provider with that account's credentials."),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value {
        Value::from_json(&j)
    }

    fn with(mut v: Value, name: &str, x: Value) -> Value {
        v.set(name, x);
        v
    }

    #[test]
    fn identity_comes_from_the_state_and_the_region() {
        let s = v(json!({"id": "sg-1", "owner_id": "123456789012", "vpc_id": "vpc-1"}));
        assert_eq!(
            of(&s, Some("us-east-1")),
            v(json!({"account_id": "123456789012", "region": "us-east-1", "id": "sg-1"}))
        );
        let planned = with(
            with(v(json!({"vpc_id": "vpc-1"})), "id", Value::Unknown),
            "owner_id",
            Value::Unknown,
        );
        let i = of(&planned, None);
        assert!(i.get("id").is_unknown() && i.get("region").is_unknown());
        assert!(i.get("account_id").is_unknown());
    }

    #[test]
    fn reconcile_fills_missing_parts_and_keeps_recorded_ones() {
        let derived = v(json!({"account_id": "123456789012", "region": "us-east-1", "id": "sg-1"}));
        assert_eq!(reconcile(None, &derived), Ok(derived.clone()));
        assert_eq!(reconcile(Some(&Value::Null), &derived), Ok(derived.clone()));
        let partial = v(json!({"account_id": null, "region": "us-east-1", "id": "sg-1"}));
        assert_eq!(reconcile(Some(&partial), &derived), Ok(derived.clone()));
        // a derived part not known yet (a plan before Configure) keeps the recorded one
        let unknown = with(
            v(json!({"account_id": "123456789012", "id": "sg-1"})),
            "region",
            Value::Unknown,
        );
        assert_eq!(reconcile(Some(&derived), &unknown), Ok(derived.clone()));
    }

    #[test]
    fn reconcile_refuses_an_identity_of_another_access() {
        let derived = v(json!({"account_id": "123456789012", "region": "us-east-1", "id": "sg-1"}));
        let other = v(json!({"account_id": "123456789012", "region": "us-east-1", "id": "sg-2"}));
        let e = reconcile(Some(&other), &derived).err().map(|d| d.detail);
        assert!(e.is_some_and(|d| d.contains("\"sg-2\"") && d.contains("id")));
    }

    #[test]
    fn import_by_identity_checks_region_and_account() {
        let i = v(json!({"account_id": "123456789012", "region": "us-east-1", "id": " sg-1 "}));
        assert_eq!(import_id(&i, Some("us-east-1")), Ok("sg-1".to_string()));
        assert!(import_id(&i, Some("eu-west-1")).is_err());
        assert!(import_id(&v(json!({"region": "us-east-1"})), None).is_err());
        assert!(check_account(&i, &v(json!({"owner_id": "123456789012"}))).is_ok());
        assert!(check_account(&i, &v(json!({"owner_id": "210987654321"}))).is_err());
    }
}
