//! The EC2 calls `reachability` needs: network interfaces of a VPC, its CIDRs, peering
//! connections, transit gateway attachments and route tables, prefix-list entries and network
//! ACLs. Each is read once per provider process and
//! per VPC, list or subnet set (the engine caches them), so a refresh of many accesses makes a
//! handful of these calls in all.

use aws_sdk_ec2::types::{RouteState, VpcPeeringConnectionVpcInfo};
use ipnet::IpNet;
use tracing::{debug, warn};

use crate::aws::ec2::filter;
use crate::aws::errors::cloud_error;
use crate::aws::Aws;
use crate::domain::cloud::network::{
    AclEntry, Eni, NetworkAcl, Peering, Route, RouteTable, Target, VpcLinks,
};
use crate::domain::cloud::CloudError;

fn nets<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<IpNet> {
    texts
        .into_iter()
        .filter_map(|t| t.parse::<IpNet>().ok().map(|n| n.trunc()))
        .collect()
}

fn side_cidrs(i: &VpcPeeringConnectionVpcInfo) -> Vec<IpNet> {
    let mut out = nets(i.cidr_block_set().iter().filter_map(|c| c.cidr_block()));
    out.extend(nets(i.cidr_block()));
    out.extend(nets(
        i.ipv6_cidr_block_set()
            .iter()
            .filter_map(|c| c.ipv6_cidr_block()),
    ));
    out.sort();
    out.dedup();
    out
}

/// An optional fact: its value, or None and a warning naming the IAM action it needs.
fn optional<T>(operation: &str, r: Result<T, CloudError>) -> Option<T> {
    r.map_err(|e| {
        warn!(
            operation,
            iam_action = %format!("ec2:{operation}"),
            error = %e,
            "could not read the VPC's transit gateway routing; reachability says `unknown` for \
             sources it would route"
        );
    })
    .ok()
}

fn route_table(t: &aws_sdk_ec2::types::RouteTable) -> RouteTable {
    let routes = t
        .routes()
        .iter()
        .filter_map(|r| {
            let dest = r
                .destination_cidr_block()
                .or(r.destination_ipv6_cidr_block())?;
            let destination = dest.parse::<IpNet>().ok()?.trunc();
            let target = match (r.transit_gateway_id(), r.vpc_peering_connection_id()) {
                _ if r.state() == Some(&RouteState::Blackhole) => Target::Other,
                (Some(tgw), _) => Target::TransitGateway(tgw.to_string()),
                (None, Some(pcx)) => Target::Peering(pcx.to_string()),
                (None, None) => Target::Other,
            };
            Some(Route {
                destination,
                target,
            })
        })
        .collect();
    let assoc = t.associations();
    RouteTable {
        id: t.route_table_id().unwrap_or_default().to_string(),
        main: assoc.iter().any(|a| a.main() == Some(true)),
        subnets: assoc
            .iter()
            .filter_map(|a| a.subnet_id().map(str::to_string))
            .collect(),
        routes,
    }
}

