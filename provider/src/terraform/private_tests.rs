//! The private state through the Terraform adapter (issue 23): an apply and a read keep what the
//! process saw of the cluster; a destroy's plan hands it on to the destroy's apply.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::domain::engine::rig::Rig;
use crate::domain::planning::state;
use tf::provider_server::Provider;

fn dv(v: &Value) -> Option<tf::DynamicValue> {
    Some(convert::encode(v, resource_attrs()))
}

#[tokio::test]
async fn the_private_state_carries_the_members_from_apply_to_read_to_destroy() {
    let rig = Rig::new().await;
    let cfg = state::complete(Value::from_json(
        &rig.cfg(json!({"attach_to_cluster": true})),
    ));
    let p = ProviderService::with_service(Arc::new(rig.svc));
    let planned = p
        .plan_resource_change(Request::new(tf::plan_resource_change::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            prior_state: dv(&Value::Null),
            proposed_new_state: dv(&cfg),
            config: dv(&cfg),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let applied = p
        .apply_resource_change(Request::new(tf::apply_resource_change::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            prior_state: dv(&Value::Null),
            planned_state: planned.planned_state.clone(),
            config: dv(&cfg),
            planned_private: planned.planned_private.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    let kept: serde_json::Value = serde_json::from_slice(&applied.private).unwrap();
    assert_eq!(
        kept,
        json!({"cluster": "replication_group_id=redis", "members": ["m-001", "m-002"]})
    );
    // a refresh answers it again (or keeps what it was given)
    let read = p
        .read_resource(Request::new(tf::read_resource::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            current_state: applied.new_state.clone(),
            private: applied.private.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.private, applied.private);
    // the destroy's plan hands it on; junk is no hint and no failure
    for private in [applied.private.clone(), b"not json".to_vec()] {
        let destroy = p
            .plan_resource_change(Request::new(tf::plan_resource_change::Request {
                type_name: TF_RESOURCE_TYPE.into(),
                prior_state: applied.new_state.clone(),
                proposed_new_state: dv(&Value::Null),
                config: dv(&Value::Null),
                prior_private: private.clone(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(destroy.diagnostics.is_empty(), "{:?}", destroy.diagnostics);
        assert_eq!(destroy.planned_private, private);
    }
}
