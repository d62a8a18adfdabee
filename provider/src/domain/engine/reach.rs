//! `reachability` as AWS shows it: for an access (from its state's rules, plus the cluster's other
//! groups), and for any cluster (the data source and the Pulumi invoke).
//!
//! Every fact besides the rules is read once per provider process ([`NetCache`]): the network
//! interfaces of a VPC, its CIDRs and peerings, a prefix list's entries, the network ACLs of a
//! cluster's subnets, and a referenced group's describe. A refresh of N accesses in one VPC
//! therefore adds a handful of calls, not N. A fact AWS does not give is left null and logged; it
//! never fails the read.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;
use tokio::sync::OnceCell;

use crate::domain::cloud::network::{Eni, NetworkAcl, VpcLinks};
use crate::domain::cloud::{CloudError, ClusterInfo, ClusterRef, Group, Rule, Source};
use crate::domain::declaration::desired::Desired;
use crate::domain::declaration::reach::{ReachSource, Reachability};
use crate::domain::engine::Engine;
use crate::domain::planning::state::AccessState;
use crate::domain::types::known;

type Cells<T> = Mutex<BTreeMap<String, Arc<OnceCell<T>>>>;

/// What an apply read for its `reachability` while it wrote ([`Engine::pre_read_reach`]).
pub struct PreRead {
    /// The cluster's groups besides the access's.
    others: BTreeSet<String>,
    port: i64,
    /// The rules on `others` covering `port`.
    rules: Vec<ReachSource>,
}

/// Facts read once per process.
#[derive(Default)]
pub struct NetCache {
    enis: Cells<Arc<Vec<Eni>>>,
    links: Cells<Arc<VpcLinks>>,
    entries: Cells<Arc<Vec<IpNet>>>,
    acls: Cells<Arc<Vec<NetworkAcl>>>,
    groups: Cells<Option<Group>>,
}

async fn cached<T, F, Fut>(cells: &Cells<T>, key: &str, f: F) -> Result<T, CloudError>
where
    T: Clone,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, CloudError>>,
{
    let cell = {
        let mut m = cells.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(key.to_string()).or_default().clone()
    };
    cell.get_or_try_init(f).await.cloned()
}

/// True when the rule lets TCP `port` in.
fn covers(protocol: &str, from: i64, to: i64, port: i64) -> bool {
    protocol == "-1" || (matches!(protocol, "tcp" | "6") && from <= port && port <= to)
}

fn source_of(kind_ref: &Source) -> (String, String, Option<String>) {
    match kind_ref {
        Source::Group { id, owner } => ("security_group".into(), id.clone(), owner.clone()),
        Source::Cidr(n) => ("cidr".into(), n.to_string(), None),
        Source::PrefixList(p) => ("prefix_list".into(), p.clone(), None),
    }
}

/// A source entry from a rule (or a recorded one): kind, reference and account from its source.
fn entry(
    src: &Source,
    on_group: &str,
    rule_id: &str,
    managed: bool,
    range: (&str, i64, i64),
) -> ReachSource {
    let (kind, reference, account) = source_of(src);
    ReachSource {
        kind,
        reference: Some(reference),
        on_group: Some(on_group.to_string()),
        rule_id: Some(rule_id.to_string()),
        managed,
        account,
        path: "unknown".into(),
        protocol: range.0.to_string(),
        from_port: range.1,
        to_port: range.2,
        ..Default::default()
    }
}

/// What [`Engine::finish`] works from.
struct Scope<'a> {
    port: i64,
    vpc: &'a str,
    own: &'a str,
    /// Groups known to be in `vpc` and of `own` (the access's client group).
    local: BTreeSet<String>,
    cluster: Option<&'a ClusterInfo>,
}

impl Scope<'_> {
    /// The cluster's subnets (whose route tables decide a source's path); none without a cluster.
    fn subnets(&self) -> &[String] {
        self.cluster
            .map_or(&[], |c| c.posture.subnet_ids.as_slice())
    }
}

impl Engine {
    fn warn_fact(what: &str, e: &CloudError) {
        tracing::warn!(fact = what, error = %e, "could not read a fact of reachability; it is left null");
    }

