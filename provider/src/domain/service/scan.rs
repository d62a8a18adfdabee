//! The Region scan that `Coalesced` (`batch.rs`) holds: once a process has read more
//! than [`SCAN_AFTER`] accesses without writing anything, one paginated DescribeSecurityGroups of
//! the groups this provider tags (`elasticache-access:role`) answers the group reads that follow.
//!
//! Their rules are read only for the groups a read asks for: the scanned groups are split into
//! chunks of at most [`MAX_IDS`] (an access's two groups always in one), and a chunk's one DescribeSecurityGroupRules is made when a
//! read first needs a group of it, at most [`SCAN_CONCURRENCY`] at once. A refresh of a few
//! accesses in a Region that holds thousands of other stacks' groups so reads the rules of one
//! chunk per access at most (and never more chunks than the Region has), where it used to read
//! every chunk of the Region, all at once.
//!
//! A scan is a snapshot of the Region, as a refresh is: it answers only reads whose every group it
//! holds (a group it lacks may be untagged, or gone: a call by id decides), and it is never used
//! after this process wrote anything (a write drops it, and no later scan is made), so no answer
//! predates a write of this process. A failed scan, or a failed chunk, is not retried; the reads
//! go by id.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures_util::future::join_all;
use tokio::sync::{OnceCell, Semaphore};

use crate::domain::cloud::{Cloud, CloudError, Group, GroupFilter, Rule, MAX_IDS};
use crate::domain::engine::bookkeeping as bk;

/// Reads of groups (one per access read) before a scan answers the rest: "more than a handful".
pub const SCAN_AFTER: usize = 8;

/// Rule calls of a scan in flight at once.
pub const SCAN_CONCURRENCY: usize = 8;

type Chunk = OnceCell<Option<Arc<BTreeMap<String, Vec<Rule>>>>>;

/// The groups this provider tags in the Region, and their rules once read.
#[derive(Debug, Default)]
pub struct Region {
    groups: BTreeMap<String, Group>,
    /// Each group's chunk.
    chunk_of: BTreeMap<String, usize>,
    chunk_ids: Vec<Vec<String>>,
    chunks: Vec<Chunk>,
    permits: Option<Arc<Semaphore>>,
}

impl Region {
    fn of(groups: Vec<Group>) -> Region {
        let groups: BTreeMap<String, Group> =
            groups.into_iter().map(|g| (g.id.clone(), g)).collect();
        // An access's client group names its cluster group: the two sort together, and a chunk
        // never splits them, so that a read of an access needs one chunk.
        let mut keyed: Vec<(&str, &str)> = groups
            .values()
            .map(|g| {
                let key = g.tags.get(bk::ACCESS).unwrap_or(&g.id);
                (key.as_str(), g.id.as_str())
            })
            .collect();
        keyed.sort_unstable();
        let mut chunk_ids: Vec<Vec<String>> = Vec::new();
        let mut last = "";
        for (key, id) in keyed {
            let full = chunk_ids
                .last()
                .is_none_or(|c| c.len() >= MAX_IDS || (c.len() + 1 >= MAX_IDS && key != last));
            if full {
                chunk_ids.push(Vec::new());
            }
            if let Some(c) = chunk_ids.last_mut() {
                c.push(id.to_string());
            }
            last = key;
        }
        let chunk_of = chunk_ids
            .iter()
            .enumerate()
            .flat_map(|(i, c)| c.iter().map(move |id| (id.clone(), i)))
            .collect();
        Region {
            groups,
            chunk_of,
            chunks: chunk_ids.iter().map(|_| Chunk::new()).collect(),
            chunk_ids,
            permits: Some(Arc::new(Semaphore::new(SCAN_CONCURRENCY))),
        }
    }

    /// The groups of `ids`, when the scan holds every one.
    pub fn groups(&self, ids: &[String]) -> Option<Vec<Group>> {
        ids.iter().map(|i| self.groups.get(i).cloned()).collect()
    }

    /// The rules of the groups `ids`, when the scan holds every group and their chunks' rules
    /// could be read (each chunk read once, when first needed).
    pub async fn rules(&self, inner: &dyn Cloud, ids: &[String]) -> Option<Vec<Rule>> {
        let mut wanted: Vec<usize> = ids
            .iter()
            .map(|i| self.chunk_of.get(i).copied())
            .collect::<Option<_>>()?;
        wanted.sort_unstable();
        wanted.dedup();
        let read = join_all(wanted.iter().map(|&c| self.chunk(inner, c))).await;
        let read: Vec<Arc<BTreeMap<String, Vec<Rule>>>> =
            read.into_iter().collect::<Option<_>>()?;
        let mut out = Vec::new();
        for i in ids {
            for chunk in &read {
                if let Some(r) = chunk.get(i) {
                    out.extend(r.iter().cloned());
                }
            }
        }
        Some(out)
    }

    async fn chunk(&self, inner: &dyn Cloud, c: usize) -> Option<Arc<BTreeMap<String, Vec<Rule>>>> {
        self.chunks[c]
            .get_or_init(|| async {
                let _permit = match &self.permits {
                    Some(p) => p.acquire().await.ok(),
                    None => None,
                };
                let ids = &self.chunk_ids[c];
                match inner.describe_rules(ids).await {
                    Ok(rules) => {
                        let mut by: BTreeMap<String, Vec<Rule>> =
                            ids.iter().map(|i| (i.clone(), Vec::new())).collect();
                        for r in rules {
                            if let Some(v) = by.get_mut(&r.group_id) {
                                v.push(r);
                            }
                        }
                        Some(Arc::new(by))
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "a scan's rule call failed; reading by group id");
                        None
                    }
                }
            })
            .await
            .clone()
    }
}

/// The groups this provider makes: every one carries its role tag.
pub fn managed_groups() -> GroupFilter {
    GroupFilter {
        tags: vec![(bk::ROLE.to_string(), None)],
        ..GroupFilter::default()
    }
}

/// One scan of `filter`'s groups (their rules are read later, chunk by chunk, when asked for).
async fn scan(inner: &dyn Cloud, filter: &GroupFilter) -> Result<Region, CloudError> {
    let r = Region::of(inner.find_security_groups(filter).await?);
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

    /// True when this process wrote since the scan: its answers may predate the write.
    pub fn stale(&self) -> bool {
        self.lock().wrote
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

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
