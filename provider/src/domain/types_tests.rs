use super::*;

#[test]
fn ports_are_whole_and_in_range() {
    assert_eq!(Port::parse(6379.0).map(Port::get), Ok(6379));
    for bad in [0.0, -1.0, 65536.0, 70000.0, 63.5] {
        assert!(Port::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn cidrs_keep_their_spelling_and_know_their_network() {
    let c = Cidr::parse("10.1.2.3/16").unwrap_or_else(|_| Cidr::of(IpNet::default()));
    assert_eq!(c.text(), "10.1.2.3/16");
    assert_eq!(c.net().to_string(), "10.1.0.0/16");
    assert!(!c.is_canonical() && c.is_private());
    assert!(Cidr::parse("10.0.0.0/33").is_err());
    assert!(Cidr::parse("fd00::/8").is_ok_and(|c| c.is_private() && c.is_ipv6()));
    assert!(Cidr::parse("8.8.8.8/32").is_ok_and(|c| !c.is_private()));
}

#[test]
fn group_refs_key_by_spelling_less_the_own_account() {
    let own = "123456789012";
    let g = GroupRef::parse("123456789012/sg-0123456789abcdef0");
    assert_eq!(g.map(|g| g.key(own)).as_deref(), Ok("sg-0123456789abcdef0"));
    let peer = GroupRef::parse("222222222222/sg-0123456789abcdef0");
    assert_eq!(
        peer.map(|g| g.key(own)).as_deref(),
        Ok("222222222222/sg-0123456789abcdef0")
    );
    assert!(GroupRef::parse("sg-0123abcd9").is_err());
    assert!(GroupRef::parse("1234/sg-01234567").is_err());
    assert!(GroupRef::parse("sg-0123ABCD").is_err());
}

#[test]
fn durations_parse_like_go_and_refuse_negatives() {
    assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
    assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
    assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    for bad in ["10", "", "5d", "-5m", "m", "1e400s"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
}

#[test]
fn cluster_refs_round_trip_through_their_tag() {
    let c = ClusterRef::parse("replication_group_id", "demo-redis");
    assert_eq!(
        c.clone().ok().and_then(|c| ClusterRef::from_tag(&c.tag())),
        c.ok()
    );
    assert!(ClusterRef::parse("cache_cluster_id", "bad_id").is_err());
}
