//! The lifecycle driver speaking `pulumirpc`: protobuf Structs, Check then Diff, previews, and
//! ErrorResourceInitFailed for partial failures.

use std::collections::BTreeSet;

use async_trait::async_trait;
use elasticache_proto::pulumirpc::{self as rpc, resource_provider_server::ResourceProvider};
use prost::Message;
use prost_types::Struct;
use tonic::{Request, Status};

use super::{inputs, Driver, Outcome, Planned};
use crate::domain::declaration::model;
use crate::domain::declaration::schema;
use crate::domain::declaration::value::Value;
use crate::pulumi::codec::{self, EncodeOptions};
use crate::pulumi::server::{Provider, RpcStatus};

pub struct Pulumi(pub Provider);

const URN: &str = "urn:pulumi:dev::lifecycle::elasticache:index:Access::app";

fn encode(v: &Value, attrs: &[schema::Attribute]) -> Struct {
    codec::encode(
        v,
        attrs,
        &BTreeSet::new(),
        EncodeOptions {
            keep_secrets: false,
        },
    )
}

/// What the engine keeps of a state: its outputs (every attribute but `id`) and the id.
fn outputs(st: &Value) -> (Struct, String) {
    let mut o = st.clone();
    let id = st.get("id").as_str().unwrap_or_default().to_string();
    if let Value::Map(m) = &mut o {
        m.remove("id");
    }
    (encode(&o, &schema::resource().attributes), id)
}

/// A state from outputs and an id, as the provider decodes it.
fn state(props: Option<&Struct>, id: &str) -> Result<Value, String> {
    crate::pulumi::convert::decode_state(props, id)
        .map(|d| d.value)
        .map_err(|s| s.message().to_string())
}

/// A failed Create/Update: the partial state of ErrorResourceInitFailed, when one was sent.
fn failed(s: &Status, prior: Option<&Value>) -> Outcome {
    let detail = RpcStatus::decode(s.details())
        .ok()
        .and_then(|st| st.details.into_iter().next())
        .and_then(|d| rpc::ErrorResourceInitFailed::decode(&d.value[..]).ok());
    let state = match detail {
        Some(d) => state(d.properties.as_ref(), &d.id).ok(),
        None => prior.cloned(),
    };
    Outcome {
        state,
        error: Some(s.message().to_string()),
    }
}

impl Pulumi {
    /// Check: the program's inputs as the provider returns them (the engine sends these on).
    async fn check(
        &self,
        prior: Option<&Value>,
        config: &serde_json::Value,
    ) -> Result<Struct, String> {
        let olds = prior.map(|p| {
            encode(
                &crate::domain::planning::state::inputs_of(p),
                &schema::resource().attributes,
            )
        });
        let r = self
            .0
            .check(Request::new(rpc::CheckRequest {
                urn: URN.into(),
                name: "app".into(),
                olds,
                news: Some(encode(
                    &Value::from_json(config),
                    &schema::resource().attributes,
                )),
                ..Default::default()
            }))
            .await
            .map_err(|s| s.message().to_string())?
            .into_inner();
        if !r.failures.is_empty() {
            let f: Vec<String> = r
                .failures
                .iter()
                .map(|f| format!("{}: {}", f.property, f.reason))
                .collect();
            return Err(f.join("; "));
        }
        r.inputs.ok_or_else(|| "Check returned no inputs".into())
    }

    async fn create(&self, news: Struct, preview: bool) -> Result<Value, Status> {
        let r = self
            .0
            .create(Request::new(rpc::CreateRequest {
                urn: URN.into(),
                properties: Some(news),
                preview,
                ..Default::default()
            }))
            .await?
            .into_inner();
        state(r.properties.as_ref(), &r.id).map_err(Status::internal)
    }

    async fn update(&self, prior: &Value, news: Struct, preview: bool) -> Result<Value, Status> {
        let (olds, id) = outputs(prior);
        let r = self
            .0
            .update(Request::new(rpc::UpdateRequest {
                urn: URN.into(),
                id: id.clone(),
                olds: Some(olds),
                news: Some(news),
                preview,
                ..Default::default()
            }))
            .await?
            .into_inner();
        state(r.properties.as_ref(), &id).map_err(Status::internal)
    }

