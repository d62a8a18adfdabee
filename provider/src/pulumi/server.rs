//! The `pulumirpc.ResourceProvider` service: every RPC converts in (Struct → [`Value`]), calls the
//! shared [`Service`](crate::domain::service::Service), and converts out ([`super::convert`]).

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use elasticache_proto::pulumirpc::{
    self as rpc, check_request::autonaming_options::Mode as AutonamingMode,
    resource_provider_server::ResourceProvider,
};
use prost_types::Struct;
use tonic::{Code, Request, Response, Status};
use tracing::Instrument;

use super::codec;
use super::convert::{self, attrs, errors_text};
use super::inputs::{self, Autonaming};
use super::logging::rpc_span;
use crate::domain::declaration::model::Mode;
use crate::domain::declaration::schema;
use crate::domain::declaration::value::Value;
use crate::domain::diag::has_errors;
use crate::domain::planning::plan::{self, ChangeKind, Plan};
use crate::domain::planning::state;
use crate::domain::service::Apply;

pub use convert::{with_detail, RpcStatus, INIT_FAILED_TYPE_URL};

pub use super::provider::Provider;
use super::provider::{custom_timeout, ignoring};

#[tonic::async_trait]
impl ResourceProvider for Provider {
    async fn handshake(
        &self,
        request: Request<rpc::ProviderHandshakeRequest>,
    ) -> Result<Response<rpc::ProviderHandshakeResponse>, Status> {
        let req = request.into_inner();
        if let Some(log) = &self.log {
            log.set_address(&req.engine_address);
        }
        // An engine that handshakes accepts secrets in answers.
        self.accept_secrets.store(true, Ordering::Relaxed);
        Ok(Response::new(rpc::ProviderHandshakeResponse {
            accept_secrets: true,
            accept_resources: true,
            accept_outputs: false,
            supports_autonaming_configuration: true,
            ..Default::default()
        }))
    }

    async fn parameterize(
        &self,
        _: Request<rpc::ParameterizeRequest>,
    ) -> Result<Response<rpc::ParameterizeResponse>, Status> {
        Err(Status::unimplemented(
            "the elasticache provider takes no parameters",
        ))
    }

    async fn get_schema(
        &self,
        request: Request<rpc::GetSchemaRequest>,
    ) -> Result<Response<rpc::GetSchemaResponse>, Status> {
        let req = request.into_inner();
        if !req.subpackage_name.is_empty() && req.subpackage_name != super::schema::PACKAGE {
            return Err(Status::not_found(format!(
                "no sub-package {:?}",
                req.subpackage_name
            )));
        }
        Ok(Response::new(rpc::GetSchemaResponse {
            schema: super::schema::package_schema_string(),
        }))
    }

    async fn check_config(
        &self,
        request: Request<rpc::CheckRequest>,
    ) -> Result<Response<rpc::CheckResponse>, Status> {
        let req = request.into_inner();
        let v = self.remember(convert::provider_check_value(req.news.as_ref())?);
        let diags = self.svc.validate_provider(&v.value);
        let sh = self.shown(&v.secrets);
        convert::warn_all(&diags, &req.urn, &sh);
        Ok(Response::new(rpc::CheckResponse {
            failures: convert::check_failures(&diags, &sh),
            inputs: req.news,
        }))
    }

    async fn diff_config(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        let req = request.into_inner();
        let olds =
            convert::provider_check_value(req.old_inputs.as_ref().or(req.olds.as_ref()))?.value;
        let news = convert::provider_check_value(req.news.as_ref())?.value;
        let changes = schema::provider()
            .attributes
            .iter()
            .filter(|a| olds.get(&a.name) != news.get(&a.name))
            .map(|a| plan::Change {
                attr: a.name.clone(),
                kind: match (olds.get(&a.name), news.get(&a.name)) {
                    (Value::Null, _) => ChangeKind::Add,
                    (_, Value::Null) => ChangeKind::Delete,
                    _ => ChangeKind::Update,
                },
                // Security groups live in one Region: another Region means other resources.
                replaces: a.name == "region",
            })
            .collect();
        Ok(Response::new(convert::diff_response(&Plan {
            changes,
            ..Default::default()
        })))
    }

