//! What AWS holds for one access ([`World`]) and the state derived from it ([`derive()`]).
//!
//! A world is read from AWS at the start of an operation and then changed only by writes AWS
//! confirmed, so deriving the state from it after a failure still tells the truth. [`derive()`] keeps
//! the recorded inputs' spelling wherever AWS agrees with them, and takes AWS's side where it does not.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::cloud::{ClusterRef, Group, Rule, Source};
use crate::domain::declaration::desired::Desired;
use crate::domain::declaration::model::{AccessOutputs, UnmanagedRule, DEFAULT_PORT};
use crate::domain::engine::bookkeeping::{self as bk, default_rule_description, is_reserved};
use crate::domain::engine::TagSettings;
use crate::domain::planning::state::AccessState;
use crate::domain::types::{known, Cidr, GroupRef, Input, Known, Port, PrefixListId, VpcId};

/// The port of the client group's SSH rules.
pub const SSH_PORT: u16 = 22;

/// How a cluster uses the cluster group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attachment {
    /// No member uses it.
    No,
    /// Some members use it, others not (an interrupted change).
    Partly,
    /// Every member uses it.
    Yes,
}

/// What AWS holds for one access.
#[derive(Clone, Debug, PartialEq)]
pub struct World {
    pub cluster_group: Group,
    pub client_group: Option<Group>,
    /// Ingress and egress rules of both groups.
    pub rules: Vec<Rule>,
    /// Rule ids known to be this access's (from its state, or made by this operation).
    pub managed: BTreeSet<String>,
    /// The cluster the access is for, as its cluster group records it.
    pub cluster: Option<ClusterRef>,
    /// Whether the cluster uses the cluster group (None: not checked, the recorded value stands).
    pub attached: Option<Attachment>,
    pub endpoint: Option<String>,
}

impl World {
    pub fn is_managed(&self, r: &Rule) -> bool {
        self.managed.contains(&r.id) || r.tags.get(bk::ACCESS) == Some(&self.cluster_group.id)
    }

    /// The ingress rules of `group`.
    pub fn ingress<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules
            .iter()
            .filter(move |r| r.group_id == group && !r.is_egress)
    }

    pub fn client_id(&self) -> Option<&str> {
        self.client_group.as_ref().map(|g| g.id.as_str())
    }

    /// The ids of both groups.
    pub fn group_ids(&self) -> Vec<String> {
        std::iter::once(self.cluster_group.id.clone())
            .chain(self.client_id().map(str::to_string))
            .collect()
    }

    /// Rules AWS made for this access.
    pub fn add_rules(&mut self, rules: Vec<Rule>) {
        for r in rules {
            self.managed.insert(r.id.clone());
            self.rules.retain(|x| x.id != r.id);
            self.rules.push(r);
        }
    }

    /// The rules of `group` as read again from AWS.
    pub fn replace_rules_of(&mut self, group: &str, rules: Vec<Rule>) {
        self.rules.retain(|r| r.group_id != group);
        self.rules
            .extend(rules.into_iter().filter(|r| r.group_id == group));
    }

    pub fn remove_rules(&mut self, ids: &[String]) {
        self.rules.retain(|r| !ids.contains(&r.id));
    }

    pub fn set_description(&mut self, rule_id: &str, description: &str) {
        if let Some(r) = self.rules.iter_mut().find(|r| r.id == rule_id) {
            r.description = Some(description.to_string()).filter(|d| !d.is_empty());
        }
    }

    fn tags_of(&mut self, id: &str) -> Option<&mut BTreeMap<String, String>> {
        if self.cluster_group.id == id {
            return Some(&mut self.cluster_group.tags);
        }
        if let Some(c) = self.client_group.as_mut().filter(|c| c.id == id) {
            return Some(&mut c.tags);
        }
        self.rules
            .iter_mut()
            .find(|r| r.id == id)
            .map(|r| &mut r.tags)
    }

    /// Tags AWS set on these groups and rules.
    pub fn tag(&mut self, ids: &[String], tags: &BTreeMap<String, String>) {
        for id in ids {
            if let Some(t) = self.tags_of(id) {
                t.extend(tags.clone());
            }
        }
    }

    pub fn untag(&mut self, ids: &[String], keys: &[String]) {
        for id in ids {
            if let Some(t) = self.tags_of(id) {
                t.retain(|k, _| !keys.contains(k));
            }
        }
    }
}

