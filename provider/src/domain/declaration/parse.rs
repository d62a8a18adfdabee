//! Each input's format, parsed from a [`Value`] at its attribute path: the parse functions the
//! declaration in `input.rs` names, one per input (`field`). The rules between attributes and the
//! entry point are in `desired.rs`.

use std::collections::BTreeMap;

use crate::domain::declaration::value::{read, Value};
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::types::{
    aws_text_problems, Cidr, ClusterRef, GroupRef, Input, Known, Port, PrefixListId, Timeout,
    VpcId, CLUSTER_ATTRS,
};

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

/// The `timeouts` block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub create: Option<Timeout>,
    pub update: Option<Timeout>,
    pub delete: Option<Timeout>,
}

/// Collects diagnostics while parsing.
#[derive(Default)]
pub(crate) struct Parser {
    pub(crate) out: Vec<Diagnostic>,
}

/// An item of a set attribute: how it is parsed, what makes two entries the same, how it is written.
pub(crate) trait SetItem: Sized + Clone {
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
    pub(crate) fn error(&mut self, path: AttrPath, summary: &str, detail: impl Into<String>) {
        self.out.push(Diagnostic::error(path, summary, detail));
    }

    /// An error whose detail quotes the value, with the same advice quoting none.
    pub(crate) fn error_quoting(
        &mut self,
        path: AttrPath,
        summary: &str,
        detail: String,
        value_free: String,
    ) {
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

/// One parse function per input, each of the shape the declaration in `input.rs` calls:
/// `(parser, configuration, attribute name) -> Input<T>`.
pub(crate) mod field {
    use super::*;

    pub fn vpc_id(p: &mut Parser, c: &Value, a: &str) -> Input<VpcId> {
        p.typed(c, a, "Invalid VPC id", VpcId::parse)
    }

    pub fn cluster(p: &mut Parser, c: &Value, a: &str) -> Input<ClusterRef> {
        parse_cluster(p, c.get(a))
    }

    pub fn port(p: &mut Parser, c: &Value, a: &str) -> Input<Port> {
        parse_port(p, c.get(a))
    }

    pub fn name(p: &mut Parser, c: &Value, a: &str) -> Input<String> {
        parse_name(p, c, a, MAX_NAME_LEN)
    }

    pub fn name_prefix(p: &mut Parser, c: &Value, a: &str) -> Input<String> {
        parse_name(p, c, a, MAX_NAME_LEN - GENERATED_SUFFIX_LEN)
    }

    pub fn description(p: &mut Parser, c: &Value, a: &str) -> Input<String> {
        p.typed(c, a, "Invalid description", |s| text_rule(a, s, 255))
    }

    pub fn flag(_: &mut Parser, c: &Value, a: &str) -> Input<bool> {
        read::boolean(c.get(a))
    }

    pub fn set<T: SetItem>(p: &mut Parser, c: &Value, a: &str) -> Input<Vec<T>> {
        p.set::<T>(c, a)
    }

    pub fn tags(p: &mut Parser, c: &Value, a: &str) -> Input<BTreeMap<String, String>> {
        parse_tags_at(&mut p.out, c.get(a), &AttrPath::attr(a))
    }

    pub fn timeouts(p: &mut Parser, c: &Value, a: &str) -> Input<Timeouts> {
        parse_timeouts(p, c.get(a))
    }
}
