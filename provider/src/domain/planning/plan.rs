//! The plan: one pipeline, in a fixed order, that both protocols consume.
//!
//! 1. the planned inputs are the configuration's, every attribute present;
//! 2. optional+computed inputs the user did not set (`vpc_id`, `port`, `name`): from the cluster's
//!    facts, or the prior value, or the default, or unknown;
//! 3. replacement: which changed inputs replace the access (`BEHAVIOUR[..].replaces`);
//! 4. computed outputs: the prior value while nothing they follow ([`model::DERIVED`]) changed, else
//!    the new value when it can be known now, else unknown;
//! 5. checks that need the cluster's facts or the provider's default tags.
//!
//! Terraform takes `planned` and `requires_replace`; Pulumi takes `changes` (its detailed diff) and
//! `replacement_collides` (its `deleteBeforeReplace`) too.
//! The plan does not repeat the configuration's warnings: validation reports them once.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::cloud::ClusterInfo;
use crate::domain::declaration::desired::{Desired, MAX_USER_TAGS};
use crate::domain::declaration::model::{self, Mode};
use crate::domain::declaration::parse::{field, Parser};
use crate::domain::declaration::schema;
use crate::domain::declaration::value::Value;
use crate::domain::diag::{AttrPath, Diagnostic};
use crate::domain::planning::reach_plan;
use crate::domain::planning::state::{self, AccessState};
use crate::domain::types::{known, ClusterRef, Known};

/// What the plan knows of the cluster named by `cluster`.
// One per plan: the size of the described cluster does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum ClusterFacts {
    /// No `cluster` is set.
    None,
    /// Read from AWS.
    Known(ClusterInfo),
    /// Not read: the provider is not configured yet, or the cluster's identifier is unknown.
    NotRead,
    /// AWS has no such cluster (deleted, or to be created in this apply).
    NotFound(ClusterRef),
}

/// What the plan is computed from besides the inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    /// The provider's `default_tags`; unknown before the provider is configured.
    pub default_tags: Known<BTreeMap<String, String>>,
    pub cluster: ClusterFacts,
}

/// How an attribute changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Add,
    Delete,
    Update,
}

/// One attribute that changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub attr: String,
    pub kind: ChangeKind,
    pub replaces: bool,
}

/// The outcome of planning.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// The planned state: every attribute, unknown where only the apply decides it.
    pub planned: Value,
    /// Attributes whose change replaces the access.
    pub requires_replace: Vec<AttrPath>,
    pub diagnostics: Vec<Diagnostic>,
    /// Attributes that change (empty: nothing to do).
    pub changes: Vec<Change>,
    /// A replacement of this access would collide with the access it replaces, so the old one must
    /// be deleted first: the configuration fixes `name`, and the new access would keep the old one's
    /// name and VPC (or they are not known yet), where AWS allows one `<name>-cluster`. Decided
    /// whether or not this plan replaces: an engine may replace on its own (Pulumi's
    /// `replaceOnChanges`). False for generated names (`name_prefix`, or neither), which differ.
    pub replacement_collides: bool,
    /// The prior state and the planned inputs, typed (None when a value the plan computed does not
    /// read as an input: the apply then parses the planned value and reports it).
    pub typed: Option<Typed>,
}

/// A plan's prior state and planned inputs, typed: an apply made in the same call (Pulumi's Create
/// and Update) takes them instead of parsing the values again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Typed {
    pub prior: Option<AccessState>,
    pub inputs: Desired,
}

impl Plan {
    pub fn replaces(&self) -> bool {
        !self.requires_replace.is_empty()
    }
}

/// `default_tags` merged with `tags` (the resource's win); unknown while either is.
pub fn merged_tags(
    default_tags: &Known<BTreeMap<String, String>>,
    d: &Desired,
) -> Known<BTreeMap<String, String>> {
    let (Some(defaults), false) = (default_tags.known(), crate::domain::types::unknown(&d.tags))
    else {
        return Known::Unknown;
    };
    let mut out = defaults.clone();
    out.extend(known(&d.tags).cloned().unwrap_or_default());
    Known::Known(out)
}

fn tags_value(t: Known<BTreeMap<String, String>>) -> Value {
    match t {
        Known::Unknown => Value::Unknown,
        Known::Known(m) => Value::Map(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect()),
    }
}

/// The steps of the pipeline share this.
struct Ctx<'a> {
    d: &'a Desired,
    facts: &'a Facts,
    prior: Option<(&'a AccessState, Value)>,
    cluster_changed: bool,
    planned: Value,
}

