//! The one service both protocol adapters call (the role of terraform-plugin-framework's `fwserver`).
//!
//! It decides, once for both protocols: how the provider configuration is parsed and when it is
//! known enough to connect; the engine slot; planning before (or without) Configure; cancellation
//! (a cancel that arrives before Configure is kept); and whether an apply creates, updates or
//! deletes. Adapters convert their wire values into [`Value`]s, call one method, and convert the
//! answer back.
//!
//! # Layout
//! - This file: the service, its connection slot and the apply that creates, updates or deletes.
//! - What the service wraps around the engine's cloud: [`batch`] (concurrent reads share batched
//!   describes) and [`scan`] (a run that read many accesses is answered by one scan of the Region's
//!   tagged groups). They sit here, not in `domain/cloud/`, because [`scan`] names the engine's
//!   bookkeeping tags: kept above the engine, the layers form a line.
//! - The calls beside apply: [`listing`] (identity imports and `terraform query`'s list resource),
//!   [`reach_query`] (the reachability data source and the Pulumi invoke), [`moved`] (`moved` from
//!   `aws_security_group`), [`auth_token`] (the IAM auth token's declaration, its arguments checked
//!   with their paths, the signer port), [`private`] (what an access keeps between runs out of the
//!   user's sight: hints that save a later process a round trip).
//! - Unit tests: module `tests`, in `service_tests.rs`.

pub mod auth_token;
pub mod batch;
pub mod listing;
pub mod moved;
pub mod private;
pub mod reach_query;
pub mod scan;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::domain::cloud::Cloud;
use crate::domain::declaration::desired::{self, Desired, Op, Timeouts};
use crate::domain::declaration::settings::{self, AwsSettings, Settings};
use crate::domain::declaration::value::Value;
use crate::domain::diag::{has_errors, Diagnostic};
use crate::domain::engine::lease::LeaseTiming;
use crate::domain::engine::reach::PreRead;
use crate::domain::engine::{Backoff, Engine, Failed, TagSettings};
use crate::domain::planning::plan::{self, ClusterFacts, Facts, Plan, Typed};
use crate::domain::planning::state::{self, AccessState};
use crate::domain::service::auth_token::TokenSigner;
use crate::domain::service::batch::Coalesced;
use crate::domain::service::moved::MoveSource;
use crate::domain::types::Known;

/// What a connection to AWS gives: the cloud the engine talks to, and the signer of IAM auth
/// tokens, both with the same credentials and Region.
pub struct Connected {
    pub cloud: Arc<dyn Cloud>,
    pub signer: Arc<dyn TokenSigner>,
}

/// Makes the cloud the engine talks to from the provider's AWS settings.
#[async_trait]
pub trait Connector: Send + Sync {
    async fn connect(&self, settings: &AwsSettings) -> Result<Connected, Vec<Diagnostic>>;
}

/// What the provider knows of its configuration.
enum Slot {
    /// Configure has not been called.
    Unconfigured,
    /// Configure was called with parts not known yet: plans go without AWS.
    Unknown(Box<Settings>),
    Ready(Arc<Engine>),
}

/// An apply: `prior` None creates, `planned` None deletes, both set update in place.
#[derive(Clone, Debug, Default)]
pub struct Apply {
    pub prior: Option<Value>,
    pub planned: Option<Value>,
    /// Pulumi's `customTimeouts`: the timeout of this one operation, not recorded in the state.
    pub timeout: Option<Duration>,
}

/// The state after an apply (None: nothing exists) and what went wrong.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    pub state: Option<Value>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn not_configured() -> Diagnostic {
    Diagnostic::general("Provider not configured", "The elasticache provider's configuration is not known yet (it depends on values known only after apply?). Make the provider configuration known at plan time.")
}

/// The service: one per provider process.
pub struct Service {
    connector: Arc<dyn Connector>,
    slot: RwLock<Slot>,
    signer: RwLock<Option<Arc<dyn TokenSigner>>>,
    cancel: CancellationToken,
    backoff: Option<Backoff>,
    lease: Option<LeaseTiming>,
}

impl Service {
    pub fn new(connector: Arc<dyn Connector>) -> Self {
        Service {
            connector,
            slot: RwLock::new(Slot::Unconfigured),
            signer: RwLock::new(None),
            cancel: CancellationToken::new(),
            backoff: None,
            lease: None,
        }
    }

