//! The resource's inputs, parsed once into typed values ([`Desired`]).
//!
//! [`parse`] takes a configuration (or the inputs of a state) as a [`Value`], where any part may be
//! unknown, and returns either the typed inputs with their warnings or every problem found, each with
//! its attribute path and what to do. Rules that cannot be decided while a value is unknown are left
//! to the plan or the apply.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::domain::cloud::Source;
use crate::domain::diag::Diagnostic;
use crate::domain::model;
use crate::domain::types::{
    known, unknown, Cidr, ClusterRef, GroupRef, Input, Known, Port, PrefixListId, Timeout, VpcId,
    CLUSTER_ATTRS,
};
use crate::domain::value::Value;

/// AWS's limit on a security group name; the longest suffix we add is `-clients`.
pub const MAX_NAME_LEN: usize = 255 - "-clients".len();
/// Length of the unique suffix added to `name_prefix`.
pub const GENERATED_SUFFIX_LEN: usize = 26;
/// Tag keys under this prefix are the provider's own bookkeeping.
pub const RESERVED_TAG_PREFIX: &str = "elasticache-access:";
/// AWS allows 50 tags per resource; the provider keeps at most this many of its own on a group.
pub const BOOKKEEPING_TAGS_MAX: usize = 10;
/// Tags a user may set (with `tags` and `default_tags` together).
pub const MAX_USER_TAGS: usize = 50 - BOOKKEEPING_TAGS_MAX;
/// The shortest declared timeout: one AWS round trip with its retry does not fit in less, and
/// Pulumi's `customTimeouts` count whole seconds too.
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);
/// The longest declared timeout. An access's operations are a few AWS calls and, at most, the wait
/// for one cluster modification (minutes); the longest default timeouts of terraform-provider-aws
/// (a Bedrock model-training job) are 24h. A longer value is a mistake (a unit slip), not a deadline.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// The `timeouts` block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub create: Option<Timeout>,
    pub update: Option<Timeout>,
    pub delete: Option<Timeout>,
}

impl Timeouts {
    /// The declared timeout of `op`.
    pub fn get(&self, op: Op) -> Option<&Timeout> {
        match op {
            Op::Create => self.create.as_ref(),
            Op::Update => self.update.as_ref(),
            Op::Delete => self.delete.as_ref(),
        }
    }
}

/// The operation whose timeout applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }

    pub fn default_timeout(self) -> &'static str {
        match self {
            Op::Create => model::DEFAULT_CREATE_TIMEOUT,
            Op::Update => model::DEFAULT_UPDATE_TIMEOUT,
            Op::Delete => model::DEFAULT_DELETE_TIMEOUT,
        }
    }
}

/// The inputs of an access, typed. Sets are sorted by their text and hold each entry once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Desired {
    pub vpc_id: Input<VpcId>,
    pub cluster: Input<ClusterRef>,
    pub port: Input<Port>,
    pub name: Input<String>,
    pub name_prefix: Input<String>,
    pub description: Input<String>,
    pub create_client_security_group: Input<bool>,
    pub client_security_group_ids: Input<Vec<GroupRef>>,
    pub allowed_cidr_blocks: Input<Vec<Cidr>>,
    pub allowed_prefix_list_ids: Input<Vec<PrefixListId>>,
    pub allow_public_cidrs: Input<bool>,
    pub client_ssh_cidr_blocks: Input<Vec<Cidr>>,
    pub attach_to_cluster: Input<bool>,
    pub exclusive_ingress: Input<bool>,
    pub revoke_before_authorize: Input<bool>,
    pub tags: Input<BTreeMap<String, String>>,
    pub timeouts: Input<Timeouts>,
    /// The timeout of this one operation when the engine gives one (Pulumi's `customTimeouts`): it
    /// bounds the operation but is not an input, so it is never recorded.
    pub op_timeout: Option<Duration>,
}

/// A parse that succeeded, with the warnings it found.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked<T> {
    pub value: T,
    pub warnings: Vec<Diagnostic>,
}

fn flag(i: &Input<bool>, default: bool) -> Known<bool> {
    match i {
        None => Known::Known(default),
        Some(k) => k.clone(),
    }
}

impl Desired {
    /// Whether the client group is created (default true).
    pub fn create_client(&self) -> Known<bool> {
        flag(&self.create_client_security_group, true)
    }

    pub fn attach(&self) -> Known<bool> {
        flag(&self.attach_to_cluster, false)
    }

    pub fn exclusive(&self) -> Known<bool> {
        flag(&self.exclusive_ingress, false)
    }

    /// Whether an update may revoke old rules before it authorizes new ones (default false).
    pub fn revoke_first(&self) -> Known<bool> {
        flag(&self.revoke_before_authorize, false)
    }

    pub fn allow_public(&self) -> Known<bool> {
        flag(&self.allow_public_cidrs, false)
    }

    /// The timeout of `op`: the declared one, else the default.
    pub fn timeout(&self, op: Op) -> Duration {
        if let Some(t) = self.op_timeout {
            return t;
        }
        // A zero timeout (accepted before validation refused it) may still be in a state: it means
        // the default, not "stop at once".
        let declared = known(&self.timeouts)
            .and_then(|t| t.get(op))
            .filter(|t| !t.duration().is_zero());
        declared.map(Timeout::duration).unwrap_or_else(|| {
            crate::domain::types::parse_duration(op.default_timeout())
                .unwrap_or(Duration::from_secs(600))
        })
    }

