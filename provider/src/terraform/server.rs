//! The tfplugin6 `Provider` service and go-plugin's side services. Every RPC follows one recipe:
//! convert in ([`convert`]), call the one shared [`Service`] (validation, planning, apply, read,
//! import, tokens), convert out. gRPC errors are kept for protocol failures; problems with input or with AWS are
//! diagnostics.

use std::sync::Arc;

use elasticache_proto::tfplugin6 as tf;
use tonic::{Request, Response, Status};

use crate::aws::AwsConnector;
use crate::domain::declaration::model::TF_RESOURCE_TYPE;
use crate::domain::declaration::schema::{self, Attribute};
use crate::domain::declaration::value::Value;
use crate::domain::service::auth_token::TF_EPHEMERAL_TYPE;
use crate::domain::service::reach_query::TF_DATA_SOURCE_TYPE;
use crate::domain::service::Service;

use super::wire::{config_inputs, diags, encode_state, resource_attrs};
use super::{convert, data_source, ephemeral, identity, list, resource};

type Rpc<T> = Result<Response<T>, Status>;

/// The stream of a ListResource answer.
pub type ListStream = std::pin::Pin<
    Box<dyn tokio_stream::Stream<Item = Result<tf::list_resource::Event, Status>> + Send>,
>;

/// The `tfplugin6.Provider` service: a converter pair around the shared [`Service`].
pub struct ProviderService {
    svc: Arc<Service>,
}

impl Default for ProviderService {
    fn default() -> Self {
        Self::new()
    }
}

fn provider_attrs() -> &'static [Attribute] {
    &schema::provider().attributes
}

fn check_type(type_name: &str) -> Result<(), Status> {
    if type_name == TF_RESOURCE_TYPE {
        Ok(())
    } else {
        Err(Status::invalid_argument(format!(
            "unknown resource type {type_name:?}; this provider has only {TF_RESOURCE_TYPE}"
        )))
    }
}

impl ProviderService {
    /// A provider connecting to AWS.
    pub fn new() -> Self {
        Self::with_service(Arc::new(Service::new(Arc::new(AwsConnector))))
    }

    /// A provider over `svc` (tests give it a fake cloud).
    pub fn with_service(svc: Arc<Service>) -> Self {
        ProviderService { svc }
    }

    /// The GetProviderSchema answer (also used by tests and the schema dump).
    pub fn provider_schema() -> tf::get_provider_schema::Response {
        tf::get_provider_schema::Response {
            provider: Some(convert::schema(schema::provider())),
            resource_schemas: [(
                TF_RESOURCE_TYPE.to_string(),
                convert::schema(schema::resource()),
            )]
            .into(),
            list_resource_schemas: [(TF_RESOURCE_TYPE.to_string(), list::schema())].into(),
            ephemeral_resource_schemas: [(TF_EPHEMERAL_TYPE.to_string(), ephemeral::schema())]
                .into(),
            data_source_schemas: [(TF_DATA_SOURCE_TYPE.to_string(), data_source::schema())].into(),
            server_capabilities: Some(tf::ServerCapabilities {
                plan_destroy: true,
                get_provider_schema_optional: true,
                move_resource_state: true,
                generate_resource_config: true,
            }),
            ..Default::default()
        }
    }
}