/// How a rule source is keyed in `ingress_rule_ids`: as the recorded inputs spell it (groups are
/// matched by id), else as AWS reports it, less the access's own account.
fn key_of(src: &Source, reference: &Desired, own: &str) -> String {
    match src {
        Source::Group { id, owner } => {
            if let Some(g) = known(&reference.client_security_group_ids)
                .and_then(|gs| gs.iter().find(|g| g.id() == id))
            {
                return g.key(own);
            }
            match owner {
                Some(o) if o != own => format!("{o}/{id}"),
                _ => id.clone(),
            }
        }
        other => other.key(),
    }
}

fn single_tcp_port(r: &Rule) -> Option<u16> {
    (r.protocol == "tcp" && r.from_port == r.to_port)
        .then(|| u16::try_from(r.from_port).ok())
        .flatten()
}

/// The cluster group's ingress rules, sorted into the managed ones on the access's port (by key),
/// managed ones that are not (keyed `<source> <protocol>/<ports>`, to be revoked by the next apply),
/// and the rules this access does not manage.
struct Sorted<'a> {
    port: u16,
    on_port: BTreeMap<String, &'a Rule>,
    extras: BTreeMap<String, &'a Rule>,
    unmanaged: Vec<&'a Rule>,
}

fn sort_rules<'a>(w: &'a World, reference: &Desired) -> Sorted<'a> {
    let own = w.cluster_group.owner_id.as_str();
    let mine: Vec<&Rule> = w
        .ingress(&w.cluster_group.id)
        .filter(|r| w.is_managed(r))
        .collect();
    let ports: BTreeSet<u16> = mine
        .iter()
        .filter(|r| r.source.is_some())
        .filter_map(|r| single_tcp_port(r))
        .collect();
    let wanted = known(&reference.port).map_or(DEFAULT_PORT, |p| p.get());
    let port = if ports.is_empty() || ports.contains(&wanted) {
        wanted
    } else {
        ports.iter().next().copied().unwrap_or(wanted)
    };
    let mut s = Sorted {
        port,
        on_port: BTreeMap::new(),
        extras: BTreeMap::new(),
        unmanaged: Vec::new(),
    };
    let mut mine_sorted = mine;
    mine_sorted.sort_by(|a, b| a.id.cmp(&b.id));
    for r in mine_sorted {
        let key = r.source.as_ref().map(|src| key_of(src, reference, own));
        match (key, single_tcp_port(r)) {
            (Some(k), Some(p)) if p == port && !s.on_port.contains_key(&k) => {
                s.on_port.insert(k, r);
            }
            (key, _) => {
                let mut k = format!(
                    "{} {}/{}",
                    key.unwrap_or_else(|| r.source_text.clone()),
                    r.protocol,
                    ports_text(r)
                );
                if s.extras.contains_key(&k) {
                    k = format!("{k} {}", r.id);
                }
                s.extras.insert(k, r);
            }
        }
    }
    s.unmanaged = w
        .ingress(&w.cluster_group.id)
        .filter(|r| !w.is_managed(r))
        .collect();
    s
}

fn ports_text(r: &Rule) -> String {
    if r.from_port == r.to_port {
        r.from_port.to_string()
    } else {
        format!("{}-{}", r.from_port, r.to_port)
    }
}

/// Keeps the recorded entries of a set input that AWS still holds, adds those AWS holds beyond them.
fn refresh<T: Clone, F>(
    reference: &Input<Vec<T>>,
    found: &[F],
    same: impl Fn(&T, &F) -> bool,
    make: impl Fn(&F) -> Option<T>,
    text: impl Fn(&T) -> String,
) -> Input<Vec<T>> {
    let prior = known(reference).cloned().unwrap_or_default();
    let mut out: Vec<T> = prior
        .iter()
        .filter(|t| found.iter().any(|f| same(t, f)))
        .cloned()
        .collect();
    out.extend(
        found
            .iter()
            .filter(|f| !prior.iter().any(|t| same(t, f)))
            .filter_map(&make),
    );
    out.sort_by_key(&text);
    out.dedup_by(|a, b| text(a) == text(b));
    if out.is_empty() && reference.is_none() {
        None
    } else {
        Some(Known::Known(out))
    }
}

