//! What a create does when a group of the name it needs exists already. It takes the group only
//! when it is provably this access's:
//! - its own earlier attempt made it (the group carries this create's token: an answer was lost);
//! - an abandoned create of this access made it: the full proof of [`super::ownership`], and a
//!   lease that expired by AWS's clock; the create then takes the lease over, waits a grace period
//!   and reads it back, so that of two creates taking over at once only one goes on;
//! - for the client group: the one its cluster group's create made (same token), or one whose
//!   access is gone (its cluster group was deleted).
//!
//! A live create (a lease that is renewed), another state's access, a failed create that Terraform
//! marked tainted, or a group this provider did not make is never taken: the create fails with a
//! message that names the group and what holds it.

use std::collections::BTreeMap;

use tokio::time::Instant;

use crate::domain::cloud::{AwsTime, CloudError, Group};
use crate::domain::diag::Diagnostic;
use crate::domain::engine::bookkeeping as bk;
use crate::domain::engine::create::{by_name, new_world};
use crate::domain::engine::lease::{Creation, Holder, Lease};
use crate::domain::engine::observe::{Attachment, World};
use crate::domain::engine::ownership::{holder_text, proven_client, unproven};
use crate::domain::engine::target::Target;
use crate::domain::engine::{cloud_diag, Engine};
use crate::domain::types::ClusterRef;

/// The error of a create that does not take the existing group `g`.
pub(crate) fn exists_already(g: &Group, explicit: bool, why: &str) -> Diagnostic {
    let advice = if !explicit {
        "Apply again: the next attempt generates another name."
    } else if g.tags.contains_key(bk::ROLE) && matches!(Creation::of(g), Creation::Done) {
        "If it is this configuration's access (a run that ended before it recorded the access), import it (terraform import <address> <id>; Pulumi: import with that id). If this create replaces an access of the same name while it still exists (Terraform's create_before_destroy, a tainted access among them; Pulumi without deleteBeforeReplace), use name_prefix, or set Pulumi's deleteBeforeReplace resource option. If another configuration holds it, give this one another name."
    } else if g.tags.contains_key(bk::ROLE) {
        "Wait for that create to end, or, if its run was stopped, apply again once its lease has expired; or give this access another name."
    } else {
        "Choose another name, or import the access built by hand with the cluster group's id."
    };
    Diagnostic::general(
        "Security group exists already",
        format!(
            "A security group named {} ({}) exists in {}: {why}. It is not taken over. {advice}",
            g.name, g.id, g.vpc_id
        )
        .replace("<id>", &g.id),
    )
}

/// What to do with an existing group found in the way of a create.
enum Verdict {
    /// This create's own (its token).
    Own,
    /// Provably abandoned: take it over.
    Abandoned,
    /// In creation by another create whose lease has not expired yet: watch it.
    Wait(Lease),
    /// Never taken, for this reason.
    Refuse(String),
}

fn verdict(
    g: &Group,
    role: &str,
    token: &str,
    now: AwsTime,
    grace: std::time::Duration,
) -> Verdict {
    match Creation::of(g) {
        Creation::Leased(l) if l.holder == token => Verdict::Own,
        Creation::Leased(l) => match unproven(g, role) {
            Some(why) => Verdict::Refuse(format!("it carries a creation lease, but {why}")),
            None if !g.tags.contains_key(bk::ORIGIN) => {
                Verdict::Refuse("its creation token is missing".into())
            }
            None if l.expired(now, grace) => Verdict::Abandoned,
            None => Verdict::Wait(l),
        },
        _ => Verdict::Refuse(holder_text(g)),
    }
}

impl Engine {
    /// The group named `name` in `t`'s VPC, waiting (within `deadline`) for AWS to show a group
    /// it just refused to create twice.
    async fn existing(
        &self,
        t: &Target,
        name: &str,
        deadline: Instant,
    ) -> Result<Group, Diagnostic> {
        let find = || async {
            let found = self
                .cloud
                .find_security_groups(&by_name(&t.vpc, name))
                .await?;
            found
                .into_iter()
                .find(|g| g.name == name)
                .ok_or_else(|| CloudError::NotFound {
                    code: "InvalidGroup.NotFound".into(),
                    message: format!("{name} is not visible yet"),
                })
        };
        let retry_on =
            |e: &CloudError| e.is_transient() || matches!(e, CloudError::NotFound { .. });
        self.retry("DescribeSecurityGroups", deadline, retry_on, find)
            .await
            .map_err(|e| cloud_diag(&format!("find the security group {name}"), &e))
    }

