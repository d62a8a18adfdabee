//! `terraform query` on the wire (protocol 6.10): the list resource's schema,
//! ValidateListResourceConfig, ListResource (one event per access found, each with its identity)
//! and GenerateResourceConfig (the configuration `-generate-config-out` writes).

use elasticache_proto::tfplugin6 as tf;

use crate::domain::service::listing::{self, Listed};
use crate::domain::service::Service;

use super::wire::{encode_state, resource_attrs};
use super::{convert, identity};

fn list_attrs() -> &'static [crate::domain::declaration::schema::Attribute] {
    &listing::list_schema().attributes
}

/// The list resource's schema (Terraform nests it in the list block's `config` block).
pub fn schema() -> tf::Schema {
    convert::schema(listing::list_schema())
}

pub fn validate(
    svc: &Service,
    req: &tf::validate_list_resource_config::Request,
) -> tf::validate_list_resource_config::Response {
    let diagnostics = match convert::decode(req.config.as_ref(), list_attrs(), "list configuration")
    {
        Err(d) => vec![d],
        Ok(c) => convert::diagnostics(&svc.validate_list(&c), list_attrs()),
    };
    tf::validate_list_resource_config::Response { diagnostics }
}

fn event(l: &Listed, include_object: bool) -> tf::list_resource::Event {
    tf::list_resource::Event {
        identity: Some(identity::encode(&l.identity)),
        display_name: l.display_name.clone(),
        resource_object: include_object.then(|| encode_state(Some(&l.state))),
        diagnostic: Vec::new(),
    }
}

fn failed(d: Vec<tf::Diagnostic>) -> Vec<tf::list_resource::Event> {
    vec![tf::list_resource::Event {
        diagnostic: d,
        ..Default::default()
    }]
}

/// The events of one ListResource call: one per access found (at most `limit`, when positive), or
/// one event carrying the error.
pub async fn list(
    svc: &Service,
    req: &tf::list_resource::Request,
) -> Vec<tf::list_resource::Event> {
    let config = match convert::decode(req.config.as_ref(), list_attrs(), "list configuration") {
        Ok(c) => c,
        Err(d) => return failed(vec![d]),
    };
    match svc.list(&config).await {
        Ok(found) => {
            let limit = usize::try_from(req.limit).ok().filter(|l| *l > 0);
            tracing::debug!(rpc = "ListResource", found = found.len(), "listed");
            found
                .iter()
                .take(limit.unwrap_or(usize::MAX))
                .map(|l| event(l, req.include_resource_object))
                .collect()
        }
        Err(d) => failed(convert::diagnostics(&d, list_attrs())),
    }
}

pub fn generate(
    req: &tf::generate_resource_config::Request,
) -> tf::generate_resource_config::Response {
    match convert::decode(req.state.as_ref(), resource_attrs(), "state") {
        Ok(s) if s.is_null() => tf::generate_resource_config::Response {
            config: None,
            diagnostics: vec![convert::error(
                "No resource object to generate configuration from",
                "Set include_resource = true in the list block: the configuration of each access found is generated from its state.",
            )],
        },
        Ok(s) => tf::generate_resource_config::Response {
            config: Some(encode_state(Some(&listing::generated_config(&s)))),
            diagnostics: Vec::new(),
        },
        Err(d) => tf::generate_resource_config::Response {
            config: None,
            diagnostics: vec![d],
        },
    }
}
