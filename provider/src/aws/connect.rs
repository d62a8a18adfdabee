//! Setting up the EC2 and ElastiCache clients from the provider's settings and the standard AWS chain
//! (environment, shared config and credentials files, SSO, credential process, container and
//! instance roles). Makes no AWS call: credentials are resolved (and a role assumed) on the first
//! request. A setting that cannot work is reported at its path.

use std::time::Duration;

use aws_config::{BehaviorVersion, ConfigLoader};
use aws_smithy_types::retry::RetryConfig;
use aws_types::region::Region;
use tracing::debug;

use crate::aws::Aws;
use crate::domain::declaration::settings::AwsSettings;
use crate::domain::diag::{AttrPath, Diagnostic};

/// First retry backoff of the standard retry mode.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// Largest retry backoff of the standard retry mode.
pub const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// How long one attempt of a call may take before it is abandoned and retried (as AWS's CLI and
/// botocore do with their 60 s read timeout): an answer that never comes must not hold an apply.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// Connecting to an endpoint gives up after this long (the SDK's own default).
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);
/// Overrides [`DEFAULT_ATTEMPT_TIMEOUT`] (a duration such as `"90s"` or `"2m"`), for networks whose
/// answers are slower; the fault tests set it low.
pub const ATTEMPT_TIMEOUT_ENV: &str = "ELASTICACHE_AWS_ATTEMPT_TIMEOUT";

/// The timeouts of every call: [`CONNECT_TIMEOUT`], and the attempt timeout from
/// [`ATTEMPT_TIMEOUT_ENV`] when it parses, else [`DEFAULT_ATTEMPT_TIMEOUT`].
pub fn timeout_config(env: Option<&str>) -> aws_config::timeout::TimeoutConfig {
    let attempt = env
        .and_then(|v| crate::domain::types::parse_duration(v).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_ATTEMPT_TIMEOUT);
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(attempt)
        .build()
}

/// The adaptive retry mode (the standard mode plus a client-side rate limit, shared by the calls of
/// one process to one service, that slows down when AWS throttles) with `max_attempts` attempts,
/// 1 s initial backoff and a 20 s cap.
pub fn retry_config(max_attempts: u32) -> RetryConfig {
    RetryConfig::adaptive()
        .with_max_attempts(max_attempts)
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(MAX_BACKOFF)
}

#[allow(deprecated)] // aws-config names the profile file types only under deprecated paths
fn profile_files(s: &AwsSettings) -> Option<aws_config::profile::profile_file::ProfileFiles> {
    use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
    if s.shared_config_files.is_empty() && s.shared_credentials_files.is_empty() {
        return None;
    }
    let mut b = ProfileFiles::builder();
    for f in &s.shared_config_files {
        b = b.with_file(ProfileFileKind::Config, f);
    }
    for f in &s.shared_credentials_files {
        b = b.with_file(ProfileFileKind::Credentials, f);
    }
    if s.shared_config_files.is_empty() {
        b = b.include_default_config_file(true);
    }
    if s.shared_credentials_files.is_empty() {
        b = b.include_default_credentials_file(true);
    }
    Some(b.build())
}

impl Aws {
    /// Builds the clients from the provider's AWS settings.
    pub async fn connect(s: &AwsSettings) -> Result<Aws, Vec<Diagnostic>> {
        Self::connect_with(s, aws_config::defaults(BehaviorVersion::latest())).await
    }

    /// [`Aws::connect`] starting from `loader` instead of the bare default chain.
    pub async fn connect_with(
        s: &AwsSettings,
        loader: ConfigLoader,
    ) -> Result<Aws, Vec<Diagnostic>> {
        let files = profile_files(s);
        if let Some(name) = &s.profile {
            check_profile(name, files.as_ref())
                .await
                .map_err(|d| vec![d])?;
        }
        let attempt = std::env::var(ATTEMPT_TIMEOUT_ENV).ok();
        let mut loader = loader
            .retry_config(retry_config(s.max_attempts))
            .timeout_config(timeout_config(attempt.as_deref()));
        if let Some(region) = &s.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(name) = &s.profile {
            loader = loader.profile_name(name);
        }
        if let Some(f) = files {
            #[allow(deprecated)]
            {
                loader = loader.profile_files(f);
            }
        }
        let mut sdk = loader.load().await;
        if sdk.region().is_none() {
            return Err(vec![Diagnostic::error(AttrPath::attr("region"), "No AWS Region", "No AWS Region is configured: set region in the provider configuration, or the AWS_REGION environment variable, or region in the selected AWS profile.")]);
        }
        if let Some(role) = &s.assume_role {
            let sts_conf = match &s.endpoints.sts {
                Some(url) => sdk.to_builder().endpoint_url(url).build(),
                None => sdk.clone(),
            };
            let mut builder = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
                .session_name(role.session_name.clone())
                .configure(&sts_conf);
            if let Some(id) = &role.external_id {
                builder = builder.external_id(id);
            }
            if let Some(d) = role.duration {
                builder = builder.session_length(d);
            }
            let provider = builder.build().await;
            debug!(role_arn = %role.role_arn, session_name = %role.session_name, "assuming role");
            sdk = sdk
                .into_builder()
                .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(
                    provider,
                ))
                .build();
        }
        Ok(Aws::from_sdk_config(
            &sdk,
            s.endpoints.ec2.as_deref(),
            s.endpoints.elasticache.as_deref(),
            s.endpoints.servicequotas.as_deref(),
        ))
    }
}

/// Fails early, with the profiles that do exist, when an explicit `profile` is not defined. A file
/// that cannot be read is left to the SDK (which reports it when credentials are needed).
#[allow(deprecated)]
async fn check_profile(
    name: &str,
    files: Option<&aws_config::profile::profile_file::ProfileFiles>,
) -> Result<(), Diagnostic> {
    check_profile_in(name, &aws_types::os_shim_internal::Env::real(), files).await
}

#[allow(deprecated)]
pub(crate) async fn check_profile_in(
    name: &str,
    env: &aws_types::os_shim_internal::Env,
    files: Option<&aws_config::profile::profile_file::ProfileFiles>,
) -> Result<(), Diagnostic> {
    let fs = aws_types::os_shim_internal::Fs::real();
    let default_files = Default::default();
    let Ok(set) = aws_config::profile::load(&fs, env, files.unwrap_or(&default_files), None).await
    else {
        return Ok(());
    };
    if set.get_profile(name).is_some() {
        return Ok(());
    }
    let mut names: Vec<&str> = set.profiles().collect();
    names.sort_unstable();
    let available = if names.is_empty() {
        "no profile is defined there".to_string()
    } else {
        format!("defined: {}", names.join(", "))
    };
    Err(Diagnostic::error(
        AttrPath::attr("profile"),
        "AWS profile not found",
        format!("The AWS profile {name:?} is not defined in the shared config or credentials files ({available}). Fix the name, or remove profile to use AWS_PROFILE or the default chain."),
    ))
}
