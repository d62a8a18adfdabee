//! The Pulumi package schema (`pulumi package get-schema`), derived from [`crate::domain::declaration::schema`].
//!
//! One resource, `elasticache:index:Access`, with camelCase properties, and one function,
//! `elasticache:index:getIamAuthToken` (its `token` output a secret); nested objects become named
//! types (`elasticache:index:AccessCluster`, `…AccessTimeouts`, `…AccessUnmanagedRule`); the provider's
//! configuration becomes `config.variables` and the provider resource's inputs. The resource's `id`
//! attribute is not a property: it is the resource's Pulumi id.

use serde_json::{json, Map, Value as Json};

use super::codec;
use crate::domain::declaration::model::{self, Mode};
use crate::domain::declaration::schema::{self, Attribute, ResourceSchema, Type};
use crate::domain::service::auth_token;
use crate::domain::service::reach_query;

/// The package name.
pub const PACKAGE: &str = "elasticache";

/// Type names that differ from the attribute's name.
const TYPE_NAMES: &[(&str, &str)] = &[("unmanaged_ingress", "UnmanagedRule")];

/// The attributes of the resource that are Pulumi properties (all but `id`).
pub fn is_property(a: &Attribute) -> bool {
    a.name != "id"
}

fn pascal(snake: &str) -> String {
    let c = model::camel_case(snake);
    let mut chars = c.chars();
    match chars.next() {
        Some(f) => f.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

struct Builder {
    types: Map<String, Json>,
}

impl Builder {
    /// The property spec of `a`; nested objects are added to `types` under `prefix` + type name.
    fn property(&mut self, prefix: &str, a: &Attribute, with_default: bool) -> Json {
        let mut p = self.type_spec(prefix, &a.name, &a.ty);
        if let Some(o) = p.as_object_mut() {
            if !a.description.is_empty() {
                o.insert(
                    "description".into(),
                    Json::String(codec::pulumi_text(&a.description)),
                );
            }
            if a.sensitive {
                o.insert("secret".into(), Json::Bool(true));
            }
            if with_default {
                if let Some(d) = a
                    .default
                    .as_ref()
                    .filter(|d| d.is_string() || d.is_number() || d.is_boolean())
                {
                    o.insert("default".into(), d.clone());
                }
            }
            if a.replaces {
                o.insert("replaceOnChanges".into(), Json::Bool(true));
            }
        }
        p
    }

    fn type_spec(&mut self, prefix: &str, name: &str, ty: &Type) -> Json {
        match ty {
            Type::String => json!({"type": "string"}),
            Type::Integer => json!({"type": "integer"}),
            Type::Bool => json!({"type": "boolean"}),
            Type::List(inner) | Type::Set(inner) => {
                json!({"type": "array", "items": self.type_spec(prefix, name, inner)})
            }
            Type::Map(inner) => {
                json!({"type": "object", "additionalProperties": self.type_spec(prefix, name, inner)})
            }
            Type::Object(attrs) => {
                let type_name = TYPE_NAMES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, t)| t.to_string())
                    .unwrap_or_else(|| pascal(name));
                let token = format!("{PACKAGE}:index:{prefix}{type_name}");
                if !self.types.contains_key(&token) {
                    let mut props = Map::new();
                    let mut required = Vec::new();
                    for a in attrs {
                        let key = model::camel_case(&a.name);
                        if a.mode == Mode::Required || a.mode == Mode::Computed {
                            required.push(Json::String(key.clone()));
                        }
                        props.insert(key, self.property(prefix, a, true));
                    }
                    let mut t = json!({"type": "object", "properties": props});
                    if !required.is_empty() {
                        t["required"] = Json::Array(required);
                    }
                    self.types.insert(token.clone(), t);
                }
                json!({"$ref": format!("#/types/{token}")})
            }
        }
    }
}