    /// Engines made by this service wait `backoff` between retries (tests use short waits).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// Engines made by this service use creation leases of this timing (else [`LeaseTiming::from_env`]).
    pub fn with_lease(mut self, timing: LeaseTiming) -> Self {
        self.lease = Some(timing);
        self
    }

    /// The configured engine, if any.
    pub fn engine(&self) -> Option<Arc<Engine>> {
        match &*self.slot.read().unwrap_or_else(|p| p.into_inner()) {
            Slot::Ready(e) => Some(e.clone()),
            _ => None,
        }
    }

    /// The signer of IAM auth tokens, once configured with known settings.
    pub fn token_signer(&self) -> Option<Arc<dyn TokenSigner>> {
        self.signer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn default_tags(&self) -> Known<std::collections::BTreeMap<String, String>> {
        match &*self.slot.read().unwrap_or_else(|p| p.into_inner()) {
            Slot::Ready(e) => Known::Known(e.tag_settings().default_tags.clone()),
            Slot::Unknown(s) => s.default_tags.clone(),
            Slot::Unconfigured => Known::Unknown,
        }
    }

    /// Checks a provider configuration: every problem, with its setting's path.
    pub fn validate_provider(&self, config: &Value) -> Vec<Diagnostic> {
        match settings::parse(config) {
            Ok(c) => c.warnings,
            Err(d) => d,
        }
    }

    /// Configures the provider. A configuration with unknown parts connects to nothing: the
    /// provider then plans without AWS (and never falls back to the environment's settings).
    pub async fn configure(&self, config: &Value) -> Vec<Diagnostic> {
        let s = match settings::parse(config) {
            Ok(c) => c.value,
            Err(d) => return d,
        };
        let (Known::Known(aws), true) = (&s.aws, s.is_known()) else {
            tracing::info!("provider configuration not known yet; planning without AWS");
            *self.slot.write().unwrap_or_else(|p| p.into_inner()) = Slot::Unknown(Box::new(s));
            *self.signer.write().unwrap_or_else(|p| p.into_inner()) = None;
            return Vec::new();
        };
        let Connected { cloud, signer } = match self.connector.connect(aws).await {
            Ok(c) => c,
            Err(d) => return d,
        };
        *self.signer.write().unwrap_or_else(|p| p.into_inner()) = Some(signer);
        let tags = TagSettings {
            default_tags: s.default_tags.known().cloned().unwrap_or_default(),
            ignore: s.ignore_tags.known().cloned().unwrap_or_default(),
        };
        // Concurrent reads of this process share their describe calls.
        let cloud: Arc<dyn Cloud> =
            Arc::new(Coalesced::new(cloud).with_scan(scan::managed_groups()));
        let mut engine = Engine::new(cloud, tags)
            .with_cancel(self.cancel.clone())
            .with_lease(self.lease.unwrap_or_else(LeaseTiming::from_env));
        if let Some(b) = self.backoff {
            engine = engine.with_backoff(b);
        }
        *self.slot.write().unwrap_or_else(|p| p.into_inner()) = Slot::Ready(Arc::new(engine));
        tracing::info!("provider configured");
        Vec::new()
    }

    /// Checks a resource configuration: every problem, with its attribute's path, and the warnings.
    pub fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        match desired::parse(config) {
            Ok(c) => c.warnings,
            Err(d) => d,
        }
    }

    /// Plans a create (`prior` None) or an update. Only the plan's own diagnostics are returned (and
    /// the configuration's errors); validation reports the warnings.
    pub async fn plan(&self, prior: Option<&Value>, config: &Value) -> Plan {
        let fail = |diagnostics: Vec<Diagnostic>| Plan {
            diagnostics,
            ..Default::default()
        };
        let d = match desired::parse(config) {
            Ok(c) => c.value,
            Err(d) => return fail(d.into_iter().filter(Diagnostic::is_error).collect()),
        };
        let prior = match prior.map(AccessState::from_value).transpose() {
            Ok(p) => p,
            Err(e) => return fail(vec![e]),
        };
        let mut diagnostics = Vec::new();
        let cluster = match self.engine() {
            // the node-slot quota, when the plan may need it, is read beside the describe
            Some(e) => {
                let (facts, ()) =
                    tokio::join!(e.cluster_facts(&d), e.warm_slot_quota(prior.as_ref(), &d));
                facts.unwrap_or_else(|e| {
                    diagnostics.push(e);
                    ClusterFacts::NotRead
                })
            }
            None if d.cluster.is_none() => ClusterFacts::None,
            None => ClusterFacts::NotRead,
        };
        let facts = Facts {
            default_tags: self.default_tags(),
            cluster,
        };
        let mut p = plan::plan(prior.as_ref(), config, &d, &facts);
        p.diagnostics.extend(diagnostics);
        let engine = self.engine().filter(|_| !has_errors(&p.diagnostics));
        if let Some(e) = engine.filter(|_| prior.is_none() || !p.changes.is_empty()) {
            let found = e
                .preflight(prior.as_ref(), &d, config, &p, &facts.cluster)
                .await;
            p.diagnostics.extend(found);
        }
        p
    }

