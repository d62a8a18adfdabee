use super::*;
use crate::domain::declaration::schema;

fn sv(s: &str) -> prost_types::Value {
    string(s)
}

fn obj(fields: Vec<(&str, prost_types::Value)>) -> prost_types::Value {
    prost_types::Value {
        kind: Some(Kind::StructValue(Struct {
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        })),
    }
}

fn list(items: Vec<prost_types::Value>) -> prost_types::Value {
    prost_types::Value {
        kind: Some(Kind::ListValue(ListValue { values: items })),
    }
}

fn num(n: f64) -> prost_types::Value {
    prost_types::Value {
        kind: Some(Kind::NumberValue(n)),
    }
}

fn top(fields: Vec<(&str, prost_types::Value)>) -> Struct {
    Struct {
        fields: fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

#[test]
fn keys_are_mapped_by_the_schema_but_not_inside_maps() {
    let attrs = &schema::resource().attributes;
    let s = top(vec![
        ("vpcId", sv("vpc-0123456789abcdef0")),
        ("cluster", obj(vec![("replicationGroupId", sv("rg"))])),
        ("tags", obj(vec![("costCenter", sv("x"))])),
        ("port", num(6379.0)),
    ]);
    let d = decode(Some(&s), attrs).unwrap_or_default();
    assert_eq!(d.value.get("vpc_id"), &Value::from("vpc-0123456789abcdef0"));
    assert_eq!(
        d.value.get("cluster").get("replication_group_id"),
        &Value::from("rg")
    );
    assert_eq!(d.value.get("tags").get("costCenter"), &Value::from("x"));
    let back = encode(&d.value, attrs, &d.secrets, EncodeOptions::default());
    assert_eq!(back, s);
}

#[test]
fn every_unknown_sentinel_decodes_to_unknown_and_unknown_encodes_to_the_engine_sentinel() {
    let attrs = &schema::resource().attributes;
    // Written out here, not taken from UNKNOWN_SENTINELS, so a typo there fails this test:
    // the engine's own (computed) and the typed ones for bool, number, array, object, asset
    // and archive.
    for sentinel in [
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
    ] {
        let s = top(vec![
            ("vpcId", sv(sentinel)),
            ("allowedCidrBlocks", list(vec![sv(sentinel)])),
        ]);
        let d = decode(Some(&s), attrs).unwrap_or_default();
        assert!(d.value.get("vpc_id").is_unknown());
        assert_eq!(
            d.value.get("allowed_cidr_blocks"),
            &Value::List(vec![Value::Unknown])
        );
    }
    let mut v = Value::Map(BTreeMap::new());
    v.set("vpc_id", Value::Unknown);
    let s = encode(&v, attrs, &BTreeSet::new(), EncodeOptions::default());
    assert_eq!(
        s.fields.get("vpcId"),
        Some(&sv("04da6b54-80e4-46f7-96ec-b56ff0331ba9"))
    );
}

#[test]
fn secrets_and_output_values_are_unwrapped_and_remembered() {
    let attrs = &schema::resource().attributes;
    let s = top(vec![
        ("description", secret(sv("hush"))),
        ("allowedCidrBlocks", list(vec![secret(sv("10.0.0.0/8"))])),
        (
            "port",
            obj(vec![
                (SIG_KEY, sv(OUTPUT_VALUE_SIG)),
                ("value", num(6380.0)),
                (
                    "secret",
                    prost_types::Value {
                        kind: Some(Kind::BoolValue(false)),
                    },
                ),
            ]),
        ),
        ("name", obj(vec![(SIG_KEY, sv(OUTPUT_VALUE_SIG))])),
    ]);
    let d = decode(Some(&s), attrs).unwrap_or_default();
    assert_eq!(d.value.get("description"), &Value::from("hush"));
    assert_eq!(d.value.get("port"), &Value::Number(6380.0));
    assert!(d.value.get("name").is_unknown());
    assert_eq!(
        d.secrets,
        ["allowed_cidr_blocks", "description"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let back = encode(
        &d.value,
        attrs,
        &d.secrets,
        EncodeOptions { keep_secrets: true },
    );
    assert_eq!(back.fields.get("description"), Some(&secret(sv("hush"))));
    let plain = encode(
        &d.value,
        attrs,
        &d.secrets,
        EncodeOptions {
            keep_secrets: false,
        },
    );
    assert_eq!(plain.fields.get("description"), Some(&sv("hush")));
}

#[test]
fn nulls_decode_and_are_left_out_on_encode() {
    let attrs = &schema::resource().attributes;
    let s = top(vec![(
        "name",
        prost_types::Value {
            kind: Some(Kind::NullValue(0)),
        },
    )]);
    let d = decode(Some(&s), attrs).unwrap_or_default();
    assert!(d.value.get("name").is_null());
    assert!(d
        .value
        .as_map()
        .map(|m| m.contains_key("name"))
        .unwrap_or(false));
    assert!(
        encode(&d.value, attrs, &BTreeSet::new(), EncodeOptions::default())
            .fields
            .is_empty()
    );
}

#[test]
fn assets_are_refused_with_their_path() {
    let attrs = &schema::resource().attributes;
    let s = top(vec![(
        "tags",
        obj(vec![("a", obj(vec![(SIG_KEY, sv(ASSET_SIG))]))]),
    )]);
    let e = decode(Some(&s), attrs).err();
    assert_eq!(e.map(|e| e.path), Some("tags[\"a\"]".to_string()));
}

#[test]
fn texts_speak_pulumi() {
    assert_eq!(
        pulumi_text("set allow_public_cidrs = true, or remove client_ssh_cidr_blocks; name stays."),
        "set allowPublicCidrs: true, or remove clientSshCidrBlocks; name stays."
    );
    assert_eq!(
        pulumi_text("`cluster.replication_group_id` and default_tags"),
        "`cluster.replicationGroupId` and defaultTags"
    );
    assert_eq!(pulumi_text("x = y, vpc-id_x"), "x = y, vpc-id_x");
}

#[test]
fn property_paths_are_camel_case() {
    let p = AttrPath::attr("allowed_cidr_blocks").then_index(0);
    assert_eq!(property_path(&p), "allowedCidrBlocks[0]");
    let p = AttrPath::attr("cluster").then_attr("replication_group_id");
    assert_eq!(property_path(&p), "cluster.replicationGroupId");
    let p = AttrPath::attr("tags").then_key("aws:x");
    assert_eq!(property_path(&p), "tags[\"aws:x\"]");
}
