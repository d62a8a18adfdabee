//! The engine against the fake cloud: a VPC that disagrees with the cluster's, the client group
//! turned off and on in place, and a source group that does not exist.

use std::time::{Duration, Instant};

use serde_json::json;

use super::rig::{s, Rig};
use crate::domain::diag::AttrPath;

/// A `vpc_id` other than the cluster's is a plan error on `vpc_id`; nothing is written.
#[tokio::test]
async fn vpc_mismatch_with_cluster_creates_nothing() {
    let rig = Rig::new().await;
    let other = "vpc-0ccccccccccccccc3";
    rig.fake.take_log();
    let p = rig.plan(None, &rig.cfg(json!({"vpc_id": other}))).await;
    let d = p
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .expect("a plan error");
    assert_eq!(d.path, Some(AttrPath::attr("vpc_id")), "{d}");
    assert!(d.detail.contains(other), "{d}");
    let log = rig.fake.take_log();
    assert!(
        log.iter().all(|c| c.starts_with("Describe")),
        "only reads: {log:?}"
    );
}

/// `create_client_security_group` false deletes the client group in place; true makes it again.
#[tokio::test]
async fn toggling_the_client_group_in_place() {
    let rig = Rig::new().await;
    let on = rig.cfg(json!({}));
    let st = rig.up(None, &on).await;
    let (cg, first_client) = (
        s(&st, "cluster_security_group_id").to_string(),
        s(&st, "client_security_group_id").to_string(),
    );
    let off = rig.cfg(json!({"create_client_security_group": false}));
    let p = rig.plan(Some(&st), &off).await;
    assert!(!p.replaces(), "{:?}", p.requires_replace);
    let st2 = rig.up(Some(&st), &off).await;
    assert!(st2.get("client_security_group_id").is_null(), "{st2:?}");
    assert!(rig.fake.group(&first_client).is_none());
    assert_eq!(s(&st2, "cluster_security_group_id"), cg, "kept in place");
    assert_eq!(rig.pending(&st2, &off).await, Vec::<String>::new());
    let st3 = rig.up(Some(&st2), &on).await;
    let client = s(&st3, "client_security_group_id").to_string();
    assert!(rig.fake.group(&client).is_some(), "{st3:?}");
    assert_ne!(client, first_client);
    assert_eq!(s(&st3, "cluster_security_group_id"), cg);
    assert_eq!(rig.pending(&st3, &on).await, Vec::<String>::new());
}

/// A source group that does not exist fails the create quickly instead of waiting out the timeout:
/// it is waited for only during the consistency wait (it may have been made moments before; the
/// rig's wait is 30 ms, AWS's 10 s).
#[tokio::test]
async fn a_missing_source_group_fails_at_once_instead_of_waiting() {
    let rig = Rig::new().await;
    let missing = "sg-0aaaaaaaaaaaaaaa1";
    let cfg =
        rig.cfg(json!({"client_security_group_ids": [missing], "timeouts": {"create": "10m"}}));
    // the plan already refuses it (preflight); a group deleted after the plan fails the apply
    let refused = rig.plan(None, &cfg).await;
    assert!(
        crate::domain::service::Service::refused(&refused),
        "{:?}",
        refused.diagnostics
    );
    let mut there = rig.fake.group(&rig.app).expect("the app group");
    there.id = missing.into();
    rig.fake.st().groups.insert(missing.into(), there);
    let planned = rig.second_process().await.plan(None, &cfg).await;
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    rig.fake.st().groups.remove(missing);
    let started = Instant::now();
    let apply = rig.svc.apply(crate::domain::service::Apply {
        prior: None,
        planned: Some(planned.planned),
        timeout: None,
    });
    let a = tokio::time::timeout(Duration::from_secs(20), apply)
        .await
        .expect("the create waited for a group that does not exist");
    let why: String = a.diagnostics.iter().map(ToString::to_string).collect();
    let st = a.state;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(why.contains(missing), "{why}");
    assert!(why.contains("InvalidGroup.NotFound"), "{why}");
    assert!(
        rig.fake.count("AuthorizeSecurityGroupIngress") <= 20,
        "{:?}",
        rig.fake.take_log()
    );
    // what was made is in the state, so that a destroy (or the next apply) finds it
    let st = st.expect("the partial access");
    assert!(rig
        .fake
        .group(s(&st, "cluster_security_group_id"))
        .is_some());
}
