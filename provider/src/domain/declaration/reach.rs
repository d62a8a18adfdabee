//! Who can reach the cache (issue 24): the `reachability` object of an access and of the
//! `elasticache_reachability` data source, its one table of findings, and the pure rules that
//! derive the findings from the sources and the cluster's posture.
//!
//! The object is declared here once; the Terraform and Pulumi schemas, the docs and
//! `sdk-schemas/jsonschema/reachability.schema.json` derive from these types. What the plan knows
//! of it is built by [`crate::domain::planning::reach_plan`]; what AWS shows, by the engine
//! (`engine/reach.rs`).

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::types::PRIVATE_RANGES;

/// Version of the object's layout, bumped on any incompatible change.
pub const REACH_SCHEMA_VERSION: i64 = 1;

/// Who can reach the cluster, from where, and what is unsafe about it. Computed: what the
/// configuration and the cluster's posture determine is known at plan time; rule ids, network
/// interface counts, prefix-list entries, rules added outside this access and network ACL findings
/// are filled at apply and refresh.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "reachability")]
pub struct Reachability {
    /// Version of this object's layout (1); bumped on any incompatible change.
    pub schema_version: i64,
    /// The cluster port the sources reach.
    pub port: i64,
    /// One entry per way in: every ingress rule covering the port on the cluster security group
    /// and, when a cluster is named, on the cluster's other security groups, managed by this access
    /// or not. Sorted by `on_group`, then this access's own client group first, then `kind`,
    /// `reference`, `rule_id`.
    pub sources: Vec<ReachSource>,
    /// The named cluster's engine and security posture; null when no cluster is named.
    pub cluster: Option<ReachCluster>,
    /// What is unsafe or broken, sorted by `id` then `subject`. Empty when nothing is.
    pub findings: Vec<Finding>,
}

/// One way in: an ingress rule covering the cluster port.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct ReachSource {
    /// `security_group`, `cidr` or `prefix_list`.
    pub kind: String,
    /// The security group id (`sg-...`, without its account), the CIDR block or the prefix list id
    /// (`pl-...`). Null in a plan while not known (a client group still to be created).
    pub reference: Option<String>,
    /// The cluster-side security group the rule is on. Null in a plan while not known.
    pub on_group: Option<String>,
    /// The rule's `sgr-` id; null while not known (plan).
    pub rule_id: Option<String>,
    /// True when the rule is this access's own.
    pub managed: bool,
    /// True for a CIDR block, or a prefix list with an entry, outside the private ranges
    /// (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7).
    pub public: bool,
    /// The account that owns the referenced security group; null for CIDRs and prefix lists.
    pub account: Option<String>,
    /// The VPC of the referenced security group, or of the peered network a CIDR is in; null when
    /// not known.
    pub vpc: Option<String>,
    /// How traffic gets in: `same_vpc`, `peering`, `transit_gateway` or `unknown`.
    pub path: String,
    /// First port of the rule (-1 for all).
    pub from_port: i64,
    /// Last port of the rule (-1 for all).
    pub to_port: i64,
    /// IP protocol (`tcp`, or `-1` for all).
    pub protocol: String,
    /// Security group sources of this account: how many network interfaces carry the group now.
    /// Null for other kinds and for groups of other accounts.
    pub network_interfaces: Option<i64>,
    /// Prefix list sources: the list's CIDR entries. Null for other kinds.
    pub entries: Option<Vec<String>>,
}

/// The named cluster's posture.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReachCluster {
    /// The replication group id, cache cluster id or serverless cache name.
    pub id: String,
    /// `replication_group`, `cache_cluster` or `serverless`.
    pub kind: String,
    /// `redis`, `valkey` or `memcached`.
    pub engine: String,
    /// Whether in-transit encryption (TLS) is on; null when AWS does not say.
    pub transit_encryption: Option<bool>,
    /// How clients authenticate: `none`, `auth_token`, `rbac` (a user group) or `iam`; null when
    /// AWS does not say.
    pub authentication: Option<String>,
}

/// One finding.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct Finding {
    /// The finding's stable id (see the table of findings).
    pub id: String,
    /// `critical`, `high`, `medium` or `low`.
    pub severity: String,
    /// What it is about: a source's reference or the cluster's id.
    pub subject: String,
    /// One line saying what is wrong.
    pub message: String,
}

