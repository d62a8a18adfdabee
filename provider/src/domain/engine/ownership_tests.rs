//! Ownership by proof (issue 22), against the fake cloud: what a create, a failed create, an
//! import, a Read and a delete may take or delete, judged by creation leases in AWS's clock and
//! by the tags this provider wrote, never by a name or this machine's clock.

use std::time::Duration;

use serde_json::json;

use super::bookkeeping as bk;
use super::fake::{err, Fault};
use super::lease::{Creation, Lease, LeaseTiming};
use super::rig::{client_group, cluster_group, Rig, CLUSTER, CLUSTER_B, VPC};
use crate::domain::diag::has_errors;
use crate::domain::service::Service;

/// A group this provider made for `base` as `role` (full proof), under `holder`'s lease that
/// expires `expires_in` seconds from AWS's now.
fn leased(
    rig: &Rig,
    base: &str,
    role: &str,
    holder: &str,
    expires_in: i64,
    extra: &[(&str, &str)],
) -> String {
    let lease = Lease {
        holder: holder.into(),
        expires: rig.fake.aws_now() + expires_in,
    };
    let mut tags = vec![
        (bk::CREATING, lease.value()),
        (bk::ROLE, role.to_string()),
        (bk::NAME, base.to_string()),
        (bk::ORIGIN, holder.to_string()),
    ];
    tags.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let id = rig.fake.add_group(VPC, &bk::group_name(base, role), &tags);
    rig.fake.st().groups.get_mut(&id).expect("made").description =
        bk::group_description(base, role);
    id
}

fn creation(rig: &Rig, id: &str) -> Creation {
    Creation::of(&rig.fake.group(id).expect("the group exists"))
}

/// Item 1: a create that failed midway is recorded by its partial state, its lease ended at once;
/// the replacement `create_before_destroy` makes (same name) refuses it instead of adopting it.
#[tokio::test]
async fn a_failed_create_is_recorded_and_never_adopted_by_its_replacement() {
    let rig = Rig::new().await;
    let cfg = rig.cfg(json!({"allowed_cidr_blocks": ["10.1.0.0/16"]}));
    rig.fake
        .fail("AuthorizeSecurityGroupIngress", "InvalidParameterValue", 1);
    let (st, _) = rig.failing(None, &cfg).await;
    let st = st.expect("the partial state");
    let (cg, client) = (cluster_group(&st), client_group(&st));
    assert_eq!(creation(&rig, &cg), Creation::Done);
    assert_eq!(creation(&rig, &client), Creation::Done);
    // create_before_destroy: the new object is created while the tainted one still exists
    let p = rig.plan(None, &cfg).await;
    let a = rig
        .svc
        .apply(crate::domain::service::Apply {
            prior: None,
            planned: Some(p.planned),
            timeout: None,
        })
        .await;
    let text = format!("{:?}", a.diagnostics);
    assert!(
        a.state.is_none(),
        "nothing of the tainted object is taken: {:?}",
        a.state
    );
    assert!(
        text.contains("Security group exists already")
            && text.contains(&cg)
            && text.contains("a state records"),
        "{text}"
    );
    assert!(rig.fake.group(&cg).is_some() && rig.fake.group(&client).is_some());
}

/// Item 2: a second create of one name, while the first runs (its lease renewed), never adopts
/// the first's groups: it fails naming the group and what holds it.
#[tokio::test(start_paused = true)]
async fn a_running_create_is_never_adopted_by_another_of_the_same_name() {
    let rig = Rig::new().await;
    let cg = leased(&rig, "app", bk::ROLE_CLUSTER, "live", 180, &[]);
    // the first create renews its lease every 60 s
    let fake = rig.fake.clone();
    let renew = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            let v = Lease {
                holder: "live".into(),
                expires: fake.aws_now() + 180,
            }
            .value();
            fake.st()
                .groups
                .get_mut(&cg)
                .expect("cg")
                .tags
                .insert(bk::CREATING.into(), v);
        }
    });
    let (st, text) = rig.failing(None, &rig.cfg(json!({}))).await;
    renew.abort();
    assert!(st.is_none(), "{st:?}");
    assert!(
        text.contains("Security group exists already")
            && text.contains("a create in progress holds it")
            && text.contains("renewed"),
        "{text}"
    );
    assert_eq!(
        rig.fake
            .st()
            .groups
            .values()
            .filter(|g| g.name.starts_with("app-"))
            .count(),
        1
    );
}

