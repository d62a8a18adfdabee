//! The EC2 half of the AWS implementation: security groups, their rules and tags.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, SecurityGroup,
    SecurityGroupRule, SecurityGroupRuleDescription, Tag, TagSpecification, UserIdGroupPair,
};
use ipnet::IpNet;
use tracing::debug;

use crate::aws::errors::cloud_error;
use crate::aws::Aws;
use crate::domain::cloud::{
    CloudError, CreatedGroup, Group, GroupFilter, Holders, Rule, RuleSpec, Source,
};

pub(crate) fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    let mut b = Filter::builder().name(name);
    for v in values {
        b = b.values(v);
    }
    b.build()
}

fn ec2_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn tag_spec(kind: ResourceType, tags: &BTreeMap<String, String>) -> Option<TagSpecification> {
    if tags.is_empty() {
        return None;
    }
    Some(
        TagSpecification::builder()
            .resource_type(kind)
            .set_tags(Some(ec2_tags(tags)))
            .build(),
    )
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn group_from(g: &SecurityGroup) -> Option<Group> {
    Some(Group {
        id: g.group_id()?.to_string(),
        name: g.group_name().unwrap_or_default().to_string(),
        description: g.description().unwrap_or_default().to_string(),
        vpc_id: g.vpc_id().unwrap_or_default().to_string(),
        owner_id: g.owner_id().unwrap_or_default().to_string(),
        tags: tag_map(g.tags()),
    })
}

/// The source of a rule as AWS reports it, and its display text.
fn rule_source(r: &SecurityGroupRule) -> (Option<Source>, String) {
    if let Some(refd) = r.referenced_group_info() {
        let Some(id) = refd.group_id() else {
            return (None, String::new());
        };
        let owner = match (refd.user_id(), r.group_owner_id()) {
            (Some(user), Some(own)) if user != own => Some(user.to_string()),
            _ => None,
        };
        let source = Source::Group {
            id: id.to_string(),
            owner,
        };
        let text = source.to_string();
        return (Some(source), text);
    }
    if let Some(cidr) = r.cidr_ipv4().or(r.cidr_ipv6()) {
        return match cidr.parse::<IpNet>() {
            Ok(net) => {
                let source = Source::Cidr(net.trunc());
                let text = source.to_string();
                (Some(source), text)
            }
            Err(_) => (None, cidr.to_string()),
        };
    }
    if let Some(pl) = r.prefix_list_id() {
        return (Some(Source::PrefixList(pl.to_string())), pl.to_string());
    }
    (None, String::new())
}

fn rule_from(r: &SecurityGroupRule) -> Option<Rule> {
    let (source, source_text) = rule_source(r);
    Some(Rule {
        id: r.security_group_rule_id()?.to_string(),
        group_id: r.group_id().unwrap_or_default().to_string(),
        is_egress: r.is_egress().unwrap_or(false),
        protocol: r.ip_protocol().unwrap_or_default().to_string(),
        from_port: r.from_port().map(i64::from).unwrap_or(-1),
        to_port: r.to_port().map(i64::from).unwrap_or(-1),
        source,
        source_text,
        description: r.description().map(str::to_string),
        tags: tag_map(r.tags()),
        owner_id: r.group_owner_id().map(str::to_string),
    })
}

fn description(spec: &RuleSpec) -> Option<String> {
    Some(spec.description.clone()).filter(|d| !d.is_empty())
}

/// One IpPermission for one rule: TCP on `port` from the rule's single source.
fn ip_permission(spec: &RuleSpec) -> IpPermission {
    let port = i32::from(spec.port);
    let b = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port);
    let desc = description(spec);
    match &spec.source {
        Source::Group { id, owner } => b.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(id)
                .set_user_id(owner.clone())
                .set_description(desc)
                .build(),
        ),
        Source::Cidr(net @ IpNet::V4(_)) => b.ip_ranges(
            IpRange::builder()
                .cidr_ip(net.trunc().to_string())
                .set_description(desc)
                .build(),
        ),
        Source::Cidr(net @ IpNet::V6(_)) => b.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(net.trunc().to_string())
                .set_description(desc)
                .build(),
        ),
        Source::PrefixList(pl) => b.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(pl)
                .set_description(desc)
                .build(),
        ),
    }
    .build()
}

pub(crate) fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_string());
    }
}

