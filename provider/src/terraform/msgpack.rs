//! Terraform's `DynamicValue` msgpack encoding (go-cty's `cty/msgpack`), to and from [`Value`].
//!
//! Decoding and encoding are driven by the schema's [`Type`], because the wire alone cannot tell a set
//! from a list, a map from an object, or a number written as a decimal string from a string.
//! - null is msgpack nil; an unknown value is ANY msgpack extension (plain unknown is ext type 0,
//!   Terraform 1.6+ sends refined unknowns as ext type 12); we emit ext 0 (`d4 00 00`).
//! - objects are maps keyed by attribute name, with exactly one entry per attribute (nil when
//!   absent), written in sorted key order as cty does; nested blocks are objects too;
//! - numbers are msgpack ints when integral, float64 otherwise; a decimal string is accepted.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use crate::domain::schema::{Attribute, Type};
use crate::domain::value::Value;

/// A value that does not fit its schema type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DecodeError {
    pub path: String,
    pub message: String,
}

fn err(path: &Path<'_>, message: impl Into<String>) -> DecodeError {
    let path = path.render();
    DecodeError {
        path: if path.is_empty() {
            "(root)".into()
        } else {
            path
        },
        message: message.into(),
    }
}

/// Where a value is, written out only for an error: decoding a value allocates no path.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Attr(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
    Key(&'a Path<'a>, &'a str),
}

impl Path<'_> {
    /// `a.b[0]["k"]`; the root is empty.
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Attr(p, k) => match p.render() {
                s if s.is_empty() => k.to_string(),
                s => format!("{s}.{k}"),
            },
            Path::Index(p, i) => format!("{}[{i}]", p.render()),
            Path::Key(p, k) => format!("{}[{k:?}]", p.render()),
        }
    }
}

/// How deep a msgpack value may nest. The schema's deepest attribute is three levels; the cap makes
/// the reader refuse a hostile or broken value before it recurses into it.
pub const MAX_DEPTH: usize = 32;

/// Decodes msgpack bytes of an object with these attributes. Empty bytes decode as null.
pub fn decode_object(bytes: &[u8], attrs: &[Attribute]) -> Result<Value, DecodeError> {
    match read(bytes)? {
        None => Ok(Value::Null),
        Some(Mp::Map(entries)) => object(&entries, attrs, &Path::Root),
        Some(mp) => from_mp(&mp, &Type::Object(Vec::new()), &Path::Root),
    }
}

/// Decodes msgpack bytes as a value of type `ty`. Empty bytes decode as null.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    match read(bytes)? {
        None => Ok(Value::Null),
        Some(mp) => from_mp(&mp, ty, &Path::Root),
    }
}

/// One whole msgpack value; none for empty bytes.
fn read(bytes: &[u8]) -> Result<Option<Mp>, DecodeError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let mut rd = bytes;
    let mp = rmpv::decode::read_value_with_max_depth(&mut rd, MAX_DEPTH)
        .map_err(|e| err(&Path::Root, format!("invalid msgpack: {e}")))?;
    if !rd.is_empty() {
        return Err(err(
            &Path::Root,
            format!("{} trailing bytes after the value", rd.len()),
        ));
    }
    Ok(Some(mp))
}

/// An object: one entry per attribute of the schema, null when the wire has none.
fn object(
    entries: &[(Mp, Mp)],
    attrs: &[Attribute],
    path: &Path<'_>,
) -> Result<Value, DecodeError> {
    let mut out = BTreeMap::new();
    for (k, v) in entries {
        let k = k
            .as_str()
            .ok_or_else(|| err(path, "object key is not a string"))?;
        let sub = Path::Attr(path, k);
        let a = attrs
            .iter()
            .find(|a| a.name == k)
            .ok_or_else(|| err(&sub, "unsupported attribute"))?;
        out.insert(k.to_string(), from_mp(v, &a.ty, &sub)?);
    }
    for a in attrs {
        if !out.contains_key(&a.name) {
            out.insert(a.name.clone(), Value::Null);
        }
    }
    Ok(Value::Map(out))
}

