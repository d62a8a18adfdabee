//! The engine through the service, against the fake cloud: plans before a cluster exists, rule ids,
//! throttled reads, imports, validation, reads, and answers lost on the way back.

use serde_json::json;

use super::fake::{Fault, ACCOUNT};
use super::rig::{client_group, cluster_group, map, s, Rig, CLUSTER, VPC};
use crate::domain::cloud::Source;
use crate::domain::declaration::value::Value;

/// 8. A cluster created in the same apply: the plan leaves its facts unknown; apply checks them.
#[tokio::test]
async fn cluster_created_in_the_same_apply() {
    let rig = Rig::new().await;
    let cfg =
        rig.cfg(json!({"cluster": {"replication_group_id": "later"}, "attach_to_cluster": true}));
    let p = rig.plan(None, &cfg).await;
    assert!(
        p.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        p.diagnostics
    );
    for attr in ["vpc_id", "port", "cluster_endpoint"] {
        assert!(
            p.planned.get(attr).is_unknown(),
            "{attr}: {:?}",
            p.planned.get(attr)
        );
    }
    rig.fake
        .add_cluster("later", super::rig::replication_group(&rig.default_group));
    let a = rig
        .svc
        .apply(crate::domain::service::Apply {
            prior: None,
            planned: Some(p.planned),
            timeout: None,
        })
        .await;
    assert!(a.diagnostics.is_empty(), "{:?}", a.diagnostics);
    let st = a.state.unwrap();
    assert_eq!(s(&st, "vpc_id"), VPC);
    // the cluster is deleted later: the plan names it
    rig.fake.st().clusters.remove("later");
    let p = rig.plan(Some(&st), &cfg).await;
    let text = p
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<String>();
    assert!(text.contains("later"), "{text}");
}

/// 8. While the cluster id is unknown, the prior vpc_id is kept: no replacement.
#[tokio::test]
async fn unknown_cluster_id_keeps_the_prior_vpc() {
    let rig = Rig::new().await;
    let st = rig.up(None, &rig.cfg(json!({}))).await;
    let mut cfg = Value::from_json(&rig.cfg(json!({})));
    let mut cluster = cfg.get("cluster").clone();
    cluster.set("replication_group_id", Value::Unknown);
    cfg.set("cluster", cluster);
    let p = rig.svc.plan(Some(&st), &cfg).await;
    assert!(!p.replaces(), "{:?}", p.requires_replace);
    assert_eq!(p.planned.get("vpc_id").as_str(), Some(VPC));
}

/// 10. Every rule id is returned when AWS's answer lists fewer rules than it made.
#[tokio::test]
async fn short_authorize_answer_is_read_back() {
    let rig = Rig::new().await;
    rig.fake.st().short_authorize_answer = true;
    let cfg = rig.cfg(json!({"allowed_cidr_blocks": ["10.1.0.0/16", "10.2.0.0/16"]}));
    let st = rig.up(None, &cfg).await;
    assert_eq!(map(&st, "ingress_rule_ids").len(), 4, "{st:?}");
    assert_eq!(rig.pending(&st, &cfg).await, Vec::<String>::new());
}

/// 11. A final read that is throttled does not taint a complete access.
#[tokio::test]
async fn throttled_reads_after_create_do_not_fail_it() {
    let rig = Rig::new().await;
    rig.fake.fault(Fault {
        op: "DescribeSecurityGroupRules".into(),
        error: super::fake::err("RequestLimitExceeded"),
        skip: 0,
        times: 3,
        after_effect: false,
    });
    let cfg = rig.cfg(json!({"allowed_cidr_blocks": ["10.1.0.0/16"]}));
    let st = rig.up(None, &cfg).await;
    assert_eq!(map(&st, "ingress_rule_ids").len(), 3);
}

/// 12. Import adopts an access built by hand, as AWS's guide describes: the cluster group becomes
/// the access's, the group its rule allows an existing client group, never the access's own.
#[tokio::test]
async fn import_adopts_a_hand_built_access() {
    let rig = Rig::new().await;
    let cg = rig.fake.add_group(VPC, "app-cluster", &[]);
    let client = rig.fake.add_group(VPC, "web-servers", &[]);
    rig.fake
        .add_rule(&cg, Source::group(&client, None), 6379, &Default::default());
    for m in rig
        .fake
        .st()
        .clusters
        .get_mut(CLUSTER)
        .unwrap()
        .members
        .iter_mut()
    {
        m.1.push(cg.clone());
    }
    let st = rig.svc.import(&cg).await.expect("import");
    assert!(st.get("client_security_group_id").is_null(), "{st:?}");
    assert_eq!(st.get("create_client_security_group"), &Value::Bool(false));
    assert_eq!(
        st.get("client_security_group_ids"),
        &Value::string_list([client.as_str()])
    );
    let cfg = json!({"name": "app", "cluster": {"replication_group_id": CLUSTER}, "attach_to_cluster": true,
                     "create_client_security_group": false, "client_security_group_ids": [client]});
    let p = rig.plan(Some(&st), &cfg).await;
    assert!(!p.replaces(), "{:?}", p.requires_replace);
    let st = rig.up(Some(&st), &cfg).await;
    assert!(rig
        .fake
        .group(&cg)
        .unwrap()
        .tags
        .contains_key(super::bookkeeping::ROLE));
    assert_eq!(rig.pending(&st, &cfg).await, Vec::<String>::new());
    // Destroy deletes the cluster group, never the web servers' group.
    let gone = rig.destroy(&st).await;
    assert!(gone.diagnostics.is_empty(), "{:?}", gone.diagnostics);
    assert!(rig.fake.group(&cg).is_none());
    assert!(rig.fake.group(&client).is_some());
}

