//! The resource, declared once.
//!
//! [`AccessArgs`] are the inputs a user writes (declared one entry per input in `input.rs`, which
//! also makes the parsed inputs from the same entries); [`AccessOutputs`] the values the provider
//! computes.
//! Doc comments are the descriptions every schema and the docs page show; [`BEHAVIOUR`] says, per
//! attribute, whether it is required, optional, computed, replaces the access when it changes, and its
//! default. The Terraform schema, the Pulumi schema, JSON Schema and the docs are all derived from these
//! (see `schema.rs`); a unit test keeps the table and the structs in step.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Port the access opens when neither `port` nor a cluster says otherwise (Redis/Valkey).
pub const DEFAULT_PORT: u16 = 6379;
/// Memcached's default port.
pub const MEMCACHED_PORT: u16 = 11211;
/// Create timeout when `timeouts.create` is not set.
pub const DEFAULT_CREATE_TIMEOUT: &str = "10m";
/// Update timeout when `timeouts.update` is not set.
pub const DEFAULT_UPDATE_TIMEOUT: &str = "10m";
/// Delete timeout when `timeouts.delete` is not set.
pub const DEFAULT_DELETE_TIMEOUT: &str = "15m";

pub use crate::domain::declaration::input::wire::{ClusterRef, Timeouts};
pub use crate::domain::declaration::input::AccessArgs;

/// Values the provider computes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccessOutputs {
    /// The access's id: the cluster security group's id.
    pub id: String,
    /// Id of the cluster security group (`<name>-cluster`).
    pub cluster_security_group_id: String,
    /// Id of the client security group (`<name>-clients`); null when it is not created.
    pub client_security_group_id: Option<String>,
    /// The `sgr-` id of each ingress rule on the cluster group, keyed by its source: a security group
    /// id (`<account>/<sg-id>` for a peered account), a CIDR block or a prefix list id.
    pub ingress_rule_ids: BTreeMap<String, String>,
    /// The `sgr-` id of each SSH rule on the client group, keyed by CIDR block.
    pub client_ssh_rule_ids: BTreeMap<String, String>,
    /// AWS account that owns the security groups.
    pub owner_id: String,
    /// The cluster's endpoint as `address:port` when `cluster` is given.
    pub cluster_endpoint: Option<String>,
    /// Every tag on the groups and rules: the provider's `default_tags` merged with `tags`.
    pub tags_all: BTreeMap<String, String>,
    /// Ingress rules found on the cluster group that this access does not manage (added outside it):
    /// drift made visible. With `exclusive_ingress = true` they are revoked on the next apply.
    pub unmanaged_ingress: Vec<UnmanagedRule>,
    /// Who can reach the cluster, from where, and what is unsafe about it (schema version 1,
    /// described by `sdk-schemas/jsonschema/reachability.schema.json`). Known in the plan as far as
    /// the configuration and the cluster's posture (read at plan time) determine it; rule ids,
    /// network interface counts, prefix-list entries, rules added outside this access and network
    /// ACL findings are filled at apply and refresh.
    pub reachability: Option<crate::domain::declaration::reach::Reachability>,
}

/// An ingress rule on the cluster group that this access does not manage.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct UnmanagedRule {
    /// The rule's `sgr-` id.
    pub rule_id: String,
    /// IP protocol (`tcp`, `udp`, `icmp`, or `-1` for all).
    pub protocol: String,
    /// First port of the range (-1 for all).
    pub from_port: i64,
    /// Last port of the range (-1 for all).
    pub to_port: i64,
    /// The source: a security group id, a CIDR block or a prefix list id.
    pub source: String,
    /// The rule's description.
    pub description: String,
}

/// Provider configuration, in terraform-provider-aws's shape (blocks for `assume_role`, `endpoints`,
/// `default_tags` and `ignore_tags`). Every field falls back to the standard AWS chain and variables.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// AWS Region. Falls back to `AWS_REGION`, `AWS_DEFAULT_REGION` and the profile's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Named profile from the shared config and credentials files. Falls back to `AWS_PROFILE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Shared config files to read instead of `~/.aws/config` (`AWS_CONFIG_FILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_config_files: Option<Vec<String>>,
    /// Shared credentials files to read instead of `~/.aws/credentials`
    /// (`AWS_SHARED_CREDENTIALS_FILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_credentials_files: Option<Vec<String>>,
    /// A role to assume with the credentials found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role: Option<AssumeRole>,
    /// Custom service endpoints (for example a local emulator). Fall back to `AWS_ENDPOINT_URL_EC2`,
    /// `AWS_ENDPOINT_URL_ELASTICACHE`, `AWS_ENDPOINT_URL_STS` and `AWS_ENDPOINT_URL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Endpoints>,
    /// Maximum attempts for a throttled or failed AWS call. Default 5. Calls of one
    /// provider process also share a client-side rate limit that slows down under throttling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 25))]
    pub max_retries: Option<u32>,
    /// Tags added to every security group and rule this provider creates; a resource's `tags` win.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_tags: Option<DefaultTags>,
    /// Tags this provider neither reports nor removes (set by other tools or by AWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_tags: Option<IgnoreTags>,
}

/// A role to assume.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssumeRole {
    /// ARN of the role to assume, such as `arn:aws:iam::123456789012:role/deployer`.
    pub role_arn: String,
    /// Session name. Default `elasticache-access`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// External id the role's trust policy requires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// How long the role's session lasts, from `15m` to `12h` (a duration such as `1h`). Default `1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

/// Custom service endpoints.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    /// EC2 endpoint URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec2: Option<String>,
    /// ElastiCache endpoint URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elasticache: Option<String>,
    /// STS endpoint URL (used by `assume_role`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sts: Option<String>,
    /// Service Quotas endpoint URL (the plan reads the account's security group quotas there).
    /// Falls back to `AWS_ENDPOINT_URL_SERVICE_QUOTAS` and `AWS_ENDPOINT_URL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servicequotas: Option<String>,
}

/// Tags for every security group and rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultTags {
    /// The tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// Tags to leave alone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IgnoreTags {
    /// Tag keys to ignore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<BTreeSet<String>>,
    /// Tag key prefixes to ignore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefixes: Option<BTreeSet<String>>,
}

/// How each provider setting is presented: the four nested settings are blocks, as in
/// terraform-provider-aws.
pub const PROVIDER_BLOCKS: [&str; 4] = ["assume_role", "endpoints", "default_tags", "ignore_tags"];
/// Default of `max_retries`.
pub const DEFAULT_MAX_RETRIES: u32 = 5;

pub use crate::domain::declaration::behaviour::{
    behaviour, derived_from, Behaviour, Derivation, Mode, Nesting, BEHAVIOUR, DERIVED,
};

/// The provider's source address, as Terraform prints it.
pub const TF_PROVIDER_ADDRESS: &str = "registry.terraform.io/elasticache-access/elasticache";
/// The provider's source in `required_providers`.
pub const TF_PROVIDER_SOURCE: &str = "elasticache-access/elasticache";
/// The resource type name in Terraform.
pub const TF_RESOURCE_TYPE: &str = "elasticache_access";
/// The resource token in Pulumi.
pub const PULUMI_RESOURCE_TOKEN: &str = "elasticache:index:Access";
/// Version of the state layout; bump with an upgrade step in `planning/state.rs`.
pub const SCHEMA_VERSION: i64 = 1;

/// The camelCase form of a snake_case name, as Pulumi programs write it.
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The snake_case form of a camelCase name.
pub fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
