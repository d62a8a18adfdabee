//! Converters between the core's types and tfplugin6's: schemas, type constraints, attribute paths,
//! diagnostics and `DynamicValue`s. Nothing here decides anything; it only translates.

use elasticache_proto::tfplugin6 as tf;
use serde_json::{json, Value as Json};

use crate::domain::declaration::model::{Mode, Nesting};
use crate::domain::declaration::schema::{Attribute, ResourceSchema, Type};
use crate::domain::declaration::value::Value;
use crate::domain::diag::{AttrPath, Diagnostic, PathStep, Severity};

use super::msgpack;

/// The cty type constraint of `ty` as Terraform's schema JSON (`"string"`, `["set","string"]`, ...).
pub fn type_json(ty: &Type) -> Json {
    match ty {
        Type::String => json!("string"),
        Type::Integer => json!("number"),
        Type::Bool => json!("bool"),
        Type::List(inner) => json!(["list", type_json(inner)]),
        Type::Set(inner) => json!(["set", type_json(inner)]),
        Type::Map(inner) => json!(["map", type_json(inner)]),
        Type::Object(attrs) => {
            let fields: serde_json::Map<String, Json> = attrs
                .iter()
                .map(|a| (a.name.clone(), type_json(&a.ty)))
                .collect();
            json!(["object", fields])
        }
    }
}

fn description_kind(text: &str) -> i32 {
    // Descriptions quote names in backticks: Markdown.
    if text.contains('`') {
        tf::StringKind::Markdown as i32
    } else {
        tf::StringKind::Plain as i32
    }
}

fn mode_flags(mode: Mode) -> (bool, bool, bool) {
    match mode {
        Mode::Required => (true, false, false),
        Mode::Optional => (false, true, false),
        Mode::OptionalComputed => (false, true, true),
        Mode::Computed => (false, false, true),
    }
}

fn attribute(a: &Attribute) -> tf::schema::Attribute {
    let (required, optional, computed) = mode_flags(a.mode);
    let mut out = tf::schema::Attribute {
        name: a.name.clone(),
        description: a.description.clone(),
        description_kind: description_kind(&a.description),
        required,
        optional,
        computed,
        sensitive: a.sensitive,
        ..Default::default()
    };
    match &a.ty {
        // An input object is a nested attribute (`cluster = { ... }`), so each of its attributes
        // has its own mode and description.
        Type::Object(attrs) if a.mode != Mode::Computed => {
            out.nested_type = Some(tf::schema::Object {
                attributes: attrs.iter().map(attribute).collect(),
                nesting: tf::schema::object::NestingMode::Single as i32,
                ..Default::default()
            });
        }
        ty => out.r#type = type_json(ty).to_string().into_bytes(),
    }
    out
}

fn block(attrs: &[Attribute], description: &str, version: i64) -> tf::schema::Block {
    let mut b = tf::schema::Block {
        version,
        description: description.to_string(),
        description_kind: description_kind(description),
        ..Default::default()
    };
    for a in attrs {
        match (a.nesting, &a.ty) {
            (Nesting::Block, Type::Object(inner)) => b.block_types.push(tf::schema::NestedBlock {
                type_name: a.name.clone(),
                block: Some(block(inner, &a.description, 0)),
                nesting: tf::schema::nested_block::NestingMode::Single as i32,
                min_items: 0,
                max_items: 0,
            }),
            _ => b.attributes.push(attribute(a)),
        }
    }
    b
}

/// A core schema as a tfplugin6 schema.
pub fn schema(s: &ResourceSchema) -> tf::Schema {
    tf::Schema {
        version: s.version,
        block: Some(block(&s.attributes, &s.description, s.version)),
    }
}

/// A core attribute path as Terraform's. Set elements have no address in Terraform, so the path stops
/// at the set; list indexes become integer keys and map keys string keys.
pub fn path(p: &AttrPath, attrs: &[Attribute]) -> tf::AttributePath {
    use tf::attribute_path::{step::Selector, Step};
    let mut steps = Vec::new();
    let mut ty: Option<Type> = Some(Type::Object(attrs.to_vec()));
    for s in &p.0 {
        let selector = match (s, &ty) {
            (PathStep::Index(_), Some(Type::Set(_))) => break,
            (PathStep::Attr(name), Some(Type::Object(fields))) => {
                ty = fields
                    .iter()
                    .find(|f| &f.name == name)
                    .map(|f| f.ty.clone());
                Selector::AttributeName(name.clone())
            }
            (PathStep::Attr(name), _) => {
                ty = None;
                Selector::AttributeName(name.clone())
            }
            (PathStep::Index(i), Some(Type::List(inner))) => {
                let sel = Selector::ElementKeyInt(*i as i64);
                ty = Some((**inner).clone());
                sel
            }
            (PathStep::Index(i), _) => {
                ty = None;
                Selector::ElementKeyInt(*i as i64)
            }
            (PathStep::Key(k), Some(Type::Map(inner))) => {
                let sel = Selector::ElementKeyString(k.clone());
                ty = Some((**inner).clone());
                sel
            }
            (PathStep::Key(k), _) => {
                ty = None;
                Selector::ElementKeyString(k.clone())
            }
        };
        steps.push(Step {
            selector: Some(selector),
        });
    }
    tf::AttributePath { steps }
}

