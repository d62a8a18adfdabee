//! What AWS's Amazon VPC quotas allow an access, counted before any write, as AWS counts at apply.
//!
//! - Inbound rules per security group (Service Quotas `L-0EA8095F`, default 60) are counted per
//!   address family: a CIDR block in its family, a security group reference in both, a prefix list
//!   reference at the list's `MaxEntries` in the list's family.
//! - Security groups per network interface (`L-2AFB9258`, default 5, adjustable up to 16, and lower
//!   than 5 where the rules per group were raised above 200): every node of a cluster is a network
//!   interface, and attaching takes one slot on each.
//!
//! Pure: the engine reads the quotas, lists and cluster ([`crate::domain::engine`]), this module
//! counts and words the verdict.

use std::collections::BTreeMap;
use std::fmt;

use crate::domain::cloud::{PrefixList, Source};
use crate::domain::diag::{AttrPath, Diagnostic};

/// Service Quotas code of the inbound (and outbound) rules per security group.
pub const RULES_QUOTA: &str = "L-0EA8095F";
/// Service Quotas code of the security groups per network interface.
pub const GROUPS_QUOTA: &str = "L-2AFB9258";
/// AWS's default of [`RULES_QUOTA`]; no account has less (the quota only grows on request).
pub const DEFAULT_RULES: u32 = 60;
/// AWS's default of [`GROUPS_QUOTA`]. An account may have less: the product of [`RULES_QUOTA`] and
/// [`GROUPS_QUOTA`] is at most 1000, so raising the rules per group above 200 lowers it.
pub const DEFAULT_GROUPS: u32 = 5;
/// The least [`GROUPS_QUOTA`] any account has (rules per group at their maximum, 1000): a node
/// always has room for one group.
pub const MIN_GROUPS: u32 = 1;

/// Rules per address family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    pub v4: u32,
    pub v6: u32,
}

impl Count {
    fn add(self, o: Count) -> Count {
        Count {
            v4: self.v4 + o.v4,
            v6: self.v6 + o.v6,
        }
    }

    pub fn max(self) -> u32 {
        self.v4.max(self.v6)
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} IPv4 and {} IPv6", self.v4, self.v6)
    }
}

/// What one rule of `source` costs. A prefix list not in `lists` (not read, or missing: reported
/// apart) costs one IPv4 rule.
pub fn cost(source: &Source, lists: &BTreeMap<String, PrefixList>) -> Count {
    match source {
        Source::Group { .. } => Count { v4: 1, v6: 1 },
        Source::Cidr(n) if n.addr().is_ipv6() => Count { v4: 0, v6: 1 },
        Source::Cidr(_) => Count { v4: 1, v6: 0 },
        Source::PrefixList(id) => match lists.get(id) {
            Some(pl) if pl.address_family.eq_ignore_ascii_case("ipv6") => Count {
                v4: 0,
                v6: pl.max_entries,
            },
            Some(pl) => Count {
                v4: pl.max_entries,
                v6: 0,
            },
            None => Count { v4: 1, v6: 0 },
        },
    }
}

fn total<'a>(
    sources: impl IntoIterator<Item = &'a Source>,
    lists: &BTreeMap<String, PrefixList>,
) -> Count {
    sources
        .into_iter()
        .fold(Count::default(), |c, s| c.add(cost(s, lists)))
}

/// The rules of the cluster group around a change.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    /// The access's rules once the change is made.
    pub after: Vec<Source>,
    /// The access's old rules still there while the new ones are authorized (none for a create).
    pub leaving: Vec<Source>,
    /// Rules on the group made outside the access (`unmanaged_ingress`).
    pub outside: Vec<Source>,
    /// `exclusive_ingress`: the outside rules go, after the new rules are in.
    pub exclusive: bool,
}

/// The counts the verdict needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Once the change is made.
    pub after: Count,
    /// At the change's fullest moment when new rules are authorized before old ones are revoked.
    pub peak: Count,
}

impl Rules {
    pub fn tally(&self, lists: &BTreeMap<String, PrefixList>) -> Tally {
        let mine = total(&self.after, lists);
        let outside = total(&self.outside, lists);
        let after = if self.exclusive {
            mine
        } else {
            mine.add(outside)
        };
        Tally {
            after,
            peak: mine.add(outside).add(total(&self.leaving, lists)),
        }
    }

    /// The prefix lists the rules name (their weights are needed), each once.
    pub fn prefix_lists(&self) -> Vec<String> {
        let ids: std::collections::BTreeSet<String> = self
            .after
            .iter()
            .chain(&self.leaving)
            .chain(&self.outside)
            .filter_map(|s| match s {
                Source::PrefixList(id) if !id.is_empty() => Some(id.clone()),
                _ => None,
            })
            .collect();
        ids.into_iter().collect()
    }

