//! Bringing a group's ingress rules to what is wanted: adopt identical rules that exist, authorize
//! the missing ones, update descriptions, and only then revoke the old ones, so a change never opens
//! an access gap. Each confirmed write is applied to the [`World`].

use std::collections::BTreeMap;

use tokio::time::Instant;

use crate::domain::cloud::{CloudError, Rule, RuleSpec, Source};
use crate::domain::diag::Diagnostic;
use crate::domain::engine::observe::SSH_PORT;
use crate::domain::engine::{cloud_diag, Engine, World};

/// The rules one group should have.
pub(crate) struct Want<'a> {
    pub group: &'a str,
    pub specs: BTreeMap<String, RuleSpec>,
    /// Revoke rules this access does not manage too (`exclusive_ingress`).
    pub exclusive: bool,
    /// The client group's SSH rules: only this access's TCP 22 rules are in scope.
    pub ssh: bool,
    /// Tags for new and adopted rules.
    pub tags: &'a BTreeMap<String, String>,
    /// Groups made by this operation: AWS may not show them yet.
    pub fresh: &'a [String],
    /// Revoke the old rules before authorizing the new ones (`revoke_before_authorize`: the
    /// group's rule quota has no room for both).
    pub revoke_first: bool,
}

fn matches(r: &Rule, spec: &RuleSpec) -> bool {
    r.is_tcp_port(spec.port) && r.source.as_ref().is_some_and(|s| s.same_as(&spec.source))
}

impl Engine {
    /// Converges the rules of `want.group` in `w`.
    pub(crate) async fn converge(
        &self,
        w: &mut World,
        want: &Want<'_>,
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        let existing: Vec<Rule> = w
            .ingress(want.group)
            .filter(|r| !want.ssh || (w.is_managed(r) && r.is_tcp_port(SSH_PORT)))
            .cloned()
            .collect();
        let mut used = Vec::new();
        let (mut adopt, mut add, mut describe) = (Vec::new(), Vec::new(), Vec::new());
        for spec in want.specs.values() {
            let found = existing
                .iter()
                .filter(|r| !used.contains(&r.id))
                .find(|r| w.is_managed(r) && matches(r, spec))
                .or_else(|| {
                    existing
                        .iter()
                        .filter(|r| !used.contains(&r.id))
                        .find(|r| matches(r, spec))
                });
            match found {
                None => add.push(spec.clone()),
                Some(r) => {
                    used.push(r.id.clone());
                    if !w.is_managed(r) {
                        adopt.push(r.id.clone());
                    }
                    if r.description.as_deref().unwrap_or_default() != spec.description {
                        describe.push((r.id.clone(), spec.clone()));
                    }
                }
            }
        }
        self.adopt(w, &adopt, want.tags)
            .await
            .map_err(|e| cloud_diag("tag the adopted rules", &e))?;
        let revoke: Vec<String> = existing
            .iter()
            .filter(|r| !used.contains(&r.id) && (want.exclusive || w.is_managed(r)))
            .map(|r| r.id.clone())
            .collect();
        if want.revoke_first {
            self.revoke_old(w, want.group, &revoke, deadline).await?;
        }
        self.authorize(w, want.group, &add, want.tags, deadline, want.fresh)
            .await
            .map_err(|e| {
                cloud_diag(
                    &format!("authorize the ingress rules of {}", want.group),
                    &e,
                )
            })?;
        if !describe.is_empty() {
            self.cloud
                .update_rule_descriptions(want.group, &describe)
                .await
                .map_err(|e| cloud_diag("update the rules' descriptions", &e))?;
            for (id, spec) in &describe {
                w.set_description(id, &spec.description);
            }
        }
        if want.revoke_first {
            return Ok(());
        }
        self.revoke_old(w, want.group, &revoke, deadline).await
    }

    async fn revoke_old(
        &self,
        w: &mut World,
        group: &str,
        revoke: &[String],
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        self.revoke(w, group, revoke, deadline)
            .await
            .map_err(|e| cloud_diag(&format!("revoke the old ingress rules of {group}"), &e))
    }

    /// Tags rules found identical to wanted ones, making them this access's.
    async fn adopt(
        &self,
        w: &mut World,
        ids: &[String],
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.cloud.create_tags(ids, tags).await?;
        tracing::info!(rules = ?ids, "adopted existing identical rules");
        w.tag(ids, tags);
        w.managed.extend(ids.iter().cloned());
        Ok(())
    }

    /// Authorizes `specs` on `group` in one call, retrying "not found" for groups this operation made
    /// (AWS may not show them yet) until `deadline`, and for the other groups it names (a client
    /// group made moments before this access, by the same apply) during the consistency wait
    /// ([`Engine::settling`]). Rules that exist already are adopted. When AWS's answer lists fewer
    /// rules than were authorized, the group's rules are read back once.
    pub(crate) async fn authorize(
        &self,
        w: &mut World,
        group: &str,
        specs: &[RuleSpec],
        tags: &BTreeMap<String, String>,
        deadline: Instant,
        fresh: &[String],
    ) -> Result<(), CloudError> {
        if specs.is_empty() {
            return Ok(());
        }
        let settled = self.settling(deadline);
        let named = |message: &str| {
            message.contains(group)
                || specs.iter().any(|s| {
                    matches!(&s.source, Source::Group { id, .. } if message.contains(id.as_str()))
                })
        };
        let not_yet_visible = |e: &CloudError| match e {
            CloudError::NotFound { message, .. } => {
                fresh.iter().any(|f| message.contains(f.as_str()))
                    || (!message.contains("sg-") && fresh.iter().any(|f| f == group))
                    || (named(message) && Instant::now() < settled)
            }
            _ => false,
        };
        let made = self
            .retry(
                "AuthorizeSecurityGroupIngress",
                deadline,
                not_yet_visible,
                || self.cloud.authorize_ingress(group, specs, tags),
            )
            .await;
        match made {
            Ok(rules) => {
                let complete = specs.iter().all(|s| rules.iter().any(|r| matches(r, s)));
                w.add_rules(rules);
                if !complete {
                    self.read_back(w, group, specs, deadline).await?;
                }
                Ok(())
            }
            Err(CloudError::Duplicate { .. }) => {
                self.authorize_after_duplicate(w, group, specs, tags, deadline)
                    .await
            }
            Err(e) => Err(e),
        }
    }

