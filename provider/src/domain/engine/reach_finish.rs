//! The facts of each source (account, VPC, path, network interfaces, prefix-list entries) and the
//! findings only AWS's answers reveal (stale groups, network ACLs).

use ipnet::IpNet;

use super::Scope;
use crate::domain::engine::Engine;
use crate::domain::network::VpcLinks;
use crate::domain::reach::{self, Finding, ReachSource, Reachability, REACH_SCHEMA_VERSION};
use crate::domain::reach_plan::cluster_of;

/// What one source lets in, for the network ACL check.
struct Enriched {
    src: ReachSource,
    nets: Vec<IpNet>,
    finding: Option<Finding>,
}

fn path_of(links: Option<&VpcLinks>, nets: &[IpNet], vpc: &str) -> (String, Option<String>) {
    let Some(l) = links else {
        return ("unknown".into(), None);
    };
    if !nets.is_empty() && nets.iter().all(|n| l.holds(n)) {
        return ("same_vpc".into(), Some(vpc.to_string()));
    }
    let peers: Vec<_> = nets.iter().filter_map(|n| l.peering_of(n)).collect();
    match peers.first() {
        Some(p) if peers.len() == nets.len() && peers.iter().all(|q| q.id == p.id) => {
            ("peering".into(), Some(p.peer_vpc.clone()))
        }
        _ => ("unknown".into(), None),
    }
}

impl Engine {
    async fn enrich_group(&self, scope: &Scope<'_>, mut s: ReachSource) -> Enriched {
        let id = s.reference.clone().unwrap_or_default();
        let account = s.account.clone().unwrap_or_else(|| scope.own.to_string());
        s.account = Some(account.clone());
        let links = self.links(scope.vpc).await;
        let mut finding = None;
        let mut vpc = None;
        if scope.local.contains(&id) {
            vpc = Some(scope.vpc.to_string());
        } else if account == scope.own {
            match self.referenced(&id).await {
                Some(Some(g)) => vpc = Some(g.vpc_id),
                Some(None) => finding = Some(reach::unknown_group(&id, "no longer exists")),
                None => finding = Some(reach::unknown_group(&id, "cannot be described")),
            }
        } else {
            // Another account's group: known through a peering with that account, if any.
            let peer = links
                .as_ref()
                .and_then(|l| l.peerings.iter().find(|p| p.peer_owner == account).cloned());
            vpc = peer.map(|p| p.peer_vpc);
        }
        s.path = match (&vpc, &links) {
            (Some(v), _) if v == scope.vpc => "same_vpc".into(),
            (Some(v), Some(l)) if l.peerings.iter().any(|p| &p.peer_vpc == v) => "peering".into(),
            // A group of another VPC referenced without a peering: only a transit gateway with
            // security group referencing carries it.
            (Some(_), Some(_)) if account == scope.own => "transit_gateway".into(),
            _ => "unknown".into(),
        };
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
            path_of(self.links(scope.vpc).await.as_deref(), &nets, scope.vpc)
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
            if let Some(acls) = self.acls(subnets).await {
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
