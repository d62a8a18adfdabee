//! The lifecycle table and its runner.

use std::collections::BTreeSet;

use serde_json::json;

use super::pulumi::Pulumi;
use super::terraform::Terraform;
use super::{ok, service, Driver, Planned};
use crate::domain::declaration::value::Value;
use crate::domain::engine::rig::{Rig, CLUSTER, CLUSTER_B};
use crate::pulumi::server::Provider;
use crate::terraform::server::ProviderService;

/// What happens between the create and the plan of `then`.
#[derive(Clone, Copy)]
enum Step {
    Nothing,
    /// A change made outside the provider, then a refresh.
    Drift(fn(&Rig, &Value)),
    /// The access imported by its id (a new state), then planned.
    Import,
    /// The provider configured again with this `default_tags.tags`, then a refresh.
    DefaultTags(&'static [(&'static str, &'static str)]),
}

/// One scenario; configurations are the rig's (`name = "app"`, the rig's cluster, its app group as
/// client) plus the given inputs.
struct Case {
    name: &'static str,
    /// The inputs at create.
    create: serde_json::Value,
    step: Step,
    /// The inputs planned and applied after the step.
    then: serde_json::Value,
    /// The inputs that plan changes.
    changes: &'static [&'static str],
    replaces: bool,
    /// A fault on the first apply of `then`: (AWS call, error code). That apply fails, its state is
    /// what a refresh reads, the next plan still shows a change, and a plain re-apply converges.
    fault: Option<(&'static str, &'static str)>,
}

const PROVIDER: &str = r#"{"region": "us-east-1"}"#;

fn case(
    name: &'static str,
    create: serde_json::Value,
    then: serde_json::Value,
    changes: &'static [&'static str],
) -> Case {
    Case {
        name,
        create,
        step: Step::Nothing,
        then,
        changes,
        replaces: false,
        fault: None,
    }
}

fn revoke_the_first_cidr_rule(rig: &Rig, st: &Value) {
    let id = st
        .get("ingress_rule_ids")
        .get("10.1.0.0/16")
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!id.is_empty(), "no rule for 10.1.0.0/16 in {st:?}");
    rig.fake.st().rules.retain(|r| r.id != id);
}

/// A creation lease still on a recorded access (a failed create whose lease could not be ended):
/// the refresh after it must end it, and the plan shows nothing.
fn leave_a_lease_on_the_cluster_group(rig: &Rig, st: &Value) {
    let id = st.get("id").as_str().unwrap_or_default().to_string();
    let mut s = rig.fake.st();
    let g = s.groups.get_mut(&id).expect("the cluster group");
    g.tags.remove(crate::domain::engine::bookkeeping::CREATED);
    g.tags.insert(
        crate::domain::engine::bookkeeping::CREATING.into(),
        "v2:failed0:1".into(),
    );
}

