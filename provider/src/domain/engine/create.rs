//! Creating an access. Both groups are made under a creation lease (see [`super::lease`]) that the
//! running create renews and that ends when a state records the groups: a retry of this create
//! finds its own work by its token, and what a create left when it was killed is taken over by the
//! next create of the same name, or swept, only once its lease has expired by AWS's clock (see
//! [`super::adopt`], [`super::sweep`]).

use std::collections::BTreeMap;

use tokio::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::domain::cloud::{CloudError, Group, GroupFilter, RuleSpec};
use crate::domain::declaration::desired::{Desired, Op};
use crate::domain::diag::Diagnostic;
use crate::domain::engine::bookkeeping::{self as bk};
use crate::domain::engine::lease::{self, new_token, Holder};
use crate::domain::engine::observe::{derive, Attachment, World, SSH_PORT};
use crate::domain::engine::rules::Want;
use crate::domain::engine::target::Target;
use crate::domain::engine::{cloud_diag, Engine, Failed};
use crate::domain::planning::state::AccessState;
use crate::domain::types::{known, Known};

/// The rule specs of the cluster group for `t`, with `client` as the created client group.
pub(crate) fn cluster_specs(
    t: &Target,
    client: Option<&str>,
    own: &str,
) -> BTreeMap<String, RuleSpec> {
    let description =
        bk::rule_description(known(&t.inputs.description).map(String::as_str), &t.name);
    let client = client.filter(|_| t.inputs.create_client() == Known::Known(true));
    let sources = t
        .inputs
        .cluster_sources(client, own)
        .into_known()
        .unwrap_or_default();
    sources
        .into_iter()
        .map(|(k, source)| {
            (
                k,
                RuleSpec {
                    source,
                    port: t.port,
                    description: description.clone(),
                },
            )
        })
        .collect()
}

/// The SSH rule specs of the client group for `t`.
pub(crate) fn ssh_specs(t: &Target) -> BTreeMap<String, RuleSpec> {
    let d = bk::ssh_description(&bk::rule_description(
        known(&t.inputs.description).map(String::as_str),
        &t.name,
    ));
    let sources = t.inputs.ssh_sources().into_known().unwrap_or_default();
    sources
        .into_iter()
        .map(|(k, source)| {
            (
                k,
                RuleSpec {
                    source,
                    port: SSH_PORT,
                    description: d.clone(),
                },
            )
        })
        .collect()
}

/// The world of a create of `t` that has only its cluster group, `group`, so far.
pub(crate) fn new_world(t: &Target, group: Group) -> World {
    World {
        cluster_group: group,
        client_group: None,
        rules: Vec::new(),
        managed: Default::default(),
        cluster: t.cluster.clone(),
        attached: t.cluster.as_ref().map(|_| Attachment::No),
        endpoint: t.info.as_ref().and_then(|i| i.endpoint.clone()),
    }
}

impl Engine {
    /// Creates the access `d` (a planned configuration whose inputs are known, but for `vpc_id`,
    /// `port` and `name`, which the plan may leave to the apply).
    pub async fn create(&self, d: &Desired) -> Result<AccessState, Failed> {
        self.create_noting(d).await.0
    }

    /// [`Engine::create`], and its warnings: with a generated name, one for each group of an
    /// abandoned create swept from the VPC first (see [`super::sweep`]).
    pub async fn create_noting(
        &self,
        d: &Desired,
    ) -> (Result<AccessState, Failed>, Vec<Diagnostic>) {
        let deadline = Instant::now() + d.timeout(Op::Create);
        let t = match self.target(d, None, None).await {
            Ok(t) => t,
            Err(e) => return (Err(Failed::new(e, None)), Vec::new()),
        };
        let notes = if known(&d.name).is_none() {
            self.sweep_before_create(&t).await
        } else {
            Vec::new()
        };
        let h = Holder::new(new_token());
        let (mut w, fresh) = match self.make_cluster_group(&t, d, &h, deadline).await {
            Ok(made) => made,
            Err(e) => return (Err(Failed::new(e, None)), notes),
        };
        let stop = CancellationToken::new();
        let (r, ()) = tokio::join!(
            async {
                let r = self.finish_create(&mut w, &t, fresh, &h, deadline).await;
                stop.cancel();
                r
            },
            self.keep_lease(&h, &stop)
        );
        let r = match r {
            Err(e) if h.is_lost() || e.summary == lease::lost("").summary => {
                // Not ours any more: nothing of it is recorded.
                return (Err(Failed::new(e, None)), notes);
            }
            Ok(()) => self
                .record_created(&mut w, deadline)
                .await
                .map(|()| derive(&w, &t.inputs, &self.tags)),
            Err(e) => Err(e),
        };
        let r = match r {
            Ok(s) => Ok(s),
            Err(e) => {
                // What was made is recorded by the partial state: its lease ends now.
                self.end_leases_of(&mut w).await;
                Err(Failed::new(e, Some(derive(&w, &t.inputs, &self.tags))))
            }
        };
        (r, notes)
    }

