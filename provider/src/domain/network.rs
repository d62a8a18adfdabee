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

/// A VPC's own CIDR blocks and its active peering connections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VpcLinks {
    pub cidrs: Vec<IpNet>,
    pub peerings: Vec<Peering>,
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

/// A network ACL and its entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkAcl {
    pub id: String,
    pub entries: Vec<AclEntry>,
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
        };
        assert!(acl.denies(&net, 6379));
        assert!(
            !acl.denies(&net, 6380),
            "another port falls to the allow-all"
        );
        let open = NetworkAcl {
            id: "acl-2".into(),
            entries: vec![entry(100, true, "0.0.0.0/0", None)],
        };
        assert!(!open.denies(&net, 6379));
        let shut = NetworkAcl {
            id: "acl-3".into(),
            entries: vec![entry(100, true, "192.168.0.0/16", None)],
        };
        assert!(
            shut.denies(&net, 6379),
            "nothing allows it: the default entry denies"
        );
    }
}
