//! The engine through the service, against the fake cloud: the lifecycle, and each way a failed
//! step used to leave a state that claimed what AWS did not hold (detach, revoke, cluster moves,
//! concurrent attaches).

use serde_json::json;

use super::fake::ACCOUNT;
use super::rig::{client_group, cluster_group, map, s, Rig, CLUSTER, CLUSTER_B, VPC};
use crate::domain::cloud::Source;
use crate::domain::declaration::value::Value;

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
