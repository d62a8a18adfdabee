//! The engine against an in-memory cloud that records every call: orderings, call counts, drift,
//! partial failures and retries. (AWS's own error answers are tested through the real SDK client with
//! aws-smithy-mocks in `aws.rs` and `engine/mock_tests.rs`.)

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::*;
use crate::cloud::{ClusterKind, Holders};

#[derive(Default)]
struct World {
    groups: BTreeMap<String, Group>,
    rules: Vec<Rule>,
    clusters: BTreeMap<String, ClusterInfo>,
    /// Groups that only a replication group's later members have (`describe_cluster` reads the first).
    later_member_groups: BTreeMap<String, Vec<String>>,
    next: u32,
    log: Vec<String>,
    /// (operation, error, how many more times)
    faults: Vec<(String, CloudError, u32)>,
}

#[derive(Default, Clone)]
struct Fake(Arc<Mutex<World>>);

fn err(code: &str) -> CloudError {
    CloudError::from_code(code, "injected")
}

impl Fake {
    fn w(&self) -> std::sync::MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn call(&self, op: &str) -> Result<(), CloudError> {
        let mut w = self.w();
        w.log.push(op.to_string());
        if let Some(f) = w.faults.iter_mut().find(|f| f.0 == op && f.2 > 0) {
            f.2 -= 1;
            return Err(f.1.clone());
        }
        Ok(())
    }

    fn fault(&self, op: &str, code: &str, times: u32) {
        self.w().faults.push((op.to_string(), err(code), times));
    }

    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut self.w().log)
    }

    fn id(&self, prefix: &str) -> String {
        let mut w = self.w();
        w.next += 1;
        format!("{prefix}-{:017x}", w.next)
    }

    fn add_rule(
        &self,
        group: &str,
        source: Source,
        port: u16,
        tags: BTreeMap<String, String>,
    ) -> Rule {
        let r = Rule {
            id: self.id("sgr"),
            group_id: group.to_string(),
            is_egress: false,
            protocol: "tcp".into(),
            from_port: port.into(),
            to_port: port.into(),
            source_text: source.key(),
            source: Some(source),
            description: Some("outside".into()),
            tags,
        };
        self.w().rules.push(r.clone());
        r
    }

    fn ingress(&self, group: &str) -> Vec<(String, i64)> {
        let mut v: Vec<(String, i64)> = self
            .w()
            .rules
            .iter()
            .filter(|r| r.group_id == group && !r.is_egress)
            .map(|r| (r.source_text.clone(), r.from_port))
            .collect();
        v.sort();
        v
    }
}