/// The import id `<cluster group>,<client group>` makes the hand-made client group the access's
/// own: it is marked so, and deleted with the access.
#[tokio::test]
async fn import_can_claim_a_hand_built_client_group() {
    let rig = Rig::new().await;
    let cg = rig.fake.add_group(VPC, "app-cluster", &[]);
    let client = rig.fake.add_group(VPC, "app-clients", &[]);
    rig.fake
        .add_rule(&cg, Source::group(&client, None), 6379, &Default::default());
    let bad = rig.svc.import(&format!("{cg},{}", rig.app)).await;
    assert!(
        bad.is_err(),
        "a group the setup does not allow is not claimed: {bad:?}"
    );
    let st = rig
        .svc
        .import(&format!("{cg},{client}"))
        .await
        .expect("import");
    assert_eq!(client_group(&st), client);
    let tags = rig.fake.group(&client).unwrap().tags;
    assert_eq!(tags.get(super::bookkeeping::ACCESS), Some(&cg));
    let gone = rig.destroy(&st).await;
    assert!(gone.diagnostics.is_empty(), "{:?}", gone.diagnostics);
    assert!(rig.fake.group(&cg).is_none() && rig.fake.group(&client).is_none());
}

/// 12. Import keeps tags equal to default_tags, empty sets and timeouts as recorded.
#[tokio::test]
async fn import_of_a_managed_access_plans_nothing() {
    let rig =
        Rig::with_provider(json!({"region": "us-east-1", "default_tags": {"tags": {"team": "a"}}}))
            .await;
    let cfg = rig.cfg(
        json!({"allowed_cidr_blocks": [], "tags": {"team": "a"}, "timeouts": {"create": "5m"}}),
    );
    let st = rig.up(None, &cfg).await;
    let imported = rig.svc.import(&cluster_group(&st)).await.expect("import");
    let p = rig.plan(Some(&imported), &cfg).await;
    assert!(p.changes.is_empty(), "{:?}", p.changes);
}

/// 13. One group named twice is refused; a peered group keeps the key it was written with.
#[tokio::test]
async fn one_group_named_twice_is_refused() {
    let rig = Rig::new().await;
    let cfg =
        rig.cfg(json!({"client_security_group_ids": [rig.app, format!("{ACCOUNT}/{}", rig.app)]}));
    let d = rig.svc.validate(&Value::from_json(&cfg));
    let d = d.iter().find(|d| d.is_error()).expect("an error");
    assert_eq!(d.path_text(), "client_security_group_ids[1]", "{d}");
}

#[tokio::test]
async fn peered_group_keeps_its_key() {
    let rig = Rig::new().await;
    let peer = "sg-0ddddddddddddddd1";
    rig.fake
        .st()
        .peered
        .insert(peer.into(), "222222222222".into());
    let cfg = rig.cfg(json!({"client_security_group_ids": [peer]}));
    let st = rig.up(None, &cfg).await;
    assert!(map(&st, "ingress_rule_ids").contains_key(peer), "{st:?}");
    assert_eq!(rig.pending(&st, &cfg).await, Vec::<String>::new());
}

/// 16. Read refreshes the endpoint and port without paging the Region's clusters: the next run (a
/// new provider process) describes the cluster once, and its plan reuses that describe.
#[tokio::test]
async fn read_refreshes_the_endpoint_with_one_describe() {
    let rig = Rig::new().await;
    let cfg = rig.cfg(json!({}));
    let st = rig.up(None, &cfg).await;
    rig.fake.st().clusters.get_mut(CLUSTER).unwrap().port = 6390;
    let next = rig.second_process().await;
    rig.fake.take_log();
    let fresh = next.refresh(&st).await.unwrap();
    assert_eq!(s(&fresh, "cluster_endpoint"), "redis.cache.example:6390");
    next.plan(Some(&fresh), &cfg).await;
    assert_eq!(rig.fake.count("DescribeAllClusters"), 0);
    assert_eq!(
        rig.fake.count("DescribeCluster"),
        1,
        "{:?}",
        rig.fake.take_log()
    );
}

