//! Refresh at scale: concurrent reads of one provider process share their describe calls.

use std::sync::Arc;

use anyhow::Result;
use elasticache_provider::domain::declaration::value::Value;
use elasticache_tests::Emulator;

use crate::support::*;

/// Accesses refreshed together.
const N: usize = 20;

#[tokio::test(flavor = "multi_thread")]
async fn twenty_accesses_refreshed_concurrently_share_a_few_describes() -> Result<()> {
    let emu = Emulator::start()?;
    let seed = emu.seed()?;
    let text = |k: &str| seed[k].as_str().unwrap_or_default().to_string();
    let (vpc, app) = (text("vpc_id"), text("app_security_group_id"));
    let e = engine(&emu).await?;
    let mut states = Vec::new();
    for i in 0..N {
        let c = cfg(
            serde_json::json!({"vpc_id": vpc, "name": format!("scale-{i}"),
            "allowed_cidr_blocks": [format!("10.{i}.0.0/16")], "client_security_group_ids": [app]}),
        );
        states.push(apply(&e, None, &c).await?);
    }
    // sequential reads, each alone in its batch: the reference answers
    let mut alone = Vec::new();
    for st in &states {
        alone.push(e.read(st).await.map_err(|d| anyhow::anyhow!("{d}"))?);
    }
    // a fresh provider process refreshes all of them at once, as Terraform does
    let fresh = Arc::new(engine(&emu).await?);
    emu.reset_calls()?;
    let tasks: Vec<_> = states
        .iter()
        .cloned()
        .map(|st| {
            let f = fresh.clone();
            tokio::spawn(async move { f.read(&st).await.map_err(|d| anyhow::anyhow!("{d}")) })
        })
        .collect();
    let mut together: Vec<Option<Value>> = Vec::new();
    for t in tasks {
        together.push(t.await??);
    }
    let actions = emu.actions()?;
    let count = |a: &str| actions.iter().filter(|x| *x == a).count();
    // The accesses' groups and rules in a few batches, plus the referenced app group once.
    assert!(count("DescribeSecurityGroups") <= 4, "{actions:?}");
    assert!(count("DescribeSecurityGroupRules") <= 3, "{actions:?}");
    // `reachability`'s network facts: once per process and VPC, whatever the number of accesses.
    for once in REACH_FACTS {
        assert_eq!(count(once), 1, "{once}: {actions:?}");
    }
    assert_eq!(
        actions.len(),
        count("DescribeSecurityGroups") + count("DescribeSecurityGroupRules") + REACH_FACTS.len(),
        "{actions:?}"
    );
    assert!(together.iter().all(Option::is_some));
    assert_eq!(together, alone, "the same states as one-by-one reads");
    Ok(())
}

/// The calls `reachability` adds to a refresh (issue 24), each once per provider process and VPC.
/// The transit gateway attachments and route tables decide `path` (transit gateway, peering).
const REACH_FACTS: [&str; 5] = [
    "DescribeNetworkInterfaces",
    "DescribeVpcs",
    "DescribeVpcPeeringConnections",
    "DescribeTransitGatewayVpcAttachments",
    "DescribeRouteTables",
];

/// Issue 11 asked for at most 3 calls; issue 24's `reachability` adds its network facts (5, made
/// together, once per process and VPC) and the describe of a referenced group (1): at most 9.
#[tokio::test(flavor = "multi_thread")]
async fn a_single_access_is_refreshed_in_at_most_nine_calls() -> Result<()> {
    let emu = Emulator::start()?;
    let seed = emu.seed()?;
    let text = |k: &str| seed[k].as_str().unwrap_or_default().to_string();
    let e = engine(&emu).await?;
    let c = cfg(
        serde_json::json!({"vpc_id": text("vpc_id"), "name": "scale-one",
        "allowed_cidr_blocks": ["10.9.0.0/16"], "client_security_group_ids": [text("app_security_group_id")]}),
    );
    let st = apply(&e, None, &c).await?;
    emu.settle()?; // a later look at AWS: what the apply made shows
    let fresh = engine(&emu).await?;
    emu.reset_calls()?;
    let read = fresh.read(&st).await.map_err(|d| anyhow::anyhow!("{d}"))?;
    let actions = emu.actions()?;
    assert!(read.is_some());
    let own: Vec<&String> = actions
        .iter()
        .filter(|a| !REACH_FACTS.contains(&a.as_str()))
        .collect();
    assert!(own.len() <= 4, "{actions:?}");
    assert!(actions.len() <= 9, "{actions:?}");
    Ok(())
}