    async fn diff(&self, prior: &Value, news: Struct) -> Result<(BTreeSet<String>, bool), String> {
        let (olds, id) = outputs(prior);
        let r = self
            .0
            .diff(Request::new(rpc::DiffRequest {
                urn: URN.into(),
                id,
                olds: Some(olds),
                news: Some(news),
                ..Default::default()
            }))
            .await
            .map_err(|s| s.message().to_string())?
            .into_inner();
        let pending = r
            .detailed_diff
            .keys()
            .map(|k| model::snake_case(k.split(['.', '[']).next().unwrap_or(k)))
            .collect();
        Ok((pending, !r.replaces.is_empty()))
    }
}

#[async_trait]
impl Driver for Pulumi {
    fn engine(&self) -> &'static str {
        "pulumi"
    }

    async fn configure(&self, provider: &serde_json::Value) -> Result<(), String> {
        let args = encode(&Value::from_json(provider), &schema::provider().attributes);
        self.0
            .configure(Request::new(rpc::ConfigureRequest {
                args: Some(args),
                accept_secrets: true,
                accept_resources: true,
                ..Default::default()
            }))
            .await
            .map(|_| ())
            .map_err(|s| s.message().to_string())
    }

    async fn plan(
        &self,
        prior: Option<&Value>,
        config: &serde_json::Value,
    ) -> Result<Planned, String> {
        let news = self.check(prior, config).await?;
        let Some(prior) = prior else {
            let planned = self
                .create(news, true)
                .await
                .map_err(|s| s.message().to_string())?;
            let none = BTreeSet::new();
            return Ok(Planned {
                changes: none.clone(),
                pending: none,
                replaces: false,
                planned,
            });
        };
        let (pending, replaces) = self.diff(prior, news.clone()).await?;
        let planned = if replaces {
            self.create(news, true).await
        } else {
            self.update(prior, news, true).await
        };
        let planned = planned.map_err(|s| s.message().to_string())?;
        Ok(Planned {
            changes: inputs(&pending),
            pending,
            replaces,
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
        let news = match self.check(prior, config).await {
            Ok(n) => n,
            Err(e) => {
                return Outcome {
                    state: prior.cloned(),
                    error: Some(e),
                }
            }
        };
        let r = match prior {
            Some(s) if p.replaces => match self.delete(s).await {
                Err(e) => {
                    return Outcome {
                        state: Some(s.clone()),
                        error: Some(e),
                    }
                }
                Ok(()) => self.create(news, false).await.map_err(|e| failed(&e, None)),
            },
            Some(s) => self
                .update(s, news, false)
                .await
                .map_err(|e| failed(&e, Some(s))),
            None => self.create(news, false).await.map_err(|e| failed(&e, None)),
        };
        match r {
            Ok(st) => Outcome {
                state: Some(st),
                error: None,
            },
            Err(o) => o,
        }
    }

    async fn read(&self, st: &Value) -> Result<Option<Value>, String> {
        let (props, id) = outputs(st);
        let r = self
            .0
            .read(Request::new(rpc::ReadRequest {
                urn: URN.into(),
                id,
                properties: Some(props),
                ..Default::default()
            }))
            .await
            .map_err(|s| s.message().to_string())?
            .into_inner();
        if r.id.is_empty() {
            return Ok(None);
        }
        state(r.properties.as_ref(), &r.id).map(Some)
    }

    async fn import(&self, id: &str) -> Result<Value, String> {
        let r = self
            .0
            .read(Request::new(rpc::ReadRequest {
                urn: URN.into(),
                id: id.into(),
                ..Default::default()
            }))
            .await
            .map_err(|s| s.message().to_string())?
            .into_inner();
        state(r.properties.as_ref(), &r.id)
    }

    async fn delete(&self, st: &Value) -> Result<(), String> {
        let (props, id) = outputs(st);
        self.0
            .delete(Request::new(rpc::DeleteRequest {
                urn: URN.into(),
                id,
                properties: Some(props),
                ..Default::default()
            }))
            .await
            .map(|_| ())
            .map_err(|s| s.message().to_string())
    }
}
