//! Unit tests of the msgpack codec; `old_encode` is the rmpv-tree encoder the direct writer replaced,
//! kept as the reference the writer must match byte for byte.
use proptest::prelude::*;
use rmpv::Value as Mp;

use super::*;
use crate::domain::declaration::model::{Mode, Nesting};
use crate::domain::declaration::schema as resource_schema;

fn attr(name: &str, ty: Type) -> Attribute {
    Attribute {
        name: name.into(),
        ty,
        description: String::new(),
        mode: Mode::Optional,
        replaces: false,
        default: None,
        nesting: Nesting::Attribute,
        range: None,
        sensitive: false,
    }
}

fn schema() -> Vec<Attribute> {
    vec![
        attr("s", Type::String),
        attr("n", Type::Integer),
        attr("b", Type::Bool),
        attr("set", Type::Set(Box::new(Type::String))),
        attr("tags", Type::Map(Box::new(Type::String))),
        attr(
            "timeouts",
            Type::Object(vec![
                attr("create", Type::String),
                attr("delete", Type::String),
            ]),
        ),
        attr(
            "rules",
            Type::List(Box::new(Type::Object(vec![
                attr("id", Type::String),
                attr("port", Type::Integer),
            ]))),
        ),
    ]
}

fn mp_map(entries: Vec<(&str, Mp)>) -> Mp {
    Mp::Map(entries.into_iter().map(|(k, v)| (Mp::from(k), v)).collect())
}

fn bytes(mp: &Mp) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = rmpv::encode::write_value(&mut out, mp);
    out
}

#[test]
fn unknown_is_written_as_cty_does() {
    assert_eq!(
        encode(&Value::Unknown, &Type::String),
        vec![0xd4, 0x00, 0x00]
    );
}

#[test]
fn any_extension_decodes_as_unknown_including_refinements() {
    // A refined unknown string that is known not to be null, with prefix "sg-": ext 12 holding a
    // map with integer keys (1 = nullness, 2 = string prefix).
    let refinement = bytes(&Mp::Map(vec![
        (Mp::from(1), Mp::Boolean(false)),
        (Mp::from(2), Mp::from("sg-")),
    ]));
    let wire = bytes(&mp_map(vec![
        ("s", Mp::Ext(12, refinement)),
        ("set", Mp::Array(vec![Mp::from("a"), Mp::Ext(0, vec![0])])),
        (
            "n",
            Mp::Ext(12, bytes(&Mp::Map(vec![(Mp::from(1), Mp::Boolean(false))]))),
        ),
    ]));
    let v = decode_object(&wire, &schema()).unwrap_or_default();
    assert_eq!(v.get("s"), &Value::Unknown);
    assert_eq!(v.get("n"), &Value::Unknown);
    assert_eq!(
        v.get("set"),
        &Value::List(vec![Value::from("a"), Value::Unknown])
    );
    assert!(v.get("b").is_null(), "absent attributes decode as null");
}

#[test]
fn every_attribute_is_emitted_sorted_with_nested_blocks() {
    let mut v = Value::Map(BTreeMap::new());
    v.set("s", Value::from("x"));
    v.set(
        "timeouts",
        Value::Map([("create".to_string(), Value::from("30m"))].into()),
    );
    v.set(
        "rules",
        Value::List(vec![Value::Map(
            [("id".to_string(), Value::from("sgr-1"))].into(),
        )]),
    );
    v.set("bogus", Value::from("dropped"));
    let wire = encode_object(&v, &schema());
    let mp = rmpv::decode::read_value(&mut wire.as_slice()).unwrap_or(Mp::Nil);
    let keys: Vec<String> = mp
        .as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, _)| k.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        keys,
        vec!["b", "n", "rules", "s", "set", "tags", "timeouts"]
    );
    let t = mp.as_map().and_then(|m| {
        m.iter()
            .find(|(k, _)| k.as_str() == Some("timeouts"))
            .map(|(_, v)| v.clone())
    });
    assert_eq!(
        t,
        Some(mp_map(vec![
            ("create", Mp::from("30m")),
            ("delete", Mp::Nil)
        ]))
    );
    let r = mp.as_map().and_then(|m| {
        m.iter()
            .find(|(k, _)| k.as_str() == Some("rules"))
            .map(|(_, v)| v.clone())
    });
    assert_eq!(
        r,
        Some(Mp::Array(vec![mp_map(vec![
            ("id", Mp::from("sgr-1")),
            ("port", Mp::Nil)
        ])]))
    );
}