impl Ctx<'_> {
    fn prior_value(&self, attr: &str) -> Option<&Value> {
        self.prior.as_ref().map(|(_, v)| v.get(attr))
    }

    /// True when an input `attr` follows changed (or there is no prior).
    fn follows_changed(&self, attr: &str) -> bool {
        model::derived_from(attr)
            .iter()
            .filter(|f| **f != "*")
            .any(|f| self.prior_value(f) != Some(self.planned.get(f)))
    }
}

/// Plans a create (`prior` None) or an update of the access. `config` holds the inputs as the
/// protocol sent them (their spelling is the planned inputs'); `d` is the same, parsed.
/// The planned state is complete ([`state::complete`], done once, on the inputs it starts from):
/// no adapter completes it again.
pub fn plan(prior: Option<&AccessState>, config: &Value, d: &Desired, facts: &Facts) -> Plan {
    let mut planned = state::complete(state::inputs_of(config));
    if let Some(p) = known(&d.port) {
        planned.set("port", Value::from(p.get()));
    }
    let mut cx = Ctx {
        d,
        facts,
        cluster_changed: prior.is_none_or(|p| p.inputs.cluster != d.cluster),
        prior: prior.map(|p| (p, p.to_value())),
        planned,
    };
    optional_computed(&mut cx);
    let (requires_replace, mut changes) = input_changes(&cx);
    let replacing = !requires_replace.is_empty();
    if replacing || cx.prior.is_none() {
        create_outputs(&mut cx);
    } else {
        update_outputs(&mut cx);
    }
    reachability(&mut cx, replacing);
    if !replacing && cx.prior.is_some() {
        changes.extend(output_changes(&cx, &changes));
    }
    let diagnostics = checks(&cx);
    let replacement_collides = replacement_collides(&cx);
    let typed = typed(prior, d, &cx.planned);
    Plan {
        planned: cx.planned,
        requires_replace,
        diagnostics,
        changes,
        replacement_collides,
        typed,
    }
}

/// The planned inputs typed: the configuration's, with the inputs step 2 filled read from the plan.
fn typed(prior: Option<&AccessState>, d: &Desired, planned: &Value) -> Option<Typed> {
    let mut inputs = d.clone();
    let mut p = Parser::default();
    if d.vpc_id.is_none() {
        inputs.vpc_id = field::vpc_id(&mut p, planned, "vpc_id");
    }
    if d.port.is_none() {
        inputs.port = field::port(&mut p, planned, "port");
    }
    if d.name.is_none() {
        inputs.name = field::name(&mut p, planned, "name");
    }
    p.out.is_empty().then(|| Typed {
        prior: prior.cloned(),
        inputs,
    })
}

/// See [`Plan::replacement_collides`]. A value not known yet may turn out the same: it counts as the
/// same.
fn replacement_collides(cx: &Ctx<'_>) -> bool {
    let Some((_, prior)) = &cx.prior else {
        return false;
    };
    let kept = |attr: &str| {
        let new = cx.planned.get(attr);
        new.is_unknown() || new == prior.get(attr)
    };
    cx.d.name.is_some() && kept("name") && kept("vpc_id")
}

/// Step 2: `vpc_id`, `port` and `name` when the configuration leaves them to the provider.
fn optional_computed(cx: &mut Ctx<'_>) {
    let keep = |cx: &Ctx<'_>, attr: &str| match cx.prior_value(attr) {
        Some(v) if !v.is_null() => v.clone(),
        _ => Value::Unknown,
    };
    let info = match &cx.facts.cluster {
        ClusterFacts::Known(i) => Some(i),
        _ => None,
    };
    if cx.d.vpc_id.is_none() {
        let vpc = match (&cx.d.cluster, info) {
            (None, _) => Value::Null,
            (_, Some(i)) => i
                .vpc_id
                .clone()
                .map(Value::String)
                .unwrap_or(Value::Unknown),
            // The cluster is not known yet (being created or replaced): keep the access where it is;
            // the apply checks the cluster's VPC.
            _ => keep(cx, "vpc_id"),
        };
        cx.planned.set("vpc_id", vpc);
    }
    if cx.d.port.is_none() {
        let port = match (&cx.d.cluster, info) {
            (None, _) => Value::from(model::DEFAULT_PORT),
            (_, Some(i)) => Value::from(i.port.unwrap_or(model::DEFAULT_PORT)),
            _ if !cx.cluster_changed => keep(cx, "port"),
            _ => Value::Unknown,
        };
        cx.planned.set("port", port);
    }
    if cx.d.name.is_none() {
        let same_prefix = cx
            .prior
            .as_ref()
            .is_some_and(|(p, _)| p.inputs.name_prefix == cx.d.name_prefix);
        let name = if same_prefix {
            keep(cx, "name")
        } else {
            Value::Unknown
        };
        cx.planned.set("name", name);
    }
}

