//! AWS's eventual consistency and slow cluster changes, as the emulator models them (its realism is
//! on by default; each test sets the window it needs): an update or a delete moments after the
//! create, a revoke AWS refuses before it sees the rule, a client group made moments before the
//! access, and a serverless cache whose last group the access would remove.

use anyhow::Result;
use elasticache_provider::domain::declaration::value::Value;
use elasticache_tests::Emulator;

use crate::support::*;

/// How long the emulator hides a new group or rule in these tests.
const DELAY: f64 = 3.0;

struct World {
    emu: Emulator,
    e: Core,
    ec2: aws_sdk_ec2::Client,
    vpc: String,
    app: String,
}

async fn world() -> Result<World> {
    let emu = Emulator::start()?;
    let seed = emu.seed()?;
    let text = |k: &str| seed[k].as_str().unwrap_or_default().to_string();
    let (vpc, app) = (text("vpc_id"), text("app_security_group_id"));
    emu.configure(serde_json::json!({"consistency_delay": DELAY}))?;
    let ec2 = aws_sdk_ec2::Client::new(&emu.sdk_config().await);
    let e = engine(&emu).await?;
    Ok(World {
        emu,
        e,
        ec2,
        vpc,
        app,
    })
}

impl World {
    /// An access with its own client group, the seeded app group and a CIDR, on `port`; the delete
    /// timeout is short, so that a delete that cannot finish fails within the test.
    fn config(&self, port: u16) -> Value {
        cfg(
            serde_json::json!({"vpc_id": self.vpc, "name": "young", "port": port,
            "allowed_cidr_blocks": ["10.8.0.0/16"], "client_security_group_ids": [self.app],
            "create_client_security_group": true, "timeouts": {"delete": "30s", "update": "30s"}}),
        )
    }

    async fn groups(&self) -> Result<Vec<String>> {
        self.emu.settle()?;
        group_names(&self.ec2, &self.vpc).await
    }
}

/// A destroy at once after the create: the rule naming the client group was authorized moments
/// before and AWS does not list it yet. The read waits for the rules the state recorded, so the
/// rule is revoked and both groups go (before: the rule was not seen, and the client group's
/// delete met DependencyViolation until the timeout).
#[tokio::test(flavor = "multi_thread")]
async fn a_delete_moments_after_the_create_revokes_the_new_rules_and_deletes_both_groups(
) -> Result<()> {
    let w = world().await?;
    let st = apply(&w.e, None, &w.config(6379)).await?;
    w.e.delete(&st)
        .await
        .map_err(|err| anyhow::anyhow!("delete: {err}"))?;
    let names = w.groups().await?;
    assert!(
        !names.iter().any(|n| n.starts_with("young")),
        "left behind: {names:?}"
    );
    Ok(())
}

/// A port change at once after the create: the old rules, not listed yet, are still found and
/// revoked, and the state holds every rule (before: the old rules stayed, open, and unrecorded).
#[tokio::test(flavor = "multi_thread")]
async fn an_update_moments_after_the_create_revokes_the_rules_it_replaces() -> Result<()> {
    let w = world().await?;
    let st = apply(&w.e, None, &w.config(6379)).await?;
    let cluster = s(st.get("id"));
    let st2 = apply(&w.e, Some(&st), &w.config(6380)).await?;
    w.emu.settle()?;
    let rules = ingress(&w.ec2, &cluster).await?;
    assert_eq!(rules.len(), 3, "{rules:?}");
    assert!(rules.iter().all(|(_, p)| *p == 6380), "{rules:?}");
    assert_eq!(
        st2.get("ingress_rule_ids").as_map().map(|m| m.len()),
        Some(3)
    );
    Ok(())
}

