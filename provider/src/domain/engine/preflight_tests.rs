//! The plan's checks against the fake cloud: what they refuse, what they cost.

use serde_json::json;

use crate::domain::cloud::Peer;
use crate::domain::engine::fake::ACCOUNT;
use crate::domain::engine::rig::{Rig, CLUSTER, VPC};
use crate::domain::planning::plan::Plan;
use crate::domain::service::Service;

const PL_A: &str = "pl-0123456789abcdef0";
const PL_B: &str = "pl-0123456789abcdef1";

fn errors(p: &Plan) -> Vec<String> {
    p.diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} @{}: {}", d.summary, d.path_text(), d.detail))
        .collect()
}

fn warnings(p: &Plan) -> Vec<String> {
    p.diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .map(|d| format!("{} @{}: {}", d.summary, d.path_text(), d.detail))
        .collect()
}

fn cidrs(n: usize, third: usize) -> Vec<String> {
    (0..n).map(|i| format!("10.{third}.{i}.0/24")).collect()
}

fn lists(rig: &Rig, entries: &[(&str, u32)]) {
    let mut s = rig.fake.st();
    for (id, m) in entries {
        s.prefix_lists.insert(id.to_string(), *m);
    }
}

#[tokio::test]
async fn two_prefix_lists_of_40_fail_the_plan_with_the_numbers_and_the_quota_code() {
    let rig = Rig::new().await;
    lists(&rig, &[(PL_A, 40), (PL_B, 40)]);
    let cfg = rig.cfg(json!({"allowed_prefix_list_ids": [PL_A, PL_B]}));
    let p = rig.plan(None, &cfg).await;
    let e = errors(&p);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("@allowed_prefix_list_ids"), "{e:?}");
    assert!(
        e[0].contains("82 IPv4 and 2 IPv6")
            && e[0].contains("L-0EA8095F")
            && e[0].contains("is 60"),
        "{e:?}"
    );
    // a raised quota lets the plan through; the quota was read once in this process
    rig.fake.st().quotas.insert("L-0EA8095F".into(), 100);
    let p = rig.plan(None, &cfg).await;
    assert!(
        errors(&p).iter().any(|e| e.contains("is 60")),
        "read once per process: {:?}",
        errors(&p)
    );
    assert_eq!(rig.fake.count("GetServiceQuota"), 1);
    assert_eq!(
        rig.fake.count("DescribeManagedPrefixLists"),
        1,
        "lists read once"
    );
    let other = rig.second_process().await;
    assert!(!Service::refused(&other.plan(None, &cfg).await));
}

#[tokio::test]
async fn sixty_one_sources_are_an_error_and_a_small_plan_reads_no_quota() {
    let rig = Rig::new().await;
    // the client group made by the access and the app group count in both families: 59 + 2 = 61
    let p = rig
        .plan(None, &rig.cfg(json!({"allowed_cidr_blocks": cidrs(59, 1)})))
        .await;
    assert!(
        errors(&p).iter().any(|e| e.contains("61 IPv4 and 2 IPv6")),
        "{:?}",
        p.diagnostics
    );
    let rig = Rig::new().await;
    let p = rig
        .plan(None, &rig.cfg(json!({"allowed_cidr_blocks": cidrs(58, 1)})))
        .await;
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(rig.fake.count("GetServiceQuota"), 0);
}

#[tokio::test]
async fn a_caller_that_may_not_read_quotas_gets_the_default_and_a_warning() {
    let rig = Rig::new().await;
    rig.fake.fail("GetServiceQuota", "AccessDeniedException", 5);
    let p = rig
        .plan(None, &rig.cfg(json!({"allowed_cidr_blocks": cidrs(59, 1)})))
        .await;
    assert!(
        warnings(&p)
            .iter()
            .any(|w| w.contains("AccessDeniedException") && w.contains("60")),
        "{:?}",
        p.diagnostics
    );
    assert!(
        errors(&p).iter().any(|e| e.contains("is 60")),
        "{:?}",
        p.diagnostics
    );
}

#[tokio::test]
async fn missing_prefix_lists_and_client_groups_fail_the_plan_before_any_write() {
    let rig = Rig::new().await;
    lists(&rig, &[(PL_A, 5)]);
    let cfg = rig.cfg(json!({
        "allowed_prefix_list_ids": [PL_A, PL_B],
        "client_security_group_ids": [rig.app, "sg-0fedcba987654321f"],
    }));
    let p = rig.plan(None, &cfg).await;
    let e = errors(&p);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e.iter()
            .any(|e| e.starts_with("Prefix list not found @allowed_prefix_list_ids[1]")),
        "{e:?}"
    );
    assert!(e.iter().any(|e| e.starts_with("Client security group not found @client_security_group_ids[1]")), "{e:?}");
}

