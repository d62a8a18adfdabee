//! Updating an access in place. The order keeps access open and the state true: user tags, then the
//! client group, new rules before old ones are revoked, then the attachment (detach from the old
//! cluster, record the new one, attach to it), then the client group's deletion, and the
//! provider's own tags (the description among them) last, so a step that fails leaves what it was
//! meant to change visibly undone.

use tokio::time::Instant;

use crate::domain::cloud::{Group, Source};
use crate::domain::declaration::desired::{Desired, Op};
use crate::domain::diag::Diagnostic;
use crate::domain::engine::bookkeeping as bk;
use crate::domain::engine::observe::{derive, Attachment, World, SSH_PORT};
use crate::domain::engine::ownership::owns_client;
use crate::domain::engine::target::Target;
use crate::domain::engine::{cloud_diag, Engine, Failed};
use crate::domain::planning::state::AccessState;
use crate::domain::types::{known, Known};

impl Engine {
    /// Updates the access from `prior` to the planned configuration `d`.
    pub async fn update(&self, prior: &AccessState, d: &Desired) -> Result<AccessState, Failed> {
        let deadline = Instant::now() + d.timeout(Op::Update);
        let fail = |e: Diagnostic| Failed::new(e, Some(prior.clone()));
        let prior_name = prior
            .inputs
            .name
            .as_ref()
            .and_then(Known::known)
            .map(String::as_str);
        let t = self
            .target(d, Some(prior.outputs_vpc()), prior_name)
            .await
            .map_err(fail)?;
        let membership =
            prior.inputs.attach() == Known::Known(true) || t.inputs.attach() == Known::Known(true);
        let w = self
            .read_world(prior, membership)
            .await
            .map_err(|e| fail(cloud_diag("read the access", &e)))?;
        let Some(mut w) = w else {
            return Err(Failed::new(Diagnostic::general("The access is gone", format!("Its cluster security group {} no longer exists; the next plan creates the access again.", prior.id())), None));
        };
        if super::read::adopting(prior, &w) {
            // Planned without a refresh (`-refresh=false`) right after a move: the setup's rules
            // are adopted here, as the refresh would have, so that none is made twice.
            self.adopt_setup(&mut w, &mut prior.inputs.clone(), None)
                .await
                .map_err(fail)?;
        }
        self.end_leases_of(&mut w).await;
        match self.update_steps(&mut w, &t, deadline).await {
            Ok(()) => Ok(derive(&w, &t.inputs, &self.tags)),
            Err(e) => Err(Failed::new(e, Some(derive(&w, &t.inputs, &self.tags)))),
        }
    }

    async fn update_steps(
        &self,
        w: &mut World,
        t: &Target,
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        if w.cluster == t.cluster {
            w.endpoint = t.info.as_ref().and_then(|i| i.endpoint.clone());
        }
        self.converge_user_tags(w, t).await?;
        let want_client = t.inputs.create_client() == Known::Known(true);
        let mut fresh = Vec::new();
        if want_client && w.client_group.is_none() {
            fresh.extend(self.make_client_group(w, t, None, deadline).await?);
        }
        self.converge_rules(w, t, &fresh, deadline).await?;
        self.move_attachment(w, t, deadline).await?;
        if !want_client {
            if let Some(client) = w.client_group.clone() {
                self.let_client_group_go(w, t, &client, deadline).await?;
            }
        }
        self.converge_own_tags(w, t).await
    }

    /// The access no longer has a client group of its own: the recorded one is deleted when it is
    /// the access's own and not named in `client_security_group_ids`; one that is named there stays
    /// as an existing client group (its rule kept, the provider's marks on it removed), and one that
    /// is not the access's own is never deleted.
    async fn let_client_group_go(
        &self,
        w: &mut World,
        t: &Target,
        client: &Group,
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        let declared = known(&t.inputs.client_security_group_ids)
            .is_some_and(|gs| gs.iter().any(|g| g.id() == client.id));
        let own = owns_client(&w.cluster_group, client);
        if own && !declared {
            self.release_client_group(w, &client.id, deadline).await?;
            self.delete_group(&client.id, &client.vpc_id, deadline, Op::Update)
                .await?;
        } else {
            if !declared {
                self.release_client_group(w, &client.id, deadline).await?;
            }
            let ssh: Vec<String> = w
                .ingress(&client.id)
                .filter(|r| w.is_managed(r) && r.is_tcp_port(SSH_PORT))
                .map(|r| r.id.clone())
                .collect();
            self.revoke(w, &client.id, &ssh, deadline)
                .await
                .map_err(|e| cloud_diag("revoke the SSH rules of the former client group", &e))?;
            if own {
                let marks: Vec<String> = client
                    .tags
                    .keys()
                    .filter(|k| bk::is_reserved(k))
                    .cloned()
                    .collect();
                self.write_tags(
                    w,
                    std::slice::from_ref(&client.id),
                    &Default::default(),
                    &marks,
                )
                .await?;
            }
        }
        w.rules.retain(|r| r.group_id != client.id);
        w.client_group = None;
        Ok(())
    }

    /// Detaches from the recorded cluster when it is no longer wanted there, records the new cluster,
    /// and attaches to it.
    async fn move_attachment(
        &self,
        w: &mut World,
        t: &Target,
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        let cg = w.cluster_group.id.clone();
        let want_attach = t.inputs.attach() == Known::Known(true);
        let moving = w.cluster != t.cluster;
        if let Some(old) = w.cluster.clone().filter(|_| moving || !want_attach) {
            if matches!(w.attached, Some(Attachment::Yes | Attachment::Partly)) {
                self.detach(&old, &cg, deadline).await?;
                w.attached = Some(Attachment::No);
            }
        }
        if moving {
            match &t.cluster {
                Some(c) => {
                    self.write_tags(
                        w,
                        std::slice::from_ref(&cg),
                        &[(bk::CLUSTER.to_string(), c.tag())].into(),
                        &[],
                    )
                    .await?
                }
                None => {
                    self.write_tags(
                        w,
                        std::slice::from_ref(&cg),
                        &Default::default(),
                        &[bk::CLUSTER.to_string()],
                    )
                    .await?
                }
            }
            w.cluster = t.cluster.clone();
            w.attached = t.cluster.as_ref().map(|_| Attachment::No);
            w.endpoint = t.info.as_ref().and_then(|i| i.endpoint.clone());
        }
        if let (Some(c), true) = (&t.cluster, want_attach) {
            self.attach(c, &cg, deadline).await?;
            w.attached = Some(Attachment::Yes);
        }
        Ok(())
    }

    /// Revokes every ingress rule of the cluster group that names `client` (this access's, and any
    /// added by hand), so that the client group can be deleted.
    pub(crate) async fn release_client_group(
        &self,
        w: &mut World,
        client: &str,
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        let cg = w.cluster_group.id.clone();
        let naming: Vec<String> = w
            .ingress(&cg)
            .filter(|r| matches!(&r.source, Some(Source::Group { id, .. }) if id == client))
            .map(|r| r.id.clone())
            .collect();
        self.revoke(w, &cg, &naming, deadline)
            .await
            .map_err(|e| cloud_diag("revoke the rules that name the client group", &e))
    }
}

impl AccessState {
    /// The VPC the access's groups are in.
    pub fn outputs_vpc(&self) -> &str {
        self.inputs
            .vpc_id
            .as_ref()
            .and_then(Known::known)
            .map(|v| v.as_str())
            .unwrap_or_default()
    }
}