/// AWS lists a rule before its revoke sees it: RevokeSecurityGroupIngress answers
/// InvalidSecurityGroupRuleId.NotFound twice for a rule DescribeSecurityGroupRules shows. The
/// revoke is tried again within the consistency wait (before: "Failed to revoke the old ingress
/// rules").
#[tokio::test(flavor = "multi_thread")]
async fn a_revoke_that_does_not_see_the_rule_yet_is_tried_again() -> Result<()> {
    let w = world().await?;
    let st = apply(&w.e, None, &w.config(6379)).await?;
    let cluster = s(st.get("id"));
    w.emu.settle()?;
    w.emu.fault(
        "ec2",
        "RevokeSecurityGroupIngress",
        "InvalidSecurityGroupRuleId.NotFound",
        400,
        2,
    )?;
    apply(&w.e, Some(&st), &w.config(6380)).await?;
    w.emu.settle()?;
    let rules = ingress(&w.ec2, &cluster).await?;
    assert!(rules.iter().all(|(_, p)| *p == 6380), "{rules:?}");
    Ok(())
}

/// A client group made moments before (by the same apply, say) added to an access: AWS answers
/// InvalidGroup.NotFound for the rule that names it until it shows, and the update waits for it
/// (before: the update failed). (In a create the access's own new groups are waited for anyway.)
#[tokio::test(flavor = "multi_thread")]
async fn a_client_group_made_moments_before_is_waited_for() -> Result<()> {
    let w = world().await?;
    let c = |clients: Vec<String>| {
        cfg(serde_json::json!({"vpc_id": w.vpc, "name": "fresh-client",
            "create_client_security_group": false, "allowed_cidr_blocks": ["10.8.0.0/16"],
            "client_security_group_ids": clients}))
    };
    let st = apply(&w.e, None, &c(vec![])).await?;
    w.emu.settle()?;
    let young = w
        .ec2
        .create_security_group()
        .group_name("made-just-now")
        .description("a client group made moments before")
        .vpc_id(&w.vpc)
        .send()
        .await?
        .group_id()
        .unwrap_or_default()
        .to_string();
    let st2 = apply(&w.e, Some(&st), &c(vec![young.clone()])).await?;
    w.emu.settle()?;
    let rules = ingress(&w.ec2, &s(st2.get("id"))).await?;
    assert!(rules.contains(&(young, 6379)), "{rules:?}");
    Ok(())
}