#[async_trait]
impl Cloud for Fake {
    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        _d: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, CloudError> {
        self.call("CreateSecurityGroup")?;
        if self
            .w()
            .groups
            .values()
            .any(|g| g.name == name && g.vpc_id == vpc_id)
        {
            return Err(err("InvalidGroup.Duplicate"));
        }
        let id = self.id("sg");
        let g = Group {
            id: id.clone(),
            name: name.into(),
            vpc_id: vpc_id.into(),
            owner_id: "123456789012".into(),
            tags: tags.clone(),
        };
        self.w().groups.insert(id.clone(), g);
        Ok(id)
    }
    async fn describe_security_groups(&self, ids: &[String]) -> Result<Vec<Group>, CloudError> {
        self.call("DescribeSecurityGroups")?;
        Ok(ids
            .iter()
            .filter_map(|i| self.w().groups.get(i).cloned())
            .collect())
    }
    async fn find_security_groups_by_tag(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<Group>, CloudError> {
        self.call("DescribeSecurityGroups")?;
        Ok(self
            .w()
            .groups
            .values()
            .filter(|g| g.tags.get(key).map(String::as_str) == Some(value))
            .cloned()
            .collect())
    }
    async fn describe_rules(&self, group_ids: &[String]) -> Result<Vec<Rule>, CloudError> {
        self.call("DescribeSecurityGroupRules")?;
        Ok(self
            .w()
            .rules
            .iter()
            .filter(|r| group_ids.contains(&r.group_id))
            .cloned()
            .collect())
    }
    async fn authorize_ingress(
        &self,
        group_id: &str,
        rules: &[RuleSpec],
        tags: &BTreeMap<String, String>,
    ) -> Result<Vec<Rule>, CloudError> {
        self.call("AuthorizeSecurityGroupIngress")?;
        if !self.w().groups.contains_key(group_id) {
            return Err(err("InvalidGroup.NotFound"));
        }
        let dup = rules.iter().any(|s| {
            self.w().rules.iter().any(|r| {
                r.group_id == group_id
                    && r.source.as_ref() == Some(&s.source)
                    && r.is_tcp_port(s.port)
            })
        });
        if dup {
            return Err(err("InvalidPermission.Duplicate"));
        }
        Ok(rules
            .iter()
            .map(|s| {
                let mut r = self.add_rule(group_id, s.source.clone(), s.port, tags.clone());
                r.description = Some(s.description.clone());
                let mut w = self.w();
                if let Some(x) = w.rules.iter_mut().find(|x| x.id == r.id) {
                    x.description = r.description.clone();
                }
                r
            })
            .collect())
    }
    async fn revoke_ingress(&self, _g: &str, rule_ids: &[String]) -> Result<(), CloudError> {
        if rule_ids.is_empty() {
            return Ok(());
        }
        self.call("RevokeSecurityGroupIngress")?;
        self.w().rules.retain(|r| !rule_ids.contains(&r.id));
        Ok(())
    }
    async fn update_rule_descriptions(
        &self,
        _g: &str,
        rules: &[(String, RuleSpec)],
    ) -> Result<(), CloudError> {
        if rules.is_empty() {
            return Ok(());
        }
        self.call("UpdateSecurityGroupRuleDescriptionsIngress")?;
        let mut w = self.w();
        for (id, s) in rules {
            if let Some(r) = w.rules.iter_mut().find(|r| &r.id == id) {
                r.description = Some(s.description.clone());
            }
        }
        Ok(())
    }
    async fn create_tags(
        &self,
        ids: &[String],
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        if ids.is_empty() || tags.is_empty() {
            return Ok(());
        }
        self.call("CreateTags")?;
        let mut w = self.w();
        for id in ids {
            if let Some(g) = w.groups.get_mut(id) {
                g.tags.extend(tags.clone());
            }
            if let Some(r) = w.rules.iter_mut().find(|r| &r.id == id) {
                r.tags.extend(tags.clone());
            }
        }
        Ok(())
    }
    async fn delete_tags(&self, ids: &[String], keys: &[String]) -> Result<(), CloudError> {
        if ids.is_empty() || keys.is_empty() {
            return Ok(());
        }
        self.call("DeleteTags")?;
        let mut w = self.w();
        for id in ids {
            if let Some(g) = w.groups.get_mut(id) {
                g.tags.retain(|k, _| !keys.contains(k));
            }
        }
        Ok(())
    }
    async fn delete_security_group(&self, group_id: &str) -> Result<(), CloudError> {
        self.call("DeleteSecurityGroup")?;
        let referenced = self.w().rules.iter().any(|r| {
            r.group_id != group_id
                && matches!(&r.source, Some(Source::Group { id, .. }) if id == group_id)
        });
        if referenced {
            return Err(err("DependencyViolation"));
        }
        if self.w().groups.remove(group_id).is_none() {
            return Err(err("InvalidGroup.NotFound"));
        }
        self.w().rules.retain(|r| r.group_id != group_id);
        Ok(())
    }
    async fn find_holders(&self, group_id: &str, _vpc: &str) -> Result<Holders, CloudError> {
        self.call("FindHolders")?;
        Ok(Holders {
            network_interfaces: vec!["eni-0123456789abcdef0".into()],
            clusters: vec![],
            referencing_groups: vec![format!("not-{group_id}")],
        })
    }
    async fn describe_cluster(&self, c: &ClusterRef) -> Result<ClusterInfo, CloudError> {
        self.call("DescribeCluster")?;
        let id = c.replication_group_id.clone().unwrap_or_default();
        self.w()
            .clusters
            .get(&id)
            .cloned()
            .ok_or_else(|| err("ReplicationGroupNotFoundFault"))
    }
    async fn cluster_security_groups(&self, c: &ClusterRef) -> Result<Vec<String>, CloudError> {
        self.call("DescribeCacheClusters")?;
        let id = c.replication_group_id.clone().unwrap_or_default();
        let w = self.w();
        let mut groups = w
            .clusters
            .get(&id)
            .map(|i| i.security_group_ids.clone())
            .ok_or_else(|| err("ReplicationGroupNotFoundFault"))?;
        for g in w.later_member_groups.get(&id).into_iter().flatten() {
            if !groups.contains(g) {
                groups.push(g.clone());
            }
        }
        Ok(groups)
    }
    async fn set_cluster_security_groups(
        &self,
        c: &ClusterRef,
        ids: &[String],
    ) -> Result<(), CloudError> {
        self.call("ModifyReplicationGroup")?;
        let id = c.replication_group_id.clone().unwrap_or_default();
        let mut w = self.w();
        w.later_member_groups.remove(&id);
        if let Some(i) = w.clusters.get_mut(&id) {
            i.security_group_ids = ids.to_vec();
        }
        Ok(())
    }
}

const VPC: &str = "vpc-0123456789abcdef0";
const APP: &str = "sg-0aaaaaaaaaaaaaaa1";

fn engine(fake: &Fake) -> Engine {
    Engine::new(
        Arc::new(fake.clone()),
        BTreeMap::from([("env".to_string(), "test".to_string())]),
    )
    .with_backoff(Backoff {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(4),
    })
}

fn config(extra: serde_json::Value) -> Value {
    let mut c = serde_json::json!({"vpc_id": VPC, "name": "app", "allowed_cidr_blocks": ["10.1.2.3/16"], "client_security_group_ids": [APP]});
    if let (Some(o), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    Value::from_json(&c)
}

/// What Terraform does: plan, then apply with the planned state filled in by the apply.
async fn apply(e: &Engine, prior: Option<&Value>, cfg: &Value) -> Result<Value, ApplyError> {
    let p = e.plan(prior, cfg).await;
    assert!(!diag::has_errors(&p.diagnostics), "{:?}", p.diagnostics);
    let new = match prior {
        Some(prior) if !p.replaces() => e.update(prior, &p.planned).await?,
        _ => e.create(&p.planned).await?,
    };
    // Every known planned value must come back identical.
    if let (Value::Map(pm), Value::Map(nm)) = (&p.planned, &new) {
        for (k, v) in pm {
            if v.is_wholly_known() {
                assert_eq!(Some(v), nm.get(k), "apply changed planned {k}");
            }
        }
    }
    assert!(new.is_wholly_known());
    Ok(new)
}

use crate::diag;

fn must(r: Result<Value, ApplyError>) -> Value {
    match r {
        Ok(v) => v,
        Err(e) => panic!("apply failed: {e}"),
    }
}

#[tokio::test]
async fn create_read_update_drift_delete() {
    let fake = Fake::default();
    let e = engine(&fake);
    let cfg = config(serde_json::json!({}));
    let st = must(apply(&e, None, &cfg).await);
    assert_eq!(
        fake.take_log(),
        vec![
            "CreateSecurityGroup",
            "CreateSecurityGroup",
            "AuthorizeSecurityGroupIngress",
            "DescribeSecurityGroups"
        ]
    );
    let cluster = st.get("id").as_str().unwrap_or_default().to_string();
    let client = st
        .get("client_security_group_id")
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut want = vec![
        ("10.1.0.0/16".to_string(), 6379),
        (APP.to_string(), 6379),
        (client.clone(), 6379),
    ];
    want.sort();
    assert_eq!(fake.ingress(&cluster), want);
    assert_eq!(
        st.get("allowed_cidr_blocks"),
        &Value::string_list(["10.1.2.3/16"]),
        "the user's spelling is kept"
    );
    assert_eq!(
        st.get("ingress_rule_ids").as_map().map(|m| m.len()),
        Some(3)
    );
    assert_eq!(
        st.get("tags_all"),
        &Value::from_json(&serde_json::json!({"env": "test"}))
    );
    assert_eq!(
        fake.w().groups.get(&client).map(|g| g.name.clone()),
        Some("app-clients".to_string())
    );

    // read: two calls, nothing changes
    let read = e.read(&st).await.ok().flatten().unwrap_or_default();
    assert_eq!(
        fake.take_log(),
        vec!["DescribeSecurityGroups", "DescribeSecurityGroupRules"]
    );
    assert_eq!(read, st);
    let p = e.plan(Some(&read), &cfg).await;
    assert!(p.changes.is_empty(), "{:?}", p.changes);

    // port change: authorize before revoke; rules only on the new port afterwards
    let cfg2 = config(serde_json::json!({"port": 6380}));
    let p = e.plan(Some(&read), &cfg2).await;
    assert!(!p.replaces());
    let st2 = must(apply(&e, Some(&read), &cfg2).await);
    let log = fake.take_log();
    let auth = log
        .iter()
        .position(|x| x == "AuthorizeSecurityGroupIngress");
    let revoke = log.iter().position(|x| x == "RevokeSecurityGroupIngress");
    assert!(auth.is_some() && auth < revoke, "{log:?}");
    assert_eq!(
        log.iter()
            .filter(|x| *x == "AuthorizeSecurityGroupIngress")
            .count(),
        1
    );
    assert!(fake.ingress(&cluster).iter().all(|(_, p)| *p == 6380));
    assert_eq!(st2.get("port"), &Value::Number(6380.0));

    // drift: a rule revoked outside, a rule added outside
    let cidr_rule = st2
        .get("ingress_rule_ids")
        .get("10.1.0.0/16")
        .as_str()
        .unwrap_or_default()
        .to_string();
    fake.w().rules.retain(|r| r.id != cidr_rule);
    fake.add_rule(
        &cluster,
        Source::Cidr("192.168.0.0/24".parse().unwrap_or_default()),
        6380,
        BTreeMap::new(),
    );
    let drifted = e.read(&st2).await.ok().flatten().unwrap_or_default();
    assert_eq!(drifted.get("allowed_cidr_blocks"), &Value::List(vec![]));
    assert_eq!(
        drifted.get("unmanaged_ingress").as_list().map(|l| l.len()),
        Some(1)
    );
    let p = e.plan(Some(&drifted), &cfg2).await;
    assert!(
        p.changes.iter().any(|c| c.attr == "allowed_cidr_blocks"),
        "the plan re-adds the rule: {:?}",
        p.changes
    );
    fake.take_log();
    let st3 = must(apply(&e, Some(&drifted), &cfg2).await);
    assert!(fake
        .ingress(&cluster)
        .contains(&("10.1.0.0/16".to_string(), 6380)));
    assert_eq!(
        st3.get("unmanaged_ingress").as_list().map(|l| l.len()),
        Some(1),
        "unmanaged rules stay without exclusive_ingress"
    );

    // exclusive_ingress revokes the rule added outside
    let cfg3 = config(serde_json::json!({"port": 6380, "exclusive_ingress": true}));
    let st4 = must(apply(&e, Some(&st3), &cfg3).await);
    assert!(!fake
        .ingress(&cluster)
        .iter()
        .any(|(s, _)| s == "192.168.0.0/24"));
    assert_eq!(st4.get("unmanaged_ingress"), &Value::List(vec![]));

    // delete: cross-reference revoked, client group then cluster group; nothing left
    fake.take_log();
    assert!(e.delete(&st4).await.is_ok());
    assert_eq!(
        fake.take_log(),
        vec![
            "RevokeSecurityGroupIngress",
            "DeleteSecurityGroup",
            "DeleteSecurityGroup"
        ]
    );
    assert!(fake.w().groups.is_empty());
    assert!(
        e.read(&st4).await.ok().flatten().is_none(),
        "gone after delete"
    );
}

#[tokio::test]
async fn failure_halfway_returns_the_partial_state() {
    let fake = Fake::default();
    let e = engine(&fake);
    fake.fault("AuthorizeSecurityGroupIngress", "InternalError", 1);
    let p = e.plan(None, &config(serde_json::json!({}))).await;
    let Err(err) = e.create(&p.planned).await else {
        panic!("create should fail")
    };
    let st = err.state.unwrap_or_default();
    let ids: Vec<String> = fake.w().groups.keys().cloned().collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&st.get("id").as_str().unwrap_or_default().to_string()));
    assert!(ids.contains(
        &st.get("client_security_group_id")
            .as_str()
            .unwrap_or_default()
            .to_string()
    ));
    assert!(st.is_wholly_known());
    assert!(err.diagnostics[0].detail.contains("InternalError"));
    // the partial state deletes cleanly
    assert!(e.delete(&st).await.is_ok());
    assert!(fake.w().groups.is_empty());
}