/// A flag as AWS shows it: the recorded spelling when it means what AWS holds, else the value seen.
fn observed_flag(recorded: &Input<bool>, default: bool, seen: bool) -> Input<bool> {
    let means = match recorded {
        None => default,
        Some(Known::Known(b)) => *b,
        Some(Known::Unknown) => !seen,
    };
    if means == seen {
        recorded.clone()
    } else {
        Some(Known::Known(seen))
    }
}

/// The description the managed rules carry: the first that differs from what is recorded, else
/// the common one; from the group's tag when the access has no rule.
fn observed_description(
    w: &World,
    s: &Sorted<'_>,
    reference: &Desired,
    name: &str,
) -> Option<String> {
    let expected = known(&reference.description)
        .cloned()
        .unwrap_or_else(|| default_rule_description(name));
    let descs: Vec<String> = s
        .on_port
        .values()
        .map(|r| r.description.clone().unwrap_or_default())
        .collect();
    let seen = match descs.iter().find(|d| **d != expected).or(descs.first()) {
        Some(d) => d.clone(),
        None => return w.cluster_group.tags.get(bk::DESCRIPTION).cloned(),
    };
    if seen == expected {
        known(&reference.description).cloned()
    } else if seen.is_empty()
        || (seen == default_rule_description(name) && reference.description.is_none())
    {
        None
    } else {
        Some(seen)
    }
}

