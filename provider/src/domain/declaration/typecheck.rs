//! Shape checks of a configuration against the schema, before any rule: attributes the schema does not
//! know, and values of the wrong type (Pulumi sends untyped values; Terraform's are typed already).

use crate::domain::declaration::model::Mode;
use crate::domain::declaration::schema::{Attribute, Type};
use crate::domain::declaration::value::Value;
use crate::domain::diag::{AttrPath, Diagnostic};

/// Checks an object against `attrs`, reporting each unknown attribute and each value of the wrong
/// type with its path.
pub fn check_object(v: &Value, attrs: &[Attribute], path: &AttrPath, out: &mut Vec<Diagnostic>) {
    let Some(m) = v.as_map() else {
        if !v.is_null() && !v.is_unknown() {
            out.push(Diagnostic::error(
                path.clone(),
                "Expected an object",
                "Write an object with the attributes listed in the documentation.",
            ));
        }
        return;
    };
    for (k, val) in m {
        let p = path.clone().then_attr(k);
        match attrs.iter().find(|a| &a.name == k) {
            None => out.push(Diagnostic::error(
                p,
                format!("Unknown attribute {k:?}"),
                format!("Remove it; the attributes are: {}.", input_names(attrs)),
            )),
            Some(a) => check_value(val, &a.ty, &p, out),
        }
    }
}

fn input_names(attrs: &[Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.mode != Mode::Computed)
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn check_value(v: &Value, ty: &Type, path: &AttrPath, out: &mut Vec<Diagnostic>) {
    let wrong = |want: &str| {
        Diagnostic::error(
            path.clone(),
            format!("Expected {want}"),
            format!("Write {want} here."),
        )
    };
    match (ty, v) {
        (_, Value::Null | Value::Unknown) => {}
        (Type::String, Value::String(_)) | (Type::Bool, Value::Bool(_)) => {}
        (Type::Integer, Value::Number(n)) if n.fract() == 0.0 => {}
        (Type::Integer, Value::Number(_)) => out.push(Diagnostic::error(
            path.clone(),
            "Expected a whole number",
            "Write an integer, such as 6379.",
        )),
        (Type::Integer, Value::String(s)) if s.parse::<i64>().is_ok() => {}
        (Type::Bool, Value::String(s)) if s == "true" || s == "false" => {}
        (Type::List(inner) | Type::Set(inner), Value::List(items)) => {
            for (i, it) in items.iter().enumerate() {
                check_value(it, inner, &path.clone().then_index(i), out);
            }
        }
        (Type::Map(inner), Value::Map(m)) => {
            for (k, it) in m {
                check_value(it, inner, &path.clone().then_key(k), out);
            }
        }
        (Type::Object(attrs), Value::Map(_)) => check_object(v, attrs, path, out),
        (Type::String, _) => out.push(wrong("a string")),
        (Type::Integer, _) => out.push(wrong("a number")),
        (Type::Bool, _) => out.push(wrong("true or false")),
        (Type::List(_) | Type::Set(_), _) => out.push(wrong("a list")),
        (Type::Map(_), _) => out.push(wrong("a map of strings")),
        (Type::Object(_), _) => out.push(wrong("an object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::declaration::schema;

    #[test]
    fn unknown_attributes_and_wrong_types_have_paths() {
        let v = Value::from_json(&serde_json::json!({
            "prot": 1, "allowed_cidr_blocks": "10.0.0.0/8", "port": 63.5, "tags": {"a": 1}
        }));
        let mut out = Vec::new();
        check_object(
            &v,
            &schema::resource().attributes,
            &AttrPath::root(),
            &mut out,
        );
        let paths: Vec<String> = out
            .iter()
            .filter_map(|d| d.path.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(
            paths,
            vec!["allowed_cidr_blocks", "port", "prot", "tags[\"a\"]"]
        );
    }
}