fn kind_of(old: &Value, new: &Value) -> ChangeKind {
    match (old, new) {
        (Value::Null, _) => ChangeKind::Add,
        (_, Value::Null) => ChangeKind::Delete,
        _ => ChangeKind::Update,
    }
}

/// Step 3: the inputs that change, and which of them replace the access.
fn input_changes(cx: &Ctx<'_>) -> (Vec<AttrPath>, Vec<Change>) {
    let (mut replace, mut changes) = (Vec::new(), Vec::new());
    let Some((_, prior)) = &cx.prior else {
        return (replace, changes);
    };
    for a in schema::resource()
        .attributes
        .iter()
        .filter(|a| a.mode != Mode::Computed)
    {
        let (old, new) = (prior.get(&a.name), cx.planned.get(&a.name));
        if old == new {
            continue;
        }
        if a.replaces {
            replace.push(AttrPath::attr(&a.name));
        }
        changes.push(Change {
            attr: a.name.clone(),
            kind: kind_of(old, new),
            replaces: a.replaces,
        });
    }
    (replace, changes)
}

fn endpoint(cx: &Ctx<'_>) -> Option<Value> {
    match &cx.facts.cluster {
        ClusterFacts::None => Some(Value::Null),
        ClusterFacts::Known(i) => {
            Some(i.endpoint.clone().map(Value::String).unwrap_or(Value::Null))
        }
        _ => None,
    }
}

/// Step 4 for a new access (created, or replacing the old one).
fn create_outputs(cx: &mut Ctx<'_>) {
    let d = cx.d;
    for n in ["id", "cluster_security_group_id", "owner_id"] {
        cx.planned.set(n, Value::Unknown);
    }
    let client = d.create_client();
    cx.planned.set(
        "client_security_group_id",
        match client {
            Known::Known(false) => Value::Null,
            _ => Value::Unknown,
        },
    );
    let rules = match (client, d.cluster_sources(None, "")) {
        (Known::Known(false), Known::Known(m)) if m.is_empty() => Value::Map(BTreeMap::new()),
        _ => Value::Unknown,
    };
    cx.planned.set("ingress_rule_ids", rules);
    let ssh = match d.ssh_sources() {
        Known::Known(m) if m.is_empty() => Value::Map(BTreeMap::new()),
        _ => Value::Unknown,
    };
    cx.planned.set("client_ssh_rule_ids", ssh);
    cx.planned
        .set("cluster_endpoint", endpoint(cx).unwrap_or(Value::Unknown));
    cx.planned.set(
        "tags_all",
        tags_value(merged_tags(&cx.facts.default_tags, d)),
    );
    cx.planned.set("unmanaged_ingress", Value::List(Vec::new()));
}

fn same_keys(prior: &Value, want: &BTreeSet<String>) -> bool {
    prior.as_map().is_some_and(|m| m.keys().eq(want.iter()))
}

/// Step 4 for an access updated in place.
fn update_outputs(cx: &mut Ctx<'_>) {
    let Some((p, pv)) = cx.prior.clone() else {
        return;
    };
    let d = cx.d;
    for n in ["id", "cluster_security_group_id", "owner_id"] {
        cx.planned.set(n, pv.get(n).clone());
    }
    let client = match (d.create_client(), &p.outputs.client_security_group_id) {
        (Known::Known(false), _) => Value::Null,
        (Known::Known(true), Some(id)) => Value::string(id.as_str()),
        _ => Value::Unknown,
    };
    let same_port = pv.get("port") == cx.planned.get("port");
    let rules = match d.cluster_sources(client.as_str(), &p.outputs.owner_id) {
        Known::Known(want)
            if same_port
                && same_keys(pv.get("ingress_rule_ids"), &want.keys().cloned().collect()) =>
        {
            pv.get("ingress_rule_ids").clone()
        }
        Known::Known(want) if want.is_empty() => Value::Map(BTreeMap::new()),
        _ => Value::Unknown,
    };
    let ssh = match d.ssh_sources() {
        Known::Known(want)
            if client.as_str().is_some()
                && same_keys(
                    pv.get("client_ssh_rule_ids"),
                    &want.keys().cloned().collect(),
                ) =>
        {
            pv.get("client_ssh_rule_ids").clone()
        }
        Known::Known(want) if want.is_empty() => Value::Map(BTreeMap::new()),
        _ => Value::Unknown,
    };
    let unmanaged = match d.exclusive() {
        Known::Known(true) => Value::List(Vec::new()),
        Known::Unknown => Value::Unknown,
        // A new rule identical to an unmanaged one adopts it: unmanaged rules may change whenever
        // the managed ones do. A state that records no rule yet (moved in, not refreshed) may find
        // rules the apply leaves unmanaged.
        Known::Known(false)
            if rules.is_unknown()
                && (!p.outputs.unmanaged_ingress.is_empty()
                    || p.outputs.ingress_rule_ids.is_empty()) =>
        {
            Value::Unknown
        }
        Known::Known(false) => pv.get("unmanaged_ingress").clone(),
    };
    let endpoint = match endpoint(cx) {
        Some(e) => e,
        None if !cx.follows_changed("cluster_endpoint") => pv.get("cluster_endpoint").clone(),
        None => Value::Unknown,
    };
    cx.planned.set("client_security_group_id", client);
    cx.planned.set("ingress_rule_ids", rules);
    cx.planned.set("client_ssh_rule_ids", ssh);
    cx.planned.set("unmanaged_ingress", unmanaged);
    cx.planned.set("cluster_endpoint", endpoint);
    cx.planned.set(
        "tags_all",
        tags_value(merged_tags(&cx.facts.default_tags, d)),
    );
}

