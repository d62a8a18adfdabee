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

use rmpv::ValueRef as Mp;

use crate::domain::declaration::schema::{Attribute, Type};
use crate::domain::declaration::value::Value;

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
fn read(bytes: &[u8]) -> Result<Option<Mp<'_>>, DecodeError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let mut rd = bytes;
    let mp = rmpv::decode::read_value_ref_with_max_depth(&mut rd, MAX_DEPTH)
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
    entries: &[(Mp<'_>, Mp<'_>)],
    attrs: &[Attribute],
    path: &Path<'_>,
) -> Result<Value, DecodeError> {
    let mut out = BTreeMap::new();
    for (k, v) in entries {
        let k = text(k).ok_or_else(|| err(path, "object key is not a string"))?;
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

/// A msgpack string's text (None: another kind, or not UTF-8).
fn text<'m>(mp: &'m Mp<'_>) -> Option<&'m str> {
    match mp {
        Mp::String(s) => s.as_str(),
        _ => None,
    }
}

fn from_mp(mp: &Mp<'_>, ty: &Type, path: &Path<'_>) -> Result<Value, DecodeError> {
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
                let k = text(k).ok_or_else(|| err(path, "map key is not a string"))?;
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

fn mp_kind(mp: &Mp<'_>) -> &'static str {
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
    let mut out = Vec::with_capacity(512);
    match v {
        Value::Map(m) => write_object(&mut out, m, attrs),
        other => write_value(&mut out, other, &Type::Object(Vec::new())),
    }
    out
}

/// Encodes a value of type `ty`.
pub fn encode(v: &Value, ty: &Type) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, v, ty);
    out
}

// Writing into a Vec cannot fail: the results of rmp's writers are ignored below. Each writer picks
// the shortest form of its marker, as rmpv's `write_value` does (the tests compare both).

fn write_str(out: &mut Vec<u8>, s: &str) {
    let _ = rmp::encode::write_str(out, s);
}

/// An object's map: every attribute, in name order as cty writes it.
fn write_object(out: &mut Vec<u8>, m: &BTreeMap<String, Value>, attrs: &[Attribute]) {
    let _ = rmp::encode::write_map_len(out, attrs.len() as u32);
    let put = |a: &Attribute| {
        write_str(out, &a.name);
        write_value(out, m.get(&a.name).unwrap_or(&Value::Null), &a.ty);
    };
    if attrs.is_sorted_by(|a, b| a.name <= b.name) {
        attrs.iter().for_each(put);
    } else {
        let mut sorted: Vec<&Attribute> = attrs.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        sorted.into_iter().for_each(put);
    }
}

/// The plain unknown value cty writes: fixext1, type 0, one zero byte (`d4 00 00`).
const UNKNOWN: [u8; 3] = [0xd4, 0x00, 0x00];

fn write_number(out: &mut Vec<u8>, n: f64) {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        // The shortest form, as rmpv writes an integer (an unsigned marker when not negative).
        let _ = rmp::encode::write_sint(out, n as i64);
    } else {
        let _ = rmp::encode::write_f64(out, n);
    }
}

fn write_list(out: &mut Vec<u8>, items: &[Value], inner: &Type) {
    let _ = rmp::encode::write_array_len(out, items.len() as u32);
    for i in items {
        write_value(out, i, inner);
    }
}

fn write_map(out: &mut Vec<u8>, m: &BTreeMap<String, Value>, inner: &Type) {
    let _ = rmp::encode::write_map_len(out, m.len() as u32);
    for (k, x) in m {
        write_str(out, k);
        write_value(out, x, inner);
    }
}

fn write_value(out: &mut Vec<u8>, v: &Value, ty: &Type) {
    match (v, ty) {
        (Value::Null, _) => out.push(0xc0),
        (Value::Unknown, _) => out.extend_from_slice(&UNKNOWN),
        (Value::Number(n), Type::Integer) => write_number(out, *n),
        (Value::String(s), Type::Integer) => match s.parse::<f64>() {
            Ok(n) => write_number(out, n),
            Err(_) => write_str(out, s),
        },
        (Value::Bool(b), Type::Bool) => out.push(if *b { 0xc3 } else { 0xc2 }),
        (Value::String(s), Type::Bool) if s == "true" || s == "false" => {
            out.push(if s == "true" { 0xc3 } else { 0xc2 })
        }
        // A number where a string belongs: its decimal text, as cty converts it.
        (Value::Number(_), Type::String) => {
            write_str(out, &v.to_json().map(|j| j.to_string()).unwrap_or_default())
        }
        (Value::Bool(b), Type::String) => write_str(out, if *b { "true" } else { "false" }),
        (Value::List(items), Type::List(inner) | Type::Set(inner)) => write_list(out, items, inner),
        (Value::Map(m), Type::Map(inner)) => write_map(out, m, inner),
        (Value::Map(m), Type::Object(attrs)) => write_object(out, m, attrs),
        // A value of the wrong shape: write it as it is; Terraform reports the mismatch.
        (Value::String(s), _) => write_str(out, s),
        (Value::Number(n), _) => write_number(out, *n),
        (Value::Bool(b), _) => out.push(if *b { 0xc3 } else { 0xc2 }),
        (Value::List(items), _) => write_list(out, items, &Type::String),
        (Value::Map(m), _) => write_map(out, m, &Type::String),
    }
}

#[cfg(test)]
#[path = "msgpack_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "msgpack_props.rs"]
mod props;
