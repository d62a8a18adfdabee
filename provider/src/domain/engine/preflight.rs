//! The plan's checks of what AWS would refuse at apply, before any write: prefix lists and client
//! groups that do not exist, peered groups without a peering connection, more inbound rules than the
//! group's quota (at once, or while an update holds old and new rules together), and more security
//! groups on a cluster's nodes than their quota.
//!
//! Each fact is read at most once per process (`Facts`), and only when the plan changes what it
//! bears on: a plan whose inputs did not change makes no call here. A quota is read only when the
//! count exceeds AWS's default (no account has less), so most plans never ask Service Quotas.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::domain::cloud::{CloudError, ClusterInfo, Peer, PrefixList, Source};
use crate::domain::declaration::desired::Desired;
use crate::domain::declaration::value::Value;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::engine::Engine;
use crate::domain::planning::plan::{ClusterFacts, Plan};
use crate::domain::planning::quota::{self, Rules};
use crate::domain::planning::state::AccessState;
use crate::domain::types::{known, ClusterRef, GroupRef, Known};

/// A quota's value, or why it could not be read; read once.
type QuotaCell = Arc<OnceCell<Result<u32, String>>>;

/// Facts read for the plan's checks, once per process.
#[derive(Default)]
pub(crate) struct Facts {
    /// Quota code to its value, or the reason it could not be read.
    quotas: Mutex<BTreeMap<String, QuotaCell>>,
    /// Prefix list id to the list (None: it does not exist).
    lists: tokio::sync::Mutex<BTreeMap<String, Option<PrefixList>>>,
    /// Security group id to whether this account has it.
    groups: tokio::sync::Mutex<BTreeMap<String, bool>>,
    /// VPC to its active peering connections.
    peers: Mutex<BTreeMap<String, Arc<OnceCell<Vec<Peer>>>>>,
    /// Cluster (its tag) to the accesses whose plan in this process attaches a group to it (see
    /// [`Engine::attaches_before`]).
    attaches: Mutex<BTreeMap<String, BTreeSet<String>>>,
}

/// A placeholder for the client group a create makes (only its kind matters to the count).
const NEW_CLIENT: &str = "sg-00000000";

/// Inputs whose change changes the cluster group's rules.
const RULE_INPUTS: [&str; 7] = [
    "port",
    "create_client_security_group",
    "client_security_group_ids",
    "allowed_cidr_blocks",
    "allowed_prefix_list_ids",
    "exclusive_ingress",
    "revoke_before_authorize",
];

/// The path of the element `text` of the list `attr` as written in the configuration.
fn element(config: &Value, attr: &str, text: &str) -> AttrPath {
    let at = config
        .get(attr)
        .as_list()
        .unwrap_or_default()
        .iter()
        .position(|v| v.as_str() == Some(text));
    match at {
        Some(i) => AttrPath::attr(attr).then_index(i),
        None => AttrPath::attr(attr),
    }
}

impl Engine {
    /// The checks of a plan that changes the access; `plan` is the plan computed so far.
    pub async fn preflight(
        &self,
        prior: Option<&AccessState>,
        d: &Desired,
        config: &Value,
        plan: &Plan,
        cluster: &ClusterFacts,
    ) -> Vec<Diagnostic> {
        let fresh = prior.is_none() || plan.replaces();
        let changed = |attrs: &[&str]| {
            fresh
                || plan
                    .changes
                    .iter()
                    .any(|c| attrs.contains(&c.attr.as_str()))
        };
        let rules = async {
            if !changed(&RULE_INPUTS) {
                return Vec::new();
            }
            let prior = prior.filter(|_| !fresh);
            let vpc = plan.planned.get("vpc_id").as_str().map(str::to_string);
            let same_port =
                prior.is_some_and(|p| p.to_value().get("port") == plan.planned.get("port"));
            // concurrent: one round trip for the lists, the groups and (when needed) the quota
            let (exist, fit) = tokio::join!(
                self.sources_exist(prior, d, config, vpc.as_deref()),
                self.rules_fit(prior, d, config, same_port)
            );
            exist.into_iter().chain(fit).collect()
        };
        let slots = async {
            match (
                changed(&["attach_to_cluster", "cluster"]),
                d.attach(),
                cluster,
            ) {
                (true, Known::Known(true), ClusterFacts::Known(info)) => {
                    self.slots_fit(prior, d, config, info, fresh).await
                }
                _ => Vec::new(),
            }
        };
        // the node-slot quota is read beside the rule checks (same round trip)
        let (mut out, slots) = tokio::join!(rules, slots);
        out.extend(slots);
        out
    }

