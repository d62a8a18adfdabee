//! The token's arguments (paths of every problem, names as ElastiCache stores them) and the
//! service's open and renew over a fake signer.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;

use super::*;
use crate::domain::engine::rig::Rig;

fn v(j: serde_json::Value) -> Value {
    Value::from_json(&j)
}

fn paths(d: &[Diagnostic]) -> Vec<String> {
    d.iter().map(Diagnostic::path_text).collect()
}

#[test]
fn names_are_checked_and_lowercased_as_elasticache_stores_them() {
    assert_eq!(cache_name("My-Cache-01"), Ok("my-cache-01".into()));
    assert!(cache_name(&"a".repeat(40)).is_ok());
    for bad in [
        "",
        "1cache",
        "cache-",
        "ca--che",
        "ca_che",
        "cache.x",
        &"a".repeat(41),
    ] {
        assert!(cache_name(bad).is_err(), "{bad:?}");
    }
    assert_eq!(user_id("App-User"), Ok("app-user".into()));
    assert_eq!(user_id("a"), Ok("a".into()));
    for bad in ["", "-app", "9app", "app user", "app_user", "app@x"] {
        assert!(user_id(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn a_request_names_one_cache_of_its_kind() {
    let r = parse(
        &v(json!({"replication_group_id": "Orders", "user_id": "App"})),
        false,
    );
    assert_eq!(
        r,
        Ok(Some(TokenRequest {
            kind: CacheKind::ReplicationGroup,
            cache_name: "orders".into(),
            user_id: "app".into(),
        }))
    );
    let r = parse(
        &v(json!({"serverless_cache_name": "sessions", "user_id": "app", "token": null})),
        false,
    );
    assert_eq!(
        r.ok().flatten().map(|r| r.kind),
        Some(CacheKind::Serverless)
    );
}

#[test]
fn every_problem_is_reported_at_its_path_before_signing() {
    let e = parse(
        &v(json!({"replication_group_id": "a", "serverless_cache_name": "b", "user_id": "u"})),
        false,
    )
    .err()
    .unwrap_or_default();
    assert_eq!(paths(&e), ["serverless_cache_name"]);
    assert_eq!(e[0].summary, "Two caches named");

    let e = parse(&v(json!({"user_id": "u"})), false)
        .err()
        .unwrap_or_default();
    assert_eq!(paths(&e), [""]);
    assert!(e[0].detail.contains("replication_group_id"));

    let e = parse(
        &v(json!({"replication_group_id": "bad_name", "user_id": "9user"})),
        false,
    )
    .err()
    .unwrap_or_default();
    assert_eq!(paths(&e), ["replication_group_id", "user_id"]);
    assert!(e[0].detail.contains("\"bad_name\""), "{e:?}");

    let e = parse(&v(json!({"serverless_cache_name": "c"})), false)
        .err()
        .unwrap_or_default();
    assert_eq!(paths(&e), ["user_id"]);

    let e = parse(
        &v(json!({"serverless_cache_name": 3, "user_id": "u"})),
        false,
    )
    .err()
    .unwrap_or_default();
    assert_eq!(
        (paths(&e), e[0].summary.as_str()),
        (vec!["serverless_cache_name".to_string()], "Not a string")
    );
}

#[test]
fn values_not_known_yet_pass_validation_but_not_signing() {
    let mut c = v(json!({"replication_group_id": "orders"}));
    c.set("user_id", Value::Unknown);
    assert_eq!(parse(&c, true), Ok(None));
    let e = parse(&c, false).err().unwrap_or_default();
    assert_eq!(
        (paths(&e), e[0].summary.as_str()),
        (vec!["user_id".to_string()], "Value not known yet")
    );

    // An unknown cache name still counts as set: two caches are refused at once.
    let mut c = v(json!({"serverless_cache_name": "s", "user_id": "u"}));
    c.set("replication_group_id", Value::Unknown);
    assert_eq!(
        paths(&parse(&c, true).err().unwrap_or_default()),
        ["serverless_cache_name"]
    );
}

#[test]
fn renewal_comes_a_minute_before_expiry_or_halfway_for_short_tokens() {
    let at = UNIX_EPOCH + Duration::from_secs(1_000_000);
    assert_eq!(
        renew_at(at, at + TOKEN_LIFETIME),
        at + Duration::from_secs(840)
    );
    assert_eq!(
        renew_at(at, at + Duration::from_secs(90)),
        at + Duration::from_secs(45)
    );
    assert_eq!(rfc3339(at), "1970-01-12T13:46:40Z");
}

#[test]
fn the_schema_marks_the_token_sensitive_and_the_arguments_as_inputs() {
    let s = token_schema();
    let modes: Vec<(&str, Mode, bool)> = s
        .attributes
        .iter()
        .map(|a| (a.name.as_str(), a.mode, a.sensitive))
        .collect();
    assert_eq!(
        modes,
        [
            ("replication_group_id", Mode::Optional, false),
            ("serverless_cache_name", Mode::Optional, false),
            ("user_id", Mode::Required, false),
            ("token", Mode::Computed, true),
            ("expires_at", Mode::Computed, false),
        ]
    );
    assert!(s.attributes.iter().all(|a| !a.description.is_empty()));
}

#[tokio::test]
async fn open_signs_the_stored_names_and_echoes_the_configuration() {
    let rig = Rig::new().await;
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let config = v(
        json!({"replication_group_id": "Orders", "serverless_cache_name": null, "user_id": "App", "token": null, "expires_at": null}),
    );
    let o = rig.svc.open_token_at(&config, at).await;
    let Ok(o) = o else { panic!("{o:?}") };
    let signed = rig
        .connector
        .signer
        .signed
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    let want = TokenRequest {
        kind: CacheKind::ReplicationGroup,
        cache_name: "orders".into(),
        user_id: "app".into(),
    };
    assert_eq!(signed, [(want.clone(), at)]);
    // The configured values come back as written (Terraform requires it); the token is signed for
    // the stored names.
    assert_eq!(
        o.result.get("replication_group_id").as_str(),
        Some("Orders")
    );
    assert_eq!(o.result.get("user_id").as_str(), Some("App"));
    assert!(o.result.get("serverless_cache_name").is_null());
    assert_eq!(
        o.result.get("token").as_str(),
        Some("fake-token/orders/app/1800000000")
    );
    assert_eq!(
        o.result.get("expires_at").as_str(),
        Some("2027-01-15T08:15:00Z")
    );
    assert_eq!(o.renew_at, at + Duration::from_secs(840));
    assert_eq!(Private::decode(&o.private.encode()), Ok(o.private.clone()));
    assert_eq!(o.private.request, want);
    assert!(
        !format!("{o:?}").contains("fake-token"),
        "the token is redacted in Debug"
    );
}

#[tokio::test]
async fn nothing_is_signed_for_a_bad_configuration_or_an_unconfigured_provider() {
    let rig = Rig::unconfigured();
    let ok = v(json!({"serverless_cache_name": "s", "user_id": "u"}));
    let e = rig.svc.open_token(&ok).await.err().unwrap_or_default();
    assert_eq!(e[0].summary, "Provider not configured");

    let rig = Rig::new().await;
    let bad = v(json!({"replication_group_id": "a", "serverless_cache_name": "b", "user_id": "u"}));
    let e = rig.svc.open_token(&bad).await.err().unwrap_or_default();
    assert_eq!(paths(&e), ["serverless_cache_name"]);
    assert_eq!(rig.svc.validate_token(&bad).len(), 1);
    assert!(rig.svc.validate_token(&ok).is_empty());

    *rig.connector
        .signer
        .fail
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(Diagnostic::general(
        "No AWS credentials to sign the IAM auth token",
        "none",
    ));
    let e = rig.svc.open_token(&ok).await.err().unwrap_or_default();
    assert_eq!(
        e[0].summary,
        "No AWS credentials to sign the IAM auth token"
    );
    assert!(rig
        .connector
        .signer
        .signed
        .lock()
        .map(|s| s.is_empty())
        .unwrap_or_default());
}

#[tokio::test]
async fn renewal_warns_that_the_token_cannot_be_renewed_and_asks_for_no_more() {
    let rig = Rig::new().await;
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let o = rig
        .svc
        .open_token_at(
            &v(json!({"serverless_cache_name": "sessions", "user_id": "app"})),
            at,
        )
        .await;
    let Ok(o) = o else { panic!("{o:?}") };
    let r = rig.svc.renew_token(&o.private.encode());
    assert_eq!(r.renew_at, None);
    assert_eq!(r.diagnostics.len(), 1);
    let d = &r.diagnostics[0];
    assert!(!d.is_error());
    assert!(
        d.detail
            .contains("user app of serverless cache sessions expires at 2027-01-15T08:15:00Z"),
        "{d:?}"
    );
    let r = rig.svc.renew_token(b"not ours");
    assert!(r.diagnostics.iter().all(Diagnostic::is_error) && r.renew_at.is_none());
}
