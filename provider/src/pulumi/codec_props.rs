//! Property tests of the Struct decoder: random property values (specials included), random bytes
//! read as a Struct, and deeply nested values never panic; every refusal has a path and a reason.

use std::collections::BTreeMap;

use proptest::prelude::*;
use prost::Message;
use prost_types::{value::Kind, ListValue, Struct, Value as Pv};

use super::*;
use crate::domain::declaration::schema;

fn attrs() -> Vec<Attribute> {
    schema::resource().attributes.clone()
}

fn pv(kind: Kind) -> Pv {
    Pv { kind: Some(kind) }
}

fn object(fields: BTreeMap<String, Pv>) -> Pv {
    pv(Kind::StructValue(Struct {
        fields: fields.into_iter().collect(),
    }))
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("vpcId".to_string()),
        Just("port".to_string()),
        Just("cluster".to_string()),
        Just("tags".to_string()),
        Just("allowedCidrBlocks".to_string()),
        Just("replicationGroupId".to_string()),
        Just("value".to_string()),
        Just("secret".to_string()),
        Just(SIG_KEY.to_string()),
        ".{0,10}",
    ]
}

fn value() -> impl Strategy<Value = Pv> {
    let leaf = prop_oneof![
        Just(Pv { kind: None }),
        Just(pv(Kind::NullValue(0))),
        any::<bool>().prop_map(|b| pv(Kind::BoolValue(b))),
        any::<f64>().prop_map(|n| pv(Kind::NumberValue(n))),
        prop_oneof![
            ".{0,16}".boxed(),
            Just(UNKNOWN_SENTINELS[0].to_string()).boxed(),
            Just(SECRET_SIG.to_string()).boxed(),
            Just(OUTPUT_VALUE_SIG.to_string()).boxed(),
            Just(RESOURCE_REF_SIG.to_string()).boxed(),
            Just(ASSET_SIG.to_string()).boxed(),
        ]
        .prop_map(|s| pv(Kind::StringValue(s))),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5)
                .prop_map(|values| pv(Kind::ListValue(ListValue { values }))),
            proptest::collection::btree_map(key(), inner, 0..5).prop_map(object),
        ]
    })
}

fn check(s: &Struct) {
    if let Err(e) = decode(Some(s), &attrs()) {
        assert!(!e.reason.is_empty(), "error without a reason: {e:?}");
        assert!(
            s.fields.keys().any(|k| e.path.starts_with(k.as_str())),
            "the path {:?} does not start at a property of {:?}",
            e.path,
            s.fields.keys().collect::<Vec<_>>()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_properties_never_panic(fields in proptest::collection::btree_map(key(), value(), 0..6)) {
        check(&Struct { fields: fields.into_iter().collect() });
    }

    #[test]
    fn random_bytes_read_as_a_struct_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(s) = Struct::decode(bytes.as_slice()) {
            check(&s);
        }
    }

    #[test]
    fn a_truncated_struct_never_panics(fields in proptest::collection::btree_map(key(), value(), 1..6), cut in any::<usize>()) {
        let bytes = Struct { fields: fields.into_iter().collect() }.encode_to_vec();
        if let Ok(s) = Struct::decode(&bytes[..cut % (bytes.len() + 1)]) {
            check(&s);
        }
    }
}

fn nested(depth: usize, wrap: impl Fn(Pv) -> Pv) -> Struct {
    let mut v = pv(Kind::StringValue("x".into()));
    for _ in 0..depth {
        v = wrap(v);
    }
    Struct {
        fields: [("tags".to_string(), v)].into_iter().collect(),
    }
}

#[test]
fn deep_nesting_is_refused_at_its_property_without_overflowing_the_stack() {
    let list = |v| pv(Kind::ListValue(ListValue { values: vec![v] }));
    let map = |v| object([("k".to_string(), v)].into_iter().collect());
    let secret = |v| {
        object(
            [
                (
                    SIG_KEY.to_string(),
                    pv(Kind::StringValue(SECRET_SIG.into())),
                ),
                ("value".to_string(), v),
            ]
            .into_iter()
            .collect(),
        )
    };
    // run on a thread with a small stack: the cap, not the stack size, must stop the recursion
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            for s in [
                nested(200_000, list),
                nested(50_000, map),
                nested(200_000, secret),
            ] {
                let e = decode(Some(&s), &attrs()).expect_err("deep value decoded");
                assert!(e.path.starts_with("tags"), "{e:?}");
                assert!(e.reason.contains("nested deeper than"), "{e:?}");
                // (dropping a value this deep is itself recursive: leak it, it is a test)
                std::mem::forget(s);
            }
            let shallow = nested(3, map);
            assert!(decode(Some(&shallow), &attrs()).is_ok());
        })
        .unwrap_or_else(|e| panic!("{e}"))
        .join()
        .unwrap_or_else(|_| panic!("the decoder panicked or overflowed"));
}