#[tonic::async_trait]
impl tf::provider_server::Provider for ProviderService {
    async fn get_metadata(
        &self,
        _: Request<tf::get_metadata::Request>,
    ) -> Rpc<tf::get_metadata::Response> {
        Ok(Response::new(tf::get_metadata::Response {
            server_capabilities: Self::provider_schema().server_capabilities,
            resources: vec![tf::get_metadata::ResourceMetadata {
                type_name: TF_RESOURCE_TYPE.into(),
            }],
            list_resources: vec![tf::get_metadata::ListResourceMetadata {
                type_name: TF_RESOURCE_TYPE.into(),
            }],
            ephemeral_resources: vec![tf::get_metadata::EphemeralMetadata {
                type_name: TF_EPHEMERAL_TYPE.into(),
            }],
            data_sources: vec![tf::get_metadata::DataSourceMetadata {
                type_name: TF_DATA_SOURCE_TYPE.into(),
            }],
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<tf::get_provider_schema::Request>,
    ) -> Rpc<tf::get_provider_schema::Response> {
        tracing::debug!(rpc = "GetProviderSchema", "serving the schema");
        Ok(Response::new(Self::provider_schema()))
    }

    async fn validate_provider_config(
        &self,
        req: Request<tf::validate_provider_config::Request>,
    ) -> Rpc<tf::validate_provider_config::Response> {
        let req = req.into_inner();
        let diagnostics = match convert::decode(
            req.config.as_ref(),
            provider_attrs(),
            "provider configuration",
        ) {
            Err(d) => vec![d],
            Ok(cfg) => convert::diagnostics(&self.svc.validate_provider(&cfg), provider_attrs()),
        };
        Ok(Response::new(tf::validate_provider_config::Response {
            diagnostics,
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<tf::validate_resource_config::Request>,
    ) -> Rpc<tf::validate_resource_config::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        let diagnostics =
            match convert::decode(req.config.as_ref(), resource_attrs(), "configuration") {
                Err(d) => vec![d],
                Ok(cfg) => diags(&self.svc.validate(&config_inputs(cfg))),
            };
        tracing::debug!(
            rpc = "ValidateResourceConfig",
            diagnostics = diagnostics.len(),
            "validated"
        );
        Ok(Response::new(tf::validate_resource_config::Response {
            diagnostics,
        }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<tf::validate_data_resource_config::Request>,
    ) -> Rpc<tf::validate_data_resource_config::Response> {
        let req = req.into_inner();
        data_source::check_type(&req.type_name)?;
        Ok(Response::new(data_source::validate(&self.svc, &req)))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<tf::upgrade_resource_state::Request>,
    ) -> Rpc<tf::upgrade_resource_state::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        let raw = req.raw_state.unwrap_or_default();
        let answer = |state: Option<Value>, diagnostics: Vec<tf::Diagnostic>| {
            Ok(Response::new(tf::upgrade_resource_state::Response {
                upgraded_state: state.map(|s| encode_state(Some(&s))),
                diagnostics,
            }))
        };
        if raw.json.is_empty() {
            if raw.flatmap.is_empty() {
                return answer(Some(Value::Null), vec![]);
            }
            return answer(None, vec![convert::error("Unsupported state format", "This state is in Terraform's legacy flatmap format, which the elasticache provider never wrote.")]);
        }
        let json: serde_json::Value = match serde_json::from_slice(&raw.json) {
            Ok(j) => j,
            Err(e) => {
                return answer(
                    None,
                    vec![convert::error(
                        "Invalid stored state",
                        format!("The stored state is not valid JSON: {e}"),
                    )],
                )
            }
        };
        match self.svc.upgrade(&json, req.version) {
            Ok(v) => answer(Some(v), vec![]),
            Err(d) => answer(None, diags(&[d])),
        }
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<tf::get_resource_identity_schemas::Request>,
    ) -> Rpc<tf::get_resource_identity_schemas::Response> {
        Ok(Response::new(identity::schemas()))
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<tf::upgrade_resource_identity::Request>,
    ) -> Rpc<tf::upgrade_resource_identity::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        // Version 0 is the only identity version: nothing is ever older than the schema.
        Err(Status::unimplemented(format!(
            "elasticache_access has only identity version {}; cannot upgrade version {}",
            crate::domain::planning::identity::IDENTITY_VERSION,
            req.version
        )))
    }

    async fn configure_provider(
        &self,
        req: Request<tf::configure_provider::Request>,
    ) -> Rpc<tf::configure_provider::Response> {
        let req = req.into_inner();
        let diagnostics = match convert::decode(
            req.config.as_ref(),
            provider_attrs(),
            "provider configuration",
        ) {
            Err(d) => vec![d],
            Ok(cfg) => {
                tracing::info!(terraform_version = %req.terraform_version, "configuring");
                convert::diagnostics(&self.svc.configure(&cfg).await, provider_attrs())
            }
        };
        Ok(Response::new(tf::configure_provider::Response {
            diagnostics,
        }))
    }

    async fn read_resource(
        &self,
        req: Request<tf::read_resource::Request>,
    ) -> Rpc<tf::read_resource::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        Ok(Response::new(resource::read(&self.svc, req).await))
    }

    async fn plan_resource_change(
        &self,
        req: Request<tf::plan_resource_change::Request>,
    ) -> Rpc<tf::plan_resource_change::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        Ok(Response::new(resource::plan(&self.svc, req).await))
    }

    async fn apply_resource_change(
        &self,
        req: Request<tf::apply_resource_change::Request>,
    ) -> Rpc<tf::apply_resource_change::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        Ok(Response::new(resource::apply(&self.svc, req).await))
    }

    async fn import_resource_state(
        &self,
        req: Request<tf::import_resource_state::Request>,
    ) -> Rpc<tf::import_resource_state::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        Ok(Response::new(resource::import(&self.svc, req).await))
    }

    async fn generate_resource_config(
        &self,
        req: Request<tf::generate_resource_config::Request>,
    ) -> Rpc<tf::generate_resource_config::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        Ok(Response::new(list::generate(&req)))
    }