#[tokio::test]
async fn eventual_consistency_is_retried() {
    let fake = Fake::default();
    let e = engine(&fake);
    fake.fault("AuthorizeSecurityGroupIngress", "InvalidGroup.NotFound", 2);
    let st = apply(&e, None, &config(serde_json::json!({}))).await;
    assert!(st.is_ok(), "{st:?}");
    assert_eq!(
        fake.take_log()
            .iter()
            .filter(|x| *x == "AuthorizeSecurityGroupIngress")
            .count(),
        3
    );
}

#[tokio::test]
async fn eventual_consistency_is_waited_for_within_timeouts_create_only() {
    let fake = Fake::default();
    let e = engine(&fake);
    fake.fault(
        "AuthorizeSecurityGroupIngress",
        "InvalidGroup.NotFound",
        10_000,
    );
    let started = std::time::Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(20),
        apply(
            &e,
            None,
            &config(serde_json::json!({"timeouts": {"create": "50ms"}})),
        ),
    )
    .await
    .unwrap_or_else(|_| panic!("the create waited past timeouts.create"));
    let Err(err) = r else {
        panic!("the create should fail once its timeout has passed")
    };
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.diagnostics[0].detail.contains("InvalidGroup.NotFound"),
        "{:?}",
        err.diagnostics
    );
    // what was made is in the partial state, and deletes cleanly
    let st = err.state.unwrap_or_default();
    assert_eq!(fake.w().groups.len(), 2);
    assert!(st.get("client_security_group_id").as_str().is_some());
    fake.w().faults.clear();
    assert!(e.delete(&st).await.is_ok());
    assert!(fake.w().groups.is_empty());
}

