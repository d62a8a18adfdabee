//! The resource's inputs, parsed once into typed values ([`Desired`]).
//!
//! [`parse`] takes a configuration (or the inputs of a state) as a [`Value`], where any part may be
//! unknown, and returns either the typed inputs with their warnings or every problem found, each with
//! its attribute path and what to do. Rules that cannot be decided while a value is unknown are left
//! to the plan or the apply. Each input's own format is parsed by `parse.rs`, as the declaration
//! in `input.rs` names; the rules between inputs are here.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::domain::cloud::Source;
use crate::domain::declaration::input;
use crate::domain::declaration::model;
use crate::domain::declaration::parse::Parser;
use crate::domain::declaration::schema;
use crate::domain::declaration::typecheck;
use crate::domain::declaration::value::Value;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::types::{known, unknown, Input, Known, Timeout};

pub use crate::domain::declaration::parse::{
    Timeouts, BOOKKEEPING_TAGS_MAX, GENERATED_SUFFIX_LEN, MAX_NAME_LEN, MAX_USER_TAGS,
    RESERVED_TAG_PREFIX,
};

/// The shortest declared timeout: one AWS round trip with its retry does not fit in less, and
/// Pulumi's `customTimeouts` count whole seconds too.
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);
/// The longest declared timeout. An access's operations are a few AWS calls and, at most, the wait
/// for one cluster modification (minutes); the longest default timeouts of terraform-provider-aws
/// (a Bedrock model-training job) are 24h. A longer value is a mistake (a unit slip), not a deadline.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

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

pub use crate::domain::declaration::input::{cluster_value, Desired};

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
    /// The security groups and prefix lists the access's rules name, as far as they are known.
    pub fn named_sources(&self) -> Vec<Source> {
        let mut out: Vec<Source> = set_of(&self.client_security_group_ids)
            .unwrap_or_default()
            .iter()
            .map(|g| Source::group(g.id(), g.account()))
            .collect();
        let lists = set_of(&self.allowed_prefix_list_ids).unwrap_or_default();
        out.extend(lists.iter().map(|p| Source::PrefixList(p.as_str().into())));
        out
    }

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

pub(crate) use crate::domain::declaration::parse::parse_tags_at;

/// Parses and checks a resource configuration (inputs; computed attributes must be absent or null).
pub fn parse(config: &Value) -> Result<Checked<Desired>, Vec<Diagnostic>> {
    parse_with(config, true)
}

/// Parses the inputs recorded in a state: formats are checked, rules between attributes are not (a
/// state keeps what AWS holds, even where a configuration would be refused).
pub fn parse_recorded(inputs: &Value) -> Result<Desired, Vec<Diagnostic>> {
    parse_with(inputs, false).map(|c| c.value)
}

fn parse_with(config: &Value, rules: bool) -> Result<Checked<Desired>, Vec<Diagnostic>> {
    let mut p = Parser::default();
    let inputs = schema::resource_inputs();
    typecheck::check_object(config, inputs, &AttrPath::root(), &mut p.out);
    if !p.out.is_empty() {
        return Err(p.out);
    }
    let d = input::parse_inputs(&mut p, config);
    let warnings = if rules {
        cross_rules(&mut p, &d, config)
    } else {
        Vec::new()
    };
    if p.out.is_empty() {
        Ok(Checked { value: d, warnings })
    } else {
        p.out.extend(warnings);
        Err(p.out)
    }
}

/// Rules between attributes. Returns the warnings; errors go to the parser.
fn cross_rules(p: &mut Parser, d: &Desired, config: &Value) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    if d.vpc_id.is_none() && d.cluster.is_none() && config.get("cluster").is_null() {
        p.error(AttrPath::attr("vpc_id"), "Missing vpc_id", "Set vpc_id to the VPC of the cluster, or set cluster so the provider can read the VPC from it.");
    }
    if !config.get("name").is_null() && !config.get("name_prefix").is_null() {
        p.error(
            AttrPath::attr("name_prefix"),
            "Conflicting name and name_prefix",
            "Set name or name_prefix, not both.",
        );
    }
    cidr_rules(p, d, config, &mut warnings);
    if d.create_client() == Known::Known(false)
        && known(&d.client_ssh_cidr_blocks).is_some_and(|s| !s.is_empty())
    {
        p.error(AttrPath::attr("client_ssh_cidr_blocks"), "SSH rules need the client group", "client_ssh_cidr_blocks adds SSH rules to the created client group; set create_client_security_group = true or remove client_ssh_cidr_blocks.");
    }
    if d.attach() == Known::Known(true) && config.get("cluster").is_null() {
        p.error(
            AttrPath::attr("attach_to_cluster"),
            "attach_to_cluster needs cluster",
            "Set cluster to the cluster to attach the group to, or set attach_to_cluster = false.",
        );
    }
    timeout_rules(p, d);
    warnings
}

/// Declared timeouts from [`MIN_TIMEOUT`] to [`MAX_TIMEOUT`]. A rule of the configuration, not of
/// the format: a state that recorded `0s` before this rule still reads (and means the default).
fn timeout_rules(p: &mut Parser, d: &Desired) {
    let Some(t) = known(&d.timeouts) else { return };
    for op in [Op::Create, Op::Update, Op::Delete] {
        let Some(x) = t.get(op) else { continue };
        let why = match x.duration() {
            z if z.is_zero() => "zero: the operation would stop before its first AWS call",
            s if s < MIN_TIMEOUT => "shorter than a second: no AWS call with its retry fits in it",
            l if l > MAX_TIMEOUT => "longer than 24h: that bounds nothing here (a unit slip?)",
            _ => continue,
        };
        let name = op.name();
        p.error(
            AttrPath::attr("timeouts").then_attr(name),
            "Timeout out of range",
            format!("timeouts.{name} = {:?} is {why}. Write a duration from 1s to 24h, such as {:?} (the default), or remove {name} to get the default.", x.text(), op.default_timeout()),
        );
    }
}

fn cidr_rules(p: &mut Parser, d: &Desired, config: &Value, warnings: &mut Vec<Diagnostic>) {
    let public_ok = d.allow_public();
    for (attr, set) in [
        ("allowed_cidr_blocks", &d.allowed_cidr_blocks),
        ("client_ssh_cidr_blocks", &d.client_ssh_cidr_blocks),
    ] {
        let Some(cidrs) = known(set) else { continue };
        let written = config.get(attr).as_list().unwrap_or_default();
        for (i, c) in cidrs.iter().enumerate() {
            // the element's index as written (invalid elements are not in the parsed set)
            let at = written
                .iter()
                .position(|v| v.as_str() == Some(c.text()))
                .unwrap_or(i);
            let path = AttrPath::attr(attr).then_index(at);
            if !c.is_canonical() {
                let net = c.net();
                warnings.push(Diagnostic::warning(path.clone(), "CIDR block is not in canonical form", format!("{:?} is the network {net}; AWS stores it as {net}. Write {:?} so that an imported access plans no change.", c.text(), net.to_string())).with_value_free_detail("The block has host bits set; AWS stores its network address (the address with those bits zero). Write the network address so that an imported access plans no change."));
            }
            if !c.is_private() && public_ok == Known::Known(false) {
                let advice = "(10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7). If it is meant to reach the cache, set allow_public_cidrs = true; otherwise use a private range.";
                p.error_quoting(
                    path,
                    "Public CIDR block",
                    format!("{} is outside the private ranges {advice}", c.net()),
                    format!("The block is outside the private ranges {advice}"),
                );
            }
        }
    }
}

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
