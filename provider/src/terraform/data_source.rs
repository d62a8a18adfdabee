//! The data source `elasticache_reachability` on the wire: its schema, ValidateDataResourceConfig
//! and ReadDataSource (the answer of [`crate::domain::service::reach_query`]).

use elasticache_proto::tfplugin6 as tf;
use tonic::Status;

use crate::domain::declaration::schema::Attribute;
use crate::domain::service::reach_query::{query_schema, TF_DATA_SOURCE_TYPE};
use crate::domain::service::Service;

use super::convert;

fn attrs() -> &'static [Attribute] {
    &query_schema().attributes
}

/// The data source's schema.
pub fn schema() -> tf::Schema {
    convert::schema(query_schema())
}

/// Refuses a type this provider does not have.
pub fn check_type(type_name: &str) -> Result<(), Status> {
    if type_name == TF_DATA_SOURCE_TYPE {
        Ok(())
    } else {
        Err(Status::invalid_argument(format!(
            "unknown data source {type_name:?}; this provider has only {TF_DATA_SOURCE_TYPE}"
        )))
    }
}

pub fn validate(
    svc: &Service,
    req: &tf::validate_data_resource_config::Request,
) -> tf::validate_data_resource_config::Response {
    let diagnostics = match convert::decode(req.config.as_ref(), attrs(), "configuration") {
        Err(d) => vec![d],
        Ok(c) => convert::diagnostics(&svc.validate_query(&c), attrs()),
    };
    tf::validate_data_resource_config::Response { diagnostics }
}

pub async fn read(
    svc: &Service,
    req: &tf::read_data_source::Request,
) -> tf::read_data_source::Response {
    let failed = |diagnostics| tf::read_data_source::Response {
        diagnostics,
        ..Default::default()
    };
    let config = match convert::decode(req.config.as_ref(), attrs(), "configuration") {
        Ok(c) => c,
        Err(d) => return failed(vec![d]),
    };
    match svc.query_reachability(&config).await {
        Ok(v) => tf::read_data_source::Response {
            state: Some(convert::encode(&v, attrs())),
            ..Default::default()
        },
        Err(d) => failed(convert::diagnostics(&d, attrs())),
    }
}
