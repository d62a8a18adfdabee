use std::collections::BTreeMap;

use super::*;
use crate::domain::cloud::{PrefixList, Source};

fn cidr(s: &str) -> Source {
    Source::Cidr(s.parse().unwrap())
}

fn pl(id: &str) -> Source {
    Source::PrefixList(id.into())
}

fn lists(entries: &[(&str, u32, &str)]) -> BTreeMap<String, PrefixList> {
    entries
        .iter()
        .map(|(id, m, fam)| {
            (
                id.to_string(),
                PrefixList {
                    id: id.to_string(),
                    max_entries: *m,
                    address_family: fam.to_string(),
                },
            )
        })
        .collect()
}

fn many_cidrs(n: usize) -> Vec<Source> {
    (0..n)
        .map(|i| cidr(&format!("10.{}.{}.0/24", i / 250, i % 250)))
        .collect()
}

#[test]
fn sources_cost_as_aws_counts_them() {
    let l = lists(&[("pl-0123abcd", 40, "IPv4"), ("pl-0123abce", 20, "IPv6")]);
    assert_eq!(
        cost(&Source::group("sg-01234567", None), &l),
        Count { v4: 1, v6: 1 }
    );
    assert_eq!(cost(&cidr("fd00::/8"), &l), Count { v4: 0, v6: 1 });
    assert_eq!(cost(&pl("pl-0123abcd"), &l), Count { v4: 40, v6: 0 });
    assert_eq!(cost(&pl("pl-0123abce"), &l), Count { v4: 0, v6: 20 });
}

#[test]
fn two_prefix_lists_of_40_exceed_the_default_quota() {
    let l = lists(&[("pl-0123abcd", 40, "IPv4"), ("pl-0123abce", 40, "IPv4")]);
    let r = Rules {
        after: vec![
            pl("pl-0123abcd"),
            pl("pl-0123abce"),
            Source::group("sg-01234567", None),
        ],
        ..Default::default()
    };
    let d = rules_verdict(
        &r,
        &l,
        DEFAULT_RULES,
        false,
        AttrPath::attr("allowed_prefix_list_ids"),
    )
    .expect("an error");
    assert!(d.is_error());
    assert!(d.detail.contains("81 IPv4 and 1 IPv6"), "{}", d.detail);
    assert!(
        d.detail.contains("L-0EA8095F") && d.detail.contains("is 60"),
        "{}",
        d.detail
    );
    // a raised quota lets it through
    assert!(rules_verdict(&r, &l, 100, false, AttrPath::attr("x")).is_none());
}

#[test]
fn sixty_one_sources_are_an_error_and_sixty_are_not() {
    let l = BTreeMap::new();
    let r = |n| Rules {
        after: many_cidrs(n),
        ..Default::default()
    };
    assert!(rules_verdict(&r(60), &l, 60, false, AttrPath::attr("x")).is_none());
    assert!(rules_verdict(&r(61), &l, 60, false, AttrPath::attr("x")).is_some_and(|d| d.is_error()));
}

#[test]
fn rules_made_outside_count_unless_exclusive_revokes_them() {
    let l = BTreeMap::new();
    let mut r = Rules {
        after: many_cidrs(55),
        outside: many_cidrs(10),
        ..Default::default()
    };
    let d = rules_verdict(&r, &l, 60, false, AttrPath::attr("x")).expect("an error");
    assert!(
        d.detail.contains("10 rules made outside this access"),
        "{}",
        d.detail
    );
    r.exclusive = true;
    // they go only after the new rules are in: the peak still counts them
    let t = r.tally(&l);
    assert_eq!((t.after.v4, t.peak.v4), (55, 65));
}

#[test]
fn an_update_without_room_fails_unless_it_may_revoke_first() {
    let l = BTreeMap::new();
    let r = Rules {
        after: many_cidrs(40),
        leaving: many_cidrs(30),
        ..Default::default()
    };
    let d = rules_verdict(&r, &l, 60, false, AttrPath::attr("x")).expect("an error");
    assert!(d.is_error());
    assert_eq!(
        d.summary,
        "No room to authorize the new rules before revoking the old ones"
    );
    assert!(
        d.detail.contains("70 IPv4") && d.detail.contains("40 IPv4"),
        "{}",
        d.detail
    );
    let w = rules_verdict(&r, &l, 60, true, AttrPath::attr("x")).expect("a warning");
    assert!(!w.is_error());
    assert!(w.detail.contains("30 rules"), "{}", w.detail);
    // with room, no word at all
    assert!(rules_verdict(&r, &l, 100, false, AttrPath::attr("x")).is_none());
}

#[test]
fn attaching_counts_the_busiest_member_and_a_group_already_there_is_free() {
    let five: Vec<String> = (1..=5).map(|i| format!("sg-0000000{i}")).collect();
    let members = vec![
        ("m-001".to_string(), five.clone()),
        ("m-002".to_string(), five[..2].to_vec()),
    ];
    assert_eq!(groups_needed(&members, Some("sg-99999999"), 0), 6);
    let d = groups_verdict(&members, Some("sg-99999999"), 0, 5).expect("an error");
    assert!(
        d.detail.contains("m-001 6 security groups") && d.detail.contains("L-2AFB9258"),
        "{}",
        d.detail
    );
    assert!(groups_verdict(&members, Some("sg-99999999"), 0, 6).is_none());
    // already on the busiest member: only the other one gains it
    assert_eq!(groups_needed(&members, Some("sg-00000003"), 0), 3);
    let all: Vec<(String, Vec<String>)> = vec![("m".into(), five.clone())];
    assert_eq!(groups_needed(&all, Some("sg-00000003"), 0), 0);
    // other accesses of the run attaching to the same cluster take their slots too
    let four = vec![("m-001".to_string(), five[..4].to_vec())];
    assert_eq!(groups_needed(&four, Some("sg-99999999"), 1), 6);
    let d = groups_verdict(&four, Some("sg-99999999"), 1, 5).expect("an error");
    assert!(
        d.detail.contains("m-001 6 security groups")
            && d.detail.contains("1 other access planned in this run"),
        "{}",
        d.detail
    );
    assert_eq!(groups_needed(&all, Some("sg-00000003"), 3), 0);
}
