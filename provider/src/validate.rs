//! Every input rule of the resource, checked before any AWS call.
//!
//! [`resource_config`] takes the configuration as a [`Value`] (unknown values are accepted wherever a
//! rule cannot be decided yet) and returns diagnostics, each with the attribute path and what to do.
//! Parsing helpers ([`parse_cidr`], [`parse_group_source`], [`parse_duration`]) are shared with the
//! engine, so what is validated is exactly what is sent to AWS.

use std::collections::BTreeMap;
use std::time::Duration;

use ipnet::IpNet;

use crate::cloud::Source;
use crate::diag::{AttrPath, Diagnostic};
use crate::model::{self, Mode};
use crate::schema::{self, Attribute, Type};
use crate::value::Value;

/// Characters AWS accepts in a VPC security group's name and in a rule's description.
const AWS_SG_CHARS: &str = "._-:/()#,@[]+=&;{}!$* ";
/// AWS's limit on a security group name; the longest suffix we add is `-clients`.
pub const MAX_NAME_LEN: usize = 255 - "-clients".len();
/// Length of the unique suffix added to `name_prefix`.
pub const GENERATED_SUFFIX_LEN: usize = 26;
/// AWS's default quota of inbound rules per security group (enforced separately for IPv4 and IPv6).
pub const DEFAULT_RULES_QUOTA: usize = 60;
/// Tag keys under this prefix are the provider's own bookkeeping.
pub const RESERVED_TAG_PREFIX: &str = "elasticache-access:";

/// Private IPv4 and IPv6 ranges: CIDRs inside them need no `allow_public_cidrs`.
pub fn private_ranges() -> [IpNet; 5] {
    // These literals are valid networks, so the fallbacks below are never taken.
    let p = |s: &str| s.parse::<IpNet>().unwrap_or_default();
    [
        p("10.0.0.0/8"),
        p("172.16.0.0/12"),
        p("192.168.0.0/16"),
        p("100.64.0.0/10"),
        p("fc00::/7"),
    ]
}

/// True when every address of `net` is in a private range.
pub fn is_private(net: &IpNet) -> bool {
    private_ranges().iter().any(|r| r.contains(net))
}

/// Parses a CIDR block and normalizes it to its network address.
pub fn parse_cidr(s: &str) -> Result<IpNet, String> {
    s.trim()
        .parse::<IpNet>()
        .map(|n| n.trunc())
        .map_err(|_| format!("{s:?} is not a CIDR block; write it as an address and a prefix length, such as 10.0.0.0/16 or 2001:db8::/56"))
}

fn is_hex_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .map(|rest| {
            // AWS ids have 8 (older) or 17 hex digits.
            (rest.len() == 8 || rest.len() == 17)
                && rest
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        })
        .unwrap_or(false)
}

/// Parses `sg-…` or `<12-digit account>/sg-…`.
pub fn parse_group_source(s: &str) -> Result<Source, String> {
    let (owner, id) = match s.split_once('/') {
        Some((acct, id)) => {
            if acct.len() != 12 || !acct.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!(
                    "{s:?}: the account id before '/' must be 12 digits, as in 123456789012/sg-0123456789abcdef0"
                ));
            }
            (Some(acct.to_string()), id)
        }
        None => (None, s),
    };
    if !is_hex_id(id, "sg-") {
        return Err(format!(
            "{s:?} is not a security group id; write sg- and 8 or 17 hex digits, or <account id>/sg-… for a group in a peered account"
        ));
    }
    Ok(Source::Group {
        id: id.to_string(),
        owner,
    })
}

/// Parses a prefix list id `pl-…`.
pub fn parse_prefix_list(s: &str) -> Result<Source, String> {
    if is_hex_id(s, "pl-") {
        Ok(Source::PrefixList(s.to_string()))
    } else {
        Err(format!(
            "{s:?} is not a prefix list id; write pl- and 8 or 17 hex digits"
        ))
    }
}

/// Parses a Go-style duration (`30s`, `10m`, `1h30m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad =
        || format!("{s:?} is not a duration; write a number and a unit, such as 30s, 10m or 1h30m");
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.trim().chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let n: f64 = num.parse().map_err(|_| bad())?;
        num.clear();
        let secs = match unit.as_str() {
            "ms" => n / 1000.0,
            "s" => n,
            "m" => n * 60.0,
            "h" => n * 3600.0,
            _ => return Err(bad()),
        };
        total += secs;
        any = true;
    }
    if !num.is_empty() || !any {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(total))
}

