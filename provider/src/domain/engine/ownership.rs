//! Proofs that a security group is this provider's, made for a given access: never a name alone,
//! never a clock.
//!
//! - The cluster group is the access's id: a state records it (made by this provider, or imported
//!   by the user, who so made it the access's own).
//! - A client group recorded by a state is deleted with the access only when it carries what this
//!   provider wrote when it made it for that access (`role = clients`, `cluster-group = <the
//!   access's id>`) or what an explicit import claim wrote; any other group (an application's
//!   group, a hand-made one) is an existing client group, never deleted.
//! - A group no state records (a create whose answer was lost, a killed run) is found again only
//!   with the full proof: the tags above, the creation token both groups of the access share
//!   (`origin`), and the name and description this provider gave it (AWS never lets a
//!   description change), in the access's VPC.

use crate::domain::cloud::Group;
use crate::domain::engine::bookkeeping::{self as bk};

/// None when `g` is, by its name, description and tags, a group this provider created as `role`
/// (`cluster` or `clients`); else why not.
pub(crate) fn unproven(g: &Group, role: &str) -> Option<String> {
    let Some(name) = g.tags.get(bk::NAME).filter(|n| !n.is_empty()) else {
        return Some("it carries no elasticache-access:name tag".into());
    };
    if g.tags.get(bk::ROLE).map(String::as_str) != Some(role) {
        return Some(format!("its elasticache-access:role tag is not {role}"));
    }
    if g.name != bk::group_name(name, role) {
        return Some(format!(
            "its name is not the one this provider gives ({})",
            bk::group_name(name, role)
        ));
    }
    if g.description != bk::group_description(name, role) {
        return Some("its description is not the one this provider gives".into());
    }
    if role == bk::ROLE_CLIENTS && !g.tags.contains_key(bk::ACCESS) {
        return Some("it names no cluster group".into());
    }
    None
}

/// True when the recorded client group `client` is the access `cg`'s own (deleted with it).
pub(crate) fn owns_client(cg: &Group, client: &Group) -> bool {
    client.tags.get(bk::ROLE).map(String::as_str) == Some(bk::ROLE_CLIENTS)
        && client.tags.get(bk::ACCESS) == Some(&cg.id)
}

/// True when `c`, found by its tags, is provably the client group this provider made for `cg`.
pub(crate) fn proven_client(cg: &Group, c: &Group) -> bool {
    owns_client(cg, c)
        && c.vpc_id == cg.vpc_id
        && unproven(c, bk::ROLE_CLIENTS).is_none()
        && c.tags.get(bk::ORIGIN) == cg.tags.get(bk::ORIGIN)
}

/// What holds `g`, for an error that refuses to take it over.
pub(crate) fn holder_text(g: &Group) -> String {
    use crate::domain::engine::lease::Creation;
    let made_here = g.tags.contains_key(bk::ROLE);
    match Creation::of(g) {
        Creation::Leased(l) => format!(
            "a create in progress holds it (its lease runs until {} in AWS's clock and is renewed while that create runs)",
            format_unix(l.expires)
        ),
        Creation::Legacy(_) => "an unfinished create of release 0.2 made it (its creation marker proves nothing about whether that create is gone)".into(),
        Creation::Done if made_here => "it belongs to an access this provider made, which a state records (a completed access, or a failed create that Terraform marked tainted)".into(),
        Creation::Done => "it was not made by this provider (made by hand, or by another tool)".into(),
    }
}

/// Unix seconds as RFC 3339 (UTC).
pub(crate) fn format_unix(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(name: &str, role: &str, extra: &[(&str, &str)]) -> Group {
        let mut tags: std::collections::BTreeMap<String, String> =
            [(bk::NAME, name), (bk::ROLE, role), (bk::ORIGIN, "tok")]
                .iter()
                .chain(extra)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        tags.retain(|_, v| !v.is_empty());
        Group {
            id: format!("sg-{role}"),
            name: bk::group_name(name, role),
            description: bk::group_description(name, role),
            vpc_id: "vpc-1".into(),
            owner_id: "123456789012".into(),
            tags,
        }
    }

    #[test]
    fn a_group_is_ours_only_with_name_description_and_tags() {
        let cg = made("app", bk::ROLE_CLUSTER, &[]);
        assert_eq!(unproven(&cg, bk::ROLE_CLUSTER), None);
        let mut copied = cg.clone();
        copied.name = "web-servers".into();
        assert!(
            unproven(&copied, bk::ROLE_CLUSTER).is_some(),
            "copied tags prove nothing"
        );
        let mut other_desc = cg.clone();
        other_desc.description = "made by hand".into();
        assert!(unproven(&other_desc, bk::ROLE_CLUSTER).is_some());
        assert!(unproven(&cg, bk::ROLE_CLIENTS).is_some());
    }

    #[test]
    fn a_client_group_is_the_accesss_own_only_when_it_names_it() {
        let cg = made("app", bk::ROLE_CLUSTER, &[]);
        let client = made("app", bk::ROLE_CLIENTS, &[(bk::ACCESS, "sg-cluster")]);
        assert!(owns_client(&cg, &client) && proven_client(&cg, &client));
        let app_servers = Group {
            id: "sg-app".into(),
            name: "app-servers".into(),
            ..Group::default()
        };
        assert!(!owns_client(&cg, &app_servers));
        let other_create = made(
            "app",
            bk::ROLE_CLIENTS,
            &[(bk::ACCESS, "sg-cluster"), (bk::ORIGIN, "another")],
        );
        assert!(owns_client(&cg, &other_create) && !proven_client(&cg, &other_create));
        let other_access = made("app", bk::ROLE_CLIENTS, &[(bk::ACCESS, "sg-elsewhere")]);
        assert!(!owns_client(&cg, &other_access));
    }

    #[test]
    fn what_holds_a_group_is_said_in_words() {
        let leased = made("a", bk::ROLE_CLUSTER, &[(bk::CREATING, "v2:t:1800000000")]);
        assert!(
            holder_text(&leased).contains("2027-01-15T08:00:00Z"),
            "{}",
            holder_text(&leased)
        );
        assert!(holder_text(&made("a", bk::ROLE_CLUSTER, &[])).contains("a state records"));
        assert!(holder_text(&Group::default()).contains("not made by this provider"));
    }
}