    async fn enis(&self, vpc: &str) -> Option<Arc<Vec<Eni>>> {
        if vpc.is_empty() {
            return None;
        }
        self.enis_quiet(vpc)
            .await
            .map_err(|e| Self::warn_fact("network interfaces", &e))
            .ok()
    }

    async fn enis_quiet(&self, vpc: &str) -> Result<Arc<Vec<Eni>>, CloudError> {
        cached(&self.net.enis, vpc, || async {
            self.cloud.network_interfaces_in(vpc).await.map(Arc::new)
        })
        .await
    }

    async fn links(&self, vpc: &str) -> Option<Arc<VpcLinks>> {
        if vpc.is_empty() {
            return None;
        }
        self.links_quiet(vpc)
            .await
            .map_err(|e| Self::warn_fact("VPC CIDRs and peerings", &e))
            .ok()
    }

    async fn links_quiet(&self, vpc: &str) -> Result<Arc<VpcLinks>, CloudError> {
        cached(&self.net.links, vpc, || async {
            self.cloud.vpc_links(vpc).await.map(Arc::new)
        })
        .await
    }

    async fn entries(&self, pl: &str) -> Option<Arc<Vec<IpNet>>> {
        let r = cached(&self.net.entries, pl, || async {
            self.cloud.prefix_list_entries(pl).await.map(Arc::new)
        })
        .await;
        r.map_err(|e| Self::warn_fact("prefix list entries", &e))
            .ok()
    }

    /// The network ACLs of `vpc`, with their subnets.
    async fn acls(&self, vpc: &str) -> Option<Arc<Vec<NetworkAcl>>> {
        if vpc.is_empty() {
            return None;
        }
        self.acls_quiet(vpc)
            .await
            .map_err(|e| Self::warn_fact("network ACLs", &e))
            .ok()
    }

    async fn acls_quiet(&self, vpc: &str) -> Result<Arc<Vec<NetworkAcl>>, CloudError> {
        cached(&self.net.acls, vpc, || async {
            self.cloud.network_acls(vpc).await.map(Arc::new)
        })
        .await
    }

    /// A referenced group of this account: Some(None) when AWS has no such group.
    async fn referenced(&self, id: &str) -> Option<Option<Group>> {
        let r = cached(&self.net.groups, id, || async {
            let ids = [id.to_string()];
            Ok(self
                .cloud
                .describe_security_groups(&ids)
                .await?
                .into_iter()
                .find(|g| g.id == id))
        })
        .await;
        r.map_err(|e| Self::warn_fact("referenced security group", &e))
            .ok()
    }

    /// While an apply of `d` writes, reads what its `reachability` needs besides the access's own
    /// rules, so that none of it waits after the writes: the network facts of its VPC (kept for
    /// the process) and the rules covering the port on the cluster's groups other than `own` (the
    /// access's cluster group before the apply, if any), as they are during the apply. None
    /// without a cluster, or when it cannot be described (the reach then reads them itself).
    pub async fn pre_read_reach(&self, d: &Desired, own: Option<&str>) -> Option<PreRead> {
        let info = self.describe_cluster(known(&d.cluster)?).await.ok()?;
        let port = known(&d.port)
            .map(|p| p.get())
            .or(info.port)
            .unwrap_or(crate::domain::declaration::model::DEFAULT_PORT);
        let port = i64::from(port);
        let vpc = known(&d.vpc_id)
            .map(|v| v.as_str().to_string())
            .or_else(|| info.vpc_id.clone())
            .unwrap_or_default();
        let others: BTreeSet<String> = cluster_groups(&info)
            .into_iter()
            .filter(|g| Some(g.as_str()) != own)
            .collect();
        let list: Vec<String> = others.iter().cloned().collect();
        // the groups and prefix lists the access's rules name (kept for the process)
        let named = d.named_sources();
        let named = futures_util::future::join_all(named.iter().map(|s| async move {
            match s {
                Source::Group { id, owner: None } => {
                    let _ = self.referenced(id).await;
                }
                Source::PrefixList(p) => {
                    let _ = self.entries(p).await;
                }
                _ => {}
            }
        }));
        let (rules, _, _, _, _) = tokio::join!(
            self.rules_of(&list, port),
            self.links(&vpc),
            self.enis(&vpc),
            self.acls(&vpc),
            named
        );
        Some(PreRead {
            others,
            port,
            rules,
        })
    }