    async fn configure(
        &self,
        request: Request<rpc::ConfigureRequest>,
    ) -> Result<Response<rpc::ConfigureResponse>, Status> {
        let req = request.into_inner();
        let v = self.remember(convert::config_value(&req)?);
        let diags = self.svc.configure(&v.value).await;
        if has_errors(&diags) {
            return Err(Status::invalid_argument(format!(
                "invalid provider configuration: {}",
                errors_text(&diags, &self.shown(&v.secrets))
            )));
        }
        if req.accept_secrets {
            self.accept_secrets.store(true, Ordering::Relaxed);
        }
        Ok(Response::new(rpc::ConfigureResponse {
            accept_secrets: true,
            supports_preview: true,
            accept_resources: true,
            accept_outputs: false,
            supports_autonaming_configuration: true,
        }))
    }

    async fn invoke(
        &self,
        request: Request<rpc::InvokeRequest>,
    ) -> Result<Response<rpc::InvokeResponse>, Status> {
        let req = request.into_inner();
        super::invoke::check_token(&req.tok)?;
        let span = rpc_span("Invoke", "");
        self.invoke_function(&req.tok, req.args.as_ref())
            .instrument(span)
            .await
            .map(Response::new)
    }

    type StreamInvokeStream = tokio_stream::Empty<Result<rpc::InvokeResponse, Status>>;

    async fn stream_invoke(
        &self,
        _: Request<rpc::InvokeRequest>,
    ) -> Result<Response<Self::StreamInvokeStream>, Status> {
        Err(Status::unimplemented(
            "the elasticache provider has no functions",
        ))
    }

    async fn call(
        &self,
        _: Request<rpc::CallRequest>,
    ) -> Result<Response<rpc::CallResponse>, Status> {
        Err(Status::unimplemented(
            "the elasticache provider has no methods",
        ))
    }

    async fn check(
        &self,
        request: Request<rpc::CheckRequest>,
    ) -> Result<Response<rpc::CheckResponse>, Status> {
        let req = request.into_inner();
        let span = rpc_span("Check", &req.urn);
        async move {
            let news = self.decode(req.news.as_ref())?;
            let olds = self.decode(req.olds.as_ref())?;
            let mut inputs_v = news.value;
            let logical = inputs::logical_name(&req.name, &req.urn);
            let how = match &req.autonaming {
                None => Autonaming::Default,
                Some(a) if a.mode == AutonamingMode::Disable as i32 => Autonaming::Disabled,
                Some(a) if !a.proposed_name.is_empty() => {
                    Autonaming::Proposed(a.proposed_name.clone())
                }
                Some(_) => Autonaming::Default,
            };
            inputs::autoname(&mut inputs_v, &olds.value, logical, &how, &req.random_seed);
            let diags = self.svc.validate(&inputs_v);
            let sh = self.shown(&news.secrets);
            convert::warn_all(&diags, &req.urn, &sh);
            let failures = convert::check_failures(&diags, &sh);
            if failures.is_empty() {
                inputs_v = inputs::normalize(&inputs_v);
            }
            Ok(Response::new(rpc::CheckResponse {
                inputs: Some(codec::encode(
                    &inputs_v,
                    attrs(),
                    &news.secrets,
                    self.options(),
                )),
                failures,
            }))
        }
        .instrument(span)
        .await
    }

    async fn diff(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        let req = request.into_inner();
        let span = rpc_span("Diff", &req.urn);
        async move {
            let olds = self.decode_state(req.olds.as_ref(), &req.id)?;
            let mut secret = olds.secrets.clone();
            let old_inputs = match req.old_inputs.as_ref() {
                Some(s) => {
                    let d = self.decode(Some(s))?;
                    secret.extend(d.secrets);
                    d.value
                }
                None => state::inputs_of(&olds.value),
            };
            let news = self.decode(req.news.as_ref())?;
            secret.extend(news.secrets);
            let news = ignoring(news.value, &old_inputs, &req.ignore_changes);
            let p = self
                .plan(Some(&olds.value), &news, &req.urn, &secret)
                .await?;
            let mut answer = convert::diff_response(&p);
            answer.delete_before_replace = convert::delete_before_replace(
                &p,
                &news,
                inputs::logical_name(&req.name, &req.urn),
            );
            Ok(Response::new(answer))
        }
        .instrument(span)
        .await
    }

