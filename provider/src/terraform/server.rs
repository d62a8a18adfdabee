//! The tfplugin6 `Provider` service and go-plugin's side services. Every RPC follows one recipe:
//! convert in ([`convert`]), call the core ([`crate::validate`], [`crate::plan`], [`Engine`]),
//! convert out. gRPC errors are kept for protocol failures; problems with input or with AWS are
//! diagnostics.

use std::sync::{Arc, RwLock};

use elasticache_proto::plugin;
use elasticache_proto::tfplugin6 as tf;
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::diag::Diagnostic;
use crate::engine::Engine;
use crate::model::{ProviderConfig, TF_RESOURCE_TYPE};
use crate::plan::{self, PlanInput};
use crate::schema::{self, Attribute};
use crate::value::Value;
use crate::{state, validate};

use super::convert;

type Rpc<T> = Result<Response<T>, Status>;

/// The provider's state across RPCs: the engine, once ConfigureProvider had a known configuration.
#[derive(Default)]
pub struct ProviderService {
    engine: RwLock<Option<Engine>>,
    stopped: RwLock<bool>,
}

fn resource_attrs() -> &'static [Attribute] {
    &schema::resource().attributes
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

fn not_configured() -> tf::Diagnostic {
    convert::error(
        "Provider not configured",
        "The elasticache provider was not configured with known values (its configuration depends on values known only after apply?). Make the provider configuration known at plan time.",
    )
}

fn diags(ds: &[Diagnostic]) -> Vec<tf::Diagnostic> {
    convert::diagnostics(ds, resource_attrs())
}

