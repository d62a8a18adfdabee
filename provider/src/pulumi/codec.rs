//! `google.protobuf.Struct` ⇄ [`Value`], the way the Pulumi engine encodes property values.
//!
//! - Keys: Pulumi programs write camelCase; the core uses the schema's snake_case names. Keys are mapped
//!   by the schema, at the top level and inside nested objects, but never inside map-typed attributes
//!   (`tags`): those keys are the user's own.
//! - Unknowns: every sentinel string the engine may send becomes [`Value::Unknown`]; [`Value::Unknown`]
//!   is encoded as the engine's plain unknown sentinel.
//! - Secrets and output values (special objects with the signature key) are unwrapped; which top-level
//!   properties were secret is remembered so that the outputs derived from them stay secret.
//! - Nulls are kept on decode and left out of objects on encode.

use std::collections::{BTreeMap, BTreeSet};

use prost_types::{value::Kind, ListValue, Struct};

use crate::domain::declaration::model;
use crate::domain::declaration::schema::{Attribute, Type};
use crate::domain::declaration::value::Value;
use crate::domain::diag::{AttrPath, PathStep};

/// The key that marks a special object.
pub const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
/// Signature of a secret: `{SIG_KEY: SECRET_SIG, "value": …}`.
pub const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";
/// Signature of a resource reference: `urn`, `id`, `packageVersion`.
pub const RESOURCE_REF_SIG: &str = "5cf8f73096256a8f31e491e813e4eb8e";
/// Signature of an output value: `value` (absent when unknown), `secret`, `dependencies`.
pub const OUTPUT_VALUE_SIG: &str = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
/// Signature of an asset.
pub const ASSET_SIG: &str = "c44067f5952c0a294b673a41bacd8c17";
/// Signature of an archive.
pub const ARCHIVE_SIG: &str = "0def7320c3a5731c473e5ecbe6d01bc7";

/// The engine's unknown sentinel (what it sends, and what this provider answers with).
pub const UNKNOWN: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/// Every unknown sentinel: plain, bool, number, array, object, asset, archive.
pub const UNKNOWN_SENTINELS: [&str; 7] = [
    UNKNOWN,
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
];

/// A decoded property map: the value (an object with snake_case keys) and the top-level attributes
/// that were secret (or held a secret anywhere inside).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decoded {
    pub value: Value,
    pub secrets: BTreeSet<String>,
}

/// A value the engine sent that this provider cannot take.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("property {path}: {reason}")]
pub struct DecodeError {
    /// The camelCase property path.
    pub path: String,
    pub reason: String,
}

/// How deep a property value may nest (objects, lists and secret or output wrappers each count one
/// level). The resource's deepest input is three levels; the cap keeps a hostile or broken value
/// from exhausting the stack.
pub const MAX_DEPTH: usize = 32;

/// Decodes a property Struct (absent = empty object) against `attrs`.
pub fn decode(s: Option<&Struct>, attrs: &[Attribute]) -> Result<Decoded, DecodeError> {
    let mut out = BTreeMap::new();
    let mut secrets = BTreeSet::new();
    if let Some(s) = s {
        for (key, pv) in &s.fields {
            let attr = attrs
                .iter()
                .find(|a| model::camel_case(&a.name) == *key || a.name == *key);
            let name = attr
                .map(|a| a.name.clone())
                .unwrap_or_else(|| model::snake_case(key));
            let mut secret = false;
            let v = decode_value(pv, attr.map(|a| &a.ty), &mut secret, key, 1)?;
            if secret {
                secrets.insert(name.clone());
            }
            out.insert(name, v);
        }
    }
    Ok(Decoded {
        value: Value::Map(out),
        secrets,
    })
}

