//! `reachability` through the service on the fake cloud: a referenced group that disappears is a
//! finding, and the finding clears when the group is back; a refresh never makes a diff, and asks
//! the VPC's facts beside its read.

use serde_json::json;

use super::rig::Rig;
use crate::domain::declaration::value::Value;

fn finding_ids(state: &Value) -> Vec<(String, String)> {
    state
        .get("reachability")
        .get("findings")
        .as_list()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            let s = |k: &str| f.get(k).as_str().unwrap_or_default().to_string();
            (s("id"), s("subject"))
        })
        .collect()
}

#[tokio::test]
async fn a_referenced_group_that_is_gone_fires_unknown_referenced_group_and_clears() {
    let rig = Rig::new().await;
    let cfg = rig.cfg(json!({}));
    let st = rig.up(None, &cfg).await;
    let stale = ("unknown-referenced-group".to_string(), rig.app.clone());
    assert!(!finding_ids(&st).contains(&stale), "{:?}", finding_ids(&st));
    assert!(
        rig.pending(&st, &cfg).await.is_empty(),
        "a refresh makes no diff"
    );
    // the app group disappears (its rule on the cluster group stays, as a stale reference would)
    let kept = rig
        .fake
        .st()
        .groups
        .remove(&rig.app)
        .expect("the app group");
    let other = rig.second_process().await;
    let fresh = other.refresh(&st).await.expect("the access exists");
    assert!(
        finding_ids(&fresh).contains(&stale),
        "{:?}",
        finding_ids(&fresh)
    );
    rig.fake.st().groups.insert(rig.app.clone(), kept);
    let third = rig.second_process().await;
    let back = third.refresh(&fresh).await.expect("the access exists");
    assert!(
        !finding_ids(&back).contains(&stale),
        "{:?}",
        finding_ids(&back)
    );
}

/// Issue 23: a refresh asks the VPC's facts for `reachability` beside its read of the access, not
/// after it. A new process's refresh, its DescribeSecurityGroups held 300 ms, has asked
/// DescribeNetworkInterfaces before that describe answers (the fake logs a call when it answers).
#[tokio::test]
async fn a_refresh_reads_the_vpcs_facts_beside_the_access() {
    let rig = Rig::new().await;
    let st = rig.up(None, &rig.cfg(json!({}))).await;
    let other = rig.second_process().await;
    rig.fake.st().slow.insert(
        "DescribeSecurityGroups".into(),
        std::time::Duration::from_millis(300),
    );
    rig.fake.take_log();
    other.refresh(&st).await.expect("the access exists");
    let log = rig.fake.take_log();
    let at = |op: &str| log.iter().position(|o| o == op);
    let (enis, groups) = (
        at("DescribeNetworkInterfaces"),
        at("DescribeSecurityGroups"),
    );
    assert!(
        enis.is_some() && groups.is_some() && enis < groups,
        "{log:?}"
    );
}