#[test]
fn numbers_are_integers_when_integral_and_decimal_strings_are_accepted() {
    assert_eq!(
        encode(&Value::Number(6379.0), &Type::Integer),
        bytes(&Mp::from(6379))
    );
    assert_eq!(
        encode(&Value::Number(1.5), &Type::Integer),
        bytes(&Mp::F64(1.5))
    );
    assert_eq!(
        decode(&bytes(&Mp::from("11211")), &Type::Integer),
        Ok(Value::Number(11211.0))
    );
    assert_eq!(
        decode(&bytes(&Mp::F64(22.0)), &Type::Integer),
        Ok(Value::Number(22.0))
    );
}

#[test]
fn round_trip_of_a_full_object() {
    let mut v = Value::Map(BTreeMap::new());
    v.set("s", Value::from("x"));
    v.set("n", Value::Number(6379.0));
    v.set("b", Value::Bool(true));
    v.set("set", Value::string_list(["10.0.0.0/8", "fd00::/8"]));
    v.set(
        "tags",
        Value::Map([("team".to_string(), Value::from("a"))].into()),
    );
    v.set("timeouts", Value::Null);
    v.set("rules", Value::Unknown);
    let back = decode_object(&encode_object(&v, &schema()), &schema());
    assert_eq!(back, Ok(v));
}

#[test]
fn wrong_shapes_and_unknown_attributes_are_errors_with_paths() {
    let wire = bytes(&mp_map(vec![("tags", Mp::Array(vec![]))]));
    let e = decode_object(&wire, &schema());
    assert!(matches!(e, Err(ref d) if d.path == "tags"), "{e:?}");
    let wire = bytes(&mp_map(vec![(
        "timeouts",
        mp_map(vec![("update", Mp::from("1m"))]),
    )]));
    let e = decode_object(&wire, &schema());
    assert!(
        matches!(e, Err(ref d) if d.path == "timeouts.update"),
        "{e:?}"
    );
    assert_eq!(decode(&[], &Type::String), Ok(Value::Null));
    assert!(
        decode(&[0x92, 0xa1], &Type::List(Box::new(Type::String))).is_err(),
        "truncated"
    );
    assert!(
        decode(&[0xa1, 0x61, 0x00], &Type::String).is_err(),
        "trailing bytes"
    );
}