#[tokio::test]
async fn dependency_violation_is_retried_then_explained() {
    let fake = Fake::default();
    let e = engine(&fake);
    let st = must(apply(&e, None, &config(serde_json::json!({}))).await);
    fake.fault("DeleteSecurityGroup", "DependencyViolation", 2);
    assert!(e.delete(&st).await.is_ok());
    assert!(fake.w().groups.is_empty());

    let st = must(
        apply(
            &e,
            None,
            &config(serde_json::json!({"timeouts": {"delete": "50ms"}})),
        )
        .await,
    );
    fake.fault("DeleteSecurityGroup", "DependencyViolation", 10_000);
    let Err(err) = e.delete(&st).await else {
        panic!("delete should fail")
    };
    let d = &err.diagnostics[0];
    assert!(
        d.summary.contains("still in use") && d.detail.contains("eni-0123456789abcdef0"),
        "{d:?}"
    );
    assert!(err.state.is_some(), "the access is still tracked");
}

#[tokio::test]
async fn identical_rule_added_outside_is_adopted_not_duplicated() {
    let fake = Fake::default();
    let e = engine(&fake);
    let st = must(apply(&e, None, &config(serde_json::json!({}))).await);
    let cluster = st.get("id").as_str().unwrap_or_default().to_string();
    fake.add_rule(
        &cluster,
        Source::Cidr("10.9.0.0/16".parse().unwrap_or_default()),
        6379,
        BTreeMap::new(),
    );
    let read = e.read(&st).await.ok().flatten().unwrap_or_default();
    let cfg = config(serde_json::json!({"allowed_cidr_blocks": ["10.1.0.0/16", "10.9.0.0/16"]}));
    let st2 = apply(&e, Some(&read), &cfg).await;
    assert!(st2.is_ok(), "{st2:?}");
    assert_eq!(
        fake.ingress(&cluster)
            .iter()
            .filter(|(s, _)| s == "10.9.0.0/16")
            .count(),
        1
    );
    assert_eq!(
        st2.unwrap_or_default().get("unmanaged_ingress"),
        &Value::List(vec![])
    );
}

