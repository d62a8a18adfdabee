//! Typed input values: parse, don't validate.
//!
//! Each type's `parse` returns the value or a message that says what to write instead; the caller adds
//! the attribute path. A parsed value keeps the user's spelling (`text`) next to its meaning, so that a
//! state written back is exactly what the configuration says.

use std::fmt;
use std::time::Duration;

use ipnet::IpNet;

/// A value that may not be known until apply (Terraform's unknown, Pulumi's computed sentinel).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Known<T> {
    Known(T),
    Unknown,
}

impl<T> Known<T> {
    /// The value, when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Known::Known(v) => Some(v),
            Known::Unknown => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Known::Known(v) => Some(v),
            Known::Unknown => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Known::Unknown)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Known<U> {
        match self {
            Known::Known(v) => Known::Known(f(v)),
            Known::Unknown => Known::Unknown,
        }
    }

    pub fn as_ref(&self) -> Known<&T> {
        match self {
            Known::Known(v) => Known::Known(v),
            Known::Unknown => Known::Unknown,
        }
    }
}

/// An optional input: not set, set to a value not known yet, or set to a known value.
pub type Input<T> = Option<Known<T>>;

/// The known value of an optional input (None when not set or not known).
pub fn known<T>(i: &Input<T>) -> Option<&T> {
    i.as_ref().and_then(Known::known)
}

/// True when an optional input is set but not known yet.
pub fn unknown<T>(i: &Input<T>) -> bool {
    matches!(i, Some(Known::Unknown))
}

/// A TCP port, 1 to 65535.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port(u16);

impl Port {
    pub const fn new(p: u16) -> Option<Port> {
        if p == 0 {
            None
        } else {
            Some(Port(p))
        }
    }

    /// Parses a number as a port: whole, from 1 to 65535.
    pub fn parse(n: f64) -> Result<Port, String> {
        if n.fract() != 0.0 {
            return Err(format!(
                "{n} is not a whole number; write a port such as 6379 (Redis, Valkey) or 11211 (Memcached)."
            ));
        }
        if !(1.0..=65535.0).contains(&n) {
            return Err(format!("{n} is out of range: port must be a whole number from 1 to 65535, such as 6379 (Redis, Valkey) or 11211 (Memcached)."));
        }
        Ok(Port(n as u16))
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Private IPv4 and IPv6 ranges: CIDRs inside them need no `allow_public_cidrs`.
pub const PRIVATE_RANGES: [&str; 5] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
];

/// An IPv4 or IPv6 CIDR block, as written and as the network it names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    text: String,
    net: IpNet,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let net = s
            .trim()
            .parse::<IpNet>()
            .map_err(|_| format!("{s:?} is not a CIDR block; write it as an address and a prefix length, such as 10.0.0.0/16 or 2001:db8::/56."))?;
        Ok(Cidr {
            text: s.to_string(),
            net: net.trunc(),
        })
    }

    /// A CIDR block for a network (written in canonical form).
    pub fn of(net: IpNet) -> Cidr {
        let net = net.trunc();
        Cidr {
            text: net.to_string(),
            net,
        }
    }

    /// The network address form, as AWS stores it (`10.1.2.3/16` is `10.1.0.0/16`).
    pub fn net(&self) -> IpNet {
        self.net
    }

    /// What the user wrote.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_canonical(&self) -> bool {
        self.net.to_string() == self.text
    }

    /// True when every address of the block is in a private range.
    pub fn is_private(&self) -> bool {
        PRIVATE_RANGES
            .iter()
            .filter_map(|r| r.parse::<IpNet>().ok())
            .any(|r| r.contains(&self.net))
    }

    pub fn is_ipv6(&self) -> bool {
        matches!(self.net, IpNet::V6(_))
    }
}

/// AWS ids have 8 (older) or 17 lowercase hex digits after their prefix.
pub fn is_hex_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|rest| {
        (rest.len() == 8 || rest.len() == 17)
            && rest
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// A 12-digit AWS account id.
pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.chars().all(|c| c.is_ascii_digit())
}

/// A security group, written `sg-…` or `<12-digit account>/sg-…` (a group of a peered account).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupRef {
    text: String,
    id: String,
    account: Option<String>,
}

