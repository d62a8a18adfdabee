//! What the core needs from AWS, in the core's own terms.
//!
//! [`Cloud`] is the port to AWS: `aws::Aws` implements it (the only code that talks to EC2 and
//! ElastiCache), and so do fakes in tests. `aws::errors` classifies every AWS error code into a
//! [`CloudError`] kind, so the engine can match on "not found" versus "throttled" versus "still in
//! use" without looking at strings.
//!
//! # Layout
//! - This file: the port ([`Cloud`]), its data types and error kinds.
//! - [`holders`]: what still holds a group that cannot be deleted.
//! - [`network`]: network interfaces, VPCs, peering, prefix lists, network ACLs.
//! - Unit tests: module `tests`, in `cloud_tests.rs`.

pub mod holders;
pub mod network;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use ipnet::IpNet;

pub use crate::domain::cloud::holders::Holders;
pub use crate::domain::cloud::network::{Eni, NetworkAcl, VpcLinks};
pub use crate::domain::types::ClusterRef;

/// The source of an ingress rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// A security group; `owner` is the 12-digit account of a group in a peered VPC of another account.
    Group { id: String, owner: Option<String> },
    /// An IPv4 or IPv6 CIDR block, normalized to its network address.
    Cidr(IpNet),
    /// A managed prefix list.
    PrefixList(String),
}

impl Source {
    /// A security group source.
    pub fn group(id: &str, owner: Option<&str>) -> Source {
        Source::Group {
            id: id.to_string(),
            owner: owner.map(str::to_string),
        }
    }

    /// The key of this source in `ingress_rule_ids` and in user input: `sg-…`, `<account>/sg-…`,
    /// a CIDR block, or `pl-…`.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// The source a key of `ingress_rule_ids` (or a rule's source text) names; None for text that
    /// names none of the three kinds.
    pub fn from_key(key: &str) -> Option<Source> {
        if key.starts_with("pl-") {
            return Some(Source::PrefixList(key.to_string()));
        }
        if let Ok(net) = key.parse::<IpNet>() {
            return Some(Source::Cidr(net.trunc()));
        }
        match key.split_once('/') {
            Some((owner, id)) if id.starts_with("sg-") => Some(Source::group(id, Some(owner))),
            None if key.starts_with("sg-") => Some(Source::group(key, None)),
            _ => None,
        }
    }

    /// The source as AWS reports it on a group owned by `own_account`: a group of that same account
    /// is named without its account (`123456789012/sg-…` there is plain `sg-…`). An empty
    /// `own_account` (not known yet) changes nothing.
    pub fn as_seen_from(&self, own_account: &str) -> Source {
        match self {
            Source::Group { id, owner: Some(o) } if !own_account.is_empty() && o == own_account => {
                Source::Group {
                    id: id.clone(),
                    owner: None,
                }
            }
            other => other.clone(),
        }
    }

    /// True when both name the same source. Security group ids are unique across accounts, so a
    /// group is the same whether or not its account is written.
    pub fn same_as(&self, other: &Source) -> bool {
        match (self, other) {
            (Source::Group { id: a, .. }, Source::Group { id: b, .. }) => a == b,
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Group { id, owner: Some(o) } => write!(f, "{o}/{id}"),
            Source::Group { id, owner: None } => write!(f, "{id}"),
            Source::Cidr(net) => write!(f, "{net}"),
            Source::PrefixList(p) => write!(f, "{p}"),
        }
    }
}

/// An ingress rule to authorize: TCP `port` from `source`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleSpec {
    pub source: Source,
    pub port: u16,
    pub description: String,
}

/// An existing security group rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The `sgr-` id.
    pub id: String,
    pub group_id: String,
    pub is_egress: bool,
    /// `tcp`, `udp`, `icmp`, `-1`, …
    pub protocol: String,
    pub from_port: i64,
    pub to_port: i64,
    /// None for a source this provider does not model.
    pub source: Option<Source>,
    /// The raw source text, for display (also when `source` is None).
    pub source_text: String,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// The account that owns the rule's group, when AWS reported it.
    pub owner_id: Option<String>,
}

