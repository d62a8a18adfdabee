//! The lifecycle of one access, step by step, each step a test that starts from a freshly created
//! access in its own emulator: create, read, port change, drift, import, description change, delete.

use std::collections::BTreeMap;

use anyhow::Result;
use aws_sdk_ec2::types::{Filter, IpPermission, IpRange};
use elasticache_provider::domain::declaration::value::Value;
use elasticache_tests::Emulator;

use crate::support::*;

/// An access created in its own emulator, with what the steps need.
struct Life {
    emu: Emulator,
    e: Core,
    ec2: aws_sdk_ec2::Client,
    vpc: String,
    app: String,
    /// The state the create returned.
    st: Value,
}

impl Life {
    /// The configuration of the access `life` on `port` (the default when `None`).
    fn config(&self, port: Option<u16>, description: &str) -> Value {
        let mut j = serde_json::json!({"vpc_id": self.vpc, "name": "life", "allowed_cidr_blocks": ["10.8.0.0/16", "fd00:1::/64"], "client_security_group_ids": [self.app], "description": description});
        if let Some(p) = port {
            j["port"] = p.into();
        }
        cfg(j)
    }

    fn cluster(&self) -> String {
        s(self.st.get("id"))
    }

    async fn read(&self, st: &Value) -> Result<Value> {
        self.e
            .read(st)
            .await
            .map_err(|d| anyhow::anyhow!("{d}"))?
            .ok_or_else(|| anyhow::anyhow!("the access is gone"))
    }
}

/// Starts an emulator and creates the access; the create's calls are left in the call log.
async fn life() -> Result<Life> {
    let emu = Emulator::start()?;
    let seed = emu.seed()?;
    let text = |k: &str| seed[k].as_str().unwrap_or_default().to_string();
    let (vpc, app) = (text("vpc_id"), text("app_security_group_id"));
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk_config().await);
    let e = engine(&emu).await?;
    emu.reset_calls()?;
    let mut l = Life {
        emu,
        e,
        ec2,
        vpc,
        app,
        st: Value::Null,
    };
    l.st = apply(&l.e, None, &l.config(None, "app tier")).await?;
    l.emu.settle()?; // a later look at AWS: what the apply made shows
    Ok(l)
}