#[test]
fn error_paths_name_list_indexes_and_map_keys_below_attributes() {
    let ty = Type::Object(vec![attr(
        "a",
        Type::List(Box::new(Type::Object(vec![attr(
            "b",
            Type::Map(Box::new(Type::Integer)),
        )]))),
    )]);
    let ok = mp_map(vec![("b", mp_map(vec![("k", Mp::from(1))]))]);
    let bad = mp_map(vec![("b", mp_map(vec![("k", Mp::Boolean(true))]))]);
    let wire = bytes(&mp_map(vec![("a", Mp::Array(vec![ok, bad]))]));
    let e = decode(&wire, &ty).unwrap_err();
    assert_eq!(e.path, r#"a[1].b["k"]"#);
    assert_eq!(e.message, "expected a number, got msgpack bool");
    let e = decode(&bytes(&Mp::from(1)), &Type::String).unwrap_err();
    assert_eq!(e.path, "(root)");
    let e = decode_object(&bytes(&Mp::from("x")), &schema()).unwrap_err();
    assert_eq!(
        (e.path.as_str(), e.message.as_str()),
        ("(root)", "expected an object, got msgpack string")
    );
}

/// The encoder the direct writer replaced: an rmpv tree, then rmpv's `write_value`.
fn old_encode(v: &Value, ty: &Type) -> Vec<u8> {
    fn object_mp(m: &BTreeMap<String, Value>, attrs: &[Attribute]) -> Mp {
        let mut sorted: Vec<&Attribute> = attrs.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        Mp::Map(
            sorted
                .into_iter()
                .map(|a| {
                    let x = m.get(&a.name).unwrap_or(&Value::Null);
                    (Mp::from(a.name.as_str()), to_mp(x, &a.ty))
                })
                .collect(),
        )
    }
    fn number(n: f64) -> Mp {
        if n.fract() == 0.0 && n.abs() < 9.0e15 {
            Mp::from(n as i64)
        } else {
            Mp::F64(n)
        }
    }
    fn to_mp(v: &Value, ty: &Type) -> Mp {
        match (v, ty) {
            (Value::Null, _) => Mp::Nil,
            (Value::Unknown, _) => Mp::Ext(0, vec![0]),
            (Value::Number(n), Type::Integer) => number(*n),
            (Value::String(s), Type::Integer) => match s.parse::<f64>() {
                Ok(n) => number(n),
                Err(_) => Mp::from(s.as_str()),
            },
            (Value::Bool(b), Type::Bool) => Mp::Boolean(*b),
            (Value::String(s), Type::Bool) if s == "true" || s == "false" => {
                Mp::Boolean(s == "true")
            }
            (Value::Number(_), Type::String) => {
                Mp::from(v.to_json().map(|j| j.to_string()).unwrap_or_default())
            }
            (Value::Bool(b), Type::String) => Mp::from(b.to_string()),
            (Value::List(items), Type::List(inner) | Type::Set(inner)) => {
                Mp::Array(items.iter().map(|i| to_mp(i, inner)).collect())
            }
            (Value::Map(m), Type::Map(inner)) => Mp::Map(
                m.iter()
                    .map(|(k, x)| (Mp::from(k.as_str()), to_mp(x, inner)))
                    .collect(),
            ),
            (Value::Map(m), Type::Object(attrs)) => object_mp(m, attrs),
            (Value::String(s), _) => Mp::from(s.as_str()),
            (Value::Number(n), _) => number(*n),
            (Value::Bool(b), _) => Mp::Boolean(*b),
            (Value::List(items), _) => {
                Mp::Array(items.iter().map(|i| to_mp(i, &Type::String)).collect())
            }
            (Value::Map(m), _) => Mp::Map(
                m.iter()
                    .map(|(k, x)| (Mp::from(k.as_str()), to_mp(x, &Type::String)))
                    .collect(),
            ),
        }
    }
    bytes(&to_mp(v, ty))
}

/// Arbitrary values, keyed by the resource's attribute names (and others), of every shape.
fn any_value() -> impl Strategy<Value = Value> {
    let names: Vec<String> = resource_schema::resource()
        .attributes
        .iter()
        .map(|a| a.name.clone())
        .collect();
    let key = prop_oneof![proptest::sample::select(names), "[a-z_]{0,8}"];
    let leaf = prop_oneof![
        Just(Value::Null),
        Just(Value::Unknown),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| Value::Number(f64::from(n))),
        any::<f64>().prop_map(Value::Number),
        prop_oneof![
            Just(1e16),
            Just(-9.5e15),
            Just(-0.0),
            Just(u32::MAX as f64 + 1.0)
        ]
        .prop_map(Value::Number),
        prop_oneof![
            ".{0,40}",
            "[0-9]{1,6}",
            Just("true".to_string()),
            Just("1.5".into())
        ]
        .prop_map(Value::String),
        "(.|\\n){31,300}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::List),
            proptest::collection::btree_map(key.clone(), inner, 0..8).prop_map(Value::Map),
        ]
    })
}

fn any_type() -> impl Strategy<Value = Type> {
    let resource = Type::Object(resource_schema::resource().attributes.clone());
    let leaf = prop_oneof![
        Just(Type::String),
        Just(Type::Integer),
        Just(Type::Bool),
        Just(resource),
        Just(Type::Object(schema())),
    ];
    leaf.prop_recursive(2, 8, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Type::List(Box::new(t))),
            inner.clone().prop_map(|t| Type::Set(Box::new(t))),
            inner.prop_map(|t| Type::Map(Box::new(t))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_direct_writer_writes_the_bytes_of_the_rmpv_tree(v in any_value(), ty in any_type()) {
        prop_assert_eq!(encode(&v, &ty), old_encode(&v, &ty));
        if let Type::Object(attrs) = &ty {
            prop_assert_eq!(encode_object(&v, attrs), old_encode(&v, &ty));
        }
    }
}

#[test]
fn unsorted_attributes_are_written_in_name_order() {
    let mut attrs = schema();
    attrs.reverse();
    let v = Value::Map([("s".to_string(), Value::from("x"))].into());
    assert_eq!(
        encode_object(&v, &attrs),
        old_encode(&v, &Type::Object(attrs.clone()))
    );
    assert_eq!(encode_object(&v, &attrs), encode_object(&v, &schema()));
}
