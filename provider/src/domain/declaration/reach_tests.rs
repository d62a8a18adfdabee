use super::*;

fn src(kind: &str, reference: &str) -> ReachSource {
    ReachSource {
        kind: kind.into(),
        reference: Some(reference.into()),
        on_group: Some("sg-00000000000000001".into()),
        managed: true,
        path: "unknown".into(),
        from_port: 6379,
        to_port: 6379,
        protocol: "tcp".into(),
        ..Default::default()
    }
}

fn cluster(tls: Option<bool>, auth: &str) -> ReachCluster {
    ReachCluster {
        id: "demo".into(),
        kind: "replication_group".into(),
        engine: "redis".into(),
        transit_encryption: tls,
        authentication: Some(auth.into()),
    }
}

fn ids(f: &[Finding]) -> Vec<(String, String)> {
    f.iter()
        .map(|x| (x.id.clone(), x.subject.clone()))
        .collect()
}

fn pair(id: &str, subject: &str) -> (String, String) {
    (id.into(), subject.into())
}

#[test]
fn each_finding_of_the_table_fires_and_clears() {
    let private = cluster(Some(true), "auth_token");
    assert!(findings(6379, &[src("cidr", "10.0.0.0/8")], Some(&private)).is_empty());
    // open to the world: only that finding for the source
    let world = findings(6379, &[src("cidr", "0.0.0.0/0"), src("cidr", "::/0")], None);
    assert_eq!(
        ids(&world),
        vec![
            pair("open-to-world", "0.0.0.0/0"),
            pair("open-to-world", "::/0")
        ]
    );
    // a public CIDR, and a prefix list with a public entry (not while its entries are unknown)
    let mut pl = src("prefix_list", "pl-0123abcd");
    assert!(findings(6379, &[pl.clone()], None).is_empty());
    pl.entries = Some(vec!["10.1.0.0/16".into(), "198.51.100.0/24".into()]);
    let public = findings(6379, &[src("cidr", "203.0.113.0/24"), pl], None);
    assert_eq!(
        ids(&public),
        vec![
            pair("public-source", "203.0.113.0/24"),
            pair("public-source", "pl-0123abcd")
        ]
    );
    // posture
    let off = findings(6379, &[], Some(&cluster(Some(false), "none")));
    assert_eq!(
        ids(&off),
        vec![
            pair("no-authentication", "demo"),
            pair("no-transit-encryption", "demo")
        ]
    );
    assert!(
        findings(6379, &[], Some(&cluster(None, "rbac"))).is_empty(),
        "unknown TLS says nothing"
    );
    // a wider range, or every protocol
    let mut wide = src("cidr", "10.0.0.0/8");
    wide.to_port = 6380;
    let mut all = src("security_group", "sg-00000000000000002");
    (all.protocol, all.from_port, all.to_port) = ("-1".into(), -1, -1);
    assert_eq!(
        ids(&findings(6379, &[wide, all], None)),
        vec![
            pair("wide-port-range", "10.0.0.0/8"),
            pair("wide-port-range", "sg-00000000000000002")
        ]
    );
    assert_eq!(
        unknown_group("sg-1", "no longer exists").id,
        UNKNOWN_REFERENCED_GROUP.id
    );
    assert_eq!(nacl_denies("10.0.0.0/8", "acl-1", 6379).severity, "low");
}

#[test]
fn the_table_is_the_contracts_and_blocking_means_critical_or_high() {
    let rows: Vec<(&str, &str, bool)> = FINDINGS
        .iter()
        .map(|f| (f.id, f.severity, f.blocking()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("open-to-world", "critical", true),
            ("public-source", "high", true),
            ("no-transit-encryption", "high", true),
            ("no-authentication", "high", true),
            ("wide-port-range", "medium", false),
            ("unknown-referenced-group", "medium", false),
            ("nacl-denies-port", "low", false),
        ]
    );
    assert_eq!(findings_json()[0]["blocking"], serde_json::json!(true));
}

#[test]
fn the_own_client_group_sorts_first_also_while_its_id_is_unknown() {
    let own = src("security_group", "sg-0fffffffffffffff0");
    let other = src("security_group", "sg-00000000000000002");
    let cidr = src("cidr", "10.0.0.0/8");
    let mut s = vec![other.clone(), cidr.clone(), own.clone()];
    sort_sources(&mut s, Some("sg-0fffffffffffffff0"));
    assert_eq!(s, vec![own.clone(), cidr.clone(), other.clone()]);
    let mut unknown = own;
    unknown.reference = None;
    let mut s = vec![other.clone(), unknown.clone(), cidr.clone()];
    sort_sources(&mut s, None);
    assert_eq!(s, vec![unknown, cidr, other]);
}

#[test]
fn authentication_prefers_iam_then_rbac_then_a_token() {
    assert_eq!(authentication(true, true, true), "iam");
    assert_eq!(authentication(false, true, true), "rbac");
    assert_eq!(authentication(false, false, true), "auth_token");
    assert_eq!(authentication(false, false, false), "none");
}

#[test]
fn the_json_schema_accepts_the_object_and_names_every_field() {
    let schema = crate::domain::declaration::schema::json_schema::<Reachability>();
    let text = schema.to_string();
    for f in [
        "schema_version",
        "on_group",
        "rule_id",
        "network_interfaces",
        "entries",
        "transit_encryption",
        "authentication",
        "severity",
    ] {
        assert!(text.contains(f), "{f}");
    }
    let r = Reachability {
        schema_version: REACH_SCHEMA_VERSION,
        port: 6379,
        sources: vec![src("cidr", "10.0.0.0/8")],
        cluster: Some(cluster(Some(true), "iam")),
        findings: vec![],
    };
    let back: Reachability = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn the_published_json_schema_validates_objects_and_refuses_a_wrong_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sdk-schemas/jsonschema/reachability.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("generated schema")).unwrap();
    let v = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let r = Reachability {
        schema_version: REACH_SCHEMA_VERSION,
        port: 6379,
        sources: vec![src("prefix_list", "pl-0123abcd")],
        cluster: None,
        findings: findings(6379, &[src("cidr", "0.0.0.0/0")], None),
    };
    let ok = serde_json::to_value(&r).unwrap();
    assert!(
        v.is_valid(&ok),
        "{:?}",
        v.iter_errors(&ok)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    let mut bad = ok.clone();
    bad["sources"][0]["managed"] = serde_json::json!("yes");
    assert!(!v.is_valid(&bad));
}
