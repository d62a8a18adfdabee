//! Adding the cluster group to the cluster's security groups and removing it again.
//!
//! Both are a read-modify-write of a list other accesses (and other tools) change too, so each
//! waits for the cluster to be `available` with every member using the same groups, reads them,
//! writes that list with the wanted groups added or removed and nothing else changed, and reads
//! again until its own change shows on every member, within the operation's deadline. The write is
//! one attempt (the SDK never resends a list that may be stale): every retry reads the groups
//! again first. Accesses of one provider process take turns per cluster, and each write carries
//! the changes of every access of the process waiting for that cluster ([`ClusterSlot`]), so ten
//! accesses attached in one apply take one or two modifications, not ten; across processes AWS
//! refuses a write while the cluster is modifying, and the re-read catches a write that overwrote
//! this one.

use std::collections::BTreeSet;
use std::sync::Mutex;

use tokio::time::Instant;

use crate::domain::cloud::{CloudError, ClusterGroups, ClusterInfo, ClusterRef};
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::engine::{cloud_diag, Engine};

/// How long a change of a cluster's groups waits for the run's other changes to join it.
const GATHER: std::time::Duration = std::time::Duration::from_millis(500);

/// The longest wait between two looks at a cluster that is being modified.
const CLUSTER_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// What a change of the cluster's groups should reach.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Goal {
    Attached,
    Detached,
}

/// One cluster's writers in this process: whose turn it is, and the groups its accesses want on
/// (`add`) and off (`remove`) the cluster now.
#[derive(Default)]
pub(crate) struct ClusterSlot {
    turn: tokio::sync::Mutex<()>,
    wants: Mutex<Wants>,
    /// Writes of the cluster's groups this process tried: a look taken before one is stale.
    writes: std::sync::atomic::AtomicU64,
}

#[derive(Clone, Default)]
struct Wants {
    add: BTreeSet<String>,
    remove: BTreeSet<String>,
}