#[tokio::test]
async fn a_peered_group_needs_an_active_peering_connection() {
    let rig = Rig::new().await;
    let peer = "210987654321/sg-0aaaaaaaaaaaaaaa1";
    let cfg = rig.cfg(json!({"client_security_group_ids": [rig.app, peer]}));
    let p = rig.plan(None, &cfg).await;
    assert!(
        errors(&p)
            .iter()
            .any(|e| e.starts_with("No peering connection") && e.contains("210987654321")),
        "{:?}",
        p.diagnostics
    );
    rig.fake.st().peers.insert(
        VPC.into(),
        vec![Peer {
            connection_id: "pcx-1".into(),
            vpc_id: "vpc-0bbbbbbbbbbbbbbb1".into(),
            owner_id: "210987654321".into(),
        }],
    );
    let again = rig.second_process().await;
    let p = again.plan(None, &cfg).await;
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
}

#[tokio::test]
async fn attaching_a_sixth_group_fails_the_plan_and_a_group_already_there_is_free() {
    let rig = Rig::new().await;
    let mut five = vec![rig.default_group.clone()];
    five.extend((0..4).map(|i| rig.fake.add_group(VPC, &format!("g{i}"), &[])));
    for m in &mut rig.fake.st().clusters.get_mut(CLUSTER).unwrap().members {
        m.1 = five.clone();
    }
    let cfg = rig.cfg(json!({"attach_to_cluster": true}));
    let p = rig.plan(None, &cfg).await;
    let e = errors(&p);
    assert!(
        e.iter().any(|e| e.contains("@attach_to_cluster")
            && e.contains("6 security groups")
            && e.contains("L-2AFB9258")
            && e.contains("is 5")),
        "{e:?}"
    );
    // quota 6: it fits; once attached, a later plan costs nothing
    rig.fake.st().quotas.insert("L-2AFB9258".into(), 6);
    let rig2 = rig.second_process().await;
    let st = rig2.up(None, &cfg).await;
    rig2.fake.st().quotas.insert("L-2AFB9258".into(), 5);
    let rig3 = rig2.second_process().await;
    let p = rig3
        .plan(
            Some(&st),
            &rig3.cfg(json!({"attach_to_cluster": true, "tags": {"a": "b"}})),
        )
        .await;
    assert!(errors(&p).is_empty(), "{:?}", p.diagnostics);
}

/// Gives every member of the cluster `n` groups (its default group and `n - 1` others).
fn nodes_at(rig: &Rig, n: usize) {
    let mut groups = vec![rig.default_group.clone()];
    groups.extend((1..n).map(|i| rig.fake.add_group(VPC, &format!("n{i}"), &[])));
    for m in &mut rig.fake.st().clusters.get_mut(CLUSTER).unwrap().members {
        m.1 = groups.clone();
    }
}

fn attach(rig: &Rig, name: &str) -> serde_json::Value {
    rig.cfg(json!({"name": name, "attach_to_cluster": true}))
}

#[tokio::test]
async fn the_attaches_planned_before_in_the_process_take_their_slots() {
    // nodes at 4 groups: the first access fits (5), the second would make 6
    let rig = Rig::new().await;
    nodes_at(&rig, 4);
    assert!(errors(&rig.plan(None, &attach(&rig, "a")).await).is_empty());
    // the same access planned again is the same attach
    assert!(errors(&rig.plan(None, &attach(&rig, "a")).await).is_empty());
    let e = errors(&rig.plan(None, &attach(&rig, "b")).await);
    assert!(
        e.iter().any(|e| e.contains("@attach_to_cluster")
            && e.contains("6 security groups")
            && e.contains("1 other access planned in this run")
            && e.contains("L-2AFB9258")
            && e.contains("is 5")),
        "{e:?}"
    );
    // nodes at 3 groups: both fit, however often planned
    let rig = Rig::new().await;
    nodes_at(&rig, 3);
    for name in ["a", "b", "a", "b"] {
        let p = rig.plan(None, &attach(&rig, name)).await;
        assert!(errors(&p).is_empty(), "{name}: {:?}", p.diagnostics);
    }
}

