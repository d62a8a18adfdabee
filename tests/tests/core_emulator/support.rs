//! What every test of the core against the emulator shares: the service over the real AWS module,
//! configured for the emulator, and readers of what the emulator holds.

use std::sync::Arc;

use anyhow::Result;
use elasticache_provider::aws::AwsConnector;
use elasticache_provider::domain::declaration::value::Value;
use elasticache_provider::domain::diag::Diagnostic;
use elasticache_provider::domain::planning::plan::Plan;
use elasticache_provider::domain::service::{Apply, Service};
use elasticache_tests::Emulator;

/// The service over the real AWS module, with the calls of one operation at a time.
pub(crate) struct Core(pub(crate) Service);

/// A failed operation: its diagnostics and the state it left.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) state: Option<Value>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t: Vec<String> = self.diagnostics.iter().map(ToString::to_string).collect();
        write!(f, "{}", t.join("; "))
    }
}

impl std::error::Error for Failure {}

impl Core {
    pub(crate) async fn plan(&self, prior: Option<&Value>, cfg: &Value) -> Plan {
        self.0.plan(prior, cfg).await
    }

    pub(crate) async fn run(
        &self,
        prior: Option<&Value>,
        planned: Option<&Value>,
    ) -> Result<Option<Value>, Failure> {
        let a = self
            .0
            .apply(Apply {
                prior: prior.cloned(),
                planned: planned.cloned(),
                timeout: None,
            })
            .await;
        if a.diagnostics.iter().any(Diagnostic::is_error) {
            return Err(Failure {
                diagnostics: a.diagnostics,
                state: a.state,
            });
        }
        Ok(a.state)
    }

    pub(crate) async fn create(&self, planned: &Value) -> Result<Value, Failure> {
        self.run(None, Some(planned))
            .await
            .map(Option::unwrap_or_default)
    }

    pub(crate) async fn update(&self, prior: &Value, planned: &Value) -> Result<Value, Failure> {
        self.run(Some(prior), Some(planned))
            .await
            .map(Option::unwrap_or_default)
    }

    pub(crate) async fn delete(&self, st: &Value) -> Result<(), Failure> {
        self.run(Some(st), None).await.map(|_| ())
    }

    pub(crate) async fn read(&self, st: &Value) -> Result<Option<Value>, Failure> {
        self.0.read(st).await.map_err(|diagnostics| Failure {
            diagnostics,
            state: None,
        })
    }

    pub(crate) async fn import(&self, id: &str) -> Result<Value, Failure> {
        self.0.import(id).await.map_err(|diagnostics| Failure {
            diagnostics,
            state: None,
        })
    }
}

/// The provider configured as the tests configure it, plus `extra`.
pub(crate) async fn connect(emu: &Emulator, extra: serde_json::Value) -> Result<Core> {
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let mut cfg = serde_json::json!({
        "region": "us-east-1",
        "endpoints": {"ec2": emu.url, "elasticache": emu.url, "servicequotas": emu.url},
        "default_tags": {"tags": {"owner": "tests"}},
        "max_retries": 2,
    });
    if let (Some(o), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    let svc = Service::new(Arc::new(AwsConnector));
    let d = svc.configure(&Value::from_json(&cfg)).await;
    anyhow::ensure!(d.is_empty(), "configure: {d:?}");
    Ok(Core(svc))
}

pub(crate) async fn engine(emu: &Emulator) -> Result<Core> {
    connect(emu, serde_json::json!({})).await
}

pub(crate) async fn apply(e: &Core, prior: Option<&Value>, cfg: &Value) -> Result<Value> {
    let p = e.plan(prior, cfg).await;
    anyhow::ensure!(
        p.diagnostics.iter().all(|d| !d.is_error()),
        "plan: {:?}",
        p.diagnostics
    );
    let r = match prior {
        Some(prior) if !p.replaces() => e.update(prior, &p.planned).await,
        _ => e.create(&p.planned).await,
    };
    r.map_err(|err| anyhow::anyhow!("apply: {err}"))
}

pub(crate) fn cfg(j: serde_json::Value) -> Value {
    Value::from_json(&j)
}

/// The AWS calls of a call log that change something (everything but Describe*), in order.
pub(crate) fn writes(actions: &[String]) -> Vec<&str> {
    actions
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("Describe"))
        .collect()
}

pub(crate) fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Ingress rules of a group as (source, port), sorted.
pub(crate) async fn ingress(ec2: &aws_sdk_ec2::Client, group: &str) -> Result<Vec<(String, i32)>> {
    let out = ec2
        .describe_security_group_rules()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-id")
                .values(group)
                .build(),
        )
        .send()
        .await?;
    let mut v: Vec<(String, i32)> = out
        .security_group_rules()
        .iter()
        .filter(|r| r.is_egress() == Some(false))
        .map(|r| {
            let src = r
                .cidr_ipv4()
                .or(r.cidr_ipv6())
                .or(r.prefix_list_id())
                .map(str::to_string)
                .or_else(|| {
                    r.referenced_group_info()
                        .and_then(|g| g.group_id())
                        .map(str::to_string)
                })
                .unwrap_or_default();
            (src, r.from_port().unwrap_or_default())
        })
        .collect();
    v.sort();
    Ok(v)
}

pub(crate) async fn group_names(ec2: &aws_sdk_ec2::Client, vpc: &str) -> Result<Vec<String>> {
    let out = ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(vpc)
                .build(),
        )
        .send()
        .await?;
    let mut v: Vec<String> = out
        .security_groups()
        .iter()
        .filter_map(|g| g.group_name().map(str::to_string))
        .collect();
    v.sort();
    Ok(v)
}
