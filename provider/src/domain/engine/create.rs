//! Creating an access. Both groups carry a creation marker until the create completes, so that a
//! create whose answer was lost, or whose provider was killed, is found again: the next create with
//! the same name adopts what it made and finishes the job, and orphans with generated names are
//! swept (see [`super::sweep`]).

use std::collections::BTreeMap;

use tokio::time::Instant;

use crate::domain::cloud::{CloudError, Group, GroupFilter, RuleSpec};
use crate::domain::desired::{Desired, Op};
use crate::domain::diag::Diagnostic;
use crate::domain::engine::bookkeeping::{self as bk};
use crate::domain::engine::observe::{derive, Attachment, World, SSH_PORT};
use crate::domain::engine::rules::Want;
use crate::domain::engine::target::Target;
use crate::domain::engine::{cloud_diag, Engine, Failed};
use crate::domain::state::AccessState;
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
fn new_world(t: &Target, group: Group) -> World {
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

/// Why a create does not take over the existing group `name`: made by hand or for another name
/// (`own` None), or a completed access of this name (`own`), which may be this configuration's own
/// if the answer to its last write was lost: then it is imported, never adopted silently, so that
/// two configurations never manage one access.
fn exists_already(name: &str, vpc: &str, own: Option<&Group>, explicit: bool) -> Diagnostic {
    let detail = match (own, explicit) {
        (_, false) => format!("A security group named {name} exists in {vpc}. Apply again to generate another name."),
        (Some(g), true) => format!("A security group named {name} ({}) exists in {vpc}: a completed access of this name, made by this provider. It is not taken over, so that two configurations never manage one access. If it is this configuration's (a run that ended before it could record it), import it: `terraform import <address> {}` (Pulumi: import with id {}); else choose another name.", g.id, g.id, g.id),
        (None, true) => format!("A security group named {name} exists in {vpc} and was not made by this provider for this access (made by hand, or by another tool): choose another name, or import an access built by hand with its id."),
    };
    Diagnostic::general("Security group exists already", detail)
}

impl Engine {
    /// Creates the access `d` (a planned configuration whose inputs are known, but for `vpc_id`,
    /// `port` and `name`, which the plan may leave to the apply).
    pub async fn create(&self, d: &Desired) -> Result<AccessState, Failed> {
        self.create_noting(d).await.0
    }

    /// [`Engine::create`], and its warnings: with a generated name, one for each group of an
    /// unfinished create found in the VPC first (see [`super::sweep`]).
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
        let (mut w, fresh) = match self.make_cluster_group(&t, d).await {
            Ok(made) => made,
            Err(e) => return (Err(Failed::new(e, None)), notes),
        };
        let r = match self.finish_create(&mut w, &t, fresh, deadline).await {
            Ok(()) => Ok(derive(&w, &t.inputs, &self.tags)),
            Err(e) => Err(Failed::new(e, Some(derive(&w, &t.inputs, &self.tags)))),
        };
        (r, notes)
    }

    fn group_tags(&self, t: &Target, own: BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut tags = bk::user_tags(&self.tags.default_tags, &t.inputs);
        tags.extend(own);
        tags.insert(
            bk::CREATING.into(),
            bk::creating_marker(t.inputs.timeout(Op::Create)),
        );
        tags
    }

    /// Creates `<name>-cluster`, or adopts the one an interrupted create of this access made.
    async fn make_cluster_group(
        &self,
        t: &Target,
        d: &Desired,
    ) -> Result<(World, Vec<String>), Diagnostic> {
        let name = bk::group_name(&t.name, bk::ROLE_CLUSTER);
        let tags = self.group_tags(t, bk::cluster_group_tags(&t.inputs, &t.name));
        let made = self
            .cloud
            .create_security_group(
                &t.vpc,
                &name,
                &bk::group_description(&t.name, bk::ROLE_CLUSTER),
                &tags,
            )
            .await;
        let world = |group: Group| new_world(t, group);
        match made {
            Ok(g) => {
                tracing::info!(group = %g.id, "created cluster security group");
                let group = Group {
                    id: g.id.clone(),
                    name,
                    vpc_id: t.vpc.clone(),
                    owner_id: g.owner_id.unwrap_or_default(),
                    tags,
                };
                Ok((world(group), vec![g.id]))
            }
            Err(CloudError::AlreadyExists { .. }) => {
                let found = self
                    .find_own_group(t, &name, bk::ROLE_CLUSTER, None)
                    .await?;
                let Some(g) = found
                    .as_ref()
                    .filter(|g| g.tags.contains_key(bk::CREATING))
                    .cloned()
                else {
                    return Err(exists_already(
                        &name,
                        &t.vpc,
                        found.as_ref(),
                        known(&d.name).is_some(),
                    ));
                };
                tracing::warn!(group = %g.id, "adopting the cluster group of an interrupted create");
                let mut w = world(g);
                self.adopt_world(&mut w)
                    .await
                    .map_err(|e| cloud_diag("read the adopted group", &e))?;
                Ok((w, Vec::new()))
            }
            Err(e) => Err(cloud_diag("create the cluster security group", &e)),
        }
    }

    /// A group of this access named `name` in the VPC (with this provider's role tag; for a client
    /// group, pointing at `cluster_group`).
    async fn find_own_group(
        &self,
        t: &Target,
        name: &str,
        role: &str,
        cluster_group: Option<&str>,
    ) -> Result<Option<Group>, Diagnostic> {
        let filter = GroupFilter {
            vpc_id: Some(t.vpc.clone()),
            names: vec![name.to_string()],
            tags: Vec::new(),
        };
        let groups = self
            .cloud
            .find_security_groups(&filter)
            .await
            .map_err(|e| cloud_diag(&format!("find the security group {name}"), &e))?;
        Ok(groups.into_iter().find(|g| {
            g.tags.get(bk::ROLE).map(String::as_str) == Some(role)
                && g.tags.get(bk::NAME) == Some(&t.name)
                && cluster_group
                    .is_none_or(|c| g.tags.get(bk::ACCESS).map(String::as_str) == Some(c))
        }))
    }

    /// Reads the client group and the rules of an adopted cluster group.
    async fn adopt_world(&self, w: &mut World) -> Result<(), CloudError> {
        w.client_group = self.find_client_group(&w.cluster_group.id).await?;
        w.rules = self.cloud.describe_rules(&w.group_ids()).await?;
        Ok(())
    }

    /// The client group made for the cluster group `cluster_group`, found by its tags.
    pub(crate) async fn find_client_group(
        &self,
        cluster_group: &str,
    ) -> Result<Option<Group>, CloudError> {
        let filter = GroupFilter {
            vpc_id: None,
            names: Vec::new(),
            tags: vec![(bk::ACCESS.to_string(), Some(cluster_group.to_string()))],
        };
        Ok(self
            .cloud
            .find_security_groups(&filter)
            .await?
            .into_iter()
            .find(|g| g.tags.get(bk::ROLE).map(String::as_str) == Some(bk::ROLE_CLIENTS)))
    }

    async fn finish_create(
        &self,
        w: &mut World,
        t: &Target,
        mut fresh: Vec<String>,
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        if t.inputs.create_client() == Known::Known(true) && w.client_group.is_none() {
            fresh.extend(self.make_client_group(w, t).await?);
        }
        self.converge_user_tags(w, t).await?;
        self.converge_rules(w, t, &fresh, deadline).await?;
        if let (Some(c), Known::Known(true)) = (&t.cluster, t.inputs.attach()) {
            self.attach(c, &w.cluster_group.id, deadline).await?;
            w.attached = Some(Attachment::Yes);
        }
        if w.cluster_group.owner_id.is_empty() {
            self.learn_owner(w, deadline).await?;
        }
        self.converge_own_tags(w, t).await
    }

    /// Creates `<name>-clients`, or adopts the one an interrupted create made. Returns it when new.
    pub(crate) async fn make_client_group(
        &self,
        w: &mut World,
        t: &Target,
    ) -> Result<Option<String>, Diagnostic> {
        let name = bk::group_name(&t.name, bk::ROLE_CLIENTS);
        let cg = w.cluster_group.id.clone();
        let tags = self.group_tags(t, bk::member_tags(&t.name, &cg, bk::ROLE_CLIENTS));
        match self.cloud.create_security_group(&t.vpc, &name, &bk::group_description(&t.name, bk::ROLE_CLIENTS), &tags).await {
            Ok(g) => {
                tracing::info!(group = %g.id, "created client security group");
                w.client_group = Some(Group { id: g.id.clone(), name, vpc_id: t.vpc.clone(), owner_id: g.owner_id.unwrap_or_default(), tags });
                Ok(Some(g.id))
            }
            Err(CloudError::AlreadyExists { .. }) => match self.find_own_group(t, &name, bk::ROLE_CLIENTS, Some(&cg)).await? {
                Some(g) => {
                    tracing::warn!(group = %g.id, "adopting the client group of an interrupted create");
                    let rules = self.cloud.describe_rules(std::slice::from_ref(&g.id)).await.map_err(|e| cloud_diag("read the adopted client group", &e))?;
                    w.rules.extend(rules);
                    w.client_group = Some(g);
                    Ok(None)
                }
                None => Err(Diagnostic::general("Security group exists already", format!("A security group named {name} exists in {} and does not belong to this access. Choose another name.", t.vpc))),
            },
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
