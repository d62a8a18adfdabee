//! Writing tags: the user's (`default_tags` merged with `tags`) on both groups and every rule of the
//! access, compared with what each one carries now, and the provider's own on the groups.

use std::collections::BTreeMap;

use crate::domain::diag::Diagnostic;
use crate::domain::engine::bookkeeping::{self as bk, is_lifecycle, is_reserved};
use crate::domain::engine::target::Target;
use crate::domain::engine::{cloud_diag, Engine, World};

/// What one resource needs: tags to set and keys to remove.
type Change = (BTreeMap<String, String>, Vec<String>);

impl Engine {
    /// Brings the user tags of the groups and of every rule of the access to `t`'s, in as few calls
    /// as there are different changes (usually one CreateTags and one DeleteTags).
    pub(crate) async fn converge_user_tags(
        &self,
        w: &mut World,
        t: &Target,
    ) -> Result<(), Diagnostic> {
        let want = bk::user_tags(&self.tags.default_tags, &t.inputs);
        let mut resources: Vec<(String, BTreeMap<String, String>)> =
            vec![(w.cluster_group.id.clone(), w.cluster_group.tags.clone())];
        resources.extend(
            w.client_group
                .iter()
                .map(|g| (g.id.clone(), g.tags.clone())),
        );
        resources.extend(
            w.rules
                .iter()
                .filter(|r| w.is_managed(r))
                .map(|r| (r.id.clone(), r.tags.clone())),
        );
        let mut by_change: BTreeMap<Change, Vec<String>> = BTreeMap::new();
        for (id, have) in resources {
            let set: BTreeMap<String, String> = want
                .iter()
                .filter(|(k, v)| have.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let remove: Vec<String> = have
                .keys()
                .filter(|k| {
                    !is_reserved(k) && !self.tags.ignore.ignores(k) && !want.contains_key(*k)
                })
                .cloned()
                .collect();
            if !set.is_empty() || !remove.is_empty() {
                by_change.entry((set, remove)).or_default().push(id);
            }
        }
        for ((set, remove), ids) in by_change {
            self.write_tags(w, &ids, &set, &remove).await?;
        }
        Ok(())
    }

    /// Writes and removes tags, and records what AWS confirmed.
    pub(crate) async fn write_tags(
        &self,
        w: &mut World,
        ids: &[String],
        set: &BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), Diagnostic> {
        if !set.is_empty() {
            self.cloud
                .create_tags(ids, set)
                .await
                .map_err(|e| cloud_diag("tag the groups and rules", &e))?;
            w.tag(ids, set);
        }
        if !remove.is_empty() {
            self.cloud
                .delete_tags(ids, remove)
                .await
                .map_err(|e| cloud_diag("untag the groups and rules", &e))?;
            w.untag(ids, remove);
        }
        Ok(())
    }

    /// Brings the provider's own tags of the client group and the cluster group to `t`'s (the
    /// creation lease and token are the lease's business, see [`super::lease`]).
    pub(crate) async fn converge_own_tags(
        &self,
        w: &mut World,
        t: &Target,
    ) -> Result<(), Diagnostic> {
        let cg = w.cluster_group.id.clone();
        if let Some(client) = w.client_group.clone() {
            let want = bk::member_tags(&t.name, &cg, bk::ROLE_CLIENTS);
            let (set, remove) = own_change(&client.tags, &want);
            self.write_tags(w, &[client.id], &set, &remove).await?;
        }
        let want = bk::cluster_group_tags(&t.inputs, &t.name);
        let (set, remove) = own_change(&w.cluster_group.tags, &want);
        self.write_tags(w, std::slice::from_ref(&cg), &set, &remove)
            .await
    }
}

fn own_change(have: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> Change {
    let set = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = have
        .keys()
        .filter(|k| is_reserved(k) && !is_lifecycle(k) && !want.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}
