//! What a setup that this provider did not make shows of itself (one built by hand as AWS's guide
//! describes, or by terraform-provider-aws, its modules or pulumi-aws): the port it opens, the
//! group its rule allows, which of its rules an access adopts, and the name the access records.
//! Import, and the first read of an access moved in from another provider's resource, both decide
//! with these functions.

use std::collections::BTreeSet;

use crate::domain::cloud::{Group, Rule, Source};
use crate::domain::engine::observe::SSH_PORT;

/// The port and client group of a setup built by hand: the port of its one group-sourced rule from
/// the same account (or the only port its TCP rules use), and that group.
pub fn hand_built(cg: &Group, rules: &[Rule]) -> (Option<u16>, Option<String>) {
    let ingress: Vec<&Rule> = rules
        .iter()
        .filter(|r| {
            r.group_id == cg.id && !r.is_egress && r.protocol == "tcp" && r.from_port == r.to_port
        })
        .collect();
    let own_groups: Vec<(&str, u16)> = ingress
        .iter()
        .filter_map(|r| match &r.source {
            Some(Source::Group { id, owner })
                if owner.as_deref().is_none_or(|o| o == cg.owner_id) =>
            {
                u16::try_from(r.from_port).ok().map(|p| (id.as_str(), p))
            }
            _ => None,
        })
        .collect();
    if let [(id, port)] = own_groups.as_slice() {
        return (Some(*port), Some(id.to_string()));
    }
    let ports: BTreeSet<i64> = ingress.iter().map(|r| r.from_port).collect();
    let port = (ports.len() == 1)
        .then(|| ports.iter().next().and_then(|p| u16::try_from(*p).ok()))
        .flatten();
    (port, None)
}

/// The rules an access adopts from such a setup: every TCP rule of the cluster group `cg` on
/// `port` with a source this provider models, and the SSH rules from CIDR blocks of its own client
/// group `client` (when it has one).
pub fn adopted_rules(
    rules: &[Rule],
    cg: &str,
    port: Option<u16>,
    client: Option<&str>,
) -> BTreeSet<String> {
    rules
        .iter()
        .filter(|r| {
            !r.is_egress && r.source.is_some() && r.from_port == r.to_port && r.protocol == "tcp"
        })
        .filter(|r| {
            (r.group_id == cg && port.is_some_and(|p| i64::from(p) == r.from_port))
                || (Some(r.group_id.as_str()) == client
                    && r.from_port == i64::from(SSH_PORT)
                    && matches!(r.source, Some(Source::Cidr(_))))
        })
        .map(|r| r.id.clone())
        .collect()
}

/// The `name` of an access whose cluster group this provider did not make: the base of a name that
/// follows this provider's `<name>-cluster`, else the group's whole name. Either way the group
/// keeps its own name for life: SG names never change, so the access never plans a replacement for
/// it, and `<name>-clients` names a client group the access may create later.
pub fn adopted_name(group_name: &str) -> String {
    group_name
        .strip_suffix("-cluster")
        .filter(|base| !base.is_empty())
        .unwrap_or(group_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, group: &str, port: i64, source: Option<Source>) -> Rule {
        Rule {
            id: id.into(),
            group_id: group.into(),
            is_egress: false,
            protocol: "tcp".into(),
            from_port: port,
            to_port: port,
            source_text: source.as_ref().map(ToString::to_string).unwrap_or_default(),
            source,
            description: None,
            tags: Default::default(),
            owner_id: None,
        }
    }

    fn cidr(s: &str) -> Option<Source> {
        s.parse().ok().map(Source::Cidr)
    }

    #[test]
    fn the_one_group_sourced_rule_names_port_and_client_group() {
        let cg = Group {
            id: "sg-c".into(),
            owner_id: "123456789012".into(),
            ..Group::default()
        };
        let rules = [
            rule("sgr-1", "sg-c", 6380, Some(Source::group("sg-web", None))),
            rule("sgr-2", "sg-c", 6380, cidr("10.0.0.0/8")),
            rule("sgr-3", "sg-c", 22, cidr("10.0.0.0/8")),
        ];
        assert_eq!(
            hand_built(&cg, &rules),
            (Some(6380), Some("sg-web".to_string()))
        );
        assert_eq!(
            adopted_rules(&rules, "sg-c", Some(6380), None),
            ["sgr-1", "sgr-2"].map(String::from).into()
        );
        // two ports, no group: no port
        assert_eq!(hand_built(&cg, &rules[1..]), (None, None));
        // a peered account's group is not this setup's client group
        let peered = [rule(
            "sgr-4",
            "sg-c",
            6379,
            Some(Source::group("sg-x", Some("210987654321"))),
        )];
        assert_eq!(hand_built(&cg, &peered), (Some(6379), None));
    }

    #[test]
    fn an_adopted_name_is_the_groups_less_a_conventional_suffix() {
        assert_eq!(adopted_name("cache-sg"), "cache-sg");
        assert_eq!(adopted_name("payments-cluster"), "payments");
        assert_eq!(adopted_name("-cluster"), "-cluster");
        assert_eq!(adopted_name("cache-2024"), "cache-2024");
    }
}