impl Rule {
    /// True when the rule opens exactly TCP `port`.
    pub fn is_tcp_port(&self, port: u16) -> bool {
        self.protocol == "tcp"
            && self.from_port == i64::from(port)
            && self.to_port == i64::from(port)
    }
}

/// An existing security group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub name: String,
    /// Set at creation; AWS never lets it change.
    pub description: String,
    pub vpc_id: String,
    pub owner_id: String,
    pub tags: BTreeMap<String, String>,
}

/// AWS's clock, as the `Date` of its answers tells it: `lower` and `upper` bound the current time
/// in AWS's clock (Unix seconds), whatever this machine's clock says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AwsTime {
    pub lower: i64,
    pub upper: i64,
}

/// Which kind of ElastiCache cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterKind {
    ReplicationGroup,
    CacheCluster,
    Serverless,
}

/// What the provider learns about a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterInfo {
    pub kind: ClusterKind,
    pub id: String,
    /// The VPC of its subnet group (or of its subnets, for a serverless cache).
    pub vpc_id: Option<String>,
    /// The port it listens on (its endpoint's port, else the engine's default).
    pub port: Option<u16>,
    /// `address:port` of its primary or configuration endpoint.
    pub endpoint: Option<String>,
    pub engine: Option<String>,
    /// Its security groups, in the order AWS reports them (a replication group's first member's).
    pub security_group_ids: Vec<String>,
    /// Its status as AWS reports it (`available`, `modifying`, `creating`, ...).
    pub status: String,
    /// A replication group's member clusters (empty for the other kinds).
    pub members: Vec<String>,
    /// For a cache cluster: the replication group it is a member of.
    pub replication_group_id: Option<String>,
    /// Each member's security groups, read by member id (a replication group's every member; the
    /// one cluster, or serverless cache, for the other kinds).
    pub member_groups: Vec<(String, Vec<String>)>,
    /// Its transit encryption, authentication and subnets (what `reachability` reports).
    pub posture: Posture,
}

/// What a process saw of a replication group that lets the next look read in one round trip what
/// would take two or three: its members (read by id beside it) and their subnet group (read by
/// name beside it). Hints only: each is checked against what the replication group and its members
/// name, and read again when it proves wrong.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterHints {
    pub members: Vec<String>,
    pub subnet_group: Option<String>,
}

/// A cluster's security posture, as its describe tells it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Posture {
    /// In-transit encryption on; None when AWS does not say.
    pub transit_encryption: Option<bool>,
    /// `none`, `auth_token`, `rbac` or `iam` ([`crate::domain::declaration::reach::authentication`]); None
    /// when AWS does not say.
    pub authentication: Option<String>,
    /// The subnets of its cache subnet group (or the serverless cache's), for network ACLs.
    pub subnet_ids: Vec<String>,
}

impl ClusterInfo {
    /// The security groups the cluster used, member by member, when it was described.
    pub fn groups(&self) -> ClusterGroups {
        ClusterGroups {
            status: self.status.clone(),
            members: self.member_groups.clone(),
        }
    }
}

/// The security groups a cluster uses, member by member, and whether it can be modified now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterGroups {
    /// `available`, `modifying`, ... (a replication group's own status).
    pub status: String,
    /// Each member's (or the one cluster's) security groups, in the order AWS reports them.
    pub members: Vec<(String, Vec<String>)>,
}

impl ClusterGroups {
    pub fn is_available(&self) -> bool {
        self.status.eq_ignore_ascii_case("available")
    }

    /// True when every member uses `group`.
    pub fn has_everywhere(&self, group: &str) -> bool {
        !self.members.is_empty()
            && self
                .members
                .iter()
                .all(|(_, g)| g.iter().any(|x| x == group))
    }