/// Concurrent reads of attached accesses on one cluster share the cluster's one describe; this
/// process's own attach makes the next read describe it again.
#[tokio::test]
async fn concurrent_reads_describe_a_cluster_once_and_an_attach_invalidates() {
    let rig = Rig::new().await;
    // the cluster's default group and five accesses' groups: six per node
    rig.fake.st().quotas.insert("L-2AFB9258".into(), 16);
    let mut states = Vec::new();
    for i in 0..5 {
        let cfg = rig.cfg(json!({"name": format!("share-{i}"), "attach_to_cluster": true}));
        states.push(rig.up(None, &cfg).await);
    }
    let next = std::sync::Arc::new(rig.second_process().await);
    rig.fake.take_log();
    let reads: Vec<_> = states
        .iter()
        .cloned()
        .map(|st| {
            let n = next.clone();
            tokio::spawn(async move { n.refresh(&st).await })
        })
        .collect();
    let mut fresh = Vec::new();
    for r in reads {
        fresh.push(r.await.unwrap());
    }
    assert!(
        fresh.iter().all(|f| f
            .as_ref()
            .is_some_and(|f| f.get("attach_to_cluster") == &Value::Bool(true))),
        "{fresh:?}"
    );
    assert_eq!(
        rig.fake.count("DescribeCluster"),
        1,
        "{:?}",
        rig.fake.take_log()
    );
    assert_eq!(rig.fake.count("ClusterGroups"), 0);
    // this process detaches one access: its next read describes the cluster again and sees it
    let cfg = rig.cfg(json!({"name": "share-0", "attach_to_cluster": false}));
    let prior = fresh[0].clone().unwrap();
    let detached = next.up(Some(&prior), &cfg).await;
    rig.fake.take_log();
    let again = next.refresh(&detached).await.unwrap();
    assert_eq!(again.get("attach_to_cluster"), &Value::Bool(false));
    assert_eq!(rig.fake.count("DescribeCluster"), 1);
}

/// An interrupted create (answer lost) is adopted by the next one, not duplicated.
#[tokio::test]
async fn lost_create_answer_is_adopted() {
    let rig = Rig::new().await;
    let cfg = rig.cfg(json!({"allowed_cidr_blocks": ["10.1.0.0/16"]}));
    rig.fake
        .lose_answer("CreateSecurityGroup", "InternalError", 1);
    // The create tries again, is told the group exists, and finds it by its own token.
    let st = rig.up(None, &cfg).await;
    let names: Vec<String> = rig
        .fake
        .st()
        .groups
        .values()
        .map(|g| g.name.clone())
        .filter(|n| n.starts_with("app-"))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(map(&st, "ingress_rule_ids").len(), 3);
    assert_eq!(rig.pending(&st, &cfg).await, Vec::<String>::new());
}

/// A rule authorized while its answer was lost is adopted on retry (InvalidPermission.Duplicate).
#[tokio::test]
async fn lost_authorize_answer_is_adopted() {
    let rig = Rig::new().await;
    let cfg = rig.cfg(json!({"allowed_cidr_blocks": ["10.1.0.0/16"]}));
    rig.fake
        .lose_answer("AuthorizeSecurityGroupIngress", "InternalError", 1);
    let (st, _) = rig.failing(None, &cfg).await;
    let st = st.expect("the partial access");
    let done = rig.up(Some(&rig.refresh(&st).await.unwrap()), &cfg).await;
    let cg = cluster_group(&done);
    assert_eq!(
        rig.fake.ingress(&cg).len(),
        3,
        "{:?}",
        rig.fake.ingress_summary(&cg)
    );
}

/// Issue 23: an apply's `reachability` waits on nothing after the writes. The rules of the cluster's
/// other groups (here its default group, with a rule on the port) are read while the apply writes,
/// and the look at the cluster after the attach stands in for a describe; the old apply described
/// the cluster again and read those rules after ending the creation lease (two round trips more).
/// The applied value is the planned one with its unknowns filled (`reach_plan::conform`); the next
/// read shows the default group's rule.
#[tokio::test]
async fn an_apply_reads_its_reachability_while_it_writes() {
    let rig = Rig::new().await;
    let office = Source::Cidr("192.0.2.0/24".parse().unwrap());
    rig.fake
        .add_rule(&rig.default_group, office, 6379, &Default::default());
    let cfg = rig.cfg(json!({"attach_to_cluster": true}));
    rig.fake.take_log();
    let st = rig.up(None, &cfg).await;
    let log = rig.fake.take_log();
    let end = log
        .iter()
        .rposition(|op| op == "CreateTags" || op == "DeleteTags")
        .expect("the creation lease ended");
    assert!(
        log[end + 1..].is_empty(),
        "nothing read after the lease's end: {log:?}"
    );
    let applied = st.get("reachability");
    assert!(
        !applied
            .get("sources")
            .as_list()
            .unwrap_or_default()
            .is_empty()
            && !applied.get("cluster").is_unknown(),
        "{applied:?}"
    );
    let fresh = rig.refresh(&st).await.expect("a state");
    let on_default = |v: &Value| {
        v.get("reachability")
            .get("sources")
            .as_list()
            .unwrap_or_default()
            .iter()
            .filter(|s| s.get("on_group").as_str() == Some(rig.default_group.as_str()))
            .count()
    };
    assert_eq!(on_default(&fresh), 1, "{fresh:?}");
}
