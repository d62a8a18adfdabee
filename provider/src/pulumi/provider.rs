//! The Pulumi provider's state (the shared [`Service`], whether the engine accepts secrets, the
//! engine log, the secret values seen) and the conversions its RPCs share; the RPCs themselves are
//! in `server.rs`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prost_types::Struct;
use tonic::Status;

use super::codec::{self, Decoded, EncodeOptions};
use super::convert::{self, attrs, errors_text, Shown};
use super::logging::EngineLog;
use super::redact::Secrets;
use crate::aws::AwsConnector;
use crate::domain::declaration::model::Mode;
use crate::domain::declaration::value::Value;
use crate::domain::diag::has_errors;
use crate::domain::planning::plan::Plan;
use crate::domain::service::{Applied, Service};

/// The provider: a converter pair around the shared [`Service`].
pub struct Provider {
    pub(super) svc: Arc<Service>,
    pub(super) accept_secrets: AtomicBool,
    pub(super) log: Option<EngineLog>,
    /// Every secret value decoded, kept out of messages (shared with the engine log's layer).
    pub(super) secrets: Arc<Secrets>,
}

impl Default for Provider {
    fn default() -> Self {
        Provider::new(None)
    }
}

/// Pulumi's `customTimeouts` for one operation: the request's `timeout`, in seconds (0 when unset).
pub(super) fn custom_timeout(seconds: f64) -> Option<Duration> {
    (seconds.is_finite() && seconds >= 1.0).then(|| Duration::from_secs_f64(seconds))
}

impl Provider {
    /// A provider that connects to AWS and sends engine addresses learnt from Handshake and Attach
    /// to `log`.
    pub fn new(log: Option<EngineLog>) -> Self {
        Self::with_service(Arc::new(Service::new(Arc::new(AwsConnector))), log)
    }

    /// A provider over `svc` (tests give it a fake cloud).
    pub fn with_service(svc: Arc<Service>, log: Option<EngineLog>) -> Self {
        let secrets = log.as_ref().map(EngineLog::secrets).unwrap_or_default();
        Provider {
            svc,
            accept_secrets: AtomicBool::new(false),
            log,
            secrets,
        }
    }

    /// Decodes a property map, remembering the values of its secret properties.
    pub(super) fn decode(&self, s: Option<&Struct>) -> Result<Decoded, Status> {
        Ok(self.remember(convert::decode(s)?))
    }

    /// [`convert::decode_state`], remembering the values of its secret properties.
    pub(super) fn decode_state(&self, s: Option<&Struct>, id: &str) -> Result<Decoded, Status> {
        Ok(self.remember(convert::decode_state(s, id)?))
    }

    /// Remembers the values of `d`'s secret properties. Not `reachability`: it is secret because
    /// the inputs it follows are, and their values are remembered from those inputs; its own
    /// schema's keys, ports and words would otherwise be scrubbed from every later message.
    pub(super) fn remember(&self, d: Decoded) -> Decoded {
        for name in d.secrets.iter().filter(|n| n.as_str() != "reachability") {
            self.secrets.remember(d.value.get(name));
        }
        d
    }

    /// How diagnostics are shown when the top-level inputs `attrs` were secret.
    pub(super) fn shown<'a>(&'a self, attrs: &'a BTreeSet<String>) -> Shown<'a> {
        Shown {
            attrs,
            secrets: &self.secrets,
        }
    }

    pub(super) fn options(&self) -> EncodeOptions {
        EncodeOptions {
            keep_secrets: self.accept_secrets.load(Ordering::Relaxed),
        }
    }

    /// The outputs of a state (every attribute but `id`).
    pub(super) fn encode_state(&self, state: &Value, secrets: &BTreeSet<String>) -> Struct {
        let mut outputs = state.clone();
        if let Value::Map(m) = &mut outputs {
            m.remove("id");
        }
        codec::encode(&outputs, attrs(), secrets, self.options())
    }

    /// A planned change as the engine's answer, or its errors as a status (`secret`: the top-level
    /// inputs that were secret).
    pub(super) async fn plan(
        &self,
        prior: Option<&Value>,
        news: &Value,
        urn: &str,
        secret: &BTreeSet<String>,
    ) -> Result<Plan, Status> {
        let p = self.svc.plan(prior, news).await;
        let sh = self.shown(secret);
        if has_errors(&p.diagnostics) {
            return Err(Status::invalid_argument(errors_text(&p.diagnostics, &sh)));
        }
        convert::warn_all(&p.diagnostics, urn, &sh);
        Ok(p)
    }

    /// The answer to a failed apply: the partial state (ErrorResourceInitFailed) when one exists.
    pub(super) fn failed(
        &self,
        a: &Applied,
        secrets: &BTreeSet<String>,
        inputs: Option<&Struct>,
    ) -> Status {
        let st = a.state.as_ref();
        let id = st.and_then(|s| s.get("id").as_str()).unwrap_or_default();
        convert::apply_status(
            &a.diagnostics,
            st.map(|s| self.encode_state(s, secrets)),
            id,
            inputs,
            &self.shown(secrets),
        )
    }
}

/// The inputs of `news` with the paths of `ignore_changes` taken from `old_inputs`.
pub(super) fn ignoring(mut news: Value, old_inputs: &Value, ignore: &[String]) -> Value {
    for path in ignore {
        let top = path.split(['.', '[']).next().unwrap_or(path);
        if let Some(a) = attrs().iter().find(|a| {
            crate::domain::declaration::model::camel_case(&a.name) == top
                && a.mode != Mode::Computed
        }) {
            news.set(&a.name, old_inputs.get(&a.name).clone());
        }
    }
    news
}
