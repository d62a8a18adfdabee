//! Deleting an access: detach the cluster group, revoke every rule that names the client group,
//! delete the client group, then the cluster group, retrying DependencyViolation until the delete
//! timeout and then naming what still holds the group.

use tokio::time::Instant;

use crate::domain::cloud::CloudError;
use crate::domain::cloud::Group;
use crate::domain::declaration::desired::Op;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::engine::bookkeeping as bk;
use crate::domain::engine::lease::Creation;
use crate::domain::engine::observe::{derive, Attachment, World};
use crate::domain::engine::ownership::owns_client;
use crate::domain::engine::{cloud_diag, Engine, Failed};
use crate::domain::planning::state::AccessState;
use crate::domain::types::Known;

impl Engine {
    /// Deletes the access. What is already gone counts as deleted. The recorded client group is
    /// deleted only when it is the access's own (see `super::ownership`); any other is left in
    /// place, with a warning. Returns the warnings.
    pub async fn delete(&self, prior: &AccessState) -> Result<Vec<Diagnostic>, Failed> {
        let deadline = Instant::now() + prior.inputs.timeout(Op::Delete);
        let fail = |d: Diagnostic| Failed::new(d, Some(prior.clone()));
        let w = self
            .read_world_for_delete(prior)
            .await
            .map_err(|e| fail(cloud_diag("read the access", &e)))?;
        let Some(mut w) = w else {
            return Ok(Vec::new());
        };
        let mut notes = Vec::new();
        match w.client_group.clone() {
            Some(c) if !owns_client(&w.cluster_group, &c) => {
                notes.push(not_own_client(&c));
                w.client_group = None;
            }
            Some(_) => {}
            None if Creation::of(&w.cluster_group).is_marked()
                || w.cluster_group.tags.contains_key(bk::ORIGIN)
                || prior.inputs.create_client() == Known::Known(true) =>
            {
                // A client group whose create answered nothing (the answer lost, the run stopped)
                // is in no state: found by its full proof, so that nothing is left behind.
                w.client_group = self
                    .find_client_group(&w.cluster_group)
                    .await
                    .map_err(|e| fail(cloud_diag("find the client security group", &e)))?;
            }
            None => {}
        }
        match self.delete_steps(&mut w, deadline).await {
            Ok(()) => Ok(notes),
            Err(e) => Err(Failed::new(e, Some(derive(&w, &prior.inputs, &self.tags)))),
        }
    }

    /// The detach from the cluster and the client group's end (its naming rules revoked, then the
    /// group deleted) touch different things, so they run at once; the cluster group goes last.
    async fn delete_steps(&self, w: &mut World, deadline: Instant) -> Result<(), Diagnostic> {
        let cg = w.cluster_group.id.clone();
        let cluster = w.cluster.clone();
        let detach = async {
            match &cluster {
                Some(c) => self.detach(c, &cg, deadline).await.map(|()| true),
                None => Ok(false),
            }
        };
        let (detached, client) = tokio::join!(detach, self.delete_client_group(w, deadline));
        if detached? {
            w.attached = Some(Attachment::No);
        }
        client?;
        let vpc = w.cluster_group.vpc_id.clone();
        self.delete_group(&cg, &vpc, deadline, Op::Delete).await
    }

    async fn delete_client_group(
        &self,
        w: &mut World,
        deadline: Instant,
    ) -> Result<(), Diagnostic> {
        let Some(client) = w.client_group.clone() else {
            return Ok(());
        };
        self.release_client_group(w, &client.id, deadline).await?;
        self.delete_group(&client.id, &client.vpc_id, deadline, Op::Delete)
            .await?;
        w.rules.retain(|r| r.group_id != client.id);
        w.client_group = None;
        Ok(())
    }

    /// Deletes a security group, retrying while it is in use until `deadline` (the timeout of `op`).
    pub(crate) async fn delete_group(
        &self,
        id: &str,
        vpc: &str,
        deadline: Instant,
        op: Op,
    ) -> Result<(), Diagnostic> {
        let in_use = |e: &CloudError| matches!(e, CloudError::InUse { .. }) || e.is_transient();
        match self
            .retry("DeleteSecurityGroup", deadline, in_use, || {
                self.cloud.delete_security_group(id)
            })
            .await
        {
            Ok(()) | Err(CloudError::NotFound { .. }) => {
                tracing::info!(group = %id, "deleted security group");
                Ok(())
            }
            Err(e @ CloudError::InUse { .. }) => {
                let holders = self
                    .cloud
                    .find_holders(id, vpc)
                    .await
                    .map(|h| h.to_string())
                    .unwrap_or_else(|e| format!("(could not list what holds it: {e})"));
                Err(Diagnostic::general(
                    format!("Security group {id} is still in use"),
                    format!("AWS answered {e} until timeouts.{} ran out. It is held by: {holders}. Detach it from those (or wait until their network interfaces are released), then apply again; raise timeouts.{} to wait longer.", op.name(), op.name()),
                ))
            }
            Err(e) => Err(cloud_diag(&format!("delete security group {id}"), &e)),
        }
    }
}

/// The warning of a client group left in place: it is not the access's own.
pub(crate) fn not_own_client(c: &Group) -> Diagnostic {
    Diagnostic::warning(
        AttrPath::attr("client_security_group_id"),
        "Client security group left in place",
        format!("{} ({}) was not made by this provider for this access (it carries no elasticache-access tags naming the access: an existing group, for example one imported with a hand-made setup), so it was not deleted; only the access's rule that named it went with the cluster group.", c.id, c.name),
    )
}
