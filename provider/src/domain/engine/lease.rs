//! Creation leases: how a create proves, while it runs, that the groups it is making are its own,
//! and how anyone else proves that a create is gone before touching what it left.
//!
//! At creation both groups get, in the same CreateSecurityGroup call (so no group ever exists
//! without them):
//! - `elasticache-access:origin`: a random token of this create, kept for life: the client group
//!   and the cluster group of one access carry the same one;
//! - `elasticache-access:creating`: the lease, `v2:<holder token>:<expiry>`, the expiry in AWS's
//!   clock (the `Date` of its answers, see [`AwsTime`]), never this machine's. The live create
//!   renews it every [`LeaseTiming::renew`] while it works.
//!
//! When a state records the groups (the create completes, or fails and returns what it made, or a
//! Read or an import finds them) the lease ends: `elasticache-access:created` is set (for good:
//! a renewal that was still on its way cannot bring the lease back) and the lease tag removed.
//!
//! A group is *in creation* while it has a lease and no `created` tag. It is taken over (by a
//! create of the same name) or swept only when its lease expired by AWS's clock, with
//! [`LeaseTiming::grace`] to spare for AWS's eventual consistency: the create that held it is
//! provably gone. A create whose own lease may have lapsed checks, before its next write, that
//! nobody took it over (see `Holder`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::domain::cloud::{AwsTime, CloudError, Group};
use crate::domain::diag::Diagnostic;
use crate::domain::engine::bookkeeping as bk;
use crate::domain::engine::{cloud_diag, Engine, World};

/// Overrides the lease's length (a duration such as `"3m"`); renewal and grace follow from it.
pub const LEASE_ENV: &str = "ELASTICACHE_CREATE_LEASE";

/// How long a lease lasts, how often a live create renews it, and how long past its expiry others
/// wait before they judge it expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseTiming {
    pub lease: Duration,
    pub renew: Duration,
    pub grace: Duration,
}

impl Default for LeaseTiming {
    fn default() -> Self {
        LeaseTiming::of(Duration::from_secs(180))
    }
}

impl LeaseTiming {
    /// A lease of `lease` (at least 3 s): renewed every third of it, with a sixth of it (at most
    /// 30 s, at least 1 s) as grace.
    pub fn of(lease: Duration) -> Self {
        let lease = lease.max(Duration::from_secs(3));
        LeaseTiming {
            lease,
            renew: lease / 3,
            grace: (lease / 6).clamp(Duration::from_secs(1), Duration::from_secs(30)),
        }
    }

    /// The timing [`LEASE_ENV`] asks for, else the default (180 s, renewed every 60 s, 30 s grace).
    pub fn from_env() -> Self {
        std::env::var(LEASE_ENV)
            .ok()
            .and_then(|v| crate::domain::types::parse_duration(&v).ok())
            .map(LeaseTiming::of)
            .unwrap_or_default()
    }

    fn secs(d: Duration) -> i64 {
        d.as_secs_f64().ceil() as i64
    }
}

/// A lease as the `creating` tag holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    /// Unix seconds, AWS's clock.
    pub expires: i64,
}

impl Lease {
    pub fn value(&self) -> String {
        format!("v2:{}:{}", self.holder, self.expires)
    }

    pub fn parse(v: &str) -> Option<Lease> {
        let mut it = v.strip_prefix("v2:")?.splitn(2, ':');
        let holder = it.next().filter(|h| !h.is_empty())?.to_string();
        let expires = it.next()?.parse().ok()?;
        Some(Lease { holder, expires })
    }

    /// True when AWS's time is past the expiry by more than `grace`, whatever clock skew or slow
    /// answer: `now.lower` is never later than AWS's time.
    pub fn expired(&self, now: AwsTime, grace: Duration) -> bool {
        now.lower > self.expires + LeaseTiming::secs(grace)
    }
}

/// What a group's tags say of its creation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Creation {
    /// No lease, or a state recorded it (`created`): not in creation.
    Done,
    /// In creation, under this lease.
    Leased(Lease),
    /// A creation marker of release 0.2 (`<unix>/<seconds>`, this machine's clock): no proof of
    /// who made it or whether that create is gone.
    Legacy(String),
}

impl Creation {
    pub fn of(g: &Group) -> Creation {
        match g.tags.get(bk::CREATING) {
            _ if g.tags.contains_key(bk::CREATED) => Creation::Done,
            None => Creation::Done,
            Some(v) => {
                Lease::parse(v).map_or_else(|| Creation::Legacy(v.clone()), Creation::Leased)
            }
        }
    }

    /// True while a lease or an old marker is on the group (the lease must end when a state
    /// records it).
    pub fn is_marked(&self) -> bool {
        !matches!(self, Creation::Done)
    }
}

