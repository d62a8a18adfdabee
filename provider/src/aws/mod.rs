//! The only code that talks to AWS: [`Aws`] implements the core's [`Cloud`] port with the EC2 and
//! ElastiCache SDKs and its [`TokenSigner`] port with `aws-sigv4`, and [`AwsConnector`] makes one
//! from the provider's settings.
//!
//! - [`connect`]: the clients from the settings and the standard AWS chain;
//! - [`clock`]: AWS's clock, from the `Date` header of its answers (for the creation leases);
//! - [`errors`]: AWS's error codes classified in one table;
//! - [`ec2`], [`elasticache`]: the calls, each logged at debug level with its operation name and
//!   resource ids (never credentials);
//! - [`members`]: a replication group's members and their subnet group, read beside it when the
//!   process knows them (or their likely names) and checked against it;
//! - [`census`]: one page of the Region's cache clusters and subnet groups, read once per process
//!   beside the first describe of a replication group it knows nothing of;
//! - [`network`]: the EC2 reads `reachability` needs (network interfaces, VPC CIDRs and peering,
//!   prefix-list entries, network ACLs);
//! - [`iam`]: the IAM actions those calls need;
//! - [`iam_token`]: IAM auth tokens, presigned with the same credentials (no AWS call);
//! - [`quotas`]: what the plan's checks read: Service Quotas, managed prefix lists, VPC peering.
//! - [`user_groups`]: whether a cluster's RBAC user group authenticates with IAM (read once per
//!   process per group).
//!
//! Throttling and transient failures are retried by the SDK's adaptive retry mode (up to
//! `max_retries` attempts, jittered exponential backoff), whose client-side rate limiter is one per
//! service and Region in the process (the SDK keeps it in a process-wide map keyed by the retry
//! partition), so every concurrent operation of a run slows down together when AWS throttles; what
//! survives the retries is classified by its AWS error code.

pub mod census;
pub mod clock;
pub mod connect;
pub mod ec2;
pub mod elasticache;
pub mod errors;
pub mod iam;
pub mod iam_token;
pub mod members;
pub mod network;
pub mod quotas;
pub mod user_groups;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use aws_types::SdkConfig;

use crate::domain::cloud::{
    Cloud, CloudError, ClusterGroups, ClusterHints, ClusterInfo, ClusterRef, ClustersUsing,
    CreatedGroup, Group, GroupFilter, Holders, Peer, PrefixList, Rule, RuleSpec,
};
use crate::domain::declaration::settings::AwsSettings;
use crate::domain::diag::Diagnostic;
use crate::domain::service::auth_token::{Signed, TokenRequest, TokenSigner};
use crate::domain::service::{Connected, Connector};

pub use errors::cloud_error;
pub use iam::IAM_ACTIONS;
pub use iam_token::TokenSigning;

/// EC2 and ElastiCache clients for one Region and one set of credentials, and the signer of IAM
/// auth tokens with those credentials.
#[derive(Clone, Debug)]
pub struct Aws {
    pub(crate) ec2: aws_sdk_ec2::Client,
    pub(crate) elasticache: aws_sdk_elasticache::Client,
    /// Service Quotas (the plan's quota checks); None for clients built without one.
    pub(crate) servicequotas: Option<aws_sdk_servicequotas::Client>,
    /// AWS's clock, from the `Date` of the answers (fed by the clients built here).
    clock: clock::AwsClock,
    pub(crate) signing: TokenSigning,
    /// The members of each replication group and their subnet group as last described by this
    /// process (or learned): read beside the replication group (see `members.rs`).
    pub(crate) members: Arc<std::sync::Mutex<BTreeMap<String, ClusterHints>>>,
    /// One page of the Region's cache clusters and subnet groups, taken once (`census.rs`).
    pub(crate) census: Arc<tokio::sync::OnceCell<Option<census::Census>>>,
    /// Whether each RBAC user group read by this process holds an IAM user (`user_groups`).
    pub(crate) iam_groups: Arc<std::sync::Mutex<BTreeMap<String, bool>>>,
}

