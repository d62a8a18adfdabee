//! The Region scan's bound on its rule calls in flight, against the fake cloud (issue 23).

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Region, SCAN_CONCURRENCY};
use crate::domain::cloud::Group;
use crate::domain::cloud::MAX_IDS;
use crate::domain::engine::fake::FakeCloud;

const RULES: &str = "DescribeSecurityGroupRules";

#[tokio::test(start_paused = true)]
async fn a_read_of_every_chunk_has_at_most_scan_concurrency_rule_calls_in_flight() {
    let fake = FakeCloud::new();
    fake.st().slow.insert(RULES.into(), Duration::from_secs(1));
    // more than two full waves of chunks
    let groups: Vec<Group> = (0..MAX_IDS * (2 * SCAN_CONCURRENCY + 1))
        .map(|i| Group {
            id: format!("sg-{i:017x}"),
            name: format!("g{i}"),
            description: String::new(),
            vpc_id: "vpc-1".into(),
            owner_id: "123456789012".into(),
            tags: BTreeMap::new(),
        })
        .collect();
    let ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
    let region = Region::of(groups);
    let chunks = region.chunk_ids.len();
    assert!(chunks > 2 * SCAN_CONCURRENCY, "{chunks} chunks");
    let start = tokio::time::Instant::now();
    assert!(region.rules(&fake, &ids).await.is_some());
    // every chunk read once, never more than the cap at once, and the cap used
    assert_eq!(fake.count(RULES), chunks);
    assert_eq!(fake.st().max_in_flight.get(RULES), Some(&SCAN_CONCURRENCY));
    let waves = chunks.div_ceil(SCAN_CONCURRENCY) as u64;
    assert_eq!(start.elapsed(), Duration::from_secs(waves));
    // a second read of them is answered from the chunks read
    assert!(region.rules(&fake, &ids[..3]).await.is_some());
    assert_eq!(fake.count(RULES), chunks);
}