    /// Reads the network facts of `prior`'s VPC that [`Engine::observe_reach`] will ask for, so
    /// that a refresh asks them beside its read of the access (one round trip, not two in a row);
    /// kept for the process, the reach after the read finds them. Nothing for an access with no
    /// recorded VPC. A fact that fails is not warned of here: the reach asks it again, and warns.
    pub async fn warm_net(&self, prior: &AccessState) {
        let Some(vpc) = known(&prior.inputs.vpc_id)
            .map(|v| v.as_str().to_string())
            .filter(|v| !v.is_empty())
        else {
            return;
        };
        let acls = async {
            if known(&prior.inputs.cluster).is_some() {
                let _ = self.acls_quiet(&vpc).await;
            }
        };
        let _ = tokio::join!(self.links_quiet(&vpc), self.enis_quiet(&vpc), acls);
    }

    /// `reachability` of an access as AWS shows it now.
    pub async fn observe_reach(&self, st: &AccessState) -> Reachability {
        self.observe_reach_after(st, None).await
    }

    /// [`Engine::observe_reach`] after an apply that read `pre` while it wrote: its rules of the
    /// cluster's other groups serve when those are still the cluster's other groups.
    pub async fn observe_reach_after(
        &self,
        st: &AccessState,
        pre: Option<PreRead>,
    ) -> Reachability {
        let port = known(&st.inputs.port).map_or(
            i64::from(crate::domain::declaration::model::DEFAULT_PORT),
            |p| i64::from(p.get()),
        );
        let cg = st.outputs.cluster_security_group_id.as_str();
        let own = st.outputs.owner_id.as_str();
        let mut sources = Vec::new();
        for (key, rule_id) in &st.outputs.ingress_rule_ids {
            // `<source>` for a rule on the port; `<source> <protocol>/<ports>[ <id>]` for another
            // rule of the access (left over from an interrupted port change).
            let mut parts = key.split_whitespace();
            let src = parts.next().map(parse_key);
            let range = match parts.next() {
                None => Some(("tcp".to_string(), port, port)),
                Some(r) => parse_range(r),
            };
            if let (Some(Ok(src)), Some((proto, from, to))) = (src, range) {
                if covers(&proto, from, to, port) {
                    sources.push(entry(&src, cg, rule_id, true, (&proto, from, to)));
                }
            }
        }
        for r in &st.outputs.unmanaged_ingress {
            if covers(&r.protocol, r.from_port, r.to_port, port) {
                if let Ok(src) = parse_key(&r.source) {
                    sources.push(entry(
                        &src,
                        cg,
                        &r.rule_id,
                        false,
                        (&r.protocol, r.from_port, r.to_port),
                    ));
                }
            }
        }
        let vpc = known(&st.inputs.vpc_id)
            .map(|v| v.as_str().to_string())
            .unwrap_or_default();
        // The facts are asked as soon as what they depend on is known (two round trips, not four
        // in a row): the VPC's facts (the recorded VPC: its CIDRs, peerings, routes, interfaces
        // and network ACLs) beside the cluster, then the rules of the cluster's other groups.
        // `finish` finds them read.
        let cluster = async {
            let info = match known(&st.inputs.cluster) {
                Some(c) => self
                    .peek_cluster(c)
                    .await
                    .map_err(|e| Self::warn_fact("cluster", &e))
                    .ok(),
                None => None,
            };
            let mut rules = Vec::new();
            if let Some(i) = &info {
                let others: Vec<String> =
                    cluster_groups(i).into_iter().filter(|g| g != cg).collect();
                let same = |p: &PreRead| {
                    p.port == port && p.others == others.iter().cloned().collect::<BTreeSet<_>>()
                };
                rules = match pre.filter(same) {
                    Some(p) => p.rules,
                    None => self.rules_of(&others, port).await,
                };
            }
            (info, rules)
        };
        // the network ACLs matter only on a cluster's subnets
        let acl_vpc = if known(&st.inputs.cluster).is_some() {
            vpc.as_str()
        } else {
            ""
        };
        let ((info, rules), _, _, _) = tokio::join!(
            cluster,
            self.links(&vpc),
            self.enis(&vpc),
            self.acls(acl_vpc)
        );
        sources.extend(rules);
        let scope = Scope {
            port,
            vpc: &vpc,
            own,
            local: st
                .outputs
                .client_security_group_id
                .iter()
                .cloned()
                .collect(),
            cluster: info.as_ref(),
        };
        self.finish(&scope, sources).await
    }

