//! An in-memory AWS for the engine's tests: security groups, rules and ElastiCache clusters that
//! behave as AWS does where the engine depends on it (a whole revoke refused when one id is gone, a
//! cluster `modifying` for a while after a change, one group name per VPC), a log of every call, and
//! faults: an error returned instead of a call, or after the call took effect (an answer lost on the
//! way back).
//!
//! [`cloud`]: the `Cloud` answers, each logged and subject to its faults; [`signer`]: a fake token
//! signer.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use crate::domain::cloud::{
    AwsTime, Cloud, CloudError, ClusterGroups, ClusterInfo, ClusterKind, ClusterRef, ClustersUsing,
    CreatedGroup, Group, GroupFilter, Holders, Peer, PrefixList, Rule, RuleSpec, Source,
};

pub const ACCOUNT: &str = "123456789012";
/// The Region of the fake cloud.
pub const REGION: &str = "us-east-1";

/// A cluster of the fake Region.
#[derive(Clone, Debug)]
pub struct FakeCluster {
    pub kind: ClusterKind,
    pub vpc_id: String,
    pub port: u16,
    pub engine: String,
    /// Each member's security groups (one member for a cache cluster or serverless cache).
    pub members: Vec<(String, Vec<String>)>,
    /// How many more reads report the cluster as `modifying` (set after each change).
    pub modifying_reads: u32,
    /// For a cache cluster: the replication group it is a member of.
    pub member_of: Option<String>,
}

/// An error the fake returns for one operation.
#[derive(Clone, Debug)]
pub struct Fault {
    pub op: String,
    pub error: CloudError,
    /// Calls of `op` that pass before the fault starts.
    pub skip: u32,
    /// How many calls it fails.
    pub times: u32,
    /// The call takes effect before the error is returned (the answer was lost).
    pub after_effect: bool,
}

#[derive(Default)]
pub struct State {
    pub groups: BTreeMap<String, Group>,
    pub rules: Vec<Rule>,
    pub clusters: BTreeMap<String, FakeCluster>,
    pub log: Vec<String>,
    pub faults: Vec<Fault>,
    /// Reads of a cluster after a change that still report `modifying`.
    pub modifying_after_change: u32,
    /// AuthorizeSecurityGroupIngress answers list only the first rule it made.
    pub short_authorize_answer: bool,
    /// Rule ids authorized but not visible to DescribeSecurityGroupRules for this many reads.
    pub invisible_reads: u32,
    /// Groups of peered VPCs in other accounts: id to account.
    pub peered: BTreeMap<String, String>,
    /// Service Quotas values by quota code (absent: AWS's default, 60 rules, 5 groups).
    pub quotas: BTreeMap<String, u32>,
    /// Managed prefix lists: id to `MaxEntries`.
    pub prefix_lists: BTreeMap<String, u32>,
    /// Active peering connections: own VPC to the other side.
    pub peers: BTreeMap<String, Vec<Peer>>,
    /// Calls that take this long (tokio's clock) before they answer.
    pub slow: BTreeMap<String, std::time::Duration>,
    /// Kinds of cluster the caller may not list (named as `clusters_using` skips them).
    pub unlisted: Vec<String>,
    /// Seconds added to AWS's clock (a test moves AWS's time without waiting).
    pub clock_offset: i64,
    /// Calls of each op in flight now, and the most ever in flight at once (while [`State::slow`]
    /// holds them).
    pub in_flight: BTreeMap<String, usize>,
    pub max_in_flight: BTreeMap<String, usize>,
    /// Hints taught by [`crate::domain::cloud::Cloud::learn_hints`]: cluster id to hints.
    pub learned: BTreeMap<String, crate::domain::cloud::ClusterHints>,
    /// AWS's clock starts here; it runs with tokio's clock (pausable in tests).
    clock_start: Option<(i64, tokio::time::Instant)>,
    next: u32,
}

/// Where the fake AWS's clock starts (Unix seconds).
pub const CLOCK_START: i64 = 1_800_000_000;

/// The fake cloud; clones share one state.
#[derive(Clone, Default)]
pub struct FakeCloud(Arc<Mutex<State>>);