/// One row of the table of findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FindingKind {
    pub id: &'static str,
    pub severity: &'static str,
    /// When it fires (the docs' table and `policies/findings.json`).
    pub title: &'static str,
}

impl FindingKind {
    /// Policies fail a plan on a blocking finding (critical or high).
    pub fn blocking(&self) -> bool {
        matches!(self.severity, "critical" | "high")
    }

    fn at(&self, subject: &str, message: String) -> Finding {
        Finding {
            id: self.id.into(),
            severity: self.severity.into(),
            subject: subject.into(),
            message,
        }
    }
}

pub const OPEN_TO_WORLD: FindingKind = FindingKind {
    id: "open-to-world",
    severity: "critical",
    title: "a source is 0.0.0.0/0 or ::/0",
};
pub const PUBLIC_SOURCE: FindingKind = FindingKind {
    id: "public-source",
    severity: "high",
    title: "a CIDR or prefix-list entry outside the private ranges",
};
pub const NO_TRANSIT_ENCRYPTION: FindingKind = FindingKind {
    id: "no-transit-encryption",
    severity: "high",
    title: "the named cluster has transit encryption off",
};
pub const NO_AUTHENTICATION: FindingKind = FindingKind {
    id: "no-authentication",
    severity: "high",
    title: "the named cluster has no AUTH token, RBAC user group or IAM auth",
};
pub const WIDE_PORT_RANGE: FindingKind = FindingKind {
    id: "wide-port-range",
    severity: "medium",
    title: "a rule covering the port spans more than the cluster port",
};
pub const UNKNOWN_REFERENCED_GROUP: FindingKind = FindingKind {
    id: "unknown-referenced-group",
    severity: "medium",
    title: "a referenced group is stale (deleted) or cannot be described",
};
pub const NACL_DENIES_PORT: FindingKind = FindingKind {
    id: "nacl-denies-port",
    severity: "low",
    title: "a network ACL of the cluster's subnets denies the port from a source's subnets",
};

/// The table of findings, in the docs' order.
pub const FINDINGS: [FindingKind; 7] = [
    OPEN_TO_WORLD,
    PUBLIC_SOURCE,
    NO_TRANSIT_ENCRYPTION,
    NO_AUTHENTICATION,
    WIDE_PORT_RANGE,
    UNKNOWN_REFERENCED_GROUP,
    NACL_DENIES_PORT,
];

/// `policies/findings.json`: `[{id, severity, title, blocking}]`.
pub fn findings_json() -> serde_json::Value {
    serde_json::Value::Array(
        FINDINGS
            .iter()
            .map(|f| {
                serde_json::json!({"id": f.id, "severity": f.severity, "title": f.title, "blocking": f.blocking()})
            })
            .collect(),
    )
}

/// True when every address of `net` is in a private range.
pub fn is_private(net: &IpNet) -> bool {
    PRIVATE_RANGES
        .iter()
        .filter_map(|r| r.parse::<IpNet>().ok())
        .any(|r| r.contains(net))
}

/// True for `0.0.0.0/0` and `::/0`.
pub fn is_world(net: &IpNet) -> bool {
    net.prefix_len() == 0
}

/// The CIDR blocks a source lets in, as far as they are known (a CIDR, a prefix list's entries).
fn networks(s: &ReachSource) -> Vec<IpNet> {
    match s.kind.as_str() {
        "cidr" => s.reference.iter().filter_map(|r| r.parse().ok()).collect(),
        "prefix_list" => s
            .entries
            .iter()
            .flatten()
            .filter_map(|e| e.parse().ok())
            .collect(),
        _ => Vec::new(),
    }
}

/// True when the rule covers more than `port` alone.
fn wide(s: &ReachSource, port: i64) -> bool {
    s.protocol == "-1" || s.from_port != port || s.to_port != port
}

