//! The lifecycle driver speaking `tfplugin6`: msgpack DynamicValues, diagnostics, requires_replace.

use async_trait::async_trait;
use elasticache_proto::tfplugin6 as tf;
use tf::provider_server::Provider as _;
use tonic::Request;

use super::{differing, inputs, Driver, Outcome, Planned};
use crate::domain::declaration::model::TF_RESOURCE_TYPE;
use crate::domain::declaration::schema;
use crate::domain::declaration::value::Value;
use crate::domain::planning::state;
use crate::terraform::convert;
use crate::terraform::server::ProviderService;

pub struct Terraform(pub ProviderService);

fn attrs() -> &'static [schema::Attribute] {
    &schema::resource().attributes
}

fn dv(v: Option<&Value>) -> Option<tf::DynamicValue> {
    Some(convert::encode(
        &v.cloned().map(state::complete).unwrap_or(Value::Null),
        attrs(),
    ))
}

fn undv(v: Option<&tf::DynamicValue>) -> Result<Option<Value>, String> {
    convert::decode(v, attrs(), "state")
        .map(|v| (!v.is_null()).then_some(v))
        .map_err(|d| d.summary)
}

/// The errors among diagnostics, as one text.
fn errors(ds: &[tf::Diagnostic]) -> Result<(), String> {
    let e: Vec<String> = ds
        .iter()
        .filter(|d| d.severity == tf::diagnostic::Severity::Error as i32)
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect();
    if e.is_empty() {
        Ok(())
    } else {
        Err(e.join("; "))
    }
}

impl Terraform {
    async fn change(&self, prior: Option<&Value>, planned: Option<&Value>) -> Outcome {
        let r = self
            .0
            .apply_resource_change(Request::new(tf::apply_resource_change::Request {
                type_name: TF_RESOURCE_TYPE.into(),
                prior_state: dv(prior),
                planned_state: dv(planned),
                config: dv(planned),
                ..Default::default()
            }))
            .await;
        let r = match r {
            Ok(r) => r.into_inner(),
            Err(s) => {
                return Outcome {
                    state: prior.cloned(),
                    error: Some(s.message().into()),
                }
            }
        };
        let state = match undv(r.new_state.as_ref()) {
            Ok(s) => s,
            Err(e) => {
                return Outcome {
                    state: None,
                    error: Some(e),
                }
            }
        };
        Outcome {
            state,
            error: errors(&r.diagnostics).err(),
        }
    }
}

#[async_trait]
impl Driver for Terraform {
    fn engine(&self) -> &'static str {
        "terraform"
    }

    async fn configure(&self, provider: &serde_json::Value) -> Result<(), String> {
        let pattrs = &schema::provider().attributes;
        let c = state::complete_with(Value::from_json(provider), pattrs);
        let r = self
            .0
            .configure_provider(Request::new(tf::configure_provider::Request {
                terraform_version: "1.11.4".into(),
                config: Some(convert::encode(&c, pattrs)),
                ..Default::default()
            }))
            .await
            .map_err(|s| s.message().to_string())?;
        errors(&r.into_inner().diagnostics)
    }

    async fn plan(
        &self,
        prior: Option<&Value>,
        config: &serde_json::Value,
    ) -> Result<Planned, String> {
        let config = Value::from_json(config);
        let r = self
            .0
            .plan_resource_change(Request::new(tf::plan_resource_change::Request {
                type_name: TF_RESOURCE_TYPE.into(),
                prior_state: dv(prior),
                proposed_new_state: dv(Some(&config)),
                config: dv(Some(&config)),
                ..Default::default()
            }))
            .await
            .map_err(|s| s.message().to_string())?
            .into_inner();
        errors(&r.diagnostics)?;
        let planned = undv(r.planned_state.as_ref())?.unwrap_or_default();
        let pending = prior
            .map(|p| differing(&state::complete(p.clone()), &planned))
            .unwrap_or_default();
        Ok(Planned {
            changes: inputs(&pending),
            pending,
            replaces: !r.requires_replace.is_empty(),
            planned,
        })
    }

    async fn apply(&self, prior: Option<&Value>, config: &serde_json::Value) -> Outcome {
        let p = match self.plan(prior, config).await {
            Ok(p) => p,
            Err(e) => {
                return Outcome {
                    state: prior.cloned(),
                    error: Some(e),
                }
            }
        };
        let prior = match prior {
            Some(s) if p.replaces => {
                let gone = self.change(Some(s), None).await;
                if gone.error.is_some() {
                    return gone;
                }
                None
            }
            other => other,
        };
        self.change(prior, Some(&p.planned)).await
    }

    async fn read(&self, st: &Value) -> Result<Option<Value>, String> {
        let r = self
            .0
            .read_resource(Request::new(tf::read_resource::Request {
                type_name: TF_RESOURCE_TYPE.into(),
                current_state: dv(Some(st)),
                ..Default::default()
            }))
            .await
            .map_err(|s| s.message().to_string())?
            .into_inner();
        errors(&r.diagnostics)?;
        undv(r.new_state.as_ref())
    }

    async fn import(&self, id: &str) -> Result<Value, String> {
        let r = self
            .0
            .import_resource_state(Request::new(tf::import_resource_state::Request {
                type_name: TF_RESOURCE_TYPE.into(),
                id: id.into(),
                ..Default::default()
            }))
            .await
            .map_err(|s| s.message().to_string())?
            .into_inner();
        errors(&r.diagnostics)?;
        let st = r
            .imported_resources
            .first()
            .and_then(|i| undv(i.state.as_ref()).ok().flatten())
            .ok_or("import returned no state")?;
        self.read(&st)
            .await?
            .ok_or_else(|| "the imported access is gone".into())
    }

    async fn delete(&self, st: &Value) -> Result<(), String> {
        let o = self.change(Some(st), None).await;
        match (o.error, o.state) {
            (None, None) => Ok(()),
            (Some(e), _) => Err(e),
            (None, Some(s)) => Err(format!("a destroy left a state: {s:?}")),
        }
    }
}