impl Aws {
    pub(crate) async fn describe_groups_filtered(
        &self,
        operation_filters: Vec<Filter>,
    ) -> Result<Vec<Group>, CloudError> {
        let mut groups = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .ec2
                .describe_security_groups()
                .set_filters(Some(operation_filters.clone()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeSecurityGroups", e))?;
            groups.extend(out.security_groups().iter().filter_map(group_from));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(groups)
    }

    pub(crate) async fn ec2_find_security_groups(
        &self,
        f: &GroupFilter,
    ) -> Result<Vec<Group>, CloudError> {
        let mut filters = Vec::new();
        if let Some(v) = &f.vpc_id {
            filters.push(filter("vpc-id", [v.as_str()]));
        }
        if !f.names.is_empty() {
            filters.push(filter("group-name", f.names.iter().cloned()));
        }
        for (k, v) in &f.tags {
            filters.push(match v {
                Some(v) => filter(&format!("tag:{k}"), [v.as_str()]),
                None => filter("tag-key", [k.as_str()]),
            });
        }
        debug!(operation = "DescribeSecurityGroups", filter = ?f, "AWS call");
        self.describe_groups_filtered(filters).await
    }

    pub(crate) async fn ec2_create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<CreatedGroup, CloudError> {
        debug!(
            operation = "CreateSecurityGroup",
            vpc_id,
            group_name = name,
            "AWS call"
        );
        let out = self
            .ec2
            .create_security_group()
            .vpc_id(vpc_id)
            .group_name(name)
            .description(description)
            .set_tag_specifications(tag_spec(ResourceType::SecurityGroup, tags).map(|t| vec![t]))
            .send()
            .await
            .map_err(|e| cloud_error("CreateSecurityGroup", e))?;
        let id = out
            .group_id()
            .map(str::to_string)
            .ok_or_else(|| CloudError::Other {
                code: "InvalidResponse".to_string(),
                message: format!("CreateSecurityGroup for {name} answered without a group id"),
            })?;
        // arn:aws:ec2:<region>:<account>:security-group/<id>
        let owner_id = out
            .security_group_arn()
            .and_then(|arn| arn.split(':').nth(4))
            .filter(|a| !a.is_empty())
            .map(str::to_string);
        Ok(CreatedGroup { id, owner_id })
    }

    pub(crate) async fn ec2_describe_security_groups(
        &self,
        ids: &[String],
    ) -> Result<Vec<Group>, CloudError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        debug!(operation = "DescribeSecurityGroups", group_ids = ?ids, "AWS call");
        self.describe_groups_filtered(vec![filter("group-id", ids.iter().cloned())])
            .await
    }

    pub(crate) async fn ec2_describe_rules(
        &self,
        group_ids: &[String],
    ) -> Result<Vec<Rule>, CloudError> {
        if group_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut rules = Vec::new();
        let mut token: Option<String> = None;
        loop {
            debug!(operation = "DescribeSecurityGroupRules", group_ids = ?group_ids, page = token.is_some(), "AWS call");
            let out = self
                .ec2
                .describe_security_group_rules()
                .filters(filter("group-id", group_ids.iter().cloned()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeSecurityGroupRules", e))?;
            rules.extend(out.security_group_rules().iter().filter_map(rule_from));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(rules)
    }

    pub(crate) async fn ec2_authorize_ingress(
        &self,
        group_id: &str,
        rules: &[RuleSpec],
        tags: &BTreeMap<String, String>,
    ) -> Result<Vec<Rule>, CloudError> {
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        let sources: Vec<String> = rules
            .iter()
            .map(|r| format!("{}:{}", r.source, r.port))
            .collect();
        debug!(operation = "AuthorizeSecurityGroupIngress", group_id, rules = ?sources, "AWS call");
        let out = self
            .ec2
            .authorize_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(rules.iter().map(ip_permission).collect()))
            .set_tag_specifications(
                tag_spec(ResourceType::SecurityGroupRule, tags).map(|t| vec![t]),
            )
            .send()
            .await
            .map_err(|e| cloud_error("AuthorizeSecurityGroupIngress", e))?;
        Ok(out
            .security_group_rules()
            .iter()
            .filter_map(rule_from)
            .collect())
    }

    pub(crate) async fn ec2_revoke_ingress(
        &self,
        group_id: &str,
        rule_ids: &[String],
    ) -> Result<(), CloudError> {
        if rule_ids.is_empty() {
            return Ok(());
        }
        debug!(operation = "RevokeSecurityGroupIngress", group_id, rule_ids = ?rule_ids, "AWS call");
        self.ec2
            .revoke_security_group_ingress()
            .group_id(group_id)
            .set_security_group_rule_ids(Some(rule_ids.to_vec()))
            .send()
            .await
            .map_err(|e| cloud_error("RevokeSecurityGroupIngress", e))?;
        Ok(())
    }

    pub(crate) async fn ec2_update_rule_descriptions(
        &self,
        group_id: &str,
        rules: &[(String, RuleSpec)],
    ) -> Result<(), CloudError> {
        if rules.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = rules.iter().map(|(id, _)| id.as_str()).collect();
        debug!(operation = "UpdateSecurityGroupRuleDescriptionsIngress", group_id, rule_ids = ?ids, "AWS call");
        // By rule id alone: the rule's source is not restated, so a group of a peered account or
        // a prefix list is never re-resolved, and no permission on the source group is needed
        // (ModifySecurityGroupRules needs both).
        let descriptions = rules
            .iter()
            .map(|(id, spec)| {
                SecurityGroupRuleDescription::builder()
                    .security_group_rule_id(id)
                    .set_description(description(spec))
                    .build()
            })
            .collect();
        self.ec2
            .update_security_group_rule_descriptions_ingress()
            .group_id(group_id)
            .set_security_group_rule_descriptions(Some(descriptions))
            .send()
            .await
            .map_err(|e| cloud_error("UpdateSecurityGroupRuleDescriptionsIngress", e))?;
        Ok(())
    }

    pub(crate) async fn ec2_create_tags(
        &self,
        resource_ids: &[String],
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        if resource_ids.is_empty() || tags.is_empty() {
            return Ok(());
        }
        let keys: Vec<&String> = tags.keys().collect();
        debug!(operation = "CreateTags", resource_ids = ?resource_ids, tag_keys = ?keys, "AWS call");
        self.ec2
            .create_tags()
            .set_resources(Some(resource_ids.to_vec()))
            .set_tags(Some(ec2_tags(tags)))
            .send()
            .await
            .map_err(|e| cloud_error("CreateTags", e))?;
        Ok(())
    }

    pub(crate) async fn ec2_delete_tags(
        &self,
        resource_ids: &[String],
        keys: &[String],
    ) -> Result<(), CloudError> {
        if resource_ids.is_empty() || keys.is_empty() {
            return Ok(());
        }
        debug!(operation = "DeleteTags", resource_ids = ?resource_ids, tag_keys = ?keys, "AWS call");
        self.ec2
            .delete_tags()
            .set_resources(Some(resource_ids.to_vec()))
            .set_tags(Some(
                keys.iter().map(|k| Tag::builder().key(k).build()).collect(),
            ))
            .send()
            .await
            .map_err(|e| cloud_error("DeleteTags", e))?;
        Ok(())
    }

    pub(crate) async fn ec2_delete_security_group(&self, group_id: &str) -> Result<(), CloudError> {
        debug!(operation = "DeleteSecurityGroup", group_id, "AWS call");
        self.ec2
            .delete_security_group()
            .group_id(group_id)
            .send()
            .await
            .map_err(|e| cloud_error("DeleteSecurityGroup", e))?;
        Ok(())
    }

    pub(crate) async fn ec2_find_holders(
        &self,
        group_id: &str,
        vpc_id: &str,
    ) -> Result<Holders, CloudError> {
        let mut holders = Holders::default();

        let mut token: Option<String> = None;
        loop {
            debug!(
                operation = "DescribeNetworkInterfaces",
                group_id, "AWS call"
            );
            let out = self
                .ec2
                .describe_network_interfaces()
                .filters(filter("group-id", [group_id]))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloud_error("DescribeNetworkInterfaces", e))?;
            for eni in out.network_interfaces() {
                if let Some(id) = eni.network_interface_id() {
                    push_unique(&mut holders.network_interfaces, id);
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }

        for direction in ["ip-permission.group-id", "egress.ip-permission.group-id"] {
            debug!(
                operation = "DescribeSecurityGroups",
                vpc_id,
                filter = direction,
                group_id,
                "AWS call"
            );
            let groups = self
                .describe_groups_filtered(vec![
                    filter("vpc-id", [vpc_id]),
                    filter(direction, [group_id]),
                ])
                .await?;
            for g in groups.iter().filter(|g| g.id != group_id) {
                push_unique(&mut holders.referencing_groups, &g.id);
            }
        }

        holders.clusters = self
            .clusters_using_group(group_id)
            .await?
            .clusters
            .iter()
            .map(|c| c.id().to_string())
            .collect();
        Ok(holders)
    }
}
