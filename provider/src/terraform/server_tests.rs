//! The Terraform adapter's own conversions (the lifecycle through it is in `lifecycle_tests.rs`).

use super::*;
use crate::domain::planning::state;
use tf::provider_server::Provider;

fn dv(v: &Value) -> Option<tf::DynamicValue> {
    Some(convert::encode(v, resource_attrs()))
}

fn cfg(j: serde_json::Value) -> Value {
    state::complete(Value::from_json(&j))
}

#[derive(Debug, PartialEq)]
struct AttrPathText(String);

impl AttrPathText {
    fn of(d: &tf::Diagnostic) -> Self {
        AttrPathText(
            d.attribute
                .as_ref()
                .map(|p| convert::path_from(p).to_string())
                .unwrap_or_default(),
        )
    }
}

#[tokio::test]
async fn schema_announces_plan_destroy_and_optional_schema() {
    let s = ProviderService::new();
    let r = s
        .get_provider_schema(Request::new(tf::get_provider_schema::Request {}))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    let caps = r.server_capabilities.unwrap_or_default();
    assert!(caps.plan_destroy && caps.get_provider_schema_optional);
    assert!(r.resource_schemas.contains_key(TF_RESOURCE_TYPE));
}

#[tokio::test]
async fn validation_points_at_the_attribute() {
    let s = ProviderService::new();
    let c = cfg(
        serde_json::json!({"vpc_id": "vpc-0123456789abcdef0", "tags": {"aws:x": "y"}, "allowed_cidr_blocks": ["nope"]}),
    );
    let r = s
        .validate_resource_config(Request::new(tf::validate_resource_config::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            config: dv(&c),
            client_capabilities: None,
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    let paths: Vec<AttrPathText> = r.diagnostics.iter().map(AttrPathText::of).collect();
    assert!(
        paths.contains(&AttrPathText("tags[\"aws:x\"]".into())),
        "{paths:?}"
    );
    assert!(
        paths.contains(&AttrPathText("allowed_cidr_blocks".into())),
        "{paths:?}"
    );
}

#[tokio::test]
async fn provider_validation_points_at_the_setting() {
    let s = ProviderService::new();
    let c = Value::from_json(
        &serde_json::json!({"region": "us-east-1", "assume_role": {"role_arn": "nope"}}),
    );
    let c = convert::encode(
        &state::complete_with(c.clone(), provider_attrs()),
        provider_attrs(),
    );
    let r = s
        .validate_provider_config(Request::new(tf::validate_provider_config::Request {
            config: Some(c),
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    let paths: Vec<AttrPathText> = r.diagnostics.iter().map(AttrPathText::of).collect();
    assert!(
        paths
            .iter()
            .any(|p| p.0.starts_with("assume_role") && p.0.ends_with("role_arn")),
        "{paths:?} {:?}",
        r.diagnostics
    );
}

#[tokio::test]
async fn unconfigured_plans_create_with_unknown_outputs_and_destroy_plans_null() {
    let s = ProviderService::new();
    let c = cfg(serde_json::json!({"vpc_id": "vpc-0123456789abcdef0", "name": "app"}));
    let r = s
        .plan_resource_change(Request::new(tf::plan_resource_change::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            prior_state: dv(&Value::Null),
            proposed_new_state: dv(&c),
            config: dv(&c),
            ..Default::default()
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let planned =
        convert::decode(r.planned_state.as_ref(), resource_attrs(), "p").unwrap_or_default();
    assert_eq!(planned.get("name"), &Value::from("app"));
    assert!(planned.get("id").is_unknown());
    assert!(!r.legacy_type_system);
    let r = s
        .plan_resource_change(Request::new(tf::plan_resource_change::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            prior_state: dv(&c),
            proposed_new_state: dv(&Value::Null),
            config: dv(&Value::Null),
            ..Default::default()
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    assert_eq!(
        convert::decode(r.planned_state.as_ref(), resource_attrs(), "p"),
        Ok(Value::Null)
    );
}

#[tokio::test]
async fn upgrade_accepts_json_of_version_zero() {
    let s = ProviderService::new();
    let r = s
        .upgrade_resource_state(Request::new(tf::upgrade_resource_state::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            version: 0,
            raw_state: Some(tf::RawState {
                json: br#"{"id":"sg-1","vpc_id":"vpc-1","removed_attr":1}"#.to_vec(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let v = convert::decode(r.upgraded_state.as_ref(), resource_attrs(), "s").unwrap_or_default();
    assert_eq!(v.get("id"), &Value::from("sg-1"));
    assert_eq!(v.get("unmanaged_ingress"), &Value::List(vec![]));
}

#[tokio::test]
async fn apply_and_read_without_configuration_are_diagnostics_not_crashes() {
    let s = ProviderService::new();
    let r = s
        .apply_resource_change(Request::new(tf::apply_resource_change::Request {
            type_name: TF_RESOURCE_TYPE.into(),
            prior_state: dv(&Value::Null),
            planned_state: dv(&cfg(serde_json::json!({"vpc_id": "vpc-0123456789abcdef0"}))),
            ..Default::default()
        }))
        .await
        .map(Response::into_inner)
        .unwrap_or_default();
    assert_eq!(
        r.diagnostics.first().map(|d| d.summary.as_str()),
        Some("Provider not configured")
    );
    assert_eq!(
        convert::decode(r.new_state.as_ref(), resource_attrs(), "s"),
        Ok(Value::Null)
    );
    let wrong = s
        .read_resource(Request::new(tf::read_resource::Request {
            type_name: "aws_instance".into(),
            ..Default::default()
        }))
        .await;
    assert!(wrong.is_err());
}
