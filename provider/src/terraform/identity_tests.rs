//! Identity and list RPCs through the Terraform adapter, over the fake cloud: one test per RPC.

use std::sync::Arc;

use serde_json::json;
use tokio_stream::StreamExt;

use super::*;
use crate::domain::engine::fake::{ACCOUNT, REGION};
use crate::domain::engine::rig::{Rig, CLUSTER};
use crate::domain::planning::state;
use tf::provider_server::Provider;

fn dv(v: &Value) -> Option<tf::DynamicValue> {
    Some(convert::encode(v, resource_attrs()))
}

fn ident(v: &serde_json::Value) -> Option<tf::ResourceIdentityData> {
    Some(identity::encode(&Value::from_json(v)))
}

fn decoded(i: Option<&tf::ResourceIdentityData>) -> Value {
    identity::decode(i).ok().flatten().unwrap_or_default()
}

fn state_of(v: Option<&tf::DynamicValue>) -> Value {
    convert::decode(v, resource_attrs(), "s").unwrap_or_default()
}

/// The adapter over a configured fake cloud, and the rig's configuration as Terraform sends it.
async fn provider() -> (ProviderService, Value) {
    let rig = Rig::new().await;
    let cfg = state::complete(Value::from_json(&rig.cfg(json!({}))));
    (ProviderService::with_service(Arc::new(rig.svc)), cfg)
}

async fn plan(
    p: &ProviderService,
    prior: &Value,
    cfg: &Value,
    prior_identity: Option<tf::ResourceIdentityData>,
) -> tf::plan_resource_change::Response {
    p.plan_resource_change(Request::new(tf::plan_resource_change::Request {
        type_name: TF_RESOURCE_TYPE.into(),
        prior_state: dv(prior),
        proposed_new_state: dv(cfg),
        config: dv(cfg),
        prior_identity,
        ..Default::default()
    }))
    .await
    .map(Response::into_inner)
    .unwrap_or_default()
}

