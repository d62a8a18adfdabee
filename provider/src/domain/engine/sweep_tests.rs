//! Groups of abandoned creates: a create with a generated name deletes those whose creation lease
//! expired by AWS's clock and that carry the full proof, each named in a warning; a live lease, a
//! copied tag or a marker of release 0.2 is never touched; [`Engine::sweep`] lists them in a dry
//! run, deletes them otherwise, and reports what it leaves alone; deleting the partial state of a
//! failed create also deletes the client group that no state records.

use serde_json::json;

use super::bookkeeping as bk;
use super::fake::{err, Fault};
use super::lease::Lease;
use super::rig::{Rig, VPC};
use crate::domain::diag::{has_errors, Severity};

/// A cluster group this provider made for `base` in `vpc` under a lease that expires `expires_in`
/// seconds from AWS's now.
fn leased(rig: &Rig, vpc: &str, base: &str, expires_in: i64) -> String {
    let lease = Lease {
        holder: "dead0000".into(),
        expires: rig.fake.aws_now() + expires_in,
    };
    let id = rig.fake.add_group(
        vpc,
        &bk::group_name(base, bk::ROLE_CLUSTER),
        &[
            (bk::CREATING, &lease.value()),
            (bk::ROLE, bk::ROLE_CLUSTER),
            (bk::NAME, base),
            (bk::ORIGIN, "dead0000"),
        ],
    );
    rig.fake.st().groups.get_mut(&id).expect("made").description =
        bk::group_description(base, bk::ROLE_CLUSTER);
    id
}

#[tokio::test]
async fn a_generated_name_create_deletes_only_provably_abandoned_groups() {
    let rig = Rig::new().await;
    let old = leased(&rig, VPC, "gen-old", -120);
    let young = leased(&rig, VPC, "gen-young", 120);
    // the tags of an abandoned create copied onto a group this provider never made
    let copied = rig.fake.add_group(VPC, "web-servers", &[]);
    let tags = rig.fake.group(&old).expect("old").tags;
    rig.fake.st().groups.get_mut(&copied).expect("copied").tags = tags;
    let legacy = rig.fake.add_group(
        VPC,
        "gen-legacy-cluster",
        &[
            (bk::CREATING, "1000/600"),
            (bk::ROLE, bk::ROLE_CLUSTER),
            (bk::NAME, "gen-legacy"),
        ],
    );
    let mut cfg = rig.cfg(json!({"name_prefix": "gen-"}));
    cfg.as_object_mut().map(|o| o.remove("name"));
    let a = rig.apply(None, &cfg).await;
    assert!(!has_errors(&a.diagnostics), "{:?}", a.diagnostics);
    let [w] = &a.diagnostics[..] else {
        panic!("one warning: {:?}", a.diagnostics)
    };
    assert_eq!(w.severity, Severity::Warning);
    assert!(
        w.detail.contains(&old) && w.detail.contains("gen-old-cluster") && w.detail.contains(VPC),
        "{w}"
    );
    assert!(
        rig.fake.group(&old).is_none(),
        "the abandoned group is deleted"
    );
    assert!(
        rig.fake.group(&young).is_some(),
        "a live lease may be a create still running"
    );
    assert!(
        rig.fake.group(&copied).is_some(),
        "copied tags prove nothing"
    );
    assert!(
        rig.fake.group(&legacy).is_some(),
        "an old marker proves nothing"
    );
    assert!(a.state.is_some());
}

#[tokio::test]
async fn a_lease_is_judged_by_aws_clock_with_its_grace() {
    let rig = Rig::new().await;
    // expired 10 s ago by AWS's clock: within the 30 s grace, so it may still be renewed
    let recent = leased(&rig, VPC, "gen-recent", -10);
    let engine = rig.svc.engine().expect("configured");
    let r = engine.sweep(Some(VPC), true, false).await.expect("dry run");
    assert!(r.swept.is_empty(), "{r:?}");
    assert!(
        r.untouched
            .iter()
            .any(|u| u.group_id == recent && u.why.contains("may still be running")),
        "{r:?}"
    );
    rig.fake.advance_clock(25);
    let r = engine.sweep(Some(VPC), true, false).await.expect("dry run");
    assert_eq!(
        r.swept
            .iter()
            .map(|s| s.group_id.clone())
            .collect::<Vec<_>>(),
        [recent]
    );
}

#[tokio::test]
async fn sweep_lists_in_a_dry_run_deletes_otherwise_and_says_what_it_leaves() {
    let rig = Rig::new().await;
    let old = leased(&rig, VPC, "gen-old", -120);
    let elsewhere = leased(&rig, "vpc-0000000000000000f", "gen-far", -120);
    let young = leased(&rig, VPC, "gen-young", 120);
    let engine = rig.svc.engine().expect("configured");

    let listed = engine.sweep(Some(VPC), true, true).await.expect("dry run");
    let ids: Vec<&str> = listed.swept.iter().map(|s| s.group_id.as_str()).collect();
    assert_eq!(ids, [old.as_str()]);
    assert_eq!(listed.swept[0].error, None);
    assert!(rig.fake.group(&old).is_some(), "a dry run deletes nothing");
    assert!(
        listed.untouched.iter().any(|u| u.group_id == young),
        "{listed:?}"
    );

    let swept = engine.sweep(None, false, true).await.expect("sweep");
    let mut ids: Vec<&str> = swept.swept.iter().map(|s| s.group_id.as_str()).collect();
    ids.sort_unstable();
    let mut want = [old.as_str(), elsewhere.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want);
    assert!(swept.swept.iter().all(|s| s.error.is_none()), "{swept:?}");
    assert!(rig.fake.group(&old).is_none() && rig.fake.group(&elsewhere).is_none());
    assert!(rig.fake.group(&young).is_some());
}

#[tokio::test]
async fn sweep_deletes_a_client_group_whose_access_is_gone() {
    let rig = Rig::new().await;
    let st = rig.up(None, &rig.cfg(json!({}))).await;
    let cg = st.get("id").as_str().unwrap_or_default().to_string();
    let client = st
        .get("client_security_group_id")
        .as_str()
        .unwrap_or_default()
        .to_string();
    // the cluster group deleted by hand
    rig.fake.st().rules.retain(|r| r.group_id != cg);
    rig.fake.st().groups.remove(&cg);
    let engine = rig.svc.engine().expect("configured");
    let r = engine.sweep(Some(VPC), false, true).await.expect("sweep");
    assert_eq!(
        r.swept
            .iter()
            .map(|s| s.group_id.as_str())
            .collect::<Vec<_>>(),
        [client.as_str()]
    );
    assert!(rig.fake.group(&client).is_none());
}

#[tokio::test]
async fn deleting_a_failed_create_deletes_its_unrecorded_client_group() {
    let rig = Rig::new().await;
    rig.fake.fault(Fault {
        op: "CreateSecurityGroup".into(),
        error: err("InvalidParameterValue"),
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