    /// Ends the lease of a completed create, retrying until `deadline` (and for at least a grace
    /// period): a state must never record a group that still looks in creation.
    async fn record_created(&self, w: &mut World, deadline: Instant) -> Result<(), Diagnostic> {
        let ids = w.group_ids();
        let until = deadline.max(Instant::now() + self.timing.grace);
        let mut wait = self.backoff.initial;
        loop {
            match self.end_lease(w, &ids).await {
                Ok(()) => return Ok(()),
                Err(d) if Instant::now() + wait >= until || self.is_cancelled() => return Err(d),
                Err(d) => tracing::debug!("retrying the end of the creation lease: {d}"),
            }
            self.sleep(self.jittered(wait))
                .await
                .map_err(|e| cloud_diag("end the creation lease", &e))?;
            wait = (wait * 2).min(self.backoff.max);
        }
    }

    /// The tags of a new group of `t`: the user's, the provider's `own`, and for a create the
    /// creation token and lease.
    fn group_tags(
        &self,
        t: &Target,
        own: BTreeMap<String, String>,
        origin: Option<&String>,
        lease: Option<&lease::Lease>,
    ) -> BTreeMap<String, String> {
        let mut tags = bk::user_tags(&self.tags.default_tags, &t.inputs);
        tags.extend(own);
        if let Some(o) = origin {
            tags.insert(bk::ORIGIN.into(), o.clone());
        }
        if let Some(l) = lease {
            tags.insert(bk::CREATING.into(), l.value());
        }
        tags
    }

    /// Creates `<name>-cluster` under a new lease, or takes over the group an abandoned create of
    /// this access made (see [`super::adopt`]).
    async fn make_cluster_group(
        &self,
        t: &Target,
        d: &Desired,
        h: &Holder,
        deadline: Instant,
    ) -> Result<(World, Vec<String>), Diagnostic> {
        let name = bk::group_name(&t.name, bk::ROLE_CLUSTER);
        let probe = by_name(&t.vpc, &name);
        let now = self
            .aws_now(|| self.cloud.find_security_groups(&probe))
            .await
            .map_err(|e| cloud_diag("read AWS's clock", &e))?;
        let own = bk::cluster_group_tags(&t.inputs, &t.name);
        let description = bk::group_description(&t.name, bk::ROLE_CLUSTER);
        // Each attempt carries a lease from AWS's time at that attempt: retries may take a while.
        let attempt = || {
            let lease = self.lease_for(&h.token, self.cloud.aws_time().unwrap_or(now));
            let tags = self.group_tags(t, own.clone(), Some(&h.token), Some(&lease));
            let (name, description) = (&name, &description);
            async move {
                self.cloud
                    .create_security_group(&t.vpc, name, description, &tags)
                    .await
                    .map(|g| (g, tags, lease))
            }
        };
        let made = self
            .retry(
                "CreateSecurityGroup",
                deadline,
                CloudError::is_transient,
                attempt,
            )
            .await;
        match made {
            Ok((g, tags, lease)) => {
                tracing::info!(group = %g.id, "created cluster security group");
                h.hold(&g.id, lease.expires);
                let group = Group {
                    id: g.id.clone(),
                    name,
                    description,
                    vpc_id: t.vpc.clone(),
                    owner_id: g.owner_id.unwrap_or_default(),
                    tags,
                };
                Ok((new_world(t, group), vec![g.id]))
            }
            Err(CloudError::AlreadyExists { .. }) => {
                let explicit = known(&d.name).is_some();
                let w = self
                    .take_cluster_group(t, &name, h, explicit, deadline)
                    .await?;
                Ok((w, Vec::new()))
            }
            Err(e) => Err(cloud_diag("create the cluster security group", &e)),
        }
    }

    /// The client group, the rules and the attach. The attach touches only the cluster and the
    /// cluster group's id, so it runs beside the client group's create and the rules (its reads,
    /// write and wait overlap theirs); each checks the lease before it writes. An attach that
    /// succeeded is recorded even when the rules failed (the state then shows it, and a destroy
    /// detaches it).
    async fn finish_create(
        &self,
        w: &mut World,
        t: &Target,
        fresh: Vec<String>,
        h: &Holder,
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        let cg = w.cluster_group.id.clone();
        let attach = async {
            match (&t.cluster, t.inputs.attach()) {
                (Some(c), Known::Known(true)) => {
                    self.check_lease(h, &cg).await?;
                    self.attach(c, &cg, deadline).await.map(|()| true)
                }
                _ => Ok(false),
            }
        };
        let (attached, rules) =
            tokio::join!(attach, self.client_and_rules(w, t, fresh, h, deadline));
        if attached? {
            w.attached = Some(Attachment::Yes);
        }
        rules?;
        if w.cluster_group.owner_id.is_empty() {
            self.learn_owner(w, deadline).await?;
        }
        self.check_lease(h, &cg).await?;
        self.converge_own_tags(w, t).await
    }

