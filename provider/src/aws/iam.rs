//! The IAM actions this provider calls: the docs turn the list into the provider's IAM policy, and
//! a test keeps it equal to the SDK operations the `aws` module calls.

/// Every AWS API action the `aws` module calls, as IAM actions.
pub const IAM_ACTIONS: &[&str] = &[
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateSecurityGroup",
    "ec2:CreateTags",
    "ec2:DeleteSecurityGroup",
    "ec2:DeleteTags",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeManagedPrefixLists",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeTransitGatewayVpcAttachments",
    "ec2:DescribeVpcPeeringConnections",
    "ec2:DescribeVpcs",
    "ec2:GetManagedPrefixListEntries",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
    "elasticache:DescribeCacheClusters",
    "elasticache:DescribeCacheSubnetGroups",
    "elasticache:DescribeReplicationGroups",
    "elasticache:DescribeServerlessCaches",
    "elasticache:DescribeUserGroups",
    "elasticache:DescribeUsers",
    "elasticache:ModifyCacheCluster",
    "elasticache:ModifyReplicationGroup",
    "elasticache:ModifyServerlessCache",
    "servicequotas:GetServiceQuota",
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Every fluent builder `.verb_noun()` taking no argument in the module's non-test code.
    #[test]
    fn iam_actions_match_the_calls_made() {
        let sources = [
            include_str!("ec2.rs"),
            include_str!("elasticache.rs"),
            include_str!("members.rs"),
            include_str!("mod.rs"),
            include_str!("connect.rs"),
            include_str!("network.rs"),
            include_str!("quotas.rs"),
            include_str!("user_groups.rs"),
        ];
        let verbs = [
            "describe_",
            "create_",
            "delete_",
            "modify_",
            "authorize_",
            "revoke_",
            "update_",
            "get_managed_",
            "get_service_",
        ];
        let mut called = BTreeSet::new();
        for src in sources {
            let code = src.split("#[cfg(test)]").next().unwrap_or_default();
            for piece in code.split('.').skip(1) {
                let Some(op) = piece
                    .strip_suffix("()")
                    .or_else(|| piece.split_once("()").map(|(a, _)| a))
                else {
                    continue;
                };
                if op.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    && verbs.iter().any(|v| op.starts_with(v))
                {
                    called.insert(pascal(op));
                }
            }
        }
        let listed: BTreeSet<String> = super::IAM_ACTIONS
            .iter()
            .filter_map(|s| s.split_once(':').map(|(_, a)| a.to_string()))
            .collect();
        assert_eq!(called, listed);
    }

    fn pascal(snake: &str) -> String {
        snake
            .split('_')
            .map(|p| {
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect()
    }
}
