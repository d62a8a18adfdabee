//! The functions `elasticache:index:getIamAuthToken` and `elasticache:index:getReachability`:
//! Invoke converts its arguments in, asks the service for a token (answered as a secret, with
//! `expiresAt` and the arguments) or a cluster's reachability; bad arguments come back as check
//! failures at their property paths.

use std::collections::BTreeSet;

use elasticache_proto::pulumirpc as rpc;
use prost_types::Struct;
use tonic::Status;

use super::codec;
use super::convert::check_failures;
use super::provider::Provider;
use crate::domain::declaration::schema::Attribute;
use crate::domain::service::auth_token::{self, PULUMI_FUNCTION_TOKEN};
use crate::domain::service::reach_query::{self, PULUMI_INVOKE_TOKEN};

fn attrs() -> &'static [Attribute] {
    &auth_token::token_schema().attributes
}

/// The attributes the answer wraps as secrets.
fn secrets() -> BTreeSet<String> {
    attrs()
        .iter()
        .filter(|a| a.sensitive)
        .map(|a| a.name.clone())
        .collect()
}

impl Provider {
    /// Answers an Invoke of [`PULUMI_FUNCTION_TOKEN`].
    pub(super) async fn invoke_token(
        &self,
        args: Option<&Struct>,
    ) -> Result<rpc::InvokeResponse, Status> {
        let args = codec::decode(args, attrs())
            .map_err(|e| Status::invalid_argument(e.to_string()))?
            .value;
        match self.svc.open_token(&args).await {
            Ok(o) => Ok(rpc::InvokeResponse {
                r#return: Some(codec::encode(
                    &o.result,
                    attrs(),
                    &secrets(),
                    self.options(),
                )),
                failures: Vec::new(),
            }),
            Err(d) => Ok(rpc::InvokeResponse {
                r#return: None,
                failures: check_failures(&d, &self.shown(&BTreeSet::new())),
            }),
        }
    }
}

impl Provider {
    /// Answers an Invoke of `tok`.
    pub(super) async fn invoke_function(
        &self,
        tok: &str,
        args: Option<&Struct>,
    ) -> Result<rpc::InvokeResponse, Status> {
        match tok {
            PULUMI_FUNCTION_TOKEN => self.invoke_token(args).await,
            _ => self.invoke_reachability(args).await,
        }
    }

    /// Answers an Invoke of [`PULUMI_INVOKE_TOKEN`].
    async fn invoke_reachability(
        &self,
        args: Option<&Struct>,
    ) -> Result<rpc::InvokeResponse, Status> {
        let attrs = &reach_query::query_schema().attributes;
        let args = codec::decode(args, attrs)
            .map_err(|e| Status::invalid_argument(e.to_string()))?
            .value;
        match self.svc.query_reachability(&args).await {
            Ok(v) => Ok(rpc::InvokeResponse {
                r#return: Some(codec::encode(&v, attrs, &BTreeSet::new(), self.options())),
                failures: Vec::new(),
            }),
            Err(d) => Ok(rpc::InvokeResponse {
                r#return: None,
                failures: check_failures(&d, &self.shown(&BTreeSet::new())),
            }),
        }
    }
}

/// Refuses a function this provider does not have.
pub fn check_token(tok: &str) -> Result<(), Status> {
    if tok == PULUMI_FUNCTION_TOKEN || tok == PULUMI_INVOKE_TOKEN {
        Ok(())
    } else {
        Err(Status::unimplemented(format!(
            "the elasticache provider has no function {tok:?}; it has {PULUMI_FUNCTION_TOKEN} and {PULUMI_INVOKE_TOKEN}"
        )))
    }
}

#[cfg(test)]
#[path = "invoke_tests.rs"]
mod tests;
