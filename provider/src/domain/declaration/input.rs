//! Each input of the resource, declared once.
//!
//! One `declare_inputs!` entry per input gives its description (the doc comment every schema and
//! the docs page show), its type on the wire, its parsed type, the function that parses it and the
//! function that writes it back. From that list the macro makes [`AccessArgs`] (the serde and
//! schemars declaration the schemas and docs derive from), [`Desired`] (the parsed inputs), the
//! parse of every input in declaration order, and [`Desired::to_value`]. A new input is one entry
//! here plus its row in the behaviour table (`behaviour.rs`), which a unit test keeps in step.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::declaration::parse::{field, Parser, SetItem, Timeouts};
use crate::domain::declaration::value::Value;
use crate::domain::types::{
    Cidr, ClusterRef, GroupRef, Input, Known, Port, PrefixListId, VpcId, CLUSTER_ATTRS,
};

/// Makes the declaration, the parsed inputs, their parse and their value from one list of inputs:
/// `/// doc`, optionally `@schemars(...)`, then `name: WireType => ParsedType, parse f, value g;`
/// where `f: fn(&mut Parser, &Value, &str) -> Input<ParsedType>` and `g: fn(&ParsedType) -> Value`.
macro_rules! declare_inputs {
    (
        $(#[doc = $sdoc:literal])*
        @schemars($($stitle:tt)*)
        $(
            $(#[doc = $doc:literal])*
            $(@schemars($($sch:tt)*))?
            $name:ident: $wire:ty => $ty:ty, parse $parse:expr, value $value:expr;
        )*
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        #[schemars($($stitle)*)]
        pub struct AccessArgs {
            $(
                $(#[doc = $doc])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                $(#[schemars($($sch)*)])?
                pub $name: Option<$wire>,
            )*
        }

        /// The inputs of an access, typed. Sets are sorted by their text and hold each entry once.
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct Desired {
            $(
                $(#[doc = $doc])*
                pub $name: Input<$ty>,
            )*
            /// The timeout of this one operation when the engine gives one (Pulumi's
            /// `customTimeouts`): it bounds the operation but is not an input, so it is never
            /// recorded.
            pub op_timeout: Option<Duration>,
        }

        /// Parses every input of `config` (already type-checked), in declaration order.
        pub(crate) fn parse_inputs(p: &mut Parser, config: &Value) -> Desired {
            Desired {
                $($name: {
                    let f: fn(&mut Parser, &Value, &str) -> Input<$ty> = $parse;
                    f(p, config, stringify!($name))
                },)*
                op_timeout: None,
            }
        }

        impl Desired {
            /// The inputs as a value of the schema's shape (unknown parts as [`Value::Unknown`]).
            pub fn to_value(&self) -> Value {
                let mut v = Value::Map(BTreeMap::new());
                $({
                    let f: fn(&$ty) -> Value = $value;
                    v.set(stringify!($name), input_value(&self.$name, f));
                })*
                v
            }
        }
    };
}

declare_inputs! {
    /// Authorizes network access to an ElastiCache cluster, as in AWS's "Authorize access to the cluster"
    /// guide: a security group for the cluster, a security group for its clients, and an ingress rule on
    /// the cluster group that names the client group as its source on the cluster's port. Existing client
    /// groups (also in peered accounts), CIDR blocks and prefix lists can be allowed too. New rules are
    /// authorized before old ones are revoked, so a change never opens an access gap (unless
    /// `revoke_before_authorize` allows it when the rule quota has no room for both).
    @schemars(title = "elasticache_access")

    /// VPC of the security groups. Optional when `cluster` is given (the cluster's VPC is used, read
    /// from its cache subnet group); a value that disagrees with the cluster's VPC is an error.
    /// Changing it replaces the access.
    vpc_id: String => VpcId, parse field::vpc_id, value |x| Value::string(x.as_str());

    /// The ElastiCache cluster the access is for. Exactly one of its attributes must be set. The
    /// provider reads the cluster to learn its VPC and its port.
    cluster: wire::ClusterRef => ClusterRef, parse field::cluster, value cluster_value;

    /// TCP port the cluster listens on (1-65535). Defaults to the cluster's port when `cluster` is
    /// given, else 6379. Changing it updates the rules in place: rules on the new port are authorized
    /// before those on the old port are revoked. A serverless Valkey or Redis OSS cache also serves
    /// reads on its reader endpoint's port (6380); this access opens only `port`, so give the reader
    /// port its own access (`port = 6380`, `attach_to_cluster = true`).
    @schemars(range(min = 1, max = 65535))
    port: u16 => Port, parse field::port, value |p| Value::from(p.get());

    /// Base name of the security groups: they are named `<name>-cluster` and `<name>-clients`. At most
    /// 247 characters, not starting with `sg-`, of letters, digits, spaces and `._-:/()#,@[]+=&;{}!$*`.
    /// Conflicts with `name_prefix`; when neither is set a unique name is generated. Changing it
    /// replaces the access. A replacement that keeps a fixed name in the same VPC must delete the old
    /// access first (a VPC holds one `<name>-cluster`). Pulumi's diff asks for that
    /// (`deleteBeforeReplace`); `pulumi up --replace` asks no diff, so set the `deleteBeforeReplace`
    /// resource option there. With Terraform's `create_before_destroy`, use `name_prefix` instead.
    name: String => String, parse field::name, value text;

    /// Prefix of a generated unique `name` (the prefix plus 26 characters). Conflicts with `name`.
    /// Changing it replaces the access.
    name_prefix: String => String, parse field::name_prefix, value text;

    /// What the access is for. It is used as the description of every rule and stored in the
    /// `elasticache-access:description` tag; changing it updates the rules in place and never replaces
    /// a security group. At most 255 characters of letters, digits, spaces and `._-:/()#,@[]+=&;{}!$*`.
    description: String => String, parse field::description, value text;

    /// Whether to create the client security group (`<name>-clients`) and allow it on the cluster
    /// group. Defaults to true. Changing it creates or deletes the client group in place.
    create_client_security_group: bool => bool, parse field::flag, value flag;

    /// Existing security groups whose members may connect to the cluster. A group in a peered VPC of
    /// another account is written `<12-digit account id>/<sg-id>`.
    client_security_group_ids: BTreeSet<String> => Vec<GroupRef>, parse field::set::<GroupRef>, value items;

    /// IPv4 and IPv6 CIDR blocks that may connect to the cluster. Each is normalized to its network
    /// address (`10.1.2.3/16` becomes `10.1.0.0/16`). Addresses outside the private ranges (10.0.0.0/8,
    /// 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7) need `allow_public_cidrs = true`.
    allowed_cidr_blocks: BTreeSet<String> => Vec<Cidr>, parse field::set::<Cidr>, value items;

    /// Managed prefix lists (`pl-...`) whose CIDRs may connect to the cluster.
    allowed_prefix_list_ids: BTreeSet<String> => Vec<PrefixListId>, parse field::set::<PrefixListId>, value items;

    /// Allow CIDR blocks outside the private ranges, including `0.0.0.0/0` and `::/0`. Defaults to
    /// false, so that a cache is never opened to the internet by mistake.
    allow_public_cidrs: bool => bool, parse field::flag, value flag;

    /// CIDR blocks allowed to reach the client group's members over SSH (TCP 22), as in step 2 of AWS's
    /// guide. Requires `create_client_security_group` to be true. Public ranges need
    /// `allow_public_cidrs = true`.
    client_ssh_cidr_blocks: BTreeSet<String> => Vec<Cidr>, parse field::set::<Cidr>, value items;

    /// Add the cluster security group to the cluster's security groups (keeping those already there)
    /// and remove it again on delete. Requires `cluster`. Defaults to false. Removing it fails, rather
    /// than opening anything wider, if the cluster would be left with no security group. Leave it
    /// false when another tool manages the cluster's security groups (for example the
    /// `security_group_ids` of an `aws_elasticache_replication_group`): the two would undo each
    /// other's change on every apply; add `cluster_security_group_id` to that list instead.
    attach_to_cluster: bool => bool, parse field::flag, value flag;

    /// Revoke, on every apply, ingress rules on the cluster group that this access does not declare.
    /// Defaults to false: such rules are then only reported in `unmanaged_ingress`.
    exclusive_ingress: bool => bool, parse field::flag, value flag;

    /// Let an update revoke the rules it removes before it authorizes the rules it adds. Defaults
    /// to false: new rules are authorized first, so access never lapses, which needs room for both
    /// old and new rules under the account's quota of inbound rules per security group (Service
    /// Quotas `L-0EA8095F`); a plan whose update has no such room fails and says so. Set it to true
    /// to accept a short gap (seconds) in the access of the sources that change instead; the plan
    /// then warns of the gap.
    revoke_before_authorize: bool => bool, parse field::flag, value flag;

    /// Tags for both security groups and every rule, merged over the provider's `default_tags`.
    tags: BTreeMap<String, String> => BTreeMap<String, String>, parse field::tags, value tag_map;

    /// How long create, update and delete may take (Go duration strings such as `30s`, `10m`, `1h`),
    /// each from `1s` to `24h`. In Pulumi, the `customTimeouts` resource option, when set, takes
    /// precedence for that operation.
    timeouts: wire::Timeouts => Timeouts, parse field::timeouts, value timeouts_value;
}

/// The wire shapes of the nested inputs (their schemas keep these type names).
pub mod wire {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    /// Which ElastiCache cluster: exactly one of the three identifiers.
    #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ClusterRef {
        /// A replication group (Redis OSS or Valkey, cluster mode enabled or disabled).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub replication_group_id: Option<String>,
        /// A single cache cluster (Memcached, or a Redis OSS cluster without replication group).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cache_cluster_id: Option<String>,
        /// A serverless cache.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub serverless_cache_name: Option<String>,
    }

    /// Operation timeouts.
    #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Timeouts {
        /// How long a create may take, including retries of AWS's eventual consistency. Default `10m`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub create: Option<String>,
        /// How long an in-place update may take (new rules, descriptions, attachment), including
        /// retries. Default `10m`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub update: Option<String>,
        /// How long a delete may wait for the groups to be released (DependencyViolation). Default `15m`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub delete: Option<String>,
    }
}

fn input_value<T>(i: &Input<T>, f: impl Fn(&T) -> Value) -> Value {
    match i {
        None => Value::Null,
        Some(Known::Unknown) => Value::Unknown,
        Some(Known::Known(x)) => f(x),
    }
}

#[allow(clippy::ptr_arg)] // the shape of every input's writer: `fn(&ParsedType) -> Value`
fn text(s: &String) -> Value {
    Value::string(s.as_str())
}

fn flag(b: &bool) -> Value {
    Value::Bool(*b)
}

/// A set input as the list of its entries as written.
#[allow(clippy::ptr_arg)] // the shape of every input's writer: `fn(&ParsedType) -> Value`
fn items<T: SetItem>(v: &Vec<T>) -> Value {
    Value::string_list(v.iter().map(SetItem::spelling))
}

fn tag_map(t: &BTreeMap<String, String>) -> Value {
    Value::Map(
        t.iter()
            .map(|(k, x)| (k.clone(), Value::string(x.as_str())))
            .collect(),
    )
}

/// The `cluster` block of a cluster reference.
pub fn cluster_value(c: &ClusterRef) -> Value {
    let mut v = Value::Map(BTreeMap::new());
    for a in CLUSTER_ATTRS {
        v.set(
            a,
            if a == c.attr() {
                Value::string(c.id())
            } else {
                Value::Null
            },
        );
    }
    v
}

fn timeouts_value(t: &Timeouts) -> Value {
    let mut v = Value::Map(BTreeMap::new());
    for (k, x) in [
        ("create", &t.create),
        ("update", &t.update),
        ("delete", &t.delete),
    ] {
        v.set(
            k,
            x.as_ref()
                .map(|t| Value::string(t.text()))
                .unwrap_or(Value::Null),
        );
    }
    v
}