fn decode_value(
    pv: &prost_types::Value,
    ty: Option<&Type>,
    secret: &mut bool,
    path: &str,
    depth: usize,
) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError {
            path: path.to_string(),
            reason: format!("the value is nested deeper than {MAX_DEPTH} levels"),
        });
    }
    let next = depth + 1;
    Ok(match &pv.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::NumberValue(n)) => Value::Number(*n),
        Some(Kind::StringValue(s)) if UNKNOWN_SENTINELS.contains(&s.as_str()) => Value::Unknown,
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(l)) => {
            let inner = match ty {
                Some(Type::List(t) | Type::Set(t)) => Some(&**t),
                _ => None,
            };
            let mut items = Vec::with_capacity(l.values.len());
            for (i, item) in l.values.iter().enumerate() {
                items.push(decode_value(
                    item,
                    inner,
                    secret,
                    &format!("{path}[{i}]"),
                    next,
                )?);
            }
            Value::List(items)
        }
        Some(Kind::StructValue(s)) => {
            if let Some(Kind::StringValue(sig)) =
                s.fields.get(SIG_KEY).and_then(|v| v.kind.as_ref())
            {
                return decode_special(sig, s, ty, secret, path, next);
            }
            let mut m = BTreeMap::new();
            match ty {
                Some(Type::Object(attrs)) => {
                    for (k, v) in &s.fields {
                        let attr = attrs
                            .iter()
                            .find(|a| model::camel_case(&a.name) == *k || a.name == *k);
                        let name = attr
                            .map(|a| a.name.clone())
                            .unwrap_or_else(|| model::snake_case(k));
                        m.insert(
                            name,
                            decode_value(
                                v,
                                attr.map(|a| &a.ty),
                                secret,
                                &format!("{path}.{k}"),
                                next,
                            )?,
                        );
                    }
                }
                Some(Type::Map(inner)) => {
                    for (k, v) in &s.fields {
                        m.insert(
                            k.clone(),
                            decode_value(v, Some(inner), secret, &format!("{path}[{k:?}]"), next)?,
                        );
                    }
                }
                _ => {
                    for (k, v) in &s.fields {
                        m.insert(
                            k.clone(),
                            decode_value(v, None, secret, &format!("{path}.{k}"), next)?,
                        );
                    }
                }
            }
            Value::Map(m)
        }
    })
}

fn decode_special(
    sig: &str,
    s: &Struct,
    ty: Option<&Type>,
    secret: &mut bool,
    path: &str,
    depth: usize,
) -> Result<Value, DecodeError> {
    match sig {
        SECRET_SIG => {
            *secret = true;
            match s.fields.get("value") {
                Some(v) => decode_value(v, ty, secret, path, depth),
                None => Ok(Value::Null),
            }
        }
        OUTPUT_VALUE_SIG => {
            if matches!(
                s.fields.get("secret").and_then(|v| v.kind.as_ref()),
                Some(Kind::BoolValue(true))
            ) {
                *secret = true;
            }
            match s.fields.get("value") {
                Some(v) => decode_value(v, ty, secret, path, depth),
                None => Ok(Value::Unknown),
            }
        }
        RESOURCE_REF_SIG => {
            // A reference stands for the resource's id (or its URN for a component).
            let field = |k: &str| match s.fields.get(k).and_then(|v| v.kind.as_ref()) {
                Some(Kind::StringValue(x)) => Some(x.clone()),
                _ => None,
            };
            match field("id") {
                Some(id) if UNKNOWN_SENTINELS.contains(&id.as_str()) || id.is_empty() => {
                    Ok(Value::Unknown)
                }
                Some(id) => Ok(Value::String(id)),
                None => Ok(field("urn").map(Value::String).unwrap_or(Value::Unknown)),
            }
        }
        ASSET_SIG | ARCHIVE_SIG => Err(DecodeError {
            path: path.to_string(),
            reason: "assets and archives are not accepted here; write a plain value".into(),
        }),
        other => Err(DecodeError {
            path: path.to_string(),
            reason: format!("unsupported special value with signature {other}"),
        }),
    }
}

/// How to encode.
#[derive(Clone, Copy, Debug, Default)]
pub struct EncodeOptions {
    /// Wrap the secret properties in secret objects (the engine accepts secrets).
    pub keep_secrets: bool,
}

/// Encodes an object value against `attrs`: camelCase keys, unknowns as the sentinel, nulls left out,
/// the top-level properties in `secrets` wrapped as secrets.
pub fn encode(
    v: &Value,
    attrs: &[Attribute],
    secrets: &BTreeSet<String>,
    opts: EncodeOptions,
) -> Struct {
    let mut fields = BTreeMap::new();
    if let Some(m) = v.as_map() {
        for (k, x) in m {
            if x.is_null() {
                continue;
            }
            let attr = attrs.iter().find(|a| a.name == *k);
            let key = attr
                .map(|a| model::camel_case(&a.name))
                .unwrap_or_else(|| model::camel_case(k));
            let mut pv = encode_value(x, attr.map(|a| &a.ty));
            if opts.keep_secrets && secrets.contains(k) {
                pv = secret(pv);
            }
            fields.insert(key, pv);
        }
    }
    Struct { fields }
}

