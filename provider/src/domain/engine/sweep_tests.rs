//! Groups of unfinished creates: a create with a generated name deletes those whose creation
//! marker expired, each named in a warning, and keeps young ones; a create with an explicit name
//! leaves them to the next create of that name (which adopts them); [`Engine::sweep`] lists them in
//! a dry run and deletes them otherwise; deleting the partial state of a failed create also
//! deletes the client group that no state records.

use std::time::Duration;

use serde_json::json;

use super::bookkeeping as bk;
use super::fake::{err, Fault};
use super::rig::{Rig, VPC};
use crate::domain::diag::{has_errors, Severity};

fn orphan(rig: &Rig, name: &str, marker: &str) -> String {
    let base = name.trim_end_matches("-cluster");
    rig.fake.add_group(
        VPC,
        name,
        &[
            (bk::CREATING, marker),
            (bk::ROLE, bk::ROLE_CLUSTER),
            (bk::NAME, base),
        ],
    )
}

fn young_marker() -> String {
    bk::creating_marker(Duration::from_secs(600))
}

#[tokio::test]
async fn a_generated_name_create_deletes_expired_orphans_naming_each() {
    let rig = Rig::new().await;
    let old = orphan(&rig, "gen-old-cluster", "1000/600");
    let young = orphan(&rig, "gen-young-cluster", &young_marker());
    let mut cfg = rig.cfg(json!({"name_prefix": "gen-"}));
    cfg.as_object_mut().map(|o| o.remove("name"));
    let a = rig.apply(None, &cfg).await;
    assert!(!has_errors(&a.diagnostics), "{:?}", a.diagnostics);
    let [w] = &a.diagnostics[..] else {
        panic!("one warning: {:?}", a.diagnostics)
    };
    assert_eq!(w.severity, Severity::Warning);
    assert!(w.detail.contains(&old), "{w}");
    assert!(
        w.detail.contains("gen-old-cluster") && w.detail.contains(VPC),
        "{w}"
    );
    assert!(
        rig.fake.group(&old).is_none(),
        "the expired orphan is deleted"
    );
    assert!(
        rig.fake.group(&young).is_some(),
        "a young marker may be a create still running"
    );
    assert!(a.state.is_some());
}

#[tokio::test]
async fn an_explicit_name_create_leaves_orphans_of_other_names() {
    let rig = Rig::new().await;
    let old = orphan(&rig, "gen-old-cluster", "1000/600");
    let st = rig.up(None, &rig.cfg(json!({}))).await;
    assert!(rig.fake.group(&old).is_some());
    assert_eq!(st.get("name").as_str(), Some("app"));
}

#[tokio::test]
async fn sweep_lists_in_a_dry_run_and_deletes_otherwise() {
    let rig = Rig::new().await;
    let old = orphan(&rig, "gen-old-cluster", "1000/600");
    let elsewhere = rig.fake.add_group(
        "vpc-0000000000000000f",
        "gen-far-cluster",
        &[(bk::CREATING, "1000/600"), (bk::ROLE, bk::ROLE_CLUSTER)],
    );
    let young = orphan(&rig, "gen-young-cluster", &young_marker());
    let engine = rig.svc.engine().expect("configured");

    let listed = engine.sweep(Some(VPC), true).await.expect("dry run");
    assert_eq!(
        listed
            .iter()
            .map(|s| s.group_id.as_str())
            .collect::<Vec<_>>(),
        [old.as_str()]
    );
    assert_eq!(listed[0].error, None);
    assert!(rig.fake.group(&old).is_some(), "a dry run deletes nothing");

    let swept = engine.sweep(None, false).await.expect("sweep");
    let mut ids: Vec<&str> = swept.iter().map(|s| s.group_id.as_str()).collect();
    ids.sort_unstable();
    let mut want = [old.as_str(), elsewhere.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want);
    assert!(swept.iter().all(|s| s.error.is_none()), "{swept:?}");
    assert!(rig.fake.group(&old).is_none() && rig.fake.group(&elsewhere).is_none());
    assert!(rig.fake.group(&young).is_some());
}

#[tokio::test]
async fn deleting_a_failed_create_deletes_its_unrecorded_client_group() {
    let rig = Rig::new().await;
    rig.fake.fault(Fault {
        op: "CreateSecurityGroup".into(),
        error: err("InternalError"),
        skip: 1,
        times: 1,
        after_effect: true,
    });
    let (st, _) = rig.failing(None, &rig.cfg(json!({}))).await;
    let st = st.expect("the partial state: the cluster group");
    assert!(rig.fake.group_named("app-clients").is_some());
    let gone = rig.destroy(&st).await;
    assert!(gone.diagnostics.is_empty(), "{:?}", gone.diagnostics);
    assert!(rig.fake.group_named("app-cluster").is_none());
    assert!(
        rig.fake.group_named("app-clients").is_none(),
        "the client group made while its answer was lost is deleted too"
    );
}
