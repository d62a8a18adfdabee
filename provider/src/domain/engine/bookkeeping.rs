//! The provider's own tags on what it creates, and the names and descriptions it gives.
//!
//! The tags let a read, an import and a recovery after a crash tell this provider's groups and rules
//! apart, and keep what AWS cannot show otherwise (which cluster, which flags were written, the
//! timeouts). They all start with `elasticache-access:` and never appear in `tags_all`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::domain::declaration::desired::{Desired, Timeouts, RESERVED_TAG_PREFIX};
use crate::domain::types::{known, Known, Timeout};

/// The access's name (on both groups and every rule).
pub const NAME: &str = "elasticache-access:name";
/// `cluster` or `clients` on groups, `rule` on rules.
pub const ROLE: &str = "elasticache-access:role";
/// On the client group and every rule: the cluster group's id (the access's id).
pub const ACCESS: &str = "elasticache-access:cluster-group";
/// On the cluster group: the access's description.
pub const DESCRIPTION: &str = "elasticache-access:description";
/// On the cluster group: the name prefix the name was generated from.
pub const NAME_PREFIX: &str = "elasticache-access:name-prefix";
/// On the cluster group: which cluster, as `<attribute>=<id>`.
pub const CLUSTER: &str = "elasticache-access:cluster";
/// On the cluster group: what the configuration wrote that AWS cannot show (flags, empty sets,
/// timeouts), as space-separated words.
pub const OPTIONS: &str = "elasticache-access:options";
/// On the cluster group: the keys the configuration's `tags` set, comma-separated.
pub const TAG_KEYS: &str = "elasticache-access:tag-keys";
/// On both groups while a create is in progress: its lease, `v2:<holder>:<expiry>` (see
/// [`super::lease`]; release 0.2 wrote `<unix seconds>/<create timeout seconds>`).
pub const CREATING: &str = "elasticache-access:creating";
/// On both groups from their creation on: the token of the create that made them.
pub const ORIGIN: &str = "elasticache-access:origin";
/// On both groups once a state records them: when (Unix seconds, AWS's clock). It ends the lease
/// for good.
pub const CREATED: &str = "elasticache-access:created";

pub const ROLE_CLUSTER: &str = "cluster";
pub const ROLE_CLIENTS: &str = "clients";
pub const ROLE_RULE: &str = "rule";

/// The flags kept in [`OPTIONS`], in order.
const FLAGS: [&str; 5] = [
    "create_client_security_group",
    "allow_public_cidrs",
    "attach_to_cluster",
    "exclusive_ingress",
    "revoke_before_authorize",
];
/// The sets whose emptiness (`[]` rather than not set) is kept in [`OPTIONS`].
const SETS: [&str; 5] = [
    "client_security_group_ids",
    "allowed_cidr_blocks",
    "allowed_prefix_list_ids",
    "client_ssh_cidr_blocks",
    "tags",
];
/// AWS's longest tag value.
const MAX_TAG_VALUE: usize = 256;

/// True for a tag key of the provider's own.
pub fn is_reserved(key: &str) -> bool {
    key.starts_with(RESERVED_TAG_PREFIX)
}

/// True for the tags of a group's creation ([`CREATING`], [`ORIGIN`], [`CREATED`]): only the
/// lease's own code writes or removes them.
pub fn is_lifecycle(key: &str) -> bool {
    key == CREATING || key == ORIGIN || key == CREATED
}

/// The name of the cluster group (`<name>-cluster`) or of the client group (`<name>-clients`).
pub fn group_name(name: &str, role: &str) -> String {
    format!(
        "{name}-{}",
        if role == ROLE_CLUSTER {
            "cluster"
        } else {
            "clients"
        }
    )
}

/// The group's description (AWS cannot change it later, so it names the access only).
pub fn group_description(name: &str, role: &str) -> String {
    format!("ElastiCache access {name}: {role}")
        .chars()
        .take(255)
        .collect()
}

/// The description of the cluster group's rules: the access's, else one naming the access.
pub fn rule_description(description: Option<&str>, name: &str) -> String {
    match description {
        Some(d) => d.to_string(),
        None => default_rule_description(name),
    }
}

pub fn default_rule_description(name: &str) -> String {
    format!("elasticache-access {name}")
        .chars()
        .take(255)
        .collect()
}

/// The description of the client group's SSH rules.
pub fn ssh_description(rule_description: &str) -> String {
    format!("SSH to clients of {rule_description}")
        .chars()
        .take(255)
        .collect()
}

/// A unique name: the prefix, then 26 characters (a UTC timestamp and a counter).
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}{:04}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        u32::from(now.millisecond()) * 10 + (now.microsecond() % 1000) / 100
    );
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) ^ (std::process::id() << 12);
    format!("{prefix}{stamp}{n:08x}")
}

