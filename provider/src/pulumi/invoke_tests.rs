//! The function through the Pulumi adapter, over the fake cloud and signer.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use elasticache_proto::pulumirpc::resource_provider_server::ResourceProvider;
use prost_types::value::Kind;
use serde_json::json;
use tonic::Request;

use super::*;
use crate::domain::engine::rig::Rig;
use crate::pulumi::codec::{SECRET_SIG, SIG_KEY};

fn args(j: serde_json::Value) -> Option<Struct> {
    let v = crate::domain::declaration::value::Value::from_json(&j);
    Some(codec::encode(&v, &[], &BTreeSet::new(), Default::default()))
}

async fn provider() -> Provider {
    let p = Provider::with_service(Arc::new(Rig::new().await.svc), None);
    p.accept_secrets.store(true, Ordering::Relaxed);
    p
}

async fn invoke(p: &Provider, tok: &str, a: Option<Struct>) -> Result<rpc::InvokeResponse, Status> {
    p.invoke(Request::new(rpc::InvokeRequest {
        tok: tok.into(),
        args: a,
        preview: false,
    }))
    .await
    .map(tonic::Response::into_inner)
}

fn string(v: Option<&prost_types::Value>) -> Option<&str> {
    match v.and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(s)) => Some(s),
        _ => None,
    }
}

#[tokio::test]
async fn the_token_comes_back_as_a_secret_with_its_expiry() {
    let p = provider().await;
    let r = invoke(
        &p,
        PULUMI_FUNCTION_TOKEN,
        args(json!({"serverlessCacheName": "Sessions", "userId": "app"})),
    )
    .await;
    let Ok(r) = r else { panic!("{r:?}") };
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let ret = r.r#return.unwrap_or_default().fields;
    assert_eq!(string(ret.get("serverlessCacheName")), Some("Sessions"));
    assert_eq!(string(ret.get("userId")), Some("app"));
    assert!(string(ret.get("expiresAt")).is_some_and(|e| e.ends_with('Z')));
    let Some(Kind::StructValue(secret)) = ret.get("token").and_then(|v| v.kind.as_ref()) else {
        panic!("token is not a secret object: {:?}", ret.get("token"));
    };
    assert_eq!(string(secret.fields.get(SIG_KEY)), Some(SECRET_SIG));
    assert!(string(secret.fields.get("value"))
        .is_some_and(|t| t.starts_with("fake-token/sessions/app/")));
    assert!(!ret.contains_key("replicationGroupId"));
}

#[tokio::test]
async fn bad_arguments_are_check_failures_at_their_properties() {
    let p = provider().await;
    let r = invoke(
        &p,
        PULUMI_FUNCTION_TOKEN,
        args(json!({"replicationGroupId": "a", "serverlessCacheName": "b", "userId": "bad user"})),
    )
    .await
    .unwrap_or_default();
    assert!(r.r#return.is_none());
    let props: Vec<&str> = r.failures.iter().map(|f| f.property.as_str()).collect();
    assert_eq!(props, ["serverlessCacheName", "userId"]);
    let other = invoke(&p, "elasticache:index:getOther", None).await;
    assert!(matches!(other, Err(s) if s.code() == tonic::Code::Unimplemented));
}

#[test]
fn the_schema_declares_the_function_with_a_secret_token() {
    let s = crate::pulumi::schema::package_schema();
    let f = &s["functions"][PULUMI_FUNCTION_TOKEN];
    assert_eq!(f["inputs"]["required"], json!(["userId"]));
    assert_eq!(
        f["inputs"]["properties"]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec![
            "replicationGroupId".to_string(),
            "serverlessCacheName".to_string(),
            "userId".to_string()
        ])
    );
    assert_eq!(f["outputs"]["properties"]["token"]["secret"], json!(true));
    assert!(f["outputs"]["properties"]["expiresAt"]
        .get("secret")
        .is_none());
    assert_eq!(
        f["outputs"]["required"],
        json!(["userId", "token", "expiresAt"])
    );
}
