//! The engine through the service, against the fake cloud: the lifecycle, and each way a failed
//! step used to leave a state that claimed what AWS did not hold (issue 9's list, by number).

use serde_json::json;

use super::fake::{Fault, ACCOUNT};
use super::rig::{map, s, Rig, CLUSTER, CLUSTER_B, VPC};
use crate::domain::cloud::Source;
use crate::domain::value::Value;

fn cluster_group(state: &Value) -> String {
    s(state, "cluster_security_group_id").to_string()
}

fn client_group(state: &Value) -> String {
    s(state, "client_security_group_id").to_string()
}

#[tokio::test]
async fn create_refresh_plan_nothing_delete() {
    let rig = Rig::new().await;
    let cfg = rig.cfg(json!({"allowed_cidr_blocks": ["10.1.0.0/16"], "attach_to_cluster": true}));
    let st = rig.up(None, &cfg).await;
    let cg = cluster_group(&st);
    assert_eq!(s(&st, "vpc_id"), VPC);
    assert_eq!(st.get("port").as_f64(), Some(6379.0));
    assert_eq!(s(&st, "owner_id"), ACCOUNT);
    assert_eq!(
        rig.fake.group(&cg).map(|g| g.name),
        Some("app-cluster".to_string())
    );
    let client = client_group(&st);
    let rules = map(&st, "ingress_rule_ids");
    assert_eq!(
        rules.keys().cloned().collect::<Vec<_>>(),
        vec!["10.1.0.0/16".to_string(), client.clone(), rig.app.clone()]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    assert!(rig.attached(CLUSTER, &cg));
    assert!(
        rig.attached(CLUSTER, &rig.default_group),
        "the cluster's own group is kept"
    );
    assert_eq!(s(&st, "cluster_endpoint"), "redis.cache.example:6379");
    // no group carries the creation marker any more
    for g in [&cg, &client] {
        let tags = rig.fake.group(g).unwrap().tags;
        assert!(!tags.contains_key(super::bookkeeping::CREATING), "{tags:?}");
    }
    assert_eq!(rig.pending(&st, &cfg).await, Vec::<String>::new());
    let gone = rig.destroy(&st).await;
    assert!(
        gone.diagnostics.is_empty() && gone.state.is_none(),
        "{gone:?}"
    );
    assert!(rig.fake.group(&cg).is_none() && rig.fake.group(&client).is_none());
    assert!(rig.detached(CLUSTER, &cg));
}

/// 1. A `default_tags` change reaches both groups and every rule, and the next plan is empty.
#[tokio::test]
async fn default_tags_change_is_applied_everywhere() {
    let rig =
        Rig::with_provider(json!({"region": "us-east-1", "default_tags": {"tags": {"team": "a"}}}))
            .await;
    let cfg = rig.cfg(json!({"allowed_cidr_blocks": ["10.1.0.0/16"], "tags": {"app": "x"}}));
    let st = rig.up(None, &cfg).await;
    rig.configure(
        json!({"region": "us-east-1", "default_tags": {"tags": {"team": "b", "env": "prod"}}}),
    )
    .await;
    let fresh = rig.refresh(&st).await.unwrap();
    let p = rig.plan(Some(&fresh), &cfg).await;
    assert!(
        p.changes.iter().any(|c| c.attr == "tags_all"),
        "{:?}",
        p.changes
    );
    let st = rig.up(Some(&fresh), &cfg).await;
    let want = [("app", "x"), ("env", "prod"), ("team", "b")];
    assert_eq!(
        map(&st, "tags_all"),
        want.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    );
    let ids: Vec<String> = [cluster_group(&st), client_group(&st)]
        .into_iter()
        .chain(map(&st, "ingress_rule_ids").into_values())
        .collect();
    for id in &ids {
        let tags = rig
            .fake
            .group(id)
            .map(|g| g.tags)
            .or_else(|| {
                rig.fake
                    .st()
                    .rules
                    .iter()
                    .find(|r| &r.id == id)
                    .map(|r| r.tags.clone())
            })
            .unwrap();
        for (k, v) in want {
            assert_eq!(
                tags.get(k).map(String::as_str),
                Some(v),
                "{id} lacks {k}={v}: {tags:?}"
            );
        }
    }
    assert_eq!(rig.pending(&st, &cfg).await, Vec::<String>::new());
}

/// 2. A detach that fails keeps the attachment in the state; the next plan shows it again; destroy
/// detaches before deleting.
#[tokio::test]
async fn failed_detach_keeps_the_attachment() {
    let rig = Rig::new().await;
    let st = rig
        .up(None, &rig.cfg(json!({"attach_to_cluster": true})))
        .await;
    let cg = cluster_group(&st);
    let off = rig.cfg(json!({"attach_to_cluster": false}));
    rig.fake.fail("ModifyCluster", "AccessDenied", 1);
    let (kept, why) = rig.failing(Some(&st), &off).await;
    assert!(why.contains("AccessDenied"), "{why}");
    let kept = kept.expect("a state");
    assert_eq!(kept.get("attach_to_cluster").as_bool(), Some(true));
    assert!(rig.attached(CLUSTER, &cg));
    assert_eq!(
        rig.pending(&kept, &off).await,
        vec!["attach_to_cluster".to_string()]
    );
    let gone = rig.destroy(&kept).await;
    assert!(gone.diagnostics.is_empty(), "{:?}", gone.diagnostics);
    assert!(rig.detached(CLUSTER, &cg) && rig.fake.group(&cg).is_none());
}

/// 2. Detaching the last group of a cluster is refused before AWS is asked, and the state keeps it.
#[tokio::test]
async fn detach_that_would_empty_the_cluster_is_refused_and_kept() {
    let rig = Rig::new().await;
    let st = rig
        .up(None, &rig.cfg(json!({"attach_to_cluster": true})))
        .await;
    let cg = cluster_group(&st);
    for m in rig
        .fake
        .st()
        .clusters
        .get_mut(CLUSTER)
        .unwrap()
        .members
        .iter_mut()
    {
        m.1 = vec![cg.clone()];
    }
    rig.fake.take_log();
    let (kept, why) = rig
        .failing(Some(&st), &rig.cfg(json!({"attach_to_cluster": false})))
        .await;
    assert!(why.contains("no security group"), "{why}");
    assert_eq!(kept.unwrap().get("attach_to_cluster").as_bool(), Some(true));
    assert_eq!(rig.fake.count("ModifyCluster"), 0);
}

/// 3. Moving the attachment from cluster A to B: a failed step does not forget A.
#[tokio::test]
async fn failed_cluster_move_does_not_forget_the_old_cluster() {
    let rig = Rig::new().await;
    let st = rig
        .up(None, &rig.cfg(json!({"attach_to_cluster": true})))
        .await;
    let cg = cluster_group(&st);
    let to_b = json!({"attach_to_cluster": true, "cluster": {"replication_group_id": CLUSTER_B}});
    let to_b = rig.cfg(to_b);
    rig.fake.fail("ModifyCluster", "AccessDenied", 1);
    let (kept, _) = rig.failing(Some(&st), &to_b).await;
    let kept = kept.unwrap();
    assert_eq!(
        kept.get("cluster").get("replication_group_id").as_str(),
        Some(CLUSTER),
        "{kept:?}"
    );
    assert!(!rig.pending(&kept, &to_b).await.is_empty());
    // the detach from A worked, the attach to B failed: the state names B, not attached
    rig.fake.fail_after("ModifyCluster", "AccessDenied", 1, 1);
    let (half, _) = rig.failing(Some(&kept), &to_b).await;
    let half = half.unwrap();
    assert!(rig.detached(CLUSTER, &cg) && rig.detached(CLUSTER_B, &cg));
    assert_eq!(
        half.get("attach_to_cluster").as_bool(),
        Some(false),
        "{half:?}"
    );
    let done = rig.up(Some(&half), &to_b).await;
    assert!(rig.attached(CLUSTER_B, &cg) && rig.detached(CLUSTER, &cg));
    assert_eq!(rig.pending(&done, &to_b).await, Vec::<String>::new());
}

/// 4. A description whose rule update failed is not recorded; a hand-edited description is drift.
#[tokio::test]
async fn description_is_what_the_rules_say() {
    let rig = Rig::new().await;
    let st = rig.up(None, &rig.cfg(json!({"description": "old"}))).await;
    let new = rig.cfg(json!({"description": "new"}));
    rig.fake.fail(
        "UpdateSecurityGroupRuleDescriptionsIngress",
        "AccessDenied",
        1,
    );
    let (kept, _) = rig.failing(Some(&st), &new).await;
    let kept = kept.unwrap();
    assert_eq!(s(&kept, "description"), "old");
    assert_eq!(
        rig.pending(&kept, &new).await,
        vec!["description".to_string()]
    );
    let st = rig.up(Some(&kept), &new).await;
    assert_eq!(rig.pending(&st, &new).await, Vec::<String>::new());
    let rule = map(&st, "ingress_rule_ids")[&rig.app].clone();
    for r in rig.fake.st().rules.iter_mut().filter(|r| r.id == rule) {
        r.description = Some("edited in the console".into());
    }
    assert_eq!(
        rig.pending(&st, &new).await,
        vec!["description".to_string()]
    );
}

/// 5. A port change whose revoke fails keeps the old-port rules managed and planned for removal.
#[tokio::test]
async fn failed_revoke_keeps_old_port_rules_managed() {
    let rig = Rig::new().await;
    let st = rig
        .up(
            None,
            &rig.cfg(json!({"allowed_cidr_blocks": ["10.1.0.0/16"]})),
        )
        .await;
    let cg = cluster_group(&st);
    let moved = rig.cfg(json!({"allowed_cidr_blocks": ["10.1.0.0/16"], "port": 6380}));
    rig.fake
        .fail("RevokeSecurityGroupIngress", "AccessDenied", 1);
    let (kept, _) = rig.failing(Some(&st), &moved).await;
    let kept = kept.unwrap();
    assert!(
        kept.get("unmanaged_ingress")
            .as_list()
            .is_none_or(<[Value]>::is_empty),
        "{kept:?}"
    );
    let ids = map(&kept, "ingress_rule_ids");
    assert_eq!(
        ids.len(),
        6,
        "new and old rules are both the access's: {ids:?}"
    );
    assert!(rig
        .pending(&kept, &moved)
        .await
        .contains(&"ingress_rule_ids".to_string()));
    // one of the old rules is then removed by hand: the batch revoke still removes the others
    let old_one = ids
        .iter()
        .find(|(k, _)| k.ends_with("tcp/6379"))
        .map(|(_, v)| v.clone())
        .unwrap();
    rig.fake.st().rules.retain(|r| r.id != old_one);
    let done = rig.up(Some(&kept), &moved).await;
    assert!(
        rig.fake.ingress(&cg).iter().all(|r| r.from_port == 6380),
        "{:?}",
        rig.fake.ingress_summary(&cg)
    );
    assert_eq!(map(&done, "ingress_rule_ids").len(), 3);
}

/// 6. Two accesses attached to one replication group in one apply, then destroyed together.
#[tokio::test]
async fn two_accesses_attach_and_detach_one_cluster_concurrently() {
    let rig = Rig::new().await;
    let a = rig.cfg(json!({"name": "a", "attach_to_cluster": true}));
    let b = rig.cfg(json!({"name": "b", "attach_to_cluster": true}));
    let (sa, sb) = tokio::join!(rig.up(None, &a), rig.up(None, &b));
    let (ga, gb) = (cluster_group(&sa), cluster_group(&sb));
    assert!(
        rig.attached(CLUSTER, &ga) && rig.attached(CLUSTER, &gb),
        "{:?}",
        rig.cluster_members(CLUSTER)
    );
    assert!(rig.attached(CLUSTER, &rig.default_group));
    let (da, db) = tokio::join!(rig.destroy(&sa), rig.destroy(&sb));
    assert!(
        da.diagnostics.is_empty() && db.diagnostics.is_empty(),
        "{da:?} {db:?}"
    );
    assert_eq!(
        rig.cluster_members(CLUSTER),
        vec![vec![rig.default_group.clone()]; 2]
    );
}

/// 6. Two provider processes (two engines) racing on one cluster: the read-modify-write is retried.
#[tokio::test]
async fn attach_waits_for_the_cluster_and_rereads_its_groups() {
    let rig = Rig::new().await;
    let other = rig.second_process().await;
    let a = rig.cfg(json!({"name": "a", "attach_to_cluster": true}));
    let b = rig.cfg(json!({"name": "b", "attach_to_cluster": true}));
    let (sa, sb) = tokio::join!(rig.up(None, &a), other.up(None, &b));
    assert!(
        rig.attached(CLUSTER, &cluster_group(&sa)) && rig.attached(CLUSTER, &cluster_group(&sb)),
        "{:?}",
        rig.cluster_members(CLUSTER)
    );
}

/// 6. Attaching checks every member: a member without the group is attached on the next apply.
#[tokio::test]
async fn attachment_is_checked_on_every_member() {
    let rig = Rig::new().await;
    let cfg = rig.cfg(json!({"attach_to_cluster": true}));
    let st = rig.up(None, &cfg).await;
    let cg = cluster_group(&st);
    rig.fake.st().clusters.get_mut(CLUSTER).unwrap().members[1]
        .1
        .retain(|g| g != &cg);
    assert_eq!(
        rig.pending(&st, &cfg).await,
        vec!["attach_to_cluster".to_string()]
    );
    let fresh = rig.refresh(&st).await.unwrap();
    rig.up(Some(&fresh), &cfg).await;
    assert!(rig.attached(CLUSTER, &cg));
}

/// 7. Destroy removes a hand-added rule that names the client group, instead of waiting.
#[tokio::test]
async fn destroy_releases_rules_that_name_the_client_group() {
    let rig = Rig::new().await;
    let st = rig
        .up(None, &rig.cfg(json!({"timeouts": {"delete": "2s"}})))
        .await;
    let (cg, client) = (cluster_group(&st), client_group(&st));
    rig.fake
        .add_rule(&cg, Source::group(&client, None), 22, &Default::default());
    let started = std::time::Instant::now();
    let gone = rig.destroy(&st).await;
    assert!(gone.diagnostics.is_empty(), "{:?}", gone.diagnostics);
    assert!(rig.fake.group(&cg).is_none() && rig.fake.group(&client).is_none());
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

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

/// 12. Import adopts an access built by hand, as AWS's guide describes.
#[tokio::test]
async fn import_adopts_a_hand_built_access() {
    let rig = Rig::new().await;
    let cg = rig.fake.add_group(VPC, "app-cluster", &[]);
    let client = rig.fake.add_group(VPC, "app-clients", &[]);
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
    assert_eq!(client_group(&st), client);
    let cfg = json!({"name": "app", "cluster": {"replication_group_id": CLUSTER}, "attach_to_cluster": true});
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

/// 16. Read refreshes the endpoint and port without paging the Region's clusters.
#[tokio::test]
async fn read_refreshes_the_endpoint_with_one_describe() {
    let rig = Rig::new().await;
    let st = rig.up(None, &rig.cfg(json!({}))).await;
    rig.fake.st().clusters.get_mut(CLUSTER).unwrap().port = 6390;
    rig.fake.take_log();
    let fresh = rig.refresh(&st).await.unwrap();
    assert_eq!(s(&fresh, "cluster_endpoint"), "redis.cache.example:6390");
    assert_eq!(rig.fake.count("DescribeAllClusters"), 0);
    assert!(rig.fake.count("DescribeCluster") <= 1);
}

/// An interrupted create (answer lost) is adopted by the next one, not duplicated.
#[tokio::test]
async fn lost_create_answer_is_adopted() {
    let rig = Rig::new().await;
    let cfg = rig.cfg(json!({"allowed_cidr_blocks": ["10.1.0.0/16"]}));
    rig.fake
        .lose_answer("CreateSecurityGroup", "InternalError", 1);
    let (st, _) = rig.failing(None, &cfg).await;
    assert!(st.is_none(), "{st:?}");
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