    /// True when some member uses `group`.
    pub fn has_anywhere(&self, group: &str) -> bool {
        self.members
            .iter()
            .any(|(_, g)| g.iter().any(|x| x == group))
    }

    /// The groups every member uses besides those of `changing`, in the first member's order,
    /// when all members agree on them; None when they differ.
    pub fn common_besides(
        &self,
        changing: &std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        let others = |g: &Vec<String>| -> Vec<String> {
            g.iter()
                .filter(|x| !changing.contains(*x))
                .cloned()
                .collect()
        };
        let first = others(&self.members.first()?.1);
        let set = |g: &Vec<String>| g.iter().cloned().collect::<std::collections::BTreeSet<_>>();
        self.members
            .iter()
            .all(|(_, g)| set(&others(g)) == set(&first))
            .then_some(first)
    }

    /// Each member and its groups, for a message.
    pub fn describe_members(&self) -> String {
        self.members
            .iter()
            .map(|(m, g)| format!("{m}: {}", g.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A security group just created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedGroup {
    pub id: String,
    /// The owning account, when the answer carried the group's ARN.
    pub owner_id: Option<String>,
}

/// Which security groups to find.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupFilter {
    pub vpc_id: Option<String>,
    pub names: Vec<String>,
    /// Tag key and value (`None`: any value).
    pub tags: Vec<(String, Option<String>)>,
}

/// A managed prefix list, as a rule that references it costs: its maximum number of entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixList {
    pub id: String,
    pub max_entries: u32,
    /// `IPv4` or `IPv6`.
    pub address_family: String,
}

/// An active VPC peering connection, seen from one of its VPCs: the other side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub connection_id: String,
    pub vpc_id: String,
    pub owner_id: String,
}

/// The clusters found that use a group, and the kinds of cluster that could not be listed (each
/// with AWS's answer), so that the caller can go on without them and say so.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClustersUsing {
    pub clusters: Vec<ClusterRef>,
    pub skipped: Vec<String>,
}

/// An AWS failure, classified by its error code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    /// The object does not exist (or not yet: eventual consistency).
    #[error("{code}: {message}")]
    NotFound { code: String, message: String },
    /// The rule already exists (InvalidPermission.Duplicate).
    #[error("{code}: {message}")]
    Duplicate { code: String, message: String },
    /// A group with that name already exists in the VPC (InvalidGroup.Duplicate).
    #[error("{code}: {message}")]
    AlreadyExists { code: String, message: String },
    /// The object is still in use (DependencyViolation, InvalidGroup.InUse).
    #[error("{code}: {message}")]
    InUse { code: String, message: String },
    /// AWS throttled the call and the SDK's retries ran out (RequestLimitExceeded, Throttling…).
    #[error("{code}: {message}")]
    Throttled { code: String, message: String },
    /// The request was refused as invalid (a malformed id, a rule limit, a bad parameter, access denied).
    #[error("{code}: {message}")]
    Invalid { code: String, message: String },
    /// Anything else: a 5xx, a network failure, an unexpected answer.
    #[error("{code}: {message}")]
    Other { code: String, message: String },
}

impl CloudError {
    pub fn code(&self) -> &str {
        match self {
            CloudError::NotFound { code, .. }
            | CloudError::Duplicate { code, .. }
            | CloudError::AlreadyExists { code, .. }
            | CloudError::InUse { code, .. }
            | CloudError::Throttled { code, .. }
            | CloudError::Invalid { code, .. }
            | CloudError::Other { code, .. } => code,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            CloudError::NotFound { message, .. }
            | CloudError::Duplicate { message, .. }
            | CloudError::AlreadyExists { message, .. }
            | CloudError::InUse { message, .. }
            | CloudError::Throttled { message, .. }
            | CloudError::Invalid { message, .. }
            | CloudError::Other { message, .. } => message,
        }
    }