    /// Takes the existing cluster group `name` for the create holding `h`, or refuses.
    pub(crate) async fn take_cluster_group(
        &self,
        t: &Target,
        name: &str,
        h: &Holder,
        explicit: bool,
        deadline: Instant,
    ) -> Result<World, Diagnostic> {
        let mut seen: Option<Lease> = None;
        loop {
            let g = self.existing(t, name, deadline).await?;
            let now = self.clock();
            match verdict(&g, bk::ROLE_CLUSTER, &h.token, now, self.timing.grace) {
                Verdict::Own => {
                    tracing::warn!(group = %g.id, "found the cluster group this create made (its answer was lost)");
                    let expires = Lease::parse(&g.tags[bk::CREATING]).map_or(0, |l| l.expires);
                    h.hold(&g.id, expires);
                    return self.adopt_world(t, g, h, deadline).await;
                }
                Verdict::Abandoned => {
                    let g = self.take_over(&g, h, deadline).await?;
                    tracing::warn!(group = %g.id, "took over the cluster group of an abandoned create");
                    return self.adopt_world(t, g, h, deadline).await;
                }
                Verdict::Refuse(why) => return Err(exists_already(&g, explicit, &why)),
                Verdict::Wait(l) => {
                    if seen.as_ref().is_some_and(|s| *s != l) {
                        return Err(exists_already(
                            &g,
                            explicit,
                            &format!(
                                "{}; it was renewed while this create waited",
                                holder_text(&g)
                            ),
                        ));
                    }
                    if Instant::now() + self.timing.renew >= deadline {
                        return Err(exists_already(&g, explicit, &holder_text(&g)));
                    }
                    tracing::info!(group = %g.id, expires = l.expires, "waiting: another create's lease on the group has not expired");
                    seen = Some(l);
                    self.sleep(self.timing.renew.min(std::time::Duration::from_secs(10)))
                        .await
                        .map_err(|e| cloud_diag("wait for the lease", &e))?;
                }
            }
        }
    }

    /// Writes `h`'s lease on `g`, waits a grace period for AWS to settle, and reads it back: the
    /// group is this create's only if the lease it reads is `h`'s.
    async fn take_over(
        &self,
        g: &Group,
        h: &Holder,
        deadline: Instant,
    ) -> Result<Group, Diagnostic> {
        let now = self.clock();
        let lease = self.lease_for(&h.token, now);
        let tags = BTreeMap::from([(bk::CREATING.to_string(), lease.value())]);
        self.cloud
            .create_tags(std::slice::from_ref(&g.id), &tags)
            .await
            .map_err(|e| cloud_diag("take over the creation lease", &e))?;
        h.hold(&g.id, lease.expires);
        if Instant::now() + self.timing.grace < deadline {
            self.sleep(self.timing.grace)
                .await
                .map_err(|e| cloud_diag("take over the creation lease", &e))?;
        }
        let back = self
            .cloud
            .describe_security_groups(std::slice::from_ref(&g.id))
            .await
            .map_err(|e| cloud_diag("read the creation lease back", &e))?;
        match back.into_iter().find(|b| b.id == g.id) {
            Some(b) if matches!(Creation::of(&b), Creation::Leased(ref l) if l.holder == h.token) => Ok(b),
            Some(b) => Err(exists_already(&b, true, "another run took it over at the same time")),
            None => Err(Diagnostic::general("Security group deleted", format!("{} ({}) was deleted while this create took it over (a sweep judged it abandoned too). Apply again.", g.name, g.id))),
        }
    }

