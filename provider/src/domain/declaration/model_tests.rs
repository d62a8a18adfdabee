use super::*;

fn props<T: JsonSchema>() -> Vec<String> {
    let s = schemars::schema_for!(T);
    let v = serde_json::to_value(&s).unwrap_or_default();
    v["properties"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn behaviour_table_covers_exactly_the_declared_fields() {
    let mut declared = props::<AccessArgs>();
    for o in props::<AccessOutputs>() {
        if !declared.contains(&o) {
            declared.push(o);
        }
    }
    let table: Vec<String> = BEHAVIOUR.iter().map(|b| b.name.to_string()).collect();
    assert_eq!(declared, table);
}

#[test]
fn every_computed_attribute_says_what_it_follows() {
    for b in BEHAVIOUR
        .iter()
        .filter(|b| b.mode != Mode::Optional && b.mode != Mode::Required)
    {
        assert!(
            !derived_from(b.name).is_empty(),
            "{} has no derivation",
            b.name
        );
    }
    for d in DERIVED {
        assert!(behaviour(d.attr).is_some(), "{}", d.attr);
        for f in d.from.iter().filter(|f| **f != "*") {
            assert!(
                behaviour(f).is_some_and(|b| b.mode != Mode::Computed),
                "{} follows {f}, which is not an input",
                d.attr
            );
        }
    }
}

#[test]
fn case_conversion_round_trips() {
    for b in BEHAVIOUR {
        assert_eq!(snake_case(&camel_case(b.name)), b.name);
    }
    assert_eq!(camel_case("allowed_cidr_blocks"), "allowedCidrBlocks");
}
