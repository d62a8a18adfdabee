//! Resource identity on the wire (protocol 6.9): the identity schema, and identities as
//! `ResourceIdentityData` (msgpack of the identity object). What the identity is, the core decides
//! ([`crate::domain::planning::identity`]).

use elasticache_proto::tfplugin6 as tf;

use crate::domain::declaration::model::TF_RESOURCE_TYPE;
use crate::domain::declaration::value::Value;
use crate::domain::planning::identity::{self, IDENTITY_VERSION};

use super::convert;

/// The GetResourceIdentitySchemas answer.
pub fn schemas() -> tf::get_resource_identity_schemas::Response {
    let attrs = identity::attributes()
        .iter()
        .map(|a| tf::resource_identity_schema::IdentityAttribute {
            name: a.name.clone(),
            r#type: convert::type_json(&a.ty).to_string().into_bytes(),
            required_for_import: true,
            optional_for_import: false,
            description: a.description.clone(),
        })
        .collect();
    tf::get_resource_identity_schemas::Response {
        identity_schemas: [(
            TF_RESOURCE_TYPE.to_string(),
            tf::ResourceIdentitySchema {
                version: IDENTITY_VERSION,
                identity_attributes: attrs,
            },
        )]
        .into(),
        diagnostics: Vec::new(),
    }
}

/// An identity as Terraform carries it.
pub fn encode(v: &Value) -> tf::ResourceIdentityData {
    tf::ResourceIdentityData {
        identity_data: Some(convert::encode(v, identity::attributes())),
    }
}

/// The identity Terraform sent: None when there is none (a state written before identities).
pub fn decode(d: Option<&tf::ResourceIdentityData>) -> Result<Option<Value>, tf::Diagnostic> {
    let Some(dv) = d.and_then(|d| d.identity_data.as_ref()) else {
        return Ok(None);
    };
    if dv.msgpack.is_empty() && dv.json.is_empty() {
        return Ok(None);
    }
    convert::decode(Some(dv), identity::attributes(), "resource identity")
        .map(|v| (!v.is_null()).then_some(v))
}