/// A new random token (128 bits, hex).
pub fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The lease a create holds, and the groups under it.
#[derive(Debug)]
pub(crate) struct Holder {
    pub token: String,
    ids: Mutex<Vec<String>>,
    /// The expiry of the last lease AWS confirmed (Unix seconds, AWS's clock).
    confirmed: Mutex<i64>,
    /// Another party took the groups over: nothing more may be written.
    lost: std::sync::atomic::AtomicBool,
}

impl Holder {
    pub fn new(token: String) -> Self {
        Holder {
            token,
            ids: Mutex::new(Vec::new()),
            confirmed: Mutex::new(i64::MIN),
            lost: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn hold(&self, id: &str, expires: i64) {
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
        self.confirm(expires);
    }

    pub fn ids(&self) -> Vec<String> {
        self.ids.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn confirm(&self, expires: i64) {
        let mut c = self.confirmed.lock().unwrap_or_else(|p| p.into_inner());
        *c = (*c).max(expires);
    }

    fn lose(&self) {
        self.lost.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_lost(&self) -> bool {
        self.lost.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn confirmed(&self) -> i64 {
        *self.confirmed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The diagnostic of a create whose lease another party took over.
pub(crate) fn lost(group: &str) -> Diagnostic {
    Diagnostic::general(
        "The create lost its lease",
        format!("This create could not renew the lease on {group} in time, and the group no longer carries it (another run judged the create gone and took the group over, or deleted it). Nothing more was written; apply again."),
    )
}

impl Engine {
    /// AWS's time now: from the answers so far, else from `probe` (any AWS call).
    pub(crate) async fn aws_now<F, Fut, T>(&self, probe: F) -> Result<AwsTime, CloudError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, CloudError>>,
    {
        if let Some(t) = self.cloud.aws_time() {
            return Ok(t);
        }
        probe().await?;
        Ok(self.clock())
    }

    /// AWS's time now, once an answer told it. AWS always sends a Date; an endpoint that does not
    /// (a test double) gets this machine's clock, said in the log.
    pub(crate) fn clock(&self) -> AwsTime {
        self.cloud.aws_time().unwrap_or_else(|| {
            tracing::warn!(
                "no AWS answer with a Date header yet: creation leases use this machine's clock"
            );
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            AwsTime {
                lower: now,
                upper: now + 1,
            }
        })
    }

    /// A fresh lease for `holder`, valid for the lease's length from AWS's latest possible now.
    pub(crate) fn lease_for(&self, holder: &str, now: AwsTime) -> Lease {
        Lease {
            holder: holder.to_string(),
            expires: now.upper + LeaseTiming::secs(self.timing.lease),
        }
    }

    /// Renews `h`'s lease every [`LeaseTiming::renew`] until `stop` fires. A renewal under way
    /// when it fires is finished, never dropped.
    pub(crate) async fn keep_lease(&self, h: &Holder, stop: &CancellationToken) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(self.timing.renew) => {}
            }
            if let Err(d) = self.renew(h).await {
                tracing::warn!("could not renew the creation lease: {d}");
            }
        }
    }

    /// Writes a fresh lease for `h`. When the lease may have lapsed (AWS's time may be past the
    /// expiry AWS last confirmed), it first reads the cluster group back: if the lease there is not
    /// `h`'s any more, somebody took the group over, and `h` is lost for good.
    pub(crate) async fn renew(&self, h: &Holder) -> Result<(), Diagnostic> {
        let ids = h.ids();
        let Some(first) = ids.first() else {
            return Ok(());
        };
        if h.is_lost() {
            return Err(lost(first));
        }
        if self.clock().upper >= h.confirmed() {
            let found = self
                .own_group_shown(first)
                .await
                .map_err(|e| cloud_diag("check the creation lease", &e))?;
            let ours = found.iter().find(|g| &g.id == first).is_some_and(
                |g| matches!(Creation::of(g), Creation::Leased(l) if l.holder == h.token),
            );
            if !ours {
                h.lose();
                return Err(lost(first));
            }
        }
        let lease = self.lease_for(&h.token, self.clock());
        let tags = BTreeMap::from([(bk::CREATING.to_string(), lease.value())]);
        // the create's own new groups may not show yet (AWS's eventual consistency)
        let settled = tokio::time::Instant::now() + self.backoff.consistency;
        let not_yet = |e: &CloudError| matches!(e, CloudError::NotFound { .. });
        self.retry("CreateTags", settled, not_yet, || {
            self.cloud.create_tags(&ids, &tags)
        })
        .await
        .map_err(|e| cloud_diag("renew the creation lease", &e))?;
        tracing::debug!(groups = ?ids, expires = lease.expires, "renewed the creation lease");
        h.confirm(lease.expires);
        Ok(())
    }

    /// The create's own group `id`, read again (never from a shared answer) while it does not show,
    /// within the consistency wait: a group made moments before may not show yet, and only a group
    /// that shows with another lease proves the lease lost.
    async fn own_group_shown(&self, id: &str) -> Result<Vec<Group>, CloudError> {
        let ids = [id.to_string()];
        let settled = tokio::time::Instant::now() + self.backoff.consistency;
        let mut wait = self.backoff.initial;
        let mut found = self.cloud.describe_security_groups(&ids).await?;
        while !found.iter().any(|g| g.id == id) && tokio::time::Instant::now() + wait < settled {
            self.sleep(self.jittered(wait)).await?;
            wait = (wait * 2).min(self.backoff.max);
            found = self.cloud.describe_security_groups_again(&ids).await?;
        }
        Ok(found)
    }

    /// Before a write of the create holding `h`: fails when the lease was lost, and renews it
    /// first when it may have lapsed.
    pub(crate) async fn check_lease(&self, h: &Holder, group: &str) -> Result<(), Diagnostic> {
        if h.is_lost() {
            return Err(lost(group));
        }
        if self.clock().upper < h.confirmed() {
            return Ok(());
        }
        self.renew(h).await
    }

    /// Ends the lease of the groups `ids` of `w`, because a state records them now: sets
    /// `created` and removes the lease, in two calls made at once.
    pub(crate) async fn end_lease(&self, w: &mut World, ids: &[String]) -> Result<(), Diagnostic> {
        if ids.is_empty() {
            return Ok(());
        }
        let now = self
            .aws_now(|| self.cloud.describe_security_groups(&ids[..1]))
            .await
            .map_err(|e| cloud_diag("read AWS's clock", &e))?;
        let created = BTreeMap::from([(bk::CREATED.to_string(), now.lower.to_string())]);
        let creating = [bk::CREATING.to_string()];
        // groups made moments before may not show yet (AWS's eventual consistency)
        let settled = tokio::time::Instant::now() + self.backoff.consistency;
        let not_yet = |e: &CloudError| matches!(e, CloudError::NotFound { .. });
        let (a, b) = tokio::join!(
            self.retry("CreateTags", settled, not_yet, || self
                .cloud
                .create_tags(ids, &created)),
            self.retry("DeleteTags", settled, not_yet, || self
                .cloud
                .delete_tags(ids, &creating))
        );
        if a.is_ok() {
            w.tag(ids, &created);
        }
        if b.is_ok() {
            w.untag(ids, &creating);
        }
        a.and(b)
            .map_err(|e| cloud_diag("end the creation lease of the groups", &e))
    }

    /// Ends the lease of every group of `w` that still carries one (a Read, an update, a failed
    /// create). Failing is a warning in the log: the next Read tries again.
    pub(crate) async fn end_leases_of(&self, w: &mut World) {
        let marked: Vec<String> = std::iter::once(&w.cluster_group)
            .chain(w.client_group.iter())
            .filter(|g| Creation::of(g).is_marked())
            .map(|g| g.id.clone())
            .collect();
        if marked.is_empty() {
            return;
        }
        match self.end_lease(w, &marked).await {
            Ok(()) => {
                tracing::info!(groups = ?marked, "ended the creation lease: a state records the groups")
            }
            Err(d) => tracing::warn!(groups = ?marked, "could not end the creation lease: {d}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_values_round_trip_and_old_markers_are_told_apart() {
        let l = Lease {
            holder: "ab12".into(),
            expires: 1_800_000_000,
        };
        assert_eq!(l.value(), "v2:ab12:1800000000");
        assert_eq!(Lease::parse(&l.value()), Some(l));
        assert_eq!(Lease::parse("1000/600"), None);
        assert_eq!(Lease::parse("v2::5"), None);
        let g = |tags: &[(&str, &str)]| Group {
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Group::default()
        };
        assert_eq!(Creation::of(&g(&[])), Creation::Done);
        assert_eq!(
            Creation::of(&g(&[(bk::CREATING, "1000/600")])),
            Creation::Legacy("1000/600".into())
        );
        assert!(matches!(
            Creation::of(&g(&[(bk::CREATING, "v2:t:5")])),
            Creation::Leased(_)
        ));
        // `created` wins over a lease that a late renewal brought back
        assert_eq!(
            Creation::of(&g(&[(bk::CREATING, "v2:t:5"), (bk::CREATED, "4")])),
            Creation::Done
        );
    }

    #[test]
    fn a_lease_expires_only_past_its_grace_by_the_lower_bound_of_aws_time() {
        let l = Lease {
            holder: "t".into(),
            expires: 1000,
        };
        let grace = Duration::from_secs(30);
        let at = |lower, upper| AwsTime { lower, upper };
        assert!(!l.expired(at(1030, 1100), grace));
        assert!(l.expired(at(1031, 1031), grace));
        let t = LeaseTiming::of(Duration::from_secs(6));
        assert_eq!(
            (t.renew, t.grace),
            (Duration::from_secs(2), Duration::from_secs(1))
        );
        assert_eq!(LeaseTiming::default().grace, Duration::from_secs(30));
        assert_eq!(new_token().len(), 32);
    }
}