    /// Applies a planned change.
    pub async fn apply(&self, req: Apply) -> Applied {
        self.apply_plan(req, None).await
    }

    /// [`Service::apply`] of a plan made in the same call (Pulumi's Create and Update): `typed`, the
    /// plan's prior state and planned inputs, is used instead of parsing `req`'s values again.
    pub async fn apply_plan(&self, req: Apply, typed: Option<Typed>) -> Applied {
        let keep = req.prior.clone();
        let failed = |d: Vec<Diagnostic>| Applied {
            state: keep.clone(),
            diagnostics: d,
        };
        let Some(engine) = self.engine() else {
            return failed(vec![not_configured()]);
        };
        if self.cancel.is_cancelled() {
            return failed(vec![crate::domain::engine::cloud_diag(
                "apply the change",
                &crate::domain::cloud::CloudError::cancelled(),
            )]);
        }
        let (prior, inputs) = match typed {
            Some(t) => (t.prior, Some(t.inputs)),
            None => match req.prior.as_ref().map(AccessState::from_value).transpose() {
                Ok(p) => (p, None),
                Err(e) => return failed(vec![e]),
            },
        };
        let Some(planned) = &req.planned else {
            let Some(p) = prior else {
                return Applied::default();
            };
            tracing::info!(id = %p.id(), "deleting");
            return match engine
                .delete(&with_timeout(p.clone(), Op::Delete, req.timeout))
                .await
            {
                Ok(notes) => Applied {
                    state: None,
                    diagnostics: notes,
                },
                Err(f) => answer(Err(f), &p.inputs.timeouts),
            };
        };
        let d = match inputs.map_or_else(|| desired::parse_recorded(&state::inputs_of(planned)), Ok)
        {
            Ok(d) => d,
            Err(e) => return failed(e),
        };
        let declared = d.timeouts.clone();
        // what the state's `reachability` needs besides the access's rules is read while it writes
        let own = prior
            .as_ref()
            .map(|p| p.outputs.cluster_security_group_id.clone());
        let ((r, notes), pre) = tokio::join!(
            write(&engine, prior.as_ref(), d.clone(), req.timeout),
            engine.pre_read_reach(&d, own.as_deref())
        );
        let (st, mut diagnostics) = recorded(r, &declared);
        diagnostics.splice(0..0, notes);
        let state = match st {
            Some(st) => {
                let planned = (!has_errors(&diagnostics)).then(|| planned.get("reachability"));
                Some(with_reach(&engine, &st, planned, pre).await)
            }
            None => None,
        };
        Applied { state, diagnostics }
    }

    /// Reads the access: None when it is gone.
    pub async fn read(&self, state: &Value) -> Result<Option<Value>, Vec<Diagnostic>> {
        let engine = self.engine().ok_or_else(|| vec![not_configured()])?;
        let prior = AccessState::from_value(state).map_err(|e| vec![e])?;
        // the VPC's facts for `reachability` beside the read (a refresh's first round trip)
        let (read, ()) = tokio::join!(engine.read(&prior), engine.warm_net(&prior));
        match read.map_err(|e| vec![e])? {
            Some(s) => Ok(Some(with_reach(&engine, &s, None, None).await)),
            None => Ok(None),
        }
    }

    /// Imports the access whose cluster group is `id`.
    pub async fn import(&self, id: &str) -> Result<Value, Vec<Diagnostic>> {
        self.import_noting(id).await.map(|(v, _)| v)
    }