/// A serverless cache whose only security group is the access's: the destroy refuses to detach
/// it, naming what to do, and the cache keeps its group; AWS would otherwise put the cache on the
/// VPC's default group (terraform-provider-aws #43027), which the emulator does. The attach before
/// it sends ModifyServerlessCache with SecurityGroupIds alone (the emulator refuses two fields).
#[tokio::test(flavor = "multi_thread")]
async fn a_serverless_cache_is_never_left_on_the_default_group() -> Result<()> {
    let emu = Emulator::start()?;
    let seed = emu.seed()?;
    emu.configure(serde_json::json!({"modify_window": 0.5}))?;
    let ecc = aws_sdk_elasticache::Client::new(&emu.sdk_config().await);
    let subnets: Vec<String> = seed["subnet_ids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    ecc.create_serverless_cache()
        .serverless_cache_name("sessions")
        .engine("valkey")
        .set_subnet_ids(Some(subnets))
        .send()
        .await?;
    let groups_of = || async {
        let out = ecc
            .describe_serverless_caches()
            .serverless_cache_name("sessions")
            .send()
            .await?;
        anyhow::Ok(
            out.serverless_caches()
                .first()
                .map(|c| c.security_group_ids().to_vec())
                .unwrap_or_default(),
        )
    };
    let e = engine(&emu).await?;
    let c = cfg(
        serde_json::json!({"cluster": {"serverless_cache_name": "sessions"}, "name": "sl",
        "attach_to_cluster": true, "timeouts": {"delete": "20s"}}),
    );
    let st = apply(&e, None, &c).await?;
    let cg = s(st.get("id"));
    assert!(groups_of().await?.contains(&cg));
    // someone leaves the access's group as the cache's only one
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    ecc.modify_serverless_cache()
        .serverless_cache_name("sessions")
        .security_group_ids(&cg)
        .send()
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let before = emu.modifications()?["modifications"]
        .as_array()
        .map(Vec::len);
    emu.settle()?; // what this test is about is the detach, not the consistency window
    let err = e.delete(&st).await.expect_err("the delete must refuse");
    let why = err.to_string();
    assert!(why.contains("no security group"), "{why}");
    assert!(why.contains("Attach another security group"), "{why}");
    assert_eq!(groups_of().await?, [cg]);
    assert_eq!(
        emu.modifications()?["modifications"]
            .as_array()
            .map(Vec::len),
        before,
        "no modification was sent"
    );
    Ok(())
}

/// The seeded replication group's id, and an access attached to it named `name`.
fn attached(seed: &serde_json::Value, name: &str) -> (String, Value) {
    let rg = seed["replication_group_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let c = cfg(
        serde_json::json!({"cluster": {"replication_group_id": rg}, "name": name,
        "attach_to_cluster": true, "create_client_security_group": false,
        "allowed_cidr_blocks": ["10.8.0.0/16"]}),
    );
    (rg, c)
}

/// Another process's modification is under way (the cluster is `modifying` for 3 s): the attach
/// waits for the cluster to be available and writes once; AWS refuses no modification (before the
/// wait, the write during the window was refused with InvalidReplicationGroupState).
#[tokio::test(flavor = "multi_thread")]
async fn an_attach_waits_while_another_process_modifies_the_cluster() -> Result<()> {
    let emu = Emulator::start()?;
    let seed = emu.seed()?;
    // the cluster's window is what is shown: new groups show at once here
    emu.configure(serde_json::json!({"modify_window": 3.0, "consistency_delay": 0}))?;
    let (_, first) = attached(&seed, "first");
    let (_, second) = attached(&seed, "second");
    let (a, b) = (engine(&emu).await?, engine(&emu).await?);
    apply(&a, None, &first).await?;
    let started = std::time::Instant::now();
    apply(&b, None, &second).await?;
    let m = emu.modifications()?;
    assert_eq!(m["accepted"], 2, "{m}");
    assert_eq!(m["refused"], 0, "{m}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    Ok(())
}

/// A replication group in `snapshotting` refuses modifications: the attach waits until the
/// snapshot ends, while a refresh of another access of the cluster answers at once.
#[tokio::test(flavor = "multi_thread")]
async fn an_attach_waits_while_the_cluster_snapshots_and_a_refresh_does_not() -> Result<()> {
    let emu = Emulator::start()?;
    let seed = emu.seed()?;
    emu.configure(serde_json::json!({"modify_window": 0.2, "consistency_delay": 0}))?;
    let (rg, first) = attached(&seed, "first");
    let (_, second) = attached(&seed, "second");
    let e = engine(&emu).await?;
    let st = apply(&e, None, &first).await?;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    emu.configure(serde_json::json!({"snapshotting": [rg]}))?;
    let other = engine(&emu).await?;
    let p = other.plan(None, &second).await;
    let attaching = tokio::spawn(async move { other.create(&p.planned).await });
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(!attaching.is_finished(), "the attach did not wait");
    let t = std::time::Instant::now();
    let read = engine(&emu).await?.read(&st).await;
    // A refresh that waited for the snapshot would not return before it ends (cleared below);
    // 8 s leaves room for a loaded machine (2 s failed once under CI plus a build) while staying
    // far below any wait of an attach.
    assert!(
        t.elapsed() < std::time::Duration::from_secs(8),
        "the refresh waited"
    );
    assert!(matches!(read, Ok(Some(_))), "{read:?}");
    emu.configure(serde_json::json!({"snapshotting": []}))?;
    attaching
        .await?
        .map_err(|err| anyhow::anyhow!("attach: {err}"))?;
    let m = emu.modifications()?;
    assert_eq!(m["accepted"], 2, "{m}");
    assert_eq!(m["refused"], 0, "{m}");
    Ok(())
}