    /// True for failures worth retrying later: throttling and AWS's or the network's transient
    /// failures (5xx, timeouts, lost connections).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CloudError::Throttled { .. } | CloudError::Other { .. }
        ) && self.code() != CANCELLED
    }

    /// The operation was cancelled (StopProvider, Pulumi's Cancel).
    pub fn cancelled() -> CloudError {
        CloudError::Other {
            code: CANCELLED.into(),
            message: "the operation was cancelled".into(),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.code() == CANCELLED
    }
}

/// Group ids per batched call: a `group-id` filter of at most this many values (EC2 limits the
/// values of one filter; 200 is the conservative figure used here).
pub const MAX_IDS: usize = 200;

/// The code of [`CloudError::cancelled`].
pub const CANCELLED: &str = "Cancelled";

/// The EC2 and ElastiCache operations the engine uses. Every method is one AWS call unless it says
/// otherwise; every list argument is sent in one call (or in as few as AWS's limits allow).
#[async_trait]
pub trait Cloud: Send + Sync {
    /// The Region every call goes to (no AWS call).
    fn region(&self) -> String;

    /// AWS's current time, from the `Date` of the latest answer this process received (no AWS
    /// call); None before the first answer.
    fn aws_time(&self) -> Option<AwsTime>;

    /// CreateSecurityGroup, tagged at creation.
    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<CreatedGroup, CloudError>;

    /// DescribeSecurityGroups by `group-id`: the groups that exist (missing ones are absent, never an
    /// error).
    async fn describe_security_groups(&self, ids: &[String]) -> Result<Vec<Group>, CloudError>;

    /// DescribeSecurityGroups with filters (VPC, group names, tags), every page.
    async fn find_security_groups(&self, filter: &GroupFilter) -> Result<Vec<Group>, CloudError>;

    /// DescribeSecurityGroupRules by `group-id`: ingress and egress rules of these groups.
    async fn describe_rules(&self, group_ids: &[String]) -> Result<Vec<Rule>, CloudError>;

    /// [`Cloud::describe_security_groups`] from a call of its own, never an answer shared with
    /// other reads or kept from before (see [`Cloud::describe_rules_again`]).
    async fn describe_security_groups_again(
        &self,
        ids: &[String],
    ) -> Result<Vec<Group>, CloudError> {
        self.describe_security_groups(ids).await
    }

    /// [`Cloud::describe_rules`] from a call of its own, never an answer shared with other reads
    /// or kept from before: a read again while AWS does not show yet what was made moments before.
    async fn describe_rules_again(&self, group_ids: &[String]) -> Result<Vec<Rule>, CloudError> {
        self.describe_rules(group_ids).await
    }

    /// AuthorizeSecurityGroupIngress of all `rules` in one call, each rule tagged at creation.
    /// Returns the rules AWS reports as created (AWS may list fewer than it made).
    async fn authorize_ingress(
        &self,
        group_id: &str,
        rules: &[RuleSpec],
        tags: &BTreeMap<String, String>,
    ) -> Result<Vec<Rule>, CloudError>;

    /// RevokeSecurityGroupIngress by rule ids, in one call (AWS refuses the whole call when one id
    /// does not exist).
    async fn revoke_ingress(&self, group_id: &str, rule_ids: &[String]) -> Result<(), CloudError>;

    /// UpdateSecurityGroupRuleDescriptionsIngress: sets the description of existing rules, by rule
    /// id, in one call (an empty description removes it).
    async fn update_rule_descriptions(
        &self,
        group_id: &str,
        rules: &[(String, RuleSpec)],
    ) -> Result<(), CloudError>;