/// Items 1/2 (continued): what a killed create left is taken over by the next create of that name
/// once its lease has expired by AWS's clock, keeping its creation token.
#[tokio::test(start_paused = true)]
async fn a_killed_create_is_taken_over_once_its_lease_expired() {
    let rig = Rig::new().await;
    let cg = leased(&rig, "app", bk::ROLE_CLUSTER, "dead", 30, &[]);
    let started = tokio::time::Instant::now();
    let st = rig.up(None, &rig.cfg(json!({}))).await;
    assert_eq!(cluster_group(&st), cg, "the same group, taken over");
    assert!(
        started.elapsed() >= Duration::from_secs(60),
        "it waited for the lease and its grace: {:?}",
        started.elapsed()
    );
    let g = rig.fake.group(&cg).expect("cg");
    assert_eq!(Creation::of(&g), Creation::Done);
    assert!(
        !g.tags.contains_key(bk::CREATING) && g.tags.contains_key(bk::CREATED),
        "{:?}",
        g.tags
    );
    let client = rig.fake.group(&client_group(&st)).expect("client");
    assert_eq!(
        client.tags.get(bk::ORIGIN),
        Some(&"dead".to_string()),
        "the access keeps one creation token"
    );
}

/// Item 9: taking over an abandoned create that had attached its group to another cluster leaves
/// that cluster.
#[tokio::test(start_paused = true)]
async fn a_taken_over_group_leaves_the_cluster_the_abandoned_create_attached_it_to() {
    let rig = Rig::new().await;
    let tag = format!("replication_group_id={CLUSTER_B}");
    let cg = leased(
        &rig,
        "app",
        bk::ROLE_CLUSTER,
        "dead",
        -100,
        &[(bk::CLUSTER, &tag)],
    );
    for m in rig
        .fake
        .st()
        .clusters
        .get_mut(CLUSTER_B)
        .expect("b")
        .members
        .iter_mut()
    {
        m.1.push(cg.clone());
    }
    let st = rig
        .up(None, &rig.cfg(json!({"attach_to_cluster": true})))
        .await;
    assert_eq!(cluster_group(&st), cg);
    assert!(rig.detached(CLUSTER_B, &cg), "left the old cluster");
    assert!(rig.attached(CLUSTER, &cg));
}

/// Item 4: an import refuses a group a running create holds; once the lease expired it imports,
/// and the Read that follows ends the lease, so nobody sweeps what the state now records.
#[tokio::test]
async fn import_refuses_a_live_create_and_a_read_ends_the_lease() {
    let rig = Rig::new().await;
    let cg = leased(&rig, "app", bk::ROLE_CLUSTER, "dead", 100, &[]);
    let client = leased(&rig, "app", bk::ROLE_CLIENTS, "dead", 100, &[]);
    rig.fake
        .st()
        .groups
        .get_mut(&client)
        .expect("c")
        .tags
        .insert(bk::ACCESS.into(), cg.clone());
    let refused = rig.svc.import(&cg).await.expect_err("a live lease");
    assert!(
        format!("{refused:?}").contains("is being created"),
        "{refused:?}"
    );
    rig.fake.advance_clock(200);
    let st = rig.svc.import(&cg).await.expect("import");
    assert_eq!(client_group(&st), client);
    let st = rig.refresh(&st).await.expect("read");
    assert_eq!(creation(&rig, &cg), Creation::Done);
    assert_eq!(creation(&rig, &client), Creation::Done);
    let engine = rig.svc.engine().expect("configured");
    let r = engine.sweep(None, false, true).await.expect("sweep");
    assert!(r.swept.is_empty(), "{r:?}");
    assert!(rig.fake.group(&client_group(&st)).is_some());
}

/// Item 5: a create that outlives its first lease (a slow answer) renews it, so a concurrent
/// sweep leaves it alone, whatever `timeouts.create` says.
#[tokio::test(start_paused = true)]
async fn a_slow_create_renews_its_lease_and_is_not_swept() {
    let rig = Rig::new().await;
    rig.fake.st().slow.insert(
        "AuthorizeSecurityGroupIngress".into(),
        Duration::from_secs(400),
    );
    let other = rig.second_process().await;
    let svc = &rig.svc;
    let cfg = rig.cfg(json!({"timeouts": {"create": "1s"}}));
    let p = rig.plan(None, &cfg).await;
    let create = svc.apply(crate::domain::service::Apply {
        prior: None,
        planned: Some(p.planned),
        timeout: None,
    });
    let sweeper = async {
        tokio::time::sleep(Duration::from_secs(350)).await;
        other
            .svc
            .engine()
            .expect("configured")
            .sweep(None, false, true)
            .await
            .expect("sweep")
    };
    let (a, swept) = tokio::join!(create, sweeper);
    assert!(swept.swept.is_empty(), "{swept:?}");
    assert!(
        rig.fake.count("CreateTags") >= 3,
        "renewals: {}",
        rig.fake.count("CreateTags")
    );
    let st = a.state.expect("a state");
    assert!(rig.fake.group(&cluster_group(&st)).is_some());
}