fn check_aws_text(path: &AttrPath, what: &str, s: &str, max: usize, out: &mut Vec<Diagnostic>) {
    if s.chars().count() > max {
        out.push(Diagnostic::error(
            path.clone(),
            format!("{what} is too long"),
            format!(
                "AWS allows at most {max} characters here; this value has {}. Shorten it.",
                s.chars().count()
            ),
        ));
    }
    if let Some(bad) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || AWS_SG_CHARS.contains(*c)))
    {
        out.push(Diagnostic::error(
            path.clone(),
            format!("{what} has a character AWS does not accept"),
            format!("{bad:?} is not allowed; use letters, digits, spaces and ._-:/()#,@[]+=&;{{}}!$* only."),
        ));
    }
}

fn check_name(path: &AttrPath, what: &str, s: &str, max: usize, out: &mut Vec<Diagnostic>) {
    if s.is_empty() {
        out.push(Diagnostic::error(
            path.clone(),
            format!("{what} is empty"),
            "Set a non-empty value, or remove the attribute to get a generated name.",
        ));
        return;
    }
    if s.to_ascii_lowercase().starts_with("sg-") {
        out.push(Diagnostic::error(
            path.clone(),
            format!("{what} starts with \"sg-\""),
            "AWS refuses security group names that start with sg-; choose another name.",
        ));
    }
    check_aws_text(path, what, s, max, out);
}

/// Checks the value against the schema's types (Pulumi sends untyped values) and reports unknown
/// attributes.
pub fn check_types(v: &Value, attrs: &[Attribute], path: &AttrPath, out: &mut Vec<Diagnostic>) {
    let Some(m) = v.as_map() else {
        if !v.is_null() && !v.is_unknown() {
            out.push(Diagnostic::error(
                path.clone(),
                "Expected an object",
                "Write an object with the attributes listed in the documentation.",
            ));
        }
        return;
    };
    for (k, val) in m {
        let p = if path.0.is_empty() {
            AttrPath::attr(k)
        } else {
            path.clone().then_attr(k)
        };
        match attrs.iter().find(|a| &a.name == k) {
            None => out.push(Diagnostic::error(
                p,
                format!("Unknown attribute {k:?}"),
                format!(
                    "Remove it; the attributes are: {}.",
                    attrs
                        .iter()
                        .filter(|a| a.mode != Mode::Computed)
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            Some(a) => check_type(val, &a.ty, &p, out),
        }
    }
}

fn check_type(v: &Value, ty: &Type, path: &AttrPath, out: &mut Vec<Diagnostic>) {
    let wrong = |want: &str| {
        Diagnostic::error(
            path.clone(),
            format!("Expected {want}"),
            format!("Write {want} here."),
        )
    };
    match (ty, v) {
        (_, Value::Null | Value::Unknown) => {}
        (Type::String, Value::String(_)) | (Type::Bool, Value::Bool(_)) => {}
        (Type::Integer, Value::Number(n)) if n.fract() == 0.0 => {}
        (Type::Integer, Value::Number(_)) => out.push(Diagnostic::error(
            path.clone(),
            "Expected a whole number",
            "Write an integer, such as 6379.",
        )),
        (Type::Integer, Value::String(s)) if s.parse::<i64>().is_ok() => {}
        (Type::Bool, Value::String(s)) if s == "true" || s == "false" => {}
        (Type::List(inner) | Type::Set(inner), Value::List(items)) => {
            for (i, it) in items.iter().enumerate() {
                check_type(it, inner, &path.clone().then_index(i), out);
            }
        }
        (Type::Map(inner), Value::Map(m)) => {
            for (k, it) in m {
                check_type(it, inner, &path.clone().then_key(k), out);
            }
        }
        (Type::Object(attrs), Value::Map(_)) => check_types(v, attrs, path, out),
        (Type::String, _) => out.push(wrong("a string")),
        (Type::Integer, _) => out.push(wrong("a number")),
        (Type::Bool, _) => out.push(wrong("true or false")),
        (Type::List(_) | Type::Set(_), _) => out.push(wrong("a list")),
        (Type::Map(_), _) => out.push(wrong("a map of strings")),
        (Type::Object(_), _) => out.push(wrong("an object")),
    }
}

/// A boolean attribute: Some(value) when known (null → default), None when unknown.
pub fn flag(config: &Value, name: &str) -> Option<bool> {
    match config.get(name) {
        Value::Unknown => None,
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s == "true"),
        _ => Some(
            model::behaviour(name)
                .and_then(|b| b.default)
                .map(|d| d == "true")
                .unwrap_or(false),
        ),
    }
}

/// The integer value of a number attribute (Pulumi may send numbers as strings).
pub fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) if n.fract() == 0.0 => Some(*n as i64),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn set_items<'a>(config: &'a Value, name: &str) -> Vec<(usize, &'a Value)> {
    config
        .get(name)
        .as_list()
        .map(|l| l.iter().enumerate().collect())
        .unwrap_or_default()
}