/// A Terraform attribute path as the core's (for `requires_replace` round trips and tests).
pub fn path_from(p: &tf::AttributePath) -> AttrPath {
    use tf::attribute_path::step::Selector;
    AttrPath(
        p.steps
            .iter()
            .filter_map(|s| match &s.selector {
                Some(Selector::AttributeName(n)) => Some(PathStep::Attr(n.clone())),
                Some(Selector::ElementKeyString(k)) => Some(PathStep::Key(k.clone())),
                Some(Selector::ElementKeyInt(i)) => Some(PathStep::Index((*i).max(0) as usize)),
                None => None,
            })
            .collect(),
    )
}

/// A core diagnostic as Terraform's; `attrs` is the schema its path refers to.
pub fn diagnostic(d: &Diagnostic, attrs: &[Attribute]) -> tf::Diagnostic {
    tf::Diagnostic {
        severity: match d.severity {
            Severity::Error => tf::diagnostic::Severity::Error as i32,
            Severity::Warning => tf::diagnostic::Severity::Warning as i32,
        },
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d
            .path
            .as_ref()
            .filter(|p| !p.0.is_empty())
            .map(|p| path(p, attrs)),
    }
}

/// Core diagnostics as Terraform's.
pub fn diagnostics(ds: &[Diagnostic], attrs: &[Attribute]) -> Vec<tf::Diagnostic> {
    ds.iter().map(|d| diagnostic(d, attrs)).collect()
}

/// An error that belongs to no attribute.
pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> tf::Diagnostic {
    tf::Diagnostic {
        severity: tf::diagnostic::Severity::Error as i32,
        summary: summary.into(),
        detail: detail.into(),
        attribute: None,
    }
}

/// Decodes a `DynamicValue` (msgpack, or JSON when only JSON is present) as an object of `attrs`.
/// A missing value is null.
pub fn decode(
    v: Option<&tf::DynamicValue>,
    attrs: &[Attribute],
    what: &str,
) -> Result<Value, tf::Diagnostic> {
    let Some(v) = v else { return Ok(Value::Null) };
    if v.msgpack.is_empty() && !v.json.is_empty() {
        let j: Json = serde_json::from_slice(&v.json).map_err(|e| {
            error(
                format!("Invalid {what}"),
                format!("The {what} is not valid JSON: {e}"),
            )
        })?;
        return Ok(Value::from_json(&j));
    }
    msgpack::decode_object(&v.msgpack, attrs).map_err(|e| {
        error(
            format!("Invalid {what}"),
            format!("Terraform sent a {what} that does not match the provider's schema: {e}. This is a bug in the provider or a Terraform version it does not support."),
        )
    })
}

