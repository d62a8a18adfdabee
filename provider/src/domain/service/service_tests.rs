//! The service: configuration known or not, cancellation before Configure, diagnostics once.

use serde_json::json;

use super::*;
use crate::domain::engine::rig::{Rig, CLUSTER};

#[tokio::test]
async fn a_cancel_before_configure_is_kept() {
    let rig = Rig::unconfigured();
    rig.svc.cancel();
    rig.configure(json!({"region": "us-east-1"})).await;
    let p = rig.plan(None, &rig.cfg(json!({}))).await;
    let a = rig
        .svc
        .apply(Apply {
            prior: None,
            planned: Some(p.planned),
            timeout: None,
        })
        .await;
    let text: String = a.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        text.contains("cancel") || text.contains("interrupted"),
        "{text}"
    );
    assert_eq!(
        rig.fake.count("CreateSecurityGroup"),
        0,
        "{:?}",
        rig.fake.take_log()
    );
}

#[tokio::test]
async fn an_unknown_region_connects_to_nothing_and_plans_without_aws() {
    let rig = Rig::unconfigured();
    let mut provider = Value::from_json(&json!({"region": "us-east-1"}));
    provider.set("region", Value::Unknown);
    assert!(rig.svc.configure(&provider).await.is_empty());
    assert_eq!(
        rig.connector
            .connects
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    assert!(rig.svc.engine().is_none());
    let p = rig.plan(None, &rig.cfg(json!({}))).await;
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert!(
        p.planned.get("vpc_id").is_unknown(),
        "the cluster's VPC is read at apply"
    );
    assert_eq!(
        p.planned.get("tags_all"),
        &Value::Map(Default::default()),
        "no default_tags: known and empty"
    );
    assert!(rig.fake.take_log().is_empty(), "no AWS call");
    let a = rig
        .svc
        .apply(Apply {
            prior: None,
            planned: Some(p.planned),
            timeout: None,
        })
        .await;
    assert_eq!(a.diagnostics, vec![not_configured()]);
}

#[test]
fn provider_diagnostics_carry_their_path() {
    let rig = Rig::unconfigured();
    let bad = json!({
        "region": "us-east-1",
        "assume_role": {"role_arn": "my-role"},
        "endpoints": {"ec2": "localhost:5000"},
        "max_retries": -1,
    });
    let d = rig.svc.validate_provider(&Value::from_json(&bad));
    let paths: Vec<String> = d.iter().map(|d| d.path_text()).collect();
    for want in ["assume_role.role_arn", "endpoints.ec2", "max_retries"] {
        assert!(
            paths.iter().any(|p| p == want),
            "{want} missing from {paths:?}"
        );
    }
}

#[tokio::test]
async fn a_warning_is_reported_by_validation_only() {
    let rig = Rig::new().await;
    let cfg = rig.cfg(json!({"allowed_cidr_blocks": ["10.1.2.3/16"]}));
    let warnings = rig.svc.validate(&Value::from_json(&cfg));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(!warnings[0].is_error());
    let p = rig.plan(None, &cfg).await;
    assert!(
        p.diagnostics.is_empty(),
        "the plan repeats no warning: {:?}",
        p.diagnostics
    );
}

#[tokio::test]
async fn custom_timeout_bounds_the_operation_but_is_not_recorded() {
    let rig = Rig::new().await;
    let cfg = rig.cfg(json!({"attach_to_cluster": true, "timeouts": {"create": "30m"}}));
    let p = rig.plan(None, &cfg).await;
    // the cluster stays busy: the attach waits, bounded by the operation's own timeout
    rig.fake
        .st()
        .clusters
        .get_mut(CLUSTER)
        .unwrap()
        .modifying_reads = u32::MAX;
    let started = std::time::Instant::now();
    let a = rig
        .svc
        .apply(Apply {
            prior: None,
            planned: Some(p.planned),
            timeout: Some(Duration::from_millis(300)),
        })
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!a.diagnostics.is_empty());
    let st = a.state.expect("the partial access");
    assert_eq!(st.get("timeouts").get("create").as_str(), Some("30m"));
}
