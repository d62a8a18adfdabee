//! The facts of each source (account, VPC, path, network interfaces, prefix-list entries) and the
//! findings only AWS's answers reveal (stale groups, network ACLs).

use ipnet::IpNet;

use super::Scope;
use crate::domain::cloud::network::{Hop, NetworkAcl, Peering, VpcLinks};
use crate::domain::declaration::reach::{
    self, Finding, ReachSource, Reachability, REACH_SCHEMA_VERSION,
};
use crate::domain::engine::Engine;
use crate::domain::planning::reach_plan::cluster_of;

/// What one source lets in, for the network ACL check.
struct Enriched {
    src: ReachSource,
    nets: Vec<IpNet>,
    finding: Option<Finding>,
}

/// The path to `nets` (a source's addresses, or a group's VPC CIDRs) and the VPC they are in when
/// known: `same_vpc` when the VPC holds them all; else what the route tables of the cluster's
/// subnets say (a route to an active peering connection whose other side holds them, or to a
/// transit gateway the VPC is attached to); `unknown` otherwise. Unread route tables leave the
/// peering connection alone to decide, and never give `transit_gateway`.
fn path_of(
    links: Option<&VpcLinks>,
    nets: &[IpNet],
    vpc: &str,
    subnets: &[String],
) -> (String, Option<String>) {
    let unknown = ("unknown".to_string(), None);
    let Some(l) = links.filter(|_| !nets.is_empty()) else {
        return unknown;
    };
    if nets.iter().all(|n| l.holds(n)) {
        return ("same_vpc".into(), Some(vpc.to_string()));
    }
    let holds = |p: &Peering| {
        nets.iter()
            .all(|n| p.peer_cidrs.iter().any(|c| c.contains(n)))
    };
    if l.route_tables.is_none() {
        return match l.peering_of(&nets[0]) {
            Some(p) if holds(p) => ("peering".into(), Some(p.peer_vpc.clone())),
            _ => unknown,
        };
    }
    match l.hop(nets, subnets) {
        Some(Hop::Peering(p)) if holds(p) => ("peering".into(), Some(p.peer_vpc.clone())),
        Some(Hop::TransitGateway(_)) => ("transit_gateway".into(), None),
        _ => unknown,
    }
}

/// The path to a group of another VPC, `vpc`, whose CIDRs are `nets`.
fn group_path(links: Option<&VpcLinks>, nets: &[IpNet], vpc: &str, scope: &Scope<'_>) -> String {
    match path_of(links, nets, scope.vpc, scope.subnets()) {
        (p, Some(v)) if p == "peering" && v == vpc => p,
        (p, _) if p == "transit_gateway" => p,
        _ => "unknown".into(),
    }
}

/// Another account's group: in the VPC of a peering with that account; the path is `peering`
/// when the route tables send that VPC's CIDRs through the connection.
fn peer_group(
    links: Option<&VpcLinks>,
    account: &str,
    scope: &Scope<'_>,
) -> (Option<String>, String) {
    let peers: Vec<&Peering> = links
        .map(|l| {
            l.peerings
                .iter()
                .filter(|p| p.peer_owner == account)
                .collect()
        })
        .unwrap_or_default();
    let routed = peers
        .iter()
        .find(|p| group_path(links, &p.peer_cidrs, &p.peer_vpc, scope) == "peering");
    let path = if routed.is_some() {
        "peering"
    } else {
        "unknown"
    };
    let vpc = routed.or(peers.first()).map(|p| p.peer_vpc.clone());
    (vpc, path.to_string())
}

