//! Whether an RBAC user group authenticates with IAM: ElastiCache's IAM authentication works
//! through users whose authentication mode is `iam`, placed in the cluster's user group
//! (<https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html>). A group holds IAM
//! authentication when any of its users has `Authentication.Type` `iam`: DescribeUserGroups gives
//! the group's user ids, DescribeUsers each user's type. The answer is read once per process per
//! group; a denied or failed read answers "not IAM" (the posture says `rbac`) and never fails the read.

use aws_sdk_elasticache::types::AuthenticationType;
use tracing::debug;

use crate::aws::errors::cloud_error;
use crate::aws::Aws;
use crate::domain::cloud::CloudError;

impl Aws {
    /// True when any of the user groups holds a user authenticating with IAM.
    pub(crate) async fn user_groups_use_iam(&self, group_ids: &[String]) -> bool {
        for id in group_ids {
            if self.user_group_uses_iam(id).await {
                return true;
            }
        }
        false
    }

    async fn user_group_uses_iam(&self, id: &str) -> bool {
        let known = {
            let m = self.iam_groups.lock().unwrap_or_else(|p| p.into_inner());
            m.get(id).copied()
        };
        if let Some(iam) = known {
            return iam;
        }
        let iam = match self.read_user_group_iam(id).await {
            Ok(iam) => iam,
            Err(e) => {
                debug!(
                    user_group = id,
                    code = e.code(),
                    "user group not read; reported as rbac"
                );
                false
            }
        };
        let mut m = self.iam_groups.lock().unwrap_or_else(|p| p.into_inner());
        m.insert(id.to_string(), iam);
        iam
    }

    async fn read_user_group_iam(&self, id: &str) -> Result<bool, CloudError> {
        let out = self
            .elasticache
            .describe_user_groups()
            .user_group_id(id)
            .send()
            .await
            .map_err(|e| cloud_error("DescribeUserGroups", e))?;
        let users: Vec<String> = out
            .user_groups()
            .iter()
            .flat_map(|g| g.user_ids().iter().cloned())
            .collect();
        for user in users {
            let out = self
                .elasticache
                .describe_users()
                .user_id(&user)
                .send()
                .await
                .map_err(|e| cloud_error("DescribeUsers", e))?;
            let iam = out.users().iter().any(|u| {
                u.authentication()
                    .and_then(|a| a.r#type())
                    .is_some_and(|t| matches!(t, AuthenticationType::Iam))
            });
            if iam {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
#[path = "user_groups_tests.rs"]
mod tests;