    /// [`Service::import`], with its warnings (kinds of cluster it could not search).
    pub async fn import_noting(
        &self,
        id: &str,
    ) -> Result<(Value, Vec<Diagnostic>), Vec<Diagnostic>> {
        let engine = self.engine().ok_or_else(|| vec![not_configured()])?;
        let (st, notes) = engine.import_noting(id.trim()).await.map_err(|e| vec![e])?;
        Ok((with_reach(&engine, &st, None, None).await, notes))
    }

    /// The access another provider's resource becomes (Terraform's `moved` across resource types),
    /// and its identity when the source names its Region. No AWS call: the provider is not
    /// configured during a move; the next read adopts the group's rules ([`moved`]).
    pub fn move_state(&self, src: &MoveSource) -> Result<(Value, Option<Value>), Vec<Diagnostic>> {
        let m = moved::adopt(src).map_err(|d| vec![d])?;
        tracing::info!(group = %m.state.id(), from = %src.type_name, "moved into an access");
        Ok((m.state.to_value(), m.identity))
    }

    /// Brings a stored state of an earlier schema version to this one.
    pub fn upgrade(&self, raw: &serde_json::Value, version: i64) -> Result<Value, Diagnostic> {
        state::upgrade(raw, version)
    }

    /// Cancels in-flight and later work (StopProvider, Pulumi's Cancel), before Configure too.
    pub fn cancel(&self) {
        tracing::info!("cancelling in-flight work");
        self.cancel.cancel();
    }

    /// True when a plan's diagnostics stop it.
    pub fn refused(p: &Plan) -> bool {
        has_errors(&p.diagnostics)
    }
}

/// Creates (`prior` None) or updates the access, with the operation's own timeout.
async fn write(
    engine: &Engine,
    prior: Option<&AccessState>,
    d: Desired,
    timeout: Option<Duration>,
) -> (Result<AccessState, Failed>, Vec<Diagnostic>) {
    match prior {
        None => {
            tracing::info!("creating");
            engine
                .create_noting(&with_desired_timeout(d, Op::Create, timeout))
                .await
        }
        Some(p) => {
            tracing::info!(id = %p.id(), "updating");
            let r = engine
                .update(p, &with_desired_timeout(d, Op::Update, timeout))
                .await;
            (r, Vec::new())
        }
    }
}

/// The value of `st` with its `reachability` as AWS shows it now; after an apply, the `planned` one
/// with its unknowns filled ([`crate::domain::planning::reach_plan::conform`]). The state is written as a
/// value once, here: it is never read back from the value.
pub(crate) async fn with_reach(
    engine: &Engine,
    st: &AccessState,
    planned: Option<&Value>,
    pre: Option<PreRead>,
) -> Value {
    let reach = engine.observe_reach_after(st, pre).await;
    let observed = Value::from_json(&serde_json::to_value(reach).unwrap_or_default());
    let reach = match planned {
        Some(p) if !p.is_null() => crate::domain::planning::reach_plan::conform(p, &observed),
        _ => observed,
    };
    let mut state = st.to_value();
    state.set("reachability", reach);
    state
}

/// The state an apply returns: the timeouts the configuration declared are recorded, not the
/// operation's own.
fn recorded(
    r: Result<AccessState, Failed>,
    declared: &Option<Known<Timeouts>>,
) -> (Option<AccessState>, Vec<Diagnostic>) {
    let record = |mut s: AccessState| {
        s.inputs.timeouts = declared.clone();
        s
    };
    match r {
        Ok(s) => (Some(record(s)), Vec::new()),
        Err(f) => (f.state.map(record), f.diagnostics),
    }
}

/// [`recorded`] as an answer, without `reachability` observed (a failed delete).
fn answer(r: Result<AccessState, Failed>, declared: &Option<Known<Timeouts>>) -> Applied {
    let (st, diagnostics) = recorded(r, declared);
    Applied {
        state: st.map(|s| s.to_value()),
        diagnostics,
    }
}

fn with_desired_timeout(mut d: Desired, _op: Op, timeout: Option<Duration>) -> Desired {
    d.op_timeout = timeout.filter(|t| !t.is_zero());
    d
}

fn with_timeout(mut s: AccessState, op: Op, timeout: Option<Duration>) -> AccessState {
    s.inputs = with_desired_timeout(s.inputs, op, timeout);
    s
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