    async fn create(
        &self,
        request: Request<rpc::CreateRequest>,
    ) -> Result<Response<rpc::CreateResponse>, Status> {
        let req = request.into_inner();
        let span = rpc_span("Create", &req.urn);
        async move {
            let props = self.decode(req.properties.as_ref())?;
            let secrets = inputs::output_secrets(&props.secrets);
            let p = self.plan(None, &props.value, &req.urn, &secrets).await?;
            if req.preview {
                return Ok(Response::new(rpc::CreateResponse {
                    id: String::new(),
                    properties: Some(self.encode_state(&p.planned, &secrets)),
                    refresh_before_update: false,
                }));
            }
            let a = self
                .svc
                .apply_plan(
                    Apply {
                        prior: None,
                        planned: Some(p.planned),
                        timeout: custom_timeout(req.timeout),
                    },
                    p.typed,
                )
                .await;
            match (&a.state, !has_errors(&a.diagnostics)) {
                (Some(st), true) => {
                    convert::warn_all(&a.diagnostics, &req.urn, &self.shown(&secrets));
                    let id = st.get("id").as_str().unwrap_or_default().to_string();
                    if id.is_empty() {
                        return Err(Status::internal("the access was created but has no id"));
                    }
                    tracing::debug!(urn = req.urn.as_str(), "created {id}");
                    Ok(Response::new(rpc::CreateResponse {
                        id,
                        properties: Some(self.encode_state(st, &secrets)),
                        refresh_before_update: false,
                    }))
                }
                _ => Err(self.failed(&a, &secrets, req.properties.as_ref())),
            }
        }
        .instrument(span)
        .await
    }

    async fn read(
        &self,
        request: Request<rpc::ReadRequest>,
    ) -> Result<Response<rpc::ReadResponse>, Status> {
        let req = request.into_inner();
        let span = rpc_span("Read", &req.urn);
        async move {
            let empty = |s: &Option<Struct>| s.as_ref().is_none_or(|s| s.fields.is_empty());
            if empty(&req.properties) && empty(&req.inputs) {
                // `pulumi import`: the inputs returned, given back as the program's, diff to nothing.
                let (st, notes) = self.svc.import_noting(&req.id).await.map_err(|d| {
                    let none = BTreeSet::new();
                    Status::new(Code::NotFound, errors_text(&d, &self.shown(&none)))
                })?;
                let none = BTreeSet::new();
                convert::warn_all(&notes, &req.urn, &self.shown(&none));
                return Ok(Response::new(rpc::ReadResponse {
                    id: st.get("id").as_str().unwrap_or(&req.id).to_string(),
                    properties: Some(self.encode_state(&st, &none)),
                    inputs: Some(codec::encode(
                        &state::inputs_of(&st),
                        attrs(),
                        &none,
                        self.options(),
                    )),
                    refresh_before_update: false,
                }));
            }
            let olds = self.decode_state(req.properties.as_ref(), &req.id)?;
            let old_inputs = req
                .inputs
                .as_ref()
                .map(|s| self.decode(Some(s)))
                .transpose()?;
            let mut secrets = olds.secrets.clone();
            if let Some(i) = &old_inputs {
                secrets.extend(inputs::output_secrets(&i.secrets));
            }
            let Some(st) = self
                .svc
                .read(&olds.value)
                .await
                .map_err(|d| Status::unknown(errors_text(&d, &self.shown(&secrets))))?
            else {
                return Ok(Response::new(rpc::ReadResponse::default()));
            };
            let inputs_s = match req.inputs {
                Some(raw) if old_inputs.is_some() => raw,
                _ => codec::encode(&state::inputs_of(&st), attrs(), &secrets, self.options()),
            };
            Ok(Response::new(rpc::ReadResponse {
                id: st.get("id").as_str().unwrap_or(&req.id).to_string(),
                properties: Some(self.encode_state(&st, &secrets)),
                inputs: Some(inputs_s),
                refresh_before_update: false,
            }))
        }
        .instrument(span)
        .await
    }

