//! Cancellation reaches calls in flight: every call to the cloud races the operation's cancellation
//! token, so a StopProvider or Pulumi Cancel that arrives while an AWS call is waiting (the SDK's own
//! retries with backoff, a slow answer) ends the operation at once instead of after the call. The
//! abandoned call may still take effect; what it made carries this provider's tags (rules are tagged
//! at creation, groups carry a creation marker), so the next refresh or create finds it.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::domain::cloud::{
    Cloud, CloudError, ClusterGroups, ClusterHints, ClusterInfo, ClusterRef, ClustersUsing,
    CreatedGroup, Group, GroupFilter, Holders, Peer, PrefixList, Rule, RuleSpec,
};

/// A cloud whose calls end with [`CloudError::cancelled`] once `cancel` fires.
pub struct Cancellable {
    inner: Arc<dyn Cloud>,
    cancel: CancellationToken,
}

impl Cancellable {
    pub fn new(inner: Arc<dyn Cloud>, cancel: CancellationToken) -> Self {
        Cancellable { inner, cancel }
    }

    async fn race<T>(
        &self,
        call: impl Future<Output = Result<T, CloudError>>,
    ) -> Result<T, CloudError> {
        if self.cancel.is_cancelled() {
            return Err(CloudError::cancelled());
        }
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(CloudError::cancelled()),
            r = call => r,
        }
    }
}

#[async_trait]
impl Cloud for Cancellable {
    fn region(&self) -> String {
        self.inner.region()
    }

    fn hints_seen(&self, cluster: &ClusterRef) -> Option<ClusterHints> {
        self.inner.hints_seen(cluster)
    }

    fn learn_hints(&self, cluster: &ClusterRef, hints: &ClusterHints) {
        self.inner.learn_hints(cluster, hints)
    }

    fn aws_time(&self) -> Option<crate::domain::cloud::AwsTime> {
        self.inner.aws_time()
    }

    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<CreatedGroup, CloudError> {
        self.race(
            self.inner
                .create_security_group(vpc_id, name, description, tags),
        )
        .await
    }

    async fn describe_security_groups(&self, ids: &[String]) -> Result<Vec<Group>, CloudError> {
        self.race(self.inner.describe_security_groups(ids)).await
    }

    async fn find_security_groups(&self, filter: &GroupFilter) -> Result<Vec<Group>, CloudError> {
        self.race(self.inner.find_security_groups(filter)).await
    }

    async fn describe_rules(&self, group_ids: &[String]) -> Result<Vec<Rule>, CloudError> {
        self.race(self.inner.describe_rules(group_ids)).await
    }

    async fn describe_security_groups_again(
        &self,
        ids: &[String],
    ) -> Result<Vec<Group>, CloudError> {
        self.race(self.inner.describe_security_groups_again(ids))
            .await
    }

    async fn describe_rules_again(&self, group_ids: &[String]) -> Result<Vec<Rule>, CloudError> {
        self.race(self.inner.describe_rules_again(group_ids)).await
    }

    async fn authorize_ingress(
        &self,
        group_id: &str,
        rules: &[RuleSpec],
        tags: &BTreeMap<String, String>,
    ) -> Result<Vec<Rule>, CloudError> {
        self.race(self.inner.authorize_ingress(group_id, rules, tags))
            .await
    }

    async fn revoke_ingress(&self, group_id: &str, rule_ids: &[String]) -> Result<(), CloudError> {
        self.race(self.inner.revoke_ingress(group_id, rule_ids))
            .await
    }

    async fn update_rule_descriptions(
        &self,
        group_id: &str,
        rules: &[(String, RuleSpec)],
    ) -> Result<(), CloudError> {
        self.race(self.inner.update_rule_descriptions(group_id, rules))
            .await
    }

    async fn create_tags(
        &self,
        resource_ids: &[String],
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        self.race(self.inner.create_tags(resource_ids, tags)).await
    }

    async fn delete_tags(
        &self,
        resource_ids: &[String],
        keys: &[String],
    ) -> Result<(), CloudError> {
        self.race(self.inner.delete_tags(resource_ids, keys)).await
    }

    async fn delete_security_group(&self, group_id: &str) -> Result<(), CloudError> {
        self.race(self.inner.delete_security_group(group_id)).await
    }

    async fn find_holders(&self, group_id: &str, vpc_id: &str) -> Result<Holders, CloudError> {
        self.race(self.inner.find_holders(group_id, vpc_id)).await
    }

    async fn describe_cluster(&self, cluster: &ClusterRef) -> Result<ClusterInfo, CloudError> {
        self.race(self.inner.describe_cluster(cluster)).await
    }

    async fn cluster_groups(&self, cluster: &ClusterRef) -> Result<ClusterGroups, CloudError> {
        self.race(self.inner.cluster_groups(cluster)).await
    }

    async fn set_cluster_security_groups(
        &self,
        cluster: &ClusterRef,
        group_ids: &[String],
    ) -> Result<(), CloudError> {
        self.race(self.inner.set_cluster_security_groups(cluster, group_ids))
            .await
    }

    async fn clusters_using(&self, group_id: &str) -> Result<ClustersUsing, CloudError> {
        self.race(self.inner.clusters_using(group_id)).await
    }
    async fn network_interfaces_in(
        &self,
        vpc_id: &str,
    ) -> Result<Vec<crate::domain::cloud::network::Eni>, CloudError> {
        self.race(self.inner.network_interfaces_in(vpc_id)).await
    }

