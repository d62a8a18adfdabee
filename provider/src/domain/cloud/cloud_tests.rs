use super::Source;

fn group(id: &str, owner: Option<&str>) -> Source {
    Source::Group {
        id: id.to_string(),
        owner: owner.map(str::to_string),
    }
}

#[test]
fn a_group_of_the_own_account_is_seen_without_its_account() {
    let own = "123456789012";
    let g = group("sg-0123456789abcdef0", Some(own));
    assert_eq!(g.as_seen_from(own).key(), "sg-0123456789abcdef0");
    // another account's group keeps its account; an unknown owner changes nothing
    let peer = group("sg-0123456789abcdef0", Some("222222222222"));
    assert_eq!(peer.as_seen_from(own), peer);
    assert_eq!(g.as_seen_from(""), g);
    let cidr = Source::Cidr("10.0.0.0/8".parse().unwrap());
    assert_eq!(cidr.as_seen_from(own), cidr);
}

#[test]
fn groups_are_the_same_source_with_or_without_their_account() {
    let plain = group("sg-0123456789abcdef0", None);
    assert!(plain.same_as(&group("sg-0123456789abcdef0", Some("123456789012"))));
    assert!(!plain.same_as(&group("sg-0123456789abcdef1", None)));
    assert!(!plain.same_as(&Source::PrefixList("pl-0123abcd".to_string())));
    let cidr = Source::Cidr("10.0.0.0/8".parse().unwrap());
    assert!(cidr.same_as(&cidr.clone()));
}