    /// CreateTags on security groups and rules.
    async fn create_tags(
        &self,
        resource_ids: &[String],
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError>;

    /// DeleteTags (by key) on security groups and rules.
    async fn delete_tags(&self, resource_ids: &[String], keys: &[String])
        -> Result<(), CloudError>;

    /// DeleteSecurityGroup.
    async fn delete_security_group(&self, group_id: &str) -> Result<(), CloudError>;

    /// What still holds `group_id`: network interfaces, ElastiCache clusters and rules of other
    /// groups in `vpc_id` (several calls; used only to explain a failed delete).
    async fn find_holders(&self, group_id: &str, vpc_id: &str) -> Result<Holders, CloudError>;

    /// The cluster's VPC, port, endpoint, status, members and their security groups (one ElastiCache
    /// call, one per member of a replication group, plus one for the VPC of its subnet group, or
    /// DescribeSubnets for a serverless cache).
    async fn describe_cluster(&self, cluster: &ClusterRef) -> Result<ClusterInfo, CloudError>;

    /// What this process last saw of a replication group that saves a round trip (from a
    /// describe, or taught by [`Cloud::learn_hints`]); None when it saw nothing, or for the other
    /// kinds.
    fn hints_seen(&self, _cluster: &ClusterRef) -> Option<ClusterHints> {
        None
    }

    /// Teaches this process what an earlier one saw of a replication group (an access's private
    /// state): each hint is read beside the replication group and checked against it, never
    /// trusted alone. What this process saw itself is kept.
    fn learn_hints(&self, _cluster: &ClusterRef, _hints: &ClusterHints) {}

    /// The security groups of the cluster, member by member, and its status: one call for a cache
    /// cluster or serverless cache, one plus one per member for a replication group (never a page
    /// through the Region's clusters).
    async fn cluster_groups(&self, cluster: &ClusterRef) -> Result<ClusterGroups, CloudError>;

    /// ModifyReplicationGroup / ModifyCacheCluster / ModifyServerlessCache with these security groups,
    /// applied immediately.
    async fn set_cluster_security_groups(
        &self,
        cluster: &ClusterRef,
        group_ids: &[String],
    ) -> Result<(), CloudError>;

    /// The clusters of the Region that use `group_id` (pages through the Region's clusters: only for
    /// importing an access built by hand). A kind of cluster the caller may not list, or the Region
    /// does not offer (serverless), is skipped and named in [`ClustersUsing::skipped`].
    async fn clusters_using(&self, group_id: &str) -> Result<ClustersUsing, CloudError>;

    /// Service Quotas GetServiceQuota of the Amazon VPC quota `quota_code` (`L-0EA8095F`,
    /// `L-2AFB9258`): the account's value.
    async fn vpc_quota(&self, quota_code: &str) -> Result<u32, CloudError>;

    /// DescribeManagedPrefixLists by `prefix-list-id`: the lists that exist (missing ones are
    /// absent, never an error).
    async fn prefix_lists(&self, ids: &[String]) -> Result<Vec<PrefixList>, CloudError>;

    /// DescribeVpcPeeringConnections: the active connections of `vpc_id`, as their other side.
    async fn active_peers(&self, vpc_id: &str) -> Result<Vec<Peer>, CloudError>;

    /// DescribeNetworkInterfaces of a VPC (every page). The default (fakes): none.
    async fn network_interfaces_in(&self, _vpc_id: &str) -> Result<Vec<Eni>, CloudError> {
        Ok(Vec::new())
    }

    /// DescribeVpcs and DescribeVpcPeeringConnections (active ones): the VPC's CIDRs and peerings.
    async fn vpc_links(&self, _vpc_id: &str) -> Result<VpcLinks, CloudError> {
        Ok(VpcLinks::default())
    }

    /// GetManagedPrefixListEntries (every page).
    async fn prefix_list_entries(&self, _id: &str) -> Result<Vec<IpNet>, CloudError> {
        Ok(Vec::new())
    }

    /// DescribeNetworkAcls of a VPC, with the subnets each is associated with (read by VPC, so that
    /// it can be asked beside the cluster's describe, before the cluster's subnets are known).
    async fn network_acls(&self, _vpc_id: &str) -> Result<Vec<NetworkAcl>, CloudError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
#[path = "cloud_tests.rs"]
mod tests;
