//! Parsing a configuration (or the inputs of a state) into [`Desired`]: each attribute's format,
//! the rules between attributes, and the warnings, every diagnostic at its attribute path.

use std::collections::BTreeMap;

use crate::domain::desired::{
    Checked, Desired, Op, Timeouts, BOOKKEEPING_TAGS_MAX, GENERATED_SUFFIX_LEN, MAX_NAME_LEN,
    MAX_TIMEOUT, MAX_USER_TAGS, MIN_TIMEOUT, RESERVED_TAG_PREFIX,
};
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::schema;
use crate::domain::typecheck::{self, read};
use crate::domain::types::{
    aws_text_problems, known, Cidr, ClusterRef, GroupRef, Input, Known, Port, PrefixListId,
    Timeout, VpcId, CLUSTER_ATTRS,
};
use crate::domain::value::Value;

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
    /// How to write an item, quoting no value (for a secret set).
    const HOW: &'static str;
    fn parse(s: &str) -> Result<Self, String>;
    /// Two entries with the same identity are one entry written twice.
    fn identity(&self) -> String;
    /// The entry as written (sets are sorted and deduplicated by it).
    fn spelling(&self) -> &str;
}

impl SetItem for GroupRef {
    const SUMMARY: &'static str = "Invalid security group id";
    const WHAT: &'static str = "security group";
    const HOW: &'static str =
        "write sg- and 8 or 17 hex digits, or <account id>/sg-… for a group in a peered account.";
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
    const HOW: &'static str =
        "write an address and a prefix length, such as 10.0.0.0/16 or 2001:db8::/56.";
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
    const HOW: &'static str = "write pl- and 8 or 17 hex digits.";
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

    /// An error whose detail quotes the value, with the same advice quoting none.
    fn error_quoting(&mut self, path: AttrPath, summary: &str, detail: String, value_free: String) {
        self.out
            .push(Diagnostic::error(path, summary, detail).with_value_free_detail(value_free));
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
                Err(e) => {
                    let free = format!("The entry is not a valid {what}: {}", T::HOW);
                    self.error_quoting(path, summary, e, free)
                }
                Ok(x) => {
                    if let Some(first) = seen.insert(x.identity(), s.to_string()).filter(|f| f != s)
                    {
                        self.error_quoting(
                            path,
                            &format!("Duplicate entry in {attr}"),
                            format!(
                                "{s:?} and {first:?} are the same {what} {}; keep one of them.",
                                x.identity()
                            ),
                            format!("This entry and an earlier one are the same {what}; keep one of them."),
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
    let inputs = schema::resource_inputs();
    typecheck::check_object(config, inputs, &AttrPath::root(), &mut p.out);
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
        revoke_before_authorize: read::boolean(config.get("revoke_before_authorize")),
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