fn table() -> Vec<Case> {
    let cidr = || json!({"allowed_cidr_blocks": ["10.1.0.0/16"]});
    let attached = || json!({"attach_to_cluster": true});
    vec![
        case("the same configuration", cidr(), cidr(), &[]),
        case(
            "port change",
            cidr(),
            json!({"allowed_cidr_blocks": ["10.1.0.0/16"], "port": 6380}),
            &["port"],
        ),
        Case {
            fault: Some(("RevokeSecurityGroupIngress", "AccessDenied")),
            ..case(
                "port change whose revoke fails",
                cidr(),
                json!({"allowed_cidr_blocks": ["10.1.0.0/16"], "port": 6380}),
                &["port"],
            )
        },
        case(
            "port removed: the cluster's port",
            json!({"port": 6380}),
            json!({}),
            &["port"],
        ),
        case(
            "description change",
            json!({}),
            json!({"description": "batch"}),
            &["description"],
        ),
        Case {
            fault: Some(("UpdateSecurityGroupRuleDescriptionsIngress", "AccessDenied")),
            ..case(
                "description change whose rule update fails",
                json!({}),
                json!({"description": "batch"}),
                &["description"],
            )
        },
        Case {
            replaces: true,
            ..case(
                "name change replaces",
                json!({}),
                json!({"name": "app2"}),
                &["name"],
            )
        },
        case(
            "network added",
            cidr(),
            json!({"allowed_cidr_blocks": ["10.1.0.0/16", "10.2.0.0/16"]}),
            &["allowed_cidr_blocks"],
        ),
        Case {
            fault: Some(("AuthorizeSecurityGroupIngress", "AccessDenied")),
            ..case(
                "network added whose authorize fails",
                cidr(),
                json!({"allowed_cidr_blocks": ["10.1.0.0/16", "10.2.0.0/16"]}),
                &["allowed_cidr_blocks"],
            )
        },
        case(
            "client group removed",
            json!({}),
            json!({"client_security_group_ids": []}),
            &["client_security_group_ids"],
        ),
        case(
            "ssh network added",
            json!({}),
            json!({"client_ssh_cidr_blocks": ["10.3.0.0/16"]}),
            &["client_ssh_cidr_blocks"],
        ),
        case(
            "tags added",
            json!({}),
            json!({"tags": {"team": "x"}}),
            &["tags"],
        ),
        Case {
            fault: Some(("CreateTags", "AccessDenied")),
            ..case(
                "tags added whose tagging fails",
                json!({}),
                json!({"tags": {"team": "x"}}),
                &["tags"],
            )
        },
        case("attach", json!({}), attached(), &["attach_to_cluster"]),
        Case {
            fault: Some(("ModifyCluster", "AccessDenied")),
            ..case(
                "detach whose cluster change fails",
                attached(),
                json!({"attach_to_cluster": false}),
                &["attach_to_cluster"],
            )
        },
        Case {
            fault: Some(("ModifyCluster", "AccessDenied")),
            ..case(
                "attached cluster moved, the move fails",
                attached(),
                json!({"attach_to_cluster": true, "cluster": {"replication_group_id": CLUSTER_B}}),
                &["cluster"],
            )
        },
        Case {
            step: Step::Drift(revoke_the_first_cidr_rule),
            ..case(
                "a rule revoked outside",
                cidr(),
                cidr(),
                &["allowed_cidr_blocks"],
            )
        },
        Case {
            step: Step::Import,
            ..case("import", cidr(), cidr(), &[])
        },
        case(
            "own client group dropped: deleted",
            json!({}),
            json!({"create_client_security_group": false}),
            &["create_client_security_group"],
        ),
        Case {
            step: Step::Drift(leave_a_lease_on_the_cluster_group),
            ..case(
                "a creation lease left on a recorded access: the refresh ends it",
                cidr(),
                cidr(),
                &[],
            )
        },
        Case {
            step: Step::DefaultTags(&[("team", "b")]),
            ..case("default_tags added", json!({}), json!({}), &[])
        },
    ]
}

/// What a case produced, compared between the engines.
#[derive(Debug, PartialEq)]
struct Trace {
    plan: Planned,
    end: Value,
    /// The calls that changed something in the cloud, in order.
    writes: Vec<String>,
}

/// A trace without what the engines may legitimately show differently: on a replacement, Pulumi's
/// detailed diff lists the inputs only and its create preview has no id, where Terraform's plan shows
/// every output to be recomputed as unknown.
fn comparable(t: &Trace) -> Trace {
    let mut plan = t.plan.clone();
    if plan.replaces {
        plan.pending.clear();
        plan.planned.set("id", Value::Null);
    }
    Trace {
        plan,
        end: t.end.clone(),
        writes: t.writes.clone(),
    }
}

fn is_write(call: &str) -> bool {
    [
        "Create",
        "Authorize",
        "Revoke",
        "Update",
        "Delete",
        "Modify",
    ]
    .iter()
    .any(|p| call.starts_with(p))
}

fn want(cond: bool, d: &dyn Driver, c: &Case, what: &str) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(format!("{} / {}: {what}", d.engine(), c.name))
    }
}

/// Refreshes `st` and requires that the refresh finds exactly `st`.
async fn true_state(d: &dyn Driver, c: &Case, st: &Value, when: &str) -> Result<Value, String> {
    let fresh = d
        .read(st)
        .await?
        .ok_or(format!("{} / {}: gone {when}", d.engine(), c.name))?;
    want(
        &fresh == st,
        d,
        c,
        &format!("{when}, the state {st:?}\n is not what the cloud holds: {fresh:?}"),
    )?;
    Ok(fresh)
}

async fn prepare(rig: &Rig, d: &dyn Driver, c: &Case) -> Result<Value, String> {
    d.configure(&serde_json::from_str(PROVIDER).unwrap_or_default())
        .await?;
    let first = rig.cfg(c.create.clone());
    let st = ok(d.apply(None, &first).await)?;
    let p = d.plan(Some(&st), &first).await?;
    want(
        p.pending.is_empty() && !p.replaces,
        d,
        c,
        &format!("no-op plan after create: {p:?}"),
    )?;
    let st = true_state(d, c, &st, "after create").await?;
    match c.step {
        Step::Nothing => Ok(st),
        Step::Drift(f) => {
            f(rig, &st);
            d.read(&st).await?.ok_or_else(|| "gone after drift".into())
        }
        Step::Import => d.import(st.get("id").as_str().unwrap_or_default()).await,
        Step::DefaultTags(tags) => {
            let tags: serde_json::Map<String, serde_json::Value> = tags
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            d.configure(&json!({"region": "us-east-1", "default_tags": {"tags": tags}}))
                .await?;
            d.read(&st)
                .await?
                .ok_or_else(|| "gone after reconfigure".into())
        }
    }
}

