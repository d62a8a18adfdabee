//! Create, read, import, update and delete of an access, written against [`Cloud`].
//!
//! Every operation works on a [`World`]: what AWS holds for the access, as read at the start and then
//! changed only by the writes AWS confirmed. The state an operation returns, failed or not, is
//! derived from that world by the same function a refresh uses ([`observe::derive`]), so it is what
//! AWS holds; intent that did not take effect shows as a difference from the configuration, and the
//! next plan retries it. Every write is safe to repeat: an existing group or rule that an earlier,
//! interrupted attempt made is found and adopted.
//!
//! - `create`: cluster group, client group (both under a creation lease, [`lease`]), rules,
//!   attach, lease ended; what an abandoned create made is taken over only with proof
//!   (`adopt`, `ownership`), or swept ([`sweep`]).
//! - `update`: tags, client group, new rules before old ones are revoked (no access gap),
//!   attachment, bookkeeping tags last.
//! - `delete`: detach, revoke every rule that names the client group, delete both groups.
//! - [`preflight`]: the plan's checks of what AWS would refuse at apply (quotas, sources that do
//!   not exist, peering), each fact read once per process.
//! - `read` and `import`: one describe of the groups, one of their rules, the cluster when needed;
//!   a setup this provider did not make is adopted by the rules of [`setup`] (import, and the first
//!   read of an access moved in from terraform-provider-aws's `aws_security_group`).
//! - Shared by them: `target` (what an apply works towards), [`observe`] (the world read from AWS
//!   and the state derived from it), `rules` (authorize before revoke), `attach` (the cluster's
//!   group list, writes merged per cluster), `tags` and [`bookkeeping`] (the user's tags and the
//!   provider's own), [`cancellable`] (a cancel reaches calls in flight), [`list`] (every access in
//!   the Region, for `terraform query`), [`reach`] (`reachability` as AWS shows it).

mod adopt;
mod attach;
pub mod bookkeeping;
pub mod cancellable;
mod create;
mod delete;
mod import;
pub mod lease;
pub mod list;
pub mod observe;
mod ownership;
pub mod preflight;
pub mod reach;
mod read;
mod rules;
pub mod setup;
pub mod sweep;
mod tags;
mod target;
mod update;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::domain::cloud::{
    Cloud, CloudError, ClusterGroups, ClusterInfo, ClusterKind, ClusterRef,
};
use crate::domain::declaration::settings::TagFilter;
use crate::domain::diag::Diagnostic;
use crate::domain::planning::state::AccessState;

pub use observe::World;

/// An operation that failed: what went wrong, and the state of what exists now (None: nothing).
#[derive(Clone, Debug, PartialEq)]
pub struct Failed {
    pub diagnostics: Vec<Diagnostic>,
    pub state: Option<AccessState>,
}

impl Failed {
    pub fn new(d: Diagnostic, state: Option<AccessState>) -> Self {
        Failed {
            diagnostics: vec![d],
            state,
        }
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let texts: Vec<String> = self.diagnostics.iter().map(ToString::to_string).collect();
        write!(f, "{}", texts.join("; "))
    }
}

/// Waits between retries: exponential from `initial`, capped at `max`, with jitter; and how long
/// something AWS does not show is waited for when it may only be new ([`CONSISTENCY`]).
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub consistency: Duration,
}

/// How long a group or rule that AWS answers "not found" (or leaves out of a describe) is waited
/// for when it may have been made moments before, by this run or the one before (EC2 API
/// Reference, "Eventual consistency in the Amazon EC2 API": retry with backoff). A rule that is
/// really gone costs this wait once, in the operation that finds it gone.
pub const CONSISTENCY: Duration = Duration::from_secs(10);

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(20),
            consistency: CONSISTENCY,
        }
    }
}

/// The provider's tag settings, applied to everything the engine writes and reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagSettings {
    pub default_tags: BTreeMap<String, String>,
    pub ignore: TagFilter,
}

