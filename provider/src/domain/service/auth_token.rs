//! The IAM auth token: the password a client presents to an ElastiCache cache with IAM
//! authentication (Valkey 7.2+, Redis OSS 7+, serverless included), served to Terraform as the
//! ephemeral resource [`TF_EPHEMERAL_TYPE`] and to Pulumi as the function [`PULUMI_FUNCTION_TOKEN`].
//!
//! Declared once here ([`token_schema`]); its arguments are checked here, every problem with its
//! attribute path, before anything is signed ([`parse`]); [`TokenSigner`] is the port that signs
//! (the `aws` module implements it with the provider's credentials and Region); the service's
//! [`Service::open_token`] and [`Service::renew_token`] are what both adapters call. No AWS call is
//! made: a token is a SigV4 presigned request, made offline as RDS's auth tokens are, so the caller
//! needs no ElastiCache permission but `elasticache:Connect`, which ElastiCache checks when the
//! client authenticates.

use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::declaration::model::{Mode, Nesting};
use crate::domain::declaration::schema::{Attribute, ResourceSchema, Type};
use crate::domain::declaration::value::Value;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::service::{not_configured, Service};

/// The Terraform ephemeral resource type.
pub const TF_EPHEMERAL_TYPE: &str = "elasticache_iam_auth_token";
/// The Pulumi function token.
pub const PULUMI_FUNCTION_TOKEN: &str = "elasticache:index:getIamAuthToken";
/// How long a token authenticates new connections: ElastiCache's 15 minutes (`X-Amz-Expires`).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(900);
/// Terraform is asked to renew this long before the token expires.
pub const RENEW_MARGIN: Duration = Duration::from_secs(60);
/// The IAM action ElastiCache checks when a client authenticates with a token.
pub const CONNECT_ACTION: &str = "elasticache:Connect";

/// The two cache attributes, exactly one of which is set.
pub const CACHE_ATTRS: [&str; 2] = ["replication_group_id", "serverless_cache_name"];

/// Which kind of cache the token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheKind {
    /// A node-based replication group: the request names it alone.
    ReplicationGroup,
    /// A serverless cache: the request adds `ResourceType=ServerlessCache`.
    Serverless,
}

impl CacheKind {
    /// The attribute that names a cache of this kind.
    pub fn attr(self) -> &'static str {
        match self {
            CacheKind::ReplicationGroup => CACHE_ATTRS[0],
            CacheKind::Serverless => CACHE_ATTRS[1],
        }
    }

    /// The resource type in its ARN (`arn:aws:elasticache:<region>:<account>:<type>:<name>`).
    pub fn arn_type(self) -> &'static str {
        match self {
            CacheKind::ReplicationGroup => "replicationgroup",
            CacheKind::Serverless => "serverlesscache",
        }
    }
}

/// What a token is signed for, as ElastiCache stores the names (lowercase).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    pub kind: CacheKind,
    pub cache_name: String,
    pub user_id: String,
}

impl fmt::Display for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            CacheKind::ReplicationGroup => "replication group",
            CacheKind::Serverless => "serverless cache",
        };
        write!(f, "user {} of {kind} {}", self.user_id, self.cache_name)
    }
}

/// A signed token and when it stops authenticating new connections.
#[derive(Clone, PartialEq, Eq)]
pub struct Signed {
    pub token: String,
    pub expires_at: SystemTime,
}

impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed")
            .field("token", &"** redacted **")
            .field("expires_at", &rfc3339(self.expires_at))
            .finish()
    }
}

/// Signs tokens with the provider's credentials, for the provider's Region.
#[async_trait]
pub trait TokenSigner: Send + Sync {
    /// Signs `req` as of `at`. Fails, before signing, when no credentials can be found.
    async fn sign(&self, req: &TokenRequest, at: SystemTime) -> Result<Signed, Diagnostic>;
}

fn attribute(name: &str, mode: Mode, description: &str, sensitive: bool) -> Attribute {
    Attribute {
        name: name.to_string(),
        ty: Type::String,
        description: description.to_string(),
        mode,
        replaces: false,
        default: None,
        nesting: Nesting::Attribute,
        range: None,
        sensitive,
    }
}