/// Validates a resource configuration. Returns every problem found, never stopping at the first.
pub fn resource_config(config: &Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let schema = schema::resource();
    let inputs: Vec<Attribute> = schema
        .attributes
        .iter()
        .filter(|a| a.is_input())
        .cloned()
        .collect();
    check_types(config, &inputs, &AttrPath::root(), &mut out);
    if !out.is_empty() {
        return out;
    }

    // vpc_id and cluster
    let vpc = config.get("vpc_id");
    let cluster = config.get("cluster");
    if vpc.is_null() && cluster.is_null() {
        out.push(Diagnostic::error(AttrPath::attr("vpc_id"), "Missing vpc_id", "Set vpc_id to the VPC of the cluster, or set cluster so the provider can read the VPC from it."));
    }
    if let Some(v) = vpc.as_str() {
        if !is_hex_id(v, "vpc-") {
            out.push(Diagnostic::error(
                AttrPath::attr("vpc_id"),
                "Invalid VPC id",
                format!("{v:?} is not a VPC id; write vpc- and 8 or 17 hex digits."),
            ));
        }
    }
    if let Some(m) = cluster.as_map() {
        let keys = [
            "replication_group_id",
            "cache_cluster_id",
            "serverless_cache_name",
        ];
        let set: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| !m.get(*k).map(Value::is_null).unwrap_or(true))
            .collect();
        if set.is_empty() {
            out.push(Diagnostic::error(
                AttrPath::attr("cluster"),
                "Set exactly one cluster identifier",
                "cluster needs exactly one of replication_group_id, cache_cluster_id or serverless_cache_name; none is set. Add the identifier of the cluster, or remove the cluster block and set vpc_id.",
            ));
        } else if set.len() > 1 {
            // Point at the second identifier: that is the line to remove.
            out.push(Diagnostic::error(
                AttrPath::attr("cluster").then_attr(set[1]),
                "Set exactly one cluster identifier",
                format!("cluster needs exactly one of replication_group_id, cache_cluster_id or serverless_cache_name; {} are set. Keep the one that names the cluster and remove the others.", set.join(" and ")),
            ));
        }
        for k in keys {
            if let Some(s) = m.get(k).and_then(Value::as_str) {
                if s.is_empty()
                    || s.len() > 50
                    || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    out.push(Diagnostic::error(AttrPath::attr("cluster").then_attr(k), "Invalid cluster identifier", format!("{s:?} is not an ElastiCache identifier: 1 to 50 letters, digits and hyphens.")));
                }
            }
        }
    }

    // port
    if let v @ Value::Number(_) | v @ Value::String(_) = config.get("port") {
        match integer(v) {
            Some(p) if (1..=65535).contains(&p) => {}
            _ => out.push(Diagnostic::error(AttrPath::attr("port"), "Port out of range", "port must be a whole number from 1 to 65535, such as 6379 (Redis, Valkey) or 11211 (Memcached).")),
        }
    }

    // name and name_prefix
    let name = config.get("name");
    let prefix = config.get("name_prefix");
    if !name.is_null() && !prefix.is_null() {
        out.push(Diagnostic::error(
            AttrPath::attr("name_prefix"),
            "Conflicting name and name_prefix",
            "Set name or name_prefix, not both.",
        ));
    }
    if let Some(n) = name.as_str() {
        check_name(&AttrPath::attr("name"), "name", n, MAX_NAME_LEN, &mut out);
    }
    if let Some(p) = prefix.as_str() {
        check_name(
            &AttrPath::attr("name_prefix"),
            "name_prefix",
            p,
            MAX_NAME_LEN - GENERATED_SUFFIX_LEN,
            &mut out,
        );
    }
    if let Some(d) = config.get("description").as_str() {
        check_aws_text(
            &AttrPath::attr("description"),
            "description",
            d,
            255,
            &mut out,
        );
    }

    // sources
    let allow_public = flag(config, "allow_public_cidrs");
    let mut v4 = 0usize;
    let mut v6 = 0usize;
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (i, item) in set_items(config, "client_security_group_ids") {
        if let Some(s) = item.as_str() {
            if let Err(e) = parse_group_source(s) {
                out.push(Diagnostic::error(
                    AttrPath::attr("client_security_group_ids").then_index(i),
                    "Invalid security group id",
                    e,
                ));
            }
        }
        v4 += 1;
        v6 += 1;
    }
    for attr in ["allowed_cidr_blocks", "client_ssh_cidr_blocks"] {
        for (i, item) in set_items(config, attr) {
            let path = AttrPath::attr(attr).then_index(i);
            let Some(s) = item.as_str() else {
                if attr == "allowed_cidr_blocks" {
                    v4 += 1;
                }
                continue;
            };
            match parse_cidr(s) {
                Err(e) => out.push(Diagnostic::error(path, "Invalid CIDR block", e)),
                Ok(net) => {
                    if net.to_string() != s {
                        out.push(Diagnostic::warning(path.clone(), "CIDR block is not in canonical form", format!("{s:?} is the network {net}; AWS stores it as {net}. Write {net:?} so that an imported access plans no change.")));
                    }
                    if let Some(first) = seen.insert(format!("{attr}/{net}"), s.to_string()) {
                        out.push(Diagnostic::error(
                            path.clone(),
                            "Duplicate CIDR block",
                            format!(
                                "{s:?} and {first:?} are the same network {net}; keep one of them."
                            ),
                        ));
                    }
                    if !is_private(&net) && allow_public == Some(false) {
                        out.push(Diagnostic::error(path, "Public CIDR block", format!("{net} is outside the private ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7). If it is meant to reach the cache, set allow_public_cidrs = true; otherwise use a private range.")));
                    }
                    if attr == "allowed_cidr_blocks" {
                        match net {
                            IpNet::V4(_) => v4 += 1,
                            IpNet::V6(_) => v6 += 1,
                        }
                    }
                }
            }
        }
    }
    for (i, item) in set_items(config, "allowed_prefix_list_ids") {
        if let Some(s) = item.as_str() {
            if let Err(e) = parse_prefix_list(s) {
                out.push(Diagnostic::error(
                    AttrPath::attr("allowed_prefix_list_ids").then_index(i),
                    "Invalid prefix list id",
                    e,
                ));
            }
        }
        v4 += 1;
        v6 += 1;
    }
    if flag(config, "create_client_security_group") != Some(false) {
        v4 += 1;
        v6 += 1;
    }
    if v4.max(v6) > DEFAULT_RULES_QUOTA {
        out.push(Diagnostic::warning(AttrPath::attr("allowed_cidr_blocks"), "More rules than AWS's default quota", format!("This access needs {} IPv4 and {v6} IPv6 inbound rules; AWS allows {DEFAULT_RULES_QUOTA} of each per security group unless the quota was raised. Split the access, use a prefix list, or raise the quota before applying.", v4)));
    }
    if flag(config, "create_client_security_group") == Some(false)
        && !config.get("client_ssh_cidr_blocks").is_null()
        && !set_items(config, "client_ssh_cidr_blocks").is_empty()
    {
        out.push(Diagnostic::error(AttrPath::attr("client_ssh_cidr_blocks"), "SSH rules need the client group", "client_ssh_cidr_blocks adds SSH rules to the created client group; set create_client_security_group = true or remove client_ssh_cidr_blocks."));
    }
    if flag(config, "attach_to_cluster") == Some(true) && cluster.is_null() {
        out.push(Diagnostic::error(
            AttrPath::attr("attach_to_cluster"),
            "attach_to_cluster needs cluster",
            "Set cluster to the cluster to attach the group to, or set attach_to_cluster = false.",
        ));
    }

    // tags
    if let Some(tags) = config.get("tags").as_map() {
        for (k, v) in tags {
            let path = AttrPath::attr("tags").then_key(k);
            if k.is_empty() || k.chars().count() > 128 {
                out.push(Diagnostic::error(
                    path.clone(),
                    "Invalid tag key",
                    "Tag keys have 1 to 128 characters.",
                ));
            }
            if k.to_ascii_lowercase().starts_with("aws:") || k.starts_with(RESERVED_TAG_PREFIX) {
                out.push(Diagnostic::error(path.clone(), "Reserved tag key", format!("Keys starting with aws: or {RESERVED_TAG_PREFIX} are reserved; rename the tag.")));
            }
            if v.as_str().map(|s| s.chars().count() > 256).unwrap_or(false) {
                out.push(Diagnostic::error(
                    path,
                    "Tag value too long",
                    "Tag values have at most 256 characters.",
                ));
            }
        }
    }

    // timeouts
    if let Some(t) = config.get("timeouts").as_map() {
        for (k, v) in t {
            if let Some(s) = v.as_str() {
                if let Err(e) = parse_duration(s) {
                    out.push(Diagnostic::error(
                        AttrPath::attr("timeouts").then_attr(k),
                        "Invalid timeout",
                        e,
                    ));
                }
            }
        }
    }
    out
}