/// Wraps a value as a secret.
pub fn secret(v: prost_types::Value) -> prost_types::Value {
    let mut fields = BTreeMap::new();
    fields.insert(SIG_KEY.to_string(), string(SECRET_SIG));
    fields.insert("value".to_string(), v);
    prost_types::Value {
        kind: Some(Kind::StructValue(Struct { fields })),
    }
}

fn string(s: &str) -> prost_types::Value {
    prost_types::Value {
        kind: Some(Kind::StringValue(s.to_string())),
    }
}

fn encode_value(v: &Value, ty: Option<&Type>) -> prost_types::Value {
    let kind = match v {
        Value::Null => Kind::NullValue(0),
        Value::Unknown => Kind::StringValue(UNKNOWN.to_string()),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(*n),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::List(items) => {
            let inner = match ty {
                Some(Type::List(t) | Type::Set(t)) => Some(&**t),
                _ => None,
            };
            Kind::ListValue(ListValue {
                values: items.iter().map(|i| encode_value(i, inner)).collect(),
            })
        }
        Value::Map(m) => {
            let mut fields = BTreeMap::new();
            match ty {
                Some(Type::Object(attrs)) => {
                    for (k, x) in m {
                        if x.is_null() {
                            continue;
                        }
                        let attr = attrs.iter().find(|a| a.name == *k);
                        fields.insert(model::camel_case(k), encode_value(x, attr.map(|a| &a.ty)));
                    }
                }
                Some(Type::Map(inner)) => {
                    for (k, x) in m {
                        fields.insert(k.clone(), encode_value(x, Some(inner)));
                    }
                }
                _ => {
                    for (k, x) in m {
                        fields.insert(k.clone(), encode_value(x, None));
                    }
                }
            }
            Kind::StructValue(Struct { fields })
        }
    };
    prost_types::Value { kind: Some(kind) }
}

/// A diagnostic's attribute path as a Pulumi property path: `allowedCidrBlocks[0]`,
/// `cluster.replicationGroupId`, `tags["team"]`.
pub fn property_path(path: &AttrPath) -> String {
    let mut out = String::new();
    for (i, step) in path.0.iter().enumerate() {
        match step {
            PathStep::Attr(a) if i == 0 => out.push_str(&model::camel_case(a)),
            PathStep::Attr(a) => {
                out.push('.');
                out.push_str(&model::camel_case(a));
            }
            PathStep::Key(k) => {
                out.push('[');
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(']');
            }
            PathStep::Index(n) => out.push_str(&format!("[{n}]")),
        }
    }
    out
}

/// Every attribute name of the resource and of the provider (nested ones too) written with `_`.
fn snake_names() -> &'static BTreeSet<String> {
    static NAMES: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    fn walk(attrs: &[Attribute], out: &mut BTreeSet<String>) {
        for a in attrs {
            if a.name.contains('_') {
                out.insert(a.name.clone());
            }
            let mut ty = &a.ty;
            while let Type::List(t) | Type::Set(t) | Type::Map(t) = ty {
                ty = t;
            }
            if let Type::Object(inner) = ty {
                walk(inner, out);
            }
        }
    }
    NAMES.get_or_init(|| {
        let mut out = BTreeSet::new();
        walk(
            &crate::domain::declaration::schema::resource().attributes,
            &mut out,
        );
        walk(
            &crate::domain::declaration::schema::provider().attributes,
            &mut out,
        );
        out
    })
}

/// A description or message written for the core's snake_case names, as a Pulumi user reads it:
/// attribute names in camelCase, and `allow_public_cidrs = true` as `allowPublicCidrs: true`.
pub fn pulumi_text(text: &str) -> String {
    let names = snake_names();
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let mut converted_last = false;
    let flush = |word: &mut String, out: &mut String| -> bool {
        let hit = names.contains(word.as_str());
        if hit {
            out.push_str(&model::camel_case(word));
        } else {
            out.push_str(word);
        }
        word.clear();
        hit
    };
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if !word.is_empty() {
            converted_last = flush(&mut word, &mut out);
        }
        if converted_last && rest.starts_with(" = ") {
            out.push_str(": ");
            rest = &rest[3..];
            converted_last = false;
            continue;
        }
        converted_last = false;
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !word.is_empty() {
        flush(&mut word, &mut out);
    }
    out
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "codec_props.rs"]
mod props;
