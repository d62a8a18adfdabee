//! Moving another provider's resource into an access (Terraform's `moved` across resource types,
//! MoveResourceState, Terraform 1.8+): terraform-provider-aws's `aws_security_group` that is the
//! cache's group becomes the access whose cluster group it is, with no AWS call and no gap.
//!
//! The provider is not configured during a move, so the access is built from the source state
//! alone, wholly known: the group's id, VPC, account, name and tags, and the port its inline view of
//! the rules shows. The refresh that follows adopts the rules on that port and the group they allow
//! as an import of a hand-made setup does (see `engine::read`, `engine::setup`). The moved group is
//! the access's own (the user moved it in, as an import makes a group the access's own); the group
//! its rule allows stays an existing client group, never deleted with the access.

use std::collections::BTreeMap;

use crate::domain::cloud::{Group, Rule, Source};
use crate::domain::declaration::desired::{Desired, RESERVED_TAG_PREFIX};
use crate::domain::declaration::model::{AccessOutputs, TF_RESOURCE_TYPE};
use crate::domain::declaration::value::Value;
use crate::domain::diag::Diagnostic;
use crate::domain::engine::setup::{adopted_name, hand_built};
use crate::domain::planning::identity;
use crate::domain::planning::state::AccessState;
use crate::domain::types::{Known, Port, VpcId};

/// The provider whose resources can be moved in (any registry host).
pub const AWS_PROVIDER: &str = "hashicorp/aws";
/// The resource type that can be moved in.
pub const SECURITY_GROUP: &str = "aws_security_group";
/// The schema version of `aws_security_group` this provider reads (terraform-provider-aws has
/// written version 1 since its first releases, through 6.x).
pub const SECURITY_GROUP_VERSION: i64 = 1;
/// terraform-provider-aws's rule resources: they leave the state with a `removed` block instead.
const RULE_TYPES: [&str; 2] = [
    "aws_vpc_security_group_ingress_rule",
    "aws_security_group_rule",
];

/// What Terraform sends about the resource being moved.
#[derive(Clone, Debug, Default)]
pub struct MoveSource {
    /// The source provider's address, such as `registry.terraform.io/hashicorp/aws`.
    pub provider: String,
    pub type_name: String,
    pub schema_version: i64,
    /// The source state, as that provider wrote it (JSON).
    pub state: serde_json::Value,
    /// The source identity (terraform-provider-aws 6.x: account_id, region, id), when sent.
    pub identity: Option<serde_json::Value>,
}

/// The access built from a source, and its identity (None when the source names no Region).
#[derive(Clone, Debug, PartialEq)]
pub struct Moved {
    pub state: AccessState,
    pub identity: Option<Value>,
}

fn text<'a>(j: &'a serde_json::Value, key: &str) -> &'a str {
    j.get(key).and_then(serde_json::Value::as_str).unwrap_or("")
}

/// `import { … }` for the access whose cluster group is `id`.
pub fn import_block(id: &str) -> String {
    format!("import {{\n  to = {TF_RESOURCE_TYPE}.NAME\n  id = \"{id}\"\n}}\n\n(NAME: the name in the moved block's `to`)")
}

fn refused(detail: String) -> Diagnostic {
    Diagnostic::general(
        format!("Cannot move this resource into {TF_RESOURCE_TYPE}"),
        detail,
    )
}

/// The security group a refused source is about, for the import block it suggests.
fn group_of(src: &MoveSource) -> String {
    ["security_group_id", "id"]
        .iter()
        .map(|k| text(&src.state, k))
        .find(|v| v.starts_with("sg-"))
        .unwrap_or("sg-…")
        .to_string()
}

/// Refuses what cannot become an access, saying what to do instead.
fn check_source(src: &MoveSource) -> Result<(), Diagnostic> {
    let from = format!("{} {}", src.provider, src.type_name);
    let import = import_block(&group_of(src));
    let aws = src.provider == AWS_PROVIDER || src.provider.ends_with(&format!("/{AWS_PROVIDER}"));
    if aws && RULE_TYPES.contains(&src.type_name.as_str()) {
        return Err(refused(format!("A rule ({from}) cannot become an access. Move the cache's {SECURITY_GROUP} instead, and let this rule leave the state without being destroyed:\n\nremoved {{\n  from = <this rule's address, without an index>\n  lifecycle {{\n    destroy = false\n  }}\n}}\n\nThe access adopts the rule at its next refresh. Or import the access:\n\n{import}")));
    }
    if !aws || src.type_name != SECURITY_GROUP {
        return Err(refused(format!("Only terraform-provider-aws's {SECURITY_GROUP} (the cache's security group) can be moved into an access, not {from}. Import the access by its cluster security group instead:\n\n{import}")));
    }
    if src.schema_version != SECURITY_GROUP_VERSION {
        return Err(refused(format!("This {SECURITY_GROUP} state has schema version {}, and this provider reads version {SECURITY_GROUP_VERSION}. Refresh it with the terraform-provider-aws that wrote it (terraform apply -refresh-only), or import the access instead:\n\n{import}", src.schema_version)));
    }
    let s = &src.state;
    let id = text(s, "id");
    if !id.starts_with("sg-") {
        return Err(refused(format!("The {SECURITY_GROUP} state holds no security group id (sg-…); import the access by its cluster security group instead:\n\n{import}")));
    }
    if text(s, "vpc_id").is_empty() {
        return Err(refused(format!("{id} is in no VPC (EC2-Classic), and an access's groups are VPC security groups. Make a new access instead.")));
    }
    if text(s, "name") == "default" {
        return Err(refused(format!("{id} is its VPC's default security group, which AWS never deletes and which every instance without a group gets: it cannot be an access's own. Keep it where it is and make a new access, allowing the groups it allows.")));
    }
    Ok(())
}