fn inputs(b: &mut Builder, prefix: &str, s: &ResourceSchema) -> (Map<String, Json>, Vec<Json>) {
    let mut props = Map::new();
    let mut required = Vec::new();
    for a in s
        .attributes
        .iter()
        .filter(|a| a.is_input() && is_property(a))
    {
        let key = model::camel_case(&a.name);
        if a.mode == Mode::Required {
            required.push(Json::String(key.clone()));
        }
        props.insert(key, b.property(prefix, a, true));
    }
    (props, required)
}

/// Outputs that always have a value after a create.
fn always_set(a: &Attribute) -> bool {
    match a.mode {
        Mode::Required | Mode::OptionalComputed => true,
        Mode::Computed => !matches!(
            a.name.as_str(),
            "client_security_group_id" | "cluster_endpoint"
        ),
        Mode::Optional => false,
    }
}

/// The package schema as JSON.
pub fn package_schema() -> Json {
    let mut b = Builder { types: Map::new() };
    let resource = schema::resource();
    let (input_props, required_inputs) = inputs(&mut b, "Access", resource);
    let mut props = Map::new();
    let mut required = Vec::new();
    for a in resource.attributes.iter().filter(|a| is_property(a)) {
        let key = model::camel_case(&a.name);
        if always_set(a) {
            required.push(Json::String(key.clone()));
        }
        props.insert(key, b.property("Access", a, false));
    }

    let provider = schema::provider();
    let (provider_props, provider_required) = inputs(&mut b, "Provider", provider);
    let defaults: Vec<Json> = provider
        .attributes
        .iter()
        .filter(|a| a.mode != Mode::Required)
        .map(|a| Json::String(model::camel_case(&a.name)))
        .collect();

    let mut access = json!({
        "description": codec::pulumi_text(&resource.description),
        "properties": props,
        "required": required,
        "inputProperties": input_props,
    });
    if !required_inputs.is_empty() {
        access["requiredInputs"] = Json::Array(required_inputs);
    }
    let mut provider_spec = json!({
        "description": provider.description,
        "inputProperties": provider_props,
    });
    if !provider_required.is_empty() {
        provider_spec["requiredInputs"] = Json::Array(provider_required);
    }
    let mut config_vars = Map::new();
    for (k, v) in provider_props_for_config(&mut b, provider) {
        config_vars.insert(k, v);
    }
    json!({
        "name": PACKAGE,
        "displayName": "ElastiCache Access",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "Authorized network access to an AWS ElastiCache cluster: a cluster security group, a client security group and the ingress rules between them.",
        "keywords": ["pulumi", "aws", "elasticache", "security-group", "category/network"],
        "license": "MPL-2.0",
        "publisher": "elasticache-access",
        "meta": {"moduleFormat": "(.*)"},
        "config": {"variables": config_vars, "defaults": defaults},
        "types": b.types,
        "provider": provider_spec,
        "resources": {model::PULUMI_RESOURCE_TOKEN: access},
        "functions": {
            auth_token::PULUMI_FUNCTION_TOKEN: function(&mut b, auth_token::token_schema(), "GetIamAuthToken"),
            // Its `reachability` is the access's type (`prefix` Access): one type in every SDK.
            reach_query::PULUMI_INVOKE_TOKEN: function(&mut b, reach_query::query_schema(), "Access"),
        },
        "language": {
            "nodejs": {"packageName": "@elasticache-access/elasticache"},
            "python": {"packageName": "elasticache_access"},
        },
    })
}

/// A function (`getIamAuthToken`, `getReachability`): its arguments as inputs, every attribute as
/// outputs (a sensitive one a secret); nested types are named after `prefix`.
fn function(b: &mut Builder, s: &ResourceSchema, prefix: &str) -> Json {
    let (inputs, required_inputs) = inputs(b, prefix, s);
    let mut outputs = Map::new();
    let mut required = Vec::new();
    for a in &s.attributes {
        let key = model::camel_case(&a.name);
        if a.mode != Mode::Optional {
            required.push(Json::String(key.clone()));
        }
        outputs.insert(key, b.property(prefix, a, false));
    }
    json!({
        "description": codec::pulumi_text(&s.description),
        "inputs": {"properties": inputs, "required": required_inputs},
        "outputs": {"properties": outputs, "required": required},
    })
}

