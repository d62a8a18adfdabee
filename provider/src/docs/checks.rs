//! The resource page's section on what the plan checks before any write.

use crate::domain::planning::quota::{DEFAULT_GROUPS, DEFAULT_RULES, GROUPS_QUOTA, RULES_QUOTA};

/// `## Checked at plan time`.
pub fn section() -> String {
    format!(
        "## Checked at plan time\n\n\
         A plan that creates or changes an access fails, before anything is written, when AWS would \
         refuse the apply, and says which numbers and which quota:\n\n\
         - **Inbound rules per security group** (Service Quotas `{RULES_QUOTA}`, AWS's default \
         {DEFAULT_RULES}, counted per address family): a CIDR block counts in its family, a security \
         group reference in both, a prefix list at its `MaxEntries` (not its current size) in its \
         family, and rules added to the cluster group outside the access (`unmanaged_ingress`) \
         count too. The account's value is read once per provider process, and only when the count \
         exceeds AWS's default; a caller that may not call `servicequotas:GetServiceQuota` gets the \
         default and a warning.\n\
         - **Room for an update**: an update authorizes its new rules before it revokes the old \
         ones, so that access never lapses; for a moment the group holds both. When that moment \
         would exceed the quota, the plan fails and says so, unless `revoke_before_authorize = \
         true`: the update then revokes first, and the plan warns of the short gap in access for \
         the sources that change.\n\
         - **Security groups per network interface** (`{GROUPS_QUOTA}`, default {DEFAULT_GROUPS}, \
         adjustable up to 16): with `attach_to_cluster = true`, every node of the cluster must have \
         room for the cluster group (a node that already has it costs nothing), and for the \
         groups of the other accesses planned before it in the same run that attach to the same \
         cluster (Terraform plans a run's resources in one provider process): of two accesses \
         attached to a cluster whose nodes hold 4 groups, the second one's plan fails. An access \
         planned again counts once. The account's value is read (once per provider process) \
         whenever a plan attaches, since it can be below the default: the product of the two \
         quotas is at most 1000, so rules per group raised above 200 leave fewer than 5.\n\
         - **Sources that do not exist**: a prefix list in `allowed_prefix_list_ids` or a group in \
         `client_security_group_ids` that this account and Region do not have, and a group of \
         another account (`<account>/sg-...`) whose account has no active VPC peering connection \
         with the access's VPC.\n\n\
         These checks read only what the change bears on (DescribeManagedPrefixLists, \
         DescribeSecurityGroups, DescribeVpcPeeringConnections, GetServiceQuota), each at most once \
         per provider process; a plan whose inputs did not change makes none of these calls. A \
         check that cannot read what it needs warns and leaves the question to AWS at apply. \
         Apart from the node slots, accesses planned in the same run do not see each other's \
         rules (each has its own cluster group).\n\n\
         An import that cannot list one kind of cluster (for example \
         `elasticache:DescribeServerlessCaches` denied by an older policy, or a Region without \
         ElastiCache Serverless) warns which kind it skipped and imports the rest.\n\n"
    )
}