/// The apply of `then` with the case's fault: it fails, and leaves a true state whose plan retries.
async fn failing(
    rig: &Rig,
    d: &dyn Driver,
    c: &Case,
    prior: Value,
    then: &serde_json::Value,
) -> Result<Value, String> {
    let Some((op, code)) = c.fault else {
        return Ok(prior);
    };
    rig.fake.fail(op, code, 1);
    let o = d.apply(Some(&prior), then).await;
    rig.fake.clear_faults();
    let err = o.error.clone().unwrap_or_default();
    want(
        err.contains(code),
        d,
        c,
        &format!("the apply should fail with {code}: {o:?}"),
    )?;
    let kept = o.state.ok_or(format!(
        "{} / {}: no state after the failure",
        d.engine(),
        c.name
    ))?;
    let kept = true_state(d, c, &kept, "after the failed apply").await?;
    let p = d.plan(Some(&kept), then).await?;
    want(
        !p.pending.is_empty(),
        d,
        c,
        "after the failed apply the next plan shows nothing to retry",
    )?;
    Ok(kept)
}

async fn run(rig: &Rig, d: &dyn Driver, c: &Case) -> Result<Trace, String> {
    let prior = prepare(rig, d, c).await?;
    let then = rig.cfg(c.then.clone());
    let plan = d.plan(Some(&prior), &then).await?;
    let changes: BTreeSet<String> = c.changes.iter().map(|s| s.to_string()).collect();
    want(
        plan.changes == changes,
        d,
        c,
        &format!("planned changes {:?}, want {changes:?}", plan.changes),
    )?;
    want(
        plan.replaces == c.replaces,
        d,
        c,
        &format!("replaces: {}", plan.replaces),
    )?;
    let prior = failing(rig, d, c, prior, &then).await?;
    let done = ok(d.apply(Some(&prior), &then).await)
        .map_err(|e| format!("{} / {}: apply: {e}", d.engine(), c.name))?;
    let done = true_state(d, c, &done, "after the apply").await?;
    let again = d.plan(Some(&done), &then).await?;
    want(
        again.pending.is_empty() && !again.replaces,
        d,
        c,
        &format!("the plan after the apply is not empty: {again:?}"),
    )?;
    d.delete(&done).await?;
    let left: Vec<String> = rig
        .fake
        .st()
        .groups
        .values()
        .map(|g| g.name.clone())
        .filter(|n| n.starts_with("app"))
        .filter(|n| n != "app")
        .collect();
    want(
        left.is_empty(),
        d,
        c,
        &format!("left after destroy: {left:?}"),
    )?;
    for cl in [CLUSTER, CLUSTER_B] {
        let members = rig.cluster_members(cl);
        want(
            members
                .iter()
                .all(|m| m == &vec![rig.default_group.clone()]),
            d,
            c,
            &format!("{cl} after destroy: {members:?}"),
        )?;
    }
    let writes = rig
        .fake
        .take_log()
        .into_iter()
        .filter(|c| is_write(c))
        .collect();
    Ok(Trace {
        plan,
        end: done,
        writes,
    })
}

async fn terraform(c: &Case) -> Result<Trace, String> {
    let rig = Rig::unconfigured();
    let d = Terraform(ProviderService::with_service(service(&rig)));
    run(&rig, &d, c).await
}

async fn pulumi(c: &Case) -> Result<Trace, String> {
    let rig = Rig::unconfigured();
    let d = Pulumi(Provider::with_service(service(&rig), None));
    run(&rig, &d, c).await
}

/// A case's run, failed when it takes longer than any case should (a retry loop that never ends).
async fn bounded(
    c: &Case,
    run: impl std::future::Future<Output = Result<Trace, String>>,
) -> Result<Trace, String> {
    tokio::time::timeout(std::time::Duration::from_secs(20), run)
        .await
        .unwrap_or_else(|_| Err(format!("{}: did not finish within 20 s", c.name)))
}

#[tokio::test]
async fn every_case_through_both_adapters_ends_true_and_the_same() {
    let mut failures = Vec::new();
    let cases = table();
    for c in &cases {
        match (bounded(c, terraform(c)).await, bounded(c, pulumi(c)).await) {
            (Ok(t), Ok(p)) if comparable(&t) == comparable(&p) => {}
            (Ok(t), Ok(p)) => failures.push(format!(
                "{}: the engines differ:\n terraform {t:?}\n pulumi    {p:?}",
                c.name
            )),
            (t, p) => failures.extend([t.err(), p.err()].into_iter().flatten()),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