/// The group's tags that are the user's (not this provider's bookkeeping).
fn user_tags(s: &serde_json::Value) -> BTreeMap<String, String> {
    s.get("tags_all")
        .or_else(|| s.get("tags"))
        .and_then(serde_json::Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !k.starts_with(RESERVED_TAG_PREFIX))
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The group's inline view of its ingress rules (terraform-provider-aws lists every rule of the
/// group in `ingress`), as rules.
fn inline_rules(s: &serde_json::Value, group: &str) -> Vec<Rule> {
    let strings = |r: &serde_json::Value, k: &str| -> Vec<String> {
        r.get(k)
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for (i, r) in s
        .get("ingress")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let mut sources: Vec<Source> = strings(r, "security_groups")
            .iter()
            .map(|g| match g.split_once('/') {
                Some((owner, id)) => Source::group(id, Some(owner)),
                None => Source::group(g, None),
            })
            .collect();
        if r.get("self").and_then(serde_json::Value::as_bool) == Some(true) {
            sources.push(Source::group(group, None));
        }
        for c in strings(r, "cidr_blocks")
            .iter()
            .chain(&strings(r, "ipv6_cidr_blocks"))
        {
            sources.extend(c.parse().ok().map(Source::Cidr));
        }
        sources.extend(
            strings(r, "prefix_list_ids")
                .into_iter()
                .map(Source::PrefixList),
        );
        let protocol = match text(r, "protocol") {
            "6" => "tcp",
            p => p,
        };
        let port = |k: &str| r.get(k).and_then(serde_json::Value::as_i64).unwrap_or(-1);
        out.extend(sources.into_iter().map(|src| Rule {
            id: format!("ingress[{i}]"),
            group_id: group.to_string(),
            is_egress: false,
            protocol: protocol.to_string(),
            from_port: port("from_port"),
            to_port: port("to_port"),
            source_text: src.key(),
            source: Some(src),
            description: None,
            tags: BTreeMap::new(),
            owner_id: None,
        }));
    }
    out
}

/// The part `n` (0-based) of an ARN such as `arn:aws:ec2:us-east-1:123456789012:security-group/sg-1`.
fn arn_part(s: &serde_json::Value, n: usize) -> String {
    text(s, "arn").split(':').nth(n).unwrap_or("").to_string()
}

/// The access an `aws_security_group` becomes, from its state alone.
pub fn adopt(src: &MoveSource) -> Result<Moved, Diagnostic> {
    check_source(src)?;
    let s = &src.state;
    let id = text(s, "id").to_string();
    let owner = Some(text(s, "owner_id").to_string())
        .filter(|o| !o.is_empty())
        .unwrap_or_else(|| arn_part(s, 4));
    let group = Group {
        id: id.clone(),
        name: text(s, "name").to_string(),
        description: text(s, "description").to_string(),
        vpc_id: text(s, "vpc_id").to_string(),
        owner_id: owner.clone(),
        tags: user_tags(s),
    };
    let (port, _) = hand_built(&group, &inline_rules(s, &id));
    let tags = (!group.tags.is_empty()).then(|| Known::Known(group.tags.clone()));
    let inputs = Desired {
        vpc_id: Some(Known::Known(VpcId::reported(&group.vpc_id))),
        port: port.and_then(Port::new).map(Known::Known),
        name: Some(Known::Known(adopted_name(&group.name))),
        create_client_security_group: Some(Known::Known(false)),
        tags,
        ..Desired::default()
    };
    let outputs = AccessOutputs {
        id: id.clone(),
        cluster_security_group_id: id,
        owner_id: owner,
        tags_all: group.tags.clone(),
        ..AccessOutputs::default()
    };
    let state = AccessState { inputs, outputs };
    let region = src
        .identity
        .as_ref()
        .map(|i| text(i, "region").to_string())
        .filter(|r| !r.is_empty())
        .or_else(|| Some(text(s, "region").to_string()).filter(|r| !r.is_empty()))
        .or_else(|| Some(arn_part(s, 3)).filter(|r| !r.is_empty()));
    let identity = region
        .map(|r| identity::of(&state.to_value(), Some(&r)))
        .filter(Value::is_wholly_known)
        .filter(|i| !i.get("account_id").is_null());
    Ok(Moved { state, identity })
}

#[cfg(test)]
#[path = "moved_tests.rs"]
mod tests;
