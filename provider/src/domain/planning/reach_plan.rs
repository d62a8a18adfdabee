//! `reachability` in a plan and after an apply.
//!
//! [`predict`] builds what the plan knows: the port, the cluster's posture (read at plan time, as
//! its port and VPC are), one source per source the configuration declares (its kind, reference,
//! port range, `public` for CIDRs, and the findings these imply), the prior state's unmanaged
//! sources, and unknown for what only AWS tells (rule ids of new rules, network interface counts,
//! prefix-list entries). [`conform`] fills those unknowns from what the apply observed and keeps
//! every value the plan knew, so that Terraform finds the applied object consistent with the plan;
//! sources and findings that only AWS reveals (rules added by hand since the refresh, public
//! prefix-list entries, network ACLs) appear at the next refresh, which takes AWS's answer whole.

use crate::domain::cloud::{ClusterInfo, ClusterKind};
use crate::domain::declaration::desired::{set_of, Desired};
use crate::domain::declaration::reach::{self, ReachCluster, ReachSource, REACH_SCHEMA_VERSION};
use crate::domain::declaration::value::Value;
use crate::domain::planning::plan::ClusterFacts;
use crate::domain::types::Known;

/// The posture of a described cluster.
pub fn cluster_of(i: &ClusterInfo) -> ReachCluster {
    let kind = match i.kind {
        ClusterKind::ReplicationGroup => "replication_group",
        ClusterKind::CacheCluster => "cache_cluster",
        ClusterKind::Serverless => "serverless",
    };
    ReachCluster {
        id: i.id.clone(),
        kind: kind.into(),
        engine: i.engine.clone().unwrap_or_default().to_ascii_lowercase(),
        transit_encryption: i.posture.transit_encryption,
        authentication: i.posture.authentication.clone(),
    }
}

fn json_value<T: serde::Serialize>(t: &T) -> Value {
    Value::from_json(&serde_json::to_value(t).unwrap_or_default())
}

/// What the plan knows of one declared source.
struct Declared {
    src: ReachSource,
    /// Fields only AWS tells.
    unknown: Vec<&'static str>,
}

impl Declared {
    fn value(&self) -> Value {
        let mut v = json_value(&self.src);
        for f in &self.unknown {
            v.set(f, Value::Unknown);
        }
        v
    }
}

/// The prior state's source with this kind and reference, managed by the access.
fn prior_source<'a>(
    prior: &'a [ReachSource],
    kind: &str,
    reference: &str,
) -> Option<&'a ReachSource> {
    prior
        .iter()
        .find(|s| s.managed && s.kind == kind && s.reference.as_deref() == Some(reference))
}

/// Takes the facts only AWS tells from the prior's source of the same reference, when there is one.
fn with_prior(mut d: Declared, prior: &[ReachSource]) -> Declared {
    let Some(reference) = d.src.reference.clone() else {
        return d;
    };
    if let Some(p) = prior_source(prior, &d.src.kind, &reference) {
        d.src.account = p.account.clone();
        d.src.vpc = p.vpc.clone();
        d.src.path = p.path.clone();
        d.src.network_interfaces = p.network_interfaces;
        d.src.entries = p.entries.clone();
        d.src.public = p.public;
        d.unknown.retain(|f| {
            !matches!(
                *f,
                "account" | "vpc" | "path" | "network_interfaces" | "entries" | "public"
            )
        });
    }
    d
}