/// Item 3 (and 0.2's imports): a recorded client group that carries no proof of being the
/// access's own is never deleted, on destroy or when the access stops having a client group.
#[tokio::test]
async fn a_client_group_without_proof_is_never_deleted() {
    let rig = Rig::new().await;
    let st = rig.up(None, &rig.cfg(json!({}))).await;
    // a state as release 0.2's import of a hand-made setup wrote it: the app group as client
    let mut st = st;
    st.set(
        "client_security_group_id",
        crate::domain::declaration::value::Value::from(rig.app.as_str()),
    );
    let gone = rig.destroy(&st).await;
    assert!(!has_errors(&gone.diagnostics), "{:?}", gone.diagnostics);
    assert!(
        gone.diagnostics
            .iter()
            .any(|d| d.summary == "Client security group left in place"),
        "{:?}",
        gone.diagnostics
    );
    assert!(
        rig.fake.group(&rig.app).is_some(),
        "the app servers' group stays"
    );
}

/// Item 3: switching to `create_client_security_group = false` with the former client group
/// named as an existing one keeps the group and its rule.
#[tokio::test]
async fn a_former_client_group_named_as_existing_is_kept_with_its_rule() {
    let rig = Rig::new().await;
    let st = rig.up(None, &rig.cfg(json!({}))).await;
    let (cg, client) = (cluster_group(&st), client_group(&st));
    let cfg = rig.cfg(json!({"create_client_security_group": false, "client_security_group_ids": [rig.app, client]}));
    let st = rig.up(Some(&st), &cfg).await;
    assert!(rig.fake.group(&client).is_some(), "kept");
    assert!(
        rig.fake
            .ingress_summary(&cg)
            .iter()
            .any(|r| r.0.contains(&client)),
        "{:?}",
        rig.fake.ingress_summary(&cg)
    );
    assert!(
        !rig.fake
            .group(&client)
            .expect("client")
            .tags
            .contains_key(bk::ACCESS),
        "no longer marked as the access's own"
    );
    assert_eq!(rig.pending(&st, &cfg).await, Vec::<String>::new());
    let gone = rig.destroy(&st).await;
    assert!(!has_errors(&gone.diagnostics), "{:?}", gone.diagnostics);
    assert!(
        rig.fake.group(&client).is_some(),
        "an existing client group outlives the access"
    );
}

/// Item 6: a member of a replication group named by `cache_cluster_id` is refused at plan time
/// when the access attaches, with the replication group to name instead.
#[tokio::test]
async fn a_replication_group_member_is_refused_for_attachment() {
    let rig = Rig::new().await;
    let mut member = super::rig::replication_group(&rig.default_group);
    member.kind = crate::domain::cloud::ClusterKind::CacheCluster;
    member.members.truncate(1);
    member.member_of = Some(CLUSTER.into());
    rig.fake.add_cluster("m-001", member);
    let cfg = rig.cfg(json!({"cluster": {"cache_cluster_id": "m-001"}, "attach_to_cluster": true}));
    let p = rig.plan(None, &cfg).await;
    assert!(Service::refused(&p));
    let d = p
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .expect("an error");
    assert_eq!(
        d.path.as_ref().map(ToString::to_string).as_deref(),
        Some("cluster.cache_cluster_id")
    );
    assert!(
        d.detail
            .contains(&format!("replication_group_id = \"{CLUSTER}\"")),
        "{d}"
    );
    let fine = rig
        .plan(
            None,
            &rig.cfg(json!({"cluster": {"cache_cluster_id": "m-001"}})),
        )
        .await;
    assert!(!Service::refused(&fine), "{:?}", fine.diagnostics);
}