/// User tags: those the recorded `tags` declare, and any the provider's `default_tags` do not explain.
fn observed_tags(
    observed: &BTreeMap<String, String>,
    reference: &Desired,
    settings: &TagSettings,
) -> Input<BTreeMap<String, String>> {
    let declared = known(&reference.tags);
    let own: BTreeMap<String, String> = observed
        .iter()
        .filter(|(k, _)| {
            declared.is_some_and(|t| t.contains_key(*k)) || !settings.default_tags.contains_key(*k)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if own.is_empty() && reference.tags.is_none() {
        None
    } else {
        Some(Known::Known(own))
    }
}

fn unmanaged(rules: &[&Rule]) -> Vec<UnmanagedRule> {
    let mut out: Vec<UnmanagedRule> = rules
        .iter()
        .map(|r| UnmanagedRule {
            rule_id: r.id.clone(),
            protocol: r.protocol.clone(),
            from_port: r.from_port,
            to_port: r.to_port,
            source: r.source_text.clone(),
            description: r.description.clone().unwrap_or_default(),
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.source, a.from_port, a.to_port, &a.protocol, &a.rule_id).cmp(&(
            &b.source,
            b.from_port,
            b.to_port,
            &b.protocol,
            &b.rule_id,
        ))
    });
    out
}

/// The name of the access: its tag, else the recorded one, else the one an adopted group gets
/// ([`crate::domain::engine::setup::adopted_name`]).
fn observed_name(w: &World, reference: &Desired) -> String {
    w.cluster_group
        .tags
        .get(bk::NAME)
        .cloned()
        .or_else(|| known(&reference.name).cloned())
        .unwrap_or_else(|| crate::domain::engine::setup::adopted_name(&w.cluster_group.name))
}

/// The state of the access as `w` shows it, with `reference` (the recorded or planned inputs) for
/// what AWS cannot show and for the spelling of what it does.
pub fn derive(w: &World, reference: &Desired, settings: &TagSettings) -> AccessState {
    let s = sort_rules(w, reference);
    let own = w.cluster_group.owner_id.as_str();
    let name = observed_name(w, reference);
    let client = w.client_id();
    let found = |pred: fn(&Source) -> bool| -> Vec<Source> {
        s.on_port
            .iter()
            .filter(|(k, _)| Some(k.as_str()) != client)
            .filter_map(|(_, r)| r.source.clone())
            .filter(pred)
            .collect()
    };
    let ssh: BTreeMap<String, &Rule> = match client {
        Some(c) => w
            .ingress(c)
            .filter(|r| w.is_managed(r) && r.is_tcp_port(SSH_PORT))
            .filter_map(|r| match &r.source {
                Some(src @ Source::Cidr(_)) => Some((src.key(), r)),
                _ => None,
            })
            .collect(),
        None => BTreeMap::new(),
    };
    let ssh_nets: Vec<ipnet::IpNet> = ssh
        .values()
        .filter_map(|r| match &r.source {
            Some(Source::Cidr(n)) => Some(*n),
            _ => None,
        })
        .collect();
    let tags_all: BTreeMap<String, String> = w
        .cluster_group
        .tags
        .iter()
        .filter(|(k, _)| !is_reserved(k) && !settings.ignore.ignores(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    let mut i = reference.clone();
    i.vpc_id = Some(Known::Known(VpcId::reported(&w.cluster_group.vpc_id)));
    i.port = Port::new(s.port).map(Known::Known);
    i.name = Some(Known::Known(name.clone()));
    if let Some(p) = w.cluster_group.tags.get(bk::NAME_PREFIX) {
        i.name_prefix = Some(Known::Known(p.clone()));
    }
    i.cluster = w.cluster.clone().map(Known::Known);
    i.description = observed_description(w, &s, reference, &name).map(Known::Known);
    i.create_client_security_group = observed_flag(
        &reference.create_client_security_group,
        true,
        client.is_some(),
    );
    if let Some(a) = w.attached {
        i.attach_to_cluster =
            observed_flag(&reference.attach_to_cluster, false, a == Attachment::Yes);
    }
    let groups = found(|s| matches!(s, Source::Group { .. }));
    i.client_security_group_ids = refresh(
        &reference.client_security_group_ids,
        &groups,
        |g: &GroupRef, f| matches!(f, Source::Group { id, .. } if id == g.id()),
        |f| GroupRef::parse(&key_of(f, reference, own)).ok(),
        |g| g.text().to_string(),
    );
    let nets: Vec<ipnet::IpNet> = found(|s| matches!(s, Source::Cidr(_)))
        .into_iter()
        .filter_map(|s| match s {
            Source::Cidr(n) => Some(n),
            _ => None,
        })
        .collect();
    i.allowed_cidr_blocks = refresh(
        &reference.allowed_cidr_blocks,
        &nets,
        |c: &Cidr, n| c.net() == *n,
        |n| Some(Cidr::of(*n)),
        |c| c.text().to_string(),
    );
    let pls: Vec<String> = found(|s| matches!(s, Source::PrefixList(_)))
        .iter()
        .map(Source::key)
        .collect();
    i.allowed_prefix_list_ids = refresh(
        &reference.allowed_prefix_list_ids,
        &pls,
        |p: &PrefixListId, f| p.as_str() == f,
        |f| PrefixListId::parse(f).ok(),
        |p| p.as_str().to_string(),
    );
    i.client_ssh_cidr_blocks = refresh(
        &reference.client_ssh_cidr_blocks,
        &ssh_nets,
        |c: &Cidr, n| c.net() == *n,
        |n| Some(Cidr::of(*n)),
        |c| c.text().to_string(),
    );
    i.tags = observed_tags(&tags_all, reference, settings);

    let mut ingress: BTreeMap<String, String> = s
        .on_port
        .iter()
        .map(|(k, r)| (k.clone(), r.id.clone()))
        .collect();
    ingress.extend(s.extras.iter().map(|(k, r)| (k.clone(), r.id.clone())));
    let outputs = AccessOutputs {
        id: w.cluster_group.id.clone(),
        cluster_security_group_id: w.cluster_group.id.clone(),
        client_security_group_id: client.map(str::to_string),
        ingress_rule_ids: ingress,
        client_ssh_rule_ids: ssh.iter().map(|(k, r)| (k.clone(), r.id.clone())).collect(),
        owner_id: own.to_string(),
        cluster_endpoint: w.endpoint.clone(),
        tags_all,
        unmanaged_ingress: unmanaged(&s.unmanaged),
        // Filled by the engine from AWS's further answers (`engine/reach.rs`).
        reachability: None,
    };
    AccessState { inputs: i, outputs }
}

#[cfg(test)]
#[path = "observe_tests.rs"]
mod tests;
