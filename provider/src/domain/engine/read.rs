//! Reading an access: one describe of its groups, one of their rules, and the cluster only when
//! needed (described once per provider process: its endpoint, and its members' groups when the
//! access is attached), all three at once.

use std::collections::BTreeSet;

use tokio::time::Instant;

use crate::domain::cloud::{CloudError, ClusterRef, Group, Rule};
use crate::domain::diag::Diagnostic;
use crate::domain::engine::bookkeeping as bk;
use crate::domain::engine::lease::Creation;
use crate::domain::engine::observe::{derive, Attachment, World};
use crate::domain::engine::{cloud_diag, Engine};
use crate::domain::planning::state::AccessState;
use crate::domain::types::known;

impl Engine {
    /// Reads what AWS holds for the access of `prior`: None when its cluster group is gone.
    /// `membership`: also read whether the cluster uses the cluster group.
    pub(crate) async fn read_world(
        &self,
        prior: &AccessState,
        membership: bool,
    ) -> Result<Option<World>, CloudError> {
        self.read_world_with(prior, membership, true).await
    }

    /// [`Engine::read_world`] for a delete: the cluster is not described (its endpoint does not
    /// matter; the detach reads the cluster's groups itself, right before it changes them).
    pub(crate) async fn read_world_for_delete(
        &self,
        prior: &AccessState,
    ) -> Result<Option<World>, CloudError> {
        self.read_world_with(prior, false, false).await
    }

    async fn read_world_with(
        &self,
        prior: &AccessState,
        membership: bool,
        endpoint: bool,
    ) -> Result<Option<World>, CloudError> {
        let cluster_sg = prior.id().to_string();
        if cluster_sg.is_empty() {
            return Ok(None);
        }
        let mut ids = vec![cluster_sg.clone()];
        ids.extend(prior.outputs.client_security_group_id.clone());
        // The groups, their rules and the recorded cluster are read at once: one round trip, not
        // three one after the other (the cluster's describe is this process's one, see
        // `Engine::describe_cluster`; a failed one is not kept, and is made again below).
        let prefetch = async {
            if let Some(c) = known(&prior.inputs.cluster).filter(|_| endpoint) {
                let _ = self.describe_cluster(c).await;
            }
        };
        let (groups, rules, ()) = tokio::join!(
            self.cloud.describe_security_groups(&ids),
            self.cloud.describe_rules(&ids),
            prefetch
        );
        let groups = self.groups_settled(&ids, groups?).await?;
        let Some(cg) = groups.iter().find(|g| g.id == cluster_sg).cloned() else {
            tracing::info!(group = %cluster_sg, "cluster security group is gone");
            return Ok(None);
        };
        let client = prior
            .outputs
            .client_security_group_id
            .as_ref()
            .and_then(|c| groups.iter().find(|g| &g.id == c))
            .cloned();
        let present: Vec<String> = std::iter::once(cg.id.clone())
            .chain(client.as_ref().map(|c| c.id.clone()))
            .collect();
        let managed: BTreeSet<String> = prior
            .outputs
            .ingress_rule_ids
            .values()
            .chain(prior.outputs.client_ssh_rule_ids.values())
            .cloned()
            .collect();
        let expected: BTreeSet<String> = prior
            .outputs
            .ingress_rule_ids
            .values()
            .chain(
                client
                    .as_ref()
                    .map(|_| prior.outputs.client_ssh_rule_ids.values())
                    .into_iter()
                    .flatten(),
            )
            .cloned()
            .collect();
        let rules: Vec<_> = self
            .rules_settled(&present, &expected, rules?)
            .await?
            .into_iter()
            .filter(|r| present.contains(&r.group_id))
            .collect();
        let cluster = cg
            .tags
            .get(bk::CLUSTER)
            .and_then(|t| ClusterRef::from_tag(t))
            .or_else(|| known(&prior.inputs.cluster).cloned());
        let mut w = World {
            cluster_group: cg,
            client_group: client,
            rules,
            managed,
            cluster,
            attached: None,
            endpoint: prior.outputs.cluster_endpoint.clone(),
        };
        if membership {
            self.read_membership(&mut w).await?;
        }
        if endpoint {
            self.refresh_endpoint(&mut w).await;
        }
        Ok(Some(w))
    }

    /// The groups of `ids` (those a state records), from `first` (the read made with the rules)
    /// and read again while some are missing, until the consistency wait ends: groups made moments
    /// before (a create that failed halfway, then a destroy at once) may not show yet, and an
    /// access taken for gone would be left behind.
    pub(crate) async fn groups_settled(
        &self,
        ids: &[String],
        first: Vec<Group>,
    ) -> Result<Vec<Group>, CloudError> {
        let settled = Instant::now() + self.backoff.consistency;
        let mut wait = self.backoff.initial;
        let mut groups = first;
        while ids.iter().any(|id| !groups.iter().any(|g| &g.id == id))
            && Instant::now() + wait < settled
        {
            tracing::debug!(groups = ?ids, "recorded groups not shown yet: reading again");
            self.sleep(self.jittered(wait)).await?;
            wait = (wait * 2).min(self.backoff.max);
            groups = self.cloud.describe_security_groups_again(ids).await?;
        }
        Ok(groups)
    }