    /// The world of a taken-over cluster group: its client group (by the full proof), the rules of
    /// both, and the cluster it was attached to, which it leaves when the configuration names
    /// another one.
    async fn adopt_world(
        &self,
        t: &Target,
        g: Group,
        h: &Holder,
        deadline: Instant,
    ) -> Result<World, Diagnostic> {
        let recorded = g
            .tags
            .get(bk::CLUSTER)
            .and_then(|c| ClusterRef::from_tag(c));
        let mut w = new_world(t, g);
        let read = |e: CloudError| cloud_diag("read the taken-over groups", &e);
        w.client_group = self
            .find_client_group(&w.cluster_group)
            .await
            .map_err(read)?;
        if let Some(c) = &w.client_group {
            // Under this create's lease at once, so that nobody judges it abandoned meanwhile.
            h.hold(&c.id, 0);
            self.renew(h).await?;
        }
        w.rules = self
            .cloud
            .describe_rules(&w.group_ids())
            .await
            .map_err(read)?;
        if let Some(old) = recorded.filter(|c| Some(c) != t.cluster.as_ref()) {
            // The abandoned create attached the group to a cluster this configuration no longer names.
            self.detach(&old, &w.cluster_group.id, deadline).await?;
        }
        if let Some(c) = &t.cluster {
            w.cluster = Some(c.clone());
            let groups = self.cloud.cluster_groups(c).await.map_err(read)?;
            w.attached = Some(if groups.has_everywhere(&w.cluster_group.id) {
                Attachment::Yes
            } else if groups.has_anywhere(&w.cluster_group.id) {
                Attachment::Partly
            } else {
                Attachment::No
            });
        }
        Ok(w)
    }

    /// The client group this provider made for the cluster group `cg`, found by its tags and the
    /// full proof (see [`super::ownership`]).
    pub(crate) async fn find_client_group(&self, cg: &Group) -> Result<Option<Group>, CloudError> {
        let filter = crate::domain::cloud::GroupFilter {
            vpc_id: Some(cg.vpc_id.clone()),
            names: Vec::new(),
            tags: vec![(bk::ACCESS.to_string(), Some(cg.id.clone()))],
        };
        let found = self.cloud.find_security_groups(&filter).await?;
        Ok(found.into_iter().find(|c| proven_client(cg, c)))
    }

    /// Takes the existing client group `name` for the access of `w`: its own (the same creation
    /// token), or one whose access is gone; refuses any other.
    pub(crate) async fn take_client_group(
        &self,
        w: &mut World,
        t: &Target,
        name: &str,
        h: Option<&Holder>,
    ) -> Result<(), Diagnostic> {
        let deadline = Instant::now() + self.timing.lease;
        let c = self.existing(t, name, deadline).await?;
        let cg = w.cluster_group.clone();
        let orphan = !proven_client(&cg, &c) && self.orphaned_client(&c).await?;
        if !proven_client(&cg, &c) && !orphan {
            let why = match unproven(&c, bk::ROLE_CLIENTS) {
                Some(why) => format!("it is not this access's client group: {why}"),
                None => format!(
                    "it is the client group of another access ({})",
                    c.tags.get(bk::ACCESS).map_or("?", String::as_str)
                ),
            };
            return Err(exists_already(&c, true, &why));
        }
        let mut tags = bk::member_tags(&t.name, &cg.id, bk::ROLE_CLIENTS);
        if let Some(o) = cg.tags.get(bk::ORIGIN) {
            tags.insert(bk::ORIGIN.to_string(), o.clone());
        }
        if let Some(h) = h {
            let now = self.clock();
            let lease = self.lease_for(&h.token, now);
            tags.insert(bk::CREATING.to_string(), lease.value());
            h.hold(&c.id, lease.expires);
        }
        tracing::warn!(group = %c.id, orphan, "taking the existing client group");
        let rules = self
            .cloud
            .describe_rules(std::slice::from_ref(&c.id))
            .await
            .map_err(|e| cloud_diag("read the client group", &e))?;
        w.rules.extend(rules);
        w.client_group = Some(c.clone());
        self.write_tags(w, std::slice::from_ref(&c.id), &tags, &[])
            .await
    }

    /// True when `c` is a client group this provider made whose access is gone (its cluster group
    /// was deleted) and that no live create holds.
    async fn orphaned_client(&self, c: &Group) -> Result<bool, Diagnostic> {
        let (Some(access), None) = (c.tags.get(bk::ACCESS), unproven(c, bk::ROLE_CLIENTS)) else {
            return Ok(false);
        };
        if let Creation::Leased(l) = Creation::of(c) {
            let now = self.clock();
            if !l.expired(now, self.timing.grace) {
                return Ok(false);
            }
        }
        let found = self
            .cloud
            .describe_security_groups(std::slice::from_ref(access))
            .await
            .map_err(|e| cloud_diag("read the client group's cluster group", &e))?;
        Ok(!found.iter().any(|g| &g.id == access))
    }
}