    /// The cluster's nodes have a slot for the access's group, and for the groups of the accesses
    /// planned before it in this process that attach to the same cluster.
    async fn slots_fit(
        &self,
        prior: Option<&AccessState>,
        d: &Desired,
        config: &Value,
        info: &ClusterInfo,
        fresh: bool,
    ) -> Vec<Diagnostic> {
        let own = prior.map(|p| p.outputs.cluster_security_group_id.as_str());
        let own = own.filter(|g| !g.is_empty() && !fresh);
        // already on every member: costs nothing, and takes no slot from the others
        let cluster = match known(&d.cluster) {
            Some(c) if quota::groups_needed(&info.member_groups, own, 0) > 0 => c,
            _ => return Vec::new(),
        };
        let who = prior.map_or_else(|| format!("{config:?}"), |p| p.id().to_string());
        let others = self.attaches_before(cluster, &who);
        // Read even when the count is within AWS's default of 5: an account whose rules per group
        // were raised above 200 has fewer than 5 groups per interface (the product is at most 1000).
        if quota::groups_needed(&info.member_groups, own, others) <= quota::MIN_GROUPS {
            return Vec::new();
        }
        let path = AttrPath::attr("attach_to_cluster");
        let (q, note) = self
            .quota(quota::GROUPS_QUOTA, quota::DEFAULT_GROUPS, path)
            .await;
        note.into_iter()
            .chain(quota::groups_verdict(&info.member_groups, own, others, q))
            .collect()
    }

    /// Records that the access `who` attaches a group to `cluster`, and answers how many other
    /// accesses planned in this process do. Terraform plans a run's resources in one provider
    /// process (Pulumi's preview likewise), so each attach is counted against the slots the earlier
    /// ones take. Keyed by the access (its id, or its configuration before it exists) so that the
    /// same access planned again is counted once; cleared when this process writes the cluster's
    /// groups ([`Engine::forget_cluster`]), whose next describe shows what was written.
    fn attaches_before(&self, cluster: &ClusterRef, who: &str) -> u32 {
        let mut m = self
            .preflight
            .attaches
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let set = m.entry(cluster.tag()).or_default();
        set.insert(who.to_string());
        set.len() as u32 - 1
    }

