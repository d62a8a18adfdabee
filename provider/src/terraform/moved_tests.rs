//! MoveResourceState on the wire: the capability is announced, and an unconfigured provider turns
//! terraform-provider-aws's `aws_security_group` JSON into a wholly known access and identity, or
//! refuses another resource with a diagnostic (never a gRPC error).

use super::*;
use tf::provider_server::Provider;

fn raw(j: &serde_json::Value) -> Option<tf::RawState> {
    Some(tf::RawState {
        json: serde_json::to_vec(j).unwrap_or_default(),
        flatmap: Default::default(),
    })
}

fn request(type_name: &str, state: serde_json::Value) -> tf::move_resource_state::Request {
    tf::move_resource_state::Request {
        source_provider_address: "registry.terraform.io/hashicorp/aws".into(),
        source_type_name: type_name.into(),
        source_schema_version: 1,
        source_state: raw(&state),
        target_type_name: TF_RESOURCE_TYPE.into(),
        ..Default::default()
    }
}

async fn call(req: tf::move_resource_state::Request) -> tf::move_resource_state::Response {
    ProviderService::new()
        .move_resource_state(Request::new(req))
        .await
        .map(Response::into_inner)
        .unwrap_or_default()
}

#[tokio::test]
async fn the_capability_is_announced() {
    let caps = ProviderService::provider_schema()
        .server_capabilities
        .unwrap_or_default();
    assert!(caps.move_resource_state);
}

#[tokio::test]
async fn an_unconfigured_provider_moves_an_aws_security_group_in() {
    let group = serde_json::json!({
        "arn": "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0aaaaaaaaaaaaaaa1",
        "description": "cache", "egress": [], "id": "sg-0aaaaaaaaaaaaaaa1", "ingress": [],
        "name": "cache-sg", "name_prefix": "", "owner_id": "123456789012",
        "revoke_rules_on_delete": false, "tags": null, "tags_all": {}, "timeouts": null,
        "vpc_id": "vpc-0123456789abcdef0"
    });
    let r = call(request("aws_security_group", group)).await;
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let s = convert::decode(r.target_state.as_ref(), resource_attrs(), "s").unwrap_or_default();
    assert!(s.is_wholly_known());
    assert_eq!(
        s.get("cluster_security_group_id").as_str(),
        Some("sg-0aaaaaaaaaaaaaaa1")
    );
    assert_eq!(s.get("name").as_str(), Some("cache-sg"));
    let i = identity::decode(r.target_identity.as_ref())
        .ok()
        .flatten()
        .unwrap_or_default();
    assert_eq!(i.get("region").as_str(), Some("us-east-1"));
    assert_eq!(i.get("account_id").as_str(), Some("123456789012"));
}

#[tokio::test]
async fn a_rule_or_a_broken_state_is_refused_with_a_diagnostic() {
    let rule = serde_json::json!({"id": "sgr-1", "security_group_id": "sg-0aaaaaaaaaaaaaaa1"});
    let r = call(request("aws_vpc_security_group_ingress_rule", rule)).await;
    assert_eq!(r.diagnostics.len(), 1);
    assert!(r.diagnostics[0]
        .detail
        .contains("id = \"sg-0aaaaaaaaaaaaaaa1\""));
    assert!(r.target_state.is_none() && r.target_identity.is_none());
    let mut broken = request("aws_security_group", serde_json::json!({}));
    broken.source_state = Some(tf::RawState {
        json: b"{not json".to_vec(),
        flatmap: Default::default(),
    });
    let r = call(broken).await;
    assert!(r.diagnostics[0].summary.contains("Invalid source state"));
}
