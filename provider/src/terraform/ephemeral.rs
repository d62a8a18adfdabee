//! The ephemeral resource `elasticache_iam_auth_token` on the wire (Terraform 1.10 and later): its
//! schema, ValidateEphemeralResourceConfig, OpenEphemeralResource (the result, `renew_at` and the
//! private data), RenewEphemeralResource and CloseEphemeralResource. Terraform keeps the result in
//! memory only: never in a plan or a state.

use std::time::{SystemTime, UNIX_EPOCH};

use elasticache_proto::prost_types::Timestamp;
use elasticache_proto::tfplugin6 as tf;
use tonic::Status;

use crate::domain::declaration::schema::Attribute;
use crate::domain::service::auth_token::{self, TF_EPHEMERAL_TYPE};
use crate::domain::service::Service;

use super::convert;

fn attrs() -> &'static [Attribute] {
    &auth_token::token_schema().attributes
}

/// The ephemeral resource's schema.
pub fn schema() -> tf::Schema {
    convert::schema(auth_token::token_schema())
}

/// Refuses a type this provider does not have.
pub fn check_type(type_name: &str) -> Result<(), Status> {
    if type_name == TF_EPHEMERAL_TYPE {
        Ok(())
    } else {
        Err(Status::invalid_argument(format!(
            "unknown ephemeral resource type {type_name:?}; this provider has only {TF_EPHEMERAL_TYPE}"
        )))
    }
}

/// A time as a protobuf Timestamp.
pub fn timestamp(t: SystemTime) -> Timestamp {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or_default(),
    }
}

pub fn validate(
    svc: &Service,
    req: &tf::validate_ephemeral_resource_config::Request,
) -> tf::validate_ephemeral_resource_config::Response {
    let diagnostics = match convert::decode(req.config.as_ref(), attrs(), "configuration") {
        Err(d) => vec![d],
        Ok(c) => convert::diagnostics(&svc.validate_token(&c), attrs()),
    };
    tf::validate_ephemeral_resource_config::Response { diagnostics }
}

pub async fn open(
    svc: &Service,
    req: &tf::open_ephemeral_resource::Request,
) -> tf::open_ephemeral_resource::Response {
    let failed = |diagnostics| tf::open_ephemeral_resource::Response {
        diagnostics,
        ..Default::default()
    };
    let config = match convert::decode(req.config.as_ref(), attrs(), "configuration") {
        Ok(c) => c,
        Err(d) => return failed(vec![d]),
    };
    match svc.open_token(&config).await {
        Ok(o) => tf::open_ephemeral_resource::Response {
            diagnostics: Vec::new(),
            renew_at: Some(timestamp(o.renew_at)),
            result: Some(convert::encode(&o.result, attrs())),
            private: Some(o.private.encode()),
            deferred: None,
        },
        Err(d) => failed(convert::diagnostics(&d, attrs())),
    }
}

pub fn renew(
    svc: &Service,
    req: &tf::renew_ephemeral_resource::Request,
) -> tf::renew_ephemeral_resource::Response {
    let r = svc.renew_token(req.private.as_deref().unwrap_or_default());
    tf::renew_ephemeral_resource::Response {
        diagnostics: convert::diagnostics(&r.diagnostics, attrs()),
        renew_at: r.renew_at.map(timestamp),
        private: r.renew_at.and(req.private.clone()),
    }
}

/// Nothing to release: a token is not a lease, it just expires.
pub fn close(_: &tf::close_ephemeral_resource::Request) -> tf::close_ephemeral_resource::Response {
    tf::close_ephemeral_resource::Response {
        diagnostics: Vec::new(),
    }
}