fn from_mp(mp: &Mp, ty: &Type, path: &Path<'_>) -> Result<Value, DecodeError> {
    match (mp, ty) {
        (Mp::Nil, _) => Ok(Value::Null),
        (Mp::Ext(..), _) => Ok(Value::Unknown),
        (Mp::Boolean(b), Type::Bool) => Ok(Value::Bool(*b)),
        (Mp::Integer(i), Type::Integer) => i
            .as_i64()
            .map(|n| n as f64)
            .or_else(|| i.as_u64().map(|n| n as f64))
            .map(Value::Number)
            .ok_or_else(|| err(path, "integer out of range")),
        (Mp::F32(f), Type::Integer) => Ok(Value::Number(f64::from(*f))),
        (Mp::F64(f), Type::Integer) => Ok(Value::Number(*f)),
        (Mp::String(s), Type::Integer) => s
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .map(Value::Number)
            .ok_or_else(|| err(path, "expected a number")),
        (Mp::String(s), Type::String) => s
            .as_str()
            .map(Value::string)
            .ok_or_else(|| err(path, "string is not valid UTF-8")),
        (Mp::Array(items), Type::List(inner) | Type::Set(inner)) => items
            .iter()
            .enumerate()
            .map(|(i, it)| from_mp(it, inner, &Path::Index(path, i)))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        (Mp::Map(entries), Type::Map(inner)) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let k = k
                    .as_str()
                    .ok_or_else(|| err(path, "map key is not a string"))?;
                out.insert(k.to_string(), from_mp(v, inner, &Path::Key(path, k))?);
            }
            Ok(Value::Map(out))
        }
        (Mp::Map(entries), Type::Object(attrs)) => object(entries, attrs, path),
        (other, ty) => Err(err(
            path,
            format!("expected {}, got msgpack {}", type_name(ty), mp_kind(other)),
        )),
    }
}

fn type_name(ty: &Type) -> &'static str {
    match ty {
        Type::String => "a string",
        Type::Integer => "a number",
        Type::Bool => "a bool",
        Type::List(_) => "a list",
        Type::Set(_) => "a set",
        Type::Map(_) => "a map",
        Type::Object(_) => "an object",
    }
}

fn mp_kind(mp: &Mp) -> &'static str {
    match mp {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "bool",
        Mp::Integer(_) => "int",
        Mp::F32(_) | Mp::F64(_) => "float",
        Mp::String(_) => "string",
        Mp::Binary(_) => "binary",
        Mp::Array(_) => "array",
        Mp::Map(_) => "map",
        Mp::Ext(..) => "ext",
    }
}

/// Encodes an object with these attributes: every attribute present, in sorted order.
pub fn encode_object(v: &Value, attrs: &[Attribute]) -> Vec<u8> {
    write(&match v {
        Value::Map(m) => object_mp(m, attrs),
        other => to_mp(other, &Type::Object(Vec::new())),
    })
}

/// Encodes a value of type `ty`.
pub fn encode(v: &Value, ty: &Type) -> Vec<u8> {
    write(&to_mp(v, ty))
}

fn write(mp: &Mp) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, mp);
    out
}

/// An object's map: every attribute, in name order as cty writes it.
fn object_mp(m: &BTreeMap<String, Value>, attrs: &[Attribute]) -> Mp {
    let mut sorted: Vec<&Attribute> = attrs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    Mp::Map(
        sorted
            .into_iter()
            .map(|a| {
                let x = m.get(&a.name).unwrap_or(&Value::Null);
                (Mp::from(a.name.as_str()), to_mp(x, &a.ty))
            })
            .collect(),
    )
}

/// The plain unknown value cty writes: fixext1, type 0, one zero byte (`d4 00 00`).
fn unknown() -> Mp {
    Mp::Ext(0, vec![0])
}

fn number(n: f64) -> Mp {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Mp::from(n as i64)
    } else {
        Mp::F64(n)
    }
}