    async fn client_and_rules(
        &self,
        w: &mut World,
        t: &Target,
        mut fresh: Vec<String>,
        h: &Holder,
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        let cg = w.cluster_group.id.clone();
        if t.inputs.create_client() == Known::Known(true) && w.client_group.is_none() {
            self.check_lease(h, &cg).await?;
            fresh.extend(self.make_client_group(w, t, Some(h), deadline).await?);
        }
        self.check_lease(h, &cg).await?;
        self.converge_user_tags(w, t).await?;
        self.converge_rules(w, t, &fresh, deadline).await
    }

    /// Creates `<name>-clients` (under the create's lease `h`, when a create makes it), or takes
    /// over the one this access's earlier attempt made. Returns it when new.
    pub(crate) async fn make_client_group(
        &self,
        w: &mut World,
        t: &Target,
        h: Option<&Holder>,
        deadline: Instant,
    ) -> Result<Option<String>, Diagnostic> {
        let name = bk::group_name(&t.name, bk::ROLE_CLIENTS);
        let cg = w.cluster_group.id.clone();
        let lease = match h {
            Some(h) => {
                let probe = || {
                    self.cloud
                        .describe_security_groups(std::slice::from_ref(&cg))
                };
                let now = self
                    .aws_now(probe)
                    .await
                    .map_err(|e| cloud_diag("read AWS's clock", &e))?;
                Some(self.lease_for(&h.token, now))
            }
            None => None,
        };
        let own = bk::member_tags(&t.name, &cg, bk::ROLE_CLIENTS);
        let origin = w.cluster_group.tags.get(bk::ORIGIN).cloned();
        let tags = self.group_tags(t, own, origin.as_ref(), lease.as_ref());
        let description = bk::group_description(&t.name, bk::ROLE_CLIENTS);
        let made = self
            .retry(
                "CreateSecurityGroup",
                deadline,
                CloudError::is_transient,
                || {
                    self.cloud
                        .create_security_group(&t.vpc, &name, &description, &tags)
                },
            )
            .await;
        match made {
            Ok(g) => {
                tracing::info!(group = %g.id, "created client security group");
                if let (Some(h), Some(l)) = (h, &lease) {
                    h.hold(&g.id, l.expires);
                }
                let owner_id = g.owner_id.unwrap_or_default();
                w.client_group = Some(Group {
                    id: g.id.clone(),
                    name,
                    description,
                    vpc_id: t.vpc.clone(),
                    owner_id,
                    tags,
                });
                Ok(Some(g.id))
            }
            Err(CloudError::AlreadyExists { .. }) => {
                self.take_client_group(w, t, &name, h).await?;
                Ok(None)
            }
            Err(e) => Err(cloud_diag("create the client security group", &e)),
        }
    }

    /// Converges both groups' rules towards `t`.
    pub(crate) async fn converge_rules(
        &self,
        w: &mut World,
        t: &Target,
        fresh: &[String],
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        let cg = w.cluster_group.id.clone();
        let rule_tags = {
            let mut tags = bk::user_tags(&self.tags.default_tags, &t.inputs);
            tags.extend(bk::member_tags(&t.name, &cg, bk::ROLE_RULE));
            tags
        };
        let client = w.client_id().map(str::to_string);
        let specs = cluster_specs(t, client.as_deref(), &w.cluster_group.owner_id);
        let exclusive = t.inputs.exclusive() == Known::Known(true);
        self.converge(
            w,
            &Want {
                group: &cg,
                specs,
                exclusive,
                ssh: false,
                tags: &rule_tags,
                fresh,
                revoke_first: t.inputs.revoke_first() == Known::Known(true),
            },
            deadline,
        )
        .await?;
        if let (Some(client), Known::Known(true)) = (client, t.inputs.create_client()) {
            self.converge(
                w,
                &Want {
                    group: &client,
                    specs: ssh_specs(t),
                    exclusive: false,
                    ssh: true,
                    tags: &rule_tags,
                    fresh,
                    revoke_first: false,
                },
                deadline,
            )
            .await?;
        }
        Ok(())
    }

    /// The groups' owner: from a rule AWS made, else read (retrying throttling within the deadline,
    /// so a throttled read does not fail a complete access).
    async fn learn_owner(&self, w: &mut World, deadline: Instant) -> Result<(), Diagnostic> {
        if let Some(o) = w.rules.iter().find_map(|r| r.owner_id.clone()) {
            w.cluster_group.owner_id = o;
            return Ok(());
        }
        let id = w.cluster_group.id.clone();
        let groups = self
            .read_retrying("DescribeSecurityGroups", deadline, || {
                self.cloud
                    .describe_security_groups(std::slice::from_ref(&id))
            })
            .await
            .map_err(|e| cloud_diag("read the cluster security group", &e))?;
        if let Some(g) = groups.into_iter().find(|g| g.id == id) {
            w.cluster_group.owner_id = g.owner_id;
        }
        Ok(())
    }
}

/// The filter for the group named `name` in `vpc`.
pub(crate) fn by_name(vpc: &str, name: &str) -> GroupFilter {
    GroupFilter {
        vpc_id: Some(vpc.to_string()),
        names: vec![name.to_string()],
        tags: Vec::new(),
    }
}