#[tokio::test]
async fn import_then_plan_with_matching_config_changes_nothing() {
    let fake = Fake::default();
    let e = engine(&fake);
    let cfg = config(
        serde_json::json!({"allowed_cidr_blocks": ["10.1.0.0/16"], "name": null, "name_prefix": "web-", "description": "web tier", "tags": {"team": "a"}, "allow_public_cidrs": false, "client_ssh_cidr_blocks": ["10.0.0.0/8"]}),
    );
    let st = must(apply(&e, None, &cfg).await);
    let id = st.get("id").as_str().unwrap_or_default().to_string();
    fake.take_log();
    let imported = match e.import(&id).await {
        Ok(v) => v,
        Err(d) => panic!("import failed: {d}"),
    };
    let p = e.plan(Some(&imported), &cfg).await;
    assert!(p.changes.is_empty(), "{:?}", p.changes);
    assert!(!p.replaces());
    assert!(e.import("sg-0ffffffffffffffff").await.is_err());
}

#[tokio::test]
async fn attach_and_detach_keep_other_groups_and_refuse_to_empty() {
    let fake = Fake::default();
    fake.w().clusters.insert(
        "demo".into(),
        ClusterInfo {
            kind: ClusterKind::ReplicationGroup,
            id: "demo".into(),
            vpc_id: Some(VPC.into()),
            port: Some(6390),
            endpoint: Some("demo.cache:6390".into()),
            engine: Some("redis".into()),
            security_group_ids: vec!["sg-0bbbbbbbbbbbbbbb2".into()],
        },
    );
    let e = engine(&fake);
    let cfg = Value::from_json(
        &serde_json::json!({"cluster": {"replication_group_id": "demo"}, "name": "c", "attach_to_cluster": true}),
    );
    let st = must(apply(&e, None, &cfg).await);
    assert_eq!(st.get("port"), &Value::Number(6390.0));
    assert_eq!(st.get("cluster_endpoint"), &Value::from("demo.cache:6390"));
    let id = st.get("id").as_str().unwrap_or_default().to_string();
    assert_eq!(
        fake.w().clusters["demo"].security_group_ids,
        vec!["sg-0bbbbbbbbbbbbbbb2".to_string(), id.clone()]
    );
    // read: two EC2 calls and one ElastiCache call
    fake.take_log();
    let read = e.read(&st).await.ok().flatten().unwrap_or_default();
    assert_eq!(fake.take_log().len(), 3);
    assert_eq!(read.get("attach_to_cluster"), &Value::Bool(true));
    // detached outside → the state says so and the plan re-attaches
    if let Some(c) = fake.w().clusters.get_mut("demo") {
        c.security_group_ids.retain(|s| s != &id);
    }
    let drifted = e.read(&st).await.ok().flatten().unwrap_or_default();
    assert_eq!(drifted.get("attach_to_cluster"), &Value::Bool(false));
    let st = must(apply(&e, Some(&drifted), &cfg).await);
    assert!(fake.w().clusters["demo"].security_group_ids.contains(&id));
    // delete refuses to leave the cluster with no group
    if let Some(c) = fake.w().clusters.get_mut("demo") {
        c.security_group_ids = vec![id.clone()];
    }
    let Err(err) = e.delete(&st).await else {
        panic!("delete should refuse")
    };
    assert!(err.diagnostics[0].summary.contains("no security group"));
    if let Some(c) = fake.w().clusters.get_mut("demo") {
        c.security_group_ids = vec!["sg-0bbbbbbbbbbbbbbb2".into(), id.clone()];
    }
    assert!(e.delete(&st).await.is_ok());
    assert_eq!(
        fake.w().clusters["demo"].security_group_ids,
        vec!["sg-0bbbbbbbbbbbbbbb2".to_string()]
    );
}

