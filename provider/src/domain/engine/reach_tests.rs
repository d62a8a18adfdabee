//! `reachability` through the service on the fake cloud: a referenced group that disappears is a
//! finding, and the finding clears when the group is back; a refresh never makes a diff.

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
