//! An in-memory AWS for the engine's tests: security groups, rules and ElastiCache clusters that
//! behave as AWS does where the engine depends on it (a whole revoke refused when one id is gone, a
//! cluster `modifying` for a while after a change, one group name per VPC), a log of every call, and
//! faults: an error returned instead of a call, or after the call took effect (an answer lost on the
//! way back).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use crate::domain::cloud::{
    Cloud, CloudError, ClusterGroups, ClusterInfo, ClusterKind, ClusterRef, CreatedGroup, Group,
    GroupFilter, Holders, Rule, RuleSpec, Source,
};

pub const ACCOUNT: &str = "123456789012";

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
    next: u32,
}

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

fn matches_filter(g: &Group, f: &GroupFilter) -> bool {
    f.vpc_id.as_ref().is_none_or(|v| &g.vpc_id == v)
        && (f.names.is_empty() || f.names.contains(&g.name))
        && f.tags.iter().all(|(k, v)| match v {
            Some(v) => g.tags.get(k) == Some(v),
            None => g.tags.contains_key(k),
        })
}

#[async_trait]
impl Cloud for FakeCloud {
    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        _d: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<CreatedGroup, CloudError> {
        let late = self.call("CreateSecurityGroup")?;
        if self
            .st()
            .groups
            .values()
            .any(|g| g.name == name && g.vpc_id == vpc_id)
        {
            return Err(err("InvalidGroup.Duplicate"));
        }
        let id = self.id("sg");
        let g = Group {
            id: id.clone(),
            name: name.into(),
            vpc_id: vpc_id.into(),
            owner_id: ACCOUNT.into(),
            tags: tags.clone(),
        };
        self.st().groups.insert(id.clone(), g);
        Self::done(
            late,
            CreatedGroup {
                id,
                owner_id: Some(ACCOUNT.into()),
            },
        )
    }

    async fn describe_security_groups(&self, ids: &[String]) -> Result<Vec<Group>, CloudError> {
        let late = self.call("DescribeSecurityGroups")?;
        let s = self.st();
        Self::done(
            late,
            ids.iter()
                .filter_map(|i| s.groups.get(i).cloned())
                .collect(),
        )
    }

    async fn find_security_groups(&self, filter: &GroupFilter) -> Result<Vec<Group>, CloudError> {
        let late = self.call("DescribeSecurityGroups")?;
        let s = self.st();
        Self::done(
            late,
            s.groups
                .values()
                .filter(|g| matches_filter(g, filter))
                .cloned()
                .collect(),
        )
    }

    async fn describe_rules(&self, group_ids: &[String]) -> Result<Vec<Rule>, CloudError> {
        let late = self.call("DescribeSecurityGroupRules")?;
        let mut s = self.st();
        if s.invisible_reads > 0 {
            s.invisible_reads -= 1;
            return Self::done(late, Vec::new());
        }
        Self::done(
            late,
            s.rules
                .iter()
                .filter(|r| group_ids.contains(&r.group_id))
                .cloned()
                .collect(),
        )
    }

    async fn authorize_ingress(
        &self,
        group_id: &str,
        rules: &[RuleSpec],
        tags: &BTreeMap<String, String>,
    ) -> Result<Vec<Rule>, CloudError> {
        let late = self.call("AuthorizeSecurityGroupIngress")?;
        if !self.st().groups.contains_key(group_id) {
            return Err(err("InvalidGroup.NotFound"));
        }
        {
            let s = self.st();
            let missing_source = rules.iter().find_map(|r| match &r.source {
                Source::Group { id, owner: None }
                    if !s.groups.contains_key(id) && !s.peered.contains_key(id) =>
                {
                    Some(id.clone())
                }
                _ => None,
            });
            let dup = rules.iter().any(|spec| {
                s.rules.iter().any(|r| {
                    r.group_id == group_id
                        && r.source.as_ref().is_some_and(|x| x.same_as(&spec.source))
                        && r.is_tcp_port(spec.port)
                })
            });
            if let Some(id) = missing_source {
                // AWS names the missing group in its message.
                return Err(CloudError::NotFound {
                    code: "InvalidGroup.NotFound".into(),
                    message: format!("The security group '{id}' does not exist"),
                });
            }
            if dup {
                return Err(err("InvalidPermission.Duplicate"));
            }
        }
        let mut made: Vec<Rule> = rules
            .iter()
            .map(|spec| self.rule_from(group_id, spec, tags))
            .collect();
        if self.st().short_authorize_answer {
            made.truncate(1);
        }
        Self::done(late, made)
    }

    async fn revoke_ingress(&self, _group: &str, rule_ids: &[String]) -> Result<(), CloudError> {
        let late = self.call("RevokeSecurityGroupIngress")?;
        let mut s = self.st();
        if rule_ids
            .iter()
            .any(|id| !s.rules.iter().any(|r| &r.id == id))
        {
            return Err(err("InvalidPermission.NotFound"));
        }
        s.rules.retain(|r| !rule_ids.contains(&r.id));
        Self::done(late, ())
    }

    async fn update_rule_descriptions(
        &self,
        _group: &str,
        rules: &[(String, RuleSpec)],
    ) -> Result<(), CloudError> {
        let late = self.call("UpdateSecurityGroupRuleDescriptionsIngress")?;
        let mut s = self.st();
        for (id, spec) in rules {
            if let Some(r) = s.rules.iter_mut().find(|r| &r.id == id) {
                r.description = Some(spec.description.clone()).filter(|d| !d.is_empty());
            }
        }
        Self::done(late, ())
    }

