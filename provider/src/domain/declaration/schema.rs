//! The protocol-neutral schema, derived from the declaration in `model.rs`.
//!
//! Types and descriptions come from the JSON Schema that schemars derives from the Rust types; modes,
//! replacement and defaults come from [`crate::domain::declaration::model::BEHAVIOUR`]. The Terraform and Pulumi adapters
//! each turn a [`ResourceSchema`] into their own wire schema.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde_json::Value as Json;

use crate::domain::declaration::model::{
    self, AccessArgs, AccessOutputs, Mode, Nesting, ProviderConfig,
};

/// An attribute's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    String,
    Integer,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    /// A nested object with named attributes.
    Object(Vec<Attribute>),
}

/// One attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub mode: Mode,
    /// A change replaces the resource.
    pub replaces: bool,
    /// The default, as JSON (for documentation and the Pulumi schema).
    pub default: Option<Json>,
    pub nesting: Nesting,
    /// Inclusive bounds of an integer.
    pub range: Option<(i64, i64)>,
    /// A secret: Terraform's `sensitive`, a Pulumi secret, never logged.
    pub sensitive: bool,
}

impl Attribute {
    pub fn is_input(&self) -> bool {
        self.mode != Mode::Computed
    }

    pub fn is_output(&self) -> bool {
        true
    }
}

/// A resource's (or the provider's) schema.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceSchema {
    pub description: String,
    pub version: i64,
    pub attributes: Vec<Attribute>,
}

/// The resource's input attributes (those a configuration sets), made once.
pub fn resource_inputs() -> &'static [Attribute] {
    static S: OnceLock<Vec<Attribute>> = OnceLock::new();
    S.get_or_init(|| {
        resource()
            .attributes
            .iter()
            .filter(|a| a.is_input())
            .cloned()
            .collect()
    })
}

impl ResourceSchema {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// The `elasticache_access` resource's schema.
pub fn resource() -> &'static ResourceSchema {
    static S: OnceLock<ResourceSchema> = OnceLock::new();
    S.get_or_init(|| {
        let args = json_schema::<AccessArgs>();
        let outs = json_schema::<AccessOutputs>();
        let mut attributes = Vec::new();
        for beh in model::BEHAVIOUR {
            let (root, prop) = match args["properties"].get(beh.name) {
                Some(p) => (&args, p),
                None => match outs["properties"].get(beh.name) {
                    Some(p) => (&outs, p),
                    None => continue,
                },
            };
            let mut a = attribute_from(root, beh.name, prop, beh.mode);
            a.replaces = beh.replaces;
            a.default = beh.default.and_then(|d| serde_json::from_str(d).ok());
            a.nesting = beh.nesting;
            attributes.push(a);
        }
        ResourceSchema {
            description: args["description"].as_str().unwrap_or_default().to_string(),
            version: model::SCHEMA_VERSION,
            attributes,
        }
    })
}

/// The provider configuration's schema (every attribute optional).
pub fn provider() -> &'static ResourceSchema {
    static S: OnceLock<ResourceSchema> = OnceLock::new();
    S.get_or_init(|| {
        let root = json_schema::<ProviderConfig>();
        let attributes = root["properties"]
            .as_object()
            .map(|props| {
                props
                    .iter()
                    .map(|(name, p)| {
                        let mut a = attribute_from(&root, name, p, Mode::Optional);
                        if name == "max_retries" {
                            a.default = Some(Json::from(model::DEFAULT_MAX_RETRIES));
                        }
                        if model::PROVIDER_BLOCKS.contains(&name.as_str()) {
                            a.nesting = Nesting::Block;
                        }
                        a
                    })
                    .collect()
            })
            .unwrap_or_default();
        ResourceSchema {
            description: "Configuration of the elasticache provider.".into(),
            version: 0,
            attributes,
        }
    })
}

/// JSON Schema (draft 2020-12) of `T`, as schemars derives it.
pub fn json_schema<T: JsonSchema>() -> Json {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Json::Null)
}

fn resolve<'a>(root: &'a Json, s: &'a Json) -> &'a Json {
    // Option<T> of a struct is `anyOf: [{$ref}, {type: null}]`; a plain struct is `$ref`.
    if let Some(any) = s.get("anyOf").and_then(Json::as_array) {
        if let Some(non_null) = any
            .iter()
            .find(|x| x.get("type") != Some(&Json::from("null")))
        {
            return resolve(root, non_null);
        }
    }
    if let Some(r) = s.get("$ref").and_then(Json::as_str) {
        if let Some(name) = r.strip_prefix("#/$defs/") {
            return &root["$defs"][name];
        }
    }
    s
}