    type ListStream = tokio_stream::Empty<Result<rpc::ListResponse, Status>>;

    async fn list(
        &self,
        _: Request<rpc::ListRequest>,
    ) -> Result<Response<Self::ListStream>, Status> {
        Err(Status::unimplemented("listing accesses is not supported"))
    }

    async fn update(
        &self,
        request: Request<rpc::UpdateRequest>,
    ) -> Result<Response<rpc::UpdateResponse>, Status> {
        let req = request.into_inner();
        let span = rpc_span("Update", &req.urn);
        async move {
            let olds = self.decode_state(req.olds.as_ref(), &req.id)?;
            let news = self.decode(req.news.as_ref())?;
            let mut secrets = inputs::output_secrets(&news.secrets);
            // Outputs that were secret stay secret, except inputs the program no longer marks secret.
            for s in &olds.secrets {
                if schema::resource()
                    .attribute(s)
                    .is_some_and(|a| a.mode == Mode::Computed)
                {
                    secrets.insert(s.clone());
                }
            }
            let p = self
                .plan(Some(&olds.value), &news.value, &req.urn, &secrets)
                .await?;
            if req.preview {
                return Ok(Response::new(rpc::UpdateResponse {
                    properties: Some(self.encode_state(&p.planned, &secrets)),
                    refresh_before_update: false,
                }));
            }
            let a = self
                .svc
                .apply_plan(
                    Apply {
                        prior: Some(olds.value),
                        planned: Some(p.planned),
                        timeout: custom_timeout(req.timeout),
                    },
                    p.typed,
                )
                .await;
            match (&a.state, !has_errors(&a.diagnostics)) {
                (Some(st), true) => Ok(Response::new(rpc::UpdateResponse {
                    properties: Some(self.encode_state(st, &secrets)),
                    refresh_before_update: false,
                })),
                _ => Err(self.failed(&a, &secrets, req.news.as_ref())),
            }
        }
        .instrument(span)
        .await
    }

    async fn delete(&self, request: Request<rpc::DeleteRequest>) -> Result<Response<()>, Status> {
        let req = request.into_inner();
        let span = rpc_span("Delete", &req.urn);
        async move {
            let olds = self.decode_state(req.properties.as_ref(), &req.id)?;
            let a = self
                .svc
                .apply(Apply {
                    prior: Some(olds.value),
                    planned: None,
                    timeout: custom_timeout(req.timeout),
                })
                .await;
            if !a.diagnostics.is_empty() {
                return Err(Status::new(
                    Code::Unknown,
                    convert::apply_text(&a.diagnostics, &self.shown(&olds.secrets)),
                ));
            }
            tracing::debug!(urn = req.urn.as_str(), "deleted {}", req.id);
            Ok(Response::new(()))
        }
        .instrument(span)
        .await
    }

    async fn construct(
        &self,
        _: Request<rpc::ConstructRequest>,
    ) -> Result<Response<rpc::ConstructResponse>, Status> {
        Err(Status::unimplemented(
            "the elasticache provider has no components",
        ))
    }

    async fn cancel(&self, _: Request<()>) -> Result<Response<()>, Status> {
        self.svc.cancel();
        Ok(Response::new(()))
    }

    async fn get_plugin_info(&self, _: Request<()>) -> Result<Response<rpc::PluginInfo>, Status> {
        Ok(Response::new(rpc::PluginInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
        }))
    }

    async fn attach(&self, request: Request<rpc::PluginAttach>) -> Result<Response<()>, Status> {
        if let Some(log) = &self.log {
            log.set_address(&request.into_inner().address);
        }
        Ok(Response::new(()))
    }

    async fn get_mapping(
        &self,
        _: Request<rpc::GetMappingRequest>,
    ) -> Result<Response<rpc::GetMappingResponse>, Status> {
        Ok(Response::new(rpc::GetMappingResponse::default()))
    }

    async fn get_mappings(
        &self,
        _: Request<rpc::GetMappingsRequest>,
    ) -> Result<Response<rpc::GetMappingsResponse>, Status> {
        Ok(Response::new(rpc::GetMappingsResponse::default()))
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