impl Engine {
    async fn enrich_group(&self, scope: &Scope<'_>, mut s: ReachSource) -> Enriched {
        let id = s.reference.clone().unwrap_or_default();
        let account = s.account.clone().unwrap_or_else(|| scope.own.to_string());
        s.account = Some(account.clone());
        let links = self.links(scope.vpc).await;
        let links = links.as_deref();
        let mut finding = None;
        let mut vpc = None;
        let mut path = "unknown".to_string();
        if scope.local.contains(&id) {
            vpc = Some(scope.vpc.to_string());
        } else if account == scope.own {
            match self.referenced(&id).await {
                Some(Some(g)) => vpc = Some(g.vpc_id),
                Some(None) => finding = Some(reach::unknown_group(&id, "no longer exists")),
                None => finding = Some(reach::unknown_group(&id, "cannot be described")),
            }
            if let Some(v) = vpc.as_deref().filter(|v| *v != scope.vpc) {
                // The group's VPC CIDRs: from the peering connection, else from the VPC itself.
                let peer = links.and_then(|l| l.peerings.iter().find(|p| p.peer_vpc == v));
                let nets = match peer {
                    Some(p) => p.peer_cidrs.clone(),
                    None => self
                        .links(v)
                        .await
                        .map(|o| o.cidrs.clone())
                        .unwrap_or_default(),
                };
                path = group_path(links, &nets, v, scope);
            }
        } else {
            (vpc, path) = peer_group(links, &account, scope);
        }
        if vpc.as_deref() == Some(scope.vpc) {
            path = "same_vpc".into();
        }
        s.path = path;
        s.vpc = vpc.clone();
        let mut nets = Vec::new();
        if account == scope.own {
            if let Some(enis) = self.enis(vpc.as_deref().unwrap_or(scope.vpc)).await {
                let carrying: Vec<_> = enis.iter().filter(|e| e.groups.contains(&id)).collect();
                s.network_interfaces = Some(carrying.len() as i64);
                nets = carrying.iter().flat_map(|e| e.addresses.clone()).collect();
            }
        }
        Enriched {
            src: s,
            nets,
            finding,
        }
    }

    async fn enrich(&self, scope: &Scope<'_>, mut s: ReachSource) -> Enriched {
        let reference = s.reference.clone().unwrap_or_default();
        let nets: Vec<IpNet> = match s.kind.as_str() {
            "security_group" => return self.enrich_group(scope, s).await,
            "cidr" => reference.parse().into_iter().collect(),
            _ => match self.entries(&reference).await {
                Some(e) => {
                    s.entries = Some(e.iter().map(ToString::to_string).collect());
                    e.to_vec()
                }
                None => Vec::new(),
            },
        };
        s.public = nets.iter().any(|n| !reach::is_private(n));
        (s.path, s.vpc) = if s.public {
            ("unknown".into(), None)
        } else {
            let links = self.links(scope.vpc).await;
            path_of(links.as_deref(), &nets, scope.vpc, scope.subnets())
        };
        Enriched {
            src: s,
            nets,
            finding: None,
        }
    }

    /// Fills each source's facts and derives every finding.
    pub(super) async fn finish(
        &self,
        scope: &Scope<'_>,
        sources: Vec<ReachSource>,
    ) -> Reachability {
        // The VPC's facts every source needs, asked together (one round trip, not three in a row,
        // for the first access of a run; later ones find them read).
        let _ = tokio::join!(self.links(scope.vpc), self.enis(scope.vpc));
        let mut enriched = Vec::with_capacity(sources.len());
        for s in sources {
            enriched.push(self.enrich(scope, s).await);
        }
        let cluster = scope.cluster.map(cluster_of);
        let mut sources: Vec<ReachSource> = enriched.iter().map(|e| e.src.clone()).collect();
        let own_client = scope.local.iter().next().map(String::as_str);
        reach::sort_sources(&mut sources, own_client);
        let mut findings = reach::findings(scope.port, &sources, cluster.as_ref());
        findings.extend(enriched.iter().filter_map(|e| e.finding.clone()));
        if let Some(subnets) = scope
            .cluster
            .map(|c| &c.posture.subnet_ids)
            .filter(|s| !s.is_empty())
        {
            if let Some(acls) = self.acls(scope.vpc).await {
                // the ACLs of the cluster's subnets
                let acls: Vec<&NetworkAcl> = acls
                    .iter()
                    .filter(|a| a.subnets.iter().any(|s| subnets.contains(s)))
                    .collect();
                for e in &enriched {
                    let denied = acls
                        .iter()
                        .find(|a| e.nets.iter().any(|n| a.denies(n, scope.port)));
                    if let (Some(a), Some(r)) = (denied, e.src.reference.as_deref()) {
                        findings.push(reach::nacl_denies(r, &a.id, scope.port));
                    }
                }
            }
        }
        reach::sort_findings(&mut findings);
        Reachability {
            schema_version: REACH_SCHEMA_VERSION,
            port: scope.port,
            sources,
            cluster,
            findings,
        }
    }
}
