//! IAM auth tokens against botocore's SigV4 query presigner: for the same credentials, frozen time,
//! Region, host and parameters, the provider's token (parsed from a configuration by the core,
//! signed by `aws::iam_token::presign`) is the request botocore's `SigV4QueryAuth` makes: the same
//! parameters with the same values and the same signature, for both kinds of cache, with and
//! without a session token. botocore runs in `$PYTHON` (the venv's, as for the emulator).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use aws_sdk_elasticache::config::Credentials;
use elasticache_provider::aws::iam_token::presign;
use elasticache_provider::domain::declaration::value::Value;
use elasticache_provider::domain::service::auth_token::{self, CacheKind};
use serde_json::json;

/// botocore's presigner, its clock frozen at the case's time.
const BOTOCORE: &str = r#"
import datetime, json, sys
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
for c in json.load(sys.stdin):
    at = datetime.datetime.fromtimestamp(c["at"], datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda *a, **k: at
    creds = Credentials(c["access_key"], c["secret_key"], c["session_token"])
    query = "Action=connect&User=" + c["user"]
    if c["serverless"]:
        query += "&ResourceType=ServerlessCache"
    request = AWSRequest(method="GET", url="http://%s/?%s" % (c["cache"], query))
    botocore.auth.SigV4QueryAuth(creds, "elasticache", c["region"], expires=900).add_auth(request)
    out.append(request.url[len("http://"):])
json.dump(out, sys.stdout)
"#;

struct Case {
    config: serde_json::Value,
    region: &'static str,
    session_token: Option<&'static str>,
    at: SystemTime,
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn cases() -> Vec<Case> {
    let session = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc/def==";
    vec![
        Case {
            config: json!({"replication_group_id": "orders", "user_id": "app"}),
            region: "us-east-1",
            session_token: None,
            at: at(1_772_352_550), // 2026-03-01T08:09:10Z
        },
        Case {
            config: json!({"replication_group_id": "Orders-Cache", "user_id": "App-User"}),
            region: "eu-west-1",
            session_token: Some(session),
            at: at(1_772_352_550),
        },
        Case {
            config: json!({"serverless_cache_name": "sessions", "user_id": "app"}),
            region: "us-east-1",
            session_token: None,
            at: at(1_800_000_000),
        },
        Case {
            config: json!({"serverless_cache_name": "Sessions-1", "user_id": "iam-user-01"}),
            region: "ap-southeast-2",
            session_token: Some(session),
            at: at(1_800_000_123),
        },
    ]
}

fn params(token: &str) -> Result<(String, BTreeMap<String, String>)> {
    let (host, query) = token
        .split_once("/?")
        .ok_or_else(|| anyhow!("no /? in {token}"))?;
    let mut m = BTreeMap::new();
    for kv in query.split('&') {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| anyhow!("{kv:?} in {token}"))?;
        if m.insert(k.to_string(), v.to_string()).is_some() {
            return Err(anyhow!("{k} twice in {token}"));
        }
    }
    Ok((host.to_string(), m))
}

fn botocore(input: &serde_json::Value) -> Result<Vec<String>> {
    let python = elasticache_tests::python();
    let mut child = Command::new(&python)
        .args(["-c", BOTOCORE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {python} (set PYTHON to the venv's python)"))?;
    child
        .stdin
        .take()
        .ok_or_else(|| anyhow!("no stdin"))?
        .write_all(input.to_string().as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(anyhow!(
            "{python} with botocore failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

#[test]
fn tokens_are_the_requests_botocores_presigner_makes() -> Result<()> {
    let (access_key, secret_key) = (
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    );
    let mut ours = Vec::new();
    let mut input = Vec::new();
    for c in cases() {
        let req = auth_token::parse(&Value::from_json(&c.config), false)
            .map_err(|d| anyhow!("{d:?}"))?
            .ok_or_else(|| anyhow!("not known"))?;
        let creds = Credentials::new(
            access_key,
            secret_key,
            c.session_token.map(str::to_string),
            None,
            "test",
        );
        ours.push(presign(&creds, c.region, &req, c.at).map_err(|d| anyhow!("{d}"))?);
        // botocore gets the names as ElastiCache stores them (lowercase).
        input.push(json!({
            "access_key": access_key, "secret_key": secret_key, "session_token": c.session_token,
            "region": c.region, "cache": req.cache_name, "user": req.user_id,
            "serverless": req.kind == CacheKind::Serverless,
            "at": c.at.duration_since(UNIX_EPOCH)?.as_secs(),
        }));
    }
    let theirs = botocore(&json!(input))?;
    assert_eq!(theirs.len(), ours.len());
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        let (oh, op) = params(o)?;
        let (th, tp) = params(t)?;
        assert_eq!(oh, th, "case {i}: host");
        assert_eq!(
            op, tp,
            "case {i}: parameters\n ours:     {o}\n botocore: {t}"
        );
        assert_eq!(op.get("X-Amz-Signature"), tp.get("X-Amz-Signature"));
        // Same order too: operation parameters, then the signing ones, the signature last.
        assert_eq!(o, t, "case {i}");
    }
    // What the cases cover: both kinds, with and without a session token, names lowercased.
    let parsed: Vec<BTreeMap<String, String>> = ours
        .iter()
        .map(|t| params(t).map(|p| p.1))
        .collect::<Result<_>>()?;
    assert_eq!(
        parsed
            .iter()
            .map(|p| p.get("ResourceType").map(String::as_str))
            .collect::<Vec<_>>(),
        [None, None, Some("ServerlessCache"), Some("ServerlessCache")]
    );
    assert_eq!(
        parsed
            .iter()
            .map(|p| p.contains_key("X-Amz-Security-Token"))
            .collect::<Vec<_>>(),
        [false, true, false, true]
    );
    assert!(ours[1].starts_with("orders-cache/?Action=connect&User=app-user&"));
    Ok(())
}