/// The token's schema: its arguments and its results.
pub fn token_schema() -> &'static ResourceSchema {
    static S: OnceLock<ResourceSchema> = OnceLock::new();
    S.get_or_init(|| ResourceSchema {
        description: "A short-lived IAM authentication token for an ElastiCache user (Valkey 7.2 and later, Redis OSS 7 and later, serverless caches included): the password a client presents, with `user_id` as the user name, in Valkey's or Redis OSS's `AUTH` or `HELLO` command. It authenticates new connections for 15 minutes; connections made with it stay open. It is signed with the provider's credentials (after `assume_role`) for the provider's Region, without any AWS call; ElastiCache checks `elasticache:Connect` on the cache and the user when the client authenticates.".to_string(),
        version: 0,
        attributes: vec![
            attribute("replication_group_id", Mode::Optional, "The replication group the token is for (node-based caches). Exactly one of `replication_group_id` or `serverless_cache_name`. ElastiCache stores the name lowercase, and the token names it so.", false),
            attribute("serverless_cache_name", Mode::Optional, "The serverless cache the token is for. Exactly one of `replication_group_id` or `serverless_cache_name`. ElastiCache stores the name lowercase, and the token names it so.", false),
            attribute("user_id", Mode::Required, "The id of the ElastiCache user (authentication mode `iam`, whose user name is its id) the client authenticates as. ElastiCache stores it lowercase, and the token names it so.", false),
            attribute("token", Mode::Computed, "The token: a SigV4-signed request for `elasticache:Connect`, valid until `expires_at`. Use it as the password, with `user_id` as the user name, over TLS.", true),
            attribute("expires_at", Mode::Computed, "When the token stops authenticating new connections (RFC 3339, UTC): 15 minutes after it was signed, or when the provider's temporary credentials expire if that is sooner.", false),
        ],
    })
}

/// An RFC 3339 time, to the second, in UTC.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn not_known(attr: &str) -> Diagnostic {
    Diagnostic::error(
        AttrPath::attr(attr),
        "Value not known yet",
        format!("{attr} is not known yet; a token can only be signed for known names."),
    )
}

/// Checks an ElastiCache cache name (replication group or serverless cache): 1 to 40 letters,
/// digits and hyphens, a letter first, no hyphen last and no two in a row. Returns it lowercase,
/// as ElastiCache stores it.
pub fn cache_name(s: &str) -> Result<String, String> {
    let ok = (1..=40).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.ends_with('-')
        && !s.contains("--");
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!("{s:?} is not an ElastiCache cache name: 1 to 40 letters, digits and hyphens, starting with a letter, without a hyphen at the end or two in a row."))
    }
}

/// Checks an ElastiCache user id (`[a-zA-Z][a-zA-Z0-9-]*`). Returns it lowercase, as ElastiCache
/// stores it.
pub fn user_id(s: &str) -> Result<String, String> {
    let ok = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!(
            "{s:?} is not an ElastiCache user id: a letter, then letters, digits and hyphens."
        ))
    }
}

/// One checked string argument: Some(Ok) known, Some(Err) unknown (with its diagnostic), None
/// null; a malformed one is pushed to `out`.
fn string_arg(
    config: &Value,
    attr: &str,
    check: fn(&str) -> Result<String, String>,
    out: &mut Vec<Diagnostic>,
) -> Option<Result<String, Diagnostic>> {
    match config.get(attr) {
        Value::Null => None,
        Value::Unknown => Some(Err(not_known(attr))),
        Value::String(s) => match check(s) {
            Ok(v) => Some(Ok(v)),
            Err(e) => {
                let summary = if attr == "user_id" {
                    "Invalid user id"
                } else {
                    "Invalid cache name"
                };
                out.push(Diagnostic::error(AttrPath::attr(attr), summary, e));
                None
            }
        },
        _ => {
            out.push(Diagnostic::error(
                AttrPath::attr(attr),
                "Not a string",
                format!("{attr} must be a string."),
            ));
            None
        }
    }
}

/// The cache a configuration names: exactly one of [`CACHE_ATTRS`] set.
fn cache(
    config: &Value,
    out: &mut Vec<Diagnostic>,
) -> Option<Result<(CacheKind, String), Diagnostic>> {
    let set: Vec<&str> = CACHE_ATTRS
        .into_iter()
        .filter(|a| !config.get(a).is_null())
        .collect();
    match set.as_slice() {
        [] => {
            out.push(Diagnostic::general("No cache named", "Set one of replication_group_id (a node-based replication group) or serverless_cache_name (a serverless cache)."));
            None
        }
        [_, second] => {
            out.push(Diagnostic::error(AttrPath::attr(second), "Two caches named", "Set exactly one of replication_group_id or serverless_cache_name: a token is for one cache."));
            None
        }
        [attr] => {
            let kind = if *attr == CACHE_ATTRS[0] {
                CacheKind::ReplicationGroup
            } else {
                CacheKind::Serverless
            };
            string_arg(config, attr, cache_name, out).map(|r| r.map(|name| (kind, name)))
        }
        _ => None,
    }
}

/// The token request of a configuration (Terraform's ephemeral resource, Pulumi's invoke
/// arguments). With `allow_unknown`, values not known yet are no error and give `Ok(None)`: they may
/// become known; otherwise each is an error at its path. Every malformed id, a missing or second
/// cache and a missing user id are errors at their paths.
pub fn parse(config: &Value, allow_unknown: bool) -> Result<Option<TokenRequest>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let cache = cache(config, &mut out);
    let user = string_arg(config, "user_id", user_id, &mut out);
    if user.is_none() && config.get("user_id").is_null() {
        out.push(Diagnostic::error(
            AttrPath::attr("user_id"),
            "Missing user id",
            "Set user_id: the ElastiCache user the token authenticates.",
        ));
    }
    let mut unknown = Vec::new();
    let (cache, user) = match (cache, user) {
        (Some(Ok(c)), Some(Ok(u))) => (Some(c), Some(u)),
        (c, u) => {
            for r in [c.and_then(|c| c.err()), u.and_then(|u| u.err())] {
                unknown.extend(r);
            }
            (None, None)
        }
    };
    if !allow_unknown {
        out.extend(unknown);
    }
    if !out.is_empty() {
        return Err(out);
    }
    Ok(cache
        .zip(user)
        .map(|((kind, cache_name), user_id)| TokenRequest {
            kind,
            cache_name,
            user_id,
        }))
}

