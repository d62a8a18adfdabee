//! Importing an access by its cluster group's id: one this provider made (its tags say what the
//! configuration wrote), or one built by hand as AWS's guide describes (two groups and a rule from
//! the client group on the cluster's port).

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::cloud::{ClusterRef, Group};
use crate::domain::declaration::desired::Desired;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::engine::bookkeeping::{self as bk, is_reserved};
use crate::domain::engine::lease::Creation;
use crate::domain::engine::observe::{derive, World};
use crate::domain::engine::ownership::holder_text;
use crate::domain::engine::setup::{adopted_name, adopted_rules, hand_built};
use crate::domain::engine::{cloud_diag, Engine};
use crate::domain::planning::state::AccessState;
use crate::domain::types::{Known, Port, VpcId};

fn not_importable(detail: String) -> Diagnostic {
    Diagnostic::general("Cannot import", detail)
}

/// What the configuration wrote, as the cluster group's tags recorded it.
fn recorded_inputs(cg: &Group, observed_tags: &BTreeMap<String, String>) -> Desired {
    let t = |k: &str| cg.tags.get(k).cloned().map(Known::Known);
    let r = bk::parse_options(
        cg.tags
            .get(bk::OPTIONS)
            .map(String::as_str)
            .unwrap_or_default(),
    );
    let flag = |k: &str| r.flags.get(k).copied().map(Known::Known);
    let empty = |k: &str| {
        r.empty
            .iter()
            .any(|e| e == k)
            .then(|| Known::Known(Vec::new()))
    };
    let tags = match cg.tags.get(bk::TAG_KEYS) {
        Some(keys) => {
            let keys: BTreeSet<&str> = keys.split(',').collect();
            Some(Known::Known(
                observed_tags
                    .iter()
                    .filter(|(k, _)| keys.contains(k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ))
        }
        None if r.empty.iter().any(|e| e == "tags") => Some(Known::Known(BTreeMap::new())),
        None => None,
    };
    Desired {
        vpc_id: Some(Known::Known(VpcId::reported(&cg.vpc_id))),
        cluster: cg
            .tags
            .get(bk::CLUSTER)
            .and_then(|c| ClusterRef::from_tag(c))
            .map(Known::Known),
        name: t(bk::NAME),
        name_prefix: t(bk::NAME_PREFIX),
        description: t(bk::DESCRIPTION),
        create_client_security_group: flag("create_client_security_group"),
        allow_public_cidrs: flag("allow_public_cidrs"),
        attach_to_cluster: flag("attach_to_cluster"),
        exclusive_ingress: flag("exclusive_ingress"),
        revoke_before_authorize: flag("revoke_before_authorize"),
        client_security_group_ids: empty("client_security_group_ids"),
        allowed_cidr_blocks: empty("allowed_cidr_blocks").map(|_| Known::Known(Vec::new())),
        allowed_prefix_list_ids: empty("allowed_prefix_list_ids").map(|_| Known::Known(Vec::new())),
        client_ssh_cidr_blocks: empty("client_ssh_cidr_blocks").map(|_| Known::Known(Vec::new())),
        tags,
        timeouts: r.timeouts.map(Known::Known),
        port: None,
        op_timeout: None,
    }
}

impl Engine {
    /// Imports an access by its cluster security group's id. `<cluster-sg>,<client-sg>` imports an
    /// access built by hand and makes `<client-sg>` the access's own client group (deleted with
    /// it); without it, the group a hand-made setup allows is an existing client group.
    pub async fn import(&self, id: &str) -> Result<AccessState, Diagnostic> {
        self.import_noting(id).await.map(|(s, _)| s)
    }

    /// [`Engine::import`], with the warnings of what it could not search.
    pub async fn import_noting(
        &self,
        id: &str,
    ) -> Result<(AccessState, Vec<Diagnostic>), Diagnostic> {
        let mut notes = Vec::new();
        let (id, claimed) = match id.split_once(',') {
            Some((a, b)) => (a.trim(), Some(b.trim())),
            None => (id, None),
        };
        if claimed.is_some_and(|c| !c.starts_with("sg-")) {
            return Err(not_importable("The import id is `<cluster group id>` or `<cluster group id>,<client group id>` (both sg-…).".into()));
        }
        let groups = self
            .cloud
            .describe_security_groups(&[id.to_string()])
            .await
            .map_err(|e| cloud_diag("read the security group", &e))?;
        let Some(cg) = groups.into_iter().find(|g| g.id == id) else {
            return Err(not_importable(format!("There is no security group {id} in this account and Region; import the id of the access's cluster group (sg-…).")));
        };
        let ours = cg.tags.get(bk::ROLE).map(String::as_str) == Some(bk::ROLE_CLUSTER);
        if !ours && cg.tags.contains_key(bk::ROLE) {
            return Err(not_importable(format!("{id} is the {} group of an access, not its cluster group; import the id of the group named <name>-cluster.", cg.tags[bk::ROLE])));
        }
        self.refuse_live_create(&cg)?;
        let observed: BTreeMap<String, String> = cg
            .tags
            .iter()
            .filter(|(k, _)| !is_reserved(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut reference = recorded_inputs(&cg, &observed);
        let mut w = World {
            cluster_group: cg.clone(),
            client_group: None,
            rules: Vec::new(),
            managed: BTreeSet::new(),
            cluster: None,
            attached: None,
            endpoint: None,
        };
        if ours {
            self.wait_for_recent_rules(&cg).await?;
        }
        match (ours, claimed) {
            (true, Some(_)) => {
                return Err(not_importable(format!(
                    "{id} was made by this provider: import it by its id alone."
                )))
            }
            (true, None) => self.import_own(&mut w).await?,
            (false, claimed) => {
                self.import_hand_built(&mut w, &mut reference, claimed, &mut notes)
                    .await?
            }
        }
        w.cluster = reference.cluster.as_ref().and_then(Known::known).cloned();
        self.finish_import(&mut w, &mut reference).await?;
        Ok((derive(&w, &reference, &self.tags), notes))
    }

    /// An access this provider made moments before (its `created` mark, in AWS's clock, is younger
    /// than the consistency wait): its rules may not show yet, and an import has no recorded rule
    /// ids to wait for, so it waits out the rest of the consistency wait before it reads them.
    async fn wait_for_recent_rules(&self, cg: &Group) -> Result<(), Diagnostic> {
        let Some(created) = cg.tags.get(bk::CREATED).and_then(|t| t.parse::<i64>().ok()) else {
            return Ok(());
        };
        let settled = created.saturating_add(self.backoff.consistency.as_secs() as i64);
        let now = self.clock().lower;
        if now >= settled {
            return Ok(());
        }
        let wait =
            std::time::Duration::from_secs((settled - now) as u64).min(self.backoff.consistency);
        tracing::info!(group = %cg.id, wait_s = wait.as_secs(), "made moments before: waiting for its rules to show");
        self.sleep(wait)
            .await
            .map_err(|e| cloud_diag("read the access", &e))
    }

    /// The client group and rules of an access this provider made.
    async fn import_own(&self, w: &mut World) -> Result<(), Diagnostic> {
        w.client_group = self
            .find_client_group(&w.cluster_group)
            .await
            .map_err(|e| cloud_diag("find the client group", &e))?;
        w.rules = self
            .cloud
            .describe_rules(&w.group_ids())
            .await
            .map_err(|e| cloud_diag("read the security group rules", &e))?;
        Ok(())
    }

    /// A group a running create holds (its lease has not expired) is not imported.
    fn refuse_live_create(&self, cg: &Group) -> Result<(), Diagnostic> {
        let Creation::Leased(l) = Creation::of(cg) else {
            return Ok(());
        };
        if l.expired(self.clock(), self.timing.grace) {
            return Ok(());
        }
        Err(not_importable(format!("{} is being created: {}. Import it once that create has ended (or, if its run was stopped, once the lease has expired).", cg.id, holder_text(cg))))
    }

    async fn import_hand_built(
        &self,
        w: &mut World,
        reference: &mut Desired,
        claimed: Option<&str>,
        notes: &mut Vec<Diagnostic>,
    ) -> Result<(), Diagnostic> {
        let cg = w.cluster_group.id.clone();
        w.rules = self
            .cloud
            .describe_rules(std::slice::from_ref(&cg))
            .await
            .map_err(|e| cloud_diag("read the security group rules", &e))?;
        self.adopt_setup(w, reference, claimed).await?;
        let found = self
            .cloud
            .clusters_using(&cg)
            .await
            .map_err(|e| cloud_diag("find the clusters that use the group", &e))?;
        for skipped in &found.skipped {
            notes.push(Diagnostic::warning(AttrPath::attr("cluster"), "Some clusters were not searched", format!("Could not list {skipped}, so the import did not look for {cg} among them. If the access is for such a cluster, set cluster (and attach_to_cluster) in the configuration; the next apply records it.")));
        }
        if let Some(c) = found.clusters.into_iter().min() {
            reference.cluster = Some(Known::Known(c));
            reference.attach_to_cluster = Some(Known::Known(true));
        }
        Ok(())
    }

    /// Adopts the setup another tool or a person built around the cluster group of `w`, whose
    /// rules `w` holds: its port (see [`hand_built`]), the rules on that port with a source this
    /// provider models, and the group its rule allows, as an existing client group, unless
    /// `claimed` names that group (it is then the access's own, and tagged so). `reference` gets
    /// the port, the client flag and the group's tags. Import and the first read of an access moved
    /// in from another provider's resource both adopt this way.
    pub(crate) async fn adopt_setup(
        &self,
        w: &mut World,
        reference: &mut Desired,
        claimed: Option<&str>,
    ) -> Result<(), Diagnostic> {
        let cg = w.cluster_group.clone();
        let (port, source) = hand_built(&cg, &w.rules);
        // The group the setup allows is an existing client group, never the access's own, unless
        // the import id claims it.
        if let Some(c) = claimed {
            let found = self
                .cloud
                .describe_security_groups(&[c.to_string()])
                .await
                .map_err(|e| cloud_diag("read the client group", &e))?;
            let Some(client) = found
                .into_iter()
                .find(|g| g.id == c && g.vpc_id == cg.vpc_id)
            else {
                return Err(not_importable(format!(
                    "There is no security group {c} in the cluster group's VPC {}.",
                    cg.vpc_id
                )));
            };
            if source.as_deref() != Some(c) {
                return Err(not_importable(format!("{c} is not the one group {} allows on its port, so it cannot be this access's client group; import {} alone.", cg.id, cg.id)));
            }
            self.claim_client_group(w, &client).await?;
            w.rules = self
                .cloud
                .describe_rules(&[cg.id.clone(), c.to_string()])
                .await
                .map_err(|e| cloud_diag("read the security group rules", &e))?;
        }
        // Every TCP rule on the access's port with a source this provider models is the access's;
        // so are the client group's SSH rules from CIDR blocks.
        w.managed = adopted_rules(&w.rules, &cg.id, port, w.client_id());
        let observed: BTreeMap<String, String> = cg
            .tags
            .iter()
            .filter(|(k, _)| !is_reserved(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        reference.port = port.and_then(Port::new).map(Known::Known);
        reference.create_client_security_group = Some(Known::Known(w.client_group.is_some()));
        reference.tags = (!observed.is_empty()).then_some(Known::Known(observed));
        Ok(())
    }

    /// The cluster's port and endpoint, and whether it uses the group.
    async fn finish_import(
        &self,
        w: &mut World,
        reference: &mut Desired,
    ) -> Result<(), Diagnostic> {
        let Some(c) = w.cluster.clone() else {
            return Ok(());
        };
        match self.describe_cluster(&c).await {
            Ok(info) => {
                w.endpoint = info.endpoint.clone();
                if reference.port.is_none() {
                    reference.port = info.port.and_then(Port::new).map(Known::Known);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the access's cluster during import")
            }
        }
        self.read_membership(w)
            .await
            .map_err(|e| cloud_diag(&format!("read the security groups of the {c}"), &e))
    }
}

impl Engine {
    /// Makes `client` the hand-made access's own client group, as the import id asked: it gets the
    /// tags that prove it (and that delete then trusts).
    async fn claim_client_group(&self, w: &mut World, client: &Group) -> Result<(), Diagnostic> {
        let name = adopted_name(&w.cluster_group.name);
        let tags = bk::member_tags(&name, &w.cluster_group.id, bk::ROLE_CLIENTS);
        w.client_group = Some(client.clone());
        tracing::info!(group = %client.id, "the import makes this group the access's own client group");
        self.write_tags(w, std::slice::from_ref(&client.id), &tags, &[])
            .await
    }
}
