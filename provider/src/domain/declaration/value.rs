//! A protocol-neutral dynamic value: what both adapters decode wire values into and encode from.
//!
//! It is deliberately small: Terraform's msgpack objects and maps and Pulumi's Struct objects both
//! become [`Value::Map`]; sets and lists both become [`Value::List`] (the schema says which is which).
//! [`Value::Unknown`] is a value that is not known yet (Terraform's unknown, Pulumi's computed sentinel).

use std::collections::BTreeMap;

/// A value that may be null or not yet known, at any depth.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Unknown,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when no part of the value is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// The attribute `name` of an object; Null when absent or when `self` is not an object.
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Map(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Sets `name` on an object value (turning a non-object into an empty object first).
    pub fn set(&mut self, name: &str, v: Value) {
        if !matches!(self, Value::Map(_)) {
            *self = Value::Map(BTreeMap::new());
        }
        if let Value::Map(m) = self {
            m.insert(name.to_string(), v);
        }
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn string_list<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Value::List(items.into_iter().map(|s| Value::String(s.into())).collect())
    }

    /// A JSON value (wholly known) as a Value.
    pub fn from_json(j: &serde_json::Value) -> Value {
        match j {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The value as JSON; `None` when any part is unknown. Integral numbers become JSON integers.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        Some(match self {
            Value::Unknown => return None,
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(l) => {
                serde_json::Value::Array(l.iter().map(Value::to_json).collect::<Option<Vec<_>>>()?)
            }
            Value::Map(m) => {
                let mut o = serde_json::Map::new();
                for (k, v) in m {
                    o.insert(k.clone(), v.to_json()?);
                }
                serde_json::Value::Object(o)
            }
        })
    }
}

fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<u16> for Value {
    fn from(n: u16) -> Self {
        Value::Number(f64::from(n))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map(Into::into).unwrap_or(Value::Null)
    }
}

/// Reads typed scalars and collections out of a checked configuration, turning null into "not set"
/// and an unknown into `Known::Unknown`. Pulumi may send numbers and booleans as strings.
pub mod read {
    use crate::domain::declaration::value::Value;
    use crate::domain::types::{Input, Known};

    pub fn string(v: &Value) -> Input<String> {
        match v {
            Value::Null => None,
            Value::Unknown => Some(Known::Unknown),
            Value::String(s) => Some(Known::Known(s.clone())),
            _ => None,
        }
    }

    pub fn boolean(v: &Value) -> Input<bool> {
        match v {
            Value::Null => None,
            Value::Unknown => Some(Known::Unknown),
            Value::Bool(b) => Some(Known::Known(*b)),
            Value::String(s) => Some(Known::Known(s == "true")),
            _ => None,
        }
    }

    pub fn number(v: &Value) -> Input<f64> {
        match v {
            Value::Null => None,
            Value::Unknown => Some(Known::Unknown),
            Value::Number(n) => Some(Known::Known(*n)),
            Value::String(s) => s.parse().ok().map(Known::Known),
            _ => None,
        }
    }

    /// The items of a list or set: None when null, Unknown when the collection is unknown.
    pub fn items(v: &Value) -> Input<&[Value]> {
        match v {
            Value::Null => None,
            Value::Unknown => Some(Known::Unknown),
            Value::List(l) => Some(Known::Known(l.as_slice())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_integers_integral() {
        let j = serde_json::json!({"port": 6379, "tags": {"a": "b"}, "set": ["x"], "none": null});
        let v = Value::from_json(&j);
        assert_eq!(v.to_json(), Some(j));
    }

    #[test]
    fn unknown_anywhere_means_not_wholly_known() {
        let mut v = Value::Map(BTreeMap::new());
        v.set("l", Value::List(vec![Value::from("a"), Value::Unknown]));
        assert!(!v.is_wholly_known());
        assert_eq!(v.to_json(), None);
        assert!(v.get("missing").is_null());
    }
}
