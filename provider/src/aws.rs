//! The only code that talks to AWS: [`Aws`] implements [`Cloud`] with the EC2 and ElastiCache SDKs.
//!
//! Every method is one AWS call (or a documented few), logged at debug level with its operation name
//! and resource ids (never credentials). Throttling (`RequestLimitExceeded` and friends) and transient
//! failures are retried by the SDK's standard retry mode: the AWS error-code classifier of
//! `aws-runtime` lists `RequestLimitExceeded` among its throttling errors, so no classifier is added
//! here. Errors that survive the retries are classified by their AWS error code in one place,
//! [`cloud_error`].

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::ConfigLoader;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, SecurityGroup,
    SecurityGroupRule, SecurityGroupRuleDescription, Tag, TagSpecification, UserIdGroupPair,
};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_types::region::Region;
use aws_types::SdkConfig;
use ipnet::IpNet;
use tracing::debug;

use crate::cloud::{
    Cloud, CloudError, ClusterInfo, ClusterKind, Group, Holders, Rule, RuleSpec, Source,
};
use crate::model::{ClusterRef, ProviderConfig, DEFAULT_PORT, MEMCACHED_PORT};

/// Attempts per AWS call when `max_retries` is not set.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// Largest accepted `max_retries`.
pub const MAX_MAX_ATTEMPTS: u32 = 25;
/// Session name of an assumed role when `assume_role.session_name` is not set.
pub const DEFAULT_SESSION_NAME: &str = "elasticache-access";
/// First retry backoff of the standard retry mode.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// Largest retry backoff of the standard retry mode.
pub const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// Page size for DescribeCacheClusters without a cluster id (the API's maximum is 100).
const CACHE_CLUSTER_PAGE: i32 = 100;

/// Why the AWS clients could not be set up. Each message says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "no AWS Region is configured: set `region` in the provider configuration, or the AWS_REGION \
         environment variable, or `region` in the selected AWS profile"
    )]
    NoRegion,
    #[error(
        "the AWS profile {name:?} (provider `profile`) is not defined in the shared config or \
         credentials files{available}: fix the name, or remove `profile` to use AWS_PROFILE or the default chain"
    )]
    ProfileNotFound { name: String, available: String },
    #[error(
        "`endpoints.{service}` = {url:?} is not a URL: give an absolute http:// or https:// URL such as \
         http://127.0.0.1:5000, or remove it to use AWS_ENDPOINT_URL_{env} / AWS_ENDPOINT_URL or the \
         service's public endpoint"
    )]
    InvalidEndpoint {
        service: &'static str,
        env: &'static str,
        url: String,
    },
    #[error("`max_retries` must be between 1 and {MAX_MAX_ATTEMPTS} attempts, got {0}: set a value in that range or remove it (default {DEFAULT_MAX_ATTEMPTS})")]
    InvalidMaxRetries(u32),
    #[error(
        "`assume_role.role_arn` = {0:?} is not an IAM role ARN: give one of the form \
         arn:aws:iam::123456789012:role/NAME"
    )]
    InvalidRoleArn(String),
}

/// EC2 and ElastiCache clients for one Region and one set of credentials.
#[derive(Clone, Debug)]
pub struct Aws {
    ec2: aws_sdk_ec2::Client,
    elasticache: aws_sdk_elasticache::Client,
}

impl Aws {
    /// Wraps clients built elsewhere (tests build them with mocks).
    pub fn from_clients(ec2: aws_sdk_ec2::Client, elasticache: aws_sdk_elasticache::Client) -> Aws {
        Aws { ec2, elasticache }
    }

    /// Builds the clients from the provider configuration and the standard AWS chain (environment,
    /// shared config and credentials files, SSO, credential process, container and instance roles).
    /// Makes no AWS call: credentials are resolved (and a role assumed) on the first request.
    pub async fn connect(cfg: &ProviderConfig) -> Result<Aws, ConnectError> {
        Self::connect_with(cfg, aws_config::defaults(BehaviorVersion::latest())).await
    }

    /// [`Aws::connect`] starting from `loader` instead of the bare default chain.
    pub async fn connect_with(
        cfg: &ProviderConfig,
        loader: ConfigLoader,
    ) -> Result<Aws, ConnectError> {
        let max_attempts = cfg.max_retries.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        if !(1..=MAX_MAX_ATTEMPTS).contains(&max_attempts) {
            return Err(ConnectError::InvalidMaxRetries(max_attempts));
        }
        let endpoints = cfg.endpoints.clone().unwrap_or_default();
        let ec2_endpoint = check_endpoint("ec2", "EC2", endpoints.ec2.as_deref())?;
        let elasticache_endpoint = check_endpoint(
            "elasticache",
            "ELASTICACHE",
            endpoints.elasticache.as_deref(),
        )?;
        if let Some(role) = &cfg.assume_role {
            if !role.role_arn.starts_with("arn:") || !role.role_arn.contains(":role/") {
                return Err(ConnectError::InvalidRoleArn(role.role_arn.clone()));
            }
        }
        let profile = non_empty(cfg.profile.as_deref());
        if let Some(name) = profile {
            check_profile(name).await?;
        }

        let mut loader = loader.retry_config(retry_config(max_attempts));
        if let Some(region) = non_empty(cfg.region.as_deref()) {
            loader = loader.region(Region::new(region.to_string()));
        }
        if let Some(name) = profile {
            loader = loader.profile_name(name);
        }
        let mut sdk = loader.load().await;
        if sdk.region().is_none() {
            return Err(ConnectError::NoRegion);
        }
        if let Some(role) = &cfg.assume_role {
            let session = non_empty(role.session_name.as_deref()).unwrap_or(DEFAULT_SESSION_NAME);
            let mut builder = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
                .session_name(session)
                .configure(&sdk);
            if let Some(external_id) = non_empty(role.external_id.as_deref()) {
                builder = builder.external_id(external_id);
            }
            let provider = builder.build().await;
            debug!(role_arn = %role.role_arn, session_name = session, "assuming role");
            sdk = sdk
                .into_builder()
                .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(
                    provider,
                ))
                .build();
        }
        Ok(Aws::from_sdk_config(
            &sdk,
            ec2_endpoint.as_deref(),
            elasticache_endpoint.as_deref(),
        ))
    }

    /// Builds the clients from a loaded SDK configuration, with optional per-service endpoint
    /// overrides. Without an override each SDK applies AWS_ENDPOINT_URL_EC2 /
    /// AWS_ENDPOINT_URL_ELASTICACHE, then AWS_ENDPOINT_URL (and the profile's `endpoint_url`), itself.
    pub fn from_sdk_config(
        sdk: &SdkConfig,
        ec2_endpoint: Option<&str>,
        elasticache_endpoint: Option<&str>,
    ) -> Aws {
        let mut ec2 = aws_sdk_ec2::config::Builder::from(sdk);
        if let Some(url) = ec2_endpoint {
            ec2 = ec2.endpoint_url(url);
        }
        let mut elasticache = aws_sdk_elasticache::config::Builder::from(sdk);
        if let Some(url) = elasticache_endpoint {
            elasticache = elasticache.endpoint_url(url);
        }
        Aws::from_clients(
            aws_sdk_ec2::Client::from_conf(ec2.build()),
            aws_sdk_elasticache::Client::from_conf(elasticache.build()),
        )
    }

    /// The Region the clients talk to.
    pub fn region(&self) -> Option<String> {
        self.ec2.config().region().map(|r| r.to_string())
    }
}

/// The standard retry mode with `max_attempts` attempts, 1 s initial backoff and a 20 s cap.
pub fn retry_config(max_attempts: u32) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(max_attempts)
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(MAX_BACKOFF)
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn check_endpoint(
    service: &'static str,
    env: &'static str,
    url: Option<&str>,
) -> Result<Option<String>, ConnectError> {
    let Some(url) = non_empty(url) else {
        return Ok(None);
    };
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host)
            if !host.is_empty() && !host.starts_with('/') && !url.contains(char::is_whitespace) =>
        {
            Ok(Some(url.to_string()))
        }
        _ => Err(ConnectError::InvalidEndpoint {
            service,
            env,
            url: url.to_string(),
        }),
    }
}

/// Fails early, with the profiles that do exist, when an explicit `profile` is not defined. A file
/// that cannot be read is left to the SDK (which reports it when credentials are needed).
async fn check_profile(name: &str) -> Result<(), ConnectError> {
    check_profile_in(name, &aws_types::os_shim_internal::Env::real()).await
}

