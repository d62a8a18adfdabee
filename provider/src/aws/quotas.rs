//! What the plan reads to know, before any write, what AWS would refuse: the account's Amazon VPC
//! quotas (Service Quotas), managed prefix lists (their `MaxEntries`) and VPC peering connections.

use aws_sdk_ec2::types::VpcPeeringConnection;
use tracing::debug;

use crate::aws::ec2::filter;
use crate::aws::{cloud_error, Aws};
use crate::domain::cloud::{CloudError, Peer, PrefixList};

/// The Service Quotas service code of the Amazon VPC quotas.
const VPC_SERVICE: &str = "vpc";

impl Aws {
    /// GetServiceQuota of an Amazon VPC quota: the account's value (whole numbers).
    pub(crate) async fn sq_vpc_quota(&self, quota_code: &str) -> Result<u32, CloudError> {
        let Some(sq) = &self.servicequotas else {
            return Err(CloudError::Other {
                code: "NoClient".into(),
                message: "no Service Quotas client".into(),
            });
        };
        debug!(operation = "GetServiceQuota", quota_code, "AWS call");
        let out = sq
            .get_service_quota()
            .service_code(VPC_SERVICE)
            .quota_code(quota_code)
            .send()
            .await
            .map_err(|e| cloud_error("GetServiceQuota", e))?;
        out.quota()
            .and_then(|q| q.value())
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| v.min(f64::from(u32::MAX)) as u32)
            .ok_or_else(|| CloudError::Other {
                code: "NoValue".into(),
                message: format!("GetServiceQuota answered no value for {quota_code}"),
            })
    }

    /// DescribeManagedPrefixLists filtered by id (a filter, so that a missing list is absent rather
    /// than failing the whole call), every page.
    pub(crate) async fn ec2_prefix_lists(
        &self,
        ids: &[String],
    ) -> Result<Vec<PrefixList>, CloudError> {
        let mut out = Vec::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut token: Option<String> = None;
        loop {
            debug!(operation = "DescribeManagedPrefixLists", ids = ?ids, "AWS call");
            let page = self
                .ec2
                .describe_managed_prefix_lists()
                .filters(filter("prefix-list-id", ids.iter().cloned()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeManagedPrefixLists", e))?;
            for pl in page.prefix_lists() {
                let Some(id) = pl.prefix_list_id().filter(|id| ids.iter().any(|x| x == id)) else {
                    continue;
                };
                out.push(PrefixList {
                    id: id.to_string(),
                    max_entries: pl.max_entries().unwrap_or(0).max(0) as u32,
                    address_family: pl.address_family().unwrap_or("IPv4").to_string(),
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// DescribeVpcPeeringConnections (status `active`), every page: the other side of each
    /// connection of `vpc_id`.
    pub(crate) async fn ec2_active_peers(&self, vpc_id: &str) -> Result<Vec<Peer>, CloudError> {
        let mut out = Vec::new();
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
            out.extend(
                page.vpc_peering_connections()
                    .iter()
                    .filter_map(|c| other_side(c, vpc_id)),
            );
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }
}

/// The side of an active connection that is not `vpc_id`, when `vpc_id` is one of its two.
fn other_side(c: &VpcPeeringConnection, vpc_id: &str) -> Option<Peer> {
    let active = c
        .status()
        .and_then(|s| s.code())
        .is_some_and(|code| code.as_str() == "active");
    let (req, acc) = (c.requester_vpc_info()?, c.accepter_vpc_info()?);
    let other = match (req.vpc_id(), acc.vpc_id()) {
        (Some(r), _) if r == vpc_id => acc,
        (_, Some(a)) if a == vpc_id => req,
        _ => return None,
    };
    active.then(|| Peer {
        connection_id: c
            .vpc_peering_connection_id()
            .unwrap_or_default()
            .to_string(),
        vpc_id: other.vpc_id().unwrap_or_default().to_string(),
        owner_id: other.owner_id().unwrap_or_default().to_string(),
    })
}