impl GroupRef {
    pub fn parse(s: &str) -> Result<GroupRef, String> {
        let (account, id) = match s.split_once('/') {
            Some((acct, id)) => {
                if !is_account(acct) {
                    return Err(format!("{s:?}: the account id before '/' must be 12 digits, as in 123456789012/sg-0123456789abcdef0."));
                }
                (Some(acct.to_string()), id)
            }
            None => (None, s),
        };
        if !is_hex_id(id, "sg-") {
            return Err(format!("{s:?} is not a security group id; write sg- and 8 or 17 hex digits, or <account id>/sg-… for a group in a peered account."));
        }
        Ok(GroupRef {
            text: s.to_string(),
            id: id.to_string(),
            account,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The key of this group among a rule's sources: as written, less the account when it is the
    /// access's own (`own` empty: not known yet). Groups are matched by id, never by key, so a peered
    /// group written without its account keeps its key when AWS reports the account.
    pub fn key(&self, own: &str) -> String {
        match &self.account {
            Some(a) if !own.is_empty() && a == own => self.id.clone(),
            _ => self.text.clone(),
        }
    }
}

/// A managed prefix list id, `pl-…`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PrefixListId(String);

impl PrefixListId {
    pub fn parse(s: &str) -> Result<PrefixListId, String> {
        if is_hex_id(s, "pl-") {
            Ok(PrefixListId(s.to_string()))
        } else {
            Err(format!(
                "{s:?} is not a prefix list id; write pl- and 8 or 17 hex digits."
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A VPC id, `vpc-…`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VpcId(String);

impl VpcId {
    pub fn parse(s: &str) -> Result<VpcId, String> {
        if is_hex_id(s, "vpc-") {
            Ok(VpcId(s.to_string()))
        } else {
            Err(format!(
                "{s:?} is not a VPC id; write vpc- and 8 or 17 hex digits."
            ))
        }
    }

    /// A VPC id as AWS reports it (not checked).
    pub fn reported(s: &str) -> VpcId {
        VpcId(s.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which ElastiCache cluster.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClusterRef {
    /// A replication group (Redis OSS or Valkey).
    ReplicationGroup(String),
    /// A single cache cluster (Memcached, or Redis OSS without a replication group).
    CacheCluster(String),
    /// A serverless cache.
    Serverless(String),
}

/// The attributes of the `cluster` block, in schema order.
pub const CLUSTER_ATTRS: [&str; 3] = [
    "replication_group_id",
    "cache_cluster_id",
    "serverless_cache_name",
];

impl ClusterRef {
    /// Parses an ElastiCache identifier for the `cluster` attribute `attr`.
    pub fn parse(attr: &str, id: &str) -> Result<ClusterRef, String> {
        if id.is_empty()
            || id.len() > 50
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(format!(
                "{id:?} is not an ElastiCache identifier: 1 to 50 letters, digits and hyphens."
            ));
        }
        Self::named(attr, id).ok_or_else(|| format!("unknown cluster attribute {attr:?}"))
    }

    fn named(attr: &str, id: &str) -> Option<ClusterRef> {
        let id = id.to_string();
        match attr {
            "replication_group_id" => Some(ClusterRef::ReplicationGroup(id)),
            "cache_cluster_id" => Some(ClusterRef::CacheCluster(id)),
            "serverless_cache_name" => Some(ClusterRef::Serverless(id)),
            _ => None,
        }
    }

    /// The `cluster` attribute that names it.
    pub fn attr(&self) -> &'static str {
        match self {
            ClusterRef::ReplicationGroup(_) => CLUSTER_ATTRS[0],
            ClusterRef::CacheCluster(_) => CLUSTER_ATTRS[1],
            ClusterRef::Serverless(_) => CLUSTER_ATTRS[2],
        }
    }

    pub fn id(&self) -> &str {
        match self {
            ClusterRef::ReplicationGroup(i)
            | ClusterRef::CacheCluster(i)
            | ClusterRef::Serverless(i) => i,
        }
    }

    /// As kept in a tag: `<attribute>=<id>`.
    pub fn tag(&self) -> String {
        format!("{}={}", self.attr(), self.id())
    }

    pub fn from_tag(s: &str) -> Option<ClusterRef> {
        let (k, v) = s.split_once('=')?;
        Self::named(k, v)
    }
}

impl fmt::Display for ClusterRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            ClusterRef::ReplicationGroup(_) => "replication group",
            ClusterRef::CacheCluster(_) => "cache cluster",
            ClusterRef::Serverless(_) => "serverless cache",
        };
        write!(f, "{kind} {}", self.id())
    }
}

/// A Go-style duration (`30s`, `10m`, `1h30m`), as written and as a duration.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timeout {
    text: String,
    duration: Duration,
}

impl Timeout {
    pub fn parse(s: &str) -> Result<Timeout, String> {
        Ok(Timeout {
            text: s.to_string(),
            duration: parse_duration(s)?,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn duration(&self) -> Duration {
        self.duration
    }
}

/// Parses a Go-style duration (`30s`, `10m`, `1h30m`, `1.5s`, `250ms`); negative and unit-less
/// values are refused.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || {
        format!("{s:?} is not a duration; write a positive number and a unit, such as 30s, 10m or 1h30m.")
    };
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
        while let Some(&n) = chars.peek().filter(|n| n.is_ascii_alphabetic()) {
            unit.push(n);
            chars.next();
        }
        let n: f64 = num.parse().map_err(|_| bad())?;
        num.clear();
        total += n * match unit.as_str() {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        any = true;
    }
    if !num.is_empty() || !any || !total.is_finite() || total > 1.0e9 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(total))
}

/// Characters AWS accepts in a VPC security group's name and description, and in a rule's description.
pub const AWS_SG_CHARS: &str = "._-:/()#,@[]+=&;{}!$* ";

/// Checks text against AWS's rules for group names and descriptions: at most `max` characters of
/// letters, digits, spaces and `._-:/()#,@[]+=&;{}!$*`. Returns each problem (summary, detail).
pub fn aws_text_problems(what: &str, s: &str, max: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let n = s.chars().count();
    if n > max {
        out.push((
            format!("{what} is too long"),
            format!("AWS allows at most {max} characters here; this value has {n}. Shorten it."),
        ));
    }
    if let Some(bad) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || AWS_SG_CHARS.contains(*c)))
    {
        out.push((
            format!("{what} has a character AWS does not accept"),
            format!("{bad:?} is not allowed; use letters, digits, spaces and ._-:/()#,@[]+=&;{{}}!$* only."),
        ));
    }
    out
}

#[cfg(test)]
#[path = "types_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "types_props.rs"]
mod props;