/// The [`OPTIONS`] words for the configuration: flags written, sets written empty, timeouts.
pub fn options_words(d: &Desired) -> String {
    let flags = [
        &d.create_client_security_group,
        &d.allow_public_cidrs,
        &d.attach_to_cluster,
        &d.exclusive_ingress,
        &d.revoke_before_authorize,
    ];
    let mut words: Vec<String> = FLAGS
        .iter()
        .zip(flags)
        .filter_map(|(n, f)| known(f).map(|f| format!("{n}={f}")))
        .collect();
    let empty: Vec<&str> = SETS
        .iter()
        .copied()
        .filter(|s| written_empty(d, s))
        .collect();
    if !empty.is_empty() {
        words.push(format!("empty={}", empty.join(",")));
    }
    if let Some(t) = known(&d.timeouts) {
        for (op, x) in [
            ("create", &t.create),
            ("update", &t.update),
            ("delete", &t.delete),
        ] {
            if let Some(x) = x {
                words.push(format!("timeouts.{op}={}", x.text()));
            }
        }
    }
    let mut s = words.join(" ");
    while s.len() > MAX_TAG_VALUE {
        words.pop();
        s = words.join(" ");
    }
    s
}

fn written_empty(d: &Desired, set: &str) -> bool {
    match set {
        "client_security_group_ids" => {
            known(&d.client_security_group_ids).is_some_and(Vec::is_empty)
        }
        "allowed_cidr_blocks" => known(&d.allowed_cidr_blocks).is_some_and(Vec::is_empty),
        "allowed_prefix_list_ids" => known(&d.allowed_prefix_list_ids).is_some_and(Vec::is_empty),
        "client_ssh_cidr_blocks" => known(&d.client_ssh_cidr_blocks).is_some_and(Vec::is_empty),
        "tags" => known(&d.tags).is_some_and(BTreeMap::is_empty),
        _ => false,
    }
}

/// What an [`OPTIONS`] tag (this release's or an earlier one's) says of the configuration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recorded {
    pub flags: BTreeMap<String, bool>,
    pub empty: Vec<String>,
    pub timeouts: Option<Timeouts>,
}

pub fn parse_options(s: &str) -> Recorded {
    let mut r = Recorded::default();
    for word in s.split_whitespace() {
        let Some((k, v)) = word.split_once('=') else {
            continue;
        };
        if FLAGS.contains(&k) {
            r.flags.insert(k.to_string(), v == "true");
        } else if k == "empty" {
            r.empty = v.split(',').map(str::to_string).collect();
        } else if let Some(op) = k.strip_prefix("timeouts.") {
            let t = r.timeouts.get_or_insert_with(Timeouts::default);
            let slot = match op {
                "create" => &mut t.create,
                "update" => &mut t.update,
                "delete" => &mut t.delete,
                _ => continue,
            };
            *slot = Timeout::parse(v).ok();
        }
    }
    r
}

/// The [`TAG_KEYS`] value for the configuration's tags (None when it would not fit in a tag).
pub fn tag_keys_value(d: &Desired) -> Option<String> {
    let keys: Vec<&str> = known(&d.tags)?.keys().map(String::as_str).collect();
    let v = keys.join(",");
    (!keys.is_empty() && v.len() <= MAX_TAG_VALUE).then_some(v)
}

/// The provider's own tags the cluster group should carry for `d` (named `name`).
pub fn cluster_group_tags(d: &Desired, name: &str) -> BTreeMap<String, String> {
    let mut t = BTreeMap::from([
        (NAME.to_string(), name.to_string()),
        (ROLE.to_string(), ROLE_CLUSTER.to_string()),
    ]);
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            t.insert(k.to_string(), v.chars().take(MAX_TAG_VALUE).collect());
        }
    };
    put(DESCRIPTION, known(&d.description).cloned());
    put(NAME_PREFIX, known(&d.name_prefix).cloned());
    put(CLUSTER, known(&d.cluster).map(|c| c.tag()));
    put(OPTIONS, Some(options_words(d)));
    put(TAG_KEYS, tag_keys_value(d));
    t
}

/// The provider's own tags of the client group or of a rule of the access `cluster_group`.
pub fn member_tags(name: &str, cluster_group: &str, role: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME.to_string(), name.to_string()),
        (ROLE.to_string(), role.to_string()),
        (ACCESS.to_string(), cluster_group.to_string()),
    ])
}

/// `default_tags` merged with the access's `tags` (the access's win).
pub fn user_tags(default_tags: &BTreeMap<String, String>, d: &Desired) -> BTreeMap<String, String> {
    let mut t = default_tags.clone();
    if let Some(Known::Known(own)) = &d.tags {
        t.extend(own.clone());
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::declaration::desired::parse;
    use crate::domain::declaration::value::Value;

    fn desired(j: serde_json::Value) -> Desired {
        parse(&Value::from_json(&j))
            .map(|c| c.value)
            .unwrap_or_default()
    }

    #[test]
    fn options_keep_flags_empty_sets_and_timeouts() {
        let d = desired(serde_json::json!({
            "vpc_id": "vpc-01234567", "exclusive_ingress": true, "allowed_cidr_blocks": [],
            "tags": {}, "timeouts": {"create": "20m", "delete": "1h"}
        }));
        let w = options_words(&d);
        assert_eq!(w, "exclusive_ingress=true empty=allowed_cidr_blocks,tags timeouts.create=20m timeouts.delete=1h");
        let r = parse_options(&w);
        assert_eq!(r.flags.get("exclusive_ingress"), Some(&true));
        assert_eq!(r.empty, vec!["allowed_cidr_blocks", "tags"]);
        assert_eq!(
            r.timeouts
                .and_then(|t| t.delete)
                .map(|t| t.text().to_string())
                .as_deref(),
            Some("1h")
        );
        // the earlier release's form
        let old = parse_options("create_client_security_group=false attach_to_cluster=true");
        assert_eq!(old.flags.len(), 2);
    }
}