/// A CloudError classified the way `aws::errors` classifies AWS's codes.
pub fn err(code: &str) -> CloudError {
    let (code, message) = (code.to_string(), "injected by the fake cloud".to_string());
    match code.as_str() {
        c if c.ends_with("NotFound") || c.ends_with("NotFoundFault") => {
            CloudError::NotFound { code, message }
        }
        "InvalidPermission.Duplicate" => CloudError::Duplicate { code, message },
        "InvalidGroup.Duplicate" => CloudError::AlreadyExists { code, message },
        "DependencyViolation"
        | "InvalidGroup.InUse"
        | "InvalidReplicationGroupState"
        | "InvalidCacheClusterState" => CloudError::InUse { code, message },
        "RequestLimitExceeded" | "Throttling" | "ThrottlingException" => {
            CloudError::Throttled { code, message }
        }
        c if c.starts_with("Invalid") || c == "UnauthorizedOperation" || c == "AccessDenied" => {
            CloudError::Invalid { code, message }
        }
        _ => CloudError::Other { code, message },
    }
}

impl FakeCloud {
    pub fn new() -> Self {
        let f = FakeCloud::default();
        f.st().modifying_after_change = 2;
        f
    }

    pub fn st(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fails the next `times` calls of `op` with `code`.
    pub fn fail(&self, op: &str, code: &str, times: u32) {
        self.fault(Fault {
            op: op.into(),
            error: err(code),
            skip: 0,
            times,
            after_effect: false,
        });
    }

    /// Fails the calls of `op` after the first `skip` ones pass.
    pub fn fail_after(&self, op: &str, code: &str, skip: u32, times: u32) {
        self.fault(Fault {
            op: op.into(),
            error: err(code),
            skip,
            times,
            after_effect: false,
        });
    }

    /// The next `times` calls of `op` take effect, then answer `code`.
    pub fn lose_answer(&self, op: &str, code: &str, times: u32) {
        self.fault(Fault {
            op: op.into(),
            error: err(code),
            skip: 0,
            times,
            after_effect: true,
        });
    }

    pub fn fault(&self, f: Fault) {
        self.st().faults.push(f);
    }

    pub fn clear_faults(&self) {
        self.st().faults.clear();
    }

    pub fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut self.st().log)
    }

    pub fn count(&self, op: &str) -> usize {
        self.st().log.iter().filter(|o| *o == op).count()
    }

    /// Waits as long as calls of `op` take ([`State::slow`]).
    async fn pause(&self, op: &str) {
        let d = {
            let mut s = self.st();
            let now = {
                let n = s.in_flight.entry(op.to_string()).or_default();
                *n += 1;
                *n
            };
            let most = s.max_in_flight.entry(op.to_string()).or_default();
            *most = (*most).max(now);
            s.slow.get(op).copied()
        };
        if let Some(d) = d {
            tokio::time::sleep(d).await;
        }
        if let Some(n) = self.st().in_flight.get_mut(op) {
            *n = n.saturating_sub(1);
        }
    }

    /// Logs `op`; the error of a fault due now, and whether it applies after the effect.
    fn call(&self, op: &str) -> Result<Option<CloudError>, CloudError> {
        let mut s = self.st();
        s.log.push(op.to_string());
        let Some(f) = s.faults.iter_mut().find(|f| f.op == op && f.times > 0) else {
            return Ok(None);
        };
        if f.skip > 0 {
            f.skip -= 1;
            return Ok(None);
        }
        f.times -= 1;
        if f.after_effect {
            Ok(Some(f.error.clone()))
        } else {
            Err(f.error.clone())
        }
    }

    fn done<T>(late: Option<CloudError>, v: T) -> Result<T, CloudError> {
        match late {
            Some(e) => Err(e),
            None => Ok(v),
        }
    }

    pub fn id(&self, prefix: &str) -> String {
        let mut s = self.st();
        s.next += 1;
        format!("{prefix}-{:017x}", s.next)
    }

    /// AWS's time now: [`CLOCK_START`] plus the tokio time since the fake first told it, plus
    /// [`State::clock_offset`].
    pub fn aws_now(&self) -> i64 {
        let mut s = self.st();
        let (start, at) = *s
            .clock_start
            .get_or_insert_with(|| (CLOCK_START, tokio::time::Instant::now()));
        start + at.elapsed().as_secs() as i64 + s.clock_offset
    }

    /// Moves AWS's clock `secs` forward.
    pub fn advance_clock(&self, secs: i64) {
        self.st().clock_offset += secs;
    }

    /// A group made outside the provider.
    pub fn add_group(&self, vpc: &str, name: &str, tags: &[(&str, &str)]) -> String {
        let id = self.id("sg");
        let tags = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let g = Group {
            id: id.clone(),
            name: name.into(),
            description: format!("made by hand: {name}"),
            vpc_id: vpc.into(),
            owner_id: ACCOUNT.into(),
            tags,
        };
        self.st().groups.insert(id.clone(), g);
        id
    }

    /// A rule made outside the provider.
    pub fn add_rule(
        &self,
        group: &str,
        source: Source,
        port: u16,
        tags: &BTreeMap<String, String>,
    ) -> Rule {
        let r = Rule {
            id: self.id("sgr"),
            group_id: group.to_string(),
            is_egress: false,
            protocol: "tcp".into(),
            from_port: port.into(),
            to_port: port.into(),
            source_text: source.key(),
            source: Some(source),
            description: None,
            tags: tags.clone(),
            owner_id: Some(ACCOUNT.into()),
        };
        self.st().rules.push(r.clone());
        r
    }

    pub fn add_cluster(&self, id: &str, c: FakeCluster) {
        self.st().clusters.insert(id.to_string(), c);
    }

    /// The cluster's groups, member by member.
    pub fn cluster_members(&self, id: &str) -> Vec<(String, Vec<String>)> {
        self.st()
            .clusters
            .get(id)
            .map(|c| c.members.clone())
            .unwrap_or_default()
    }

    pub fn group(&self, id: &str) -> Option<Group> {
        self.st().groups.get(id).cloned()
    }

    /// Ingress rules of `group`: (source, port, description, tags).
    pub fn ingress(&self, group: &str) -> Vec<Rule> {
        self.st()
            .rules
            .iter()
            .filter(|r| r.group_id == group && !r.is_egress)
            .cloned()
            .collect()
    }

    /// (source, port) of `group`'s ingress rules, sorted.
    pub fn ingress_summary(&self, group: &str) -> Vec<(String, i64)> {
        let mut v: Vec<(String, i64)> = self
            .ingress(group)
            .iter()
            .map(|r| (r.source_text.clone(), r.from_port))
            .collect();
        v.sort();
        v
    }

    /// A group by name in any VPC.
    pub fn group_named(&self, name: &str) -> Option<Group> {
        self.st().groups.values().find(|g| g.name == name).cloned()
    }

    fn cluster_id(c: &ClusterRef) -> String {
        match c {
            ClusterRef::ReplicationGroup(i)
            | ClusterRef::CacheCluster(i)
            | ClusterRef::Serverless(i) => i.clone(),
        }
    }

    fn not_found(c: &ClusterRef) -> CloudError {
        err(match c {
            ClusterRef::ReplicationGroup(_) => "ReplicationGroupNotFoundFault",
            ClusterRef::CacheCluster(_) => "CacheClusterNotFound",
            ClusterRef::Serverless(_) => "ServerlessCacheNotFoundFault",
        })
    }

    /// The cluster's status as one read sees it (a read counts down `modifying`).
    fn read_status(s: &mut State, id: &str) -> String {
        match s.clusters.get_mut(id) {
            Some(c) if c.modifying_reads > 0 => {
                c.modifying_reads -= 1;
                "modifying".into()
            }
            _ => "available".into(),
        }
    }

    fn rule_from(&self, group: &str, spec: &RuleSpec, tags: &BTreeMap<String, String>) -> Rule {
        let source = match &spec.source {
            Source::Group { id, owner: None } => {
                Source::group(id, self.st().peered.get(id).map(String::as_str))
            }
            other => other.clone(),
        };
        let mut r = self.add_rule(group, source, spec.port, tags);
        r.description = Some(spec.description.clone()).filter(|d| !d.is_empty());
        let mut s = self.st();
        if let Some(x) = s.rules.iter_mut().find(|x| x.id == r.id) {
            x.description = r.description.clone();
        }
        r
    }
}

mod cloud;
mod signer;

pub use signer::FakeSigner;
