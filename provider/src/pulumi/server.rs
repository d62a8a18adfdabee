//! The `pulumirpc.ResourceProvider` service: every RPC converts in (Struct → [`Value`]), calls the
//! core, and converts out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use elasticache_proto::pulumirpc::{
    self as rpc, check_request::autonaming_options::Mode as AutonamingMode,
    diff_response::DiffChanges, property_diff::Kind as DiffKind,
    resource_provider_server::ResourceProvider,
};
use prost::Message;
use prost_types::Struct;
use tokio::sync::RwLock;
use tonic::{Code, Request, Response, Status};
use tracing::Instrument;

use super::codec::{self, Decoded, EncodeOptions};
use super::inputs::{self, Autonaming};
use super::logging::{rpc_span, EngineLog};
use crate::diag::{self, Diagnostic};
use crate::engine::{ApplyError, Engine};
use crate::model::{self, Mode, ProviderConfig};
use crate::plan::{self, ChangeKind, Plan, PlanInput};
use crate::schema;
use crate::state;
use crate::validate;
use crate::value::Value;

/// `google.rpc.Status`, the payload of a gRPC status's details.
#[derive(Clone, PartialEq, Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<prost_types::Any>,
}

/// The type URL of `pulumirpc.ErrorResourceInitFailed` in a status detail.
pub const INIT_FAILED_TYPE_URL: &str = "type.googleapis.com/pulumirpc.ErrorResourceInitFailed";

/// The provider: configured once by `Configure`, then serving resource operations.
pub struct Provider {
    engine: RwLock<Option<Arc<Engine>>>,
    accept_secrets: AtomicBool,
    log: Option<EngineLog>,
}

impl Default for Provider {
    fn default() -> Self {
        Provider::new(None)
    }
}

impl Provider {
    /// A provider that sends engine addresses learnt from Handshake and Attach to `log`.
    pub fn new(log: Option<EngineLog>) -> Self {
        Provider {
            engine: RwLock::new(None),
            accept_secrets: AtomicBool::new(false),
            log,
        }
    }

    fn options(&self) -> EncodeOptions {
        EncodeOptions {
            keep_secrets: self.accept_secrets.load(Ordering::Relaxed),
        }
    }

    async fn engine(&self) -> Result<Arc<Engine>, Status> {
        self.engine.read().await.clone().ok_or_else(|| {
            Status::failed_precondition(
                "the elasticache provider is not configured yet (Configure was not called)",
            )
        })
    }

    /// Plans with the configured engine; before Configure (a preview whose provider configuration is
    /// unknown), plans without the cluster's facts and with unknown default tags.
    async fn plan(&self, prior: Option<&Value>, config: &Value) -> Plan {
        match self.engine.read().await.clone() {
            Some(e) => e.plan(prior, config).await,
            None => plan::plan(&PlanInput {
                prior,
                config,
                default_tags: None,
                cluster: None,
            }),
        }
    }

    fn encode_state(&self, state: &Value, secrets: &BTreeSet<String>) -> Struct {
        let mut outputs = state.clone();
        if let Value::Map(m) = &mut outputs {
            m.remove("id");
        }
        codec::encode(
            &outputs,
            &schema::resource().attributes,
            secrets,
            self.options(),
        )
    }
}

fn attrs() -> &'static [schema::Attribute] {
    &schema::resource().attributes
}

fn decode(s: Option<&Struct>) -> Result<Decoded, Status> {
    codec::decode(s, attrs()).map_err(|e| Status::invalid_argument(e.to_string()))
}

/// The prior state from a request's old outputs and the resource's id.
fn decode_state(s: Option<&Struct>, id: &str) -> Result<Decoded, Status> {
    let mut d = decode(s)?;
    if !id.is_empty() {
        d.value.set("id", Value::String(id.to_string()));
    }
    d.value = state::complete(&d.value);
    Ok(d)
}

fn diag_text(d: &Diagnostic) -> String {
    let text = codec::pulumi_text(&format!("{}: {}", d.summary, d.detail));
    match d.path.as_ref().filter(|p| !p.0.is_empty()) {
        Some(p) => format!("{}: {text}", codec::property_path(p)),
        None => text,
    }
}

fn errors_text(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(diag_text)
        .collect::<Vec<_>>()
        .join("; ")
}