#[tokio::test]
async fn attaching_to_a_replication_group_keeps_the_groups_of_every_member() {
    // ModifyReplicationGroup sets the list on every member: a group that only a later member has
    // must be in it, although the cluster's description shows the first member's groups.
    let fake = Fake::default();
    fake.w().clusters.insert(
        "demo".into(),
        ClusterInfo {
            kind: ClusterKind::ReplicationGroup,
            id: "demo".into(),
            vpc_id: Some(VPC.into()),
            port: Some(6379),
            endpoint: None,
            engine: Some("redis".into()),
            security_group_ids: vec!["sg-0bbbbbbbbbbbbbbb2".into()],
        },
    );
    fake.w()
        .later_member_groups
        .insert("demo".into(), vec!["sg-0ccccccccccccccc3".into()]);
    let e = engine(&fake);
    let cfg = Value::from_json(
        &serde_json::json!({"cluster": {"replication_group_id": "demo"}, "name": "m", "attach_to_cluster": true}),
    );
    let st = must(apply(&e, None, &cfg).await);
    let id = st.get("id").as_str().unwrap_or_default().to_string();
    assert_eq!(
        fake.w().clusters["demo"].security_group_ids,
        vec![
            "sg-0bbbbbbbbbbbbbbb2".to_string(),
            "sg-0ccccccccccccccc3".to_string(),
            id
        ]
    );
}

