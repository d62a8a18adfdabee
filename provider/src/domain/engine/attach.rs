//! Adding the cluster group to the cluster's security groups and removing it again.
//!
//! Both are a read-modify-write of a list other accesses (and other tools) change too, so each
//! waits for the cluster to be `available` with every member using the same groups, reads them,
//! writes that list with this access's group added or removed and nothing else changed, and reads
//! again until its own change shows on every member, within the operation's deadline. The write is
//! one attempt (the SDK never resends a list that may be stale): every retry reads the groups
//! again first. Accesses of one provider process take turns per cluster; across processes AWS
//! refuses a write while the cluster is modifying, and the re-read catches a write that overwrote
//! this one.

use tokio::time::Instant;

use crate::domain::cloud::{CloudError, ClusterGroups, ClusterRef};
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::engine::{cloud_diag, Engine};

/// What a change of the cluster's groups should reach.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Goal {
    Attached,
    Detached,
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
        let lock = self.cluster_lock(c);
        let _turn = lock.lock().await;
        let what = match goal {
            Goal::Attached => format!("attach {group} to the {c}"),
            Goal::Detached => format!("detach {group} from the {c}"),
        };
        let mut wait = self.backoff.initial;
        let mut wrote = false;
        loop {
            let step = self.groups_step(c, group, goal).await;
            let retry = match step {
                Ok(Step::Done) => {
                    if wrote {
                        self.forget_cluster(c);
                    }
                    return Ok(());
                }
                Ok(Step::Write(list)) => {
                    match self.cloud.set_cluster_security_groups(c, &list).await {
                        Ok(()) => {
                            wrote = true;
                            // this process's describe of the cluster no longer holds
                            self.forget_cluster(c);
                            tracing::info!(cluster = %c, groups = ?list, "set the cluster's security groups");
                            None
                        }
                        Err(e) if e.is_transient() || matches!(e, CloudError::InUse { .. }) => {
                            Some(e)
                        }
                        Err(e) => return Err(cloud_diag(&what, &e)),
                    }
                }
                Ok(Step::Busy(status)) => Some(CloudError::InUse {
                    code: "ClusterNotAvailable".into(),
                    message: format!("the {c} is {status}"),
                }),
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
            wait = (wait * 2).min(self.backoff.max);
        }
    }

    async fn groups_step(
        &self,
        c: &ClusterRef,
        group: &str,
        goal: Goal,
    ) -> Result<Step, StepError> {
        let now = self
            .cloud
            .cluster_groups(c)
            .await
            .map_err(StepError::Cloud)?;
        next_step(&now, c, group, goal)
    }
}

enum Step {
    Done,
    Busy(String),
    Write(Vec<String>),
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
    // group but this access's own (a union would spread one member's groups to the others unseen).
    let Some(mut list) = now.common_besides(group) else {
        return Err(StepError::Refused(Diagnostic::error(
            AttrPath::attr("cluster"),
            "The cluster's members use different security groups",
            format!("The members of the {c} do not use the same security groups ({}), and AWS sets one list for all of them: this provider will not guess which list is meant. Make them agree (for example with ModifyReplicationGroup), then apply again.", now.describe_members()),
        )));
    };
    match goal {
        Goal::Attached => list.push(group.to_string()),
        Goal::Detached if list.is_empty() => {
            return Err(StepError::Refused(Diagnostic::error(
                AttrPath::attr("attach_to_cluster"),
                "Detaching would leave the cluster with no security group",
                format!("{group} is the only security group of the {c}. Attach another security group to the cluster first (AWS would otherwise fall back to the VPC's default group), then apply again."),
            )))
        }
        Goal::Detached => {}
    }
    Ok(Step::Write(list))
}