impl Aws {
    /// Wraps clients built elsewhere (tests build them with mocks); such an `Aws` has no
    /// credentials to sign tokens with.
    pub fn from_clients(ec2: aws_sdk_ec2::Client, elasticache: aws_sdk_elasticache::Client) -> Aws {
        let region = elasticache.config().region().map(ToString::to_string);
        Aws {
            ec2,
            elasticache,
            servicequotas: None,
            clock: clock::AwsClock::default(),
            signing: TokenSigning::new(None, region),
            members: Default::default(),
            census: Default::default(),
            iam_groups: Default::default(),
        }
    }

    /// Builds the clients from a loaded SDK configuration, with optional per-service endpoint
    /// overrides. Without an override each SDK applies AWS_ENDPOINT_URL_EC2 /
    /// AWS_ENDPOINT_URL_ELASTICACHE / AWS_ENDPOINT_URL_SERVICE_QUOTAS, then AWS_ENDPOINT_URL (and
    /// the profile's `endpoint_url`), itself.
    pub fn from_sdk_config(
        sdk: &SdkConfig,
        ec2_endpoint: Option<&str>,
        elasticache_endpoint: Option<&str>,
        servicequotas_endpoint: Option<&str>,
    ) -> Aws {
        let clock = clock::AwsClock::default();
        let mut ec2 = aws_sdk_ec2::config::Builder::from(sdk).interceptor(clock.interceptor());
        if let Some(url) = ec2_endpoint {
            ec2 = ec2.endpoint_url(url);
        }
        let mut elasticache =
            aws_sdk_elasticache::config::Builder::from(sdk).interceptor(clock.interceptor());
        if let Some(url) = elasticache_endpoint {
            elasticache = elasticache.endpoint_url(url);
        }
        let mut aws = Aws::from_clients(
            aws_sdk_ec2::Client::from_conf(ec2.build()),
            aws_sdk_elasticache::Client::from_conf(elasticache.build()),
        );
        let mut sq = aws_sdk_servicequotas::config::Builder::from(sdk);
        if let Some(url) = servicequotas_endpoint {
            sq = sq.endpoint_url(url);
        }
        aws.servicequotas = Some(aws_sdk_servicequotas::Client::from_conf(sq.build()));
        aws.clock = clock;
        aws.signing = TokenSigning::new(
            sdk.credentials_provider(),
            sdk.region().map(ToString::to_string),
        );
        aws
    }

    /// The Region the clients talk to.
    pub fn region(&self) -> Option<String> {
        self.ec2.config().region().map(|r| r.to_string())
    }
}

/// Connects the service to AWS.
#[derive(Clone, Copy, Debug, Default)]
pub struct AwsConnector;

#[async_trait]
impl Connector for AwsConnector {
    async fn connect(&self, settings: &AwsSettings) -> Result<Connected, Vec<Diagnostic>> {
        let aws = Arc::new(Aws::connect(settings).await?);
        Ok(Connected {
            cloud: aws.clone(),
            signer: aws,
        })
    }
}

#[async_trait]
impl TokenSigner for Aws {
    async fn sign(&self, req: &TokenRequest, at: SystemTime) -> Result<Signed, Diagnostic> {
        self.signing.sign(req, at).await
    }
}