/// Plans and applies a create: the state and the apply's answer.
async fn create(p: &ProviderService, cfg: &Value) -> (Value, tf::apply_resource_change::Response) {
    let planned = plan(p, &Value::Null, cfg, None).await;
    let r = p
        .apply_resource_change(Request::new(tf::apply_resource_change::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            prior_state: dv(&Value::Null),
            planned_state: planned.planned_state.clone(),
            config: dv(cfg),
            planned_identity: planned.planned_identity.clone(),
            ..Default::default()
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    (state_of(r.new_state.as_ref()), r)
}

fn want(state: &Value) -> serde_json::Value {
    json!({"account_id": ACCOUNT, "region": REGION, "id": state.get("id").as_str()})
}

#[tokio::test]
async fn get_resource_identity_schemas_declares_three_required_strings() {
    let r = ProviderService::new()
        .get_resource_identity_schemas(Request::new(Default::default()))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    let s = r
        .identity_schemas
        .get(TF_RESOURCE_TYPE)
        .cloned()
        .unwrap_or_default();
    assert_eq!(s.version, 0);
    let names: Vec<&str> = s
        .identity_attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["account_id", "region", "id"]);
    assert!(s
        .identity_attributes
        .iter()
        .all(|a| a.required_for_import && a.r#type == b"\"string\""));
}

#[tokio::test]
async fn provider_schema_and_metadata_announce_the_list_resource() {
    let s = ProviderService::provider_schema();
    assert!(s.list_resource_schemas.contains_key(TF_RESOURCE_TYPE));
    assert!(s
        .server_capabilities
        .is_some_and(|c| c.generate_resource_config));
    let m = ProviderService::new()
        .get_metadata(Request::new(Default::default()))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    assert_eq!(m.list_resources.len(), 1);
}

#[tokio::test]
async fn plan_and_apply_give_no_identity_on_create_then_a_known_one() {
    let (p, cfg) = provider().await;
    // A create plans no identity (its id is not known; `show -json` of a plan cannot print
    // unknown identity parts); the apply returns it.
    let planned = plan(&p, &Value::Null, &cfg, None).await;
    assert!(planned.diagnostics.is_empty() && planned.planned_state.is_some());
    assert_eq!(planned.planned_identity, None);
    let (st, applied) = create(&p, &cfg).await;
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    assert_eq!(
        decoded(applied.new_identity.as_ref()),
        Value::from_json(&want(&st))
    );
    // A state written without identity (the previous release) gets it at its next plan.
    let upd = plan(&p, &st, &cfg, None).await;
    assert_eq!(
        decoded(upd.planned_identity.as_ref()),
        Value::from_json(&want(&st))
    );
    let other = json!({"account_id": ACCOUNT, "region": REGION, "id": "sg-0000000000000000f"});
    let bad = plan(&p, &st, &cfg, ident(&other)).await;
    assert!(
        bad.diagnostics
            .iter()
            .any(|d| d.summary == "Unexpected identity change"),
        "{:?}",
        bad.diagnostics
    );
}

#[tokio::test]
async fn read_fills_a_missing_identity_and_keeps_a_recorded_one() {
    let (p, cfg) = provider().await;
    let (st, _) = create(&p, &cfg).await;
    for current_identity in [
        None,
        ident(&json!({"account_id": null, "region": REGION, "id": st.get("id").as_str()})),
    ] {
        let r = p
            .read_resource(Request::new(tf::read_resource::Request {
                type_name: TF_RESOURCE_TYPE.into(),
                current_state: dv(&st),
                current_identity,
                ..Default::default()
            }))
            .await
            .map(Response::into_inner)
            .unwrap_or_default();
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        assert_eq!(
            decoded(r.new_identity.as_ref()),
            Value::from_json(&want(&st))
        );
    }
}

#[tokio::test]
async fn read_refuses_a_recorded_identity_of_another_access_and_keeps_it() {
    let (p, cfg) = provider().await;
    let (st, _) = create(&p, &cfg).await;
    let other =
        ident(&json!({"account_id": ACCOUNT, "region": REGION, "id": "sg-0000000000000000f"}));
    let r = p
        .read_resource(Request::new(tf::read_resource::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            current_state: dv(&st),
            current_identity: other.clone(),
            ..Default::default()
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    assert!(r
        .diagnostics
        .iter()
        .any(|d| d.summary == "Unexpected identity change"));
    assert_eq!(r.new_identity, other);
    assert_eq!(state_of(r.new_state.as_ref()), st);
}

#[tokio::test]
async fn import_by_id_and_by_identity_return_the_identity() {
    let (p, cfg) = provider().await;
    let (st, _) = create(&p, &cfg).await;
    let id = st.get("id").as_str().unwrap_or_default().to_string();
    for (req_id, identity) in [(id.clone(), None), (String::new(), ident(&want(&st)))] {
        let r = p
            .import_resource_state(Request::new(tf::import_resource_state::Request {
                type_name: TF_RESOURCE_TYPE.into(),
                id: req_id,
                identity,
                ..Default::default()
            }))
            .await
            .map(Response::into_inner)
            .unwrap_or_default();
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        let imported = r.imported_resources.first().cloned().unwrap_or_default();
        assert_eq!(
            state_of(imported.state.as_ref()).get("id"),
            &Value::from(id.as_str())
        );
        assert_eq!(
            decoded(imported.identity.as_ref()),
            Value::from_json(&want(&st))
        );
    }
}

async fn list(
    p: &ProviderService,
    config: serde_json::Value,
    include: bool,
    limit: i64,
) -> Vec<tf::list_resource::Event> {
    let config = state::complete_with(
        Value::from_json(&config),
        &crate::domain::service::listing::list_schema().attributes,
    );
    let r = p
        .list_resource(Request::new(tf::list_resource::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            config: Some(convert::encode(
                &config,
                &crate::domain::service::listing::list_schema().attributes,
            )),
            include_resource_object: include,
            limit,
        }))
        .await;
    let Ok(r) = r else { return Vec::new() };
    r.into_inner().filter_map(Result::ok).collect().await
}

#[tokio::test]
async fn list_resource_streams_one_event_per_access_with_its_identity() {
    let (p, cfg) = provider().await;
    let (a, _) = create(&p, &cfg).await;
    let mut second = cfg.clone();
    second.set("name", Value::from("second"));
    let (b, _) = create(&p, &second).await;
    let events = list(
        &p,
        json!({"cluster": {"replication_group_id": CLUSTER}}),
        true,
        100,
    )
    .await;
    let mut got: Vec<Value> = events
        .iter()
        .map(|e| decoded(e.identity.as_ref()))
        .collect();
    let mut expect = vec![Value::from_json(&want(&a)), Value::from_json(&want(&b))];
    got.sort_by_key(|v| v.get("id").as_str().map(str::to_string));
    expect.sort_by_key(|v| v.get("id").as_str().map(str::to_string));
    assert_eq!(got, expect);
    assert!(events
        .iter()
        .any(|e| e.display_name.starts_with("second (")));
    assert!(events.iter().all(|e| state_of(e.resource_object.as_ref())
        .get("id")
        .as_str()
        .is_some()));
    let bare = list(&p, json!({}), false, 1).await;
    assert_eq!(bare.len(), 1);
    assert!(bare[0].resource_object.is_none() && bare[0].diagnostic.is_empty());
    let none = list(&p, json!({"tags": {"absent": "x"}}), true, 100).await;
    assert!(none.is_empty());
}

#[tokio::test]
async fn validate_list_resource_config_points_at_the_second_cluster_id() {
    let (p, _) = provider().await;
    let attrs = &crate::domain::service::listing::list_schema().attributes;
    let c = state::complete_with(
        Value::from_json(
            &json!({"cluster": {"replication_group_id": "a", "cache_cluster_id": "b"}}),
        ),
        attrs,
    );
    let r = p
        .validate_list_resource_config(Request::new(tf::validate_list_resource_config::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            config: Some(convert::encode(&c, attrs)),
            ..Default::default()
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    let paths: Vec<String> = r
        .diagnostics
        .iter()
        .filter_map(|d| d.attribute.as_ref())
        .map(|a| convert::path_from(a).to_string())
        .collect();
    assert_eq!(paths, ["cluster.cache_cluster_id"]);
}

#[tokio::test]
async fn generate_resource_config_keeps_inputs_only() {
    let (p, mut cfg) = provider().await;
    cfg.set("name", Value::Null);
    cfg.set("name_prefix", Value::from("gen-"));
    let (st, _) = create(&p, &cfg).await;
    let r = p
        .generate_resource_config(Request::new(tf::generate_resource_config::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            state: dv(&st),
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    let c = state_of(r.config.as_ref());
    assert_eq!(c.get("name_prefix"), &Value::from("gen-"));
    assert!(c.get("name").is_null() && c.get("id").is_null() && c.get("tags_all").is_null());
    assert_eq!(c.get("cluster"), st.get("cluster"));
    let none = p
        .generate_resource_config(Request::new(tf::generate_resource_config::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            state: dv(&Value::Null),
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    assert!(none
        .diagnostics
        .iter()
        .any(|d| d.detail.contains("include_resource")));
}
