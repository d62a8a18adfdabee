//! Attach and detach, partial failures, peered and own-account groups, prefix lists and assumed
//! roles: the core against the emulator.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use elasticache_provider::domain::declaration::value::Value;
use elasticache_tests::Emulator;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn attach_to_and_detach_from_a_replication_group() -> Result<()> {
    let emu = Emulator::start()?;
    let seed = emu.seed()?;
    let rg = seed["replication_group_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let ecc = aws_sdk_elasticache::Client::new(&emu.sdk_config().await);
    let e = engine(&emu).await?;
    let groups_of_members = || async {
        let out = ecc.describe_cache_clusters().send().await?;
        let v: Vec<Vec<String>> = out
            .cache_clusters()
            .iter()
            .filter(|c| c.replication_group_id() == Some(rg.as_str()))
            .map(|c| {
                c.security_groups()
                    .iter()
                    .filter_map(|g| g.security_group_id().map(str::to_string))
                    .collect()
            })
            .collect();
        anyhow::Ok(v)
    };
    let before = groups_of_members().await?;
    let c = cfg(
        serde_json::json!({"cluster": {"replication_group_id": rg}, "name": "att", "attach_to_cluster": true}),
    );
    let p = e.plan(None, &c).await;
    assert_eq!(
        p.planned.get("vpc_id"),
        &Value::from(seed["vpc_id"].as_str().unwrap_or_default()),
        "VPC discovered from the subnet group"
    );
    assert_eq!(p.planned.get("port"), &Value::Number(6379.0));
    let st = apply(&e, None, &c).await?;
    emu.settle()?; // a later look at AWS: what the apply made shows
    let id = s(st.get("id"));
    assert!(s(st.get("cluster_endpoint")).ends_with(":6379"));
    for (b, a) in before.iter().zip(groups_of_members().await?) {
        let mut want = b.clone();
        want.push(id.clone());
        assert_eq!(a, want, "the cluster keeps its groups and gains ours");
    }
    // read: three EC2 calls, and the cluster's one describe of this process (this process's attach
    // dropped the earlier one): the replication group and, beside it, each of its members by id
    // (the members this process knows; never a page through the Region's clusters), then the
    // first member's subnet group (read on every describe: it may have been made again in another
    // VPC). It was 7 ElastiCache calls when the membership and the endpoint were described apart.
    emu.reset_calls()?;
    let read = e
        .read(&st)
        .await
        .map_err(|d| anyhow::anyhow!("{d}"))?
        .unwrap_or_default();
    let calls = emu.calls()?;
    // (the third: the rules of the cluster's other groups, for `reachability`; its network facts
    // were read once by this process's apply)
    assert_eq!(
        calls.iter().filter(|c| c.service == "ec2").count(),
        3,
        "{calls:?}"
    );
    let mut actions: Vec<&str> = calls
        .iter()
        .filter(|c| c.service == "elasticache")
        .map(|c| c.action.as_str())
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "DescribeCacheClusters",
            "DescribeCacheClusters",
            "DescribeCacheClusters",
            "DescribeCacheSubnetGroups",
            "DescribeReplicationGroups",
        ],
        "{calls:?}"
    );
    // the next read and plan of this process describe the cluster no more
    emu.reset_calls()?;
    let again = e.read(&read).await.map_err(|d| anyhow::anyhow!("{d}"))?;
    assert_eq!(again.as_ref(), Some(&read));
    e.plan(Some(&read), &c).await;
    let calls = emu.calls()?;
    assert!(calls.iter().all(|c| c.service == "ec2"), "{calls:?}");
    assert_eq!(read.get("attach_to_cluster"), &Value::Bool(true));
    // detach by setting attach_to_cluster = false, then delete
    let c2 = cfg(
        serde_json::json!({"cluster": {"replication_group_id": rg}, "name": "att", "attach_to_cluster": false}),
    );
    let st2 = apply(&e, Some(&read), &c2).await?;
    emu.settle()?; // a later look at AWS: what the apply made shows
    assert_eq!(groups_of_members().await?, before);
    e.delete(&st2)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_halfway_through_create_leaves_a_partial_state_that_deletes_cleanly() -> Result<()>
{
    let emu = Emulator::start()?;
    let seed = emu.seed()?;
    let vpc = seed["vpc_id"].as_str().unwrap_or_default().to_string();
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk_config().await);
    let e = engine(&emu).await?;
    emu.fault(
        "ec2",
        "AuthorizeSecurityGroupIngress",
        "InvalidParameterValue",
        400,
        1,
    )?;
    let c = cfg(serde_json::json!({"vpc_id": vpc, "name": "half"}));
    let p = e.plan(None, &c).await;
    let err = e
        .create(&p.planned)
        .await
        .err()
        .ok_or_else(|| anyhow::anyhow!("create should fail"))?;
    let st = err
        .state
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no partial state"))?;
    emu.settle()?; // the test's own look at AWS: the groups made moments ago show
    let names = group_names(&ec2, &vpc).await?;
    assert!(
        names.contains(&"half-cluster".to_string()) && names.contains(&"half-clients".to_string())
    );
    assert!(
        s(st.get("id")).starts_with("sg-")
            && s(st.get("client_security_group_id")).starts_with("sg-")
    );
    e.delete(&st)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    assert!(!group_names(&ec2, &vpc)
        .await?
        .iter()
        .any(|n| n.starts_with("half-")));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_description_change_keeps_a_peered_accounts_group_rule() -> Result<()> {
    let emu = Emulator::start()?;
    let seed = emu.seed()?;
    let vpc = seed["vpc_id"].as_str().unwrap_or_default().to_string();
    let peer = "111122223333/sg-0123456789abcdef0";
    // AWS accepts another account's group only across an active peering connection
    emu.peering(
        serde_json::json!({"vpc_id": vpc, "peer_account_id": "111122223333",
        "peer_group_ids": ["sg-0123456789abcdef0"]}),
    )?;
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk_config().await);
    let e = engine(&emu).await?;
    let c1 = cfg(
        serde_json::json!({"vpc_id": vpc, "name": "peer", "create_client_security_group": false, "client_security_group_ids": [peer], "description": "peered clients"}),
    );
    let st = apply(&e, None, &c1).await?;
    emu.settle()?; // a later look at AWS: what the apply made shows
    let rule = s(st.get("ingress_rule_ids").get(peer));
    assert!(rule.starts_with("sgr-"), "{st:?}");

    let c2 = cfg(
        serde_json::json!({"vpc_id": vpc, "name": "peer", "create_client_security_group": false, "client_security_group_ids": [peer], "description": "peered and batch clients"}),
    );
    emu.reset_calls()?;
    let st2 = apply(&e, Some(&st), &c2).await?;
    emu.settle()?; // a later look at AWS: what the apply made shows
    assert!(emu
        .actions()?
        .contains(&"UpdateSecurityGroupRuleDescriptionsIngress".to_string()));
    assert_eq!(s(st2.get("ingress_rule_ids").get(peer)), rule);
    let out = ec2
        .describe_security_group_rules()
        .security_group_rule_ids(&rule)
        .send()
        .await?;
    let got = &out.security_group_rules()[0];
    assert_eq!(got.description(), Some("peered and batch clients"));
    let referenced = got.referenced_group_info();
    assert_eq!(
        referenced.and_then(|g| g.group_id()),
        Some("sg-0123456789abcdef0")
    );
    assert_eq!(referenced.and_then(|g| g.user_id()), Some("111122223333"));
    e.delete(&st2)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_of_the_own_account_written_with_its_account_gives_no_diff() -> Result<()> {
    // `<own account>/sg-…` is accepted: AWS reports such a rule without the account, and the
    // access must neither show a perpetual diff nor fail to update it.
    let emu = Emulator::start()?;
    let seed = emu.seed()?;
    let vpc = seed["vpc_id"].as_str().unwrap_or_default().to_string();
    let app = seed["app_security_group_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let e = engine(&emu).await?;
    let st = apply(
        &e,
        None,
        &cfg(serde_json::json!({"vpc_id": vpc, "name": "own", "create_client_security_group": false})),
    )
    .await?;
    emu.settle()?; // a later look at AWS: what the apply made shows
    let own = s(st.get("owner_id"));
    assert_eq!(own.len(), 12);
    let spelled = format!("{own}/{app}");
    let c1 = cfg(
        serde_json::json!({"vpc_id": vpc, "name": "own", "create_client_security_group": false, "client_security_group_ids": [spelled]}),
    );
    let st1 = apply(&e, Some(&st), &c1).await?;
    emu.settle()?; // a later look at AWS: what the apply made shows
    let read = e
        .read(&st1)
        .await
        .map_err(|d| anyhow::anyhow!("{d}"))?
        .unwrap_or_default();
    assert_eq!(
        read.get("client_security_group_ids"),
        &Value::string_list([spelled.as_str()]),
        "the user's spelling is kept"
    );
    let p = e.plan(Some(&read), &c1).await;
    assert!(p.changes.is_empty(), "{:?}", p.changes);
    assert!(!p.planned.get("ingress_rule_ids").is_unknown());

    // a port change updates the rule instead of failing on a duplicate
    let c2 = cfg(
        serde_json::json!({"vpc_id": vpc, "name": "own", "create_client_security_group": false, "client_security_group_ids": [spelled], "port": 6390}),
    );
    let st2 = apply(&e, Some(&read), &c2).await?;
    emu.settle()?; // a later look at AWS: what the apply made shows
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk_config().await);
    let group = s(st2.get("id"));
    assert_eq!(ingress(&ec2, &group).await?, vec![(app.clone(), 6390)]);
    let again = e
        .read(&st2)
        .await
        .map_err(|d| anyhow::anyhow!("{d}"))?
        .unwrap_or_default();
    assert!(e.plan(Some(&again), &c2).await.changes.is_empty());
    e.delete(&again)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_an_access_whose_groups_are_already_gone_succeeds() {
    let emu = Emulator::start().expect("emulator");
    let seed = emu.seed().expect("seed");
    let vpc = seed["vpc_id"].as_str().unwrap_or_default().to_string();
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk_config().await);
    let e = engine(&emu).await.expect("engine");
    let st = apply(
        &e,
        None,
        &cfg(serde_json::json!({"vpc_id": vpc, "name": "gone", "allowed_cidr_blocks": ["10.9.0.0/16"]})),
    )
    .await
    .expect("create");
    emu.settle().expect("settle"); // a later look at AWS: what the apply made shows
    let cluster = s(st.get("id"));
    let client = s(st.get("client_security_group_id"));
    // Someone removed the whole access by hand: the rule that references the client group, then
    // both groups.
    let rule = s(st.get("ingress_rule_ids").get(&client));
    ec2.revoke_security_group_ingress()
        .group_id(&cluster)
        .security_group_rule_ids(&rule)
        .send()
        .await
        .expect("revoke");
    for g in [&client, &cluster] {
        ec2.delete_security_group()
            .group_id(g)
            .send()
            .await
            .expect("delete by hand");
    }
    emu.reset_calls().expect("reset");
    let r = e.delete(&st).await;
    assert!(r.is_ok(), "{:?}", r.err().map(|x| x.to_string()));
    // reads show that nothing is left: nothing to revoke or delete (the groups and their rules
    // asked at once; the groups read again during the consistency wait, as groups made moments
    // before may not show yet)
    let actions = emu.actions().expect("calls");
    assert!(
        actions
            .iter()
            .filter(|a| *a == "DescribeSecurityGroupRules")
            .count()
            == 1
            && actions.iter().any(|a| a == "DescribeSecurityGroups")
            && actions
                .iter()
                .all(|a| a == "DescribeSecurityGroups" || a == "DescribeSecurityGroupRules"),
        "{actions:?}"
    );
    assert!(e.read(&st).await.expect("read").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prefix_list_source_is_created_read_imported_and_deleted() {
    let emu = Emulator::start().expect("emulator");
    let seed = emu.seed().expect("seed");
    let vpc = seed["vpc_id"].as_str().unwrap_or_default().to_string();
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk_config().await);
    let pl = ec2
        .create_managed_prefix_list()
        .prefix_list_name("office")
        .address_family("IPv4")
        .max_entries(5)
        .send()
        .await
        .expect("prefix list")
        .prefix_list()
        .and_then(|p| p.prefix_list_id())
        .unwrap_or_default()
        .to_string();
    assert!(pl.starts_with("pl-"), "{pl}");
    let e = engine(&emu).await.expect("engine");
    let c = cfg(
        serde_json::json!({"vpc_id": vpc, "name": "office", "create_client_security_group": false, "allowed_prefix_list_ids": [pl]}),
    );
    let st = apply(&e, None, &c).await.expect("create");
    emu.settle().expect("settle"); // a later look at AWS: what the apply made shows
    let cluster = s(st.get("id"));
    assert_eq!(
        ingress(&ec2, &cluster).await.expect("rules"),
        vec![(pl.clone(), 6379)]
    );
    assert!(s(st.get("ingress_rule_ids").get(&pl)).starts_with("sgr-"));
    let read = e.read(&st).await.expect("read").unwrap_or_default();
    assert_eq!(read, st);
    assert!(e.plan(Some(&read), &c).await.changes.is_empty());
    let imported = e.import(&cluster).await.expect("import");
    assert_eq!(
        imported.get("allowed_prefix_list_ids"),
        &Value::string_list([pl.as_str()])
    );
    let p = e.plan(Some(&imported), &c).await;
    assert!(p.changes.is_empty() && !p.replaces(), "{:?}", p.changes);
    e.delete(&st).await.expect("delete");
    assert!(e.read(&st).await.expect("read").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn assume_role_signs_the_calls_with_the_roles_credentials() {
    let emu = Emulator::start().expect("emulator");
    let seed = emu.seed().expect("seed");
    let vpc = seed["vpc_id"].as_str().unwrap_or_default().to_string();
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    // STS is reached through the standard per-service variable (only this test calls STS).
    std::env::set_var("AWS_ENDPOINT_URL_STS", &emu.url);
    let role = "arn:aws:iam::123456789012:role/cache-admin";
    let e = connect(
        &emu,
        serde_json::json!({
            "assume_role": {"role_arn": role, "session_name": "ci-plan", "external_id": "ext-42"},
            "default_tags": null,
        }),
    )
    .await
    .expect("connect");
    emu.reset_calls().expect("reset");
    let st = apply(
        &e,
        None,
        &cfg(serde_json::json!({"vpc_id": vpc, "name": "assumed", "create_client_security_group": false})),
    )
    .await
    .expect("create");
    emu.settle().expect("settle"); // a later look at AWS: what the apply made shows
    let calls = emu.calls().expect("calls");
    let assume: Vec<_> = calls.iter().filter(|c| c.action == "AssumeRole").collect();
    assert_eq!(assume.len(), 1, "{calls:?}");
    assert_eq!(assume[0].service, "sts");
    assert_eq!(assume[0].access_key.as_deref(), Some("testing"));
    assert_eq!(
        assume[0].params,
        BTreeMap::from([
            ("ExternalId".to_string(), "ext-42".to_string()),
            ("RoleArn".to_string(), role.to_string()),
            ("RoleSessionName".to_string(), "ci-plan".to_string()),
        ])
    );
    // every EC2 call is signed with the role's temporary key, not the base one
    let ec2_keys: BTreeSet<_> = calls
        .iter()
        .filter(|c| c.service == "ec2")
        .map(|c| c.access_key.clone().unwrap_or_default())
        .collect();
    assert_eq!(ec2_keys.len(), 1, "{calls:?}");
    assert!(!ec2_keys.contains("testing"), "{ec2_keys:?}");
    e.delete(&st).await.expect("delete");
}