    /// What the rules after the change are made of, for a message.
    pub fn breakdown(&self, lists: &BTreeMap<String, PrefixList>) -> String {
        let count = |f: fn(&Source) -> bool| self.after.iter().filter(|s| f(s)).count();
        let mut parts = vec![
            format!("{} CIDR blocks", count(|s| matches!(s, Source::Cidr(_)))),
            format!(
                "{} security group references (each counts in both families)",
                count(|s| matches!(s, Source::Group { .. }))
            ),
        ];
        let pls: Vec<String> = self
            .after
            .iter()
            .filter_map(|s| match s {
                Source::PrefixList(id) => Some(format!("{id} counts {}", cost(s, lists).max())),
                _ => None,
            })
            .collect();
        if !pls.is_empty() {
            parts.push(format!(
                "prefix lists at their MaxEntries ({})",
                pls.join(", ")
            ));
        }
        if !self.outside.is_empty() && !self.exclusive {
            parts.push(format!(
                "{} rules made outside this access",
                self.outside.len()
            ));
        }
        parts.join(", ")
    }
}

/// The rules verdict: an error when the change does not fit the quota, or fits only if old rules
/// are revoked first and `revoke_first` is not set; a warning of the gap when it is set and the
/// update both revokes and adds rules.
pub fn rules_verdict(
    rules: &Rules,
    lists: &BTreeMap<String, PrefixList>,
    quota: u32,
    revoke_first: bool,
    path: AttrPath,
) -> Option<Diagnostic> {
    let t = rules.tally(lists);
    if t.after.max() > quota {
        return Some(Diagnostic::error(path, "More inbound rules than the security group quota allows", format!("The cluster security group would hold {} inbound rules: {}. The account's quota {RULES_QUOTA} (inbound rules per security group, counted per address family) is {quota}, so AWS would refuse the rules after the groups were made. Remove sources, use prefix lists with a smaller MaxEntries, or raise quota {RULES_QUOTA} (Service Quotas, Amazon VPC) before applying.", t.after, rules.breakdown(lists))));
    }
    let gap = !rules.leaving.is_empty() && t.peak != t.after;
    if t.peak.max() > quota && !revoke_first {
        return Some(Diagnostic::error(AttrPath::attr("revoke_before_authorize"), "No room to authorize the new rules before revoking the old ones", format!("An update authorizes the new rules before it revokes the old ones, so that access never lapses: for a moment the cluster security group would hold {} inbound rules (old and new together), over the quota {RULES_QUOTA} of {quota} per address family; after the update it holds {}. Raise quota {RULES_QUOTA}, make the change in two applies (add sources, then remove the others), or set revoke_before_authorize = true to revoke first and accept a short gap in access for the sources that change.", t.peak, t.after)));
    }
    (revoke_first && gap).then(|| Diagnostic::warning(AttrPath::attr("revoke_before_authorize"), "The update revokes rules before it authorizes new ones", format!("revoke_before_authorize = true: the {} rules this update removes are revoked before the new ones are authorized, so for a few seconds the sources that change have no access.", rules.leaving.len())))
}

/// The groups-per-interface verdict for attaching `group` to a cluster whose members use `members`
/// (one entry per member, its groups) while `others` other accesses planned in the same run attach
/// their own groups to it: an error when a member would hold more than `quota`.
pub fn groups_verdict(
    members: &[(String, Vec<String>)],
    group: Option<&str>,
    others: u32,
    quota: u32,
) -> Option<Diagnostic> {
    let (member, groups) = members
        .iter()
        .filter(|(_, g)| group.is_none_or(|x| !g.iter().any(|y| y == x)))
        .max_by_key(|(_, g)| g.len())?;
    let n = groups.len() as u32 + 1 + others;
    let run = match others {
        0 => String::new(),
        1 => {
            " and 1 other access planned in this run attaches its group to the cluster".to_string()
        }
        k => format!(
            " and {k} other accesses planned in this run attach their groups to the cluster"
        ),
    };
    (n > quota).then(|| Diagnostic::error(AttrPath::attr("attach_to_cluster"), "The cluster's nodes have no room for another security group", format!("Attaching would give {member} {n} security groups (it has {}: {}{run}); the account's quota {GROUPS_QUOTA} (security groups per network interface) is {quota}, so AWS would refuse the modification after the groups were made. Remove a group from the cluster, raise quota {GROUPS_QUOTA} (Service Quotas, Amazon VPC; at most 16), or set attach_to_cluster = false and add cluster_security_group_id where the cluster's groups are managed.", groups.len(), groups.join(", "))))
}

/// Groups on the busiest member besides `group`, plus the one attaching adds and the `others` the
/// run's other accesses add; 0 when `group` is already on every member (attaching costs nothing).
pub fn groups_needed(members: &[(String, Vec<String>)], group: Option<&str>, others: u32) -> u32 {
    members
        .iter()
        .filter(|(_, g)| group.is_none_or(|x| !g.iter().any(|y| y == x)))
        .map(|(_, g)| g.len() as u32 + 1 + others)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
#[path = "quota_tests.rs"]
mod tests;