    /// Some rules exist already (added outside, or by an earlier attempt whose answer was lost):
    /// adopt those, authorize the rest. Rules an earlier run authorized moments before may not show
    /// yet (AWS's eventual consistency): while AWS still answers Duplicate for the rest, read again
    /// until the consistency wait ends.
    async fn authorize_after_duplicate(
        &self,
        w: &mut World,
        group: &str,
        specs: &[RuleSpec],
        tags: &BTreeMap<String, String>,
        deadline: Instant,
    ) -> Result<(), CloudError> {
        let ids = [group.to_string()];
        let settled = self.settling(deadline);
        let mut wait = self.backoff.initial;
        loop {
            let rules = self
                .read_retrying("DescribeSecurityGroupRules", deadline, || {
                    self.cloud.describe_rules_again(&ids)
                })
                .await?;
            w.replace_rules_of(group, rules);
            let mut adopt = Vec::new();
            let mut rest = Vec::new();
            for s in specs {
                match w.ingress(group).find(|r| matches(r, s)) {
                    Some(r) if !w.is_managed(r) => adopt.push(r.id.clone()),
                    Some(_) => {}
                    None => rest.push(s.clone()),
                }
            }
            self.adopt(w, &adopt, tags).await?;
            if rest.is_empty() {
                return Ok(());
            }
            match self.cloud.authorize_ingress(group, &rest, tags).await {
                Ok(made) => {
                    let complete = rest.iter().all(|s| made.iter().any(|r| matches(r, s)));
                    w.add_rules(made);
                    if !complete {
                        self.read_back(w, group, &rest, deadline).await?;
                    }
                    return Ok(());
                }
                Err(CloudError::Duplicate { .. }) if Instant::now() + wait < settled => {
                    tracing::debug!(group, "duplicate rules not shown yet: reading again");
                    self.sleep(self.jittered(wait)).await?;
                    wait = (wait * 2).min(self.backoff.max);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the group's rules again and marks the authorized ones as this access's.
    async fn read_back(
        &self,
        w: &mut World,
        group: &str,
        specs: &[RuleSpec],
        deadline: Instant,
    ) -> Result<(), CloudError> {
        let ids = [group.to_string()];
        let rules = self
            .read_retrying("DescribeSecurityGroupRules", deadline, || {
                self.cloud.describe_rules(&ids)
            })
            .await?;
        let ids: Vec<String> = rules
            .iter()
            .filter(|r| !r.is_egress && specs.iter().any(|s| matches(r, s)))
            .map(|r| r.id.clone())
            .collect();
        w.replace_rules_of(group, rules);
        w.managed.extend(ids);
        Ok(())
    }

    /// Revokes rules by id. AWS refuses the whole call when one of them is not found: gone already
    /// (revoked by someone else), or not visible yet (authorized moments before: AWS's eventual
    /// consistency). The rules a describe lists are revoked at once; the others are tried again
    /// until the consistency wait ends ([`Engine::settling`]), and only then counted as gone.
    pub(crate) async fn revoke(
        &self,
        w: &mut World,
        group: &str,
        ids: &[String],
        deadline: Instant,
    ) -> Result<(), CloudError> {
        let settled = self.settling(deadline);
        let mut pending = ids.to_vec();
        let mut wait = self.backoff.initial;
        while !pending.is_empty() {
            let not_found = match self.cloud.revoke_ingress(group, &pending).await {
                Ok(()) => {
                    w.remove_rules(&pending);
                    return Ok(());
                }
                Err(e @ CloudError::NotFound { .. }) => e,
                Err(e) => return Err(e),
            };
            let groups = [group.to_string()];
            let rules = self
                .read_retrying("DescribeSecurityGroupRules", deadline, || {
                    self.cloud.describe_rules_again(&groups)
                })
                .await?;
            let listed: Vec<String> = pending
                .iter()
                .filter(|id| rules.iter().any(|r| &&r.id == id))
                .cloned()
                .collect();
            if !listed.is_empty() && listed.len() < pending.len() {
                match self.cloud.revoke_ingress(group, &listed).await {
                    Ok(()) => {
                        w.remove_rules(&listed);
                        pending.retain(|id| !listed.contains(id));
                    }
                    Err(CloudError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            if Instant::now() + wait >= settled {
                if pending.iter().any(|id| listed.contains(id)) {
                    return Err(not_found);
                }
                tracing::info!(rules = ?pending, "rules to revoke are gone already");
                w.remove_rules(&pending);
                return Ok(());
            }
            tracing::debug!(rules = ?pending, "rules to revoke not found yet: waiting");
            self.sleep(self.jittered(wait)).await?;
            wait = (wait * 2).min(self.backoff.max);
        }
        Ok(())
    }
}