    async fn vpc_links(
        &self,
        vpc_id: &str,
    ) -> Result<crate::domain::cloud::network::VpcLinks, CloudError> {
        self.race(self.inner.vpc_links(vpc_id)).await
    }

    async fn prefix_list_entries(&self, id: &str) -> Result<Vec<ipnet::IpNet>, CloudError> {
        self.race(self.inner.prefix_list_entries(id)).await
    }

    async fn network_acls(
        &self,
        vpc_id: &str,
    ) -> Result<Vec<crate::domain::cloud::network::NetworkAcl>, CloudError> {
        self.race(self.inner.network_acls(vpc_id)).await
    }

    async fn vpc_quota(&self, quota_code: &str) -> Result<u32, CloudError> {
        self.race(self.inner.vpc_quota(quota_code)).await
    }

    async fn prefix_lists(&self, ids: &[String]) -> Result<Vec<PrefixList>, CloudError> {
        self.race(self.inner.prefix_lists(ids)).await
    }

    async fn active_peers(&self, vpc_id: &str) -> Result<Vec<Peer>, CloudError> {
        self.race(self.inner.active_peers(vpc_id)).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::domain::engine::fake::FakeCloud;

    /// A cloud whose every call hangs (an SDK call retrying for a long time).
    struct Hanging;

    #[async_trait]
    impl Cloud for Hanging {
        fn region(&self) -> String {
            "us-east-1".into()
        }
        fn aws_time(&self) -> Option<crate::domain::cloud::AwsTime> {
            None
        }
        async fn create_security_group(
            &self,
            _: &str,
            _: &str,
            _: &str,
            _: &BTreeMap<String, String>,
        ) -> Result<CreatedGroup, CloudError> {
            std::future::pending().await
        }
        async fn describe_security_groups(&self, _: &[String]) -> Result<Vec<Group>, CloudError> {
            std::future::pending().await
        }
        async fn find_security_groups(&self, _: &GroupFilter) -> Result<Vec<Group>, CloudError> {
            std::future::pending().await
        }
        async fn describe_rules(&self, _: &[String]) -> Result<Vec<Rule>, CloudError> {
            std::future::pending().await
        }
        async fn authorize_ingress(
            &self,
            _: &str,
            _: &[RuleSpec],
            _: &BTreeMap<String, String>,
        ) -> Result<Vec<Rule>, CloudError> {
            std::future::pending().await
        }
        async fn revoke_ingress(&self, _: &str, _: &[String]) -> Result<(), CloudError> {
            std::future::pending().await
        }
        async fn update_rule_descriptions(
            &self,
            _: &str,
            _: &[(String, RuleSpec)],
        ) -> Result<(), CloudError> {
            std::future::pending().await
        }
        async fn create_tags(
            &self,
            _: &[String],
            _: &BTreeMap<String, String>,
        ) -> Result<(), CloudError> {
            std::future::pending().await
        }
        async fn delete_tags(&self, _: &[String], _: &[String]) -> Result<(), CloudError> {
            std::future::pending().await
        }
        async fn delete_security_group(&self, _: &str) -> Result<(), CloudError> {
            std::future::pending().await
        }
        async fn find_holders(&self, _: &str, _: &str) -> Result<Holders, CloudError> {
            std::future::pending().await
        }
        async fn describe_cluster(&self, _: &ClusterRef) -> Result<ClusterInfo, CloudError> {
            std::future::pending().await
        }
        async fn cluster_groups(&self, _: &ClusterRef) -> Result<ClusterGroups, CloudError> {
            std::future::pending().await
        }
        async fn set_cluster_security_groups(
            &self,
            _: &ClusterRef,
            _: &[String],
        ) -> Result<(), CloudError> {
            std::future::pending().await
        }
        async fn clusters_using(&self, _: &str) -> Result<ClustersUsing, CloudError> {
            std::future::pending().await
        }
        async fn vpc_quota(&self, _: &str) -> Result<u32, CloudError> {
            std::future::pending().await
        }
        async fn prefix_lists(&self, _: &[String]) -> Result<Vec<PrefixList>, CloudError> {
            std::future::pending().await
        }
        async fn active_peers(&self, _: &str) -> Result<Vec<Peer>, CloudError> {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn a_call_in_flight_ends_when_the_operation_is_cancelled() {
        let cancel = CancellationToken::new();
        let c = Cancellable::new(Arc::new(Hanging), cancel.clone());
        let later = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            later.cancel();
        });
        let started = Instant::now();
        let r = c.delete_security_group("sg-1").await;
        assert!(r.as_ref().is_err_and(CloudError::is_cancelled), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(1));
        // and every later call is refused at once
        let r = c.describe_rules(&["sg-1".into()]).await;
        assert!(r.is_err_and(|e| e.is_cancelled()));
    }

    #[tokio::test]
    async fn calls_pass_through_until_then() {
        let fake = FakeCloud::new();
        let id = fake.add_group("vpc-1", "g", &[]);
        let c = Cancellable::new(Arc::new(fake), CancellationToken::new());
        let groups = c.describe_security_groups(std::slice::from_ref(&id)).await;
        assert_eq!(groups.map(|g| g.len()), Ok(1));
    }
}
