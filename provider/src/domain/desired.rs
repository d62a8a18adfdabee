//! The resource's inputs, parsed once into typed values ([`Desired`]).
//!
//! [`parse`] takes a configuration (or the inputs of a state) as a [`Value`], where any part may be
//! unknown, and returns either the typed inputs with their warnings or every problem found, each with
//! its attribute path and what to do. Rules that cannot be decided while a value is unknown are left
//! to the plan or the apply.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::domain::cloud::Source;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::model;
use crate::domain::schema;
use crate::domain::typecheck::{self, read};
use crate::domain::types::{
    aws_text_problems, known, unknown, Cidr, ClusterRef, GroupRef, Input, Known, Port,
    PrefixListId, Timeout, VpcId, CLUSTER_ATTRS,
};
use crate::domain::value::Value;

/// AWS's limit on a security group name; the longest suffix we add is `-clients`.
pub const MAX_NAME_LEN: usize = 255 - "-clients".len();
/// Length of the unique suffix added to `name_prefix`.
pub const GENERATED_SUFFIX_LEN: usize = 26;
/// AWS's default quota of inbound rules per security group (separately for IPv4 and IPv6).
pub const DEFAULT_RULES_QUOTA: usize = 60;
/// Tag keys under this prefix are the provider's own bookkeeping.
pub const RESERVED_TAG_PREFIX: &str = "elasticache-access:";
/// AWS allows 50 tags per resource; the provider keeps at most this many of its own on a group.
pub const BOOKKEEPING_TAGS_MAX: usize = 10;
/// Tags a user may set (with `tags` and `default_tags` together).
pub const MAX_USER_TAGS: usize = 50 - BOOKKEEPING_TAGS_MAX;

