//! The Region scan of [`Coalesced`](crate::domain::batch::Coalesced): once a process has read more
//! than [`SCAN_AFTER`] accesses without writing anything, one paginated DescribeSecurityGroups of
//! the groups this provider tags (`elasticache-access:role`), and one DescribeSecurityGroupRules per
//! [`MAX_IDS`] of them (made concurrently), answer the reads that follow.
//!
//! A scan is a snapshot of the Region, as a refresh is: it answers only reads whose every group it
//! holds (a group it lacks may be untagged, or gone: a call by id decides), and it is never used
//! after this process wrote anything (a write drops it, and no later scan is made), so no answer
//! predates a write of this process. A failed scan is not retried; the reads go by id.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures_util::future::try_join_all;
use tokio::sync::OnceCell;

use crate::domain::batch::MAX_IDS;
use crate::domain::cloud::{Cloud, CloudError, Group, GroupFilter, Rule};
use crate::domain::engine::bookkeeping as bk;

/// Reads of groups (one per access read) before a scan answers the rest: "more than a handful".
pub const SCAN_AFTER: usize = 8;

/// The groups this provider tags in the Region, and their rules.
#[derive(Debug, Default)]
pub struct Region {
    groups: BTreeMap<String, Group>,
    rules: BTreeMap<String, Vec<Rule>>,
}

impl Region {
    /// The groups of `ids`, when the scan holds every one.
    pub fn groups(&self, ids: &[String]) -> Option<Vec<Group>> {
        ids.iter().map(|i| self.groups.get(i).cloned()).collect()
    }

    /// The rules of the groups `ids`, when the scan holds every group.
    pub fn rules(&self, ids: &[String]) -> Option<Vec<Rule>> {
        let mut out = Vec::new();
        for i in ids {
            out.extend(self.rules.get(i)?.iter().cloned());
        }
        Some(out)
    }
}

/// The groups this provider makes: every one carries its role tag.
pub fn managed_groups() -> GroupFilter {
    GroupFilter {
        tags: vec![(bk::ROLE.to_string(), None)],
        ..GroupFilter::default()
    }
}

/// One scan of `filter`'s groups and their rules.
async fn scan(inner: &dyn Cloud, filter: &GroupFilter) -> Result<Region, CloudError> {
    let mut r = Region::default();
    for g in inner.find_security_groups(filter).await? {
        r.rules.insert(g.id.clone(), Vec::new());
        r.groups.insert(g.id.clone(), g);
    }
    let ids: Vec<String> = r.groups.keys().cloned().collect();
    // One call per MAX_IDS groups, all at once: the round trips overlap.
    let chunks = ids.chunks(MAX_IDS).map(|chunk| inner.describe_rules(chunk));
    for rule in try_join_all(chunks).await?.into_iter().flatten() {
        if let Some(v) = r.rules.get_mut(&rule.group_id) {
            v.push(rule);
        }
    }
    tracing::debug!(
        groups = r.groups.len(),
        "scanned this provider's security groups in the Region"
    );
    Ok(r)
}

type Cell = Arc<OnceCell<Option<Arc<Region>>>>;

#[derive(Default)]
struct State {
    reads: usize,
    wrote: bool,
    cell: Option<Cell>,
}

/// When to scan, and the scan once made.
pub struct Scanner {
    filter: GroupFilter,
    state: Mutex<State>,
}

impl Scanner {
    pub fn new(filter: GroupFilter) -> Self {
        Scanner {
            filter,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// This process wrote: no scan answers from now on.
    pub fn wrote(&self) {
        let mut s = self.lock();
        s.wrote = true;
        s.cell = None;
    }

    /// The scan for a read of groups: counts the read, and makes the scan (once) after
    /// [`SCAN_AFTER`] reads.
    pub async fn for_groups(&self, inner: &dyn Cloud) -> Option<Arc<Region>> {
        let cell = {
            let mut s = self.lock();
            if s.wrote {
                return None;
            }
            s.reads += 1;
            if s.reads <= SCAN_AFTER {
                return None;
            }
            s.cell.get_or_insert_with(Cell::default).clone()
        };
        self.answer(cell, inner).await
    }

    /// The scan for a read of rules, when one was made (or is being made).
    pub async fn for_rules(&self, inner: &dyn Cloud) -> Option<Arc<Region>> {
        let cell = {
            let s = self.lock();
            if s.wrote {
                return None;
            }
            s.cell.clone()?
        };
        self.answer(cell, inner).await
    }

    async fn answer(&self, cell: Cell, inner: &dyn Cloud) -> Option<Arc<Region>> {
        let region = cell
            .get_or_init(|| async {
                match scan(inner, &self.filter).await {
                    Ok(r) => Some(Arc::new(r)),
                    Err(e) => {
                        tracing::debug!(error = %e, "scan failed; reading by group id");
                        None
                    }
                }
            })
            .await
            .clone();
        // a write made while the scan ran: its answer may predate the write
        if self.lock().wrote {
            return None;
        }
        region
    }
}
