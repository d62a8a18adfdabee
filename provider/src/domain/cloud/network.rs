//! The network facts `reachability` needs besides security groups, in the core's own terms:
//! network interfaces, a VPC's CIDRs and peering connections, prefix-list entries and network ACLs,
//! and how a network ACL judges traffic to a port.

use ipnet::IpNet;

/// A network interface: which groups it carries, and its addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Eni {
    pub id: String,
    pub subnet_id: String,
    pub addresses: Vec<IpNet>,
    pub groups: Vec<String>,
}

/// A VPC peering connection seen from one of its VPCs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peering {
    pub id: String,
    /// The VPC on the other side, its account and its CIDR blocks.
    pub peer_vpc: String,
    pub peer_owner: String,
    pub peer_cidrs: Vec<IpNet>,
}

/// Where a route sends its traffic, as far as `reachability` cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    TransitGateway(String),
    Peering(String),
    /// Anything else: `local`, an internet or NAT gateway, an instance, a blackhole...
    Other,
}

/// One route of a route table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub destination: IpNet,
    pub target: Target,
}

/// A route table of a VPC: the subnets explicitly associated with it, and whether it is the main
/// table (the one of every subnet without an explicit association).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteTable {
    pub id: String,
    pub main: bool,
    pub subnets: Vec<String>,
    pub routes: Vec<Route>,
}

impl RouteTable {
    /// The route AWS would pick for all of `net`: the longest prefix that contains it.
    fn route_for(&self, net: &IpNet) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|r| r.destination.contains(net))
            .max_by_key(|r| r.destination.prefix_len())
    }
}

/// How traffic between the VPC and a network outside it travels, as the route tables say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hop<'a> {
    /// Through an active peering connection of the VPC.
    Peering(&'a Peering),
    /// Through a transit gateway the VPC has an available attachment to.
    TransitGateway(String),
}

/// A VPC's own CIDR blocks, its active peering connections, the transit gateways it has an
/// available attachment to and its route tables. The last two are None when AWS would not say
/// (access denied): then no source is said to come through a transit gateway.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VpcLinks {
    pub cidrs: Vec<IpNet>,
    pub peerings: Vec<Peering>,
    pub transit_gateways: Option<Vec<String>>,
    pub route_tables: Option<Vec<RouteTable>>,
}

impl VpcLinks {
    /// The peering whose other side holds `net`.
    pub fn peering_of(&self, net: &IpNet) -> Option<&Peering> {
        self.peerings
            .iter()
            .find(|p| p.peer_cidrs.iter().any(|c| c.contains(net)))
    }

    pub fn holds(&self, net: &IpNet) -> bool {
        self.cidrs.iter().any(|c| c.contains(net))
    }

    /// The route tables of `subnets` (each subnet's explicit table, else the main table); every
    /// table of the VPC when no subnet is given. None when the tables could not be read.
    fn tables_for(&self, subnets: &[String]) -> Option<Vec<&RouteTable>> {
        let tables = self.route_tables.as_ref()?;
        if subnets.is_empty() {
            return Some(tables.iter().collect());
        }
        let mut out: Vec<&RouteTable> = Vec::new();
        for s in subnets {
            let t = tables
                .iter()
                .find(|t| t.subnets.contains(s))
                .or_else(|| tables.iter().find(|t| t.main));
            if let Some(t) = t.filter(|t| !out.iter().any(|o| o.id == t.id)) {
                out.push(t);
            }
        }
        Some(out)
    }

    /// The hop every net of `nets` takes from every route table of `subnets`: a route to an active
    /// peering connection, or to a transit gateway the VPC is attached to. None when the tables
    /// disagree, a net has no such route, or the facts are unread.
    pub fn hop(&self, nets: &[IpNet], subnets: &[String]) -> Option<Hop<'_>> {
        let tables = self.tables_for(subnets)?;
        let mut found: Option<Hop<'_>> = None;
        for t in &tables {
            for n in nets {
                let hop = match &t.route_for(n)?.target {
                    Target::Peering(id) => {
                        Hop::Peering(self.peerings.iter().find(|p| &p.id == id)?)
                    }
                    Target::TransitGateway(id) => self
                        .transit_gateways
                        .as_ref()?
                        .contains(id)
                        .then(|| Hop::TransitGateway(id.clone()))?,
                    Target::Other => return None,
                };
                if found.as_ref().is_some_and(|f| f != &hop) {
                    return None;
                }
                found = Some(hop);
            }
        }
        found
    }
}

/// One entry of a network ACL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclEntry {
    pub rule_number: i64,
    pub egress: bool,
    pub allow: bool,
    /// `-1` (all), `6` (TCP), ...
    pub protocol: String,
    /// The port range (None: every port).
    pub ports: Option<(i64, i64)>,
    pub cidr: Option<IpNet>,
}

/// A network ACL, its entries and the subnets it is associated with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkAcl {
    pub id: String,
    pub entries: Vec<AclEntry>,
    /// The subnets associated with it (a VPC's default ACL lists those it holds by default).
    pub subnets: Vec<String>,
}