/// Encodes a core value as a msgpack `DynamicValue` of an object of `attrs`.
pub fn encode(v: &Value, attrs: &[Attribute]) -> tf::DynamicValue {
    tf::DynamicValue {
        msgpack: msgpack::encode_object(v, attrs),
        json: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::declaration::schema;
    use tf::attribute_path::step::Selector;

    fn selectors(p: &tf::AttributePath) -> Vec<Selector> {
        p.steps.iter().filter_map(|s| s.selector.clone()).collect()
    }

    #[test]
    fn type_json_matches_terraforms_spelling() {
        let s = schema::resource();
        let t = |n: &str| {
            s.attribute(n)
                .map(|a| type_json(&a.ty).to_string())
                .unwrap_or_default()
        };
        assert_eq!(t("vpc_id"), r#""string""#);
        assert_eq!(t("port"), r#""number""#);
        assert_eq!(t("allowed_cidr_blocks"), r#"["set","string"]"#);
        assert_eq!(t("tags"), r#"["map","string"]"#);
        assert!(
            t("unmanaged_ingress").starts_with(r#"["list",["object",{"#),
            "{}",
            t("unmanaged_ingress")
        );
        assert!(t("unmanaged_ingress").contains(r#""from_port":"number""#));
    }

    #[test]
    fn resource_schema_has_single_blocks_for_timeouts_and_cluster() {
        let s = schema(schema::resource());
        let b = s.block.unwrap_or_default();
        assert_eq!(s.version, crate::domain::declaration::model::SCHEMA_VERSION);
        for (name, inner) in [
            ("timeouts", vec!["create", "delete", "update"]),
            (
                "cluster",
                vec![
                    "replication_group_id",
                    "cache_cluster_id",
                    "serverless_cache_name",
                ],
            ),
        ] {
            let blocks: Vec<_> = b
                .block_types
                .iter()
                .filter(|t| t.type_name == name)
                .collect();
            assert_eq!(blocks.len(), 1, "{name}");
            assert_eq!(
                blocks[0].nesting,
                tf::schema::nested_block::NestingMode::Single as i32
            );
            let mut got: Vec<_> = blocks[0]
                .block
                .iter()
                .flat_map(|b| b.attributes.iter().map(|a| a.name.clone()))
                .collect();
            let mut want: Vec<String> = inner.into_iter().map(String::from).collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{name}");
            assert!(blocks[0]
                .block
                .iter()
                .flat_map(|b| b.attributes.iter())
                .all(|a| a.optional && !a.description.is_empty()));
            assert!(b.attributes.iter().all(|a| a.name != name));
        }
        for a in &b.attributes {
            let modes = [
                a.required,
                a.optional && !a.computed,
                a.optional && a.computed,
                a.computed && !a.optional,
            ];
            assert_eq!(modes.iter().filter(|m| **m).count(), 1, "{}", a.name);
            assert!(!a.description.is_empty(), "{}", a.name);
            assert!(a.r#type.is_empty() != a.nested_type.is_none(), "{}", a.name);
            assert!(a
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        }
    }

    #[test]
    fn provider_schema_nests_assume_role_with_a_required_arn() {
        let s = schema(schema::provider());
        let b = s.block.unwrap_or_default();
        let ar = b
            .block_types
            .iter()
            .find(|a| a.type_name == "assume_role")
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            ar.nesting,
            tf::schema::nested_block::NestingMode::Single as i32
        );
        let arn = ar
            .block
            .unwrap_or_default()
            .attributes
            .into_iter()
            .find(|a| a.name == "role_arn")
            .unwrap_or_default();
        assert!(arn.required, "{arn:?}");
    }

    #[test]
    fn paths_stop_at_sets_and_key_lists_and_maps() {
        let attrs = &schema::resource().attributes;
        let p = path(&AttrPath::attr("allowed_cidr_blocks").then_index(2), attrs);
        assert_eq!(
            selectors(&p),
            vec![Selector::AttributeName("allowed_cidr_blocks".into())]
        );
        let p = path(&AttrPath::attr("tags").then_key("aws:x"), attrs);
        assert_eq!(
            selectors(&p),
            vec![
                Selector::AttributeName("tags".into()),
                Selector::ElementKeyString("aws:x".into())
            ]
        );
        let p = path(
            &AttrPath::attr("unmanaged_ingress")
                .then_index(1)
                .then_attr("rule_id"),
            attrs,
        );
        assert_eq!(
            selectors(&p),
            vec![
                Selector::AttributeName("unmanaged_ingress".into()),
                Selector::ElementKeyInt(1),
                Selector::AttributeName("rule_id".into())
            ]
        );
        let p = path(&AttrPath::attr("timeouts").then_attr("create"), attrs);
        assert_eq!(
            path_from(&p),
            AttrPath::attr("timeouts").then_attr("create")
        );
    }

    #[test]
    fn diagnostics_keep_severity_and_drop_empty_paths() {
        let attrs = &schema::resource().attributes;
        let d = diagnostic(
            &Diagnostic::warning(AttrPath::attr("port"), "s", "d"),
            attrs,
        );
        assert_eq!(d.severity, tf::diagnostic::Severity::Warning as i32);
        assert!(d.attribute.is_some());
        let d = diagnostic(&Diagnostic::general("s", "d"), attrs);
        assert_eq!(d.severity, tf::diagnostic::Severity::Error as i32);
        assert!(d.attribute.is_none());
    }

    #[test]
    fn dynamic_values_round_trip_and_json_is_accepted() {
        let attrs = &schema::resource().attributes;
        let v = crate::domain::planning::state::complete(Value::from_json(
            &json!({"vpc_id": "vpc-1", "port": 6379, "allowed_cidr_blocks": ["10.0.0.0/8"]}),
        ));
        let back = decode(Some(&encode(&v, attrs)), attrs, "state");
        assert_eq!(back, Ok(v));
        let j = tf::DynamicValue {
            msgpack: vec![],
            json: br#"{"vpc_id":"vpc-1"}"#.to_vec(),
        };
        assert_eq!(
            decode(Some(&j), attrs, "state").map(|v| v.get("vpc_id").clone()),
            Ok(Value::from("vpc-1"))
        );
        assert_eq!(decode(None, attrs, "state"), Ok(Value::Null));
    }
}
