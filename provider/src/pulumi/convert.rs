//! Pulumi's wire forms around the core: decoding requests, diagnostics as Pulumi text and check
//! failures (secrets kept out: [`Shown`]), the status of a failed apply, the diff answer, and the
//! provider configuration.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use elasticache_proto::pulumirpc::{
    self as rpc, diff_response::DiffChanges, property_diff::Kind as DiffKind,
};
use prost::Message;
use prost_types::Struct;
use tonic::{Code, Status};

use super::codec::{self, Decoded};
use super::inputs;
use super::redact::{self, Secrets};
use crate::domain::declaration::model;
use crate::domain::declaration::schema;
use crate::domain::declaration::value::Value;
use crate::domain::diag::Diagnostic;
use crate::domain::planning::plan::{ChangeKind, Plan};
use crate::domain::planning::state;

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

pub fn attrs() -> &'static [schema::Attribute] {
    &schema::resource().attributes
}

pub fn decode(s: Option<&Struct>) -> Result<Decoded, Status> {
    codec::decode(s, attrs()).map_err(|e| Status::invalid_argument(e.to_string()))
}

/// The prior state from a request's old outputs and the resource's id.
pub fn decode_state(s: Option<&Struct>, id: &str) -> Result<Decoded, Status> {
    let mut d = decode(s)?;
    if !id.is_empty() {
        d.value.set("id", Value::String(id.to_string()));
    }
    d.value = state::complete(std::mem::take(&mut d.value));
    Ok(d)
}

/// How diagnostics are shown to the engine: `attrs` are the top-level inputs that were secret (a
/// diagnostic about one shows no value), `secrets` the secret texts no message may hold.
pub struct Shown<'a> {
    pub attrs: &'a BTreeSet<String>,
    pub secrets: &'a Secrets,
}

impl Shown<'_> {
    fn scrub(&self, text: &str) -> String {
        self.secrets.scrub(text).into_owned()
    }
}

pub fn diag_text(d: &Diagnostic, sh: &Shown<'_>) -> String {
    let d = redact::shown(d, sh.attrs);
    let text = codec::pulumi_text(&format!("{}: {}", d.summary, d.detail));
    sh.scrub(&match d.path.as_ref().filter(|p| !p.0.is_empty()) {
        Some(p) => format!("{}: {text}", codec::property_path(p)),
        None => text,
    })
}

pub fn errors_text(diags: &[Diagnostic], sh: &Shown<'_>) -> String {
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| diag_text(d, sh))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Check's failures. One about a secret input names no property: the engine prints the input value
/// of a failure's property, secret or not, so its path goes into the reason instead.
pub fn check_failures(diags: &[Diagnostic], sh: &Shown<'_>) -> Vec<rpc::CheckFailure> {
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            if redact::is_about_secret(d, sh.attrs) {
                return rpc::CheckFailure {
                    property: String::new(),
                    reason: diag_text(d, sh),
                };
            }
            rpc::CheckFailure {
                property: sh.scrub(
                    &d.path
                        .as_ref()
                        .map(codec::property_path)
                        .unwrap_or_default(),
                ),
                reason: sh.scrub(&codec::pulumi_text(&format!("{}: {}", d.summary, d.detail))),
            }
        })
        .collect()
}

pub fn warn_all(diags: &[Diagnostic], urn: &str, sh: &Shown<'_>) {
    for d in diags.iter().filter(|d| !d.is_error()) {
        tracing::warn!(urn = urn, "{}", diag_text(d, sh));
    }
}

pub fn apply_text(diagnostics: &[Diagnostic], sh: &Shown<'_>) -> String {
    diagnostics
        .iter()
        .map(|d| diag_text(d, sh))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A status for a failed apply: `ErrorResourceInitFailed` (id and outputs of what exists) when
/// something exists, else a plain failure that tells the engine nothing was made.
pub fn apply_status(
    diagnostics: &[Diagnostic],
    state: Option<Struct>,
    id: &str,
    inputs: Option<&Struct>,
    sh: &Shown<'_>,
) -> Status {
    let message = apply_text(diagnostics, sh);
    let reasons: Vec<String> = diagnostics.iter().map(|d| diag_text(d, sh)).collect();
    match state {
        Some(properties) => {
            let detail = rpc::ErrorResourceInitFailed {
                id: id.to_string(),
                properties: Some(properties),
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

pub fn diff_kind(kind: ChangeKind, replaces: bool) -> DiffKind {
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
        // Replacement creates the new access first (the old one keeps serving until it is deleted),
        // unless the two would collide: see [`delete_before_replace`].
        delete_before_replace: false,
        changes: DiffChanges::DiffSome as i32,
        diffs,
        detailed_diff: detailed,
        has_detailed_diff: true,
    }
}

/// Pulumi's `deleteBeforeReplace` for a diff of `news` (the checked inputs) of resource `logical`:
/// the core's [`Plan::replacement_collides`], but for this provider's auto-names: the engine checks
/// a replacement's inputs again without the old ones, and that Check draws a new auto-name.
pub fn delete_before_replace(p: &Plan, news: &Value, logical: &str) -> bool {
    let autonamed = news
        .get("name")
        .as_str()
        .is_some_and(|n| inputs::is_autoname(n, logical));
    p.replacement_collides && !autonamed
}

/// The provider configuration from Configure's `args`, or from the legacy `variables`
/// (`elasticache:config:region` → JSON text or plain string), with the settings that were secret.
pub fn config_value(req: &rpc::ConfigureRequest) -> Result<Decoded, Status> {
    let pattrs = &schema::provider().attributes;
    let mut secrets = BTreeSet::new();
    let mut v = match &req.args {
        Some(args) => {
            let mut args = args.clone();
            for k in inputs::ENGINE_CONFIG_KEYS {
                args.fields.remove(k);
            }
            let d = codec::decode(Some(&args), pattrs)
                .map_err(|e| Status::invalid_argument(e.to_string()))?;
            secrets = d.secrets;
            d.value
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
    Ok(Decoded { value: v, secrets })
}

/// A provider configuration as CheckConfig and DiffConfig get it, with the settings that were secret.
pub fn provider_check_value(s: Option<&Struct>) -> Result<Decoded, Status> {
    let pattrs = &schema::provider().attributes;
    let mut s = s.cloned().unwrap_or_default();
    for k in inputs::ENGINE_CONFIG_KEYS {
        s.fields.remove(k);
    }
    let d = codec::decode(Some(&s), pattrs).map_err(|e| Status::invalid_argument(e.to_string()))?;
    Ok(Decoded {
        value: inputs::coerce_object(&d.value, pattrs),
        secrets: d.secrets,
    })
}