/// Validates a provider configuration.
pub fn provider_config(config: &Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    check_types(
        config,
        &schema::provider().attributes,
        &AttrPath::root(),
        &mut out,
    );
    if let Some(r) = config.get("region").as_str() {
        if r.is_empty()
            || !r
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            out.push(Diagnostic::error(
                AttrPath::attr("region"),
                "Invalid region",
                format!("{r:?} is not an AWS Region name such as us-east-1."),
            ));
        }
    }
    if let v @ (Value::Number(_) | Value::String(_)) = config.get("max_retries") {
        if !matches!(integer(v), Some(1..=25)) {
            out.push(Diagnostic::error(
                AttrPath::attr("max_retries"),
                "max_retries out of range",
                "Set max_retries to a whole number from 1 to 25.",
            ));
        }
    }
    if let Some(ar) = config.get("assume_role").as_map() {
        match ar.get("role_arn") {
            Some(Value::String(s)) if s.starts_with("arn:") => {}
            Some(Value::Unknown) => {}
            _ => out.push(Diagnostic::error(
                AttrPath::attr("assume_role").then_attr("role_arn"),
                "Invalid role_arn",
                "Set role_arn to a role ARN such as arn:aws:iam::123456789012:role/deployer.",
            )),
        }
    }
    if let Some(eps) = config.get("endpoints").as_map() {
        for (k, v) in eps {
            if let Some(s) = v.as_str() {
                if !(s.starts_with("http://") || s.starts_with("https://")) {
                    out.push(Diagnostic::error(
                        AttrPath::attr("endpoints").then_attr(k),
                        "Invalid endpoint",
                        format!("{s:?} is not a URL; write it as http(s)://host[:port]."),
                    ));
                }
            }
        }
    }
    if let Some(tags) = config.get("default_tags").as_map() {
        for k in tags.keys() {
            if k.to_ascii_lowercase().starts_with("aws:") || k.starts_with(RESERVED_TAG_PREFIX) {
                out.push(Diagnostic::error(AttrPath::attr("default_tags").then_key(k), "Reserved tag key", format!("Keys starting with aws: or {RESERVED_TAG_PREFIX} are reserved; rename the tag.")));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(j: serde_json::Value) -> Value {
        Value::from_json(&j)
    }

    /// (case, config, expected path of the first error or None for valid, text the detail must contain)
    #[test]
    fn validation_table() {
        let cases: Vec<(&str, serde_json::Value, Option<&str>, &str)> = vec![
            (
                "minimal",
                serde_json::json!({"vpc_id": "vpc-0123456789abcdef0"}),
                None,
                "",
            ),
            (
                "cluster only",
                serde_json::json!({"cluster": {"replication_group_id": "demo"}}),
                None,
                "",
            ),
            (
                "neither vpc nor cluster",
                serde_json::json!({}),
                Some("vpc_id"),
                "set cluster",
            ),
            (
                "bad vpc",
                serde_json::json!({"vpc_id": "vpc-xyz"}),
                Some("vpc_id"),
                "not a VPC id",
            ),
            (
                "two cluster ids",
                serde_json::json!({"cluster": {"replication_group_id": "a", "cache_cluster_id": "b"}}),
                Some("cluster.cache_cluster_id"),
                "replication_group_id and cache_cluster_id are set",
            ),
            (
                "no cluster id",
                serde_json::json!({"cluster": {}}),
                Some("cluster"),
                "none is set",
            ),
            (
                "port zero",
                serde_json::json!({"vpc_id": "vpc-01234567", "port": 0}),
                Some("port"),
                "1 to 65535",
            ),
            (
                "port too big",
                serde_json::json!({"vpc_id": "vpc-01234567", "port": 70000}),
                Some("port"),
                "1 to 65535",
            ),
            (
                "port fraction",
                serde_json::json!({"vpc_id": "vpc-01234567", "port": 63.5}),
                Some("port"),
                "integer",
            ),
            (
                "name and prefix",
                serde_json::json!({"vpc_id": "vpc-01234567", "name": "a", "name_prefix": "b"}),
                Some("name_prefix"),
                "not both",
            ),
            (
                "name sg-",
                serde_json::json!({"vpc_id": "vpc-01234567", "name": "sg-foo"}),
                Some("name"),
                "start with sg-",
            ),
            (
                "name too long",
                serde_json::json!({"vpc_id": "vpc-01234567", "name": "a".repeat(248)}),
                Some("name"),
                "at most 247",
            ),
            (
                "name bad char",
                serde_json::json!({"vpc_id": "vpc-01234567", "name": "a%b"}),
                Some("name"),
                "'%'",
            ),
            (
                "prefix too long",
                serde_json::json!({"vpc_id": "vpc-01234567", "name_prefix": "a".repeat(222)}),
                Some("name_prefix"),
                "at most 221",
            ),
            (
                "description bad char",
                serde_json::json!({"vpc_id": "vpc-01234567", "description": "caf\u{e9}"}),
                Some("description"),
                "not allowed",
            ),
            (
                "bad sg",
                serde_json::json!({"vpc_id": "vpc-01234567", "client_security_group_ids": ["sg-1"]}),
                Some("client_security_group_ids[0]"),
                "not a security group id",
            ),
            (
                "sg of 9 hex digits",
                serde_json::json!({"vpc_id": "vpc-01234567", "client_security_group_ids": ["sg-0123abcd9"]}),
                Some("client_security_group_ids[0]"),
                "8 or 17 hex digits",
            ),
            (
                "peered sg ok",
                serde_json::json!({"vpc_id": "vpc-01234567", "client_security_group_ids": ["123456789012/sg-0123456789abcdef0"]}),
                None,
                "",
            ),
            (
                "peered bad account",
                serde_json::json!({"vpc_id": "vpc-01234567", "client_security_group_ids": ["1234/sg-01234567"]}),
                Some("client_security_group_ids[0]"),
                "12 digits",
            ),
            (
                "bad cidr",
                serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["10.0.0.0/33"]}),
                Some("allowed_cidr_blocks[0]"),
                "not a CIDR",
            ),
            (
                "public cidr",
                serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["0.0.0.0/0"]}),
                Some("allowed_cidr_blocks[0]"),
                "allow_public_cidrs = true",
            ),
            (
                "public v6",
                serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["::/0"]}),
                Some("allowed_cidr_blocks[0]"),
                "allow_public_cidrs",
            ),
            (
                "public allowed",
                serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["0.0.0.0/0", "::/0"], "allow_public_cidrs": true}),
                None,
                "",
            ),
            (
                "private mixed",
                serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["10.1.2.3/16", "fd00::/8", "100.64.0.0/10"]}),
                None,
                "",
            ),
            (
                "duplicate network",
                serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": ["10.1.0.0/16", "10.1.2.3/16"]}),
                Some("allowed_cidr_blocks[1]"),
                "same network",
            ),
            (
                "bad prefix list",
                serde_json::json!({"vpc_id": "vpc-01234567", "allowed_prefix_list_ids": ["prefix"]}),
                Some("allowed_prefix_list_ids[0]"),
                "prefix list",
            ),
            (
                "ssh without client group",
                serde_json::json!({"vpc_id": "vpc-01234567", "create_client_security_group": false, "client_ssh_cidr_blocks": ["10.0.0.0/8"]}),
                Some("client_ssh_cidr_blocks"),
                "create_client_security_group = true",
            ),
            (
                "public ssh",
                serde_json::json!({"vpc_id": "vpc-01234567", "client_ssh_cidr_blocks": ["8.8.8.8/32"]}),
                Some("client_ssh_cidr_blocks[0]"),
                "allow_public_cidrs",
            ),
            (
                "attach without cluster",
                serde_json::json!({"vpc_id": "vpc-01234567", "attach_to_cluster": true}),
                Some("attach_to_cluster"),
                "Set cluster",
            ),
            (
                "reserved tag",
                serde_json::json!({"vpc_id": "vpc-01234567", "tags": {"aws:x": "y"}}),
                Some("tags[\"aws:x\"]"),
                "reserved",
            ),
            (
                "own tag",
                serde_json::json!({"vpc_id": "vpc-01234567", "tags": {"elasticache-access:name": "y"}}),
                Some("tags[\"elasticache-access:name\"]"),
                "reserved",
            ),
            (
                "bad timeout",
                serde_json::json!({"vpc_id": "vpc-01234567", "timeouts": {"create": "ten minutes"}}),
                Some("timeouts.create"),
                "not a duration",
            ),
            (
                "good timeout",
                serde_json::json!({"vpc_id": "vpc-01234567", "timeouts": {"create": "1h30m", "delete": "45s"}}),
                None,
                "",
            ),
            (
                "unknown attribute",
                serde_json::json!({"vpc_id": "vpc-01234567", "prot": 1}),
                Some("prot"),
                "Remove it",
            ),
            (
                "wrong type",
                serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": "10.0.0.0/8"}),
                Some("allowed_cidr_blocks"),
                "a list",
            ),
            (
                "computed attribute as input",
                serde_json::json!({"vpc_id": "vpc-01234567", "owner_id": "1"}),
                Some("owner_id"),
                "Remove it",
            ),
        ];
        for (case, j, want_path, want_text) in cases {
            let diags = resource_config(&cfg(j));
            let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
            match want_path {
                None => assert!(errors.is_empty(), "{case}: unexpected {errors:?}"),
                Some(p) => {
                    let d = errors
                        .iter()
                        .find(|d| d.path.as_ref().map(|x| x.to_string()) == Some(p.to_string()));
                    let Some(d) = d else {
                        panic!("{case}: no error at {p}: {diags:?}")
                    };
                    assert!(
                        format!("{} {}", d.summary, d.detail).contains(want_text),
                        "{case}: {d:?} lacks {want_text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn unknown_values_are_accepted_where_undecidable() {
        let mut c = cfg(serde_json::json!({"allowed_cidr_blocks": ["0.0.0.0/0"]}));
        c.set("vpc_id", Value::Unknown);
        c.set("allow_public_cidrs", Value::Unknown);
        c.set(
            "client_security_group_ids",
            Value::List(vec![Value::Unknown]),
        );
        c.set("port", Value::Unknown);
        assert!(resource_config(&c).is_empty(), "{:?}", resource_config(&c));
        c.set("allow_public_cidrs", Value::Bool(false));
        assert!(!resource_config(&c).is_empty());
    }

    #[test]
    fn rule_quota_is_a_warning() {
        let cidrs: Vec<String> = (0..61).map(|i| format!("10.{i}.0.0/16")).collect();
        let d = resource_config(&cfg(
            serde_json::json!({"vpc_id": "vpc-01234567", "allowed_cidr_blocks": cidrs}),
        ));
        assert!(
            d.iter()
                .any(|d| !d.is_error() && d.summary.contains("quota")),
            "{d:?}"
        );
        assert!(!d.iter().any(Diagnostic::is_error));
    }

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn provider_config_rules() {
        assert!(provider_config(&cfg(
            serde_json::json!({"region": "us-east-1", "max_retries": 3})
        ))
        .is_empty());
        let d = provider_config(&cfg(
            serde_json::json!({"region": "US East", "max_retries": 0, "assume_role": {"role_arn": "x"}, "endpoints": {"ec2": "localhost"}}),
        ));
        let paths: Vec<String> = d
            .iter()
            .filter_map(|d| d.path.as_ref().map(|p| p.to_string()))
            .collect();
        assert_eq!(
            paths,
            vec![
                "region",
                "max_retries",
                "assume_role.role_arn",
                "endpoints.ec2"
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn cidr_normalization_is_idempotent_and_contains_input(a in 0u32.., len in 0u8..=32) {
            let net = ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(a), len).map(IpNet::V4);
            if let Ok(net) = net {
                let n = parse_cidr(&net.to_string());
                proptest::prop_assert!(n.is_ok());
                let n = n.unwrap_or_default();
                proptest::prop_assert_eq!(parse_cidr(&n.to_string()), Ok(n));
                proptest::prop_assert!(n.contains(&net.addr()));
            }
        }
    }
}