/// Item 6: members that disagree on other groups are not written a guessed list.
#[tokio::test]
async fn members_that_disagree_are_not_given_a_union() {
    let rig = Rig::new().await;
    let stray = rig.fake.add_group(VPC, "stray", &[]);
    rig.fake.st().clusters.get_mut(CLUSTER).expect("c").members[1]
        .1
        .push(stray.clone());
    let (_, text) = rig
        .failing(None, &rig.cfg(json!({"attach_to_cluster": true})))
        .await;
    assert!(
        text.contains("members use different security groups"),
        "{text}"
    );
    assert!(
        !rig.fake.cluster_members(CLUSTER)[0].1.contains(&stray),
        "nothing spread"
    );
}

/// Item 7: a modification that fails is never resent with the list read before: the next try
/// reads the groups again (another state attached meanwhile) and keeps them.
#[tokio::test]
async fn a_retried_modification_reads_the_groups_again() {
    let rig = Rig::new().await;
    let other = rig.fake.add_group(VPC, "other-access", &[]);
    let fake = rig.fake.clone();
    let other2 = other.clone();
    rig.fake.fault(Fault {
        op: "ModifyCluster".into(),
        error: err("Throttling"),
        skip: 0,
        times: 1,
        after_effect: false,
    });
    // Between the failed try and the next, another state attaches its group.
    let sneak = tokio::spawn(async move {
        // (the attach waits engine::attach::GATHER, 500 ms, for other changes to join it)
        for _ in 0..2000 {
            if fake.count("ModifyCluster") >= 1 {
                for m in fake
                    .st()
                    .clusters
                    .get_mut(CLUSTER)
                    .expect("c")
                    .members
                    .iter_mut()
                {
                    m.1.push(other2.clone());
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    let st = rig
        .up(None, &rig.cfg(json!({"attach_to_cluster": true})))
        .await;
    sneak.await.expect("sneak");
    let cg = cluster_group(&st);
    assert!(
        rig.attached(CLUSTER, &cg) && rig.attached(CLUSTER, &other),
        "{:?}",
        rig.cluster_members(CLUSTER)
    );
}

/// A create whose lease another party took over writes nothing more and records nothing.
#[tokio::test(start_paused = true)]
async fn a_create_that_lost_its_lease_stops() {
    let rig = Rig::new().await;
    rig.fake.st().slow.insert(
        "AuthorizeSecurityGroupIngress".into(),
        Duration::from_secs(400),
    );
    rig.fake.fail("CreateTags", "RequestLimitExceeded", 100);
    let fake = rig.fake.clone();
    let taker = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(300)).await;
        let mut s = fake.st();
        for g in s.groups.values_mut().filter(|g| g.name.starts_with("app-")) {
            g.tags
                .insert(bk::CREATING.into(), "v2:taker:1999999999".into());
        }
    });
    let (st, text) = rig.failing(None, &rig.cfg(json!({}))).await;
    taker.await.expect("taker");
    assert!(st.is_none(), "{st:?}");
    assert!(text.contains("lost its lease"), "{text}");
}

#[test]
fn the_default_lease_is_three_minutes() {
    assert_eq!(LeaseTiming::default().lease, Duration::from_secs(180));
}

/// The attaches of one run that touch one cluster are merged: ten accesses applied together take
/// at most two modifications of the replication group, and the same on destroy.
#[tokio::test]
async fn ten_accesses_attached_together_take_at_most_two_modifications() {
    let rig = Rig::new().await;
    // 11 groups on a node: over AWS's default quota, which the plan counts across the accesses
    rig.fake.st().quotas.insert("L-2AFB9258".into(), 16);
    let cfgs: Vec<serde_json::Value> = (0..10)
        .map(|i| rig.cfg(json!({"name": format!("a{i}"), "attach_to_cluster": true})))
        .collect();
    let states = futures_util::future::join_all(cfgs.iter().map(|c| rig.up(None, c))).await;
    assert!(
        rig.fake.count("ModifyCluster") <= 2,
        "{} modifications",
        rig.fake.count("ModifyCluster")
    );
    for st in &states {
        assert!(rig.attached(CLUSTER, &cluster_group(st)));
    }
    let before = rig.fake.count("ModifyCluster");
    let gone = futures_util::future::join_all(states.iter().map(|st| rig.destroy(st))).await;
    assert!(gone.iter().all(|g| g.diagnostics.is_empty()), "{gone:?}");
    assert!(
        rig.fake.count("ModifyCluster") - before <= 2,
        "{} modifications",
        rig.fake.count("ModifyCluster") - before
    );
    assert_eq!(
        rig.cluster_members(CLUSTER),
        vec![vec![rig.default_group.clone()]; 2]
    );
}