/// The inputs of a Terraform configuration object. Terraform's config carries every schema attribute,
/// computed ones included (always null there); the core validates and plans from inputs only.
fn config_inputs(config: &Value) -> Value {
    match config {
        Value::Map(m) => Value::Map(
            m.iter()
                .filter(|(k, _)| {
                    schema::resource()
                        .attribute(k)
                        .map(|a| a.mode != crate::model::Mode::Computed)
                        .unwrap_or(true)
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl ProviderService {
    pub fn new() -> Self {
        Self::default()
    }

    fn engine(&self) -> Option<Engine> {
        self.engine.read().ok().and_then(|e| e.clone())
    }

    fn set_engine(&self, e: Engine) {
        if self.stopped.read().map(|s| *s).unwrap_or(false) {
            e.cancel();
        }
        if let Ok(mut slot) = self.engine.write() {
            *slot = Some(e);
        }
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
            server_capabilities: Some(tf::ServerCapabilities {
                plan_destroy: true,
                get_provider_schema_optional: true,
                move_resource_state: false,
            }),
            ..Default::default()
        }
    }
}

/// The provider configuration as the core's type: None when any part is unknown.
fn provider_config(v: &Value) -> Result<Option<ProviderConfig>, Diagnostic> {
    if !v.is_wholly_known() {
        return Ok(None);
    }
    let Some(json) = v.to_json() else {
        return Ok(None);
    };
    let json = strip_nulls(json);
    let json = if json.is_null() {
        serde_json::json!({})
    } else {
        json
    };
    serde_json::from_value(json)
        .map(Some)
        .map_err(|e| Diagnostic::general("Invalid provider configuration", e.to_string()))
}

fn strip_nulls(j: serde_json::Value) -> serde_json::Value {
    match j {
        serde_json::Value::Object(o) => serde_json::Value::Object(
            o.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(strip_nulls).collect())
        }
        other => other,
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
            Ok(cfg) => convert::diagnostics(&validate::provider_config(&cfg), provider_attrs()),
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
                Ok(cfg) => diags(&validate::resource_config(&config_inputs(&cfg))),
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
        _: Request<tf::validate_data_resource_config::Request>,
    ) -> Rpc<tf::validate_data_resource_config::Response> {
        Err(Status::unimplemented("this provider has no data sources"))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<tf::upgrade_resource_state::Request>,
    ) -> Rpc<tf::upgrade_resource_state::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        let raw = req.raw_state.unwrap_or_default();
        let fail = |d: tf::Diagnostic| {
            Ok(Response::new(tf::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: vec![d],
            }))
        };
        if raw.json.is_empty() {
            if raw.flatmap.is_empty() {
                return Ok(Response::new(tf::upgrade_resource_state::Response {
                    upgraded_state: Some(convert::encode(&Value::Null, resource_attrs())),
                    diagnostics: vec![],
                }));
            }
            return fail(convert::error(
                "Unsupported state format",
                "This state is in Terraform's legacy flatmap format, which the elasticache provider never wrote.",
            ));
        }
        let json: serde_json::Value = match serde_json::from_slice(&raw.json) {
            Ok(j) => j,
            Err(e) => {
                return fail(convert::error(
                    "Invalid stored state",
                    format!("The stored state is not valid JSON: {e}"),
                ))
            }
        };
        match state::upgrade(&json, req.version) {
            Ok(v) => Ok(Response::new(tf::upgrade_resource_state::Response {
                upgraded_state: Some(convert::encode(&v, resource_attrs())),
                diagnostics: vec![],
            })),
            Err(d) => fail(convert::diagnostic(&d, resource_attrs())),
        }
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<tf::get_resource_identity_schemas::Request>,
    ) -> Rpc<tf::get_resource_identity_schemas::Response> {
        // No resource identity: an empty answer is valid for every client.
        Ok(Response::new(
            tf::get_resource_identity_schemas::Response::default(),
        ))
    }

    async fn upgrade_resource_identity(
        &self,
        _: Request<tf::upgrade_resource_identity::Request>,
    ) -> Rpc<tf::upgrade_resource_identity::Response> {
        Err(Status::unimplemented(
            "elasticache_access has no resource identity",
        ))
    }

    async fn configure_provider(
        &self,
        req: Request<tf::configure_provider::Request>,
    ) -> Rpc<tf::configure_provider::Response> {
        let req = req.into_inner();
        let cfg = match convert::decode(
            req.config.as_ref(),
            provider_attrs(),
            "provider configuration",
        ) {
            Ok(c) => c,
            Err(d) => {
                return Ok(Response::new(tf::configure_provider::Response {
                    diagnostics: vec![d],
                }))
            }
        };
        let mut diagnostics =
            convert::diagnostics(&validate::provider_config(&cfg), provider_attrs());
        if diagnostics
            .iter()
            .any(|d| d.severity == tf::diagnostic::Severity::Error as i32)
        {
            return Ok(Response::new(tf::configure_provider::Response {
                diagnostics,
            }));
        }
        match provider_config(&cfg) {
            Err(d) => diagnostics.push(convert::diagnostic(&d, provider_attrs())),
            Ok(None) => {
                tracing::info!(terraform_version = %req.terraform_version, "provider configuration not known yet; planning without AWS");
            }
            Ok(Some(pc)) => match Engine::connect(&pc).await {
                Ok(e) => {
                    tracing::info!(terraform_version = %req.terraform_version, "provider configured");
                    self.set_engine(e);
                }
                Err(d) => diagnostics.push(convert::diagnostic(&d, provider_attrs())),
            },
        }
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
        let current = match convert::decode(req.current_state.as_ref(), resource_attrs(), "state") {
            Ok(v) => v,
            Err(d) => {
                return Ok(Response::new(tf::read_resource::Response {
                    diagnostics: vec![d],
                    ..Default::default()
                }))
            }
        };
        let keep = |diagnostics| {
            Ok(Response::new(tf::read_resource::Response {
                new_state: req.current_state.clone(),
                diagnostics,
                private: req.private.clone(),
                ..Default::default()
            }))
        };
        if current.is_null() {
            return keep(vec![]);
        }
        let Some(engine) = self.engine() else {
            return keep(vec![not_configured()]);
        };
        match engine.read(&current).await {
            Ok(Some(v)) => Ok(Response::new(tf::read_resource::Response {
                new_state: Some(convert::encode(&state::complete(&v), resource_attrs())),
                private: req.private,
                ..Default::default()
            })),
            Ok(None) => Ok(Response::new(tf::read_resource::Response {
                new_state: Some(convert::encode(&Value::Null, resource_attrs())),
                ..Default::default()
            })),
            Err(d) => keep(diags(&[d])),
        }
    }

    async fn plan_resource_change(
        &self,
        req: Request<tf::plan_resource_change::Request>,
    ) -> Rpc<tf::plan_resource_change::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        let decoded = (|| {
            Ok::<_, tf::Diagnostic>((
                convert::decode(req.prior_state.as_ref(), resource_attrs(), "prior state")?,
                convert::decode(
                    req.proposed_new_state.as_ref(),
                    resource_attrs(),
                    "proposed state",
                )?,
                config_inputs(&convert::decode(
                    req.config.as_ref(),
                    resource_attrs(),
                    "configuration",
                )?),
            ))
        })();
        let (prior, proposed, config) = match decoded {
            Ok(x) => x,
            Err(d) => {
                return Ok(Response::new(tf::plan_resource_change::Response {
                    diagnostics: vec![d],
                    ..Default::default()
                }))
            }
        };
        // Destroy (plan_destroy): the planned state is null.
        if proposed.is_null() || config.is_null() {
            return Ok(Response::new(tf::plan_resource_change::Response {
                planned_state: Some(convert::encode(&Value::Null, resource_attrs())),
                ..Default::default()
            }));
        }
        let prior = (!prior.is_null()).then_some(prior);
        let p = match self.engine() {
            Some(e) => e.plan(prior.as_ref(), &config).await,
            None => plan::plan(&PlanInput {
                prior: prior.as_ref(),
                config: &config,
                default_tags: None,
                cluster: None,
            }),
        };
        tracing::debug!(
            rpc = "PlanResourceChange",
            create = prior.is_none(),
            replace = !p.requires_replace.is_empty(),
            diagnostics = p.diagnostics.len(),
            "planned"
        );
        Ok(Response::new(tf::plan_resource_change::Response {
            planned_state: Some(convert::encode(
                &state::complete(&p.planned),
                resource_attrs(),
            )),
            requires_replace: p
                .requires_replace
                .iter()
                .map(|r| convert::path(r, resource_attrs()))
                .collect(),
            planned_private: Vec::new(),
            diagnostics: diags(&p.diagnostics),
            legacy_type_system: false,
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<tf::apply_resource_change::Request>,
    ) -> Rpc<tf::apply_resource_change::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        let decoded = (|| {
            Ok::<_, tf::Diagnostic>((
                convert::decode(req.prior_state.as_ref(), resource_attrs(), "prior state")?,
                convert::decode(
                    req.planned_state.as_ref(),
                    resource_attrs(),
                    "planned state",
                )?,
            ))
        })();
        let (prior, planned) = match decoded {
            Ok(x) => x,
            Err(d) => {
                return Ok(Response::new(tf::apply_resource_change::Response {
                    new_state: req.prior_state.clone(),
                    diagnostics: vec![d],
                    ..Default::default()
                }))
            }
        };
        let answer = |state: &Value, diagnostics: Vec<tf::Diagnostic>| {
            let state = if state.is_null() {
                Value::Null
            } else {
                state::complete(state)
            };
            Ok(Response::new(tf::apply_resource_change::Response {
                new_state: Some(convert::encode(&state, resource_attrs())),
                diagnostics,
                ..Default::default()
            }))
        };
        let Some(engine) = self.engine() else {
            return answer(&prior, vec![not_configured()]);
        };
        if planned.is_null() {
            if prior.is_null() {
                return answer(&Value::Null, vec![]);
            }
            tracing::info!(id = ?prior.get("id").as_str(), "deleting");
            return match engine.delete(&prior).await {
                Ok(()) => answer(&Value::Null, vec![]),
                Err(e) => answer(e.state.as_ref().unwrap_or(&prior), diags(&e.diagnostics)),
            };
        }
        if prior.is_null() {
            tracing::info!("creating");
            return match engine.create(&planned).await {
                Ok(v) => answer(&v, vec![]),
                Err(e) => answer(
                    e.state.as_ref().unwrap_or(&Value::Null),
                    diags(&e.diagnostics),
                ),
            };
        }
        tracing::info!(id = ?prior.get("id").as_str(), "updating");
        match engine.update(&prior, &planned).await {
            Ok(v) => answer(&v, vec![]),
            Err(e) => answer(e.state.as_ref().unwrap_or(&prior), diags(&e.diagnostics)),
        }
    }

    async fn import_resource_state(
        &self,
        req: Request<tf::import_resource_state::Request>,
    ) -> Rpc<tf::import_resource_state::Response> {
        let req = req.into_inner();
        check_type(&req.type_name)?;
        let Some(engine) = self.engine() else {
            return Ok(Response::new(tf::import_resource_state::Response {
                diagnostics: vec![not_configured()],
                ..Default::default()
            }));
        };
        match engine.import(req.id.trim()).await {
            Ok(v) => Ok(Response::new(tf::import_resource_state::Response {
                imported_resources: vec![tf::import_resource_state::ImportedResource {
                    type_name: TF_RESOURCE_TYPE.into(),
                    state: Some(convert::encode(&state::complete(&v), resource_attrs())),
                    ..Default::default()
                }],
                ..Default::default()
            })),
            Err(d) => Ok(Response::new(tf::import_resource_state::Response {
                diagnostics: diags(&[d]),
                ..Default::default()
            })),
        }
    }

    async fn move_resource_state(
        &self,
        _: Request<tf::move_resource_state::Request>,
    ) -> Rpc<tf::move_resource_state::Response> {
        Err(Status::unimplemented(
            "moving state into elasticache_access is not supported",
        ))
    }

    async fn read_data_source(
        &self,
        _: Request<tf::read_data_source::Request>,
    ) -> Rpc<tf::read_data_source::Response> {
        Err(Status::unimplemented("this provider has no data sources"))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _: Request<tf::validate_ephemeral_resource_config::Request>,
    ) -> Rpc<tf::validate_ephemeral_resource_config::Response> {
        Err(Status::unimplemented(
            "this provider has no ephemeral resources",
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        _: Request<tf::open_ephemeral_resource::Request>,
    ) -> Rpc<tf::open_ephemeral_resource::Response> {
        Err(Status::unimplemented(
            "this provider has no ephemeral resources",
        ))
    }

    async fn renew_ephemeral_resource(
        &self,
        _: Request<tf::renew_ephemeral_resource::Request>,
    ) -> Rpc<tf::renew_ephemeral_resource::Response> {
        Err(Status::unimplemented(
            "this provider has no ephemeral resources",
        ))
    }

    async fn close_ephemeral_resource(
        &self,
        _: Request<tf::close_ephemeral_resource::Request>,
    ) -> Rpc<tf::close_ephemeral_resource::Response> {
        Err(Status::unimplemented(
            "this provider has no ephemeral resources",
        ))
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
        if let Ok(mut s) = self.stopped.write() {
            *s = true;
        }
        if let Some(e) = self.engine() {
            e.cancel();
        }
        Ok(Response::new(tf::stop_provider::Response {
            error: String::new(),
        }))
    }
}

/// go-plugin's controller: Shutdown asks the server to stop serving, after which the process exits.
pub struct Controller {
    pub shutdown: Arc<watch::Sender<bool>>,
}

#[tonic::async_trait]
impl plugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<plugin::Empty>) -> Rpc<plugin::Empty> {
        tracing::debug!("controller Shutdown: stopping");
        let _ = self.shutdown.send(true);
        Ok(Response::new(plugin::Empty {}))
    }
}

/// go-plugin's stdio forwarding: this provider writes nothing to stdout or stderr that needs it
/// (logs go to stderr directly), so the stream ends at once.
pub struct Stdio;

#[tonic::async_trait]
impl plugin::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = tokio_stream::Empty<Result<plugin::StdioData, Status>>;

    async fn stream_stdio(&self, _: Request<()>) -> Rpc<Self::StreamStdioStream> {
        Ok(Response::new(tokio_stream::empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tf::provider_server::Provider;

    fn dv(v: &Value) -> Option<tf::DynamicValue> {
        Some(convert::encode(v, resource_attrs()))
    }

    fn cfg(j: serde_json::Value) -> Value {
        state::complete(&Value::from_json(&j))
    }

    #[tokio::test]
    async fn schema_announces_plan_destroy_and_optional_schema() {
        let s = ProviderService::new();
        let r = s
            .get_provider_schema(Request::new(tf::get_provider_schema::Request {}))
            .await
            .map(Response::into_inner);
        let r = r.unwrap_or_default();
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
        let planned = convert::decode(r.planned_state.as_ref(), resource_attrs(), "p");
        assert_eq!(planned, Ok(Value::Null));
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
        let v =
            convert::decode(r.upgraded_state.as_ref(), resource_attrs(), "s").unwrap_or_default();
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

    #[test]
    fn provider_config_is_none_while_unknown() {
        let mut v = Value::from_json(
            &serde_json::json!({"region": "us-east-1", "endpoints": {"ec2": "http://x", "elasticache": null}}),
        );
        let pc = provider_config(&v);
        assert!(
            matches!(pc, Ok(Some(ref c)) if c.region.as_deref() == Some("us-east-1")),
            "{pc:?}"
        );
        v.set("region", Value::Unknown);
        assert!(matches!(provider_config(&v), Ok(None)));
    }
}