#[tokio::test]
async fn vpc_mismatch_with_cluster_creates_nothing() {
    let fake = Fake::default();
    fake.w().clusters.insert(
        "demo".into(),
        ClusterInfo {
            kind: ClusterKind::ReplicationGroup,
            id: "demo".into(),
            vpc_id: Some("vpc-0ccccccccccccccc3".into()),
            port: Some(6379),
            endpoint: None,
            engine: None,
            security_group_ids: vec![],
        },
    );
    let e = engine(&fake);
    let cfg = Value::from_json(
        &serde_json::json!({"cluster": {"replication_group_id": "demo"}, "vpc_id": VPC}),
    );
    let p = e.plan(None, &cfg).await;
    assert!(p
        .diagnostics
        .iter()
        .any(|d| d.path == Some(AttrPath::attr("vpc_id"))));
    assert!(fake.take_log().iter().all(|c| c == "DescribeCluster"));
}

#[tokio::test]
async fn toggling_the_client_group_in_place() {
    let fake = Fake::default();
    let e = engine(&fake);
    let st = must(apply(&e, None, &config(serde_json::json!({}))).await);
    let off = config(serde_json::json!({"create_client_security_group": false}));
    let p = e.plan(Some(&st), &off).await;
    assert!(!p.replaces());
    let st2 = must(apply(&e, Some(&st), &off).await);
    assert_eq!(fake.w().groups.len(), 1);
    assert!(st2.get("client_security_group_id").is_null());
    let on = config(serde_json::json!({}));
    let st3 = must(apply(&e, Some(&st2), &on).await);
    assert_eq!(fake.w().groups.len(), 2);
    assert!(st3.get("client_security_group_id").as_str().is_some());
}

#[tokio::test]
async fn an_update_waits_within_timeouts_update() {
    // Turning the client group off deletes it during the update: a group still in use is waited
    // for until the update's own timeout, not the (much longer) delete timeout.
    let fake = Fake::default();
    let e = engine(&fake);
    let timeouts = serde_json::json!({"update": "50ms", "delete": "10m"});
    let st = must(apply(&e, None, &config(serde_json::json!({"timeouts": timeouts}))).await);
    let off =
        config(serde_json::json!({"create_client_security_group": false, "timeouts": timeouts}));
    fake.fault("DeleteSecurityGroup", "DependencyViolation", 10_000);
    let started = std::time::Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(20), apply(&e, Some(&st), &off))
        .await
        .unwrap_or_else(|_| panic!("the update waited past timeouts.update"));
    let Err(err) = r else {
        panic!("the update should fail while the client group is in use")
    };
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.diagnostics[0].summary.contains("still in use"),
        "{:?}",
        err.diagnostics
    );
    assert!(err.state.is_some(), "the access is still tracked");
}

#[tokio::test]
async fn a_missing_source_group_fails_at_once_instead_of_waiting() {
    let fake = Fake::default();
    let e = engine(&fake);
    fake.w().faults.push((
        "AuthorizeSecurityGroupIngress".into(),
        CloudError::from_code(
            "InvalidGroup.NotFound",
            "The security group 'sg-0aaaaaaaaaaaaaaa1' does not exist",
        ),
        100,
    ));
    let p = e.plan(None, &config(serde_json::json!({}))).await;
    let started = std::time::Instant::now();
    let Err(err) = e.create(&p.planned).await else {
        panic!("create should fail")
    };
    assert_eq!(
        fake.take_log()
            .iter()
            .filter(|x| *x == "AuthorizeSecurityGroupIngress")
            .count(),
        1,
        "not retried"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.diagnostics[0].detail.contains("sg-0aaaaaaaaaaaaaaa1"));
}