    async fn create_tags(
        &self,
        ids: &[String],
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let late = self.call("CreateTags")?;
        let mut s = self.st();
        for id in ids {
            if let Some(g) = s.groups.get_mut(id) {
                g.tags.extend(tags.clone());
            }
            if let Some(r) = s.rules.iter_mut().find(|r| &r.id == id) {
                r.tags.extend(tags.clone());
            }
        }
        Self::done(late, ())
    }

    async fn delete_tags(&self, ids: &[String], keys: &[String]) -> Result<(), CloudError> {
        let late = self.call("DeleteTags")?;
        let mut s = self.st();
        for id in ids {
            if let Some(g) = s.groups.get_mut(id) {
                g.tags.retain(|k, _| !keys.contains(k));
            }
            if let Some(r) = s.rules.iter_mut().find(|r| &r.id == id) {
                r.tags.retain(|k, _| !keys.contains(k));
            }
        }
        Self::done(late, ())
    }

    async fn delete_security_group(&self, group_id: &str) -> Result<(), CloudError> {
        let late = self.call("DeleteSecurityGroup")?;
        let mut s = self.st();
        let referenced = s.rules.iter().any(|r| {
            r.group_id != group_id
                && matches!(&r.source, Some(Source::Group { id, .. }) if id == group_id)
        });
        let attached = s.clusters.values().any(|c| {
            c.members
                .iter()
                .any(|(_, g)| g.iter().any(|x| x == group_id))
        });
        if referenced || attached {
            return Err(err("DependencyViolation"));
        }
        if s.groups.remove(group_id).is_none() {
            return Err(err("InvalidGroup.NotFound"));
        }
        s.rules.retain(|r| r.group_id != group_id);
        Self::done(late, ())
    }

    async fn find_holders(&self, group_id: &str, _vpc: &str) -> Result<Holders, CloudError> {
        self.call("FindHolders")?;
        let s = self.st();
        let referencing_groups = s
            .rules
            .iter()
            .filter(|r| {
                r.group_id != group_id
                    && matches!(&r.source, Some(Source::Group { id, .. }) if id == group_id)
            })
            .map(|r| r.group_id.clone())
            .collect();
        let clusters = s
            .clusters
            .iter()
            .filter(|(_, c)| {
                c.members
                    .iter()
                    .any(|(_, g)| g.iter().any(|x| x == group_id))
            })
            .map(|(k, _)| k.clone())
            .collect();
        Ok(Holders {
            network_interfaces: vec![],
            clusters,
            referencing_groups,
        })
    }

    async fn describe_cluster(&self, c: &ClusterRef) -> Result<ClusterInfo, CloudError> {
        self.call("DescribeCluster")?;
        let id = Self::cluster_id(c);
        let mut s = self.st();
        let status = Self::read_status(&mut s, &id);
        let fc = s
            .clusters
            .get(&id)
            .cloned()
            .ok_or_else(|| Self::not_found(c))?;
        Ok(ClusterInfo {
            kind: fc.kind,
            id: id.clone(),
            vpc_id: Some(fc.vpc_id.clone()),
            port: Some(fc.port),
            endpoint: Some(format!("{id}.cache.example:{}", fc.port)),
            engine: Some(fc.engine.clone()),
            security_group_ids: fc.members.first().map(|m| m.1.clone()).unwrap_or_default(),
            status,
            members: if fc.kind == ClusterKind::ReplicationGroup {
                fc.members.iter().map(|m| m.0.clone()).collect()
            } else {
                vec![]
            },
        })
    }

    async fn cluster_groups(&self, c: &ClusterRef) -> Result<ClusterGroups, CloudError> {
        self.call("ClusterGroups")?;
        let id = Self::cluster_id(c);
        let mut s = self.st();
        let status = Self::read_status(&mut s, &id);
        let fc = s.clusters.get(&id).ok_or_else(|| Self::not_found(c))?;
        Ok(ClusterGroups {
            status,
            members: fc.members.clone(),
        })
    }

    async fn set_cluster_security_groups(
        &self,
        c: &ClusterRef,
        ids: &[String],
    ) -> Result<(), CloudError> {
        let late = self.call("ModifyCluster")?;
        let id = Self::cluster_id(c);
        let mut s = self.st();
        let after = s.modifying_after_change;
        let fc = s.clusters.get_mut(&id).ok_or_else(|| Self::not_found(c))?;
        if fc.modifying_reads > 0 {
            return Err(err("InvalidReplicationGroupState"));
        }
        if ids.is_empty() {
            return Err(err("InvalidParameterValue"));
        }
        for m in &mut fc.members {
            m.1 = ids.to_vec();
        }
        fc.modifying_reads = after;
        Self::done(late, ())
    }

    async fn clusters_using(&self, group_id: &str) -> Result<Vec<ClusterRef>, CloudError> {
        self.call("DescribeAllClusters")?;
        let s = self.st();
        Ok(s.clusters
            .iter()
            .filter(|(_, c)| {
                c.members
                    .iter()
                    .any(|(_, g)| g.iter().any(|x| x == group_id))
            })
            .map(|(id, c)| match c.kind {
                ClusterKind::ReplicationGroup => ClusterRef::ReplicationGroup(id.clone()),
                ClusterKind::CacheCluster => ClusterRef::CacheCluster(id.clone()),
                ClusterKind::Serverless => ClusterRef::Serverless(id.clone()),
            })
            .collect())
    }
}