    /// The sources of the cluster group's rules, keyed as in `ingress_rule_ids`. `client` is the
    /// created client group (None when not created or not known yet), `own` the groups' account
    /// (empty when not known). Unknown while any source is.
    pub fn cluster_sources(
        &self,
        client: Option<&str>,
        own: &str,
    ) -> Known<BTreeMap<String, Source>> {
        let mut out = BTreeMap::new();
        match (self.create_client(), client) {
            (Known::Known(false), _) => {}
            (Known::Known(true), Some(c)) => {
                out.insert(c.to_string(), Source::group(c, None));
            }
            _ => return Known::Unknown,
        }
        let (Some(groups), Some(cidrs), Some(pls)) = (
            set_of(&self.client_security_group_ids),
            set_of(&self.allowed_cidr_blocks),
            set_of(&self.allowed_prefix_list_ids),
        ) else {
            return Known::Unknown;
        };
        for g in groups {
            out.insert(g.key(own), Source::group(g.id(), g.account()));
        }
        for c in cidrs {
            out.insert(c.net().to_string(), Source::Cidr(c.net()));
        }
        for p in pls {
            out.insert(
                p.as_str().to_string(),
                Source::PrefixList(p.as_str().into()),
            );
        }
        Known::Known(out)
    }

    /// The sources of the client group's SSH rules, keyed as in `client_ssh_rule_ids`.
    pub fn ssh_sources(&self) -> Known<BTreeMap<String, Source>> {
        match set_of(&self.client_ssh_cidr_blocks) {
            None => Known::Unknown,
            Some(cidrs) => Known::Known(
                cidrs
                    .iter()
                    .map(|c| (c.net().to_string(), Source::Cidr(c.net())))
                    .collect(),
            ),
        }
    }

    /// The inputs as a value of the schema's shape (unknown parts as [`Value::Unknown`]).
    pub fn to_value(&self) -> Value {
        let mut v = Value::Map(BTreeMap::new());
        let s = |i: &Input<String>| input_value(i, |s| Value::string(s.as_str()));
        let b = |i: &Input<bool>| input_value(i, |b| Value::Bool(*b));
        v.set(
            "vpc_id",
            input_value(&self.vpc_id, |x| Value::string(x.as_str())),
        );
        v.set("cluster", input_value(&self.cluster, cluster_value));
        v.set("port", input_value(&self.port, |p| Value::from(p.get())));
        v.set("name", s(&self.name));
        v.set("name_prefix", s(&self.name_prefix));
        v.set("description", s(&self.description));
        v.set(
            "create_client_security_group",
            b(&self.create_client_security_group),
        );
        v.set(
            "client_security_group_ids",
            set_value(&self.client_security_group_ids, |g| g.text()),
        );
        v.set(
            "allowed_cidr_blocks",
            set_value(&self.allowed_cidr_blocks, |c| c.text()),
        );
        v.set(
            "allowed_prefix_list_ids",
            set_value(&self.allowed_prefix_list_ids, |p| p.as_str()),
        );
        v.set("allow_public_cidrs", b(&self.allow_public_cidrs));
        v.set(
            "client_ssh_cidr_blocks",
            set_value(&self.client_ssh_cidr_blocks, |c| c.text()),
        );
        v.set("attach_to_cluster", b(&self.attach_to_cluster));
        v.set("exclusive_ingress", b(&self.exclusive_ingress));
        v.set("revoke_before_authorize", b(&self.revoke_before_authorize));
        v.set(
            "tags",
            input_value(&self.tags, |t| {
                Value::Map(
                    t.iter()
                        .map(|(k, x)| (k.clone(), Value::string(x.as_str())))
                        .collect(),
                )
            }),
        );
        v.set("timeouts", input_value(&self.timeouts, timeouts_value));
        v
    }

    /// True when no input is unknown.
    pub fn is_wholly_known(&self) -> bool {
        self.to_value().is_wholly_known()
    }
}

pub(crate) fn set_of<T>(i: &Input<Vec<T>>) -> Option<&[T]> {
    match i {
        None => Some(&[]),
        Some(Known::Known(v)) => Some(v),
        Some(Known::Unknown) => None,
    }
}

fn input_value<T>(i: &Input<T>, f: impl Fn(&T) -> Value) -> Value {
    match i {
        None => Value::Null,
        Some(Known::Unknown) => Value::Unknown,
        Some(Known::Known(x)) => f(x),
    }
}

fn set_value<T>(i: &Input<Vec<T>>, text: impl Fn(&T) -> &str) -> Value {
    input_value(i, |items| Value::string_list(items.iter().map(&text)))
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

pub(crate) use crate::domain::parse::parse_tags_at;
pub use crate::domain::parse::{parse, parse_recorded};

/// The keys of a map input, for comparing rule sets.
pub fn keys<T>(m: &BTreeMap<String, T>) -> BTreeSet<String> {
    m.keys().cloned().collect()
}

/// True when an input is set but unknown (for the plan).
pub fn is_unknown<T>(i: &Input<T>) -> bool {
    unknown(i)
}

#[cfg(test)]
#[path = "desired_tests.rs"]
mod tests;