#[tokio::test(flavor = "multi_thread")]
async fn create_makes_two_groups_and_one_authorize_then_ends_the_lease() -> Result<()> {
    let l = life().await?;
    // AWS's clock read (a lookup of the name), two groups (under a creation lease), one authorize
    // call for all three sources (the owner comes from the groups' ARNs), then the lease ended on
    // both groups at once: `created` set and the lease removed, in two calls made together
    // (`reachability`'s network facts, read once by the process after the create, aside)
    let mut actions: Vec<String> = l
        .emu
        .actions()?
        .into_iter()
        .filter(|a| {
            !matches!(
                a.as_str(),
                "DescribeVpcs"
                    | "DescribeVpcPeeringConnections"
                    | "DescribeNetworkInterfaces"
                    | "DescribeTransitGatewayVpcAttachments"
                    | "DescribeRouteTables"
            )
        })
        .collect();
    // ... and its describe of the referenced group (the seeded app group), the last call
    assert_eq!(actions.pop().as_deref(), Some("DescribeSecurityGroups"));
    // AWS shows a new group only after a while (the emulator's consistency window): the authorize
    // naming the two new groups is tried again until they show; one authorize once they do.
    actions.dedup_by(|a, b| a == b && a == "AuthorizeSecurityGroupIngress");
    let last_two: Vec<String> = {
        let mut t = actions.split_off(actions.len().saturating_sub(2));
        t.sort();
        t
    };
    assert_eq!(
        actions,
        [
            "DescribeSecurityGroups",
            "CreateSecurityGroup",
            "CreateSecurityGroup",
            "AuthorizeSecurityGroupIngress",
        ]
    );
    assert_eq!(last_two, ["CreateTags", "DeleteTags"]);
    let client = s(l.st.get("client_security_group_id"));
    let mut want = vec![
        ("10.8.0.0/16".to_string(), 6379),
        (l.app.clone(), 6379),
        (client, 6379),
        ("fd00:1::/64".to_string(), 6379),
    ];
    want.sort();
    assert_eq!(ingress(&l.ec2, &l.cluster()).await?, want);
    assert!(group_names(&l.ec2, &l.vpc)
        .await?
        .contains(&"life-cluster".to_string()));
    assert_eq!(
        l.st.get("ingress_rule_ids").as_map().map(|m| m.len()),
        Some(4)
    );
    assert_eq!(s(l.st.get("owner_id")).len(), 12);
    assert_eq!(
        l.st.get("tags_all"),
        &cfg(serde_json::json!({"owner": "tests"}))
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_makes_two_ec2_calls_and_finds_nothing_changed() -> Result<()> {
    let l = life().await?;
    l.emu.reset_calls()?;
    let read = l.read(&l.st).await?;
    // the two describes are made at once: in either order
    assert_eq!(
        read_first(l.emu.actions()?),
        ["DescribeSecurityGroupRules", "DescribeSecurityGroups"]
    );
    assert_eq!(read, l.st);
    let p = l.e.plan(Some(&read), &l.config(None, "app tier")).await;
    assert!(p.changes.is_empty(), "{:?}", p.changes);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_change_authorizes_the_new_rules_before_it_revokes_the_old() -> Result<()> {
    let l = life().await?;
    l.emu.reset_calls()?;
    apply(&l.e, Some(&l.st), &l.config(Some(6380), "app tier")).await?;
    l.emu.settle()?; // a later look at AWS: what the apply made shows
    let actions = l.emu.actions()?;
    assert_eq!(
        writes(&actions),
        [
            "AuthorizeSecurityGroupIngress",
            "RevokeSecurityGroupIngress"
        ],
        "{actions:?}"
    );
    let rules = ingress(&l.ec2, &l.cluster()).await?;
    assert_eq!(rules.len(), 4, "{rules:?}");
    assert!(rules.iter().all(|(_, p)| *p == 6380), "{rules:?}");
    Ok(())
}

/// Adds a rule by hand on `group`: SSH from 192.168.7.0/24.
async fn add_by_hand(ec2: &aws_sdk_ec2::Client, group: &str) -> Result<()> {
    let range = IpRange::builder().cidr_ip("192.168.7.0/24").build();
    let perm = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .ip_ranges(range)
        .build();
    ec2.authorize_security_group_ingress()
        .group_id(group)
        .ip_permissions(perm)
        .send()
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_read_back_and_the_next_apply_restores_the_declared_rules() -> Result<()> {
    let l = life().await?;
    let c = l.config(None, "app tier");
    // a managed rule revoked outside, a foreign one added outside
    let cidr_rule = s(l.st.get("ingress_rule_ids").get("10.8.0.0/16"));
    l.ec2
        .revoke_security_group_ingress()
        .group_id(l.cluster())
        .security_group_rule_ids(&cidr_rule)
        .send()
        .await?;
    add_by_hand(&l.ec2, &l.cluster()).await?;
    let drifted = l.read(&l.st).await?;
    assert_eq!(
        drifted.get("allowed_cidr_blocks"),
        &Value::string_list(["fd00:1::/64"])
    );
    let unmanaged = drifted
        .get("unmanaged_ingress")
        .as_list()
        .unwrap_or_default();
    assert_eq!(unmanaged.len(), 1, "{unmanaged:?}");
    assert_eq!(unmanaged[0].get("source"), &Value::from("192.168.7.0/24"));
    let p = l.e.plan(Some(&drifted), &c).await;
    assert!(
        p.changes.iter().any(|c| c.attr == "allowed_cidr_blocks"),
        "{:?}",
        p.changes
    );
    let restored = apply(&l.e, Some(&drifted), &c).await?;
    l.emu.settle()?; // a later look at AWS: what the apply made shows
    assert!(ingress(&l.ec2, &l.cluster())
        .await?
        .contains(&("10.8.0.0/16".to_string(), 6379)));
    let again = l.read(&restored).await?;
    let p = l.e.plan(Some(&again), &c).await;
    assert!(p.changes.is_empty(), "{:?}", p.changes);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_by_the_cluster_group_id_plans_no_change() -> Result<()> {
    let l = life().await?;
    let imported =
        l.e.import(&l.cluster())
            .await
            .map_err(|d| anyhow::anyhow!("{d}"))?;
    let p = l.e.plan(Some(&imported), &l.config(None, "app tier")).await;
    assert!(p.changes.is_empty() && !p.replaces(), "{:?}", p.changes);
    Ok(())
}

/// The descriptions of the ingress rules of `group`, by rule id.
async fn descriptions(ec2: &aws_sdk_ec2::Client, group: &str) -> Result<BTreeMap<String, String>> {
    let f = Filter::builder().name("group-id").values(group).build();
    let out = ec2
        .describe_security_group_rules()
        .filters(f)
        .send()
        .await?;
    Ok(out
        .security_group_rules()
        .iter()
        .filter(|r| r.is_egress() == Some(false))
        .map(|r| {
            (
                r.security_group_rule_id().unwrap_or_default().to_string(),
                r.description().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_description_change_sets_the_rules_in_place_and_the_tag_last() -> Result<()> {
    let l = life().await?;
    add_by_hand(&l.ec2, &l.cluster()).await?;
    let prior = l.read(&l.st).await?;
    let c = l.config(None, "app and batch tiers");
    let p = l.e.plan(Some(&prior), &c).await;
    assert!(!p.replaces(), "{:?}", p.changes);
    l.emu.reset_calls()?;
    let st = apply(&l.e, Some(&prior), &c).await?;
    l.emu.settle()?; // a later look at AWS: what the apply made shows
    let actions = l.emu.actions()?;
    assert_eq!(
        writes(&actions),
        ["UpdateSecurityGroupRuleDescriptionsIngress", "CreateTags"],
        "the rules first, the description tag last: {actions:?}"
    );
    assert_eq!(st.get("ingress_rule_ids"), prior.get("ingress_rule_ids"));
    assert_eq!(st.get("id"), prior.get("id"));
    // the managed rules carry the new description; the rule added by hand is left as it was
    let managed: Vec<String> = st
        .get("ingress_rule_ids")
        .as_map()
        .map(|m| m.values().map(s).collect())
        .unwrap_or_default();
    assert_eq!(managed.len(), 4);
    let descs = descriptions(&l.ec2, &l.cluster()).await?;
    assert_eq!(descs.len(), 5, "{descs:?}");
    for id in &managed {
        let d = descs.get(id).map(String::as_str);
        assert_eq!(d, Some("app and batch tiers"), "{descs:?}");
    }
    let blank = descs.values().filter(|d| d.is_empty()).count();
    assert_eq!(blank, 1, "{descs:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_reads_once_then_leaves_nothing_of_the_access() -> Result<()> {
    let l = life().await?;
    // one read of what AWS holds (so that every rule naming the client group is found), the rule
    // naming the client group revoked, both groups deleted
    l.emu.reset_calls()?;
    l.e.delete(&l.st)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    assert_eq!(
        read_first(l.emu.actions()?),
        [
            "DescribeSecurityGroupRules",
            "DescribeSecurityGroups",
            "RevokeSecurityGroupIngress",
            "DeleteSecurityGroup",
            "DeleteSecurityGroup"
        ]
    );
    let left = group_names(&l.ec2, &l.vpc).await?;
    assert!(!left.iter().any(|n| n.starts_with("life-")), "{left:?}");
    let gone = l.e.read(&l.st).await.map_err(|d| anyhow::anyhow!("{d}"))?;
    assert!(gone.is_none(), "{gone:?}");
    Ok(())
}

/// `actions` with its first two (a read's describes of the groups and of their rules, made at
/// once) in name order.
fn read_first(mut actions: Vec<String>) -> Vec<String> {
    let n = actions.len().min(2);
    actions[..n].sort();
    actions
}