fn check_failures(diags: &[Diagnostic]) -> Vec<rpc::CheckFailure> {
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| rpc::CheckFailure {
            property: d
                .path
                .as_ref()
                .map(codec::property_path)
                .unwrap_or_default(),
            reason: codec::pulumi_text(&format!("{}: {}", d.summary, d.detail)),
        })
        .collect()
}

fn warn_all(diags: &[Diagnostic], urn: &str) {
    for d in diags.iter().filter(|d| !d.is_error()) {
        tracing::warn!(urn = urn, "{}", diag_text(d));
    }
}

fn apply_text(e: &ApplyError) -> String {
    e.diagnostics
        .iter()
        .map(diag_text)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A status for a failed apply: `ErrorResourceInitFailed` (id and outputs of what exists) when
/// something exists, else a plain failure that tells the engine nothing was made.
fn apply_status(
    p: &Provider,
    e: &ApplyError,
    secrets: &BTreeSet<String>,
    inputs: Option<&Struct>,
) -> Status {
    let message = apply_text(e);
    let reasons: Vec<String> = e.diagnostics.iter().map(diag_text).collect();
    match e.state.as_ref() {
        Some(st) => {
            let detail = rpc::ErrorResourceInitFailed {
                id: st.get("id").as_str().unwrap_or_default().to_string(),
                properties: Some(p.encode_state(st, secrets)),
                reasons,
                inputs: inputs.cloned(),
                refresh_before_update: false,
            };
            with_detail(
                Code::Unknown,
                &message,
                INIT_FAILED_TYPE_URL,
                detail.encode_to_vec(),
            )
        }
        None => Status::new(Code::FailedPrecondition, message),
    }
}

/// A status whose details carry one message.
pub fn with_detail(code: Code, message: &str, type_url: &str, value: Vec<u8>) -> Status {
    let st = RpcStatus {
        code: code as i32,
        message: message.to_string(),
        details: vec![prost_types::Any {
            type_url: type_url.to_string(),
            value,
        }],
    };
    Status::with_details(code, message.to_string(), st.encode_to_vec().into())
}

fn diff_kind(kind: ChangeKind, replaces: bool) -> DiffKind {
    match (kind, replaces) {
        (ChangeKind::Add, false) => DiffKind::Add,
        (ChangeKind::Add, true) => DiffKind::AddReplace,
        (ChangeKind::Delete, false) => DiffKind::Delete,
        (ChangeKind::Delete, true) => DiffKind::DeleteReplace,
        (ChangeKind::Update, false) => DiffKind::Update,
        (ChangeKind::Update, true) => DiffKind::UpdateReplace,
    }
}

/// The engine's answer to Diff, from the core's plan.
pub fn diff_response(p: &Plan) -> rpc::DiffResponse {
    if p.changes.is_empty() {
        return rpc::DiffResponse {
            changes: DiffChanges::DiffNone as i32,
            has_detailed_diff: true,
            ..Default::default()
        };
    }
    let mut detailed = HashMap::new();
    let mut diffs = Vec::new();
    let mut replaces = Vec::new();
    for c in &p.changes {
        let key = model::camel_case(&c.attr);
        let input = schema::resource()
            .attribute(&c.attr)
            .map(|a| a.is_input())
            .unwrap_or(false);
        detailed.insert(
            key.clone(),
            rpc::PropertyDiff {
                kind: diff_kind(c.kind, c.replaces) as i32,
                input_diff: input,
            },
        );
        diffs.push(key.clone());
        if c.replaces {
            replaces.push(key);
        }
    }
    rpc::DiffResponse {
        replaces,
        stables: Vec::new(),
        // Replacement creates the new access first: the old one keeps serving until it is deleted.
        delete_before_replace: false,
        changes: DiffChanges::DiffSome as i32,
        diffs,
        detailed_diff: detailed,
        has_detailed_diff: true,
    }
}

/// The provider configuration from Configure's `args`, or from the legacy `variables`
/// (`elasticache:config:region` → JSON text or plain string).
fn config_value(req: &rpc::ConfigureRequest) -> Result<Value, Status> {
    let pattrs = &schema::provider().attributes;
    let mut v = match &req.args {
        Some(args) => {
            let mut args = args.clone();
            for k in inputs::ENGINE_CONFIG_KEYS {
                args.fields.remove(k);
            }
            codec::decode(Some(&args), pattrs)
                .map_err(|e| Status::invalid_argument(e.to_string()))?
                .value
        }
        None => {
            let mut m = BTreeMap::new();
            for (k, raw) in &req.variables {
                let key = k.rsplit(':').next().unwrap_or(k);
                if inputs::ENGINE_CONFIG_KEYS.contains(&key) {
                    continue;
                }
                let name = pattrs
                    .iter()
                    .find(|a| model::camel_case(&a.name) == key || a.name == key)
                    .map(|a| a.name.clone())
                    .unwrap_or_else(|| model::snake_case(key));
                m.insert(name, Value::String(raw.clone()));
            }
            Value::Map(m)
        }
    };
    v = inputs::coerce_object(&v, pattrs);
    Ok(v)
}

/// A wholly known provider configuration, with unknown parts left out.
fn known_only(v: &Value) -> Value {
    match v {
        Value::Map(m) => Value::Map(
            m.iter()
                .filter(|(_, x)| !x.is_unknown())
                .map(|(k, x)| (k.clone(), known_only(x)))
                .collect(),
        ),
        Value::List(l) => Value::List(
            l.iter()
                .filter(|x| !x.is_unknown())
                .map(known_only)
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The provider configuration as the core's type.
pub fn provider_config(v: &Value) -> Result<ProviderConfig, String> {
    let j = known_only(v).to_json().unwrap_or(serde_json::Value::Null);
    let j = match j {
        serde_json::Value::Object(o) => {
            serde_json::Value::Object(o.into_iter().filter(|(_, x)| !x.is_null()).collect())
        }
        other => other,
    };
    serde_json::from_value(j).map_err(|e| e.to_string())
}

fn provider_check_value(s: Option<&Struct>) -> Result<Value, Status> {
    let pattrs = &schema::provider().attributes;
    let mut s = s.cloned().unwrap_or_default();
    for k in inputs::ENGINE_CONFIG_KEYS {
        s.fields.remove(k);
    }
    let d = codec::decode(Some(&s), pattrs).map_err(|e| Status::invalid_argument(e.to_string()))?;
    Ok(inputs::coerce_object(&d.value, pattrs))
}

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
        let v = provider_check_value(req.news.as_ref())?;
        let diags = validate::provider_config(&v);
        warn_all(&diags, &req.urn);
        Ok(Response::new(rpc::CheckResponse {
            inputs: req.news,
            failures: check_failures(&diags),
        }))
    }

    async fn diff_config(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        let req = request.into_inner();
        let olds = provider_check_value(req.old_inputs.as_ref().or(req.olds.as_ref()))?;
        let news = provider_check_value(req.news.as_ref())?;
        let mut changes = Vec::new();
        for a in &schema::provider().attributes {
            let (o, n) = (olds.get(&a.name), news.get(&a.name));
            if o == n {
                continue;
            }
            let kind = match (o, n) {
                (Value::Null, _) => ChangeKind::Add,
                (_, Value::Null) => ChangeKind::Delete,
                _ => ChangeKind::Update,
            };
            // Security groups live in one Region: another Region means other resources.
            changes.push(plan::Change {
                attr: a.name.clone(),
                kind,
                replaces: a.name == "region",
            });
        }
        let p = Plan {
            changes,
            ..Default::default()
        };
        Ok(Response::new(diff_response(&p)))
    }

    async fn configure(
        &self,
        request: Request<rpc::ConfigureRequest>,
    ) -> Result<Response<rpc::ConfigureResponse>, Status> {
        let req = request.into_inner();
        let v = config_value(&req)?;
        let diags = validate::provider_config(&v);
        if diag::has_errors(&diags) {
            return Err(Status::invalid_argument(format!(
                "invalid provider configuration: {}",
                errors_text(&diags)
            )));
        }
        let cfg = provider_config(&v).map_err(|e| {
            Status::invalid_argument(format!("invalid provider configuration: {e}"))
        })?;
        let engine = Engine::connect(&cfg)
            .await
            .map_err(|d| Status::failed_precondition(diag_text(&d)))?;
        *self.engine.write().await = Some(Arc::new(engine));
        if req.accept_secrets {
            self.accept_secrets.store(true, Ordering::Relaxed);
        }
        tracing::debug!("configured");
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
        Err(Status::unimplemented(format!(
            "the elasticache provider has no function {:?}",
            request.into_inner().tok
        )))
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
            let news = decode(req.news.as_ref())?;
            let olds = decode(req.olds.as_ref())?;
            let mut inputs_v = news.value;
            let logical = if req.name.is_empty() {
                inputs::urn_name(&req.urn).to_string()
            } else {
                req.name.clone()
            };
            let how = match &req.autonaming {
                None => Autonaming::Default,
                Some(a) if a.mode == AutonamingMode::Disable as i32 => Autonaming::Disabled,
                Some(a) if !a.proposed_name.is_empty() => {
                    Autonaming::Proposed(a.proposed_name.clone())
                }
                Some(_) => Autonaming::Default,
            };
            inputs::autoname(&mut inputs_v, &olds.value, &logical, &how, &req.random_seed);
            let diags = validate::resource_config(&inputs_v);
            warn_all(&diags, &req.urn);
            let failures = check_failures(&diags);
            if failures.is_empty() {
                inputs_v = inputs::normalize(&inputs_v);
            }
            let out = codec::encode(&inputs_v, attrs(), &news.secrets, self.options());
            Ok(Response::new(rpc::CheckResponse {
                inputs: Some(out),
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
            let olds = decode_state(req.olds.as_ref(), &req.id)?;
            let mut news = decode(req.news.as_ref())?.value;
            let old_inputs = match req.old_inputs.as_ref() {
                Some(s) => decode(Some(s))?.value,
                None => state::inputs_of(&olds.value),
            };
            for path in &req.ignore_changes {
                let top = path.split(['.', '[']).next().unwrap_or(path);
                if let Some(a) = attrs()
                    .iter()
                    .find(|a| model::camel_case(&a.name) == top && a.mode != Mode::Computed)
                {
                    news.set(&a.name, old_inputs.get(&a.name).clone());
                }
            }
            let p = self.plan(Some(&olds.value), &news).await;
            if diag::has_errors(&p.diagnostics) {
                return Err(Status::invalid_argument(errors_text(&p.diagnostics)));
            }
            warn_all(&p.diagnostics, &req.urn);
            Ok(Response::new(diff_response(&p)))
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
            let props = decode(req.properties.as_ref())?;
            let secrets = inputs::output_secrets(&props.secrets);
            let p = self.plan(None, &props.value).await;
            if diag::has_errors(&p.diagnostics) {
                return Err(Status::invalid_argument(errors_text(&p.diagnostics)));
            }
            if req.preview {
                return Ok(Response::new(rpc::CreateResponse {
                    id: String::new(),
                    properties: Some(self.encode_state(&p.planned, &secrets)),
                    refresh_before_update: false,
                }));
            }
            let engine = self.engine().await?;
            let run = with_custom_timeout(&p.planned, &["create"], req.timeout);
            match engine
                .create(&run)
                .await
                .map(|st| keep_declared_timeouts(st, &p.planned))
            {
                Ok(st) => {
                    let id = st.get("id").as_str().unwrap_or_default().to_string();
                    if id.is_empty() {
                        return Err(Status::internal("the access was created but has no id"));
                    }
                    tracing::debug!(urn = req.urn.as_str(), "created {id}");
                    Ok(Response::new(rpc::CreateResponse {
                        id,
                        properties: Some(self.encode_state(&st, &secrets)),
                        refresh_before_update: false,
                    }))
                }
                Err(e) => {
                    let e = keep_declared_timeouts_in_error(e, &p.planned);
                    Err(apply_status(self, &e, &secrets, req.properties.as_ref()))
                }
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
            let engine = self.engine().await?;
            let is_import = req
                .properties
                .as_ref()
                .map(|s| s.fields.is_empty())
                .unwrap_or(true)
                && req
                    .inputs
                    .as_ref()
                    .map(|s| s.fields.is_empty())
                    .unwrap_or(true);
            if is_import {
                let st = engine
                    .import(&req.id)
                    .await
                    .map_err(|d| Status::new(Code::NotFound, diag_text(&d)))?;
                let id = st.get("id").as_str().unwrap_or(&req.id).to_string();
                let none = BTreeSet::new();
                let inputs_v = state::inputs_of(&st);
                return Ok(Response::new(rpc::ReadResponse {
                    id,
                    properties: Some(self.encode_state(&st, &none)),
                    inputs: Some(codec::encode(&inputs_v, attrs(), &none, self.options())),
                    refresh_before_update: false,
                }));
            }
            let olds = decode_state(req.properties.as_ref(), &req.id)?;
            let old_inputs = match req.inputs.as_ref() {
                Some(s) => Some(decode(Some(s))?),
                None => None,
            };
            let mut secrets = olds.secrets.clone();
            if let Some(i) = &old_inputs {
                secrets.extend(inputs::output_secrets(&i.secrets));
            }
            match engine
                .read(&olds.value)
                .await
                .map_err(|d| Status::unknown(diag_text(&d)))?
            {
                None => Ok(Response::new(rpc::ReadResponse::default())),
                Some(st) => {
                    let id = st.get("id").as_str().unwrap_or(&req.id).to_string();
                    let inputs_s = match (&old_inputs, req.inputs) {
                        (Some(_), Some(raw)) => raw,
                        _ => {
                            codec::encode(&state::inputs_of(&st), attrs(), &secrets, self.options())
                        }
                    };
                    Ok(Response::new(rpc::ReadResponse {
                        id,
                        properties: Some(self.encode_state(&st, &secrets)),
                        inputs: Some(inputs_s),
                        refresh_before_update: false,
                    }))
                }
            }
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
            let olds = decode_state(req.olds.as_ref(), &req.id)?;
            let news = decode(req.news.as_ref())?;
            let mut secrets = inputs::output_secrets(&news.secrets);
            // Outputs that were secret stay secret, except inputs the program no longer marks secret.
            for s in &olds.secrets {
                if schema::resource()
                    .attribute(s)
                    .map(|a| a.mode == Mode::Computed)
                    .unwrap_or(false)
                {
                    secrets.insert(s.clone());
                }
            }
            let p = self.plan(Some(&olds.value), &news.value).await;
            if diag::has_errors(&p.diagnostics) {
                return Err(Status::invalid_argument(errors_text(&p.diagnostics)));
            }
            if req.preview {
                return Ok(Response::new(rpc::UpdateResponse {
                    properties: Some(self.encode_state(&p.planned, &secrets)),
                    refresh_before_update: false,
                }));
            }
            let engine = self.engine().await?;
            let run = with_custom_timeout(&p.planned, &["update"], req.timeout);
            let result = engine
                .update(&olds.value, &run)
                .await
                .map(|st| keep_declared_timeouts(st, &p.planned))
                .map_err(|e| keep_declared_timeouts_in_error(e, &p.planned));
            match result {
                Ok(st) => Ok(Response::new(rpc::UpdateResponse {
                    properties: Some(self.encode_state(&st, &secrets)),
                    refresh_before_update: false,
                })),
                Err(e) => Err(apply_status(self, &e, &secrets, req.news.as_ref())),
            }
        }
        .instrument(span)
        .await
    }

    async fn delete(&self, request: Request<rpc::DeleteRequest>) -> Result<Response<()>, Status> {
        let req = request.into_inner();
        let span = rpc_span("Delete", &req.urn);
        async move {
            let olds = decode_state(req.properties.as_ref(), &req.id)?;
            let engine = self.engine().await?;
            engine
                .delete(&with_custom_timeout(&olds.value, &["delete"], req.timeout))
                .await
                .map_err(|e| Status::new(Code::Unknown, apply_text(&e)))?;
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
        if let Some(e) = self.engine.read().await.as_ref() {
            e.cancel();
        }
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

/// Pulumi's `customTimeouts` resource option reaches the provider as the request's `timeout`, in
/// seconds (0 when unset). For that one operation it takes the place of the access's own `timeouts`
/// entries named in `which`; the value the engine records keeps what the program declared.
fn with_custom_timeout(v: &Value, which: &[&str], seconds: f64) -> Value {
    if !seconds.is_finite() || seconds < 1.0 {
        return v.clone();
    }
    let mut timeouts = match v.get("timeouts") {
        t @ Value::Map(_) => t.clone(),
        _ => Value::Map(BTreeMap::new()),
    };
    for w in which {
        timeouts.set(w, Value::string(format!("{}s", seconds.round() as u64)));
    }
    let mut out = v.clone();
    out.set("timeouts", timeouts);
    out
}

fn keep_declared_timeouts(mut state: Value, declared: &Value) -> Value {
    if matches!(state, Value::Map(_)) {
        state.set("timeouts", declared.get("timeouts").clone());
    }
    state
}

fn keep_declared_timeouts_in_error(mut e: ApplyError, declared: &Value) -> ApplyError {
    e.state = e.state.map(|st| keep_declared_timeouts(st, declared));
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::AttrPath;

    #[test]
    fn custom_timeouts_apply_to_the_operation_but_not_to_the_recorded_state() {
        let mut declared = Value::Map(BTreeMap::new());
        declared.set("name", Value::string("a"));
        let mut t = Value::Map(BTreeMap::new());
        t.set("create", Value::string("20m"));
        declared.set("timeouts", t);

        // Unset (0) or nonsense values leave the declaration alone.
        assert_eq!(with_custom_timeout(&declared, &["create"], 0.0), declared);
        assert_eq!(
            with_custom_timeout(&declared, &["create"], f64::NAN),
            declared
        );

        let run = with_custom_timeout(&declared, &["create", "delete"], 90.4);
        assert_eq!(run.get("timeouts").get("create").as_str(), Some("90s"));
        assert_eq!(run.get("timeouts").get("delete").as_str(), Some("90s"));
        assert_eq!(
            validate::parse_duration("90s").ok(),
            Some(std::time::Duration::from_secs(90))
        );
        // No `timeouts` declared at all: one is made for the operation only.
        let bare = Value::Map(BTreeMap::new());
        let run_bare = with_custom_timeout(&bare, &["delete"], 5.0);
        assert_eq!(run_bare.get("timeouts").get("delete").as_str(), Some("5s"));

        let recorded = keep_declared_timeouts(run, &declared);
        assert_eq!(recorded, declared);
        let e = keep_declared_timeouts_in_error(
            ApplyError {
                diagnostics: vec![],
                state: Some(run_bare),
            },
            &bare,
        );
        assert_eq!(
            e.state.map(|s| s.get("timeouts").clone()),
            Some(Value::Null)
        );
    }

    #[test]
    fn diff_kinds_and_replaces() {
        let p = Plan {
            changes: vec![
                plan::Change {
                    attr: "name".into(),
                    kind: ChangeKind::Update,
                    replaces: true,
                },
                plan::Change {
                    attr: "port".into(),
                    kind: ChangeKind::Add,
                    replaces: false,
                },
                plan::Change {
                    attr: "ingress_rule_ids".into(),
                    kind: ChangeKind::Update,
                    replaces: false,
                },
            ],
            requires_replace: vec![AttrPath::attr("name")],
            ..Default::default()
        };
        let r = diff_response(&p);
        assert_eq!(r.changes, DiffChanges::DiffSome as i32);
        assert_eq!(r.replaces, vec!["name"]);
        assert_eq!(r.detailed_diff["name"].kind, DiffKind::UpdateReplace as i32);
        assert_eq!(r.detailed_diff["port"].kind, DiffKind::Add as i32);
        assert!(r.detailed_diff["port"].input_diff);
        assert!(!r.detailed_diff["ingressRuleIds"].input_diff);
        assert!(!r.delete_before_replace);
        let none = diff_response(&Plan::default());
        assert_eq!(none.changes, DiffChanges::DiffNone as i32);
    }

    #[test]
    fn configure_variables_and_args_map_to_provider_config() {
        let req = rpc::ConfigureRequest {
            variables: [
                (
                    "elasticache:config:region".to_string(),
                    "us-east-1".to_string(),
                ),
                ("elasticache:config:maxRetries".to_string(), "3".to_string()),
                (
                    "elasticache:config:endpoints".to_string(),
                    "{\"ec2\":\"http://127.0.0.1:1\"}".to_string(),
                ),
                (
                    "elasticache:config:version".to_string(),
                    "0.1.0".to_string(),
                ),
            ]
            .into(),
            ..Default::default()
        };
        let cfg = config_value(&req).and_then(|v| provider_config(&v).map_err(Status::internal));
        let cfg = cfg.unwrap_or_default();
        assert_eq!(cfg.region.as_deref(), Some("us-east-1"));
        assert_eq!(cfg.max_retries, Some(3));
        assert_eq!(
            cfg.endpoints.and_then(|e| e.ec2).as_deref(),
            Some("http://127.0.0.1:1")
        );
    }

    #[test]
    fn init_failed_detail_round_trips() {
        let st = with_detail(
            Code::Unknown,
            "boom",
            INIT_FAILED_TYPE_URL,
            rpc::ErrorResourceInitFailed {
                id: "sg-1".into(),
                ..Default::default()
            }
            .encode_to_vec(),
        );
        let decoded = RpcStatus::decode(st.details()).unwrap_or_default();
        assert_eq!(decoded.details.len(), 1);
        assert_eq!(decoded.details[0].type_url, INIT_FAILED_TYPE_URL);
        let inner =
            rpc::ErrorResourceInitFailed::decode(&decoded.details[0].value[..]).unwrap_or_default();
        assert_eq!(inner.id, "sg-1");
    }
}