impl NetworkAcl {
    /// True when the ACL's inbound entries, taken in rule-number order as AWS does, deny TCP `port`
    /// from `from`: the first entry that covers the protocol, the port and the whole of `from`
    /// decides (a network ACL's last entry, `*`, denies what no rule allowed).
    pub fn denies(&self, from: &IpNet, port: i64) -> bool {
        let mut inbound: Vec<&AclEntry> = self.entries.iter().filter(|e| !e.egress).collect();
        inbound.sort_by_key(|e| e.rule_number);
        for e in inbound {
            let proto = e.protocol == "-1" || e.protocol == "6" || e.protocol == "tcp";
            let ports = e.ports.is_none_or(|(lo, hi)| lo <= port && port <= hi);
            let covers = e.cidr.is_some_and(|c| c.contains(from));
            if proto && ports && covers {
                return !e.allow;
            }
        }
        // No entry matched: the default entry (`*`) denies.
        !self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: i64, allow: bool, cidr: &str, ports: Option<(i64, i64)>) -> AclEntry {
        AclEntry {
            rule_number: n,
            egress: false,
            allow,
            protocol: "6".into(),
            ports,
            cidr: cidr.parse().ok(),
        }
    }

    #[test]
    fn the_first_matching_entry_decides_in_rule_number_order() {
        let net: IpNet = "10.1.0.0/24".parse().unwrap();
        let acl = NetworkAcl {
            id: "acl-1".into(),
            entries: vec![
                entry(200, true, "0.0.0.0/0", None),
                entry(100, false, "10.1.0.0/16", Some((6379, 6379))),
            ],
            ..Default::default()
        };
        assert!(acl.denies(&net, 6379));
        assert!(
            !acl.denies(&net, 6380),
            "another port falls to the allow-all"
        );
        let open = NetworkAcl {
            id: "acl-2".into(),
            entries: vec![entry(100, true, "0.0.0.0/0", None)],
            ..Default::default()
        };
        assert!(!open.denies(&net, 6379));
        let shut = NetworkAcl {
            id: "acl-3".into(),
            entries: vec![entry(100, true, "192.168.0.0/16", None)],
            ..Default::default()
        };
        assert!(
            shut.denies(&net, 6379),
            "nothing allows it: the default entry denies"
        );
    }

    fn links(routes: Vec<(&str, Target)>) -> VpcLinks {
        let route = |(d, t): (&str, Target)| Route {
            destination: d.parse().unwrap(),
            target: t,
        };
        VpcLinks {
            cidrs: vec!["10.0.0.0/16".parse().unwrap()],
            peerings: vec![Peering {
                id: "pcx-1".into(),
                peer_vpc: "vpc-p".into(),
                peer_owner: "111122223333".into(),
                peer_cidrs: vec!["10.50.0.0/16".parse().unwrap()],
            }],
            transit_gateways: Some(vec!["tgw-1".into()]),
            route_tables: Some(vec![
                RouteTable {
                    id: "rtb-main".into(),
                    main: true,
                    subnets: vec![],
                    routes: vec![route(("10.0.0.0/16", Target::Other))],
                },
                RouteTable {
                    id: "rtb-a".into(),
                    main: false,
                    subnets: vec!["subnet-a".into()],
                    routes: routes.into_iter().map(route).collect(),
                },
            ]),
        }
    }

    #[test]
    fn the_route_tables_of_the_subnets_decide_the_hop() {
        let tgw = || Target::TransitGateway("tgw-1".into());
        let l = links(vec![
            ("10.0.0.0/8", tgw()),
            ("10.50.0.0/16", Target::Peering("pcx-1".into())),
            ("10.60.0.0/16", Target::TransitGateway("tgw-other".into())),
        ]);
        let net = |s: &str| vec![s.parse::<IpNet>().unwrap()];
        let a = ["subnet-a".to_string()];
        assert_eq!(
            l.hop(&net("10.80.1.0/24"), &a),
            Some(Hop::TransitGateway("tgw-1".into()))
        );
        // the longest prefix wins: the peering, not the transit gateway's /8
        assert_eq!(
            l.hop(&net("10.50.1.0/24"), &a),
            Some(Hop::Peering(&l.peerings[0]))
        );
        // a transit gateway the VPC has no available attachment to carries nothing
        assert_eq!(l.hop(&net("10.60.0.0/24"), &a), None);
        // a subnet without its own table uses the main one, which has no such route
        assert_eq!(l.hop(&net("10.80.1.0/24"), &["subnet-b".into()]), None);
        // two subnets whose tables disagree: no single answer
        assert_eq!(
            l.hop(&net("10.80.1.0/24"), &[a[0].clone(), "subnet-b".into()]),
            None
        );
        // unread attachments never give a transit gateway
        let denied = VpcLinks {
            transit_gateways: None,
            ..l.clone()
        };
        assert_eq!(denied.hop(&net("10.80.1.0/24"), &a), None);
        assert_eq!(
            denied.hop(&net("10.50.1.0/24"), &a),
            Some(Hop::Peering(&l.peerings[0]))
        );
    }
}
