//! AWS's error codes, classified in one table ([`classify`]), and SDK errors turned into
//! [`CloudError`]s by their code.

use std::error::Error as StdError;
use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tracing::debug;

use crate::domain::cloud::CloudError;

/// Error codes of throttling, on EC2 (`RequestLimitExceeded`), ElastiCache (`Throttling`) and STS.
pub const THROTTLING_CODES: &[&str] = &[
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// States in which a group or cluster cannot be changed yet.
const IN_USE_CODES: &[&str] = &[
    "DependencyViolation",
    "InvalidGroup.InUse",
    "InvalidCacheClusterState",
    "InvalidCacheClusterStateFault",
    "InvalidReplicationGroupState",
    "InvalidReplicationGroupStateFault",
    "InvalidServerlessCacheStateFault",
];

/// Refusals: the request is wrong, or not allowed.
const REFUSAL_CODES: &[&str] = &[
    "UnauthorizedOperation",
    "AccessDenied",
    "AccessDeniedException",
    "AuthFailure",
    "MissingParameter",
    "OptInRequired",
    "Blocked",
];

/// Codes of a call the caller may not make, or that the Region or endpoint does not offer (a Region
/// without ElastiCache Serverless, an older endpoint): the kind of object it lists can be skipped.
const DENIED_OR_NOT_OFFERED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "InvalidAction",
    "UnknownOperation",
    "UnknownOperationException",
    "UnsupportedOperation",
    "OptInRequired",
];

/// True for an answer that says this caller may not make the call, or that it is not offered here.
pub fn is_denied_or_not_offered(e: &CloudError) -> bool {
    DENIED_OR_NOT_OFFERED_CODES.contains(&e.code())
}

/// The IAM action of `operation` (`elasticache:DescribeServerlessCaches`): the service prefix is
/// the SDK crate the error type `E` comes from (`aws_sdk_elasticache::…` gives `elasticache`).
fn iam_action<E>(operation: &str) -> String {
    let ty = std::any::type_name::<E>();
    match ty
        .strip_prefix("aws_sdk_")
        .and_then(|t| t.split("::").next())
    {
        Some(service) => format!("{service}:{operation}"),
        None => operation.to_string(),
    }
}

/// Classifies an AWS error code into the kind the engine acts on.
pub fn classify(code: &str, message: impl Into<String>) -> CloudError {
    let (code, message) = (code.to_string(), message.into());
    let c = code.as_str();
    if c.ends_with("NotFound") || c.ends_with(".NotFound") || c.ends_with("NotFoundFault") {
        CloudError::NotFound { code, message }
    } else if c == "InvalidPermission.Duplicate" {
        CloudError::Duplicate { code, message }
    } else if c == "InvalidGroup.Duplicate" {
        CloudError::AlreadyExists { code, message }
    } else if IN_USE_CODES.contains(&c) {
        CloudError::InUse { code, message }
    } else if THROTTLING_CODES.contains(&c) {
        CloudError::Throttled { code, message }
    } else if c.starts_with("Invalid")
        || c.ends_with("LimitExceeded")
        || c.ends_with("QuotaExceeded")
        || REFUSAL_CODES.contains(&c)
    {
        CloudError::Invalid { code, message }
    } else {
        CloudError::Other { code, message }
    }
}

/// Classifies any SDK error by its AWS error code ([`classify`]). Errors without a code
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
        let action = iam_action::<E>(operation);
        if DENIED_OR_NOT_OFFERED_CODES.contains(&code) && !message.contains(&action) {
            message.push_str(&format!(
                " (refused: {action}; allow this action to the caller)"
            ));
        }
        if let Some(id) = err.meta().extra("aws_request_id") {
            message.push_str(&format!(" (request id {id})"));
        }
        let e = classify(code, message);
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

pub(crate) fn not_found(code: &str, message: String) -> CloudError {
    CloudError::NotFound {
        code: code.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified_by_kind() {
        let kind = |c: &str| std::mem::discriminant(&classify(c, "m"));
        let of = |e: CloudError| std::mem::discriminant(&e);
        let m = || "m".to_string();
        for (code, want) in [
            (
                "InvalidGroup.NotFound",
                of(CloudError::NotFound {
                    code: m(),
                    message: m(),
                }),
            ),
            (
                "InvalidSecurityGroupRuleId.NotFound",
                of(CloudError::NotFound {
                    code: m(),
                    message: m(),
                }),
            ),
            (
                "ReplicationGroupNotFoundFault",
                of(CloudError::NotFound {
                    code: m(),
                    message: m(),
                }),
            ),
            (
                "InvalidPermission.Duplicate",
                of(CloudError::Duplicate {
                    code: m(),
                    message: m(),
                }),
            ),
            (
                "InvalidGroup.Duplicate",
                of(CloudError::AlreadyExists {
                    code: m(),
                    message: m(),
                }),
            ),
            (
                "DependencyViolation",
                of(CloudError::InUse {
                    code: m(),
                    message: m(),
                }),
            ),
            (
                "InvalidReplicationGroupState",
                of(CloudError::InUse {
                    code: m(),
                    message: m(),
                }),
            ),
            (
                "RequestLimitExceeded",
                of(CloudError::Throttled {
                    code: m(),
                    message: m(),
                }),
            ),
            (
                "Throttling",
                of(CloudError::Throttled {
                    code: m(),
                    message: m(),
                }),
            ),
            (
                "RulesPerSecurityGroupLimitExceeded",
                of(CloudError::Invalid {
                    code: m(),
                    message: m(),
                }),
            ),
            (
                "UnauthorizedOperation",
                of(CloudError::Invalid {
                    code: m(),
                    message: m(),
                }),
            ),
            (
                "InternalError",
                of(CloudError::Other {
                    code: m(),
                    message: m(),
                }),
            ),
        ] {
            assert_eq!(kind(code), want, "{code}");
        }
        assert!(classify("Throttling", "x").is_transient());
        assert!(classify("InternalError", "x").is_transient());
        assert!(!classify("AccessDenied", "x").is_transient());
    }
}