/// `reachability`: the prior's while nothing it follows changed (a refresh's new answer never makes
/// a diff), else what the plan can know of it ([`reach_plan::predict`]).
fn reachability(cx: &mut Ctx<'_>, replacing: bool) {
    let prior = match &cx.prior {
        Some((_, pv)) if !replacing => pv.get("reachability").clone(),
        _ => Value::Null,
    };
    // A state written before `reachability` existed keeps its null until a refresh fills it.
    let v = if cx.prior.is_some() && !replacing && !cx.follows_changed("reachability") {
        prior
    } else {
        reach_plan::predict(cx.d, &cx.planned, &cx.facts.cluster, &prior)
    };
    cx.planned.set("reachability", v);
}

/// Computed attributes that change are changes too (Pulumi shows them; Terraform sees the values).
fn output_changes(cx: &Ctx<'_>, inputs: &[Change]) -> Vec<Change> {
    let Some((_, prior)) = &cx.prior else {
        return Vec::new();
    };
    schema::resource()
        .attributes
        .iter()
        .filter(|a| a.mode == Mode::Computed)
        .filter(|a| prior.get(&a.name) != cx.planned.get(&a.name))
        .filter(|a| inputs.iter().all(|c| c.attr != a.name))
        .map(|a| Change {
            attr: a.name.clone(),
            kind: ChangeKind::Update,
            replaces: false,
        })
        .collect()
}

/// Step 5: checks that need the cluster's facts or the provider's default tags.
fn checks(cx: &Ctx<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    match (&cx.facts.cluster, known(&cx.d.vpc_id)) {
        (ClusterFacts::Known(i), Some(v)) => {
            if let Some(cv) = i.vpc_id.as_deref().filter(|cv| *cv != v.as_str()) {
                out.push(Diagnostic::error(AttrPath::attr("vpc_id"), "vpc_id does not match the cluster's VPC", format!("Cluster {} is in {cv}, but vpc_id is {}. Remove vpc_id to use the cluster's VPC, or point cluster at a cluster in {}.", i.id, v.as_str(), v.as_str())));
            }
        }
        (ClusterFacts::NotFound(c), _) if !cx.cluster_changed => {
            out.push(Diagnostic::error(AttrPath::attr("cluster").then_attr(c.attr()), "Cluster not found", format!("The {c} of this access no longer exists in this account and Region (deleted or renamed?). Point cluster at an existing cluster, or remove the access.")));
        }
        _ => {}
    }
    if let ClusterFacts::Known(i) = &cx.facts.cluster {
        out.extend(member_refused(i, cx.d.attach()));
    }
    if let Known::Known(t) = merged_tags(&cx.facts.default_tags, cx.d) {
        if t.len() > MAX_USER_TAGS {
            out.push(Diagnostic::error(AttrPath::attr("tags"), "Too many tags", format!("tags and the provider's default_tags make {} tags; AWS allows 50 per security group and rule, and this provider keeps some of its own, so at most {MAX_USER_TAGS}. Remove some.", t.len())));
        }
    }
    out
}

/// A member of a replication group named by `cache_cluster_id` cannot be attached to: AWS sets the
/// security groups of a replication group's members all at once (ModifyReplicationGroup), so a
/// change through one member would change the others unseen. Refused, naming the replication
/// group to use instead.
pub fn member_refused(i: &ClusterInfo, attach: Known<bool>) -> Option<Diagnostic> {
    let rg = i.replication_group_id.as_deref()?;
    (attach != Known::Known(false)).then(|| {
        Diagnostic::error(
            AttrPath::attr("cluster").then_attr("cache_cluster_id"),
            "A member of a replication group cannot be attached on its own",
            format!("Cache cluster {} is a member of replication group {rg}, whose members share one list of security groups. Name the replication group instead: cluster {{ replication_group_id = \"{rg}\" }}.", i.id),
        )
    })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
