//! The resource's values and diagnostics on the wire, shared by the RPCs of [`super::server`],
//! [`super::resource`] and [`super::list`]: its attributes, the inputs of a configuration, and its
//! state encoded and decoded with the resource's schema.

use elasticache_proto::tfplugin6 as tf;

use crate::domain::declaration::model::Mode;
use crate::domain::declaration::schema::{self, Attribute};
use crate::domain::declaration::value::Value;
use crate::domain::diag::Diagnostic;

use super::convert;

pub(crate) fn resource_attrs() -> &'static [Attribute] {
    &schema::resource().attributes
}

pub(crate) fn diags(ds: &[Diagnostic]) -> Vec<tf::Diagnostic> {
    convert::diagnostics(ds, resource_attrs())
}

/// The inputs of a Terraform configuration object. Terraform's config carries every schema attribute,
/// computed ones included (always null there); the core validates and plans from inputs only.
pub(crate) fn config_inputs(config: Value) -> Value {
    match config {
        Value::Map(mut m) => {
            m.retain(|k, _| {
                schema::resource()
                    .attribute(k)
                    .is_none_or(|a| a.mode != Mode::Computed)
            });
            Value::Map(m)
        }
        other => other,
    }
}

pub(crate) fn encode_state(v: Option<&Value>) -> tf::DynamicValue {
    convert::encode(v.unwrap_or(&Value::Null), resource_attrs())
}

pub(crate) fn decode(
    v: Option<&tf::DynamicValue>,
    what: &str,
) -> Result<Option<Value>, tf::Diagnostic> {
    convert::decode(v, resource_attrs(), what).map(|v| (!v.is_null()).then_some(v))
}