fn type_of(root: &Json, s: &Json, mode: Mode) -> Type {
    let s = resolve(root, s);
    let ty = match s.get("type") {
        Some(Json::Array(ts)) => ts
            .iter()
            .find(|t| *t != "null")
            .cloned()
            .unwrap_or(Json::Null),
        Some(t) => t.clone(),
        None => Json::Null,
    };
    match ty.as_str() {
        Some("string") => Type::String,
        Some("integer") => Type::Integer,
        Some("boolean") => Type::Bool,
        Some("array") => {
            let item = type_of(root, &s["items"], mode);
            if s.get("uniqueItems") == Some(&Json::Bool(true)) {
                Type::Set(Box::new(item))
            } else {
                Type::List(Box::new(item))
            }
        }
        Some("object") if s.get("properties").is_some() => {
            let required: Vec<&str> = s["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            let attrs = s["properties"]
                .as_object()
                .map(|props| {
                    props
                        .iter()
                        .map(|(n, p)| {
                            let m = match mode {
                                Mode::Computed => Mode::Computed,
                                _ if required.contains(&n.as_str()) => Mode::Required,
                                _ => Mode::Optional,
                            };
                            attribute_from(root, n, p, m)
                        })
                        .collect()
                })
                .unwrap_or_default();
            Type::Object(attrs)
        }
        Some("object") => Type::Map(Box::new(match s.get("additionalProperties") {
            Some(ap) if ap.is_object() => type_of(root, ap, mode),
            _ => Type::String,
        })),
        _ => Type::String,
    }
}

fn attribute_from(root: &Json, name: &str, prop: &Json, mode: Mode) -> Attribute {
    let resolved = resolve(root, prop);
    let description = prop
        .get("description")
        .or_else(|| resolved.get("description"))
        .and_then(Json::as_str)
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let range = match (resolved.get("minimum"), resolved.get("maximum")) {
        (Some(lo), Some(hi)) => lo.as_i64().zip(hi.as_i64()),
        _ => None,
    };
    Attribute {
        name: name.to_string(),
        ty: type_of(root, prop, mode),
        description,
        mode,
        replaces: false,
        default: None,
        nesting: Nesting::Attribute,
        range,
        sensitive: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_has_a_description_and_a_type() {
        for a in &resource().attributes {
            assert!(!a.description.is_empty(), "{} has no description", a.name);
        }
        let s = resource();
        assert_eq!(s.attribute("port").map(|a| a.range), Some(Some((1, 65535))));
        assert_eq!(
            s.attribute("allowed_cidr_blocks").map(|a| a.ty.clone()),
            Some(Type::Set(Box::new(Type::String)))
        );
        assert_eq!(
            s.attribute("tags").map(|a| a.ty.clone()),
            Some(Type::Map(Box::new(Type::String)))
        );
        assert!(matches!(
            s.attribute("cluster").map(|a| &a.ty),
            Some(Type::Object(attrs)) if attrs.len() == 3 && attrs.iter().all(|a| a.mode == Mode::Optional)
        ));
        assert!(matches!(
            s.attribute("unmanaged_ingress").map(|a| &a.ty),
            Some(Type::List(inner)) if matches!(**inner, Type::Object(ref f) if f.iter().all(|a| a.mode == Mode::Computed))
        ));
        assert_eq!(s.attribute("vpc_id").map(|a| a.replaces), Some(true));
        assert_eq!(s.attribute("port").map(|a| a.replaces), Some(false));
        assert_eq!(
            s.attribute("create_client_security_group")
                .and_then(|a| a.default.clone()),
            Some(Json::Bool(true))
        );
    }

    #[test]
    fn provider_schema_has_nested_assume_role_with_required_arn() {
        let p = provider();
        let Some(Type::Object(attrs)) = p.attribute("assume_role").map(|a| &a.ty) else {
            panic!("assume_role is not an object");
        };
        let arn = attrs.iter().find(|a| a.name == "role_arn").map(|a| a.mode);
        assert_eq!(arn, Some(Mode::Required));
    }
}