    /// The rules of `groups`, from `first` (the read made with the groups) and read again while
    /// some of `expected` (the rule ids the state recorded) are missing, until the consistency wait
    /// ends: a rule authorized moments before (by the run before this one) may not show yet, and a
    /// state without it would be incomplete. What is still missing then is gone. The first read
    /// may share a batched call or the Region scan; the next ones are fresh.
    async fn rules_settled(
        &self,
        groups: &[String],
        expected: &BTreeSet<String>,
        first: Vec<Rule>,
    ) -> Result<Vec<Rule>, CloudError> {
        let settled = Instant::now() + self.backoff.consistency;
        let mut wait = self.backoff.initial;
        let mut rules = first;
        loop {
            let missing: Vec<&String> = expected
                .iter()
                .filter(|id| !rules.iter().any(|r| &&r.id == id))
                .collect();
            if missing.is_empty() || Instant::now() + wait >= settled {
                if !missing.is_empty() {
                    tracing::info!(rules = ?missing, "recorded rules are gone");
                }
                return Ok(rules);
            }
            tracing::debug!(rules = ?missing, "recorded rules not shown yet: reading again");
            self.sleep(self.jittered(wait)).await?;
            wait = (wait * 2).min(self.backoff.max);
            rules = self.cloud.describe_rules_again(groups).await?;
        }
    }

    /// Whether the world's cluster uses its cluster group on every member, from the cluster's one
    /// describe of this process (its members read by id).
    pub(crate) async fn read_membership(&self, w: &mut World) -> Result<(), CloudError> {
        let Some(c) = w.cluster.clone() else {
            return Ok(());
        };
        w.attached = match self.describe_cluster(&c).await.map(|i| i.groups()) {
            Ok(g) if g.has_everywhere(&w.cluster_group.id) => Some(Attachment::Yes),
            Ok(g) if g.has_anywhere(&w.cluster_group.id) => Some(Attachment::Partly),
            Ok(_) | Err(CloudError::NotFound { .. }) => Some(Attachment::No),
            Err(e) => return Err(e),
        };
        Ok(())
    }

    /// The cluster's endpoint from its one describe of this process (the plan after this refresh
    /// reuses it); the recorded one when AWS does not answer.
    async fn refresh_endpoint(&self, w: &mut World) {
        let Some(c) = w.cluster.clone() else {
            w.endpoint = None;
            return;
        };
        match self.describe_cluster(&c).await {
            Ok(i) => w.endpoint = i.endpoint,
            Err(CloudError::NotFound { .. }) => w.endpoint = None,
            Err(e) => {
                tracing::warn!(cluster = %c, error = %e, "could not read the cluster's endpoint; keeping the recorded one")
            }
        }
    }

    /// Reads the access: None when its cluster group is gone. A creation lease still on its
    /// groups ends here: a state records them (a failed create's, an import's, Pulumi's recovery of
    /// a create it lost track of), so nobody may take them over.
    pub async fn read(&self, prior: &AccessState) -> Result<Option<AccessState>, Diagnostic> {
        let membership = prior.inputs.attach() == crate::domain::types::Known::Known(true);
        let w = self
            .read_world(prior, membership)
            .await
            .map_err(|e| cloud_diag("read the access", &e))?;
        let Some(mut w) = w else {
            return Ok(None);
        };
        let mut reference = prior.inputs.clone();
        if adopting(prior, &w) {
            tracing::info!(group = %w.cluster_group.id, "adopting the rules of a group this provider did not make");
            self.adopt_setup(&mut w, &mut reference, None).await?;
        }
        if w.client_group.is_none()
            && (Creation::of(&w.cluster_group).is_marked()
                || prior.inputs.create_client() == crate::domain::types::Known::Known(true))
        {
            self.find_unrecorded_client(&mut w)
                .await
                .map_err(|e| cloud_diag("find the client security group", &e))?;
        }
        self.end_leases_of(&mut w).await;
        Ok(Some(derive(&w, &reference, &self.tags)))
    }
}

/// True when `prior` is an access whose cluster group this provider did not make and whose state
/// records no rule and no client group yet: one moved in from another provider's resource
/// (MoveResourceState builds it from that resource's state alone), or an import that found nothing
/// to adopt. Until an apply tags the group as this provider's, a read adopts its setup as an import
/// does.
pub(super) fn adopting(prior: &AccessState, w: &World) -> bool {
    !w.cluster_group.tags.contains_key(bk::ROLE)
        && prior.outputs.ingress_rule_ids.is_empty()
        && prior.outputs.client_ssh_rule_ids.is_empty()
        && prior.outputs.client_security_group_id.is_none()
}

impl Engine {
    /// The client group a state does not record (a create whose answer was lost, Pulumi's pending
    /// create), found by its full proof, with its rules.
    async fn find_unrecorded_client(&self, w: &mut World) -> Result<(), CloudError> {
        if let Some(c) = self.find_client_group(&w.cluster_group).await? {
            let rules = self
                .cloud
                .describe_rules(std::slice::from_ref(&c.id))
                .await?;
            w.rules.extend(rules);
            w.client_group = Some(c);
        }
        Ok(())
    }
}