/// The `timeouts` block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub create: Option<Timeout>,
    pub update: Option<Timeout>,
    pub delete: Option<Timeout>,
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

    fn default_timeout(self) -> &'static str {
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

    pub fn allow_public(&self) -> Known<bool> {
        flag(&self.allow_public_cidrs, false)
    }

    /// The timeout of `op`: the declared one, else the default.
    pub fn timeout(&self, op: Op) -> Duration {
        if let Some(t) = self.op_timeout {
            return t;
        }
        let declared = known(&self.timeouts).and_then(|t| match op {
            Op::Create => t.create.as_ref(),
            Op::Update => t.update.as_ref(),
            Op::Delete => t.delete.as_ref(),
        });
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

fn set_of<T>(i: &Input<Vec<T>>) -> Option<&[T]> {
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

/// Collects diagnostics while parsing.
#[derive(Default)]
struct Parser {
    out: Vec<Diagnostic>,
}

/// An item of a set attribute: how it is parsed, what makes two entries the same, how it is written.
trait SetItem: Sized + Clone {
    /// The diagnostic's summary for an item that does not parse.
    const SUMMARY: &'static str;
    /// What two equal items are the same of ("security group", "network").
    const WHAT: &'static str;
    fn parse(s: &str) -> Result<Self, String>;
    /// Two entries with the same identity are one entry written twice.
    fn identity(&self) -> String;
    /// The entry as written (sets are sorted and deduplicated by it).
    fn spelling(&self) -> &str;
}

impl SetItem for GroupRef {
    const SUMMARY: &'static str = "Invalid security group id";
    const WHAT: &'static str = "security group";
    fn parse(s: &str) -> Result<Self, String> {
        GroupRef::parse(s)
    }
    fn identity(&self) -> String {
        self.id().to_string()
    }
    fn spelling(&self) -> &str {
        self.text()
    }
}

impl SetItem for Cidr {
    const SUMMARY: &'static str = "Invalid CIDR block";
    const WHAT: &'static str = "network";
    fn parse(s: &str) -> Result<Self, String> {
        Cidr::parse(s)
    }
    fn identity(&self) -> String {
        self.net().to_string()
    }
    fn spelling(&self) -> &str {
        self.text()
    }
}

impl SetItem for PrefixListId {
    const SUMMARY: &'static str = "Invalid prefix list id";
    const WHAT: &'static str = "prefix list";
    fn parse(s: &str) -> Result<Self, String> {
        PrefixListId::parse(s)
    }
    fn identity(&self) -> String {
        self.as_str().to_string()
    }
    fn spelling(&self) -> &str {
        self.as_str()
    }
}

impl Parser {
    fn error(&mut self, path: AttrPath, summary: &str, detail: impl Into<String>) {
        self.out.push(Diagnostic::error(path, summary, detail));
    }

    /// Parses a string attribute with `f`, reporting its error at the attribute.
    fn typed<T>(
        &mut self,
        config: &Value,
        attr: &str,
        summary: &str,
        f: impl Fn(&str) -> Result<T, String>,
    ) -> Input<T> {
        match read::string(config.get(attr))? {
            Known::Unknown => Some(Known::Unknown),
            Known::Known(s) => match f(&s) {
                Ok(x) => Some(Known::Known(x)),
                Err(e) => {
                    self.error(AttrPath::attr(attr), summary, e);
                    None
                }
            },
        }
    }

    /// Parses each item of a set attribute with `f`; unknown as a whole when any item is unknown.
    /// Entries that `key` maps to the same value are duplicates: the second is an error.
    fn set<T: SetItem>(&mut self, config: &Value, attr: &str) -> Input<Vec<T>> {
        let (summary, what) = (T::SUMMARY, T::WHAT);
        let items = match read::items(config.get(attr))? {
            Known::Unknown => return Some(Known::Unknown),
            Known::Known(items) => items,
        };
        let mut parsed: Vec<T> = Vec::new();
        let mut any_unknown = false;
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            let path = AttrPath::attr(attr).then_index(i);
            let Some(s) = item.as_str() else {
                any_unknown = true;
                continue;
            };
            match T::parse(s) {
                Err(e) => self.error(path, summary, e),
                Ok(x) => {
                    if let Some(first) = seen.insert(x.identity(), s.to_string()).filter(|f| f != s)
                    {
                        self.error(
                            path,
                            &format!("Duplicate entry in {attr}"),
                            format!(
                                "{s:?} and {first:?} are the same {what} {}; keep one of them.",
                                x.identity()
                            ),
                        );
                    }
                    parsed.push(x);
                }
            }
        }
        if any_unknown {
            return Some(Known::Unknown);
        }
        parsed.sort_by(|a, b| a.spelling().cmp(b.spelling()));
        parsed.dedup_by(|a, b| a.spelling() == b.spelling());
        Some(Known::Known(parsed))
    }
}

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
    let inputs: Vec<schema::Attribute> = schema::resource()
        .attributes
        .iter()
        .filter(|a| a.is_input())
        .cloned()
        .collect();
    typecheck::check_object(config, &inputs, &AttrPath::root(), &mut p.out);
    if !p.out.is_empty() {
        return Err(p.out);
    }
    let d = Desired {
        vpc_id: p.typed(config, "vpc_id", "Invalid VPC id", VpcId::parse),
        cluster: parse_cluster(&mut p, config.get("cluster")),
        port: parse_port(&mut p, config.get("port")),
        name: parse_name(&mut p, config, "name", MAX_NAME_LEN),
        name_prefix: parse_name(
            &mut p,
            config,
            "name_prefix",
            MAX_NAME_LEN - GENERATED_SUFFIX_LEN,
        ),
        description: p.typed(config, "description", "Invalid description", |s| {
            text_rule("description", s, 255)
        }),
        create_client_security_group: read::boolean(config.get("create_client_security_group")),
        client_security_group_ids: p.set::<GroupRef>(config, "client_security_group_ids"),
        allowed_cidr_blocks: p.set::<Cidr>(config, "allowed_cidr_blocks"),
        allowed_prefix_list_ids: p.set::<PrefixListId>(config, "allowed_prefix_list_ids"),
        allow_public_cidrs: read::boolean(config.get("allow_public_cidrs")),
        client_ssh_cidr_blocks: p.set::<Cidr>(config, "client_ssh_cidr_blocks"),
        attach_to_cluster: read::boolean(config.get("attach_to_cluster")),
        exclusive_ingress: read::boolean(config.get("exclusive_ingress")),
        tags: parse_tags(&mut p, config.get("tags"), "tags"),
        timeouts: parse_timeouts(&mut p, config.get("timeouts")),
        op_timeout: None,
    };
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

fn text_rule(what: &str, s: &str, max: usize) -> Result<String, String> {
    match aws_text_problems(what, s, max).into_iter().next() {
        None => Ok(s.to_string()),
        Some((summary, detail)) => Err(format!("{summary}: {detail}")),
    }
}

fn parse_name(p: &mut Parser, config: &Value, attr: &str, max: usize) -> Input<String> {
    p.typed(config, attr, &format!("Invalid {attr}"), |s| {
        if s.is_empty() {
            return Err(format!("{attr} is empty: set a non-empty value, or remove it to get a generated name."));
        }
        if s.to_ascii_lowercase().starts_with("sg-") {
            return Err(format!("{attr} starts with \"sg-\": AWS refuses security group names that start with sg-; choose another name."));
        }
        text_rule(attr, s, max)
    })
}

fn parse_port(p: &mut Parser, v: &Value) -> Input<Port> {
    match read::number(v)? {
        Known::Unknown => Some(Known::Unknown),
        Known::Known(n) => match Port::parse(n) {
            Ok(port) => Some(Known::Known(port)),
            Err(e) => {
                p.error(AttrPath::attr("port"), "Port out of range", e);
                None
            }
        },
    }
}

fn parse_cluster(p: &mut Parser, v: &Value) -> Input<ClusterRef> {
    let m = match v {
        Value::Null => return None,
        Value::Unknown => return Some(Known::Unknown),
        Value::Map(m) => m,
        _ => return None,
    };
    let set: Vec<&str> = CLUSTER_ATTRS
        .into_iter()
        .filter(|k| m.get(*k).is_some_and(|x| !x.is_null()))
        .collect();
    match set.as_slice() {
        [] => {
            p.error(AttrPath::attr("cluster"), "Set exactly one cluster identifier", "cluster needs exactly one of replication_group_id, cache_cluster_id or serverless_cache_name; none is set. Add the identifier of the cluster, or remove the cluster block and set vpc_id.");
            None
        }
        [one] => match m.get(*one) {
            Some(Value::String(id)) => match ClusterRef::parse(one, id) {
                Ok(c) => Some(Known::Known(c)),
                Err(e) => {
                    p.error(
                        AttrPath::attr("cluster").then_attr(one),
                        "Invalid cluster identifier",
                        e,
                    );
                    None
                }
            },
            _ => Some(Known::Unknown),
        },
        [_, second, ..] => {
            // Point at the second identifier: that is the line to remove.
            p.error(AttrPath::attr("cluster").then_attr(second), "Set exactly one cluster identifier", format!("cluster needs exactly one of replication_group_id, cache_cluster_id or serverless_cache_name; {} are set. Keep the one that names the cluster and remove the others.", set.join(" and ")));
            None
        }
    }
}

/// Parses a tag map (`tags`, or the provider's `default_tags.tags` at `path`).
pub(crate) fn parse_tags_at(
    out: &mut Vec<Diagnostic>,
    v: &Value,
    path: &AttrPath,
) -> Input<BTreeMap<String, String>> {
    let m = match v {
        Value::Null => return None,
        Value::Unknown => return Some(Known::Unknown),
        Value::Map(m) => m,
        _ => return None,
    };
    let mut tags = BTreeMap::new();
    let mut any_unknown = false;
    for (k, x) in m {
        let at = path.clone().then_key(k);
        if k.is_empty() || k.chars().count() > 128 {
            out.push(Diagnostic::error(
                at.clone(),
                "Invalid tag key",
                "Tag keys have 1 to 128 characters.",
            ));
        }
        if k.to_ascii_lowercase().starts_with("aws:") || k.starts_with(RESERVED_TAG_PREFIX) {
            out.push(Diagnostic::error(at.clone(), "Reserved tag key", format!("Keys starting with aws: or {RESERVED_TAG_PREFIX} are reserved; rename the tag.")));
        }
        match x {
            Value::String(s) if s.chars().count() > 256 => out.push(Diagnostic::error(
                at,
                "Tag value too long",
                "Tag values have at most 256 characters.",
            )),
            Value::String(s) => {
                tags.insert(k.clone(), s.clone());
            }
            _ => any_unknown = true,
        }
    }
    if tags.len() > MAX_USER_TAGS {
        out.push(Diagnostic::error(path.clone(), "Too many tags", format!("{} tags are set; AWS allows 50 per security group and rule, and this provider keeps up to {BOOKKEEPING_TAGS_MAX} of its own, so at most {MAX_USER_TAGS} (with the provider's default_tags). Remove some.", tags.len())));
    }
    Some(if any_unknown {
        Known::Unknown
    } else {
        Known::Known(tags)
    })
}

fn parse_tags(p: &mut Parser, v: &Value, attr: &str) -> Input<BTreeMap<String, String>> {
    parse_tags_at(&mut p.out, v, &AttrPath::attr(attr))
}

fn parse_timeouts(p: &mut Parser, v: &Value) -> Input<Timeouts> {
    let m = match v {
        Value::Null => return None,
        Value::Unknown => return Some(Known::Unknown),
        Value::Map(m) => m,
        _ => return None,
    };
    let mut t = Timeouts::default();
    for (k, x) in m {
        let slot = match k.as_str() {
            "create" => &mut t.create,
            "update" => &mut t.update,
            "delete" => &mut t.delete,
            _ => continue,
        };
        match x {
            Value::Null => {}
            Value::String(s) => match Timeout::parse(s) {
                Ok(d) => *slot = Some(d),
                Err(e) => p.error(
                    AttrPath::attr("timeouts").then_attr(k),
                    "Invalid timeout",
                    e,
                ),
            },
            _ => return Some(Known::Unknown),
        }
    }
    Some(Known::Known(t))
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
    quota_warning(d, &mut warnings);
    warnings
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
                warnings.push(Diagnostic::warning(path.clone(), "CIDR block is not in canonical form", format!("{:?} is the network {net}; AWS stores it as {net}. Write {:?} so that an imported access plans no change.", c.text(), net.to_string())));
            }
            if !c.is_private() && public_ok == Known::Known(false) {
                p.error(path, "Public CIDR block", format!("{} is outside the private ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7). If it is meant to reach the cache, set allow_public_cidrs = true; otherwise use a private range.", c.net()));
            }
        }
    }
}

fn quota_warning(d: &Desired, warnings: &mut Vec<Diagnostic>) {
    let both = known(&d.client_security_group_ids).map_or(0, Vec::len)
        + known(&d.allowed_prefix_list_ids).map_or(0, Vec::len)
        + usize::from(d.create_client() != Known::Known(false));
    let cidrs = known(&d.allowed_cidr_blocks)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let ipv6 = cidrs.iter().filter(|c| c.is_ipv6()).count();
    let (v4, v6) = (cidrs.len() - ipv6 + both, ipv6 + both);
    if v4.max(v6) > DEFAULT_RULES_QUOTA {
        warnings.push(Diagnostic::warning(AttrPath::attr("allowed_cidr_blocks"), "More rules than AWS's default quota", format!("This access needs {v4} IPv4 and {v6} IPv6 inbound rules; AWS allows {DEFAULT_RULES_QUOTA} of each per security group unless the quota was raised. Split the access, use a prefix list, or raise the quota before applying.")));
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