/// The findings that follow from the sources and the cluster: every kind but
/// `unknown-referenced-group` and `nacl-denies-port`, which need AWS's answers (the engine adds
/// them). Sources whose reference is not known yet are skipped.
pub fn findings(
    port: i64,
    sources: &[ReachSource],
    cluster: Option<&ReachCluster>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in sources {
        let Some(subject) = s.reference.as_deref() else {
            continue;
        };
        let nets = networks(s);
        if let Some(w) = nets.iter().find(|n| is_world(n)) {
            out.push(OPEN_TO_WORLD.at(
                subject,
                format!("{subject} lets every address on the internet ({w}) reach port {port}."),
            ));
        } else if let Some(p) = nets.iter().find(|n| !is_private(n)) {
            out.push(PUBLIC_SOURCE.at(
                subject,
                format!("{subject} lets public addresses ({p}) reach port {port}."),
            ));
        }
        if wide(s, port) {
            let range = if s.protocol == "-1" {
                "every protocol and port".to_string()
            } else {
                format!("ports {}-{}", s.from_port, s.to_port)
            };
            out.push(WIDE_PORT_RANGE.at(
                subject,
                format!(
                    "The rule from {subject} on {} opens {range}, more than port {port}.",
                    s.on_group.as_deref().unwrap_or("the cluster group")
                ),
            ));
        }
    }
    if let Some(c) = cluster {
        if c.transit_encryption == Some(false) {
            out.push(NO_TRANSIT_ENCRYPTION.at(
                &c.id,
                format!(
                    "Cluster {} has in-transit encryption off: traffic to it is not encrypted.",
                    c.id
                ),
            ));
        }
        if c.authentication.as_deref() == Some("none") {
            out.push(NO_AUTHENTICATION.at(&c.id, format!("Cluster {} asks for no AUTH token, RBAC user group or IAM authentication: whoever reaches it can use it.", c.id)));
        }
    }
    sort_findings(&mut out);
    out
}

/// `unknown-referenced-group` for `reference`.
pub fn unknown_group(reference: &str, why: &str) -> Finding {
    UNKNOWN_REFERENCED_GROUP.at(
        reference,
        format!("Security group {reference} {why}: the rule that names it lets in nobody known."),
    )
}

/// `nacl-denies-port` for `reference`.
pub fn nacl_denies(reference: &str, acl: &str, port: i64) -> Finding {
    NACL_DENIES_PORT.at(
        reference,
        format!("Network ACL {acl} of the cluster's subnets denies port {port} from {reference}: the security group rule alone does not let it in."),
    )
}

/// Sorted by (id, subject), duplicates removed.
pub fn sort_findings(f: &mut Vec<Finding>) {
    f.sort_by(|a, b| (&a.id, &a.subject, &a.message).cmp(&(&b.id, &b.subject, &b.message)));
    f.dedup_by(|a, b| a.id == b.id && a.subject == b.subject);
}

/// The order of sources: by `on_group`, then the access's own client group (`own_client`, or a
/// reference not known yet: the group this apply creates) first, then `kind`, `reference`,
/// `rule_id` and the port range. A plan can tell this order before the apply names new groups.
pub fn source_order(
    a: &ReachSource,
    b: &ReachSource,
    own_client: Option<&str>,
) -> std::cmp::Ordering {
    let not_own = |s: &ReachSource| {
        !(s.managed && s.kind == "security_group")
            || s.reference
                .as_deref()
                .is_some_and(|r| Some(r) != own_client)
    };
    (
        &a.on_group,
        not_own(a),
        &a.kind,
        &a.reference,
        &a.rule_id,
        a.from_port,
        a.to_port,
    )
        .cmp(&(
            &b.on_group,
            not_own(b),
            &b.kind,
            &b.reference,
            &b.rule_id,
            b.from_port,
            b.to_port,
        ))
}

/// Sorts sources by [`source_order`].
pub fn sort_sources(s: &mut [ReachSource], own_client: Option<&str>) {
    s.sort_by(|a, b| source_order(a, b, own_client));
}

/// The posture's authentication from what a cluster says: IAM wins over a user group, which wins
/// over an AUTH token.
pub fn authentication(iam: bool, user_group: bool, auth_token: bool) -> &'static str {
    match (iam, user_group, auth_token) {
        (true, _, _) => "iam",
        (_, true, _) => "rbac",
        (_, _, true) => "auth_token",
        _ => "none",
    }
}

#[cfg(test)]
#[path = "reach_tests.rs"]
mod tests;
