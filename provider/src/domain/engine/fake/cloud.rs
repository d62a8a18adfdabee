//! The fake cloud's answers to the engine: [`Cloud`] for [`FakeCloud`], each call logged and subject
//! to the faults set on it.

use super::*;
use crate::domain::cloud::ClusterHints;

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
    fn region(&self) -> String {
        REGION.to_string()
    }

    fn aws_time(&self) -> Option<AwsTime> {
        let now = self.aws_now();
        Some(AwsTime {
            lower: now,
            upper: now + 1,
        })
    }

    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<CreatedGroup, CloudError> {
        self.pause("CreateSecurityGroup").await;
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
            description: description.into(),
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
        self.pause("DescribeSecurityGroups").await;
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
        self.pause("DescribeSecurityGroups").await;
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
        self.pause("DescribeSecurityGroupRules").await;
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
        self.pause("AuthorizeSecurityGroupIngress").await;
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
        self.pause("RevokeSecurityGroupIngress").await;
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
        self.pause("UpdateSecurityGroupRuleDescriptionsIngress")
            .await;
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
        self.pause("CreateTags").await;
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
        self.pause("DeleteTags").await;
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
        self.pause("DeleteSecurityGroup").await;
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
        self.pause("FindHolders").await;
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
        self.pause("DescribeCluster").await;
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
            replication_group_id: fc.member_of.clone(),
            member_groups: fc.members.clone(),
            posture: Default::default(),
        })
    }

    fn hints_seen(&self, c: &ClusterRef) -> Option<ClusterHints> {
        let s = self.st();
        let fc = s.clusters.get(&Self::cluster_id(c))?;
        matches!(c, ClusterRef::ReplicationGroup(_)).then(|| ClusterHints {
            members: fc.members.iter().map(|(m, _)| m.clone()).collect(),
            subnet_group: None,
        })
    }

    fn learn_hints(&self, c: &ClusterRef, hints: &ClusterHints) {
        let mut s = self.st();
        s.log
            .push(format!("LearnMembers {}", hints.members.join(",")));
        s.learned.insert(Self::cluster_id(c), hints.clone());
    }

    async fn cluster_groups(&self, c: &ClusterRef) -> Result<ClusterGroups, CloudError> {
        self.pause("ClusterGroups").await;
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
        self.pause("ModifyCluster").await;
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

    async fn vpc_quota(&self, quota_code: &str) -> Result<u32, CloudError> {
        self.pause("GetServiceQuota").await;
        self.call("GetServiceQuota")?;
        let default = if quota_code == "L-2AFB9258" { 5 } else { 60 };
        Ok(self.st().quotas.get(quota_code).copied().unwrap_or(default))
    }

    async fn network_interfaces_in(
        &self,
        _vpc_id: &str,
    ) -> Result<Vec<crate::domain::cloud::network::Eni>, CloudError> {
        self.pause("DescribeNetworkInterfaces").await;
        self.call("DescribeNetworkInterfaces")?;
        Ok(Vec::new())
    }

    async fn prefix_lists(&self, ids: &[String]) -> Result<Vec<PrefixList>, CloudError> {
        self.pause("DescribeManagedPrefixLists").await;
        self.call("DescribeManagedPrefixLists")?;
        let s = self.st();
        Ok(ids
            .iter()
            .filter_map(|id| {
                s.prefix_lists.get(id).map(|m| PrefixList {
                    id: id.clone(),
                    max_entries: *m,
                    address_family: "IPv4".into(),
                })
            })
            .collect())
    }

    async fn active_peers(&self, vpc_id: &str) -> Result<Vec<Peer>, CloudError> {
        self.pause("DescribeVpcPeeringConnections").await;
        self.call("DescribeVpcPeeringConnections")?;
        let s = self.st();
        let mut out = s.peers.get(vpc_id).cloned().unwrap_or_default();
        // a group of `peered` is reachable: its account has a connection
        out.extend(s.peered.values().map(|acct| Peer {
            connection_id: format!("pcx-{acct}"),
            vpc_id: format!("vpc-of-{acct}"),
            owner_id: acct.clone(),
        }));
        Ok(out)
    }

    async fn clusters_using(&self, group_id: &str) -> Result<ClustersUsing, CloudError> {
        self.pause("DescribeAllClusters").await;
        self.call("DescribeAllClusters")?;
        let s = self.st();
        let clusters = s
            .clusters
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
            .collect();
        Ok(ClustersUsing {
            clusters,
            skipped: s.unlisted.clone(),
        })
    }
}