fn to_mp(v: &Value, ty: &Type) -> Mp {
    match (v, ty) {
        (Value::Null, _) => Mp::Nil,
        (Value::Unknown, _) => unknown(),
        (Value::Number(n), Type::Integer) => number(*n),
        (Value::String(s), Type::Integer) => match s.parse::<f64>() {
            Ok(n) => number(n),
            Err(_) => Mp::from(s.as_str()),
        },
        (Value::Bool(b), Type::Bool) => Mp::Boolean(*b),
        (Value::String(s), Type::Bool) if s == "true" || s == "false" => Mp::Boolean(s == "true"),
        // A number where a string belongs: its decimal text, as cty converts it.
        (Value::Number(_), Type::String) => {
            Mp::from(v.to_json().map(|j| j.to_string()).unwrap_or_default())
        }
        (Value::Bool(b), Type::String) => Mp::from(b.to_string()),
        (Value::List(items), Type::List(inner) | Type::Set(inner)) => {
            Mp::Array(items.iter().map(|i| to_mp(i, inner)).collect())
        }
        (Value::Map(m), Type::Map(inner)) => Mp::Map(
            m.iter()
                .map(|(k, x)| (Mp::from(k.as_str()), to_mp(x, inner)))
                .collect(),
        ),
        (Value::Map(m), Type::Object(attrs)) => object_mp(m, attrs),
        // A value of the wrong shape: write it as it is; Terraform reports the mismatch.
        (Value::String(s), _) => Mp::from(s.as_str()),
        (Value::Number(n), _) => number(*n),
        (Value::Bool(b), _) => Mp::Boolean(*b),
        (Value::List(items), _) => {
            Mp::Array(items.iter().map(|i| to_mp(i, &Type::String)).collect())
        }
        (Value::Map(m), _) => Mp::Map(
            m.iter()
                .map(|(k, x)| (Mp::from(k.as_str()), to_mp(x, &Type::String)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Mode, Nesting};

    fn attr(name: &str, ty: Type) -> Attribute {
        Attribute {
            name: name.into(),
            ty,
            description: String::new(),
            mode: Mode::Optional,
            replaces: false,
            default: None,
            nesting: Nesting::Attribute,
            range: None,
        }
    }

    fn schema() -> Vec<Attribute> {
        vec![
            attr("s", Type::String),
            attr("n", Type::Integer),
            attr("b", Type::Bool),
            attr("set", Type::Set(Box::new(Type::String))),
            attr("tags", Type::Map(Box::new(Type::String))),
            attr(
                "timeouts",
                Type::Object(vec![
                    attr("create", Type::String),
                    attr("delete", Type::String),
                ]),
            ),
            attr(
                "rules",
                Type::List(Box::new(Type::Object(vec![
                    attr("id", Type::String),
                    attr("port", Type::Integer),
                ]))),
            ),
        ]
    }

    fn mp_map(entries: Vec<(&str, Mp)>) -> Mp {
        Mp::Map(entries.into_iter().map(|(k, v)| (Mp::from(k), v)).collect())
    }

    fn bytes(mp: &Mp) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = rmpv::encode::write_value(&mut out, mp);
        out
    }

    #[test]
    fn unknown_is_written_as_cty_does() {
        assert_eq!(
            encode(&Value::Unknown, &Type::String),
            vec![0xd4, 0x00, 0x00]
        );
    }

    #[test]
    fn any_extension_decodes_as_unknown_including_refinements() {
        // A refined unknown string that is known not to be null, with prefix "sg-": ext 12 holding a
        // map with integer keys (1 = nullness, 2 = string prefix).
        let refinement = bytes(&Mp::Map(vec![
            (Mp::from(1), Mp::Boolean(false)),
            (Mp::from(2), Mp::from("sg-")),
        ]));
        let wire = bytes(&mp_map(vec![
            ("s", Mp::Ext(12, refinement)),
            ("set", Mp::Array(vec![Mp::from("a"), Mp::Ext(0, vec![0])])),
            (
                "n",
                Mp::Ext(12, bytes(&Mp::Map(vec![(Mp::from(1), Mp::Boolean(false))]))),
            ),
        ]));
        let v = decode_object(&wire, &schema()).unwrap_or_default();
        assert_eq!(v.get("s"), &Value::Unknown);
        assert_eq!(v.get("n"), &Value::Unknown);
        assert_eq!(
            v.get("set"),
            &Value::List(vec![Value::from("a"), Value::Unknown])
        );
        assert!(v.get("b").is_null(), "absent attributes decode as null");
    }

    #[test]
    fn every_attribute_is_emitted_sorted_with_nested_blocks() {
        let mut v = Value::Map(BTreeMap::new());
        v.set("s", Value::from("x"));
        v.set(
            "timeouts",
            Value::Map([("create".to_string(), Value::from("30m"))].into()),
        );
        v.set(
            "rules",
            Value::List(vec![Value::Map(
                [("id".to_string(), Value::from("sgr-1"))].into(),
            )]),
        );
        v.set("bogus", Value::from("dropped"));
        let wire = encode_object(&v, &schema());
        let mp = rmpv::decode::read_value(&mut wire.as_slice()).unwrap_or(Mp::Nil);
        let keys: Vec<String> = mp
            .as_map()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, _)| k.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            keys,
            vec!["b", "n", "rules", "s", "set", "tags", "timeouts"]
        );
        let t = mp.as_map().and_then(|m| {
            m.iter()
                .find(|(k, _)| k.as_str() == Some("timeouts"))
                .map(|(_, v)| v.clone())
        });
        assert_eq!(
            t,
            Some(mp_map(vec![
                ("create", Mp::from("30m")),
                ("delete", Mp::Nil)
            ]))
        );
        let r = mp.as_map().and_then(|m| {
            m.iter()
                .find(|(k, _)| k.as_str() == Some("rules"))
                .map(|(_, v)| v.clone())
        });
        assert_eq!(
            r,
            Some(Mp::Array(vec![mp_map(vec![
                ("id", Mp::from("sgr-1")),
                ("port", Mp::Nil)
            ])]))
        );
    }

    #[test]
    fn numbers_are_integers_when_integral_and_decimal_strings_are_accepted() {
        assert_eq!(
            encode(&Value::Number(6379.0), &Type::Integer),
            bytes(&Mp::from(6379))
        );
        assert_eq!(
            encode(&Value::Number(1.5), &Type::Integer),
            bytes(&Mp::F64(1.5))
        );
        assert_eq!(
            decode(&bytes(&Mp::from("11211")), &Type::Integer),
            Ok(Value::Number(11211.0))
        );
        assert_eq!(
            decode(&bytes(&Mp::F64(22.0)), &Type::Integer),
            Ok(Value::Number(22.0))
        );
    }

    #[test]
    fn round_trip_of_a_full_object() {
        let mut v = Value::Map(BTreeMap::new());
        v.set("s", Value::from("x"));
        v.set("n", Value::Number(6379.0));
        v.set("b", Value::Bool(true));
        v.set("set", Value::string_list(["10.0.0.0/8", "fd00::/8"]));
        v.set(
            "tags",
            Value::Map([("team".to_string(), Value::from("a"))].into()),
        );
        v.set("timeouts", Value::Null);
        v.set("rules", Value::Unknown);
        let back = decode_object(&encode_object(&v, &schema()), &schema());
        assert_eq!(back, Ok(v));
    }

    #[test]
    fn wrong_shapes_and_unknown_attributes_are_errors_with_paths() {
        let wire = bytes(&mp_map(vec![("tags", Mp::Array(vec![]))]));
        let e = decode_object(&wire, &schema());
        assert!(matches!(e, Err(ref d) if d.path == "tags"), "{e:?}");
        let wire = bytes(&mp_map(vec![(
            "timeouts",
            mp_map(vec![("update", Mp::from("1m"))]),
        )]));
        let e = decode_object(&wire, &schema());
        assert!(
            matches!(e, Err(ref d) if d.path == "timeouts.update"),
            "{e:?}"
        );
        assert_eq!(decode(&[], &Type::String), Ok(Value::Null));
        assert!(
            decode(&[0x92, 0xa1], &Type::List(Box::new(Type::String))).is_err(),
            "truncated"
        );
        assert!(
            decode(&[0xa1, 0x61, 0x00], &Type::String).is_err(),
            "trailing bytes"
        );
    }

    #[test]
    fn error_paths_name_list_indexes_and_map_keys_below_attributes() {
        let ty = Type::Object(vec![attr(
            "a",
            Type::List(Box::new(Type::Object(vec![attr(
                "b",
                Type::Map(Box::new(Type::Integer)),
            )]))),
        )]);
        let ok = mp_map(vec![("b", mp_map(vec![("k", Mp::from(1))]))]);
        let bad = mp_map(vec![("b", mp_map(vec![("k", Mp::Boolean(true))]))]);
        let wire = bytes(&mp_map(vec![("a", Mp::Array(vec![ok, bad]))]));
        let e = decode(&wire, &ty).unwrap_err();
        assert_eq!(e.path, r#"a[1].b["k"]"#);
        assert_eq!(e.message, "expected a number, got msgpack bool");
        let e = decode(&bytes(&Mp::from(1)), &Type::String).unwrap_err();
        assert_eq!(e.path, "(root)");
        let e = decode_object(&bytes(&Mp::from("x")), &schema()).unwrap_err();
        assert_eq!(
            (e.path.as_str(), e.message.as_str()),
            ("(root)", "expected an object, got msgpack string")
        );
    }
}

#[cfg(test)]
#[path = "msgpack_props.rs"]
mod props;