    /// `reachability` of any cluster: every rule covering its port on every group it uses.
    /// An audit reads the cluster afresh (not this process's kept describe): a long Pulumi process
    /// may have described it before its groups changed.
    pub async fn cluster_reach(&self, c: &ClusterRef) -> Result<Reachability, CloudError> {
        let i = self.cloud.describe_cluster(c).await?;
        let port = i64::from(
            i.port
                .unwrap_or(crate::domain::declaration::model::DEFAULT_PORT),
        );
        let groups = cluster_groups(&i);
        let described = self.cloud.describe_security_groups(&groups).await?;
        let own = described
            .first()
            .map(|g| g.owner_id.clone())
            .unwrap_or_default();
        let vpc = i
            .vpc_id
            .clone()
            .or_else(|| described.first().map(|g| g.vpc_id.clone()))
            .unwrap_or_default();
        let mut sources = Vec::new();
        let rules = self.cloud.describe_rules(&groups).await?;
        sources.extend(ingress_sources(&rules, port));
        let scope = Scope {
            port,
            vpc: &vpc,
            own: &own,
            local: BTreeSet::new(),
            cluster: Some(&i),
        };
        Ok(self.finish(&scope, sources).await)
    }

    /// Ingress rules covering `port` on `groups` (none of them this access's).
    async fn rules_of(&self, groups: &[String], port: i64) -> Vec<ReachSource> {
        if groups.is_empty() {
            return Vec::new();
        }
        match self.cloud.describe_rules(groups).await {
            Ok(rules) => ingress_sources(&rules, port),
            Err(e) => {
                Self::warn_fact("rules of the cluster's other groups", &e);
                Vec::new()
            }
        }
    }
}

/// Every group any member of the cluster uses, once, in order.
fn cluster_groups(i: &ClusterInfo) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for g in i
        .member_groups
        .iter()
        .flat_map(|(_, g)| g)
        .chain(&i.security_group_ids)
    {
        if !out.contains(g) {
            out.push(g.clone());
        }
    }
    out
}

fn ingress_sources(rules: &[Rule], port: i64) -> Vec<ReachSource> {
    rules
        .iter()
        .filter(|r| !r.is_egress && covers(&r.protocol, r.from_port, r.to_port, port))
        .filter_map(|r| {
            let src = r.source.as_ref()?;
            Some(entry(
                src,
                &r.group_id,
                &r.id,
                false,
                (&r.protocol, r.from_port, r.to_port),
            ))
        })
        .collect()
}

/// `tcp/6379`, `tcp/6379-6380`, `-1/all`: protocol and port range.
fn parse_range(r: &str) -> Option<(String, i64, i64)> {
    let (proto, ports) = r.split_once('/')?;
    let (from, to) = match (ports.parse::<i64>(), ports.split_once('-')) {
        (Ok(p), _) => (p, p),
        (Err(_), Some((a, b))) => (a.parse().ok()?, b.parse().ok()?),
        (Err(_), None) => (-1, -1),
    };
    Some((proto.to_string(), from, to))
}

/// A source key (`sg-...`, `<account>/sg-...`, a CIDR, `pl-...`).
fn parse_key(key: &str) -> Result<Source, ()> {
    if let Some((acct, id)) = key
        .split_once('/')
        .filter(|(a, _)| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
    {
        return Ok(Source::group(id, Some(acct)));
    }
    if key.starts_with("sg-") {
        return Ok(Source::group(key, None));
    }
    if key.starts_with("pl-") {
        return Ok(Source::PrefixList(key.to_string()));
    }
    key.parse::<IpNet>()
        .map(|n| Source::Cidr(n.trunc()))
        .map_err(|_| ())
}

#[path = "reach_finish.rs"]
mod finish;