    type ListResourceStream = ListStream;

    async fn list_resource(
        &self,
        req: Request<tf::list_resource::Request>,
    ) -> Rpc<Self::ListResourceStream> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        let events = list::list(&self.svc, &req).await;
        Ok(Response::new(Box::pin(tokio_stream::iter(
            events.into_iter().map(Ok),
        ))))
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<tf::validate_list_resource_config::Request>,
    ) -> Rpc<tf::validate_list_resource_config::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        Ok(Response::new(list::validate(&self.svc, &req)))
    }

    async fn move_resource_state(
        &self,
        req: Request<tf::move_resource_state::Request>,
    ) -> Rpc<tf::move_resource_state::Response> {
        let req = req.into_inner();
        check_type(&req.target_type_name)?;
        Ok(Response::new(resource::move_state(&self.svc, req)))
    }

    async fn read_data_source(
        &self,
        req: Request<tf::read_data_source::Request>,
    ) -> Rpc<tf::read_data_source::Response> {
        let req = req.into_inner();
        data_source::check_type(&req.type_name)?;
        Ok(Response::new(data_source::read(&self.svc, &req).await))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<tf::validate_ephemeral_resource_config::Request>,
    ) -> Rpc<tf::validate_ephemeral_resource_config::Response> {
        let req = req.into_inner();
        ephemeral::check_type(&req.type_name)?;
        Ok(Response::new(ephemeral::validate(&self.svc, &req)))
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<tf::open_ephemeral_resource::Request>,
    ) -> Rpc<tf::open_ephemeral_resource::Response> {
        let req = req.into_inner();
        ephemeral::check_type(&req.type_name)?;
        Ok(Response::new(ephemeral::open(&self.svc, &req).await))
    }

    async fn renew_ephemeral_resource(
        &self,
        req: Request<tf::renew_ephemeral_resource::Request>,
    ) -> Rpc<tf::renew_ephemeral_resource::Response> {
        let req = req.into_inner();
        ephemeral::check_type(&req.type_name)?;
        Ok(Response::new(ephemeral::renew(&self.svc, &req)))
    }

    async fn close_ephemeral_resource(
        &self,
        req: Request<tf::close_ephemeral_resource::Request>,
    ) -> Rpc<tf::close_ephemeral_resource::Response> {
        let req = req.into_inner();
        ephemeral::check_type(&req.type_name)?;
        Ok(Response::new(ephemeral::close(&req)))
    }

    async fn get_functions(
        &self,
        _: Request<tf::get_functions::Request>,
    ) -> Rpc<tf::get_functions::Response> {
        Err(Status::unimplemented("this provider has no functions"))
    }

    async fn call_function(
        &self,
        _: Request<tf::call_function::Request>,
    ) -> Rpc<tf::call_function::Response> {
        Err(Status::unimplemented("this provider has no functions"))
    }

    async fn stop_provider(
        &self,
        _: Request<tf::stop_provider::Request>,
    ) -> Rpc<tf::stop_provider::Response> {
        tracing::info!(rpc = "StopProvider", "cancelling in-flight work");
        self.svc.cancel();
        Ok(Response::new(tf::stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "identity_tests.rs"]
mod identity_tests;
#[cfg(test)]
#[path = "private_tests.rs"]
mod private_tests;

#[cfg(test)]
#[path = "ephemeral_tests.rs"]
mod ephemeral_tests;

#[cfg(test)]
#[path = "moved_tests.rs"]
mod moved_tests;