/// [`check_profile`] with the environment that locates the files (AWS_CONFIG_FILE,
/// AWS_SHARED_CREDENTIALS_FILE, HOME).
async fn check_profile_in(
    name: &str,
    env: &aws_types::os_shim_internal::Env,
) -> Result<(), ConnectError> {
    let fs = aws_types::os_shim_internal::Fs::real();
    let Ok(set) = aws_config::profile::load(&fs, env, &Default::default(), None).await else {
        return Ok(());
    };
    if set.get_profile(name).is_some() {
        return Ok(());
    }
    let mut names: Vec<&str> = set.profiles().collect();
    names.sort_unstable();
    let available = if names.is_empty() {
        " (no profile is defined there)".to_string()
    } else {
        format!(" (defined: {})", names.join(", "))
    };
    Err(ConnectError::ProfileNotFound {
        name: name.to_string(),
        available,
    })
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Classifies any SDK error by its AWS error code ([`CloudError::from_code`]). Errors without a code
/// become [`CloudError::Other`] with code `Timeout` (a call or attempt timed out) or `RequestFailed`
/// (the request could not be built, sent or its answer read), with the error's display chain; a
/// failure to find credentials becomes [`CloudError::Invalid`] with code `NoCredentials` and says
/// where credentials come from.
pub fn cloud_error<E, R>(operation: &str, err: SdkError<E, R>) -> CloudError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    if let Some(code) = err.code() {
        let mut message = err
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
        if let Some(id) = err.meta().extra("aws_request_id") {
            message.push_str(&format!(" (request id {id})"));
        }
        let e = CloudError::from_code(code, message);
        debug!(operation, code, "AWS call failed");
        return e;
    }
    let chain = DisplayErrorContext(&err).to_string();
    let code = match &err {
        SdkError::TimeoutError(_) => "Timeout",
        SdkError::DispatchFailure(d) if d.is_timeout() => "Timeout",
        _ => "RequestFailed",
    };
    debug!(operation, code, "AWS call failed");
    if code == "RequestFailed" && is_credentials_failure(&chain) {
        return CloudError::Invalid {
            code: "NoCredentials".to_string(),
            message: format!(
                "{operation}: no AWS credentials could be loaded: set AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY, choose a profile with `profile` or AWS_PROFILE (run `aws sso login` \
                 for an SSO profile), or run where a container or instance role is available ({chain})"
            ),
        };
    }
    CloudError::Other {
        code: code.to_string(),
        message: format!("{operation}: {chain}"),
    }
}

fn is_credentials_failure(chain: &str) -> bool {
    // The Display texts of aws-credential-types' `CredentialsError` (not re-exported by the SDKs, so
    // it cannot be downcast here), and of the default chain when every provider came up empty.
    const MARKERS: &[&str] = &[
        "the credential provider was not enabled",
        "credentials provider timed out",
        "the credentials provider was not properly configured",
        "an error occurred while loading credentials",
        "unexpected credentials error",
        "no providers in chain provided credentials",
    ];
    MARKERS.iter().any(|m| chain.contains(m))
}

fn not_found(code: &str, message: String) -> CloudError {
    CloudError::NotFound {
        code: code.to_string(),
        message,
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping between AWS and core types

fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    let mut b = Filter::builder().name(name);
    for v in values {
        b = b.values(v);
    }
    b.build()
}

fn ec2_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn tag_spec(kind: ResourceType, tags: &BTreeMap<String, String>) -> Option<TagSpecification> {
    if tags.is_empty() {
        return None;
    }
    Some(
        TagSpecification::builder()
            .resource_type(kind)
            .set_tags(Some(ec2_tags(tags)))
            .build(),
    )
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn group_from(g: &SecurityGroup) -> Option<Group> {
    Some(Group {
        id: g.group_id()?.to_string(),
        name: g.group_name().unwrap_or_default().to_string(),
        vpc_id: g.vpc_id().unwrap_or_default().to_string(),
        owner_id: g.owner_id().unwrap_or_default().to_string(),
        tags: tag_map(g.tags()),
    })
}

/// The source of a rule as AWS reports it, and its display text.
fn rule_source(r: &SecurityGroupRule) -> (Option<Source>, String) {
    if let Some(refd) = r.referenced_group_info() {
        let Some(id) = refd.group_id() else {
            return (None, String::new());
        };
        let owner = match (refd.user_id(), r.group_owner_id()) {
            (Some(user), Some(own)) if user != own => Some(user.to_string()),
            _ => None,
        };
        let source = Source::Group {
            id: id.to_string(),
            owner,
        };
        let text = source.to_string();
        return (Some(source), text);
    }
    if let Some(cidr) = r.cidr_ipv4().or(r.cidr_ipv6()) {
        return match cidr.parse::<IpNet>() {
            Ok(net) => {
                let source = Source::Cidr(net.trunc());
                let text = source.to_string();
                (Some(source), text)
            }
            Err(_) => (None, cidr.to_string()),
        };
    }
    if let Some(pl) = r.prefix_list_id() {
        return (Some(Source::PrefixList(pl.to_string())), pl.to_string());
    }
    (None, String::new())
}

fn rule_from(r: &SecurityGroupRule) -> Option<Rule> {
    let (source, source_text) = rule_source(r);
    Some(Rule {
        id: r.security_group_rule_id()?.to_string(),
        group_id: r.group_id().unwrap_or_default().to_string(),
        is_egress: r.is_egress().unwrap_or(false),
        protocol: r.ip_protocol().unwrap_or_default().to_string(),
        from_port: r.from_port().map(i64::from).unwrap_or(-1),
        to_port: r.to_port().map(i64::from).unwrap_or(-1),
        source,
        source_text,
        description: r.description().map(str::to_string),
        tags: tag_map(r.tags()),
    })
}

fn description(spec: &RuleSpec) -> Option<String> {
    Some(spec.description.clone()).filter(|d| !d.is_empty())
}

/// One IpPermission for one rule: TCP on `port` from the rule's single source.
fn ip_permission(spec: &RuleSpec) -> IpPermission {
    let port = i32::from(spec.port);
    let b = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port);
    let desc = description(spec);
    match &spec.source {
        Source::Group { id, owner } => b.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(id)
                .set_user_id(owner.clone())
                .set_description(desc)
                .build(),
        ),
        Source::Cidr(net @ IpNet::V4(_)) => b.ip_ranges(
            IpRange::builder()
                .cidr_ip(net.trunc().to_string())
                .set_description(desc)
                .build(),
        ),
        Source::Cidr(net @ IpNet::V6(_)) => b.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(net.trunc().to_string())
                .set_description(desc)
                .build(),
        ),
        Source::PrefixList(pl) => b.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(pl)
                .set_description(desc)
                .build(),
        ),
    }
    .build()
}

fn port_of(port: Option<i32>) -> Option<u16> {
    port.and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0)
}

fn engine_default_port(engine: Option<&str>) -> u16 {
    match engine.map(str::to_ascii_lowercase).as_deref() {
        Some("memcached") => MEMCACHED_PORT,
        _ => DEFAULT_PORT,
    }
}

fn endpoint_text(address: Option<&str>, port: Option<u16>) -> Option<String> {
    let address = address.filter(|a| !a.is_empty())?;
    Some(match port {
        Some(p) => format!("{address}:{p}"),
        None => address.to_string(),
    })
}

fn cache_cluster_groups(c: &aws_sdk_elasticache::types::CacheCluster) -> Vec<String> {
    c.security_groups()
        .iter()
        .filter_map(|m| m.security_group_id().map(str::to_string))
        .collect()
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_string());
    }
}

