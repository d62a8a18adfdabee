//! The document `terraform providers schema -json` prints for this provider (Terraform's
//! internal/command/jsonprovider layout), from the GetProviderSchema answer: written to
//! `sdk-schemas/terraform/schema.json` and compared with the real CLI's output by the docs tests.

use std::collections::{BTreeMap, BTreeSet};

use elasticache_proto::tfplugin6 as tf;
use serde_json::{json, Map, Value as Json};

use crate::domain::declaration::model::TF_PROVIDER_ADDRESS;

/// `v` with every object's keys sorted (Go's encoding/json writes maps sorted).
pub fn sorted(v: &Json) -> Json {
    match v {
        Json::Object(o) => {
            let keys: BTreeSet<&String> = o.keys().collect();
            let mut m = Map::new();
            for k in keys {
                m.insert(k.clone(), sorted(&o[k]));
            }
            Json::Object(m)
        }
        Json::Array(a) => Json::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

// Terraform: the document of `terraform providers schema -json` (internal/command/jsonprovider)

fn string_kind(kind: i32) -> &'static str {
    if kind == tf::StringKind::Markdown as i32 {
        "markdown"
    } else {
        "plain"
    }
}

/// Attributes keyed and ordered by name.
fn tf_attributes(attrs: &[tf::schema::Attribute]) -> Json {
    let mut sorted: Vec<&tf::schema::Attribute> = attrs.iter().collect();
    sorted.sort_by(|x, y| x.name.cmp(&y.name));
    Json::Object(
        sorted
            .into_iter()
            .map(|a| (a.name.clone(), tf_attribute(a)))
            .collect(),
    )
}

/// `description` when there is one, and always its kind.
fn tf_description(o: &mut Map<String, Json>, description: &str, kind: i32) {
    if !description.is_empty() {
        o.insert("description".into(), Json::String(description.to_string()));
    }
    o.insert(
        "description_kind".into(),
        Json::String(string_kind(kind).into()),
    );
}

fn tf_attribute(a: &tf::schema::Attribute) -> Json {
    // Field order and omission as jsonprovider.Attribute (`omitempty` everywhere but the kind).
    let mut o = Map::new();
    if !a.r#type.is_empty() {
        let ty: Json = serde_json::from_slice(&a.r#type).unwrap_or(Json::Null);
        o.insert("type".into(), sorted(&ty));
    }
    if let Some(n) = &a.nested_type {
        let mut nested = Map::new();
        nested.insert("attributes".into(), tf_attributes(&n.attributes));
        let mode = tf::schema::object::NestingMode::try_from(n.nesting)
            .map(|m| m.as_str_name().to_ascii_lowercase())
            .unwrap_or_default();
        nested.insert("nesting_mode".into(), Json::String(mode));
        o.insert("nested_type".into(), Json::Object(nested));
    }
    tf_description(&mut o, &a.description, a.description_kind);
    for (flag, set) in [
        ("deprecated", a.deprecated),
        ("required", a.required),
        ("optional", a.optional),
        ("computed", a.computed),
        ("sensitive", a.sensitive),
        ("write_only", a.write_only),
    ] {
        if set {
            o.insert(flag.into(), Json::Bool(true));
        }
    }
    Json::Object(o)
}

fn tf_block(b: &tf::schema::Block) -> Json {
    let mut o = Map::new();
    if !b.attributes.is_empty() {
        o.insert("attributes".into(), tf_attributes(&b.attributes));
    }
    if !b.block_types.is_empty() {
        let mut blocks: Vec<&tf::schema::NestedBlock> = b.block_types.iter().collect();
        blocks.sort_by(|x, y| x.type_name.cmp(&y.type_name));
        let mut m = Map::new();
        for nb in blocks {
            let mut t = Map::new();
            let mode = tf::schema::nested_block::NestingMode::try_from(nb.nesting)
                .map(|m| m.as_str_name().to_ascii_lowercase())
                .unwrap_or_default();
            t.insert("nesting_mode".into(), Json::String(mode));
            t.insert(
                "block".into(),
                tf_block(&nb.block.clone().unwrap_or_default()),
            );
            if nb.min_items > 0 {
                t.insert("min_items".into(), json!(nb.min_items));
            }
            if nb.max_items > 0 {
                t.insert("max_items".into(), json!(nb.max_items));
            }
            m.insert(nb.type_name.clone(), Json::Object(t));
        }
        o.insert("block_types".into(), Json::Object(m));
    }
    tf_description(&mut o, &b.description, b.description_kind);
    if b.deprecated {
        o.insert("deprecated".into(), Json::Bool(true));
    }
    Json::Object(o)
}

fn tf_schema(s: &tf::Schema) -> Json {
    json!({
        "version": s.version,
        "block": tf_block(&s.block.clone().unwrap_or_default()),
    })
}

/// `resource_identity_schemas` as Terraform 1.12 and later print it (`omitempty` attribute fields).
fn identity_schemas() -> Json {
    let resp = crate::terraform::identity::schemas();
    let sorted: BTreeMap<&String, &tf::ResourceIdentitySchema> =
        resp.identity_schemas.iter().collect();
    let mut out = Map::new();
    for (name, s) in sorted {
        let mut attrs = Map::new();
        for a in &s.identity_attributes {
            let mut o = Map::new();
            let ty: Json = serde_json::from_slice(&a.r#type).unwrap_or(Json::Null);
            o.insert("type".into(), ty);
            if !a.description.is_empty() {
                o.insert("description".into(), Json::String(a.description.clone()));
            }
            for (flag, set) in [
                ("required_for_import", a.required_for_import),
                ("optional_for_import", a.optional_for_import),
            ] {
                if set {
                    o.insert(flag.into(), Json::Bool(true));
                }
            }
            attrs.insert(a.name.clone(), Json::Object(o));
        }
        out.insert(
            name.clone(),
            json!({"version": s.version, "attributes": sorted_map(attrs)}),
        );
    }
    Json::Object(out)
}

fn sorted_map(m: Map<String, Json>) -> Json {
    sorted(&Json::Object(m))
}

/// The document `terraform providers schema -json` prints for a configuration that uses only this
/// provider (format 1.0, as Terraform 1.15 prints it; earlier versions print the parts they know),
/// built from the `GetProviderSchema` and `GetResourceIdentitySchemas` answers the plugin serves.
pub fn terraform_schema_json() -> Json {
    let resp = crate::terraform::server::ProviderService::provider_schema();
    let mut provider = Map::new();
    if let Some(p) = &resp.provider {
        provider.insert("provider".into(), tf_schema(p));
    }
    for (key, schemas) in [
        ("resource_schemas", &resp.resource_schemas),
        ("data_source_schemas", &resp.data_source_schemas),
        (
            "ephemeral_resource_schemas",
            &resp.ephemeral_resource_schemas,
        ),
        ("list_resource_schemas", &resp.list_resource_schemas),
    ] {
        let sorted: BTreeMap<&String, &tf::Schema> = schemas.iter().collect();
        if !sorted.is_empty() {
            let m = sorted
                .into_iter()
                .map(|(k, v)| (k.clone(), tf_schema(v)))
                .collect();
            provider.insert(key.into(), Json::Object(m));
        }
    }
    provider.insert("resource_identity_schemas".into(), identity_schemas());
    json!({
        "format_version": "1.0",
        "provider_schemas": { TF_PROVIDER_ADDRESS: provider },
    })
}