    /// Forgets the attaches planned against `cluster` (this process changed its groups).
    pub(crate) fn forget_attaches(&self, cluster: &ClusterRef) {
        self.preflight
            .attaches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&cluster.tag());
    }

    /// The prefix lists and client groups the plan adds exist, and each peered group's account has
    /// an active peering connection with the access's VPC.
    async fn sources_exist(
        &self,
        prior: Option<&AccessState>,
        d: &Desired,
        config: &Value,
        vpc: Option<&str>,
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let had = |s: &str| prior.is_some_and(|p| p.outputs.ingress_rule_ids.contains_key(s));
        let new_lists: Vec<String> = known(&d.allowed_prefix_list_ids)
            .map(|l| {
                l.iter()
                    .map(|p| p.as_str().to_string())
                    .filter(|p| !had(p))
                    .collect()
            })
            .unwrap_or_default();
        let own = prior.map(|p| p.outputs.owner_id.as_str()).unwrap_or("");
        let new_groups: Vec<&GroupRef> = known(&d.client_security_group_ids)
            .map(|g| {
                g.iter()
                    .filter(|g| !had(&g.key(own)) && !had(g.id()))
                    .collect()
            })
            .unwrap_or_default();
        let ids: Vec<String> = new_groups.iter().map(|g| g.id().to_string()).collect();
        // every configured list (the count needs them all), concurrently with the groups
        let all_lists: Vec<String> = known(&d.allowed_prefix_list_ids)
            .map(|l| l.iter().map(|p| p.as_str().to_string()).collect())
            .unwrap_or_default();
        let (lists, seen) = tokio::join!(self.lists(&all_lists), self.groups_seen(&ids));
        match lists {
            Ok(found) => out.extend(new_lists.iter().filter(|p| !found.contains_key(*p)).map(|p| Diagnostic::error(element(config, "allowed_prefix_list_ids", p), "Prefix list not found", format!("There is no managed prefix list {p} in this account and Region: AWS would refuse its rule (InvalidPrefixListId.NotFound) after the groups were made. Check the id and the provider's region.")))),
            Err(e) => out.push(unchecked("allowed_prefix_list_ids", "the prefix lists", &e)),
        }
        let seen = match seen {
            Ok(s) => s,
            Err(e) => {
                out.push(unchecked(
                    "client_security_group_ids",
                    "the client security groups",
                    &e,
                ));
                return out;
            }
        };
        for g in new_groups.into_iter().filter(|g| !seen.contains(g.id())) {
            let path = element(config, "client_security_group_ids", g.text());
            match g.account().filter(|a| *a != own) {
                // written without its account, it may still be a group across a peering
                // connection of the VPC: only a VPC without any is sure
                None if self.any_peer(vpc).await => {}
                None => out.push(Diagnostic::error(path, "Client security group not found", format!("There is no security group {} in this account and Region: AWS would refuse its rule (InvalidGroup.NotFound) after the groups were made. Check the id, or write <account id>/{} for a group of a peered account.", g.id(), g.id()))),
                Some(acct) => out.extend(self.peered(vpc, acct, g, path).await),
            }
        }
        out
    }

    /// A group of another account needs an active peering connection between the access's VPC and
    /// one of that account's VPCs.
    async fn peered(
        &self,
        vpc: Option<&str>,
        account: &str,
        g: &GroupRef,
        path: AttrPath,
    ) -> Option<Diagnostic> {
        let vpc = vpc?;
        match self.peers(vpc).await {
            Ok(peers) if peers.iter().any(|p| p.owner_id == account) => None,
            Ok(_) => Some(Diagnostic::error(path, "No peering connection to the group's account", format!("{} is a group of account {account}, but {vpc} has no active VPC peering connection with a VPC of that account: AWS would refuse its rule (InvalidGroup.NotFound) after the groups were made. Create and accept the peering connection first, or remove the group.", g.text()))),
            Err(e) => Some(unchecked("client_security_group_ids", "the VPC peering connections", &e)),
        }
    }

    /// True when `vpc` has an active peering connection (or it cannot be told).
    async fn any_peer(&self, vpc: Option<&str>) -> bool {
        match vpc {
            Some(v) => self.peers(v).await.map_or(true, |p| !p.is_empty()),
            None => true,
        }
    }

    /// The inbound rules fit the quota after the change, and while it authorizes before revoking.
    async fn rules_fit(
        &self,
        prior: Option<&AccessState>,
        d: &Desired,
        config: &Value,
        same_port: bool,
    ) -> Vec<Diagnostic> {
        let Some(rules) = rules_around(prior, d, same_port) else {
            return Vec::new();
        };
        let lists = self.lists(&rules.prefix_lists()).await.unwrap_or_default();
        let t = rules.tally(&lists);
        let path = [
            "allowed_prefix_list_ids",
            "allowed_cidr_blocks",
            "client_security_group_ids",
        ]
        .into_iter()
        .find(|a| config.get(a).as_list().is_some_and(|l| !l.is_empty()))
        .map_or_else(|| AttrPath::attr("allowed_cidr_blocks"), AttrPath::attr);
        let mut out = Vec::new();
        let mut quota = quota::DEFAULT_RULES;
        if t.after.max().max(t.peak.max()) > quota {
            let (q, note) = self.quota(quota::RULES_QUOTA, quota, path.clone()).await;
            quota = q;
            out.extend(note);
        }
        let revoke_first = d.revoke_first() == Known::Known(true) && prior.is_some();
        out.extend(quota::rules_verdict(
            &rules,
            &lists,
            quota,
            revoke_first,
            path,
        ));
        out
    }

    /// Reads the groups-per-interface quota beside the cluster's describe when the plan may take a
    /// node slot (a create or a change of `cluster` that attaches, or `attach_to_cluster` turned
    /// on), so that the slot check finds it read: one round trip less, for at most one call that
    /// the check turns out not to need (the nodes already use the access's group). Its warning, if
    /// any, is the slot check's.
    pub async fn warm_slot_quota(&self, prior: Option<&AccessState>, d: &Desired) {
        let may_attach = d.attach() == Known::Known(true)
            && prior.is_none_or(|p| {
                p.inputs.attach() != Known::Known(true) || p.inputs.cluster != d.cluster
            });
        if may_attach {
            let _ = self.quota_read(quota::GROUPS_QUOTA).await;
        }
    }

    /// The account's value of an Amazon VPC quota, read once per process (a failure too).
    async fn quota_read(&self, code: &str) -> Result<u32, String> {
        let cell = {
            let mut m = self
                .preflight
                .quotas
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            m.entry(code.to_string()).or_default().clone()
        };
        cell.get_or_init(|| async { self.cloud.vpc_quota(code).await.map_err(|e| e.to_string()) })
            .await
            .clone()
    }

    /// The account's value of an Amazon VPC quota, read once per process; AWS's `default` and a
    /// warning when it cannot be read (the caller may not read quotas).
    async fn quota(&self, code: &str, default: u32, path: AttrPath) -> (u32, Option<Diagnostic>) {
        match self.quota_read(code).await {
            Ok(q) => (q, None),
            Err(e) => {
                tracing::warn!(quota = code, error = %e, "could not read the quota; assuming AWS's default");
                (default, Some(Diagnostic::warning(path, "Quota not read: AWS's default assumed", format!("Service Quotas did not answer for quota {code} ({e}), so the plan counts against AWS's default of {default}. Allow servicequotas:GetServiceQuota to have the account's own value used."))))
            }
        }
    }

    /// The prefix lists of `ids` that exist, read once per process (one call for those not read).
    async fn lists(&self, ids: &[String]) -> Result<BTreeMap<String, PrefixList>, CloudError> {
        let mut known = self.preflight.lists.lock().await;
        let missing: Vec<String> = ids
            .iter()
            .filter(|i| !known.contains_key(*i))
            .cloned()
            .collect();
        if !missing.is_empty() {
            let found = self.cloud.prefix_lists(&missing).await?;
            for id in missing {
                let pl = found.iter().find(|p| p.id == id).cloned();
                known.insert(id, pl);
            }
        }
        Ok(ids
            .iter()
            .filter_map(|i| known.get(i).cloned().flatten().map(|p| (i.clone(), p)))
            .collect())
    }

    /// The groups of `ids` this account has, read once per process (one not shown is read again
    /// until the consistency wait ends).
    async fn groups_seen(&self, ids: &[String]) -> Result<BTreeSet<String>, CloudError> {
        let mut known = self.preflight.groups.lock().await;
        let missing: Vec<String> = ids
            .iter()
            .filter(|i| !known.contains_key(*i))
            .cloned()
            .collect();
        if !missing.is_empty() {
            // a group made moments before (by another tool) may not show yet: read again within
            // the consistency wait before calling it missing
            let first = self.cloud.describe_security_groups(&missing).await?;
            let found = self.groups_settled(&missing, first).await?;
            for id in missing {
                let there = found.iter().any(|g| g.id == id);
                known.insert(id, there);
            }
        }
        Ok(ids
            .iter()
            .filter(|i| known.get(*i) == Some(&true))
            .cloned()
            .collect())
    }

    /// The active peering connections of `vpc`, read once per process (a failure is not kept).
    async fn peers(&self, vpc: &str) -> Result<Vec<Peer>, CloudError> {
        let cell = {
            let mut m = self
                .preflight
                .peers
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            m.entry(vpc.to_string()).or_default().clone()
        };
        cell.get_or_try_init(|| self.cloud.active_peers(vpc))
            .await
            .cloned()
    }
}

