//! Identity and `terraform query` in the service: the identity of a state, imports by identity, the
//! list resource (its configuration, its filters and what it finds) and the configuration generated
//! for what it finds. Protocol-free like the rest of the core; the Terraform adapter converts.

use std::sync::OnceLock;

use crate::domain::declaration::model::{Mode, Nesting};
use crate::domain::declaration::schema::{self, Attribute, ResourceSchema, Type};
use crate::domain::declaration::value::Value;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::engine::list::ListFilter;
use crate::domain::planning::identity;
use crate::domain::planning::state;
use crate::domain::service::{not_configured, Service};
use crate::domain::types::{ClusterRef, CLUSTER_ATTRS};

/// One access a list finds.
#[derive(Clone, Debug, PartialEq)]
pub struct Listed {
    pub identity: Value,
    pub display_name: String,
    pub state: Value,
}

fn optional(name: &str, ty: Type, description: &str, nesting: Nesting) -> Attribute {
    Attribute {
        name: name.to_string(),
        ty,
        description: description.to_string(),
        mode: Mode::Optional,
        replaces: false,
        default: None,
        nesting,
        range: None,
        sensitive: false,
    }
}

/// The configuration of a `list "elasticache_access"` block: filters, all optional.
pub fn list_schema() -> &'static ResourceSchema {
    static S: OnceLock<ResourceSchema> = OnceLock::new();
    S.get_or_init(|| {
        let cluster = schema::resource()
            .attribute("cluster")
            .map(|a| a.ty.clone())
            .unwrap_or(Type::Object(Vec::new()));
        ResourceSchema {
            description: "Finds the accesses this provider made in the provider's Region (their cluster groups carry the provider's `elasticache-access:` tags). Every filter set must match.".to_string(),
            version: 0,
            attributes: vec![
                optional("vpc_id", Type::String, "Only accesses in this VPC.", Nesting::Attribute),
                optional("cluster", cluster, "Only accesses for this cluster: exactly one of `replication_group_id`, `cache_cluster_id` or `serverless_cache_name`.", Nesting::Block),
                optional("tags", Type::Map(Box::new(Type::String)), "Only accesses whose cluster group has every one of these tags, with these values.", Nesting::Attribute),
            ],
        }
    })
}

fn not_known(at: &str) -> Diagnostic {
    Diagnostic::error(
        AttrPath::attr(at),
        "Filter not known",
        format!("The list filter {at} is not known yet; list filters must be known when the query runs."),
    )
}

fn parse_cluster(v: &Value, out: &mut Vec<Diagnostic>) -> Option<ClusterRef> {
    let set: Vec<(&str, &Value)> = CLUSTER_ATTRS
        .into_iter()
        .map(|k| (k, v.get(k)))
        .filter(|(_, x)| !x.is_null())
        .collect();
    match set.as_slice() {
        [] => None,
        [(k, Value::String(id))] => ClusterRef::parse(k, id)
            .map_err(|e| {
                out.push(Diagnostic::error(
                    AttrPath::attr("cluster").then_attr(k),
                    "Invalid cluster identifier",
                    e,
                ))
            })
            .ok(),
        [(k, _)] => {
            out.push(not_known(&format!("cluster.{k}")));
            None
        }
        [_, (second, _), ..] => {
            out.push(Diagnostic::error(AttrPath::attr("cluster").then_attr(second), "Set exactly one cluster identifier", "The cluster filter takes one of replication_group_id, cache_cluster_id or serverless_cache_name."));
            None
        }
    }
}

/// The filters of a list configuration (null: none), or every problem with it.
pub fn parse_list(config: &Value) -> Result<ListFilter, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut f = ListFilter::default();
    match config.get("vpc_id") {
        Value::String(s) if !s.trim().is_empty() => f.vpc_id = Some(s.trim().to_string()),
        Value::Unknown => out.push(not_known("vpc_id")),
        _ => {}
    }
    match config.get("cluster") {
        Value::Unknown => out.push(not_known("cluster")),
        c => f.cluster = parse_cluster(c, &mut out),
    }
    match config.get("tags") {
        Value::Unknown => out.push(not_known("tags")),
        Value::Map(m) => {
            for (k, v) in m {
                match v.as_str() {
                    Some(s) => {
                        f.tags.insert(k.clone(), s.to_string());
                    }
                    None => out.push(not_known(&format!("tags[{k:?}]"))),
                }
            }
        }
        _ => {}
    }
    if out.is_empty() {
        Ok(f)
    } else {
        Err(out)
    }
}

/// The configuration that manages an access as it is: its inputs as recorded, with `name` left out
/// when it was generated from `name_prefix` (the two conflict in a configuration).
pub fn generated_config(state_value: &Value) -> Value {
    let mut inputs = state::inputs_of(state_value);
    if !inputs.get("name_prefix").is_null() {
        if let Value::Map(m) = &mut inputs {
            m.remove("name");
        }
    }
    state::complete(inputs)
}

fn display_name(s: &Value) -> String {
    let id = s.get("id").as_str().unwrap_or_default();
    match s.get("name").as_str().filter(|n| !n.is_empty()) {
        Some(n) => format!("{n} ({id})"),
        None => id.to_string(),
    }
}

impl Service {
    /// The Region of the configured provider (None before Configure).
    pub fn region(&self) -> Option<String> {
        self.engine().map(|e| e.region()).filter(|r| !r.is_empty())
    }

    /// The identity to record for `state`, given the one Terraform holds (None or null: none yet).
    pub fn identity(&self, state: &Value, prior: Option<&Value>) -> Result<Value, Diagnostic> {
        identity::reconcile(prior, &identity::of(state, self.region().as_deref()))
    }

    /// Imports the access an import identity names: its state, its identity, and the warnings of
    /// an import by id (kinds of cluster it could not search).
    pub async fn import_by_identity(
        &self,
        ident: &Value,
    ) -> Result<(Value, Value, Vec<Diagnostic>), Vec<Diagnostic>> {
        let region = self.region();
        let id = identity::import_id(ident, region.as_deref()).map_err(|d| vec![d])?;
        let (s, notes) = self.import_noting(&id).await?;
        identity::check_account(ident, &s).map_err(|d| vec![d])?;
        let i = self.identity(&s, None).map_err(|d| vec![d])?;
        Ok((s, i, notes))
    }

    /// Checks a list configuration.
    pub fn validate_list(&self, config: &Value) -> Vec<Diagnostic> {
        match parse_list(config) {
            Ok(_) => Vec::new(),
            // Unknown filters may still become known before the query runs.
            Err(d) => d
                .into_iter()
                .filter(|d| d.summary != "Filter not known")
                .collect(),
        }
    }

    /// Every access the list configuration finds, with its identity and a display name.
    pub async fn list(&self, config: &Value) -> Result<Vec<Listed>, Vec<Diagnostic>> {
        let f = parse_list(config)?;
        let engine = self.engine().ok_or_else(|| vec![not_configured()])?;
        let found = engine.list(&f).await.map_err(|d| vec![d])?;
        let mut states = Vec::with_capacity(found.len());
        for s in found {
            states.push(crate::domain::service::with_reach(&engine, &s, None, None).await);
        }
        states
            .into_iter()
            .map(|state| {
                Ok(Listed {
                    identity: self.identity(&state, None).map_err(|d| vec![d])?,
                    display_name: display_name(&state),
                    state,
                })
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "listing_tests.rs"]
mod tests;
