//! Property tests of the msgpack decoder: random, truncated, mutated and deeply nested input never
//! panics; every refusal is an error with a path and a message.

use proptest::prelude::*;
use rmpv::Value as Mp;

use super::*;
use crate::domain::declaration::schema;

fn resource() -> Vec<Attribute> {
    schema::resource().attributes.clone()
}

fn provider() -> Vec<Attribute> {
    schema::provider().attributes.clone()
}

fn check(r: Result<Value, DecodeError>) {
    if let Err(e) = r {
        assert!(!e.path.is_empty(), "error without a path: {e:?}");
        assert!(!e.message.is_empty(), "error without a message: {e:?}");
    }
}

/// Arbitrary msgpack values, with the attribute names of the schema among the keys.
fn mp() -> impl Strategy<Value = Mp> {
    let key = prop_oneof![
        Just("vpc_id".to_string()),
        Just("port".to_string()),
        Just("cluster".to_string()),
        Just("tags".to_string()),
        Just("timeouts".to_string()),
        Just("allowed_cidr_blocks".to_string()),
        Just("replication_group_id".to_string()),
        ".{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Mp::Nil),
        any::<bool>().prop_map(Mp::Boolean),
        any::<i64>().prop_map(Mp::from),
        any::<u64>().prop_map(Mp::from),
        any::<f64>().prop_map(Mp::F64),
        any::<f32>().prop_map(Mp::F32),
        ".{0,20}".prop_map(Mp::from),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Mp::Binary),
        (any::<i8>(), proptest::collection::vec(any::<u8>(), 0..4))
            .prop_map(|(t, b)| Mp::Ext(t, b)),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Mp::Array),
            proptest::collection::vec((key.clone().prop_map(Mp::from), inner), 0..6)
                .prop_map(Mp::Map),
        ]
    })
}

fn sample_config() -> Vec<u8> {
    let v = Value::from_json(&serde_json::json!({
        "vpc_id": "vpc-0123456789abcdef0",
        "port": 6379,
        "cluster": {"replication_group_id": "demo-redis"},
        "allowed_cidr_blocks": ["10.0.0.0/16", "fd00::/8"],
        "tags": {"team": "cache", "env": "prod"},
        "timeouts": {"create": "10m"},
    }));
    encode_object(&v, &resource())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        check(decode_object(&bytes, &resource()));
        check(decode_object(&bytes, &provider()));
    }

    #[test]
    fn random_values_never_panic(v in mp()) {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &v).unwrap_or_else(|e| panic!("{e}"));
        check(decode_object(&bytes, &resource()));
        check(decode_object(&bytes, &provider()));
    }

    #[test]
    fn a_truncated_config_is_an_error_at_the_root(cut in 1usize..10_000) {
        let bytes = sample_config();
        let cut = cut % bytes.len();
        prop_assume!(cut > 0);
        let e = decode_object(&bytes[..cut], &resource()).expect_err("truncated input decoded");
        prop_assert_eq!(e.path, "(root)");
        prop_assert!(e.message.starts_with("invalid msgpack"), "{}", e.message);
    }

    #[test]
    fn a_mutated_config_never_panics(at in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = sample_config();
        let n = bytes.len();
        bytes[at % n] = byte;
        check(decode_object(&bytes, &resource()));
    }
}

#[test]
fn the_sample_config_decodes() {
    let v = decode_object(&sample_config(), &resource()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.get("port").as_f64(), Some(6379.0));
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    for (open, depth) in [(0x91u8, 1_000_000usize), (0x81, 300_000)] {
        // fixarray of one element (or fixmap of one entry keyed "" ) nested `depth` times
        let mut bytes = Vec::new();
        for _ in 0..depth {
            bytes.push(open);
            if open == 0x81 {
                bytes.push(0xa0);
            }
        }
        bytes.push(0xc0);
        let e = decode_object(&bytes, &resource()).expect_err("deep value decoded");
        assert_eq!(e.path, "(root)");
        assert!(e.message.contains("depth"), "{}", e.message);
    }
    // at the cap's edge a value of the schema's shape still decodes
    let mut ok = vec![0x81, 0xa4];
    ok.extend_from_slice(b"tags");
    ok.extend_from_slice(&[0x81, 0xa1, b'k', 0xa1, b'v']);
    assert!(decode_object(&ok, &resource()).is_ok());
}
