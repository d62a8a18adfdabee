//! Per-attribute behaviour of the resource ([`BEHAVIOUR`]: required, optional or computed, nesting,
//! replacement, default) and which outputs follow which inputs ([`DERIVED`]), used by the schemas,
//! the plan, Pulumi's secret and unknown propagation, and the docs. Re-exported by `model`.

/// How an attribute is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Required,
    Optional,
    /// Set by the user or, when not set, by the provider.
    OptionalComputed,
    Computed,
}

/// How a nested object is presented to Terraform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// A plain attribute (or a nested attribute object, `cluster = { ... }`).
    Attribute,
    /// A block (`timeouts { ... }`), Terraform's convention for timeouts.
    Block,
}

/// The behaviour of one attribute of the resource's state (inputs and outputs together).
#[derive(Clone, Copy, Debug)]
pub struct Behaviour {
    pub name: &'static str,
    pub mode: Mode,
    /// A change of this attribute replaces the access.
    pub replaces: bool,
    /// Default applied when the attribute is not set (documented and in the Pulumi schema).
    pub default: Option<&'static str>,
    pub nesting: Nesting,
}

const fn b(
    name: &'static str,
    mode: Mode,
    replaces: bool,
    default: Option<&'static str>,
) -> Behaviour {
    Behaviour {
        name,
        mode,
        replaces,
        default,
        nesting: Nesting::Attribute,
    }
}

/// Every attribute of the resource's state, in schema order. Inputs come first (in the order of
/// [`AccessArgs`](crate::domain::declaration::model::AccessArgs)), then outputs (in the order of [`AccessOutputs`](crate::domain::declaration::model::AccessOutputs)); `vpc_id` and `port` are both.
pub const BEHAVIOUR: &[Behaviour] = &[
    b("vpc_id", Mode::OptionalComputed, true, None),
    // A block (`cluster { ... }`), not a nested attribute: Terraform 1.0.0-1.0.4 crash planning any
    // null single nested attribute (hashicorp/terraform#29388, fixed in 1.0.5).
    Behaviour {
        name: "cluster",
        mode: Mode::Optional,
        replaces: false,
        default: None,
        nesting: Nesting::Block,
    },
    b("port", Mode::OptionalComputed, false, None),
    b("name", Mode::OptionalComputed, true, None),
    b("name_prefix", Mode::Optional, true, None),
    b("description", Mode::Optional, false, None),
    b(
        "create_client_security_group",
        Mode::Optional,
        false,
        Some("true"),
    ),
    b("client_security_group_ids", Mode::Optional, false, None),
    b("allowed_cidr_blocks", Mode::Optional, false, None),
    b("allowed_prefix_list_ids", Mode::Optional, false, None),
    b("allow_public_cidrs", Mode::Optional, false, Some("false")),
    b("client_ssh_cidr_blocks", Mode::Optional, false, None),
    b("attach_to_cluster", Mode::Optional, false, Some("false")),
    b("exclusive_ingress", Mode::Optional, false, Some("false")),
    b(
        "revoke_before_authorize",
        Mode::Optional,
        false,
        Some("false"),
    ),
    b("tags", Mode::Optional, false, None),
    Behaviour {
        name: "timeouts",
        mode: Mode::Optional,
        replaces: false,
        default: None,
        nesting: Nesting::Block,
    },
    b("id", Mode::Computed, false, None),
    b("cluster_security_group_id", Mode::Computed, false, None),
    b("client_security_group_id", Mode::Computed, false, None),
    b("ingress_rule_ids", Mode::Computed, false, None),
    b("client_ssh_rule_ids", Mode::Computed, false, None),
    b("owner_id", Mode::Computed, false, None),
    b("cluster_endpoint", Mode::Computed, false, None),
    b("tags_all", Mode::Computed, false, None),
    b("unmanaged_ingress", Mode::Computed, false, None),
    b("reachability", Mode::Computed, false, None),
];

/// Which inputs an attribute the provider computes follows. The plan keeps an attribute's prior
/// value while none of these inputs changes; Pulumi marks it secret when one of them is secret; the
/// docs say what recomputes it. `*` stands for the provider configuration's `default_tags`.
pub struct Derivation {
    pub attr: &'static str,
    pub from: &'static [&'static str],
}

/// Inputs whose change replaces the access: every computed id follows them.
const IDENTITY_INPUTS: &[&str] = &["vpc_id", "name", "name_prefix"];
const RULE_INPUTS: &[&str] = &[
    "port",
    "create_client_security_group",
    "client_security_group_ids",
    "allowed_cidr_blocks",
    "allowed_prefix_list_ids",
];

/// The derivation table, in schema order.
pub const DERIVED: &[Derivation] = &[
    Derivation {
        attr: "vpc_id",
        from: &["cluster"],
    },
    Derivation {
        attr: "port",
        from: &["cluster"],
    },
    Derivation {
        attr: "name",
        from: &["name_prefix"],
    },
    Derivation {
        attr: "id",
        from: IDENTITY_INPUTS,
    },
    Derivation {
        attr: "cluster_security_group_id",
        from: IDENTITY_INPUTS,
    },
    Derivation {
        attr: "client_security_group_id",
        from: &["create_client_security_group"],
    },
    Derivation {
        attr: "ingress_rule_ids",
        from: RULE_INPUTS,
    },
    Derivation {
        attr: "client_ssh_rule_ids",
        from: &["create_client_security_group", "client_ssh_cidr_blocks"],
    },
    Derivation {
        attr: "owner_id",
        from: IDENTITY_INPUTS,
    },
    Derivation {
        attr: "cluster_endpoint",
        from: &["cluster"],
    },
    Derivation {
        attr: "tags_all",
        from: &["tags", "*"],
    },
    Derivation {
        attr: "unmanaged_ingress",
        from: &[
            "exclusive_ingress",
            "port",
            "client_security_group_ids",
            "allowed_cidr_blocks",
            "allowed_prefix_list_ids",
        ],
    },
    Derivation {
        attr: "reachability",
        from: &[
            "cluster",
            "port",
            "create_client_security_group",
            "client_security_group_ids",
            "allowed_cidr_blocks",
            "allowed_prefix_list_ids",
            "allow_public_cidrs",
            "exclusive_ingress",
        ],
    },
];

/// The inputs attribute `attr` follows (empty for an input without a derived value).
pub fn derived_from(attr: &str) -> &'static [&'static str] {
    DERIVED
        .iter()
        .find(|d| d.attr == attr)
        .map(|d| d.from)
        .unwrap_or(&[])
}

/// The behaviour of attribute `name`.
pub fn behaviour(name: &str) -> Option<&'static Behaviour> {
    BEHAVIOUR.iter().find(|b| b.name == name)
}