/// The cluster group's rules around the change: the access's after it, its old ones still there
/// while new ones are authorized (all of them when the port changes), and those made outside it.
/// None while a source is unknown.
fn rules_around(prior: Option<&AccessState>, d: &Desired, same_port: bool) -> Option<Rules> {
    let own = prior.map(|p| p.outputs.owner_id.as_str()).unwrap_or("");
    // the client group the access has, or the one a create makes (only its kind counts)
    let client = (d.create_client() == Known::Known(true)).then(|| {
        prior
            .and_then(|p| p.outputs.client_security_group_id.clone())
            .unwrap_or_else(|| NEW_CLIENT.to_string())
    });
    let Known::Known(after) = d.cluster_sources(client.as_deref(), own) else {
        return None;
    };
    Some(Rules {
        leaving: prior
            .map(|p| {
                p.outputs
                    .ingress_rule_ids
                    .keys()
                    .filter(|k| !same_port || !after.contains_key(*k))
                    .filter_map(|k| Source::from_key(k))
                    .collect()
            })
            .unwrap_or_default(),
        outside: prior
            .map(|p| {
                p.outputs
                    .unmanaged_ingress
                    .iter()
                    .map(|r| {
                        Source::from_key(&r.source).unwrap_or(Source::PrefixList(String::new()))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        after: after.into_values().collect(),
        exclusive: d.exclusive() == Known::Known(true),
    })
}

/// A check that could not be made: a warning, so that a caller without the permission still plans.
fn unchecked(attr: &str, what: &str, e: &CloudError) -> Diagnostic {
    Diagnostic::warning(
        AttrPath::attr(attr),
        "Not checked before apply",
        format!(
            "Could not read {what} to check them before any write ({e}); AWS checks them at apply."
        ),
    )
}

#[cfg(test)]
#[path = "preflight_tests.rs"]
mod tests;