enum ClusterId<'a> {
    ReplicationGroup(&'a str),
    CacheCluster(&'a str),
    Serverless(&'a str),
}

fn cluster_id(cluster: &ClusterRef) -> Result<ClusterId<'_>, CloudError> {
    let set: Vec<ClusterId<'_>> = [
        non_empty(cluster.replication_group_id.as_deref()).map(ClusterId::ReplicationGroup),
        non_empty(cluster.cache_cluster_id.as_deref()).map(ClusterId::CacheCluster),
        non_empty(cluster.serverless_cache_name.as_deref()).map(ClusterId::Serverless),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut it = set.into_iter();
    match (it.next(), it.next()) {
        (Some(one), None) => Ok(one),
        _ => Err(CloudError::Invalid {
            code: "InvalidParameterCombination".to_string(),
            message: "exactly one of cluster.replication_group_id, cluster.cache_cluster_id and \
                      cluster.serverless_cache_name must be set"
                .to_string(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Calls used by several methods

impl Aws {
    async fn describe_groups_filtered(
        &self,
        operation_filters: Vec<Filter>,
    ) -> Result<Vec<Group>, CloudError> {
        let mut groups = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .ec2
                .describe_security_groups()
                .set_filters(Some(operation_filters.clone()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeSecurityGroups", e))?;
            groups.extend(out.security_groups().iter().filter_map(group_from));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(groups)
    }

    /// DescribeCacheClusters for one cluster.
    async fn describe_cache_cluster(
        &self,
        id: &str,
        node_info: bool,
    ) -> Result<aws_sdk_elasticache::types::CacheCluster, CloudError> {
        debug!(
            operation = "DescribeCacheClusters",
            cache_cluster_id = id,
            "AWS call"
        );
        let out = self
            .elasticache
            .describe_cache_clusters()
            .cache_cluster_id(id)
            .set_show_cache_node_info(node_info.then_some(true))
            .send()
            .await
            .map_err(|e| cloud_error("DescribeCacheClusters", e))?;
        out.cache_clusters().first().cloned().ok_or_else(|| {
            not_found(
                "CacheClusterNotFound",
                format!("cache cluster {id} not found"),
            )
        })
    }

    /// DescribeCacheClusters without an id, every page.
    async fn all_cache_clusters(
        &self,
        mut keep: impl FnMut(&aws_sdk_elasticache::types::CacheCluster),
    ) -> Result<(), CloudError> {
        let mut marker: Option<String> = None;
        loop {
            debug!(
                operation = "DescribeCacheClusters",
                page = marker.is_some(),
                "AWS call"
            );
            let out = self
                .elasticache
                .describe_cache_clusters()
                .max_records(CACHE_CLUSTER_PAGE)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeCacheClusters", e))?;
            out.cache_clusters().iter().for_each(&mut keep);
            match out.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => return Ok(()),
            }
        }
    }

    /// DescribeCacheSubnetGroups: the VPC of a cache subnet group.
    async fn subnet_group_vpc(&self, name: &str) -> Result<Option<String>, CloudError> {
        debug!(
            operation = "DescribeCacheSubnetGroups",
            cache_subnet_group_name = name,
            "AWS call"
        );
        let out = self
            .elasticache
            .describe_cache_subnet_groups()
            .cache_subnet_group_name(name)
            .send()
            .await
            .map_err(|e| cloud_error("DescribeCacheSubnetGroups", e))?;
        Ok(out
            .cache_subnet_groups()
            .first()
            .and_then(|g| g.vpc_id())
            .map(str::to_string))
    }

    async fn describe_replication_group(&self, id: &str) -> Result<ClusterInfo, CloudError> {
        debug!(
            operation = "DescribeReplicationGroups",
            replication_group_id = id,
            "AWS call"
        );
        let out = self
            .elasticache
            .describe_replication_groups()
            .replication_group_id(id)
            .send()
            .await
            .map_err(|e| cloud_error("DescribeReplicationGroups", e))?;
        let rg = out.replication_groups().first().ok_or_else(|| {
            not_found(
                "ReplicationGroupNotFoundFault",
                format!("replication group {id} not found"),
            )
        })?;
        let endpoint = rg.configuration_endpoint().or_else(|| {
            rg.node_groups()
                .first()
                .and_then(|ng| ng.primary_endpoint())
        });
        let mut engine = rg.engine().map(str::to_string);
        let mut security_group_ids = Vec::new();
        let mut vpc_id = None;
        if let Some(first) = rg.member_clusters().first() {
            let cc = self.describe_cache_cluster(first, false).await?;
            if let Some(e) = cc.engine() {
                engine = Some(e.to_string());
            }
            security_group_ids = cache_cluster_groups(&cc);
            if let Some(name) = non_empty(cc.cache_subnet_group_name()) {
                vpc_id = self.subnet_group_vpc(name).await?;
            }
        }
        let port = endpoint
            .and_then(|e| port_of(e.port()))
            .unwrap_or_else(|| engine_default_port(engine.as_deref()));
        Ok(ClusterInfo {
            kind: ClusterKind::ReplicationGroup,
            id: id.to_string(),
            vpc_id,
            port: Some(port),
            endpoint: endpoint_text(endpoint.and_then(|e| e.address()), Some(port)),
            engine,
            security_group_ids,
        })
    }

    async fn describe_single_cache_cluster(&self, id: &str) -> Result<ClusterInfo, CloudError> {
        let cc = self.describe_cache_cluster(id, true).await?;
        let endpoint = cc
            .configuration_endpoint()
            .or_else(|| cc.cache_nodes().first().and_then(|n| n.endpoint()));
        let engine = cc.engine().map(str::to_string);
        let port = endpoint
            .and_then(|e| port_of(e.port()))
            .unwrap_or_else(|| engine_default_port(engine.as_deref()));
        let vpc_id = match non_empty(cc.cache_subnet_group_name()) {
            Some(name) => self.subnet_group_vpc(name).await?,
            None => None,
        };
        Ok(ClusterInfo {
            kind: ClusterKind::CacheCluster,
            id: id.to_string(),
            vpc_id,
            port: Some(port),
            endpoint: endpoint_text(endpoint.and_then(|e| e.address()), Some(port)),
            engine,
            security_group_ids: cache_cluster_groups(&cc),
        })
    }

    async fn describe_serverless_cache(
        &self,
        name: &str,
    ) -> Result<aws_sdk_elasticache::types::ServerlessCache, CloudError> {
        debug!(
            operation = "DescribeServerlessCaches",
            serverless_cache_name = name,
            "AWS call"
        );
        let out = self
            .elasticache
            .describe_serverless_caches()
            .serverless_cache_name(name)
            .send()
            .await
            .map_err(|e| cloud_error("DescribeServerlessCaches", e))?;
        out.serverless_caches().first().cloned().ok_or_else(|| {
            not_found(
                "ServerlessCacheNotFoundFault",
                format!("serverless cache {name} not found"),
            )
        })
    }

    async fn describe_serverless(&self, name: &str) -> Result<ClusterInfo, CloudError> {
        let sc = self.describe_serverless_cache(name).await?;
        let engine = sc.engine().map(str::to_string);
        let endpoint = sc.endpoint();
        let port = endpoint
            .and_then(|e| port_of(e.port()))
            .unwrap_or_else(|| engine_default_port(engine.as_deref()));
        let vpc_id = match sc.subnet_ids().first() {
            Some(subnet) => {
                debug!(operation = "DescribeSubnets", subnet_id = %subnet, "AWS call");
                let out = self
                    .ec2
                    .describe_subnets()
                    .subnet_ids(subnet)
                    .send()
                    .await
                    .map_err(|e| cloud_error("DescribeSubnets", e))?;
                out.subnets()
                    .first()
                    .and_then(|s| s.vpc_id())
                    .map(str::to_string)
            }
            None => None,
        };
        Ok(ClusterInfo {
            kind: ClusterKind::Serverless,
            id: name.to_string(),
            vpc_id,
            port: Some(port),
            endpoint: endpoint_text(endpoint.and_then(|e| e.address()), Some(port)),
            engine,
            security_group_ids: sc.security_group_ids().to_vec(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The Cloud implementation

#[async_trait]
impl Cloud for Aws {
    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, CloudError> {
        debug!(
            operation = "CreateSecurityGroup",
            vpc_id,
            group_name = name,
            "AWS call"
        );
        let out = self
            .ec2
            .create_security_group()
            .vpc_id(vpc_id)
            .group_name(name)
            .description(description)
            .set_tag_specifications(tag_spec(ResourceType::SecurityGroup, tags).map(|t| vec![t]))
            .send()
            .await
            .map_err(|e| cloud_error("CreateSecurityGroup", e))?;
        out.group_id()
            .map(str::to_string)
            .ok_or_else(|| CloudError::Other {
                code: "InvalidResponse".to_string(),
                message: format!("CreateSecurityGroup for {name} answered without a group id"),
            })
    }

    async fn describe_security_groups(&self, ids: &[String]) -> Result<Vec<Group>, CloudError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        debug!(operation = "DescribeSecurityGroups", group_ids = ?ids, "AWS call");
        self.describe_groups_filtered(vec![filter("group-id", ids.iter().cloned())])
            .await
    }

    async fn find_security_groups_by_tag(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<Group>, CloudError> {
        debug!(
            operation = "DescribeSecurityGroups",
            tag_key = key,
            tag_value = value,
            "AWS call"
        );
        self.describe_groups_filtered(vec![filter(&format!("tag:{key}"), [value])])
            .await
    }

    async fn describe_rules(&self, group_ids: &[String]) -> Result<Vec<Rule>, CloudError> {
        if group_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut rules = Vec::new();
        let mut token: Option<String> = None;
        loop {
            debug!(operation = "DescribeSecurityGroupRules", group_ids = ?group_ids, page = token.is_some(), "AWS call");
            let out = self
                .ec2
                .describe_security_group_rules()
                .filters(filter("group-id", group_ids.iter().cloned()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeSecurityGroupRules", e))?;
            rules.extend(out.security_group_rules().iter().filter_map(rule_from));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(rules)
    }

    async fn authorize_ingress(
        &self,
        group_id: &str,
        rules: &[RuleSpec],
        tags: &BTreeMap<String, String>,
    ) -> Result<Vec<Rule>, CloudError> {
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        let sources: Vec<String> = rules
            .iter()
            .map(|r| format!("{}:{}", r.source, r.port))
            .collect();
        debug!(operation = "AuthorizeSecurityGroupIngress", group_id, rules = ?sources, "AWS call");
        let out = self
            .ec2
            .authorize_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(rules.iter().map(ip_permission).collect()))
            .set_tag_specifications(
                tag_spec(ResourceType::SecurityGroupRule, tags).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(|e| cloud_error("AuthorizeSecurityGroupIngress", e))?;
        Ok(out
            .security_group_rules()
            .iter()
            .filter_map(rule_from)
            .collect())
    }

    async fn revoke_ingress(&self, group_id: &str, rule_ids: &[String]) -> Result<(), CloudError> {
        if rule_ids.is_empty() {
            return Ok(());
        }
        debug!(operation = "RevokeSecurityGroupIngress", group_id, rule_ids = ?rule_ids, "AWS call");
        self.ec2
            .revoke_security_group_ingress()
            .group_id(group_id)
            .set_security_group_rule_ids(Some(rule_ids.to_vec()))
            .send()
            .await
            .map_err(|e| cloud_error("RevokeSecurityGroupIngress", e))?;
        Ok(())
    }

    async fn update_rule_descriptions(
        &self,
        group_id: &str,
        rules: &[(String, RuleSpec)],
    ) -> Result<(), CloudError> {
        if rules.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = rules.iter().map(|(id, _)| id.as_str()).collect();
        debug!(operation = "UpdateSecurityGroupRuleDescriptionsIngress", group_id, rule_ids = ?ids, "AWS call");
        // By rule id alone: the rule's source is not restated, so a group of a peered account or
        // a prefix list is never re-resolved, and no permission on the source group is needed
        // (ModifySecurityGroupRules needs both).
        let descriptions = rules
            .iter()
            .map(|(id, spec)| {
                SecurityGroupRuleDescription::builder()
                    .security_group_rule_id(id)
                    .set_description(description(spec))
                    .build()
            })
            .collect();
        self.ec2
            .update_security_group_rule_descriptions_ingress()
            .group_id(group_id)
            .set_security_group_rule_descriptions(Some(descriptions))
            .send()
            .await
            .map_err(|e| cloud_error("UpdateSecurityGroupRuleDescriptionsIngress", e))?;
        Ok(())
    }

    async fn create_tags(
        &self,
        resource_ids: &[String],
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        if resource_ids.is_empty() || tags.is_empty() {
            return Ok(());
        }
        let keys: Vec<&String> = tags.keys().collect();
        debug!(operation = "CreateTags", resource_ids = ?resource_ids, tag_keys = ?keys, "AWS call");
        self.ec2
            .create_tags()
            .set_resources(Some(resource_ids.to_vec()))
            .set_tags(Some(ec2_tags(tags)))
            .send()
            .await
            .map_err(|e| cloud_error("CreateTags", e))?;
        Ok(())
    }

    async fn delete_tags(
        &self,
        resource_ids: &[String],
        keys: &[String],
    ) -> Result<(), CloudError> {
        if resource_ids.is_empty() || keys.is_empty() {
            return Ok(());
        }
        debug!(operation = "DeleteTags", resource_ids = ?resource_ids, tag_keys = ?keys, "AWS call");
        self.ec2
            .delete_tags()
            .set_resources(Some(resource_ids.to_vec()))
            .set_tags(Some(
                keys.iter().map(|k| Tag::builder().key(k).build()).collect(),
            ))
            .send()
            .await
            .map_err(|e| cloud_error("DeleteTags", e))?;
        Ok(())
    }

    async fn delete_security_group(&self, group_id: &str) -> Result<(), CloudError> {
        debug!(operation = "DeleteSecurityGroup", group_id, "AWS call");
        self.ec2
            .delete_security_group()
            .group_id(group_id)
            .send()
            .await
            .map_err(|e| cloud_error("DeleteSecurityGroup", e))?;
        Ok(())
    }

    async fn find_holders(&self, group_id: &str, vpc_id: &str) -> Result<Holders, CloudError> {
        let mut holders = Holders::default();

        let mut token: Option<String> = None;
        loop {
            debug!(
                operation = "DescribeNetworkInterfaces",
                group_id, "AWS call"
            );
            let out = self
                .ec2
                .describe_network_interfaces()
                .filters(filter("group-id", [group_id]))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeNetworkInterfaces", e))?;
            for eni in out.network_interfaces() {
                if let Some(id) = eni.network_interface_id() {
                    push_unique(&mut holders.network_interfaces, id);
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }

        for direction in ["ip-permission.group-id", "egress.ip-permission.group-id"] {
            debug!(
                operation = "DescribeSecurityGroups",
                vpc_id,
                filter = direction,
                group_id,
                "AWS call"
            );
            let groups = self
                .describe_groups_filtered(vec![
                    filter("vpc-id", [vpc_id]),
                    filter(direction, [group_id]),
                ])
                .await?;
            for g in groups.iter().filter(|g| g.id != group_id) {
                push_unique(&mut holders.referencing_groups, &g.id);
            }
        }

        let mut clusters = Vec::new();
        self.all_cache_clusters(|c| {
            if c.security_groups()
                .iter()
                .any(|m| m.security_group_id() == Some(group_id))
            {
                if let Some(id) = c.replication_group_id().or(c.cache_cluster_id()) {
                    push_unique(&mut clusters, id);
                }
            }
        })
        .await?;
        holders.clusters = clusters;
        Ok(holders)
    }

    async fn describe_cluster(&self, cluster: &ClusterRef) -> Result<ClusterInfo, CloudError> {
        match cluster_id(cluster)? {
            ClusterId::ReplicationGroup(id) => self.describe_replication_group(id).await,
            ClusterId::CacheCluster(id) => self.describe_single_cache_cluster(id).await,
            ClusterId::Serverless(name) => self.describe_serverless(name).await,
        }
    }

    async fn cluster_security_groups(
        &self,
        cluster: &ClusterRef,
    ) -> Result<Vec<String>, CloudError> {
        match cluster_id(cluster)? {
            ClusterId::ReplicationGroup(id) => {
                let mut found = false;
                let mut groups = Vec::new();
                self.all_cache_clusters(|c| {
                    if c.replication_group_id() == Some(id) {
                        found = true;
                        for g in cache_cluster_groups(c) {
                            push_unique(&mut groups, &g);
                        }
                    }
                })
                .await?;
                if !found {
                    return Err(not_found(
                        "ReplicationGroupNotFoundFault",
                        format!(
                            "replication group {id} not found (no cache cluster belongs to it)"
                        ),
                    ));
                }
                Ok(groups)
            }
            ClusterId::CacheCluster(id) => Ok(cache_cluster_groups(
                &self.describe_cache_cluster(id, false).await?,
            )),
            ClusterId::Serverless(name) => Ok(self
                .describe_serverless_cache(name)
                .await?
                .security_group_ids()
                .to_vec()),
        }
    }

    async fn set_cluster_security_groups(
        &self,
        cluster: &ClusterRef,
        group_ids: &[String],
    ) -> Result<(), CloudError> {
        let groups = Some(group_ids.to_vec());
        match cluster_id(cluster)? {
            ClusterId::ReplicationGroup(id) => {
                debug!(operation = "ModifyReplicationGroup", replication_group_id = id, security_group_ids = ?group_ids, "AWS call");
                self.elasticache
                    .modify_replication_group()
                    .replication_group_id(id)
                    .set_security_group_ids(groups)
                    .apply_immediately(true)
                    .send()
                    .await
                    .map_err(|e| cloud_error("ModifyReplicationGroup", e))?;
            }
            ClusterId::CacheCluster(id) => {
                debug!(operation = "ModifyCacheCluster", cache_cluster_id = id, security_group_ids = ?group_ids, "AWS call");
                self.elasticache
                    .modify_cache_cluster()
                    .cache_cluster_id(id)
                    .set_security_group_ids(groups)
                    .apply_immediately(true)
                    .send()
                    .await
                    .map_err(|e| cloud_error("ModifyCacheCluster", e))?;
            }
            ClusterId::Serverless(name) => {
                debug!(operation = "ModifyServerlessCache", serverless_cache_name = name, security_group_ids = ?group_ids, "AWS call");
                self.elasticache
                    .modify_serverless_cache()
                    .serverless_cache_name(name)
                    .set_security_group_ids(groups)
                    .send()
                    .await
                    .map_err(|e| cloud_error("ModifyServerlessCache", e))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_sdk_ec2::config::retry::RetryPartition;
    use aws_sdk_ec2::operation::authorize_security_group_ingress::{
        AuthorizeSecurityGroupIngressError, AuthorizeSecurityGroupIngressOutput,
    };
    use aws_sdk_ec2::operation::delete_security_group::DeleteSecurityGroupError;
    use aws_sdk_ec2::operation::describe_security_group_rules::DescribeSecurityGroupRulesOutput;
    use aws_sdk_ec2::operation::describe_security_groups::{
        DescribeSecurityGroupsError, DescribeSecurityGroupsOutput,
    };
    use aws_sdk_ec2::operation::update_security_group_rule_descriptions_ingress::UpdateSecurityGroupRuleDescriptionsIngressOutput;
    use aws_sdk_ec2::types::ReferencedSecurityGroup;
    use aws_sdk_elasticache::operation::describe_cache_clusters::DescribeCacheClustersOutput;
    use aws_sdk_elasticache::operation::describe_cache_subnet_groups::DescribeCacheSubnetGroupsOutput;
    use aws_sdk_elasticache::operation::describe_replication_groups::{
        DescribeReplicationGroupsError, DescribeReplicationGroupsOutput,
    };
    use aws_sdk_elasticache::types::{
        CacheCluster, CacheSubnetGroup, Endpoint, NodeGroup, ReplicationGroup,
        SecurityGroupMembership,
    };
    use aws_smithy_mocks::{mock, mock_client, Rule as MockRule, RuleMode};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_types::error::ErrorMetadata;

    static PARTITION: AtomicUsize = AtomicUsize::new(0);

    /// Standard retry with `attempts` attempts and a 1 ms backoff, in a retry partition of its own
    /// (so tests never share a retry token bucket).
    fn fast_retry(attempts: u32) -> (RetryConfig, RetryPartition) {
        let n = PARTITION.fetch_add(1, Ordering::SeqCst);
        (
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
            RetryPartition::new(format!("aws-rs-test-{n}")),
        )
    }

    fn ec2_client(rules: &[&MockRule], attempts: u32) -> aws_sdk_ec2::Client {
        let (retry, partition) = fast_retry(attempts);
        mock_client!(aws_sdk_ec2, RuleMode::MatchAny, rules, |c| c
            .retry_config(retry.clone())
            .retry_partition(partition.clone()))
    }

    fn elasticache_client(rules: &[&MockRule]) -> aws_sdk_elasticache::Client {
        let (retry, partition) = fast_retry(3);
        mock_client!(aws_sdk_elasticache, RuleMode::MatchAny, rules, |c| c
            .retry_config(retry.clone())
            .retry_partition(partition.clone()))
    }

    fn aws(ec2: &[&MockRule], elasticache: &[&MockRule]) -> Aws {
        Aws::from_clients(ec2_client(ec2, 3), elasticache_client(elasticache))
    }

    fn meta(code: &str) -> ErrorMetadata {
        ErrorMetadata::builder()
            .code(code)
            .message(format!("{code} (test)"))
            .build()
    }

    fn group(id: &str) -> SecurityGroup {
        SecurityGroup::builder()
            .group_id(id)
            .group_name("web-cluster")
            .vpc_id("vpc-1")
            .owner_id("111111111111")
            .tags(Tag::builder().key("Name").value("web").build())
            .build()
    }

    fn spec(source: Source, port: u16) -> RuleSpec {
        RuleSpec {
            source,
            port,
            description: "web".to_string(),
        }
    }

    fn cidr(s: &str) -> Source {
        Source::Cidr(s.parse().unwrap())
    }

    fn tags() -> BTreeMap<String, String> {
        BTreeMap::from([("managed-by".to_string(), "elasticache-access".to_string())])
    }

    fn rg_ref(id: &str) -> ClusterRef {
        ClusterRef {
            replication_group_id: Some(id.to_string()),
            ..ClusterRef::default()
        }
    }

    // (a)
    #[tokio::test]
    async fn request_limit_exceeded_is_retried_by_the_sdk() {
        let rule = mock!(aws_sdk_ec2::Client::describe_security_groups)
            .sequence()
            .error(|| DescribeSecurityGroupsError::generic(meta("RequestLimitExceeded")))
            .times(2)
            .output(|| {
                DescribeSecurityGroupsOutput::builder()
                    .security_groups(group("sg-1"))
                    .build()
            })
            .build();
        let aws = Aws::from_clients(ec2_client(&[&rule], 3), elasticache_client(&[]));
        let groups = aws
            .describe_security_groups(&["sg-1".to_string()])
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 3);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].id, "sg-1");
        assert_eq!(groups[0].owner_id, "111111111111");
        assert_eq!(groups[0].tags.get("Name").map(String::as_str), Some("web"));
    }

    #[tokio::test]
    async fn describe_cluster_of_a_cache_cluster_and_a_serverless_cache() {
        let cc = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
            .match_requests(|r| {
                r.cache_cluster_id() == Some("mc-1") && r.show_cache_node_info() == Some(true)
            })
            .then_output(|| {
                DescribeCacheClustersOutput::builder()
                    .cache_clusters(
                        CacheCluster::builder()
                            .cache_cluster_id("mc-1")
                            .engine("memcached")
                            .cache_subnet_group_name("subnets-1")
                            .configuration_endpoint(
                                Endpoint::builder()
                                    .address("mc-1.cfg.cache.amazonaws.com")
                                    .build(),
                            )
                            .security_groups(
                                SecurityGroupMembership::builder()
                                    .security_group_id("sg-m")
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let sn =
            mock!(aws_sdk_elasticache::Client::describe_cache_subnet_groups).then_output(|| {
                DescribeCacheSubnetGroupsOutput::builder()
                    .cache_subnet_groups(CacheSubnetGroup::builder().vpc_id("vpc-m").build())
                    .build()
            });
        let sl = mock!(aws_sdk_elasticache::Client::describe_serverless_caches)
            .match_requests(|r| r.serverless_cache_name() == Some("sl-1"))
            .then_output(|| {
                aws_sdk_elasticache::operation::describe_serverless_caches::DescribeServerlessCachesOutput::builder()
                    .serverless_caches(
                        aws_sdk_elasticache::types::ServerlessCache::builder()
                            .serverless_cache_name("sl-1")
                            .engine("valkey")
                            .endpoint(Endpoint::builder().address("sl-1.serverless.cache.amazonaws.com").port(6379).build())
                            .security_group_ids("sg-s")
                            .subnet_ids("subnet-1")
                            .subnet_ids("subnet-2")
                            .build(),
                    )
                    .build()
            });
        let subnets = mock!(aws_sdk_ec2::Client::describe_subnets)
            .match_requests(|r| r.subnet_ids() == ["subnet-1"])
            .then_output(|| {
                aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput::builder()
                    .subnets(
                        aws_sdk_ec2::types::Subnet::builder()
                            .subnet_id("subnet-1")
                            .vpc_id("vpc-s")
                            .build(),
                    )
                    .build()
            });
        let aws = aws(&[&subnets], &[&cc, &sn, &sl]);

        let mc = aws
            .describe_cluster(&ClusterRef {
                cache_cluster_id: Some("mc-1".to_string()),
                ..ClusterRef::default()
            })
            .await
            .unwrap();
        assert_eq!(mc.kind, ClusterKind::CacheCluster);
        assert_eq!(
            mc.port,
            Some(MEMCACHED_PORT),
            "no port in the endpoint: the engine's default"
        );
        assert_eq!(
            mc.endpoint.as_deref(),
            Some("mc-1.cfg.cache.amazonaws.com:11211")
        );
        assert_eq!(mc.vpc_id.as_deref(), Some("vpc-m"));
        assert_eq!(mc.security_group_ids, ["sg-m"]);

        let serverless = ClusterRef {
            serverless_cache_name: Some("sl-1".to_string()),
            ..ClusterRef::default()
        };
        let sc = aws.describe_cluster(&serverless).await.unwrap();
        assert_eq!(sc.kind, ClusterKind::Serverless);
        assert_eq!(sc.port, Some(6379));
        assert_eq!(
            sc.endpoint.as_deref(),
            Some("sl-1.serverless.cache.amazonaws.com:6379")
        );
        assert_eq!(sc.vpc_id.as_deref(), Some("vpc-s"));
        assert_eq!(sc.security_group_ids, ["sg-s"]);
        assert_eq!(
            (
                cc.num_calls(),
                sn.num_calls(),
                sl.num_calls(),
                subnets.num_calls()
            ),
            (1, 1, 1, 1)
        );

        assert_eq!(
            aws.cluster_security_groups(&serverless).await.unwrap(),
            ["sg-s"]
        );
        assert_eq!(sl.num_calls(), 2);
    }

    #[tokio::test]
    async fn find_holders_reports_interfaces_groups_and_clusters() {
        let enis = mock!(aws_sdk_ec2::Client::describe_network_interfaces)
            .match_requests(|r| r.filters()[0].name() == Some("group-id") && r.filters()[0].values() == ["sg-1"])
            .then_output(|| {
                aws_sdk_ec2::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput::builder()
                    .network_interfaces(
                        aws_sdk_ec2::types::NetworkInterface::builder()
                            .network_interface_id("eni-1")
                            .build(),
                    )
                    .build()
            });
        let referencing = |direction: &'static str, ids: &'static [&'static str]| {
            mock!(aws_sdk_ec2::Client::describe_security_groups)
                .match_requests(move |r| {
                    r.filters().len() == 2
                        && r.filters()[0].name() == Some("vpc-id")
                        && r.filters()[0].values() == ["vpc-1"]
                        && r.filters()[1].name() == Some(direction)
                        && r.filters()[1].values() == ["sg-1"]
                })
                .then_output(move || {
                    let mut b = DescribeSecurityGroupsOutput::builder();
                    for id in ids {
                        b = b.security_groups(group(id));
                    }
                    b.build()
                })
        };
        let ingress = referencing("ip-permission.group-id", &["sg-1", "sg-2"]);
        let egress = referencing("egress.ip-permission.group-id", &["sg-3", "sg-2"]);
        let clusters =
            mock!(aws_sdk_elasticache::Client::describe_cache_clusters).then_output(|| {
                let member = |id: &str, rg: Option<&str>, sg: &str| {
                    CacheCluster::builder()
                        .cache_cluster_id(id)
                        .set_replication_group_id(rg.map(str::to_string))
                        .security_groups(
                            SecurityGroupMembership::builder()
                                .security_group_id(sg)
                                .build(),
                        )
                        .build()
                };
                DescribeCacheClustersOutput::builder()
                    .cache_clusters(member("rg-1-001", Some("rg-1"), "sg-1"))
                    .cache_clusters(member("rg-1-002", Some("rg-1"), "sg-1"))
                    .cache_clusters(member("mc-1", None, "sg-1"))
                    .cache_clusters(member("other", None, "sg-9"))
                    .build()
            });
        let aws = aws(&[&enis, &ingress, &egress], &[&clusters]);
        let holders = aws.find_holders("sg-1", "vpc-1").await.unwrap();
        assert_eq!(
            holders,
            Holders {
                network_interfaces: vec!["eni-1".to_string()],
                clusters: vec!["rg-1".to_string(), "mc-1".to_string()],
                referencing_groups: vec!["sg-2".to_string(), "sg-3".to_string()],
            }
        );
    }

    // (h)
    #[tokio::test]
    async fn request_limit_exceeded_past_max_attempts_is_throttled() {
        let rule = mock!(aws_sdk_ec2::Client::describe_security_groups)
            .sequence()
            .error(|| DescribeSecurityGroupsError::generic(meta("RequestLimitExceeded")))
            .times(10)
            .build();
        let aws = Aws::from_clients(ec2_client(&[&rule], 4), elasticache_client(&[]));
        let err = aws
            .describe_security_groups(&["sg-1".to_string()])
            .await
            .unwrap_err();
        assert!(matches!(err, CloudError::Throttled { .. }), "{err:?}");
        assert_eq!(err.code(), "RequestLimitExceeded");
        assert_eq!(rule.num_calls(), 4);
    }

    // (b)
    #[tokio::test]
    async fn duplicate_permission_maps_to_duplicate() {
        let rule = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress).then_error(|| {
            AuthorizeSecurityGroupIngressError::generic(meta("InvalidPermission.Duplicate"))
        });
        let aws = aws(&[&rule], &[]);
        let err = aws
            .authorize_ingress("sg-1", &[spec(cidr("10.0.0.0/16"), 6379)], &tags())
            .await
            .unwrap_err();
        assert!(matches!(err, CloudError::Duplicate { .. }), "{err:?}");
        assert_eq!(rule.num_calls(), 1, "a duplicate is not retried");
    }

    // (c)
    #[tokio::test]
    async fn dependency_violation_maps_to_in_use() {
        let rule = mock!(aws_sdk_ec2::Client::delete_security_group)
            .then_error(|| DeleteSecurityGroupError::generic(meta("DependencyViolation")));
        let aws = aws(&[&rule], &[]);
        let err = aws.delete_security_group("sg-1").await.unwrap_err();
        assert!(matches!(err, CloudError::InUse { .. }), "{err:?}");
        assert_eq!(err.code(), "DependencyViolation");
    }

    // (d)
    #[tokio::test]
    async fn not_found_codes_map_to_not_found() {
        let ec2 = mock!(aws_sdk_ec2::Client::delete_security_group)
            .then_error(|| DeleteSecurityGroupError::generic(meta("InvalidGroup.NotFound")));
        let ec = mock!(aws_sdk_elasticache::Client::describe_replication_groups).then_error(|| {
            DescribeReplicationGroupsError::generic(meta("ReplicationGroupNotFoundFault"))
        });
        let aws = aws(&[&ec2], &[&ec]);
        let err = aws.delete_security_group("sg-1").await.unwrap_err();
        assert!(matches!(err, CloudError::NotFound { .. }), "{err:?}");
        assert_eq!(err.code(), "InvalidGroup.NotFound");
        let err = aws.describe_cluster(&rg_ref("rg-x")).await.unwrap_err();
        assert!(matches!(err, CloudError::NotFound { .. }), "{err:?}");
    }

    // (e)
    #[tokio::test]
    async fn describe_rules_maps_peered_groups_and_normalizes_cidrs_across_pages() {
        let page1 = mock!(aws_sdk_ec2::Client::describe_security_group_rules)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| {
                DescribeSecurityGroupRulesOutput::builder()
                    .security_group_rules(
                        SecurityGroupRule::builder()
                            .security_group_rule_id("sgr-peer")
                            .group_id("sg-1")
                            .group_owner_id("111111111111")
                            .is_egress(false)
                            .ip_protocol("tcp")
                            .from_port(6379)
                            .to_port(6379)
                            .referenced_group_info(
                                ReferencedSecurityGroup::builder()
                                    .group_id("sg-peer")
                                    .user_id("222222222222")
                                    .build(),
                            )
                            .description("peer")
                            .tags(Tag::builder().key("k").value("v").build())
                            .build(),
                    )
                    .security_group_rules(
                        SecurityGroupRule::builder()
                            .security_group_rule_id("sgr-same")
                            .group_id("sg-1")
                            .group_owner_id("111111111111")
                            .ip_protocol("tcp")
                            .from_port(6379)
                            .to_port(6379)
                            .referenced_group_info(
                                ReferencedSecurityGroup::builder()
                                    .group_id("sg-2")
                                    .user_id("111111111111")
                                    .build(),
                            )
                            .build(),
                    )
                    .next_token("page-2")
                    .build()
            });
        let page2 = mock!(aws_sdk_ec2::Client::describe_security_group_rules)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(|| {
                DescribeSecurityGroupRulesOutput::builder()
                    .security_group_rules(
                        SecurityGroupRule::builder()
                            .security_group_rule_id("sgr-cidr")
                            .group_id("sg-1")
                            .ip_protocol("tcp")
                            .from_port(6379)
                            .to_port(6379)
                            .cidr_ipv4("10.1.2.3/16")
                            .build(),
                    )
                    .security_group_rules(
                        SecurityGroupRule::builder()
                            .security_group_rule_id("sgr-egress")
                            .group_id("sg-1")
                            .is_egress(true)
                            .ip_protocol("-1")
                            .from_port(-1)
                            .to_port(-1)
                            .cidr_ipv6("2001:db8::1/32")
                            .build(),
                    )
                    .security_group_rules(
                        SecurityGroupRule::builder()
                            .security_group_rule_id("sgr-pl")
                            .group_id("sg-1")
                            .ip_protocol("tcp")
                            .from_port(6379)
                            .to_port(6379)
                            .prefix_list_id("pl-123")
                            .build(),
                    )
                    .build()
            });
        let aws = aws(&[&page1, &page2], &[]);
        let rules = aws.describe_rules(&["sg-1".to_string()]).await.unwrap();
        assert_eq!((page1.num_calls(), page2.num_calls()), (1, 1));
        assert_eq!(rules.len(), 5);

        let peer = &rules[0];
        assert_eq!(peer.id, "sgr-peer");
        assert_eq!(
            peer.source,
            Some(Source::Group {
                id: "sg-peer".to_string(),
                owner: Some("222222222222".to_string())
            })
        );
        assert_eq!(peer.source_text, "222222222222/sg-peer");
        assert_eq!(peer.description.as_deref(), Some("peer"));
        assert_eq!(peer.tags.get("k").map(String::as_str), Some("v"));
        assert!(peer.is_tcp_port(6379));
        assert!(!peer.is_egress);

        assert_eq!(
            rules[1].source,
            Some(Source::Group {
                id: "sg-2".to_string(),
                owner: None
            })
        );
        assert_eq!(rules[1].source_text, "sg-2");

        assert_eq!(rules[2].source, Some(cidr("10.1.0.0/16")));
        assert_eq!(rules[2].source_text, "10.1.0.0/16");

        assert!(rules[3].is_egress);
        assert_eq!(rules[3].protocol, "-1");
        assert_eq!((rules[3].from_port, rules[3].to_port), (-1, -1));
        assert_eq!(rules[3].source, Some(cidr("2001:db8::/32")));

        assert_eq!(
            rules[4].source,
            Some(Source::PrefixList("pl-123".to_string()))
        );
        assert_eq!(rules[4].source_text, "pl-123");
    }

    // (f)
    #[tokio::test]
    async fn authorize_ingress_sends_one_call_with_one_permission_per_rule() {
        let rule = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress)
            .match_requests(|req| {
                let perms = req.ip_permissions();
                let one_source = |p: &IpPermission| {
                    p.user_id_group_pairs().len()
                        + p.ip_ranges().len()
                        + p.ipv6_ranges().len()
                        + p.prefix_list_ids().len()
                        == 1
                };
                let tagged = req.tag_specifications().len() == 1
                    && req.tag_specifications()[0].resource_type()
                        == Some(&ResourceType::SecurityGroupRule)
                    && req.tag_specifications()[0].tags()[0].key() == Some("managed-by");
                req.group_id() == Some("sg-1")
                    && tagged
                    && perms.len() == 4
                    && perms.iter().all(|p| {
                        p.ip_protocol() == Some("tcp")
                            && p.from_port() == Some(6380)
                            && p.to_port() == Some(6380)
                            && one_source(p)
                    })
                    && perms[0].user_id_group_pairs()[0].group_id() == Some("sg-client")
                    && perms[0].user_id_group_pairs()[0].user_id().is_none()
                    && perms[0].user_id_group_pairs()[0].description() == Some("web")
                    && perms[1].user_id_group_pairs()[0].group_id() == Some("sg-peer")
                    && perms[1].user_id_group_pairs()[0].user_id() == Some("222222222222")
                    && perms[2].ip_ranges()[0].cidr_ip() == Some("10.0.0.0/8")
                    && perms[2].ip_ranges()[0].description() == Some("web")
                    && perms[3].ipv6_ranges()[0].cidr_ipv6() == Some("2001:db8::/32")
            })
            .then_output(|| {
                let created = |id: &str, cidr: &str| {
                    SecurityGroupRule::builder()
                        .security_group_rule_id(id)
                        .group_id("sg-1")
                        .group_owner_id("111111111111")
                        .is_egress(false)
                        .ip_protocol("tcp")
                        .from_port(6380)
                        .to_port(6380)
                        .cidr_ipv4(cidr)
                        .description("web")
                        .tags(
                            Tag::builder()
                                .key("managed-by")
                                .value("elasticache-access")
                                .build(),
                        )
                        .build()
                };
                AuthorizeSecurityGroupIngressOutput::builder()
                    .r#return(true)
                    .security_group_rules(created("sgr-a", "10.0.0.0/8"))
                    .build()
            });
        let aws = aws(&[&rule], &[]);
        let specs = [
            spec(
                Source::Group {
                    id: "sg-client".to_string(),
                    owner: None,
                },
                6380,
            ),
            spec(
                Source::Group {
                    id: "sg-peer".to_string(),
                    owner: Some("222222222222".to_string()),
                },
                6380,
            ),
            spec(cidr("10.0.0.0/8"), 6380),
            spec(cidr("2001:db8::/32"), 6380),
        ];
        let created = aws
            .authorize_ingress("sg-1", &specs, &tags())
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 1);
        assert_eq!(created.len(), 1);
        assert_eq!(created[0].id, "sgr-a");
        assert_eq!(created[0].source, Some(cidr("10.0.0.0/8")));
        assert!(created[0].is_tcp_port(6380));
        assert_eq!(created[0].tags, tags());
    }

    // (g)
    #[tokio::test]
    async fn describe_cluster_of_a_replication_group_makes_three_calls() {
        let rg = mock!(aws_sdk_elasticache::Client::describe_replication_groups)
            .match_requests(|r| r.replication_group_id() == Some("rg-1"))
            .then_output(|| {
                DescribeReplicationGroupsOutput::builder()
                    .replication_groups(
                        ReplicationGroup::builder()
                            .replication_group_id("rg-1")
                            .member_clusters("rg-1-001")
                            .member_clusters("rg-1-002")
                            .node_groups(
                                NodeGroup::builder()
                                    .primary_endpoint(
                                        Endpoint::builder()
                                            .address("rg-1.abc.cache.amazonaws.com")
                                            .port(6380)
                                            .build(),
                                    )
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let cc = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
            .match_requests(|r| r.cache_cluster_id() == Some("rg-1-001"))
            .then_output(|| {
                DescribeCacheClustersOutput::builder()
                    .cache_clusters(
                        CacheCluster::builder()
                            .cache_cluster_id("rg-1-001")
                            .replication_group_id("rg-1")
                            .engine("valkey")
                            .cache_subnet_group_name("subnets-1")
                            .security_groups(
                                SecurityGroupMembership::builder()
                                    .security_group_id("sg-b")
                                    .status("active")
                                    .build(),
                            )
                            .security_groups(
                                SecurityGroupMembership::builder()
                                    .security_group_id("sg-a")
                                    .status("active")
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let sn = mock!(aws_sdk_elasticache::Client::describe_cache_subnet_groups)
            .match_requests(|r| r.cache_subnet_group_name() == Some("subnets-1"))
            .then_output(|| {
                DescribeCacheSubnetGroupsOutput::builder()
                    .cache_subnet_groups(
                        CacheSubnetGroup::builder()
                            .cache_subnet_group_name("subnets-1")
                            .vpc_id("vpc-9")
                            .build(),
                    )
                    .build()
            });
        let aws = aws(&[], &[&rg, &cc, &sn]);
        let info = aws.describe_cluster(&rg_ref("rg-1")).await.unwrap();
        assert_eq!((rg.num_calls(), cc.num_calls(), sn.num_calls()), (1, 1, 1));
        assert_eq!(
            info,
            ClusterInfo {
                kind: ClusterKind::ReplicationGroup,
                id: "rg-1".to_string(),
                vpc_id: Some("vpc-9".to_string()),
                port: Some(6380),
                endpoint: Some("rg-1.abc.cache.amazonaws.com:6380".to_string()),
                engine: Some("valkey".to_string()),
                security_group_ids: vec!["sg-b".to_string(), "sg-a".to_string()],
            }
        );
    }

    #[tokio::test]
    async fn cluster_security_groups_of_a_replication_group_is_the_union_over_its_members() {
        let member = |id: &str, rg: &str, groups: &[&str]| {
            let mut b = CacheCluster::builder()
                .cache_cluster_id(id)
                .replication_group_id(rg);
            for g in groups {
                b = b.security_groups(
                    SecurityGroupMembership::builder()
                        .security_group_id(*g)
                        .build(),
                );
            }
            b.build()
        };
        let page1 = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
            .match_requests(|r| {
                r.cache_cluster_id().is_none()
                    && r.marker().is_none()
                    && r.max_records() == Some(100)
            })
            .then_output(move || {
                DescribeCacheClustersOutput::builder()
                    .cache_clusters(member("other-001", "other", &["sg-x"]))
                    .cache_clusters(member("rg-1-001", "rg-1", &["sg-b", "sg-a"]))
                    .marker("m2")
                    .build()
            });
        let page2 = mock!(aws_sdk_elasticache::Client::describe_cache_clusters)
            .match_requests(|r| r.marker() == Some("m2"))
            .then_output(move || {
                DescribeCacheClustersOutput::builder()
                    .cache_clusters(member("rg-1-002", "rg-1", &["sg-a", "sg-c"]))
                    .build()
            });
        let aws = aws(&[], &[&page1, &page2]);
        let groups = aws.cluster_security_groups(&rg_ref("rg-1")).await.unwrap();
        assert_eq!(groups, ["sg-b", "sg-a", "sg-c"]);
        assert_eq!((page1.num_calls(), page2.num_calls()), (1, 1));

        let err = aws
            .cluster_security_groups(&rg_ref("rg-missing"))
            .await
            .unwrap_err();
        assert!(matches!(err, CloudError::NotFound { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn update_rule_descriptions_sends_rule_ids_and_descriptions_only() {
        // A group of a peered account and a prefix list: neither source is restated.
        let rule = mock!(aws_sdk_ec2::Client::update_security_group_rule_descriptions_ingress)
            .match_requests(|req| {
                let d = req.security_group_rule_descriptions();
                req.group_id() == Some("sg-1")
                    && req.ip_permissions().is_empty()
                    && d.len() == 2
                    && d[0].security_group_rule_id() == Some("sgr-1")
                    && d[0].description() == Some("web")
                    && d[1].security_group_rule_id() == Some("sgr-2")
                    && d[1].description() == Some("web")
            })
            .then_output(|| {
                UpdateSecurityGroupRuleDescriptionsIngressOutput::builder()
                    .r#return(true)
                    .build()
            });
        let aws = aws(&[&rule], &[]);
        aws.update_rule_descriptions(
            "sg-1",
            &[
                (
                    "sgr-1".to_string(),
                    spec(
                        Source::Group {
                            id: "sg-peer".to_string(),
                            owner: Some("222222222222".to_string()),
                        },
                        6379,
                    ),
                ),
                (
                    "sgr-2".to_string(),
                    spec(Source::PrefixList("pl-1".to_string()), 6379),
                ),
            ],
        )
        .await
        .unwrap();
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn an_empty_description_is_omitted_so_aws_removes_it() {
        let rule = mock!(aws_sdk_ec2::Client::update_security_group_rule_descriptions_ingress)
            .match_requests(|req| {
                let d = req.security_group_rule_descriptions();
                d.len() == 1 && d[0].description().is_none()
            })
            .then_output(|| UpdateSecurityGroupRuleDescriptionsIngressOutput::builder().build());
        let aws = aws(&[&rule], &[]);
        let mut s = spec(Source::Cidr("10.0.0.0/8".parse().unwrap()), 6379);
        s.description = String::new();
        aws.update_rule_descriptions("sg-1", &[("sgr-1".to_string(), s)])
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn empty_inputs_make_no_call() {
        // The mock clients have no rules: any call would panic.
        let aws = aws(&[], &[]);
        assert_eq!(aws.describe_security_groups(&[]).await.unwrap(), vec![]);
        assert_eq!(aws.describe_rules(&[]).await.unwrap(), vec![]);
        assert_eq!(
            aws.authorize_ingress("sg-1", &[], &tags()).await.unwrap(),
            vec![]
        );
        aws.revoke_ingress("sg-1", &[]).await.unwrap();
        aws.update_rule_descriptions("sg-1", &[]).await.unwrap();
        aws.create_tags(&[], &tags()).await.unwrap();
        aws.create_tags(&["sg-1".to_string()], &BTreeMap::new())
            .await
            .unwrap();
        aws.delete_tags(&["sg-1".to_string()], &[]).await.unwrap();
        let err = aws
            .describe_cluster(&ClusterRef::default())
            .await
            .unwrap_err();
        assert!(matches!(err, CloudError::Invalid { .. }), "{err:?}");
    }

    #[test]
    fn errors_without_a_code_are_timeout_or_request_failed() {
        type E = SdkError<DescribeSecurityGroupsError, HttpResponse>;
        let e = cloud_error(
            "DescribeSecurityGroups",
            E::timeout_error("operation timed out"),
        );
        assert!(matches!(e, CloudError::Other { .. }), "{e:?}");
        assert_eq!(e.code(), "Timeout");
        let e = cloud_error(
            "DescribeSecurityGroups",
            E::construction_failure("bad input"),
        );
        assert_eq!(e.code(), "RequestFailed");
        assert!(e.to_string().contains("bad input"), "{e}");
    }

    #[test]
    fn connect_errors_say_what_to_do() {
        assert!(ConnectError::NoRegion.to_string().contains("AWS_REGION"));
        assert!(check_endpoint("ec2", "EC2", Some("localhost:5000"))
            .unwrap_err()
            .to_string()
            .contains("AWS_ENDPOINT_URL_EC2"));
        assert_eq!(
            check_endpoint("ec2", "EC2", Some("http://127.0.0.1:5000")).unwrap(),
            Some("http://127.0.0.1:5000".to_string())
        );
        assert_eq!(check_endpoint("ec2", "EC2", Some("  ")).unwrap(), None);
    }

    fn test_loader() -> ConfigLoader {
        aws_config::defaults(BehaviorVersion::latest()).credentials_provider(
            aws_sdk_ec2::config::Credentials::new("AKIDTEST", "not-a-secret", None, None, "test"),
        )
    }

    #[tokio::test]
    async fn connect_rejects_bad_settings_before_any_call() {
        let cfg = ProviderConfig {
            region: Some("eu-west-1".to_string()),
            max_retries: Some(0),
            ..ProviderConfig::default()
        };
        let err = Aws::connect_with(&cfg, test_loader()).await.unwrap_err();
        assert_eq!(err, ConnectError::InvalidMaxRetries(0));

        let cfg = ProviderConfig {
            region: Some("eu-west-1".to_string()),
            assume_role: Some(crate::model::AssumeRole {
                role_arn: "my-role".to_string(),
                ..Default::default()
            }),
            ..ProviderConfig::default()
        };
        let err = Aws::connect_with(&cfg, test_loader()).await.unwrap_err();
        assert!(matches!(err, ConnectError::InvalidRoleArn(_)), "{err:?}");
    }

    #[tokio::test]
    #[allow(deprecated)] // aws-config only re-exports the profile file types under deprecated names
    async fn missing_credentials_say_where_credentials_come_from() {
        use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
        let dir = std::env::temp_dir().join(format!("aws-rs-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config");
        std::fs::write(&file, "[profile other]\nregion = eu-west-1\n").unwrap();
        let files = ProfileFiles::builder()
            .with_file(ProfileFileKind::Config, &file)
            .with_file(ProfileFileKind::Credentials, &file)
            .build();
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_files(files)
            .profile_name("absent")
            .build();
        let loader = aws_config::defaults(BehaviorVersion::latest()).credentials_provider(provider);
        let cfg = ProviderConfig {
            region: Some("eu-west-1".to_string()),
            endpoints: Some(crate::model::Endpoints {
                ec2: Some("http://127.0.0.1:9".to_string()),
                elasticache: None,
            }),
            max_retries: Some(1),
            ..ProviderConfig::default()
        };
        let aws = Aws::connect_with(&cfg, loader).await.unwrap();
        let err = aws.delete_security_group("sg-1").await.unwrap_err();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(err.code(), "NoCredentials", "{err}");
        assert!(matches!(err, CloudError::Invalid { .. }), "{err:?}");
        assert!(err.to_string().contains("AWS_ACCESS_KEY_ID"), "{err}");
    }

    #[tokio::test]
    async fn an_undefined_profile_is_reported_with_the_defined_ones() {
        let dir = std::env::temp_dir().join(format!("aws-rs-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config");
        let credentials = dir.join("credentials");
        std::fs::write(&config, "[profile dev]\nregion = eu-west-1\n").unwrap();
        std::fs::write(&credentials, "[prod]\naws_access_key_id = AKIDTEST\n").unwrap();
        let env = aws_types::os_shim_internal::Env::from_slice(&[
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
        ]);
        let found = check_profile_in("dev", &env).await;
        let missing = check_profile_in("staging", &env).await;
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(found, Ok(()));
        let err = missing.unwrap_err();
        assert_eq!(
            err,
            ConnectError::ProfileNotFound {
                name: "staging".to_string(),
                available: " (defined: dev, prod)".to_string()
            }
        );
        assert!(err.to_string().contains("AWS_PROFILE"), "{err}");
    }

    /// Serves one HTTP request on 127.0.0.1 with `status` and `body`; returns the URL and the request
    /// text it received.
    async fn one_shot_server(
        status: &'static str,
        body: &'static str,
    ) -> (String, tokio::task::JoinHandle<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut sock, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
                .await
                .expect("a request within 10 s")
                .unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = sock.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nx-amzn-RequestId: req-7\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            sock.write_all(response.as_bytes()).await.unwrap();
            sock.shutdown().await.ok();
            String::from_utf8_lossy(&buf).to_string()
        });
        (url, task)
    }

    #[tokio::test]
    async fn connect_honours_region_and_endpoint_overrides_on_the_wire() {
        let (url, server) = one_shot_server(
            "200 OK",
            r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
<requestId>r-1</requestId>
<securityGroupInfo><item><ownerId>111111111111</ownerId><groupId>sg-9</groupId><groupName>web-cluster</groupName><vpcId>vpc-1</vpcId></item></securityGroupInfo>
</DescribeSecurityGroupsResponse>"#,
        )
        .await;
        let cfg = ProviderConfig {
            region: Some("eu-west-1".to_string()),
            endpoints: Some(crate::model::Endpoints {
                ec2: Some(url),
                elasticache: Some("http://127.0.0.1:9".to_string()),
            }),
            max_retries: Some(2),
            ..ProviderConfig::default()
        };
        let aws = Aws::connect_with(&cfg, test_loader()).await.unwrap();
        assert_eq!(aws.region().as_deref(), Some("eu-west-1"));
        let retry = aws.ec2.config().retry_config().unwrap();
        assert_eq!(retry.max_attempts(), 2);
        assert_eq!(retry.initial_backoff(), INITIAL_BACKOFF);
        assert_eq!(retry.max_backoff(), MAX_BACKOFF);

        let groups = aws
            .describe_security_groups(&["sg-9".to_string()])
            .await
            .unwrap();
        assert_eq!(groups[0].id, "sg-9");
        let request = server.await.unwrap();
        assert!(request.starts_with("POST / HTTP/1.1"), "{request}");
        assert!(
            request.contains("Action=DescribeSecurityGroups"),
            "{request}"
        );
        assert!(request.contains("Filter.1.Name=group-id"), "{request}");
        assert!(request.contains("/eu-west-1/ec2/aws4_request"), "{request}");
        assert!(
            !request.contains("not-a-secret"),
            "the secret key is never sent"
        );
    }

    #[tokio::test]
    async fn an_ec2_error_answer_is_classified_by_its_code() {
        let (url, server) = one_shot_server(
            "400 Bad Request",
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>InvalidGroup.InUse</Code><Message>Group sg-9 is used by another group</Message></Error></Errors><RequestID>req-7</RequestID></Response>"#,
        )
        .await;
        let cfg = ProviderConfig {
            region: Some("eu-west-1".to_string()),
            endpoints: Some(crate::model::Endpoints {
                ec2: Some(url),
                elasticache: None,
            }),
            ..ProviderConfig::default()
        };
        let aws = Aws::connect_with(&cfg, test_loader()).await.unwrap();
        let err = aws.delete_security_group("sg-9").await.unwrap_err();
        server.await.unwrap();
        assert!(matches!(err, CloudError::InUse { .. }), "{err:?}");
        assert!(err.to_string().contains("used by another group"), "{err}");
        assert!(err.to_string().contains("req-7"), "{err}");
    }
}

#[cfg(test)]
mod iam_tests {
    use std::collections::BTreeSet;

    /// The IAM policy in the docs is generated from `cloud::IAM_ACTIONS`; this keeps that list equal to
    /// the SDK operations this file calls: every fluent builder `.verb_noun()` taking no argument.
    #[test]
    fn iam_actions_match_the_calls_made() {
        let src = include_str!("aws.rs");
        let code = src.split("#[cfg(test)]").next().unwrap_or_default();
        let verbs = [
            "describe_",
            "create_",
            "delete_",
            "modify_",
            "authorize_",
            "revoke_",
            "update_",
        ];
        let mut called = BTreeSet::new();
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
        let listed: BTreeSet<String> = crate::cloud::IAM_ACTIONS
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
