//! A test rig: the service over the fake cloud, driven the way Terraform drives a provider (plan,
//! then apply the planned state; refresh before each plan), shared by the engine's tests and the
//! adapters' lifecycle tables.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use super::fake::{FakeCloud, FakeCluster, FakeSigner};
use super::Backoff;
use crate::domain::cloud::ClusterKind;
use crate::domain::declaration::settings::AwsSettings;
use crate::domain::declaration::value::Value;
use crate::domain::diag::Diagnostic;
use crate::domain::planning::plan::Plan;
use crate::domain::service::{Applied, Apply, Connected, Connector, Service};

pub const VPC: &str = "vpc-0123456789abcdef0";
pub const CLUSTER: &str = "redis";
pub const CLUSTER_B: &str = "redis-b";

/// Hands out the fake cloud (and a fake token signer) and counts the connections made.
pub struct FakeConnector {
    pub fake: FakeCloud,
    pub signer: FakeSigner,
    pub connects: AtomicUsize,
}

impl FakeConnector {
    pub fn new(fake: FakeCloud) -> Self {
        FakeConnector {
            fake,
            signer: FakeSigner::default(),
            connects: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl Connector for FakeConnector {
    async fn connect(&self, _s: &AwsSettings) -> Result<Connected, Vec<Diagnostic>> {
        self.connects.fetch_add(1, Ordering::SeqCst);
        Ok(Connected {
            cloud: Arc::new(self.fake.clone()),
            signer: Arc::new(self.signer.clone()),
        })
    }
}

pub fn fast() -> Backoff {
    Backoff {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(4),
        consistency: Duration::from_millis(30),
    }
}

/// A replication group of two members in [`VPC`], using only `default_group`.
pub fn replication_group(default_group: &str) -> FakeCluster {
    FakeCluster {
        kind: ClusterKind::ReplicationGroup,
        vpc_id: VPC.into(),
        port: 6379,
        engine: "redis".into(),
        members: vec![
            ("m-001".into(), vec![default_group.into()]),
            ("m-002".into(), vec![default_group.into()]),
        ],
        modifying_reads: 0,
        member_of: None,
    }
}

pub struct Rig {
    pub fake: FakeCloud,
    pub connector: Arc<FakeConnector>,
    pub svc: Service,
    /// A client application's group, made outside the provider.
    pub app: String,
    /// The clusters' default group.
    pub default_group: String,
}

impl Rig {
    pub async fn new() -> Rig {
        Self::with_provider(json!({"region": "us-east-1"})).await
    }

    pub async fn with_provider(provider: serde_json::Value) -> Rig {
        let rig = Self::unconfigured();
        rig.configure(provider).await;
        rig
    }

    /// The rig before Configure.
    pub fn unconfigured() -> Rig {
        let fake = FakeCloud::new();
        let app = fake.add_group(VPC, "app", &[]);
        let default_group = fake.add_group(VPC, "default", &[]);
        fake.add_cluster(CLUSTER, replication_group(&default_group));
        fake.add_cluster(CLUSTER_B, replication_group(&default_group));
        let connector = Arc::new(FakeConnector::new(fake.clone()));
        let svc = Service::new(connector.clone()).with_backoff(fast());
        Rig {
            fake,
            connector,
            svc,
            app,
            default_group,
        }
    }

    /// A second provider process on the same cloud.
    pub async fn second_process(&self) -> Rig {
        let connector = Arc::new(FakeConnector::new(self.fake.clone()));
        let svc = Service::new(connector.clone()).with_backoff(fast());
        let rig = Rig {
            fake: self.fake.clone(),
            connector,
            svc,
            app: self.app.clone(),
            default_group: self.default_group.clone(),
        };
        rig.configure(json!({"region": "us-east-1"})).await;
        rig
    }

    /// Configures (again) with this provider block.
    pub async fn configure(&self, provider: serde_json::Value) {
        let d = self.svc.configure(&Value::from_json(&provider)).await;
        assert!(d.is_empty(), "configure: {d:?}");
    }

    /// A configuration: `name = "app"`, the rig's cluster, its app group as client, and `extra`.
    pub fn cfg(&self, extra: serde_json::Value) -> serde_json::Value {
        let mut c = json!({
            "name": "app",
            "cluster": {"replication_group_id": CLUSTER},
            "client_security_group_ids": [self.app],
        });
        if let (Some(o), Some(e)) = (c.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                o.insert(k.clone(), v.clone());
            }
        }
        c
    }

    pub async fn plan(&self, prior: Option<&Value>, cfg: &serde_json::Value) -> Plan {
        self.svc.plan(prior, &Value::from_json(cfg)).await
    }

    /// Plans and applies, as Terraform does (a replacement deletes, then creates).
    pub async fn apply(&self, prior: Option<&Value>, cfg: &serde_json::Value) -> Applied {
        let p = self.plan(prior, cfg).await;
        assert!(!Service::refused(&p), "plan refused: {:?}", p.diagnostics);
        let prior = match prior {
            Some(s) if p.replaces() => {
                let gone = self
                    .svc
                    .apply(Apply {
                        prior: Some(s.clone()),
                        planned: None,
                        timeout: None,
                    })
                    .await;
                assert!(
                    gone.diagnostics.is_empty(),
                    "replacement's delete: {:?}",
                    gone.diagnostics
                );
                None
            }
            other => other.cloned(),
        };
        let created = prior.is_none();
        let a = self
            .svc
            .apply(Apply {
                prior,
                planned: Some(p.planned.clone()),
                timeout: None,
            })
            .await;
        if a.diagnostics.is_empty() {
            check_planned_values_kept(&p.planned, a.state.as_ref(), created);
        }
        a
    }

    /// Applies and requires success.
    pub async fn up(&self, prior: Option<&Value>, cfg: &serde_json::Value) -> Value {
        let a = self.apply(prior, cfg).await;
        assert!(
            a.diagnostics.is_empty(),
            "apply failed: {:?}",
            a.diagnostics
        );
        a.state.expect("a state")
    }

    /// Applies and requires a failure; returns the state and the failure's text.
    pub async fn failing(
        &self,
        prior: Option<&Value>,
        cfg: &serde_json::Value,
    ) -> (Option<Value>, String) {
        let a = self.apply(prior, cfg).await;
        assert!(!a.diagnostics.is_empty(), "apply should fail");
        let text = a
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        (a.state, text)
    }

    pub async fn destroy(&self, state: &Value) -> Applied {
        self.svc
            .apply(Apply {
                prior: Some(state.clone()),
                planned: None,
                timeout: None,
            })
            .await
    }

    pub async fn refresh(&self, state: &Value) -> Option<Value> {
        self.svc.read(state).await.expect("read")
    }

    /// Refreshes, then plans: the attributes that would change.
    pub async fn pending(&self, state: &Value, cfg: &serde_json::Value) -> Vec<String> {
        let fresh = self.refresh(state).await.expect("the access exists");
        let p = self.plan(Some(&fresh), cfg).await;
        assert!(!Service::refused(&p), "plan refused: {:?}", p.diagnostics);
        p.changes.iter().map(|c| c.attr.clone()).collect()
    }

    /// The groups of the rig's cluster, member by member.
    pub fn cluster_members(&self, id: &str) -> Vec<Vec<String>> {
        self.fake
            .cluster_members(id)
            .into_iter()
            .map(|m| m.1)
            .collect()
    }

    /// True when every member of cluster `id` uses `group`.
    pub fn attached(&self, id: &str, group: &str) -> bool {
        self.cluster_members(id)
            .iter()
            .all(|m| m.iter().any(|g| g == group))
    }

    /// True when no member of cluster `id` uses `group`.
    pub fn detached(&self, id: &str, group: &str) -> bool {
        self.cluster_members(id)
            .iter()
            .all(|m| !m.iter().any(|g| g == group))
    }
}

/// A string attribute of a state.
pub fn s<'a>(state: &'a Value, attr: &str) -> &'a str {
    state.get(attr).as_str().unwrap_or_default()
}

/// The cluster group of a state.
pub fn cluster_group(state: &Value) -> String {
    s(state, "cluster_security_group_id").to_string()
}

/// The client group of a state.
pub fn client_group(state: &Value) -> String {
    s(state, "client_security_group_id").to_string()
}

/// A map attribute of a state, as strings.
pub fn map(state: &Value, attr: &str) -> BTreeMap<String, String> {
    state
        .get(attr)
        .as_map()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Every value the plan knew comes back unchanged from the apply (Terraform refuses otherwise).
fn check_planned_values_kept(planned: &Value, state: Option<&Value>, _created: bool) {
    let (Some(pm), Some(Value::Map(sm))) = (planned.as_map(), state) else {
        return;
    };
    for (k, v) in pm {
        if v.is_wholly_known() {
            assert_eq!(Some(v), sm.get(k), "the apply changed the planned {k}");
        }
    }
    assert!(
        state.is_some_and(Value::is_wholly_known),
        "the apply left unknown values"
    );
}
