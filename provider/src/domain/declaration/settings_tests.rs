use super::*;

fn cfg(j: serde_json::Value) -> Value {
    Value::from_json(&j)
}

fn error_paths(j: serde_json::Value) -> Vec<String> {
    match parse(&cfg(j)) {
        Ok(_) => Vec::new(),
        Err(d) => d
            .iter()
            .filter_map(|d| d.path.as_ref().map(ToString::to_string))
            .collect(),
    }
}

#[test]
fn each_bad_setting_is_reported_at_its_path() {
    let paths = error_paths(serde_json::json!({
        "region": "US East", "max_retries": 0,
        "assume_role": {"role_arn": "x", "duration": "1m"},
        "endpoints": {"ec2": "localhost", "sts": "http://h:99999"},
        "default_tags": {"tags": {"aws:x": "y"}},
    }));
    assert_eq!(
        paths,
        vec![
            "region",
            "assume_role.role_arn",
            "assume_role.duration",
            "endpoints.ec2",
            "endpoints.sts",
            "max_retries",
            "default_tags.tags[\"aws:x\"]",
        ]
    );
}

#[test]
fn a_good_configuration_is_typed() {
    let s = parse(&cfg(serde_json::json!({
        "region": "eu-west-1", "max_retries": 3,
        "assume_role": {"role_arn": "arn:aws:iam::123456789012:role/deployer", "duration": "1h"},
        "endpoints": {"ec2": "http://127.0.0.1:5000", "servicequotas": "http://127.0.0.1:5001"},
        "default_tags": {"tags": {"env": "prod"}},
        "ignore_tags": {"key_prefixes": ["kubernetes.io/"]},
    })));
    let s = s.map(|c| c.value).ok();
    let aws = s
        .as_ref()
        .and_then(|s| s.aws.known().cloned())
        .unwrap_or_default();
    assert_eq!(aws.max_attempts, 3);
    assert_eq!(
        aws.endpoints.servicequotas.as_deref(),
        Some("http://127.0.0.1:5001")
    );
    assert_eq!(
        aws.assume_role.map(|r| (r.session_name, r.duration)),
        Some((
            DEFAULT_SESSION_NAME.to_string(),
            Some(Duration::from_secs(3600))
        ))
    );
    assert!(s
        .as_ref()
        .and_then(|s| s.ignore_tags.known().cloned())
        .is_some_and(|f| f.ignores("kubernetes.io/cluster")));
}

#[test]
fn an_unknown_setting_makes_the_connection_unknown() {
    let mut v = cfg(serde_json::json!({"default_tags": {"tags": {"a": "b"}}}));
    v.set("region", Value::Unknown);
    let s = parse(&v).map(|c| c.value).ok();
    assert_eq!(s.as_ref().map(|s| s.aws.is_unknown()), Some(true));
    assert_eq!(
        s.map(|s| s.default_tags),
        Some(Known::Known(BTreeMap::from([("a".into(), "b".into())])))
    );
}

#[test]
fn endpoint_and_arn_rules() {
    for ok in [
        "http://127.0.0.1:5000",
        "https://ec2.eu-west-1.amazonaws.com",
        "http://[::1]:80/x",
    ] {
        assert_eq!(endpoint_rule(ok), Ok(()), "{ok}");
    }
    for bad in [
        "localhost",
        "ftp://x",
        "http://",
        "http://h:0",
        "http://a b",
    ] {
        assert!(endpoint_rule(bad).is_err(), "{bad}");
    }
    assert!(role_arn_rule("arn:aws-cn:iam::123456789012:role/a/b").is_ok());
    assert!(role_arn_rule("arn:aws:iam::1234:role/a").is_err());
    assert!(role_arn_rule("arn:aws:iam::123456789012:user/a").is_err());
}