/// The configured engine: a cloud, the provider's tag settings, and a cancellation token.
pub struct Engine {
    cloud: Arc<dyn Cloud>,
    tags: TagSettings,
    backoff: Backoff,
    timing: lease::LeaseTiming,
    cancel: CancellationToken,
    /// Each cluster described once per process (concurrent askers share the one describe).
    clusters: Mutex<BTreeMap<ClusterRef, Arc<tokio::sync::OnceCell<ClusterInfo>>>>,
    /// A cluster whose groups this process changed, as its look after the change showed it
    /// ([`Engine::keep_looked`]): for the apply's own `reachability` only, until the next describe.
    looked: Mutex<BTreeMap<ClusterRef, ClusterInfo>>,
    /// Per cluster: the turn of this process's writers, and what its accesses want changed.
    locks: Mutex<BTreeMap<String, Arc<attach::ClusterSlot>>>,
    /// Network facts of `reachability`, read once per process.
    net: reach::NetCache,
    /// What the plan's checks read, once per process.
    preflight: preflight::Facts,
}

/// A diagnostic for a failed AWS call, with what to do about it.
pub fn cloud_diag(what: &str, e: &CloudError) -> Diagnostic {
    let hint = match e {
        CloudError::Throttled { .. } => " AWS throttled the calls and the retries ran out; raise max_retries or apply again later.",
        CloudError::Invalid { code, .. } if code == "UnauthorizedOperation" || code == "AccessDenied" => {
            " The credentials lack a permission; see the IAM policy in the provider's documentation."
        }
        CloudError::Invalid { code, .. } if code.ends_with("LimitExceeded") => {
            " An AWS quota was reached (for example inbound rules per security group); remove sources or raise the quota."
        }
        CloudError::AlreadyExists { .. } => " A security group with this name already exists in the VPC: choose another name (name_prefix generates unique ones).",
        CloudError::Other { .. } if e.is_cancelled() => " The run was interrupted; apply again to finish.",
        _ => "",
    };
    Diagnostic::general(
        format!("Failed to {what}"),
        format!(
            "AWS answered {}.{hint}",
            e.to_string().trim_end_matches('.')
        ),
    )
}

impl Engine {
    pub fn new(cloud: Arc<dyn Cloud>, tags: TagSettings) -> Self {
        Engine {
            cloud,
            tags,
            backoff: Backoff::default(),
            timing: lease::LeaseTiming::default(),
            cancel: CancellationToken::new(),
            clusters: Mutex::new(BTreeMap::new()),
            looked: Mutex::new(BTreeMap::new()),
            locks: Mutex::new(BTreeMap::new()),
            net: reach::NetCache::default(),
            preflight: preflight::Facts::default(),
        }
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Creation leases of this length, renewal and grace (see [`lease`]).
    pub fn with_lease(mut self, timing: lease::LeaseTiming) -> Self {
        self.timing = timing;
        self
    }

    /// Shares a cancellation token (the service's, so a cancel before Configure is kept); calls in
    /// flight end when it fires ([`cancellable::Cancellable`]).
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.cloud = Arc::new(cancellable::Cancellable::new(self.cloud, cancel.clone()));
        self.cancel = cancel;
        self
    }

    pub fn tag_settings(&self) -> &TagSettings {
        &self.tags
    }

    pub fn cloud(&self) -> &Arc<dyn Cloud> {
        &self.cloud
    }

    /// The Region the engine works in.
    pub fn region(&self) -> String {
        self.cloud.region()
    }

    /// Cancels in-flight work (StopProvider, Pulumi's Cancel).
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Sleeps `d`, returning early with a cancellation error when the operation is cancelled.
    async fn sleep(&self, d: Duration) -> Result<(), CloudError> {
        tokio::select! {
            _ = self.cancel.cancelled() => Err(CloudError::cancelled()),
            _ = tokio::time::sleep(d) => Ok(()),
        }
    }

    /// The end of the wait for what may only be new: [`Backoff::consistency`] from now, within
    /// `deadline`.
    fn settling(&self, deadline: Instant) -> Instant {
        deadline.min(Instant::now() + self.backoff.consistency)
    }

    fn jittered(&self, wait: Duration) -> Duration {
        let f = 0.5 + rand::random::<f64>() / 2.0;
        wait.mul_f64(f)
    }

    /// Runs `op` until it succeeds, fails with an error `retry_on` does not accept, or `deadline`
    /// passes. Waits are cancellable.
    async fn retry<T, F, Fut>(
        &self,
        what: &str,
        deadline: Instant,
        retry_on: impl Fn(&CloudError) -> bool,
        mut op: F,
    ) -> Result<T, CloudError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, CloudError>>,
    {
        let mut wait = self.backoff.initial;
        loop {
            if self.cancel.is_cancelled() {
                return Err(CloudError::cancelled());
            }
            match op().await {
                Err(e) if retry_on(&e) && Instant::now() + wait < deadline => {
                    tracing::debug!(operation = what, error = %e, wait_ms = wait.as_millis() as u64, "retrying");
                    self.sleep(self.jittered(wait)).await?;
                    wait = (wait * 2).min(self.backoff.max);
                }
                r => return r,
            }
        }
    }