#[async_trait]
impl Cloud for Aws {
    fn region(&self) -> String {
        Aws::region(self).unwrap_or_default()
    }
    fn aws_time(&self) -> Option<crate::domain::cloud::AwsTime> {
        self.clock.now()
    }
    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<CreatedGroup, CloudError> {
        self.ec2_create_security_group(vpc_id, name, description, tags)
            .await
    }
    async fn describe_security_groups(&self, ids: &[String]) -> Result<Vec<Group>, CloudError> {
        self.ec2_describe_security_groups(ids).await
    }
    async fn find_security_groups(&self, filter: &GroupFilter) -> Result<Vec<Group>, CloudError> {
        self.ec2_find_security_groups(filter).await
    }
    async fn describe_rules(&self, group_ids: &[String]) -> Result<Vec<Rule>, CloudError> {
        self.ec2_describe_rules(group_ids).await
    }
    async fn authorize_ingress(
        &self,
        group_id: &str,
        rules: &[RuleSpec],
        tags: &BTreeMap<String, String>,
    ) -> Result<Vec<Rule>, CloudError> {
        self.ec2_authorize_ingress(group_id, rules, tags).await
    }
    async fn revoke_ingress(&self, group_id: &str, rule_ids: &[String]) -> Result<(), CloudError> {
        self.ec2_revoke_ingress(group_id, rule_ids).await
    }
    async fn update_rule_descriptions(
        &self,
        group_id: &str,
        rules: &[(String, RuleSpec)],
    ) -> Result<(), CloudError> {
        self.ec2_update_rule_descriptions(group_id, rules).await
    }
    async fn create_tags(
        &self,
        resource_ids: &[String],
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        self.ec2_create_tags(resource_ids, tags).await
    }
    async fn delete_tags(
        &self,
        resource_ids: &[String],
        keys: &[String],
    ) -> Result<(), CloudError> {
        self.ec2_delete_tags(resource_ids, keys).await
    }
    async fn delete_security_group(&self, group_id: &str) -> Result<(), CloudError> {
        self.ec2_delete_security_group(group_id).await
    }
    async fn find_holders(&self, group_id: &str, vpc_id: &str) -> Result<Holders, CloudError> {
        self.ec2_find_holders(group_id, vpc_id).await
    }
    async fn describe_cluster(&self, cluster: &ClusterRef) -> Result<ClusterInfo, CloudError> {
        self.ec_describe_cluster(cluster).await
    }
    fn hints_seen(&self, cluster: &ClusterRef) -> Option<ClusterHints> {
        match cluster {
            ClusterRef::ReplicationGroup(id) => self.hints(id),
            _ => None,
        }
    }

    fn learn_hints(&self, cluster: &ClusterRef, hints: &ClusterHints) {
        if let ClusterRef::ReplicationGroup(id) = cluster {
            if self.hints(id).is_none() {
                self.remember(id, |h| *h = hints.clone());
            }
        }
    }

    async fn cluster_groups(&self, cluster: &ClusterRef) -> Result<ClusterGroups, CloudError> {
        self.ec_cluster_groups(cluster).await
    }
    async fn set_cluster_security_groups(
        &self,
        cluster: &ClusterRef,
        group_ids: &[String],
    ) -> Result<(), CloudError> {
        self.ec_set_cluster_security_groups(cluster, group_ids)
            .await
    }
    async fn clusters_using(&self, group_id: &str) -> Result<ClustersUsing, CloudError> {
        self.clusters_using_group(group_id).await
    }
    async fn network_interfaces_in(
        &self,
        vpc_id: &str,
    ) -> Result<Vec<crate::domain::cloud::network::Eni>, CloudError> {
        self.ec2_network_interfaces_in(vpc_id).await
    }
    async fn vpc_links(
        &self,
        vpc_id: &str,
    ) -> Result<crate::domain::cloud::network::VpcLinks, CloudError> {
        self.ec2_vpc_links(vpc_id).await
    }
    async fn prefix_list_entries(&self, id: &str) -> Result<Vec<ipnet::IpNet>, CloudError> {
        self.ec2_prefix_list_entries(id).await
    }
    async fn network_acls(
        &self,
        vpc_id: &str,
    ) -> Result<Vec<crate::domain::cloud::network::NetworkAcl>, CloudError> {
        self.ec2_network_acls(vpc_id).await
    }
    async fn vpc_quota(&self, quota_code: &str) -> Result<u32, CloudError> {
        self.sq_vpc_quota(quota_code).await
    }
    async fn prefix_lists(&self, ids: &[String]) -> Result<Vec<PrefixList>, CloudError> {
        self.ec2_prefix_lists(ids).await
    }
    async fn active_peers(&self, vpc_id: &str) -> Result<Vec<Peer>, CloudError> {
        self.ec2_active_peers(vpc_id).await
    }
}

#[cfg(test)]
mod cluster_tests;
#[cfg(test)]
mod connect_tests;
#[cfg(test)]
mod members_tests;
#[cfg(test)]
mod mock_tests;
#[cfg(test)]
mod quota_tests;
#[cfg(test)]
mod tests;
