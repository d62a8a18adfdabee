//! IAM auth tokens: [`presign`] makes one with the `aws-sigv4` signer the SDK itself uses, and
//! [`TokenSigning`] implements the core's [`TokenSigner`] port with the provider's own credentials
//! provider (the chain and `assume_role` every call uses) and Region. No AWS call is made, except
//! those the credentials provider makes to find credentials (STS for `assume_role`, IMDS, SSO).
//!
//! A token is the SigV4 query-presigned `GET http://<cache>/?Action=connect&User=<user>` (plus
//! `&ResourceType=ServerlessCache` for a serverless cache) for service `elasticache`, valid 900 s,
//! with the payload hash of the empty body, written without its scheme. As botocore's
//! `SigV4QueryAuth` does, the session token of temporary credentials is signed in
//! (`X-Amz-Security-Token` in the canonical query), and the parameters are written operation
//! parameters first, then `X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`,
//! `-SignedHeaders`, `-Security-Token` and `-Signature` last (`aws-sigv4` hands them over with the
//! signature before the session token).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_elasticache::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    sign, SessionTokenMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_types::error::display::DisplayErrorContext;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::domain::diag::Diagnostic;
use crate::domain::service::auth_token::{
    rfc3339, CacheKind, Signed, TokenRequest, TokenSigner, TOKEN_LIFETIME,
};

/// The signing name of ElastiCache.
pub const SERVICE: &str = "elasticache";

/// Cached credentials are used again only while they stay valid this much longer than a token.
const CREDENTIALS_SPARE: Duration = Duration::from_secs(300);

/// What SigV4 leaves unescaped in a query: RFC 3986's unreserved characters (as botocore's
/// `percent_encode_sequence`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

fn query(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Where botocore writes each signing parameter (the signature last).
fn botocore_rank(name: &str) -> usize {
    const ORDER: [&str; 7] = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
    ];
    ORDER
        .iter()
        .position(|n| *n == name)
        .unwrap_or(ORDER.len() - 1)
}

fn signing_failed(e: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::general(
        "Cannot sign the IAM auth token",
        format!("Signing the token failed: {e}"),
    )
}

/// The token for `req`, signed with `creds` for `region` as of `at`.
pub fn presign(
    creds: &Credentials,
    region: &str,
    req: &TokenRequest,
    at: SystemTime,
) -> Result<String, Diagnostic> {
    let mut operation = vec![("Action", "connect"), ("User", req.user_id.as_str())];
    if req.kind == CacheKind::Serverless {
        operation.push(("ResourceType", "ServerlessCache"));
    }
    let target = format!("{}/?{}", req.cache_name, query(&operation));
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_LIFETIME);
    // aws-sigv4's default too, set here because botocore's presigner signs the token in.
    settings.session_token_mode = SessionTokenMode::Include;
    let identity = Identity::from(creds.clone());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(at)
        .settings(settings)
        .build()
        .map_err(signing_failed)?
        .into();
    let request = SignableRequest::new(
        "GET",
        format!("http://{target}"),
        std::iter::empty(),
        SignableBody::Bytes(&[]),
    )
    .map_err(signing_failed)?;
    let (instructions, _) = sign(request, &params).map_err(signing_failed)?.into_parts();
    let (_, mut auth) = instructions.into_parts();
    auth.sort_by_key(|(name, _)| botocore_rank(name));
    let auth: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (*k, v.as_ref())).collect();
    Ok(format!("{target}&{}", query(&auth)))
}

/// The token signer of one provider: its credentials provider (None: none could be set up) and
/// Region, and the credentials last found (used again while they outlive a token by
/// `CREDENTIALS_SPARE`, so that `assume_role` does not call STS for every token).
#[derive(Clone, Debug, Default)]
pub struct TokenSigning {
    credentials: Option<SharedCredentialsProvider>,
    region: Option<String>,
    cached: Arc<Mutex<Option<Credentials>>>,
}

fn no_credentials(detail: String) -> Diagnostic {
    Diagnostic::general(
        "No AWS credentials to sign the IAM auth token",
        format!("{detail}. The token is signed with the provider's credentials, found as for every other call: the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), a profile, IAM Identity Center, a container or instance role, then assume_role."),
    )
}

impl TokenSigning {
    pub fn new(credentials: Option<SharedCredentialsProvider>, region: Option<String>) -> Self {
        TokenSigning {
            credentials,
            region,
            cached: Arc::default(),
        }
    }

    fn usable(c: &Credentials, at: SystemTime) -> bool {
        c.expiry()
            .is_none_or(|e| e >= at + TOKEN_LIFETIME + CREDENTIALS_SPARE)
    }

    async fn credentials(&self, at: SystemTime) -> Result<Credentials, Diagnostic> {
        let cached = self
            .cached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(c) = cached.filter(|c| Self::usable(c, at)) {
            return Ok(c);
        }
        let provider = self
            .credentials
            .as_ref()
            .ok_or_else(|| no_credentials("No credentials provider is configured".into()))?;
        let c = provider
            .provide_credentials()
            .await
            .map_err(|e| no_credentials(format!("{}", DisplayErrorContext(&e))))?;
        if let Some(e) = c.expiry().filter(|e| *e <= at) {
            return Err(no_credentials(format!(
                "The credentials found expired at {}",
                rfc3339(e)
            )));
        }
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
        Ok(c)
    }
}

#[async_trait]
impl TokenSigner for TokenSigning {
    async fn sign(&self, req: &TokenRequest, at: SystemTime) -> Result<Signed, Diagnostic> {
        let region = self.region.clone().ok_or_else(|| {
            Diagnostic::general(
                "No AWS Region",
                "The token is signed for the provider's Region, and none is configured.",
            )
        })?;
        let creds = self.credentials(at).await?;
        let token = presign(&creds, &region, req, at)?;
        let expires_at = creds
            .expiry()
            .map_or(at + TOKEN_LIFETIME, |e| e.min(at + TOKEN_LIFETIME));
        Ok(Signed { token, expires_at })
    }
}

#[cfg(test)]
#[path = "iam_token_tests.rs"]
mod tests;