    /// Runs a read until it succeeds or fails with something other than throttling or a transient
    /// failure, within `deadline`.
    async fn read_retrying<T, F, Fut>(
        &self,
        what: &str,
        deadline: Instant,
        op: F,
    ) -> Result<T, CloudError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, CloudError>>,
    {
        self.retry(what, deadline, CloudError::is_transient, op)
            .await
    }

    /// The cluster's facts, described once per provider process (until this process changes the
    /// cluster's groups): plan, read and apply share the one describe, and concurrent askers wait for
    /// it rather than describe again. A failed describe is not kept.
    pub async fn describe_cluster(&self, c: &ClusterRef) -> Result<ClusterInfo, CloudError> {
        let cell = {
            let mut m = self.clusters.lock().unwrap_or_else(|p| p.into_inner());
            m.entry(c.clone()).or_default().clone()
        };
        cell.get_or_try_init(|| self.cloud.describe_cluster(c))
            .await
            .cloned()
    }

    /// The cluster's facts from this process's describe when there is one, else as this process's
    /// look after changing its groups showed them, else from a describe that is not kept (an apply
    /// that changed the cluster's groups forgot them, and the next read must describe it afresh).
    pub async fn peek_cluster(&self, c: &ClusterRef) -> Result<ClusterInfo, CloudError> {
        match self.kept_or_looked(c) {
            Some(i) => Ok(i),
            None => self.cloud.describe_cluster(c).await,
        }
    }

    /// This process's describe of the cluster, else its look after changing the cluster's groups
    /// (no AWS call).
    fn kept_or_looked(&self, c: &ClusterRef) -> Option<ClusterInfo> {
        self.kept_cluster(c).or_else(|| {
            let m = self.looked.lock().unwrap_or_else(|p| p.into_inner());
            m.get(c).cloned()
        })
    }

    /// This process's describe of the cluster, when it has one (no AWS call).
    fn kept_cluster(&self, c: &ClusterRef) -> Option<ClusterInfo> {
        let m = self.clusters.lock().unwrap_or_else(|p| p.into_inner());
        m.get(c).and_then(|cell| cell.get().cloned())
    }

    /// Keeps `base` (this process's describe of the cluster from before it changed the cluster's
    /// groups) brought up to `now`, a look at its groups this process has just made: a change of
    /// groups changes neither its VPC, port, endpoint nor posture, so the apply's `reachability`
    /// need not describe it again ([`Engine::peek_cluster`]). Plans and reads still describe it
    /// afresh: a change made outside since then shows.
    fn keep_looked(&self, c: &ClusterRef, mut base: ClusterInfo, now: &ClusterGroups) {
        base.status = now.status.clone();
        base.security_group_ids = now
            .members
            .first()
            .map(|(_, g)| g.clone())
            .unwrap_or_default();
        if base.kind == ClusterKind::ReplicationGroup {
            base.members = now.members.iter().map(|(m, _)| m.clone()).collect();
        }
        base.member_groups = now.members.clone();
        let mut m = self.looked.lock().unwrap_or_else(|p| p.into_inner());
        m.insert(c.clone(), base);
    }

    fn forget_cluster(&self, c: &ClusterRef) {
        self.clusters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(c);
        self.looked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(c);
        self.forget_attaches(c);
    }

    /// One slot per cluster: accesses of one run change a cluster's groups one writer at a time,
    /// and each write carries every change the run's accesses want at that moment.
    fn cluster_slot(&self, c: &ClusterRef) -> Arc<attach::ClusterSlot> {
        let mut m = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(c.tag()).or_default().clone()
    }
}

#[cfg(test)]
pub mod fake;
#[cfg(test)]
mod lifecycle_and_failed_steps_tests;
#[cfg(test)]
mod moved_tests;
#[cfg(test)]
mod ownership_tests;
#[cfg(test)]
mod plans_imports_and_lost_answers_tests;
#[cfg(test)]
mod reach_tests;
#[cfg(test)]
pub mod rig;
#[cfg(test)]
mod sweep_tests;
#[cfg(test)]
mod vpc_and_client_group_tests;