impl Aws {
    pub(crate) async fn ec2_network_interfaces_in(
        &self,
        vpc_id: &str,
    ) -> Result<Vec<Eni>, CloudError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            debug!(operation = "DescribeNetworkInterfaces", vpc_id, "AWS call");
            let page = self
                .ec2
                .describe_network_interfaces()
                .filters(filter("vpc-id", [vpc_id]))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeNetworkInterfaces", e))?;
            for n in page.network_interfaces() {
                let mut addresses = nets(
                    n.private_ip_addresses()
                        .iter()
                        .filter_map(|a| a.private_ip_address())
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .iter()
                        .map(|a| format!("{a}/32"))
                        .collect::<Vec<_>>()
                        .iter()
                        .map(String::as_str),
                );
                addresses.extend(nets(
                    n.ipv6_addresses()
                        .iter()
                        .filter_map(|a| a.ipv6_address())
                        .map(|a| format!("{a}/128"))
                        .collect::<Vec<_>>()
                        .iter()
                        .map(String::as_str),
                ));
                out.push(Eni {
                    id: n.network_interface_id().unwrap_or_default().to_string(),
                    subnet_id: n.subnet_id().unwrap_or_default().to_string(),
                    addresses,
                    groups: n
                        .groups()
                        .iter()
                        .filter_map(|g| g.group_id().map(str::to_string))
                        .collect(),
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(out)
    }

    /// The VPC's CIDRs, peerings, transit gateway attachments and route tables, asked together
    /// (one round trip). The last two are optional facts: a denied or failed describe leaves them
    /// None (no source is then said to come through a transit gateway) and is logged as a warning.
    pub(crate) async fn ec2_vpc_links(&self, vpc_id: &str) -> Result<VpcLinks, CloudError> {
        let (cidrs, peerings, tgws, tables) = tokio::join!(
            self.ec2_vpc_cidrs(vpc_id),
            self.ec2_active_peerings(vpc_id),
            self.ec2_transit_gateways_of(vpc_id),
            self.ec2_route_tables(vpc_id),
        );
        Ok(VpcLinks {
            cidrs: cidrs?,
            peerings: peerings?,
            transit_gateways: optional("DescribeTransitGatewayVpcAttachments", tgws),
            route_tables: optional("DescribeRouteTables", tables),
        })
    }

    async fn ec2_vpc_cidrs(&self, vpc_id: &str) -> Result<Vec<IpNet>, CloudError> {
        debug!(operation = "DescribeVpcs", vpc_id, "AWS call");
        let vpcs = self
            .ec2
            .describe_vpcs()
            .vpc_ids(vpc_id)
            .send()
            .await
            .map_err(|e| cloud_error("DescribeVpcs", e))?;
        let mut cidrs = Vec::new();
        for v in vpcs.vpcs() {
            cidrs.extend(nets(v.cidr_block()));
            cidrs.extend(nets(
                v.cidr_block_association_set()
                    .iter()
                    .filter_map(|a| a.cidr_block()),
            ));
            cidrs.extend(nets(
                v.ipv6_cidr_block_association_set()
                    .iter()
                    .filter_map(|a| a.ipv6_cidr_block()),
            ));
        }
        cidrs.sort();
        cidrs.dedup();
        Ok(cidrs)
    }

    async fn ec2_active_peerings(&self, vpc_id: &str) -> Result<Vec<Peering>, CloudError> {
        let mut peerings = Vec::new();
        let mut token: Option<String> = None;
        loop {
            debug!(
                operation = "DescribeVpcPeeringConnections",
                vpc_id, "AWS call"
            );
            let page = self
                .ec2
                .describe_vpc_peering_connections()
                .filters(filter("status-code", ["active"]))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeVpcPeeringConnections", e))?;
            for p in page.vpc_peering_connections() {
                let (Some(req), Some(acc)) = (p.requester_vpc_info(), p.accepter_vpc_info()) else {
                    continue;
                };
                let other = if req.vpc_id() == Some(vpc_id) {
                    acc
                } else if acc.vpc_id() == Some(vpc_id) {
                    req
                } else {
                    continue;
                };
                peerings.push(Peering {
                    id: p
                        .vpc_peering_connection_id()
                        .unwrap_or_default()
                        .to_string(),
                    peer_vpc: other.vpc_id().unwrap_or_default().to_string(),
                    peer_owner: other.owner_id().unwrap_or_default().to_string(),
                    peer_cidrs: side_cidrs(other),
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        peerings.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(peerings)
    }

    /// The transit gateways this VPC has an `available` attachment to
    /// (DescribeTransitGatewayVpcAttachments, filtered by vpc-id and state).
    async fn ec2_transit_gateways_of(&self, vpc_id: &str) -> Result<Vec<String>, CloudError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            debug!(
                operation = "DescribeTransitGatewayVpcAttachments",
                vpc_id, "AWS call"
            );
            let page = self
                .ec2
                .describe_transit_gateway_vpc_attachments()
                .filters(filter("vpc-id", [vpc_id]))
                .filters(filter("state", ["available"]))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeTransitGatewayVpcAttachments", e))?;
            out.extend(
                page.transit_gateway_vpc_attachments()
                    .iter()
                    .filter_map(|a| a.transit_gateway_id().map(str::to_string)),
            );
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The VPC's route tables (DescribeRouteTables filtered by vpc-id, every page).
    async fn ec2_route_tables(&self, vpc_id: &str) -> Result<Vec<RouteTable>, CloudError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            debug!(operation = "DescribeRouteTables", vpc_id, "AWS call");
            let page = self
                .ec2
                .describe_route_tables()
                .filters(filter("vpc-id", [vpc_id]))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeRouteTables", e))?;
            out.extend(page.route_tables().iter().map(route_table));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    pub(crate) async fn ec2_prefix_list_entries(&self, id: &str) -> Result<Vec<IpNet>, CloudError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            debug!(
                operation = "GetManagedPrefixListEntries",
                prefix_list_id = id,
                "AWS call"
            );
            let page = self
                .ec2
                .get_managed_prefix_list_entries()
                .prefix_list_id(id)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("GetManagedPrefixListEntries", e))?;
            out.extend(nets(page.entries().iter().filter_map(|e| e.cidr())));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// DescribeNetworkAcls of a VPC (one call: without MaxResults EC2 answers every ACL of it),
    /// each with the subnets associated with it.
    pub(crate) async fn ec2_network_acls(
        &self,
        vpc_id: &str,
    ) -> Result<Vec<NetworkAcl>, CloudError> {
        if vpc_id.is_empty() {
            return Ok(Vec::new());
        }
        debug!(operation = "DescribeNetworkAcls", vpc_id, "AWS call");
        let out = self
            .ec2
            .describe_network_acls()
            .filters(filter("vpc-id", [vpc_id.to_string()]))
            .send()
            .await
            .map_err(|e| cloud_error("DescribeNetworkAcls", e))?;
        Ok(out
            .network_acls()
            .iter()
            .map(|a| NetworkAcl {
                id: a.network_acl_id().unwrap_or_default().to_string(),
                subnets: a
                    .associations()
                    .iter()
                    .filter_map(|s| s.subnet_id().map(str::to_string))
                    .collect(),
                entries: a
                    .entries()
                    .iter()
                    .map(|e| AclEntry {
                        rule_number: e.rule_number().map(i64::from).unwrap_or(32767),
                        egress: e.egress().unwrap_or(false),
                        allow: e.rule_action().map(|r| r.as_str()) == Some("allow"),
                        protocol: e.protocol().unwrap_or("-1").to_string(),
                        ports: e
                            .port_range()
                            .and_then(|p| Some((i64::from(p.from()?), i64::from(p.to()?)))),
                        cidr: e
                            .cidr_block()
                            .or(e.ipv6_cidr_block())
                            .and_then(|c| c.parse::<IpNet>().ok()),
                    })
                    .collect(),
            })
            .collect())
    }
}