/// What Terraform keeps between Open, Renew and Close: the request and the expiry (no secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Private {
    pub request: TokenRequest,
    /// Seconds since the Unix epoch.
    pub expires_at: u64,
}

impl Private {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<Private, Diagnostic> {
        serde_json::from_slice(bytes).map_err(|e| {
            Diagnostic::general(
                "Unreadable ephemeral resource data",
                format!("Terraform sent back data this provider did not write: {e}"),
            )
        })
    }
}

/// An opened token: the result (the configuration's values, `token` and `expires_at`), when to
/// renew, and the private data.
#[derive(Clone, PartialEq)]
pub struct Opened {
    pub result: Value,
    pub renew_at: SystemTime,
    pub private: Private,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("result", &"** redacted **")
            .field("renew_at", &rfc3339(self.renew_at))
            .field("private", &self.private)
            .finish()
    }
}

/// A renewal: its warnings or errors, and the next renewal (None: no more).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Renewed {
    pub diagnostics: Vec<Diagnostic>,
    pub renew_at: Option<SystemTime>,
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// When Terraform should renew a token signed at `at` that expires at `expires_at`: [`RENEW_MARGIN`]
/// before it expires, or halfway when it lives shorter than twice the margin.
pub fn renew_at(at: SystemTime, expires_at: SystemTime) -> SystemTime {
    let life = expires_at.duration_since(at).unwrap_or_default();
    expires_at - RENEW_MARGIN.min(life / 2)
}

/// The result value: the configuration's own values (Terraform requires them unchanged), the token
/// and its expiry.
fn result(config: &Value, signed: &Signed) -> Value {
    let mut m = config.as_map().cloned().unwrap_or_default();
    m.retain(|k, _| token_schema().attribute(k).is_some_and(|a| a.is_input()));
    for a in CACHE_ATTRS.into_iter().chain(["user_id"]) {
        m.entry(a.to_string()).or_insert(Value::Null);
    }
    m.insert("token".into(), Value::String(signed.token.clone()));
    m.insert(
        "expires_at".into(),
        Value::String(rfc3339(signed.expires_at)),
    );
    Value::Map(m)
}

impl Service {
    /// Checks a token configuration: malformed ids and a missing or second cache, at their paths.
    /// Values not known yet are no error.
    pub fn validate_token(&self, config: &Value) -> Vec<Diagnostic> {
        parse(config, true).err().unwrap_or_default()
    }

    /// Signs a token for `config` now.
    pub async fn open_token(&self, config: &Value) -> Result<Opened, Vec<Diagnostic>> {
        self.open_token_at(config, SystemTime::now()).await
    }

    /// Signs a token for `config` as of `now`: every problem with the configuration, or a provider
    /// without credentials, is reported before anything is signed.
    pub async fn open_token_at(
        &self,
        config: &Value,
        now: SystemTime,
    ) -> Result<Opened, Vec<Diagnostic>> {
        let Some(req) = parse(config, false)? else {
            return Err(vec![not_known("user_id")]);
        };
        let signer = self.token_signer().ok_or_else(|| vec![not_configured()])?;
        let signed = signer.sign(&req, now).await.map_err(|d| vec![d])?;
        tracing::info!(request = %req, expires_at = %rfc3339(signed.expires_at), "signed an IAM auth token");
        Ok(Opened {
            result: result(config, &signed),
            renew_at: renew_at(now, signed.expires_at),
            private: Private {
                request: req,
                expires_at: unix_seconds(signed.expires_at),
            },
        })
    }

    /// Terraform's renewal of a token about to expire. The token Terraform holds cannot be replaced
    /// (the protocol fixes an ephemeral result when it is opened) nor extended (its expiry is signed
    /// into it): the renewal says so, as a warning, and asks for no further renewal.
    pub fn renew_token(&self, private: &[u8]) -> Renewed {
        let p = match Private::decode(private) {
            Ok(p) => p,
            Err(d) => {
                return Renewed {
                    diagnostics: vec![d],
                    renew_at: None,
                }
            }
        };
        let expires = rfc3339(UNIX_EPOCH + Duration::from_secs(p.expires_at));
        Renewed {
            diagnostics: vec![Diagnostic::warning(AttrPath::root(), "IAM auth token expiring", format!("The token for {} expires at {expires} and cannot be renewed: from then on it authenticates no new connection (connections already made stay open). A client that connects later in this run needs a token of its own: split the run, or let the client sign its tokens.", p.request))],
            renew_at: None,
        }
    }
}

#[cfg(test)]
#[path = "auth_token_tests.rs"]
mod tests;