#[tokio::test]
async fn a_groups_quota_below_the_default_is_read_and_counted() {
    // rules per group raised to 250: AWS lowers the groups per interface to 4 (250 x 4 = 1000)
    let rig = Rig::new().await;
    rig.fake.st().quotas.insert("L-2AFB9258".into(), 4);
    nodes_at(&rig, 4);
    let e = errors(&rig.plan(None, &attach(&rig, "a")).await);
    assert!(
        e.iter().any(|e| e.contains("@attach_to_cluster")
            && e.contains("5 security groups")
            && e.contains("L-2AFB9258")
            && e.contains("is 4")),
        "{e:?}"
    );
    assert_eq!(rig.fake.count("GetServiceQuota"), 1);
    // 3 + 1 = 4 fits that quota
    let rig = Rig::new().await;
    rig.fake.st().quotas.insert("L-2AFB9258".into(), 4);
    nodes_at(&rig, 3);
    let p = rig.plan(None, &attach(&rig, "a")).await;
    assert!(errors(&p).is_empty(), "{:?}", p.diagnostics);
}

#[tokio::test]
async fn an_access_whose_group_the_cluster_already_lists_takes_no_slot() {
    let rig = Rig::new().await;
    nodes_at(&rig, 3);
    let mut st = rig.up(None, &attach(&rig, "a")).await;
    // its state says detached, but the cluster lists its group (attached from outside)
    st.set("attach_to_cluster", false.into());
    let again = rig.second_process().await;
    assert_eq!(again.cluster_members(CLUSTER)[0].len(), 4);
    let p = again.plan(Some(&st), &attach(&again, "a")).await;
    assert!(errors(&p).is_empty(), "{:?}", p.diagnostics);
    // a new access: 4 + 1 = 5 fits; counting "a" again would make 6
    let p = again.plan(None, &attach(&again, "b")).await;
    assert!(errors(&p).is_empty(), "{:?}", p.diagnostics);
}

#[tokio::test]
async fn an_update_without_room_fails_unless_revoke_before_authorize() {
    let rig = Rig::new().await;
    let st = rig
        .up(None, &rig.cfg(json!({"allowed_cidr_blocks": cidrs(40, 1)})))
        .await;
    let change = |extra: serde_json::Value| {
        let mut c = rig.cfg(json!({"allowed_cidr_blocks": cidrs(40, 2)}));
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    let p = rig.plan(Some(&st), &change(json!({}))).await;
    let e = errors(&p);
    assert!(
        e.iter().any(|e| e.starts_with("No room to authorize")
            && e.contains("@revoke_before_authorize")
            && e.contains("82 IPv4")
            && e.contains("42 IPv4")),
        "{e:?}"
    );
    let cfg = change(json!({"revoke_before_authorize": true}));
    let p = rig.plan(Some(&st), &cfg).await;
    assert!(errors(&p).is_empty(), "{:?}", p.diagnostics);
    assert!(
        warnings(&p).iter().any(|w| w.contains("40 rules")),
        "{:?}",
        p.diagnostics
    );
    rig.fake.take_log();
    let st2 = rig.up(Some(&st), &cfg).await;
    let log = rig.fake.take_log();
    let first = |op: &str| {
        log.iter()
            .position(|l| l.starts_with(op))
            .unwrap_or(usize::MAX)
    };
    assert!(
        first("RevokeSecurityGroupIngress") < first("AuthorizeSecurityGroupIngress"),
        "{log:?}"
    );
    assert_eq!(
        crate::domain::engine::rig::map(&st2, "ingress_rule_ids").len(),
        42
    );
}

#[tokio::test]
async fn a_plan_whose_inputs_did_not_change_makes_no_check_call() {
    let rig = Rig::new().await;
    lists(&rig, &[(PL_A, 5)]);
    let cfg = rig.cfg(json!({"allowed_prefix_list_ids": [PL_A], "attach_to_cluster": true}));
    let st = rig.up(None, &cfg).await;
    let rig2 = rig.second_process().await;
    rig2.fake.take_log();
    let p = rig2.plan(Some(&st), &cfg).await;
    assert!(p.changes.is_empty() && p.diagnostics.is_empty(), "{:?}", p);
    let log = rig2.fake.take_log();
    for op in [
        "DescribeManagedPrefixLists",
        "GetServiceQuota",
        "DescribeVpcPeeringConnections",
        "DescribeSecurityGroups",
    ] {
        assert!(!log.iter().any(|l| l.starts_with(op)), "{op} in {log:?}");
    }
    let _ = ACCOUNT;
}
