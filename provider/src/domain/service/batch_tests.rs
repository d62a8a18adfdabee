//! Coalesced reads on the fake cloud: concurrent reads share calls, answer what one-by-one reads
//! answer, and see the writes made before them.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Coalesced, MAX_IDS};
use crate::domain::cloud::{Cloud, RuleSpec, Source};
use crate::domain::engine::fake::FakeCloud;

/// `n` pairs of groups, each cluster group with a rule from its client group.
fn pairs(fake: &FakeCloud, n: usize) -> Vec<Vec<String>> {
    (0..n)
        .map(|i| {
            let a = fake.add_group("vpc-1", &format!("cluster-{i}"), &[]);
            let b = fake.add_group("vpc-1", &format!("client-{i}"), &[]);
            fake.add_rule(&a, Source::group(&b, None), 6379, &BTreeMap::new());
            vec![a, b]
        })
        .collect()
}

async fn read_all(cloud: Arc<dyn Cloud>, sets: &[Vec<String>]) -> Vec<(usize, usize)> {
    let tasks: Vec<_> = sets
        .iter()
        .cloned()
        .map(|ids| {
            let c = cloud.clone();
            tokio::spawn(async move {
                let g = c.describe_security_groups(&ids).await.expect("groups");
                let r = c.describe_rules(&ids).await.expect("rules");
                (g, r)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        let (g, r) = t.await.expect("task");
        out.push((g.len(), r.len()));
    }
    out
}

#[tokio::test]
async fn concurrent_reads_share_one_call_each_and_answer_as_one_by_one_reads() {
    let fake = FakeCloud::new();
    let sets = pairs(&fake, 20);
    let missing = vec!["sg-0000000000000dead".to_string()];
    // one by one, straight to the fake
    let mut alone = Vec::new();
    for ids in sets.iter().chain(std::iter::once(&missing)) {
        alone.push((
            fake.describe_security_groups(ids).await.unwrap(),
            fake.describe_rules(ids).await.unwrap(),
        ));
    }
    fake.take_log();
    let cloud = Arc::new(Coalesced::new(Arc::new(fake.clone())));
    let tasks: Vec<_> = sets
        .iter()
        .chain(std::iter::once(&missing))
        .cloned()
        .map(|ids| {
            let c = cloud.clone();
            tokio::spawn(async move {
                (
                    c.describe_security_groups(&ids).await.unwrap(),
                    c.describe_rules(&ids).await.unwrap(),
                )
            })
        })
        .collect();
    let mut together = Vec::new();
    for t in tasks {
        together.push(t.await.unwrap());
    }
    assert_eq!(
        together, alone,
        "the same groups and rules, request by request"
    );
    assert_eq!(
        fake.count("DescribeSecurityGroups"),
        1,
        "{:?}",
        fake.take_log()
    );
    assert_eq!(fake.count("DescribeSecurityGroupRules"), 1);
}

#[tokio::test]
async fn a_batch_never_asks_for_more_than_the_limit_of_ids() {
    let fake = FakeCloud::new();
    let sets = pairs(&fake, MAX_IDS / 2 + 10);
    let cloud: Arc<dyn Cloud> = Arc::new(Coalesced::new(Arc::new(fake.clone())));
    let counts = read_all(cloud, &sets).await;
    assert!(counts.iter().all(|c| *c == (2, 1)), "{counts:?}");
    // 2·(MAX_IDS/2 + 10) ids: two calls of each, never one of more than MAX_IDS ids
    assert_eq!(fake.count("DescribeSecurityGroups"), 2);
    assert_eq!(fake.count("DescribeSecurityGroupRules"), 2);
}

#[tokio::test]
async fn a_write_between_two_reads_is_seen_by_the_second() {
    let fake = FakeCloud::new();
    let sets = pairs(&fake, 1);
    let (a, b) = (sets[0][0].clone(), sets[0][1].clone());
    let cloud = Coalesced::new(Arc::new(fake.clone()));
    assert_eq!(cloud.describe_rules(&sets[0]).await.unwrap().len(), 1);
    let spec = RuleSpec {
        source: Source::group(&b, None),
        port: 11211,
        description: String::new(),
    };
    let made = cloud
        .authorize_ingress(&a, &[spec], &BTreeMap::new())
        .await
        .unwrap();
    let after = cloud.describe_rules(&sets[0]).await.unwrap();
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.iter().any(|r| r.id == made[0].id));
    let lone = fake.add_group("vpc-1", "lone", &[]);
    let ids = vec![a.clone(), b.clone(), lone.clone()];
    assert_eq!(cloud.describe_security_groups(&ids).await.unwrap().len(), 3);
    cloud.delete_security_group(&lone).await.unwrap();
    let groups = cloud.describe_security_groups(&ids).await.unwrap();
    assert_eq!(
        groups.iter().map(|g| g.id.clone()).collect::<Vec<_>>(),
        [a, b]
    );
}

#[tokio::test]
async fn a_throttled_batch_is_sent_again_as_one_batch() {
    let fake = FakeCloud::new();
    let sets = pairs(&fake, 3);
    fake.fail("DescribeSecurityGroups", "RequestLimitExceeded", 1);
    let cloud = Arc::new(Coalesced::new(Arc::new(fake.clone())));
    let tasks: Vec<_> = sets
        .iter()
        .cloned()
        .map(|ids| {
            let c = cloud.clone();
            tokio::spawn(async move { c.describe_security_groups(&ids).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().len(), 2);
    }
    // the batched call was throttled; the requests went again together, never one call each
    assert_eq!(fake.count("DescribeSecurityGroups"), 2);
}

#[tokio::test]
async fn a_failed_batch_gives_each_request_its_own_answer() {
    let fake = FakeCloud::new();
    let sets = pairs(&fake, 3);
    fake.fail("DescribeSecurityGroups", "InternalError", 1);
    let cloud = Arc::new(Coalesced::new(Arc::new(fake.clone())));
    let tasks: Vec<_> = sets
        .iter()
        .cloned()
        .map(|ids| {
            let c = cloud.clone();
            tokio::spawn(async move { c.describe_security_groups(&ids).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().len(), 2);
    }
    // the batched call failed; each request then asked alone
    assert_eq!(fake.count("DescribeSecurityGroups"), 4);
}

/// `n` pairs of groups tagged as this provider tags them, each cluster group with one rule.
fn tagged_pairs(fake: &FakeCloud, n: usize) -> Vec<Vec<String>> {
    let role = [(crate::domain::engine::bookkeeping::ROLE, "cluster")];
    (0..n)
        .map(|i| {
            let a = fake.add_group("vpc-1", &format!("t-cluster-{i}"), &role);
            let b = fake.add_group("vpc-1", &format!("t-client-{i}"), &role);
            fake.add_rule(&a, Source::group(&b, None), 6379, &BTreeMap::new());
            vec![a, b]
        })
        .collect()
}

fn scanning(fake: &FakeCloud) -> Coalesced {
    Coalesced::new(Arc::new(fake.clone())).with_scan(crate::domain::service::scan::managed_groups())
}

#[tokio::test]
async fn after_a_handful_of_reads_one_scan_answers_the_rest_as_reads_by_id_would() {
    use crate::domain::service::scan::SCAN_AFTER;
    let fake = FakeCloud::new();
    let sets = tagged_pairs(&fake, 20);
    let cloud = scanning(&fake);
    for ids in &sets {
        let by_id = (
            fake.describe_security_groups(ids).await.unwrap(),
            fake.describe_rules(ids).await.unwrap(),
        );
        let read = (
            cloud.describe_security_groups(ids).await.unwrap(),
            cloud.describe_rules(ids).await.unwrap(),
        );
        assert_eq!(read, by_id);
    }
    // the direct reads: 20 of each; through the decorator: SCAN_AFTER of each by id, then one scan
    // (one DescribeSecurityGroups of the tagged groups, one DescribeSecurityGroupRules of them)
    assert_eq!(fake.count("DescribeSecurityGroups"), 20 + SCAN_AFTER + 1);
    assert_eq!(
        fake.count("DescribeSecurityGroupRules"),
        20 + SCAN_AFTER + 1
    );
}

#[tokio::test]
async fn a_write_ends_the_scans_answers_and_an_untagged_group_is_read_by_id() {
    let fake = FakeCloud::new();
    let sets = tagged_pairs(&fake, 12);
    let cloud = scanning(&fake);
    for ids in &sets {
        cloud.describe_security_groups(ids).await.unwrap();
        cloud.describe_rules(ids).await.unwrap();
    }
    // a group the scan does not hold (untagged) is read by id
    let plain = fake.add_group("vpc-1", "plain", &[]);
    let ids = vec![sets[0][0].clone(), plain.clone()];
    assert_eq!(cloud.describe_security_groups(&ids).await.unwrap().len(), 2);
    // a rule this process adds is seen by the next read, not hidden by the scan
    let (a, b) = (sets[1][0].clone(), sets[1][1].clone());
    let spec = RuleSpec {
        source: Source::group(&b, None),
        port: 11211,
        description: String::new(),
    };
    let made = cloud
        .authorize_ingress(&a, &[spec], &BTreeMap::new())
        .await
        .unwrap();
    let after = cloud.describe_rules(&sets[1]).await.unwrap();
    assert!(after.iter().any(|r| r.id == made[0].id), "{after:?}");
    assert_eq!(after.len(), 2);
}