impl ClusterSlot {
    fn wants(&self) -> Wants {
        self.wants.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn edit(&self, f: impl FnOnce(&mut Wants)) {
        f(&mut self.wants.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn writes(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn wrote(&self) {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// An access's wish on a [`ClusterSlot`], withdrawn when its change ends (done, failed or
/// cancelled).
struct Wish<'a> {
    slot: &'a ClusterSlot,
    group: String,
}

impl<'a> Wish<'a> {
    fn new(slot: &'a ClusterSlot, group: &str, goal: Goal) -> Self {
        slot.edit(|w| {
            let (on, off) = match goal {
                Goal::Attached => (&mut w.add, &mut w.remove),
                Goal::Detached => (&mut w.remove, &mut w.add),
            };
            off.remove(group);
            on.insert(group.to_string());
        });
        Wish {
            slot,
            group: group.to_string(),
        }
    }
}

impl Drop for Wish<'_> {
    fn drop(&mut self) {
        self.slot.edit(|w| {
            w.add.remove(&self.group);
            w.remove.remove(&self.group);
        });
    }
}

impl Engine {
    /// Adds `group` to the cluster's security groups, keeping the ones it has.
    pub(crate) async fn attach(
        &self,
        c: &ClusterRef,
        group: &str,
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        self.change_groups(c, group, Goal::Attached, deadline).await
    }

    /// Removes `group` from the cluster's security groups; refuses to leave the cluster with none.
    pub(crate) async fn detach(
        &self,
        c: &ClusterRef,
        group: &str,
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        self.change_groups(c, group, Goal::Detached, deadline).await
    }

    async fn change_groups(
        &self,
        c: &ClusterRef,
        group: &str,
        goal: Goal,
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        let slot = self.cluster_slot(c);
        let _wish = Wish::new(&slot, group, goal);
        // The other accesses of this run reach their attach or detach within moments of each
        // other: a short wait lets their wishes join the first write, so that one modification
        // window serves them all (a window lasts minutes on AWS). The first look at the cluster's
        // groups is taken during that wait; it is used only when no write of this process came
        // between (else the loop looks again), and AWS refuses a write while another writer's
        // change is under way (the cluster is `modifying`), which the look after the write sees.
        let seen = slot.writes();
        let (early, waited) = tokio::join!(self.cloud.cluster_groups(c), self.sleep(GATHER));
        waited.map_err(|e| cloud_diag("wait for the cluster", &e))?;
        let _turn = slot.turn.lock().await;
        let mut early = early.ok().filter(|_| slot.writes() == seen);
        let what = match goal {
            Goal::Attached => format!("attach {group} to the {c}"),
            Goal::Detached => format!("detach {group} from the {c}"),
        };
        let mut wait = self.backoff.initial;
        let mut disagreeing = 0;
        let base = self.kept_or_looked(c);
        loop {
            let step = self
                .groups_step(c, group, goal, &slot.wants(), base.as_ref(), early.take())
                .await;
            disagreeing = match &step {
                Ok(Step::Disagree(_)) => disagreeing + 1,
                _ => 0,
            };
            let retry = match step {
                Ok(Step::Done) => return Ok(()),
                Ok(Step::Write(list)) => {
                    slot.wrote();
                    self.write_groups(c, &list)
                        .await
                        .map_err(|e| cloud_diag(&what, &e))?
                }
                Ok(Step::Busy(status)) => Some(busy(c, &status)),
                // Members read one by one may straddle another writer's change: read again, and
                // refuse only when they keep disagreeing.
                Ok(Step::Disagree(members)) if disagreeing >= DISAGREEMENTS => {
                    return Err(disagree(c, &members))
                }
                Ok(Step::Disagree(members)) => Some(busy(
                    c,
                    &format!("available, but its members use different groups ({members})"),
                )),
                Err(StepError::Refused(d)) => return Err(d),
                Err(StepError::Cloud(e)) if e.is_transient() => Some(e),
                Err(StepError::Cloud(CloudError::NotFound { .. })) if goal == Goal::Detached => {
                    return Ok(())
                }
                Err(StepError::Cloud(e)) => {
                    return Err(cloud_diag(
                        &format!("read the security groups of the {c}"),
                        &e,
                    ))
                }
            };
            if let Some(e) = retry {
                if Instant::now() + wait >= deadline {
                    return Err(cloud_diag(&what, &e));
                }
                tracing::debug!(cluster = %c, error = %e, "waiting for the cluster");
            }
            self.sleep(self.jittered(wait))
                .await
                .map_err(|e| cloud_diag(&what, &e))?;
            // While the cluster is modifying, look again at least every CLUSTER_POLL.
            wait = (wait * 2).min(self.backoff.max).min(CLUSTER_POLL);
        }
    }

    /// One write of the cluster's groups: None when AWS took it, the error to wait on when it may
    /// be tried again (after the groups are read again), Err when not.
    async fn write_groups(
        &self,
        c: &ClusterRef,
        list: &[String],
    ) -> Result<Option<CloudError>, CloudError> {
        match self.cloud.set_cluster_security_groups(c, list).await {
            Ok(()) => {
                // this process's describe of the cluster no longer holds
                self.forget_cluster(c);
                tracing::info!(cluster = %c, groups = ?list, "set the cluster's security groups");
                Ok(None)
            }
            Err(e) if e.is_transient() || matches!(e, CloudError::InUse { .. }) => Ok(Some(e)),
            Err(e) => Err(e),
        }
    }

    /// A look at the cluster's groups (`early`, when one was taken during the gathering wait)
    /// and what it calls for. When the change shows, the look updates `base`, this process's
    /// describe of the cluster from before the change, which a write made it forget
    /// ([`Engine::keep_looked`]).
    async fn groups_step(
        &self,
        c: &ClusterRef,
        group: &str,
        goal: Goal,
        wants: &Wants,
        base: Option<&ClusterInfo>,
        early: Option<ClusterGroups>,
    ) -> Result<Step, StepError> {
        let now = match early {
            Some(now) => now,
            None => self
                .cloud
                .cluster_groups(c)
                .await
                .map_err(StepError::Cloud)?,
        };
        let step = next_step(&now, c, group, goal, wants)?;
        if let (Step::Done, Some(base)) = (&step, base) {
            self.keep_looked(c, base.clone(), &now);
        }
        Ok(step)
    }
}

enum Step {
    Done,
    Busy(String),
    /// Available, but the members use different groups besides this access's (described).
    Disagree(String),
    Write(Vec<String>),
}

/// Reads in a row with the members disagreeing before the change is refused.
const DISAGREEMENTS: u32 = 5;

fn busy(c: &ClusterRef, status: &str) -> CloudError {
    CloudError::InUse {
        code: "ClusterNotAvailable".into(),
        message: format!("the {c} is {status}"),
    }
}

fn disagree(c: &ClusterRef, members: &str) -> Diagnostic {
    Diagnostic::error(
        AttrPath::attr("cluster"),
        "The cluster's members use different security groups",
        format!("The members of the {c} do not use the same security groups ({members}), and AWS sets one list for all of them: this provider will not guess which list is meant. Make them agree (for example with ModifyReplicationGroup), then apply again."),
    )
}

enum StepError {
    Refused(Diagnostic),
    Cloud(CloudError),
}

fn next_step(
    now: &ClusterGroups,
    c: &ClusterRef,
    group: &str,
    goal: Goal,
    wants: &Wants,
) -> Result<Step, StepError> {
    let done = match goal {
        Goal::Attached => now.has_everywhere(group),
        Goal::Detached => !now.has_anywhere(group),
    };
    if done {
        return Ok(Step::Done);
    }
    if !now.is_available() {
        return Ok(Step::Busy(now.status.clone()));
    }
    // One list is written for every member: it is exact only when the members agree on every
    // group but those this process changes (a union would spread one member's groups to the others
    // unseen). The list carries every change this process's accesses want now.
    let changing: BTreeSet<String> = wants
        .add
        .union(&wants.remove)
        .cloned()
        .chain([group.to_string()])
        .collect();
    let Some(mut list) = now.common_besides(&changing) else {
        return Ok(Step::Disagree(now.describe_members()));
    };
    let mut adds = wants.add.clone();
    let mut removes = wants.remove.clone();
    match goal {
        Goal::Attached => adds.insert(group.to_string()),
        Goal::Detached => removes.insert(group.to_string()),
    };
    list.extend(adds.difference(&removes).cloned());
    if list.is_empty() {
        return Err(StepError::Refused(Diagnostic::error(
            AttrPath::attr("attach_to_cluster"),
            "Detaching would leave the cluster with no security group",
            format!("{group} is the only security group of the {c}. Attach another security group to the cluster first (AWS would otherwise fall back to the VPC's default group), then apply again."),
        )));
    }
    Ok(Step::Write(list))
}
