//! What Pulumi's Check adds to the core's validation: auto-naming, normalization of inputs, provider
//! configuration coercion, and which outputs stay secret.

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, SeedableRng};

use crate::domain::declaration::model;
use crate::domain::declaration::schema::{self, Attribute, Type};
use crate::domain::declaration::value::Value;
use crate::domain::types::Cidr;

/// Length of the random suffix of an auto-name (Pulumi's convention: 7 lowercase letters and digits).
pub const AUTONAME_SUFFIX_LEN: usize = 7;

/// The logical name of a resource from its URN (`urn:pulumi:stack::project::type::name`).
pub fn urn_name(urn: &str) -> &str {
    urn.rsplit("::").next().unwrap_or(urn)
}

/// The logical name of a resource: the request's `name`, else the URN's.
pub fn logical_name<'a>(name: &'a str, urn: &'a str) -> &'a str {
    if name.is_empty() {
        urn_name(urn)
    } else {
        name
    }
}

/// True when `name` looks like an auto-name made from `logical`.
pub fn is_autoname(name: &str, logical: &str) -> bool {
    name.strip_prefix(logical)
        .and_then(|r| r.strip_prefix('-'))
        .map(|s| {
            s.len() == AUTONAME_SUFFIX_LEN
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        .unwrap_or(false)
}

/// A new auto-name: `logical` plus `-` and 7 random lowercase letters and digits. The engine's
/// `randomSeed`, when given, makes the suffix deterministic (previews and updates agree).
pub fn new_autoname(logical: &str, seed: &[u8]) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = if seed.is_empty() {
        rand::rngs::StdRng::from_os_rng()
    } else {
        let mut s = [0u8; 32];
        for (i, b) in seed.iter().enumerate() {
            s[i % 32] ^= *b;
        }
        rand::rngs::StdRng::from_seed(s)
    };
    let suffix: String = (0..AUTONAME_SUFFIX_LEN)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{logical}-{suffix}")
}

/// How the engine asked to auto-name (Check's `autonaming` options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Autonaming {
    /// No options: the provider's own convention.
    Default,
    /// Use this name (PROPOSE or ENFORCE).
    Proposed(String),
    /// Do not set a name (the core then generates a unique one at create).
    Disabled,
}

/// Sets `name` when neither `name` nor `name_prefix` is set: the proposed name, or the old inputs'
/// auto-name (so that the name is stable across Checks), or a new auto-name.
pub fn autoname(news: &mut Value, olds: &Value, logical: &str, how: &Autonaming, seed: &[u8]) {
    if !news.get("name").is_null() || !news.get("name_prefix").is_null() {
        return;
    }
    let name = match how {
        Autonaming::Disabled => return,
        Autonaming::Proposed(p) => p.clone(),
        Autonaming::Default => match (olds.get("name").as_str(), olds.get("name_prefix")) {
            (Some(old), Value::Null) if is_autoname(old, logical) => old.to_string(),
            _ => new_autoname(logical, seed),
        },
    };
    news.set("name", Value::String(name));
}

/// Set attributes whose items are CIDR blocks, normalized to their network address.
const CIDR_SETS: [&str; 2] = ["allowed_cidr_blocks", "client_ssh_cidr_blocks"];

/// Normalizes valid inputs: numbers and booleans written as strings become numbers and booleans, CIDR
/// blocks become their network address, and sets are sorted with duplicates removed (so that
/// reordering a list is no change).
pub fn normalize(inputs: &Value) -> Value {
    let attrs = &schema::resource().attributes;
    let Some(m) = inputs.as_map() else {
        return inputs.clone();
    };
    let mut out = BTreeMap::new();
    for (k, v) in m {
        let nv = match attrs.iter().find(|a| &a.name == k) {
            Some(a) => {
                let v = coerce(v, &a.ty);
                if CIDR_SETS.contains(&k.as_str()) {
                    map_strings(&v, |s| {
                        Cidr::parse(s)
                            .map(|c| c.net().to_string())
                            .unwrap_or_else(|_| s.to_string())
                    })
                } else {
                    v
                }
            }
            None => v.clone(),
        };
        out.insert(k.clone(), nv);
    }
    let mut v = Value::Map(out);
    for a in attrs {
        if let Type::Set(_) = a.ty {
            let sorted = sort_set(v.get(&a.name));
            if !v.get(&a.name).is_null() {
                v.set(&a.name, sorted);
            }
        }
    }
    v
}

