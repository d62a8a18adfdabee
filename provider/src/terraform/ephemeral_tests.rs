//! The ephemeral resource through the Terraform adapter, over the fake cloud and signer.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::domain::engine::rig::Rig;
use crate::domain::service::auth_token::{self, TF_EPHEMERAL_TYPE};
use tf::provider_server::Provider;

fn attrs() -> &'static [Attribute] {
    &auth_token::token_schema().attributes
}

/// A configuration as Terraform sends it: every attribute, the computed ones null.
fn config(j: serde_json::Value) -> Option<tf::DynamicValue> {
    let mut v = Value::from_json(&j);
    for a in attrs() {
        if v.get(&a.name).is_null() {
            v.set(&a.name, Value::Null);
        }
    }
    Some(convert::encode(&v, attrs()))
}

async fn provider() -> ProviderService {
    ProviderService::with_service(Arc::new(Rig::new().await.svc))
}

#[tokio::test]
async fn the_schema_and_metadata_declare_the_ephemeral_resource_with_a_sensitive_token() {
    let p = provider().await;
    let s = p
        .get_provider_schema(Request::new(tf::get_provider_schema::Request {}))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    let block = s.ephemeral_resource_schemas[TF_EPHEMERAL_TYPE]
        .block
        .clone()
        .unwrap_or_default();
    let flags: Vec<(String, bool, bool, bool, bool)> = block
        .attributes
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                a.required,
                a.optional,
                a.computed,
                a.sensitive,
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            ("replication_group_id".into(), false, true, false, false),
            ("serverless_cache_name".into(), false, true, false, false),
            ("user_id".into(), true, false, false, false),
            ("token".into(), false, false, true, true),
            ("expires_at".into(), false, false, true, false),
        ]
    );
    let m = p
        .get_metadata(Request::new(tf::get_metadata::Request {}))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    assert_eq!(m.ephemeral_resources.len(), 1);
    assert_eq!(m.ephemeral_resources[0].type_name, TF_EPHEMERAL_TYPE);
}

#[tokio::test]
async fn validation_points_at_the_second_cache_and_refuses_other_types() {
    let p = provider().await;
    let r = p
        .validate_ephemeral_resource_config(Request::new(
            tf::validate_ephemeral_resource_config::Request {
                type_name: TF_EPHEMERAL_TYPE.into(),
                config: config(
                    json!({"replication_group_id": "a", "serverless_cache_name": "b", "user_id": "u"}),
                ),
            },
        ))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    let at: Vec<String> = r
        .diagnostics
        .iter()
        .filter_map(|d| {
            d.attribute
                .as_ref()
                .map(|a| convert::path_from(a).to_string())
        })
        .collect();
    assert_eq!(at, ["serverless_cache_name"]);
    let other = p
        .validate_ephemeral_resource_config(Request::new(
            tf::validate_ephemeral_resource_config::Request {
                type_name: "elasticache_other".into(),
                config: None,
            },
        ))
        .await;
    assert!(matches!(other, Err(s) if s.code() == tonic::Code::InvalidArgument));
}

#[tokio::test]
async fn open_renew_close() {
    let p = provider().await;
    let before = std::time::SystemTime::now();
    let o = p
        .open_ephemeral_resource(Request::new(tf::open_ephemeral_resource::Request {
            type_name: TF_EPHEMERAL_TYPE.into(),
            config: config(json!({"replication_group_id": "Orders", "user_id": "app"})),
            client_capabilities: None,
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    assert!(o.diagnostics.is_empty(), "{:?}", o.diagnostics);
    let result = convert::decode(o.result.as_ref(), attrs(), "result").unwrap_or_default();
    assert_eq!(result.get("replication_group_id").as_str(), Some("Orders"));
    assert!(result
        .get("token")
        .as_str()
        .is_some_and(|t| t.starts_with("fake-token/orders/app/")));
    let renew_at = o.renew_at.unwrap_or_default();
    let expected = ephemeral::timestamp(before + Duration::from_secs(840)).seconds;
    assert!(
        (expected..=expected + 5).contains(&renew_at.seconds),
        "{renew_at:?}"
    );
    let private = o.private.clone();
    assert!(private.as_ref().is_some_and(|b| !b.is_empty()));

    let r = p
        .renew_ephemeral_resource(Request::new(tf::renew_ephemeral_resource::Request {
            type_name: TF_EPHEMERAL_TYPE.into(),
            private: private.clone(),
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    assert_eq!(r.renew_at, None);
    assert_eq!(r.diagnostics.len(), 1);
    assert_eq!(
        r.diagnostics[0].severity,
        tf::diagnostic::Severity::Warning as i32
    );
    let c = p
        .close_ephemeral_resource(Request::new(tf::close_ephemeral_resource::Request {
            type_name: TF_EPHEMERAL_TYPE.into(),
            private,
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    assert!(c.diagnostics.is_empty());
}

#[tokio::test]
async fn open_with_a_malformed_id_answers_a_diagnostic_and_no_result() {
    let p = provider().await;
    let o = p
        .open_ephemeral_resource(Request::new(tf::open_ephemeral_resource::Request {
            type_name: TF_EPHEMERAL_TYPE.into(),
            config: config(json!({"serverless_cache_name": "sessions", "user_id": "9app"})),
            client_capabilities: None,
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    assert!(o.result.is_none() && o.renew_at.is_none() && o.private.is_none());
    let at: Vec<String> = o
        .diagnostics
        .iter()
        .filter_map(|d| {
            d.attribute
                .as_ref()
                .map(|a| convert::path_from(a).to_string())
        })
        .collect();
    assert_eq!(at, ["user_id"]);
}
