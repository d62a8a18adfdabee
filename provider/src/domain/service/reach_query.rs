//! The same `reachability` for any cluster: the Terraform data source `elasticache_reachability`
//! and the Pulumi invoke `elasticache:index:getReachability`. By replication group, cache cluster
//! or serverless cache, it reports every rule covering the cluster's port on every security group
//! the cluster uses, whoever made it (`managed` is false throughout: no access owns them).

use std::sync::OnceLock;

use crate::domain::declaration::model::{Mode, Nesting};
use crate::domain::declaration::reach::Reachability;
use crate::domain::declaration::schema::{self, Attribute, ResourceSchema, Type};
use crate::domain::declaration::value::Value;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::engine::cloud_diag;
use crate::domain::service::{not_configured, Service};
use crate::domain::types::ClusterRef;

/// The data source's type name in Terraform.
pub const TF_DATA_SOURCE_TYPE: &str = "elasticache_reachability";
/// The invoke's token in Pulumi.
pub const PULUMI_INVOKE_TOKEN: &str = "elasticache:index:getReachability";

/// The cluster identifiers, in the order of `cluster` of the resource.
const IDS: [(&str, &str); 3] = [
    (
        "replication_group_id",
        "A replication group (Redis OSS or Valkey).",
    ),
    (
        "cache_cluster_id",
        "A single cache cluster (Memcached, or Redis OSS without replication group).",
    ),
    ("serverless_cache_name", "A serverless cache."),
];

fn attribute(name: &str, ty: Type, mode: Mode, description: &str) -> Attribute {
    Attribute {
        name: name.into(),
        ty,
        description: description.into(),
        mode,
        replaces: false,
        default: None,
        nesting: Nesting::Attribute,
        range: None,
        sensitive: false,
    }
}

/// The data source's (and the invoke's) schema: one of three identifiers in, `reachability` out.
pub fn query_schema() -> &'static ResourceSchema {
    static S: OnceLock<ResourceSchema> = OnceLock::new();
    S.get_or_init(|| {
        let mut attributes: Vec<Attribute> = IDS
            .iter()
            .map(|(n, d)| attribute(n, Type::String, Mode::Optional, &format!("{d} Exactly one of `replication_group_id`, `cache_cluster_id` or `serverless_cache_name`.")))
            .collect();
        let reach = schema::resource()
            .attribute("reachability")
            .cloned()
            .map(|mut a| {
                a.description = "Who can reach the cluster: every ingress rule covering its port on every security group it uses, whoever made it, its posture and the findings; the same object as an access's `reachability` (`managed` is false for every source).".into();
                a
            });
        attributes.extend(reach);
        ResourceSchema {
            description: "Who can reach an ElastiCache cluster, from where, and what is unsafe about it, for any cluster of the account and Region, whether or not this provider manages its access: an audit. The answer is the `reachability` object of `elasticache_access`.".into(),
            version: 0,
            attributes,
        }
    })
}

/// The one cluster the configuration names.
pub fn parse(config: &Value) -> Result<Option<ClusterRef>, Vec<Diagnostic>> {
    let mut set = Vec::new();
    for (name, _) in IDS {
        match config.get(name) {
            Value::Null => {}
            Value::Unknown => return Ok(None),
            Value::String(s) => set.push((name, s.clone())),
            _ => {
                return Err(vec![Diagnostic::error(
                    AttrPath::attr(name),
                    "Invalid value",
                    format!("{name} must be a string."),
                )])
            }
        }
    }
    match set.as_slice() {
        [(name, id)] => ClusterRef::parse(name, id)
            .map(Some)
            .map_err(|e| vec![Diagnostic::error(AttrPath::attr(name), "Invalid cluster identifier", e)]),
        _ => Err(vec![Diagnostic::general(
            "Name exactly one cluster",
            format!("Set exactly one of replication_group_id, cache_cluster_id or serverless_cache_name ({} set).", set.len()),
        )]),
    }
}

fn result(config: &Value, r: &Reachability) -> Value {
    let mut out = Value::Map(Default::default());
    for (name, _) in IDS {
        out.set(name, config.get(name).clone());
    }
    out.set(
        "reachability",
        Value::from_json(&serde_json::to_value(r).unwrap_or_default()),
    );
    out
}

impl Service {
    /// Checks the data source's (or invoke's) arguments.
    pub fn validate_query(&self, config: &Value) -> Vec<Diagnostic> {
        parse(config).err().unwrap_or_default()
    }

    /// Reads the reachability of the cluster `config` names: the arguments and `reachability`.
    pub async fn query_reachability(&self, config: &Value) -> Result<Value, Vec<Diagnostic>> {
        let Some(c) = parse(config)? else {
            let mut out = config.clone();
            out.set("reachability", Value::Unknown);
            return Ok(out);
        };
        let engine = self.engine().ok_or_else(|| vec![not_configured()])?;
        let r = engine
            .cluster_reach(&c)
            .await
            .map_err(|e| vec![cloud_diag(&format!("read the reachability of {c}"), &e)])?;
        tracing::info!(cluster = %c, sources = r.sources.len(), findings = r.findings.len(), "read a cluster's reachability");
        Ok(result(config, &r))
    }
}