fn map_strings(v: &Value, f: impl Fn(&str) -> String) -> Value {
    match v {
        Value::List(items) => Value::List(
            items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Value::String(f(s)),
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn sort_set(v: &Value) -> Value {
    match v {
        Value::List(items) if items.iter().all(|i| matches!(i, Value::String(_))) => {
            let set: BTreeSet<String> = items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect();
            Value::List(set.into_iter().map(Value::String).collect())
        }
        other => other.clone(),
    }
}

/// Converts a value to its schema type where the engine sent it as a string: `"6379"` → 6379,
/// `"true"` → true, and, for objects, maps and lists, a JSON text (Pulumi sends stack configuration of
/// default providers that way).
pub fn coerce(v: &Value, ty: &Type) -> Value {
    match (ty, v) {
        (Type::Integer, Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map(Value::Number)
            .unwrap_or_else(|_| v.clone()),
        (Type::Bool, Value::String(s)) if s == "true" || s == "false" => Value::Bool(s == "true"),
        (Type::List(_) | Type::Set(_) | Type::Map(_) | Type::Object(_), Value::String(s)) => {
            match serde_json::from_str::<serde_json::Value>(s) {
                Ok(j @ (serde_json::Value::Array(_) | serde_json::Value::Object(_))) => {
                    coerce(&Value::from_json(&j), ty)
                }
                _ => v.clone(),
            }
        }
        (Type::List(inner) | Type::Set(inner), Value::List(items)) => {
            Value::List(items.iter().map(|i| coerce(i, inner)).collect())
        }
        (Type::Map(inner), Value::Map(m)) => Value::Map(
            m.iter()
                .map(|(k, x)| (k.clone(), coerce(x, inner)))
                .collect(),
        ),
        (Type::Object(attrs), Value::Map(m)) => Value::Map(
            m.iter()
                .map(|(k, x)| {
                    let x = match attrs.iter().find(|a| &a.name == k) {
                        Some(a) => coerce(x, &a.ty),
                        None => x.clone(),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// Coerces every attribute of an object by `attrs`.
pub fn coerce_object(v: &Value, attrs: &[Attribute]) -> Value {
    coerce(v, &Type::Object(attrs.to_vec()))
}

/// Keys the engine adds to a provider's inputs that are not provider configuration.
pub const ENGINE_CONFIG_KEYS: [&str; 3] = ["version", "pluginDownloadURL", "pluginChecksums"];

/// The outputs that are secret when the top-level inputs `secret_inputs` were secret: the same
/// properties, and every attribute that follows one of them ([`model::DERIVED`]).
pub fn output_secrets(secret_inputs: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = secret_inputs.clone();
    for d in model::DERIVED {
        if d.from.iter().any(|f| secret_inputs.contains(*f)) {
            out.insert(d.attr.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(j: serde_json::Value) -> Value {
        Value::from_json(&j)
    }

    #[test]
    fn autoname_is_stable_across_checks_and_yields_to_explicit_names() {
        let mut news = v(serde_json::json!({"vpc_id": "vpc-01234567"}));
        autoname(&mut news, &Value::Null, "cache", &Autonaming::Default, &[]);
        let first = news.get("name").as_str().unwrap_or_default().to_string();
        assert!(is_autoname(&first, "cache"), "{first}");
        let mut again = v(serde_json::json!({"vpc_id": "vpc-01234567"}));
        autoname(&mut again, &news, "cache", &Autonaming::Default, &[]);
        assert_eq!(again.get("name").as_str(), Some(first.as_str()));
        let mut explicit = v(serde_json::json!({"name": "mine"}));
        autoname(&mut explicit, &news, "cache", &Autonaming::Default, &[]);
        assert_eq!(explicit.get("name").as_str(), Some("mine"));
        let mut prefixed = v(serde_json::json!({"name_prefix": "p-"}));
        autoname(&mut prefixed, &news, "cache", &Autonaming::Default, &[]);
        assert!(prefixed.get("name").is_null());
        // An explicit old name is not an auto-name: removing it gives a new auto-name.
        let mut dropped = v(serde_json::json!({}));
        autoname(
            &mut dropped,
            &v(serde_json::json!({"name": "mine"})),
            "cache",
            &Autonaming::Default,
            &[],
        );
        assert!(is_autoname(
            dropped.get("name").as_str().unwrap_or_default(),
            "cache"
        ));
        let mut proposed = v(serde_json::json!({}));
        autoname(
            &mut proposed,
            &Value::Null,
            "cache",
            &Autonaming::Proposed("cache-x".into()),
            &[],
        );
        assert_eq!(proposed.get("name").as_str(), Some("cache-x"));
        let mut disabled = v(serde_json::json!({}));
        autoname(
            &mut disabled,
            &Value::Null,
            "cache",
            &Autonaming::Disabled,
            &[],
        );
        assert!(disabled.get("name").is_null());
        assert_eq!(new_autoname("a", b"seed"), new_autoname("a", b"seed"));
    }

    #[test]
    fn urn_names() {
        assert_eq!(
            urn_name("urn:pulumi:dev::proj::elasticache:index:Access::cache"),
            "cache"
        );
    }

    #[test]
    fn normalization_sorts_sets_normalizes_cidrs_and_coerces_strings() {
        let n = normalize(&v(serde_json::json!({
            "port": "6380", "attach_to_cluster": "false",
            "allowed_cidr_blocks": ["10.1.2.3/16", "10.0.0.0/8", "10.1.0.0/16"],
            "client_security_group_ids": ["sg-0000000b", "sg-0000000a"],
            "tags": {"b": "1", "a": "2"}
        })));
        assert_eq!(n.get("port"), &Value::Number(6380.0));
        assert_eq!(n.get("attach_to_cluster"), &Value::Bool(false));
        assert_eq!(
            n.get("allowed_cidr_blocks"),
            &Value::string_list(["10.0.0.0/8", "10.1.0.0/16"])
        );
        assert_eq!(
            n.get("client_security_group_ids"),
            &Value::string_list(["sg-0000000a", "sg-0000000b"])
        );
        let with_unknown = normalize(&Value::Map(
            [(
                "allowed_cidr_blocks".to_string(),
                Value::List(vec![Value::from("10.0.0.1/8"), Value::Unknown]),
            )]
            .into(),
        ));
        assert_eq!(
            with_unknown.get("allowed_cidr_blocks"),
            &Value::List(vec![Value::from("10.0.0.0/8"), Value::Unknown])
        );
    }

    #[test]
    fn provider_config_json_strings_are_decoded() {
        let attrs = &schema::provider().attributes;
        let c = coerce_object(
            &v(
                serde_json::json!({"endpoints": "{\"ec2\":\"http://x\"}", "max_retries": "3", "region": "us-east-1"}),
            ),
            attrs,
        );
        assert_eq!(c.get("endpoints").get("ec2"), &Value::from("http://x"));
        assert_eq!(c.get("max_retries"), &Value::Number(3.0));
        assert_eq!(c.get("region"), &Value::from("us-east-1"));
    }

    #[test]
    fn derived_outputs_stay_secret() {
        let s = output_secrets(&["allowed_cidr_blocks".to_string(), "tags".to_string()].into());
        for n in [
            "allowed_cidr_blocks",
            "ingress_rule_ids",
            "tags",
            "tags_all",
        ] {
            assert!(s.contains(n), "{n}");
        }
        assert!(!s.contains("client_ssh_rule_ids"));
    }
}