fn provider_props_for_config(b: &mut Builder, provider: &ResourceSchema) -> Vec<(String, Json)> {
    provider
        .attributes
        .iter()
        .map(|a| (model::camel_case(&a.name), b.property("Provider", a, true)))
        .collect()
}

/// The package schema as the string GetSchema answers with.
pub fn package_schema_string() -> String {
    serde_json::to_string_pretty(&package_schema()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const METASCHEMA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/pulumi-package-metaschema.json"
    );

    #[test]
    fn package_schema_validates_against_pulumis_metaschema() {
        let text = std::fs::read_to_string(METASCHEMA)
            .unwrap_or_else(|e| panic!("read {METASCHEMA}: {e}"));
        let meta: Json = serde_json::from_str(&text).unwrap_or_default();
        let validator =
            jsonschema::validator_for(&meta).unwrap_or_else(|e| panic!("metaschema: {e}"));
        let schema = package_schema();
        let errors: Vec<String> = validator
            .iter_errors(&schema)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }

    #[test]
    fn resource_has_camel_case_properties_types_and_replacements() {
        let s = package_schema();
        let r = &s["resources"]["elasticache:index:Access"];
        assert_eq!(
            r["inputProperties"]["vpcId"]["replaceOnChanges"],
            Json::Bool(true)
        );
        assert_eq!(
            r["inputProperties"]["name"]["replaceOnChanges"],
            Json::Bool(true)
        );
        assert!(r["inputProperties"]["port"]
            .get("replaceOnChanges")
            .is_none());
        assert_eq!(r["inputProperties"]["port"]["type"], "integer");
        assert_eq!(
            r["inputProperties"]["allowedCidrBlocks"]["items"]["type"],
            "string"
        );
        assert_eq!(
            r["inputProperties"]["tags"]["additionalProperties"]["type"],
            "string"
        );
        assert_eq!(
            r["inputProperties"]["createClientSecurityGroup"]["default"],
            Json::Bool(true)
        );
        assert_eq!(
            r["inputProperties"]["cluster"]["$ref"],
            "#/types/elasticache:index:AccessCluster"
        );
        assert_eq!(
            r["inputProperties"]["timeouts"]["$ref"],
            "#/types/elasticache:index:AccessTimeouts"
        );
        assert_eq!(
            r["properties"]["unmanagedIngress"]["items"]["$ref"],
            "#/types/elasticache:index:AccessUnmanagedRule"
        );
        assert!(r["inputProperties"].get("ingressRuleIds").is_none());
        assert!(
            r["properties"].get("id").is_none(),
            "id is the resource id, not a property"
        );
        assert!(r["properties"]["ingressRuleIds"]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()));
        let req: Vec<&str> = r["required"]
            .as_array()
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        assert!(
            req.contains(&"clusterSecurityGroupId")
                && req.contains(&"vpcId")
                && !req.contains(&"clientSecurityGroupId")
        );
        let name_doc = r["inputProperties"]["name"]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(
            name_doc.contains("`namePrefix`") && !name_doc.contains("name_prefix"),
            "{name_doc}"
        );
        let rule = &s["types"]["elasticache:index:AccessUnmanagedRule"];
        assert_eq!(rule["properties"]["fromPort"]["type"], "integer");
        assert_eq!(
            s["types"]["elasticache:index:AccessCluster"]["properties"]["replicationGroupId"]
                ["type"],
            "string"
        );
    }

    #[test]
    fn provider_config_is_in_config_and_provider_inputs() {
        let s = package_schema();
        assert_eq!(s["config"]["variables"]["region"]["type"], "string");
        assert_eq!(s["config"]["variables"]["maxRetries"]["default"], 5);
        assert_eq!(
            s["provider"]["inputProperties"]["assumeRole"]["$ref"],
            "#/types/elasticache:index:ProviderAssumeRole"
        );
        let ar = &s["types"]["elasticache:index:ProviderAssumeRole"];
        assert_eq!(ar["required"], json!(["roleArn"]));
        assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    }
}
