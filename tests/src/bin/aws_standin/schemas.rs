//! The schemas of terraform-provider-aws 6.x's `aws_security_group`, `aws_security_group_rule` and
//! `aws_vpc_security_group_ingress_rule`, as its GetProviderSchema publishes them (the attributes
//! their states hold; validation and descriptions left out), and its provider block's `region`.

use elasticache_proto::tfplugin6 as tf;

use tf::schema::nested_block::NestingMode;
use tf::schema::{Attribute, Block, NestedBlock};

/// The schema versions terraform-provider-aws writes its states with.
pub const SECURITY_GROUP_VERSION: i64 = 1;
pub const SECURITY_GROUP_RULE_VERSION: i64 = 2;
pub const INGRESS_RULE_VERSION: i64 = 0;

#[derive(Clone, Copy)]
enum Mode {
    Required,
    Optional,
    Computed,
    OptionalComputed,
}

use Mode::{Computed, Optional, OptionalComputed, Required};

fn attr(name: &str, ty: &str, mode: Mode) -> Attribute {
    Attribute {
        name: name.into(),
        r#type: ty.as_bytes().to_vec(),
        required: matches!(mode, Required),
        optional: matches!(mode, Optional | OptionalComputed),
        computed: matches!(mode, Computed | OptionalComputed),
        ..Default::default()
    }
}

const STRING: &str = "\"string\"";
const NUMBER: &str = "\"number\"";
const BOOL: &str = "\"bool\"";
const STRINGS: &str = r#"["list","string"]"#;
const TAGS: &str = r#"["map","string"]"#;
/// One inline rule of `ingress` / `egress` (SDKv2 attributes-as-blocks: a set of objects).
const RULES: &str = r#"["set",["object",{"cidr_blocks":["list","string"],"description":"string","from_port":"number","ipv6_cidr_blocks":["list","string"],"prefix_list_ids":["list","string"],"protocol":"string","security_groups":["set","string"],"self":"bool","to_port":"number"}]]"#;

fn timeouts(ops: &[&str]) -> NestedBlock {
    NestedBlock {
        type_name: "timeouts".into(),
        block: Some(Block {
            attributes: ops.iter().map(|o| attr(o, STRING, Optional)).collect(),
            ..Default::default()
        }),
        nesting: NestingMode::Single as i32,
        ..Default::default()
    }
}

fn schema(version: i64, attributes: Vec<Attribute>, blocks: Vec<NestedBlock>) -> tf::Schema {
    tf::Schema {
        version,
        block: Some(Block {
            version,
            attributes,
            block_types: blocks,
            ..Default::default()
        }),
    }
}

pub fn security_group() -> tf::Schema {
    schema(
        SECURITY_GROUP_VERSION,
        vec![
            attr("arn", STRING, Computed),
            attr("description", STRING, Optional),
            attr("egress", RULES, OptionalComputed),
            attr("id", STRING, OptionalComputed),
            attr("ingress", RULES, OptionalComputed),
            attr("name", STRING, OptionalComputed),
            attr("name_prefix", STRING, OptionalComputed),
            attr("owner_id", STRING, Computed),
            attr("region", STRING, OptionalComputed),
            attr("revoke_rules_on_delete", BOOL, Optional),
            attr("tags", TAGS, Optional),
            attr("tags_all", TAGS, OptionalComputed),
            attr("vpc_id", STRING, OptionalComputed),
        ],
        vec![timeouts(&["create", "delete"])],
    )
}

pub fn security_group_rule() -> tf::Schema {
    schema(
        SECURITY_GROUP_RULE_VERSION,
        vec![
            attr("cidr_blocks", STRINGS, Optional),
            attr("description", STRING, Optional),
            attr("from_port", NUMBER, Required),
            attr("id", STRING, OptionalComputed),
            attr("ipv6_cidr_blocks", STRINGS, Optional),
            attr("prefix_list_ids", STRINGS, Optional),
            attr("protocol", STRING, Required),
            attr("region", STRING, OptionalComputed),
            attr("security_group_id", STRING, Required),
            attr("security_group_rule_id", STRING, Computed),
            attr("self", BOOL, Optional),
            attr("source_security_group_id", STRING, OptionalComputed),
            attr("to_port", NUMBER, Required),
            attr("type", STRING, Required),
        ],
        vec![timeouts(&["create"])],
    )
}

pub fn ingress_rule() -> tf::Schema {
    schema(
        INGRESS_RULE_VERSION,
        vec![
            attr("arn", STRING, Computed),
            attr("cidr_ipv4", STRING, Optional),
            attr("cidr_ipv6", STRING, Optional),
            attr("description", STRING, Optional),
            attr("from_port", NUMBER, Optional),
            attr("id", STRING, Computed),
            attr("ip_protocol", STRING, Required),
            attr("prefix_list_id", STRING, Optional),
            attr("referenced_security_group_id", STRING, Optional),
            attr("region", STRING, OptionalComputed),
            attr("security_group_id", STRING, Required),
            attr("security_group_rule_id", STRING, Computed),
            attr("tags", TAGS, Optional),
            attr("tags_all", TAGS, Computed),
            attr("to_port", NUMBER, Optional),
        ],
        vec![],
    )
}

pub fn provider() -> tf::Schema {
    schema(0, vec![attr("region", STRING, Optional)], vec![])
}