fn declared(
    kind: &str,
    reference: Option<String>,
    port: i64,
    unknown: &[&'static str],
) -> Declared {
    Declared {
        src: ReachSource {
            kind: kind.into(),
            reference,
            managed: true,
            path: "unknown".into(),
            from_port: port,
            to_port: port,
            protocol: "tcp".into(),
            ..Default::default()
        },
        unknown: unknown.to_vec(),
    }
}

/// The sources the configuration declares; None while any of them is unknown.
fn declared_sources(d: &Desired, planned: &Value, port: i64) -> Option<Vec<Declared>> {
    let mut out = Vec::new();
    match d.create_client() {
        Known::Known(false) => {}
        Known::Known(true) => {
            let id = planned
                .get("client_security_group_id")
                .as_str()
                .map(str::to_string);
            let mut c = declared(
                "security_group",
                id.clone(),
                port,
                &["reference", "account", "network_interfaces"],
            );
            c.src.path = "same_vpc".into();
            if id.is_some() {
                c.unknown = vec!["account", "network_interfaces"];
            } else {
                // A group created by this apply carries no network interface yet.
                c.src.network_interfaces = Some(0);
                c.unknown = vec!["reference", "account"];
            }
            c.src.vpc = planned.get("vpc_id").as_str().map(str::to_string);
            if c.src.vpc.is_none() {
                c.unknown.push("vpc");
            }
            out.push(c);
        }
        Known::Unknown => return None,
    }
    for g in set_of(&d.client_security_group_ids)? {
        let mut s = declared(
            "security_group",
            Some(g.id().to_string()),
            port,
            &["account", "vpc", "path", "network_interfaces"],
        );
        if let Some(a) = g.account() {
            s.src.account = Some(a.to_string());
            s.unknown.retain(|f| *f != "account");
        }
        out.push(s);
    }
    for c in set_of(&d.allowed_cidr_blocks)? {
        let net = c.net();
        let mut s = declared("cidr", Some(net.to_string()), port, &["path"]);
        s.src.public = !reach::is_private(&net);
        if s.src.public {
            // Public addresses come from the internet: no VPC path leads there.
            s.unknown.clear();
        }
        out.push(s);
    }
    for p in set_of(&d.allowed_prefix_list_ids)? {
        out.push(declared(
            "prefix_list",
            Some(p.as_str().to_string()),
            port,
            &["public", "path", "entries"],
        ));
    }
    Some(out)
}

/// The planned `reachability`: see the module's documentation. `planned` holds the other planned
/// attributes (port, ids, rule ids); `prior` the state's `reachability` (null on create).
pub fn predict(d: &Desired, planned: &Value, cluster: &ClusterFacts, prior: &Value) -> Value {
    let Some(port) = planned.get("port").as_f64().map(|p| p as i64) else {
        return Value::Unknown;
    };
    let prior_sources: Vec<ReachSource> = prior
        .get("sources")
        .to_json()
        .and_then(|j| serde_json::from_value(j).ok())
        .unwrap_or_default();
    let Some(decl) = declared_sources(d, planned, port) else {
        return Value::Unknown;
    };
    let on_group = planned.get("cluster_security_group_id").clone();
    let rule_ids = planned.get("ingress_rule_ids");
    let own = planned.get("owner_id").as_str().map(str::to_string);
    let mut both: Vec<(ReachSource, Value)> = Vec::new();
    for mut s in decl.into_iter().map(|s| with_prior(s, &prior_sources)) {
        if s.src.kind == "security_group" && s.src.account.is_none() && own.is_some() {
            s.src.account = own.clone();
            s.unknown.retain(|f| *f != "account");
        }
        let key = reference_key(&s.src, own.as_deref());
        s.src.on_group = on_group.as_str().map(str::to_string);
        let mut v = s.value();
        v.set("on_group", on_group.clone());
        v.set(
            "rule_id",
            match (rule_ids, key) {
                (Value::Map(m), Some(k)) => m.get(&k).cloned().unwrap_or(Value::Unknown),
                _ => Value::Unknown,
            },
        );
        both.push((s.src, v));
    }
    match d.exclusive() {
        Known::Known(false) => {
            for p in prior_sources.iter().filter(|s| !s.managed) {
                both.push((p.clone(), json_value(p)));
            }
        }
        Known::Known(true) => {}
        Known::Unknown => return Value::Unknown,
    }
    let own_client = planned.get("client_security_group_id").as_str();
    both.sort_by(|a, b| reach::source_order(&a.0, &b.0, own_client));
    let (typed, values): (Vec<ReachSource>, Vec<Value>) = both.into_iter().unzip();
    let cluster_v = match cluster {
        ClusterFacts::None => Some(None),
        ClusterFacts::Known(i) => Some(Some(cluster_of(i))),
        _ => None,
    };
    let findings = match &cluster_v {
        Some(c) => json_value(&reach::findings(port, &typed, c.as_ref())),
        None => Value::Unknown,
    };
    let mut out = Value::Map(Default::default());
    out.set("schema_version", Value::Number(REACH_SCHEMA_VERSION as f64));
    out.set("port", Value::Number(port as f64));
    out.set("sources", Value::List(values));
    out.set(
        "cluster",
        cluster_v.map_or(Value::Unknown, |c| json_value(&c)),
    );
    out.set("findings", findings);
    out
}

/// The key of a declared source in `ingress_rule_ids` (`<account>/sg-...` for another account's
/// group).
fn reference_key(s: &ReachSource, own: Option<&str>) -> Option<String> {
    let r = s.reference.clone()?;
    match (&s.account, own) {
        (Some(a), Some(o)) if s.kind == "security_group" && a != o => Some(format!("{a}/{r}")),
        (Some(a), None) if s.kind == "security_group" => Some(format!("{a}/{r}")),
        _ => Some(r),
    }
}

/// The applied `reachability`: the planned one with its unknowns filled from `observed` (see the
/// module's documentation).
pub fn conform(planned: &Value, observed: &Value) -> Value {
    match (planned, observed) {
        (Value::Unknown, o) => o.clone(),
        (Value::Map(_), Value::Map(_)) => {
            let mut out = planned.clone();
            for k in ["schema_version", "port", "cluster", "findings"] {
                out.set(k, fill(planned.get(k), observed.get(k)));
            }
            out.set(
                "sources",
                conform_sources(planned.get("sources"), observed.get("sources")),
            );
            out
        }
        _ => planned.clone(),
    }
}

/// `planned` with each unknown part taken from `observed` at the same place (null when absent).
fn fill(planned: &Value, observed: &Value) -> Value {
    match planned {
        Value::Unknown => observed.clone(),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), fill(v, observed.get(k))))
                .collect(),
        ),
        Value::List(items) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let o = observed
                        .as_list()
                        .and_then(|l| l.get(i))
                        .unwrap_or(&Value::Null);
                    fill(v, o)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// True when every known field of `planned` equals `observed`'s (the identity fields only).
fn matches(planned: &Value, observed: &Value) -> bool {
    [
        "kind",
        "reference",
        "on_group",
        "managed",
        "from_port",
        "to_port",
    ]
    .iter()
    .all(|f| {
        let p = planned.get(f);
        p.is_unknown() || p == observed.get(f)
    })
}

fn conform_sources(planned: &Value, observed: &Value) -> Value {
    let Some(items) = planned.as_list() else {
        return fill(planned, observed);
    };
    let obs = observed.as_list().unwrap_or_default();
    let mut used = vec![false; obs.len()];
    let mut out = Vec::with_capacity(items.len());
    // Sources the plan fully identifies take their match first, then those it does not.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|i| items[*i].get("reference").is_unknown());
    let mut filled = vec![Value::Null; items.len()];
    for i in order {
        let p = &items[i];
        let m = (0..obs.len()).find(|j| !used[*j] && matches(p, &obs[*j]));
        filled[i] = match m {
            Some(j) => {
                used[j] = true;
                fill(p, &obs[j])
            }
            None => fill(p, &Value::Null),
        };
    }
    out.extend(filled);
    Value::List(out)
}

#[cfg(test)]
#[path = "reach_plan_tests.rs"]
mod tests;
