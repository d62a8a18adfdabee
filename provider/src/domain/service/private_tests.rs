//! The private state's hints: what a process keeps, and what a later one is taught.

use serde_json::json;

use super::Private;
use crate::domain::engine::rig::{Rig, CLUSTER};

#[tokio::test]
async fn an_apply_keeps_the_members_and_a_later_process_is_taught_them() {
    let rig = Rig::new().await;
    let st = rig
        .up(None, &rig.cfg(json!({"attach_to_cluster": true})))
        .await;
    let p = rig.svc.private_of(Some(&st)).expect("members seen");
    assert_eq!(p.cluster.as_deref(), Some("replication_group_id=redis"));
    assert_eq!(p.members, vec!["m-001".to_string(), "m-002".to_string()]);
    // a new process: taught before it reads, not otherwise
    let again = rig.second_process().await;
    again.svc.learn(Some(&p));
    assert_eq!(
        again.fake.st().learned.get(CLUSTER).map(|h| &h.members),
        Some(&vec!["m-001".to_string(), "m-002".to_string()])
    );
    // a hint without a cluster, or of none, teaches nothing
    let third = rig.second_process().await;
    third.fake.st().learned.clear();
    third.svc.learn(Some(&Private::default()));
    third.svc.learn(None);
    assert!(third.fake.st().learned.is_empty());
}
