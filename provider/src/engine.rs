//! Create, read, update, delete and import of an access, written against [`Cloud`].
//!
//! Order of work, chosen so that a reviewer's plan is what happens and nothing is left behind:
//! - create: cluster group (tagged at creation), client group (tagged, pointing back at the cluster
//!   group), all cluster-group rules in one call, the SSH rules in one call, attach, one read of the
//!   owner. A failure after the cluster group exists returns the partial state ([`ApplyError::state`]).
//! - update: authorize new rules, then update descriptions, then revoke old rules (no access gap); an
//!   existing identical rule added outside is adopted instead of duplicated.
//! - delete: detach, revoke the cross-reference, delete the client group, then the cluster group,
//!   retrying DependencyViolation until the delete timeout and then naming what still holds the group.
//! - read: two EC2 calls (groups, rules), plus one ElastiCache call when attached to a cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::cloud::{Cloud, CloudError, ClusterInfo, ClusterKind, Group, Rule, RuleSpec, Source};
use crate::diag::{AttrPath, Diagnostic};
use crate::model::{self, AccessArgs, AccessOutputs, ClusterRef, ProviderConfig, UnmanagedRule};
use crate::plan::{self, Plan, PlanInput};
use crate::state;
use crate::validate;
use crate::value::Value;

/// Tag keys the provider keeps on what it creates.
pub mod tags {
    /// The access's name (on both groups).
    pub const NAME: &str = "elasticache-access:name";
    /// `cluster` or `clients` on groups, `rule` on rules.
    pub const ROLE: &str = "elasticache-access:role";
    /// On the client group and on every rule: the cluster group's id (the access's id).
    pub const ACCESS: &str = "elasticache-access:cluster-group";
    /// On the cluster group: the access's description.
    pub const DESCRIPTION: &str = "elasticache-access:description";
    /// On the cluster group: the name prefix the name was generated from.
    pub const NAME_PREFIX: &str = "elasticache-access:name-prefix";
    /// On the cluster group: which cluster, as `<attribute>=<id>`.
    pub const CLUSTER: &str = "elasticache-access:cluster";
    /// On the cluster group: flags set in the configuration, as `name=value` words.
    pub const OPTIONS: &str = "elasticache-access:options";
}

const OPTION_FLAGS: [&str; 4] = [
    "create_client_security_group",
    "allow_public_cidrs",
    "attach_to_cluster",
    "exclusive_ingress",
];
const SSH_PORT: u16 = 22;

/// An apply that failed: what went wrong, and the state of what exists now (None: nothing exists).
#[derive(Clone, Debug, PartialEq)]
pub struct ApplyError {
    pub diagnostics: Vec<Diagnostic>,
    pub state: Option<Value>,
}

impl ApplyError {
    fn new(d: Diagnostic, state: Option<Value>) -> Self {
        ApplyError {
            diagnostics: vec![d],
            state,
        }
    }
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let texts: Vec<String> = self.diagnostics.iter().map(|d| d.to_string()).collect();
        write!(f, "{}", texts.join("; "))
    }
}

/// Waits between retries: exponential from `initial`, capped at `max`.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(20),
        }
    }
}

/// The operation whose timeout applies (`timeouts.create`, `.update`, `.delete`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Create,
    Update,
    Delete,
}

/// The configured engine: a cloud, the provider's default tags, and a cancellation token.
#[derive(Clone)]
pub struct Engine {
    cloud: Arc<dyn Cloud>,
    default_tags: BTreeMap<String, String>,
    backoff: Backoff,
    cancel: CancellationToken,
}

fn cloud_diag(what: &str, e: &CloudError) -> Diagnostic {
    let hint = match e {
        CloudError::Throttled { .. } => " AWS throttled the calls and the retries ran out; raise max_retries or apply again later.",
        CloudError::Invalid { code, .. } if code == "UnauthorizedOperation" || code == "AccessDenied" => {
            " The credentials lack a permission; see the IAM policy in the provider's documentation."
        }
        CloudError::Invalid { code, .. } if code.ends_with("LimitExceeded") => {
            " An AWS quota was reached (for example inbound rules per security group); remove sources or raise the quota."
        }
        CloudError::AlreadyExists { .. } => " A security group with this name already exists in the VPC; choose another name, or import the existing access.",
        _ => "",
    };
    Diagnostic::general(
        format!("Failed to {what}"),
        format!("AWS answered {e}.{hint}"),
    )
}

/// Generates a unique name: the prefix, then 26 characters (a UTC timestamp and a counter).
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

fn cluster_tag(c: &ClusterRef) -> Option<String> {
    if let Some(id) = &c.replication_group_id {
        Some(format!("replication_group_id={id}"))
    } else if let Some(id) = &c.cache_cluster_id {
        Some(format!("cache_cluster_id={id}"))
    } else {
        c.serverless_cache_name
            .as_ref()
            .map(|n| format!("serverless_cache_name={n}"))
    }
}

fn parse_cluster_tag(s: &str) -> Option<ClusterRef> {
    let (k, v) = s.split_once('=')?;
    let v = Some(v.to_string());
    match k {
        "replication_group_id" => Some(ClusterRef {
            replication_group_id: v,
            ..Default::default()
        }),
        "cache_cluster_id" => Some(ClusterRef {
            cache_cluster_id: v,
            ..Default::default()
        }),
        "serverless_cache_name" => Some(ClusterRef {
            serverless_cache_name: v,
            ..Default::default()
        }),
        _ => None,
    }
}

fn options_tag(a: &AccessArgs) -> String {
    let flags = [
        a.create_client_security_group,
        a.allow_public_cidrs,
        a.attach_to_cluster,
        a.exclusive_ingress,
    ];
    OPTION_FLAGS
        .iter()
        .zip(flags)
        .filter_map(|(n, f)| f.map(|f| format!("{n}={f}")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn apply_options_tag(a: &mut AccessArgs, s: &str) {
    for word in s.split_whitespace() {
        if let Some((k, v)) = word.split_once('=') {
            let v = Some(v == "true");
            match k {
                "create_client_security_group" => a.create_client_security_group = v,
                "allow_public_cidrs" => a.allow_public_cidrs = v,
                "attach_to_cluster" => a.attach_to_cluster = v,
                "exclusive_ingress" => a.exclusive_ingress = v,
                _ => {}
            }
        }
    }
}

/// The inputs of a (wholly known) state or planned state.
/// Optional+computed inputs that are still unknown (a generated name, a port or VPC read from the
/// cluster) count as not set: the apply decides them.
pub fn args_of(v: &Value) -> Result<AccessArgs, Diagnostic> {
    let mut inputs = state::inputs_of(v);
    for b in model::BEHAVIOUR
        .iter()
        .filter(|b| b.mode == model::Mode::OptionalComputed)
    {
        if inputs.get(b.name).is_unknown() {
            inputs.set(b.name, Value::Null);
        }
    }
    let json = inputs.to_json().ok_or_else(|| {
        Diagnostic::general("Inputs are not known yet", "An input of the access is still unknown at apply time; this is a provider bug, please report it.")
    })?;
    serde_json::from_value(json).map_err(|e| Diagnostic::general("Invalid inputs", e.to_string()))
}

fn group_description(name: &str, role: &str) -> String {
    let s = format!("ElastiCache access {name}: {role}");
    s.chars().take(255).collect()
}

fn rule_description(a: &AccessArgs, name: &str) -> String {
    a.description.clone().unwrap_or_else(|| {
        format!("elasticache-access {name}")
            .chars()
            .take(255)
            .collect()
    })
}

/// Sources of the cluster group's rules, keyed by their `ingress_rule_ids` key.
/// `own_account` (empty when not known yet) is the groups' owner: a client group of that account is
/// keyed as AWS reports it, without the account.
fn desired_cluster_rules(
    a: &AccessArgs,
    name: &str,
    port: u16,
    client_sg: Option<&str>,
    own_account: &str,
) -> BTreeMap<String, RuleSpec> {
    let description = rule_description(a, name);
    let mut out = BTreeMap::new();
    let mut add = |source: Source| {
        out.insert(
            source.key(),
            RuleSpec {
                source,
                port,
                description: description.clone(),
            },
        );
    };
    if let Some(c) = client_sg {
        add(Source::Group {
            id: c.to_string(),
            owner: None,
        });
    }
    for s in a.client_security_group_ids.iter().flatten() {
        if let Ok(src) = validate::parse_group_source(s) {
            add(src.as_seen_from(own_account));
        }
    }
    for s in a.allowed_cidr_blocks.iter().flatten() {
        if let Ok(n) = validate::parse_cidr(s) {
            add(Source::Cidr(n));
        }
    }
    for s in a.allowed_prefix_list_ids.iter().flatten() {
        add(Source::PrefixList(s.clone()));
    }
    out
}

fn desired_ssh_rules(a: &AccessArgs, name: &str) -> BTreeMap<String, RuleSpec> {
    let description = format!("SSH to clients of {}", rule_description(a, name))
        .chars()
        .take(255)
        .collect::<String>();
    a.client_ssh_cidr_blocks
        .iter()
        .flatten()
        .filter_map(|s| validate::parse_cidr(s).ok())
        .map(|n| {
            (
                n.to_string(),
                RuleSpec {
                    source: Source::Cidr(n),
                    port: SSH_PORT,
                    description: description.clone(),
                },
            )
        })
        .collect()
}

/// What exists in AWS for one access, as far as the engine knows: turned into a state.
#[derive(Clone, Debug, Default)]
struct Current {
    args: AccessArgs,
    cluster_sg: String,
    client_sg: Option<String>,
    owner: String,
    rules: BTreeMap<String, String>,
    ssh_rules: BTreeMap<String, String>,
    endpoint: Option<String>,
    tags_all: BTreeMap<String, String>,
    unmanaged: Vec<UnmanagedRule>,
}

impl Current {
    fn to_state(&self) -> Value {
        let outs = AccessOutputs {
            id: self.cluster_sg.clone(),
            cluster_security_group_id: self.cluster_sg.clone(),
            client_security_group_id: self.client_sg.clone(),
            ingress_rule_ids: self.rules.clone(),
            client_ssh_rule_ids: self.ssh_rules.clone(),
            owner_id: self.owner.clone(),
            cluster_endpoint: self.endpoint.clone(),
            tags_all: self.tags_all.clone(),
            unmanaged_ingress: self.unmanaged.clone(),
        };
        let mut v = Value::from_json(&serde_json::to_value(&self.args).unwrap_or_default());
        if let Value::Map(o) = Value::from_json(&serde_json::to_value(&outs).unwrap_or_default()) {
            for (k, x) in o {
                v.set(&k, x);
            }
        }
        state::complete(&v)
    }
}

fn unmanaged(rule: &Rule) -> UnmanagedRule {
    UnmanagedRule {
        rule_id: rule.id.clone(),
        protocol: rule.protocol.clone(),
        from_port: rule.from_port,
        to_port: rule.to_port,
        source: rule.source_text.clone(),
        description: rule.description.clone().unwrap_or_default(),
    }
}

fn sorted_unmanaged(rules: &[&Rule]) -> Vec<UnmanagedRule> {
    let mut out: Vec<UnmanagedRule> = rules.iter().map(|r| unmanaged(r)).collect();
    out.sort_by(|a, b| {
        (&a.source, a.from_port, a.to_port, &a.protocol, &a.rule_id).cmp(&(
            &b.source,
            b.from_port,
            b.to_port,
            &b.protocol,
            &b.rule_id,
        ))
    });
    out
}

/// Keeps the user's spelling of the entries of a set input whose key is still present, and adds keys
/// found in AWS that no entry covers (after an import, say).
fn refresh_set(
    prior: &Option<BTreeSet<String>>,
    found: &BTreeSet<String>,
    key: impl Fn(&str) -> Option<String>,
) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut covered = BTreeSet::new();
    for item in prior.iter().flatten() {
        if let Some(k) = key(item) {
            if found.contains(&k) {
                out.insert(item.clone());
                covered.insert(k);
            }
        }
    }
    for k in found.difference(&covered) {
        out.insert(k.clone());
    }
    if out.is_empty() && prior.is_none() {
        None
    } else {
        Some(out)
    }
}

impl Engine {
    pub fn new(cloud: Arc<dyn Cloud>, default_tags: BTreeMap<String, String>) -> Self {
        Engine {
            cloud,
            default_tags,
            backoff: Backoff::default(),
            cancel: CancellationToken::new(),
        }
    }

    /// Connects to AWS with the provider configuration (no call is made until the first operation).
    pub async fn connect(cfg: &ProviderConfig) -> Result<Engine, Diagnostic> {
        let aws = crate::aws::Aws::connect(cfg)
            .await
            .map_err(|e| Diagnostic::general("Cannot configure AWS", e.to_string()))?;
        Ok(Engine::new(
            Arc::new(aws),
            cfg.default_tags.clone().unwrap_or_default(),
        ))
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    pub fn default_tags(&self) -> &BTreeMap<String, String> {
        &self.default_tags
    }

    /// Cancels in-flight work (StopProvider, Pulumi's Cancel).
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    async fn sleep(&self, d: Duration) -> Result<(), CloudError> {
        tokio::select! {
            _ = self.cancel.cancelled() => Err(CloudError::Other { code: "Cancelled".into(), message: "the operation was cancelled".into() }),
            _ = tokio::time::sleep(d) => Ok(()),
        }
    }

    /// Runs `op` until it succeeds, fails with an error `retry_on` does not accept, or `deadline` passes.
    async fn retry<T, F, Fut>(
        &self,
        what: &str,
        deadline: Instant,
        retry_on: impl Fn(&CloudError) -> bool,
        mut op: F,
    ) -> Result<T, CloudError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, CloudError>>,
    {
        let mut wait = self.backoff.initial;
        loop {
            if self.cancel.is_cancelled() {
                return Err(CloudError::Other {
                    code: "Cancelled".into(),
                    message: "the operation was cancelled".into(),
                });
            }
            match op().await {
                Err(e) if retry_on(&e) && Instant::now() + wait < deadline => {
                    tracing::debug!(operation = what, error = %e, wait_ms = wait.as_millis() as u64, "retrying");
                    self.sleep(wait).await?;
                    wait = (wait * 2).min(self.backoff.max);
                }
                r => return r,
            }
        }
    }

    fn timeout(a: &AccessArgs, op: Op) -> Duration {
        let t = a.timeouts.as_ref().and_then(|t| match op {
            Op::Create => t.create.clone(),
            Op::Update => t.update.clone(),
            Op::Delete => t.delete.clone(),
        });
        let d = match op {
            Op::Create => model::DEFAULT_CREATE_TIMEOUT,
            Op::Update => model::DEFAULT_UPDATE_TIMEOUT,
            Op::Delete => model::DEFAULT_DELETE_TIMEOUT,
        };
        validate::parse_duration(t.as_deref().unwrap_or(d)).unwrap_or(Duration::from_secs(600))
    }

    fn tags_all(&self, a: &AccessArgs) -> BTreeMap<String, String> {
        let mut t = self.default_tags.clone();
        t.extend(a.tags.clone().unwrap_or_default());
        t
    }

    fn cluster_group_tags(&self, a: &AccessArgs, name: &str) -> BTreeMap<String, String> {
        let mut t = self.tags_all(a);
        t.insert(tags::NAME.into(), name.into());
        t.insert(tags::ROLE.into(), "cluster".into());
        if let Some(d) = &a.description {
            t.insert(tags::DESCRIPTION.into(), d.clone());
        }
        if let Some(p) = &a.name_prefix {
            t.insert(tags::NAME_PREFIX.into(), p.clone());
        }
        if let Some(c) = a.cluster.as_ref().and_then(cluster_tag) {
            t.insert(tags::CLUSTER.into(), c);
        }
        let o = options_tag(a);
        if !o.is_empty() {
            t.insert(tags::OPTIONS.into(), o);
        }
        t
    }

    fn member_tags(
        &self,
        a: &AccessArgs,
        name: &str,
        cluster_sg: &str,
        role: &str,
    ) -> BTreeMap<String, String> {
        let mut t = self.tags_all(a);
        t.insert(tags::NAME.into(), name.into());
        t.insert(tags::ROLE.into(), role.into());
        t.insert(tags::ACCESS.into(), cluster_sg.into());
        t
    }

    /// Reads the cluster named by `config.cluster` when it is known (for planning).
    pub async fn lookup_cluster(&self, config: &Value) -> Result<Option<ClusterInfo>, Diagnostic> {
        let c = config.get("cluster");
        let Some(json) = c.to_json().filter(|j| !j.is_null()) else {
            return Ok(None);
        };
        let Ok(cref) = serde_json::from_value::<ClusterRef>(json) else {
            return Ok(None);
        };
        if cluster_tag(&cref).is_none() {
            return Ok(None);
        }
        match self.cloud.describe_cluster(&cref).await {
            Ok(i) => Ok(Some(i)),
            Err(e @ CloudError::NotFound { .. }) => Err(Diagnostic::error(
                AttrPath::attr("cluster"),
                "Cluster not found",
                format!("AWS answered {e}. Check the identifier and the provider's region."),
            )),
            Err(e) => Err(cloud_diag("read the cluster", &e)),
        }
    }

    /// Plans with the cluster's facts read from AWS when `cluster` is set.
    pub async fn plan(&self, prior: Option<&Value>, config: &Value) -> Plan {
        let (info, diag) = match self.lookup_cluster(config).await {
            Ok(i) => (i, None),
            Err(d) => (None, Some(d)),
        };
        let mut p = plan::plan(&PlanInput {
            prior,
            config,
            default_tags: Some(&self.default_tags),
            cluster: info.as_ref(),
        });
        p.diagnostics.extend(diag);
        p
    }

    /// Creates the access described by `planned` (a planned state whose inputs are all known).
    pub async fn create(&self, planned: &Value) -> Result<Value, ApplyError> {
        let mut a = args_of(planned).map_err(|d| ApplyError::new(d, None))?;
        let deadline = Instant::now() + Self::timeout(&a, Op::Create);
        let info = match &a.cluster {
            Some(c) => Some(
                self.cloud
                    .describe_cluster(c)
                    .await
                    .map_err(|e| ApplyError::new(cloud_diag("read the cluster", &e), None))?,
            ),
            None => None,
        };
        let vpc = match (&a.vpc_id, info.as_ref().and_then(|i| i.vpc_id.clone())) {
            (Some(v), Some(cv)) if *v != cv => {
                return Err(ApplyError::new(
                    Diagnostic::error(
                        AttrPath::attr("vpc_id"),
                        "vpc_id does not match the cluster's VPC",
                        format!(
                            "The cluster is in {cv}, but vpc_id is {v}. Remove vpc_id or fix it."
                        ),
                    ),
                    None,
                ))
            }
            (Some(v), _) => v.clone(),
            (None, Some(cv)) => cv,
            (None, None) => {
                return Err(ApplyError::new(
                    Diagnostic::error(
                        AttrPath::attr("vpc_id"),
                        "No VPC",
                        "The cluster's VPC could not be read; set vpc_id.",
                    ),
                    None,
                ))
            }
        };
        a.vpc_id = Some(vpc.clone());
        let port = a
            .port
            .or(info.as_ref().and_then(|i| i.port))
            .unwrap_or(model::DEFAULT_PORT);
        a.port = Some(port);
        let name = match (&a.name, &a.name_prefix) {
            (Some(n), _) => n.clone(),
            (None, Some(p)) => unique_name(p),
            (None, None) => unique_name("elasticache-access-"),
        };
        a.name = Some(name.clone());

        let mut cur = Current {
            args: a.clone(),
            endpoint: info.as_ref().and_then(|i| i.endpoint.clone()),
            tags_all: self.tags_all(&a),
            ..Default::default()
        };
        let cluster_sg = self
            .cloud
            .create_security_group(
                &vpc,
                &format!("{name}-cluster"),
                &group_description(&name, "cluster"),
                &self.cluster_group_tags(&a, &name),
            )
            .await
            .map_err(|e| {
                ApplyError::new(cloud_diag("create the cluster security group", &e), None)
            })?;
        tracing::info!(group = %cluster_sg, "created cluster security group");
        cur.cluster_sg = cluster_sg.clone();
        match self
            .create_rest(&mut cur, &vpc, &name, port, deadline, info.as_ref())
            .await
        {
            Ok(()) => Ok(cur.to_state()),
            Err(d) => Err(ApplyError::new(d, Some(cur.to_state()))),
        }
    }

    async fn create_rest(
        &self,
        cur: &mut Current,
        vpc: &str,
        name: &str,
        port: u16,
        deadline: Instant,
        info: Option<&ClusterInfo>,
    ) -> Result<(), Diagnostic> {
        let a = cur.args.clone();
        let cluster_sg = cur.cluster_sg.clone();
        if a.create_client_security_group != Some(false) {
            let tags = self.member_tags(&a, name, &cluster_sg, "clients");
            let id = self
                .cloud
                .create_security_group(
                    vpc,
                    &format!("{name}-clients"),
                    &group_description(name, "clients"),
                    &tags,
                )
                .await
                .map_err(|e| cloud_diag("create the client security group", &e))?;
            tracing::info!(group = %id, "created client security group");
            cur.client_sg = Some(id);
        }
        let rule_tags = self.member_tags(&a, name, &cluster_sg, "rule");
        let specs: Vec<RuleSpec> =
            desired_cluster_rules(&a, name, port, cur.client_sg.as_deref(), "")
                .into_values()
                .collect();
        let fresh: Vec<String> = std::iter::once(cluster_sg.clone())
            .chain(cur.client_sg.clone())
            .collect();
        let created = self
            .authorize(&cluster_sg, &specs, &rule_tags, deadline, &fresh)
            .await
            .map_err(|e| cloud_diag("authorize the cluster group's ingress rules", &e))?;
        for r in created {
            if let Some(s) = &r.source {
                cur.rules.insert(s.key(), r.id.clone());
            }
        }
        if let Some(client) = cur.client_sg.clone() {
            let ssh: Vec<RuleSpec> = desired_ssh_rules(&a, name).into_values().collect();
            let created = self
                .authorize(&client, &ssh, &rule_tags, deadline, &fresh)
                .await
                .map_err(|e| cloud_diag("authorize the client group's SSH rules", &e))?;
            for r in created {
                if let Some(s) = &r.source {
                    cur.ssh_rules.insert(s.key(), r.id.clone());
                }
            }
        }
        if a.attach_to_cluster == Some(true) {
            if let (Some(c), Some(i)) = (&a.cluster, &info) {
                self.attach(c, i, &cluster_sg).await?;
            }
        }
        let groups = self
            .retry(
                "DescribeSecurityGroups",
                deadline,
                |_| false,
                || {
                    self.cloud
                        .describe_security_groups(std::slice::from_ref(&cluster_sg))
                },
            )
            .await
            .map_err(|e| cloud_diag("read the cluster security group", &e))?;
        cur.owner = groups
            .first()
            .map(|g| g.owner_id.clone())
            .unwrap_or_default();
        Ok(())
    }

    /// Authorizes `specs` on `group` in one call, retrying "not found" (a group just created may not
    /// be visible yet) until `deadline`. Rules that exist already are adopted: tagged and returned.
    async fn authorize(
        &self,
        group: &str,
        specs: &[RuleSpec],
        tags: &BTreeMap<String, String>,
        deadline: Instant,
        fresh: &[String],
    ) -> Result<Vec<Rule>, CloudError> {
        if specs.is_empty() {
            return Ok(Vec::new());
        }
        // Only groups this apply created (`fresh`) are waited for: AWS may not show them yet. A
        // source group that does not exist fails at once.
        let is_not_found = |e: &CloudError| match e {
            CloudError::NotFound { message, .. } => {
                fresh.iter().any(|f| message.contains(f.as_str()))
                    || (!message.contains("sg-") && fresh.iter().any(|f| f == group))
            }
            _ => false,
        };
        match self
            .retry(
                "AuthorizeSecurityGroupIngress",
                deadline,
                is_not_found,
                || self.cloud.authorize_ingress(group, specs, tags),
            )
            .await
        {
            Err(CloudError::Duplicate { .. }) => {
                // Some of these rules exist already (added outside, or by an earlier attempt that timed
                // out): adopt the existing ones, authorize the rest.
                let existing = self.cloud.describe_rules(&[group.to_string()]).await?;
                let mut adopted = Vec::new();
                let mut rest = Vec::new();
                for s in specs {
                    match existing.iter().find(|r| {
                        !r.is_egress
                            && r.group_id == group
                            && r.is_tcp_port(s.port)
                            && r.source.as_ref().is_some_and(|x| x.same_as(&s.source))
                    }) {
                        Some(r) => adopted.push(r.clone()),
                        None => rest.push(s.clone()),
                    }
                }
                let ids: Vec<String> = adopted.iter().map(|r| r.id.clone()).collect();
                self.cloud.create_tags(&ids, tags).await?;
                tracing::info!(rules = ?ids, "adopted existing identical rules");
                let mut created = if rest.is_empty() {
                    Vec::new()
                } else {
                    self.cloud.authorize_ingress(group, &rest, tags).await?
                };
                created.extend(adopted);
                Ok(created)
            }
            r => r,
        }
    }

    /// Reads the access: None when its cluster group is gone.
    pub async fn read(&self, state: &Value) -> Result<Option<Value>, Diagnostic> {
        let prior = args_of(state)?;
        let Some(cluster_sg) = state
            .get("id")
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
        else {
            return Ok(None);
        };
        let client_sg = state
            .get("client_security_group_id")
            .as_str()
            .map(str::to_string);
        let mut ids = vec![cluster_sg.clone()];
        ids.extend(client_sg.clone());
        let groups = self
            .cloud
            .describe_security_groups(&ids)
            .await
            .map_err(|e| cloud_diag("read the security groups", &e))?;
        let Some(cg) = groups.iter().find(|g| g.id == cluster_sg) else {
            tracing::info!(group = %cluster_sg, "cluster security group is gone");
            return Ok(None);
        };
        let client = client_sg
            .as_ref()
            .and_then(|c| groups.iter().find(|g| &g.id == c));
        let mut ids = vec![cluster_sg.clone()];
        ids.extend(client.map(|c| c.id.clone()));
        let rules = self
            .cloud
            .describe_rules(&ids)
            .await
            .map_err(|e| cloud_diag("read the security group rules", &e))?;
        let known: BTreeSet<String> = ["ingress_rule_ids", "client_ssh_rule_ids"]
            .iter()
            .filter_map(|n| state.get(n).as_map())
            .flat_map(|m| m.values().filter_map(|v| v.as_str().map(str::to_string)))
            .collect();
        let mut cur = self.observe(prior.clone(), cg, client, &rules, &known, false);
        cur.endpoint = state.get("cluster_endpoint").as_str().map(str::to_string);
        if prior.attach_to_cluster == Some(true) {
            if let Some(c) = &prior.cluster {
                match self.cloud.cluster_security_groups(c).await {
                    Ok(sgs) if sgs.contains(&cluster_sg) => {}
                    Ok(_) | Err(CloudError::NotFound { .. }) => {
                        cur.args.attach_to_cluster = Some(false)
                    }
                    Err(e) => return Err(cloud_diag("read the cluster's security groups", &e)),
                }
            }
        }
        Ok(Some(cur.to_state()))
    }

    /// Builds what exists from the groups and rules found. Rules are managed when their id is `known`
    /// or they carry this access's tag.
    fn observe(
        &self,
        mut a: AccessArgs,
        cg: &Group,
        client: Option<&Group>,
        rules: &[Rule],
        known: &BTreeSet<String>,
        import: bool,
    ) -> Current {
        let mine = |r: &Rule| known.contains(&r.id) || r.tags.get(tags::ACCESS) == Some(&cg.id);
        let client_id = client.map(|c| c.id.clone());
        let mut managed = BTreeMap::new();
        let mut other = Vec::new();
        let mut ports = BTreeSet::new();
        for r in rules.iter().filter(|r| r.group_id == cg.id && !r.is_egress) {
            match &r.source {
                Some(s)
                    if mine(r)
                        && r.protocol == "tcp"
                        && r.from_port == r.to_port
                        && !managed.contains_key(&s.key()) =>
                {
                    ports.insert(r.from_port);
                    managed.insert(s.key(), r);
                }
                _ => other.push(r),
            }
        }
        let mut ssh = BTreeMap::new();
        for r in rules
            .iter()
            .filter(|r| Some(&r.group_id) == client_id.as_ref() && !r.is_egress)
        {
            if let (Some(s @ Source::Cidr(_)), true) =
                (&r.source, mine(r) && r.is_tcp_port(SSH_PORT))
            {
                ssh.insert(s.key(), r.id.clone());
            }
        }
        if ports.len() == 1 {
            a.port = ports.iter().next().and_then(|p| u16::try_from(*p).ok());
        }
        let keys_of = |pred: fn(&Source) -> bool| -> BTreeSet<String> {
            managed
                .iter()
                .filter(|(k, r)| {
                    Some(k.as_str()) != client_id.as_deref()
                        && r.source.as_ref().map(pred).unwrap_or(false)
                })
                .map(|(k, _)| k.clone())
                .collect()
        };
        let groups = keys_of(|s| matches!(s, Source::Group { .. }));
        let cidrs = keys_of(|s| matches!(s, Source::Cidr(_)));
        let pls = keys_of(|s| matches!(s, Source::PrefixList(_)));
        a.client_security_group_ids = refresh_set(&a.client_security_group_ids, &groups, |s| {
            validate::parse_group_source(s)
                .ok()
                .map(|x| x.as_seen_from(&cg.owner_id).key())
        });
        a.allowed_cidr_blocks = refresh_set(&a.allowed_cidr_blocks, &cidrs, |s| {
            validate::parse_cidr(s).ok().map(|n| n.to_string())
        });
        a.allowed_prefix_list_ids =
            refresh_set(&a.allowed_prefix_list_ids, &pls, |s| Some(s.to_string()));
        let ssh_keys: BTreeSet<String> = ssh.keys().cloned().collect();
        if client.is_some() {
            a.client_ssh_cidr_blocks = refresh_set(&a.client_ssh_cidr_blocks, &ssh_keys, |s| {
                validate::parse_cidr(s).ok().map(|n| n.to_string())
            });
        }
        // Tags: what the group carries, less the provider's own bookkeeping.
        let tags_all: BTreeMap<String, String> = cg
            .tags
            .iter()
            .filter(|(k, _)| !k.starts_with(validate::RESERVED_TAG_PREFIX))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let own: BTreeMap<String, String> = tags_all
            .iter()
            .filter(|(k, v)| {
                self.default_tags.get(*k) != Some(*v)
                    || a.tags.as_ref().map(|t| t.contains_key(*k)).unwrap_or(false)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        a.tags = if own.is_empty() && a.tags.is_none() {
            None
        } else {
            Some(own)
        };
        a.description = cg.tags.get(tags::DESCRIPTION).cloned();
        if let Some(n) = cg.tags.get(tags::NAME) {
            a.name = Some(n.clone());
        }
        a.vpc_id = Some(cg.vpc_id.clone());
        if import {
            a.name_prefix = cg.tags.get(tags::NAME_PREFIX).cloned();
            a.cluster = cg
                .tags
                .get(tags::CLUSTER)
                .and_then(|c| parse_cluster_tag(c));
            if let Some(o) = cg.tags.get(tags::OPTIONS) {
                apply_options_tag(&mut a, o);
            }
        }
        Current {
            cluster_sg: cg.id.clone(),
            client_sg: client_id,
            owner: cg.owner_id.clone(),
            rules: managed
                .iter()
                .map(|(k, r)| (k.clone(), r.id.clone()))
                .collect(),
            ssh_rules: ssh,
            endpoint: None,
            tags_all,
            unmanaged: sorted_unmanaged(&other),
            args: a,
        }
    }

    /// Imports an access by its cluster security group's id.
    pub async fn import(&self, id: &str) -> Result<Value, Diagnostic> {
        let groups = self
            .cloud
            .describe_security_groups(&[id.to_string()])
            .await
            .map_err(|e| cloud_diag("read the security group", &e))?;
        let Some(cg) = groups.into_iter().next() else {
            return Err(Diagnostic::general("Cannot import", format!("There is no security group {id} in this account and Region; import the id of the access's cluster group (sg-…).")));
        };
        if cg.tags.get(tags::ROLE).map(String::as_str) != Some("cluster") {
            return Err(Diagnostic::general("Cannot import", format!("{id} is not the cluster group of an elasticache-access access (it has no {} = cluster tag); import the id of the group named <name>-cluster.", tags::ROLE)));
        }
        let clients = self
            .cloud
            .find_security_groups_by_tag(tags::ACCESS, id)
            .await
            .map_err(|e| cloud_diag("find the client group", &e))?;
        let client = clients
            .into_iter()
            .find(|g| g.tags.get(tags::ROLE).map(String::as_str) == Some("clients"));
        let mut ids = vec![cg.id.clone()];
        ids.extend(client.as_ref().map(|c| c.id.clone()));
        let rules = self
            .cloud
            .describe_rules(&ids)
            .await
            .map_err(|e| cloud_diag("read the security group rules", &e))?;
        let mut cur = self.observe(
            AccessArgs::default(),
            &cg,
            client.as_ref(),
            &rules,
            &BTreeSet::new(),
            true,
        );
        if client.is_none() && cur.args.create_client_security_group.is_none() {
            cur.args.create_client_security_group = Some(false);
        }
        if let Some(c) = cur.args.cluster.clone() {
            match self.cloud.describe_cluster(&c).await {
                Ok(info) => {
                    cur.endpoint = info.endpoint.clone();
                    if cur.args.port.is_none() {
                        cur.args.port = info.port;
                    }
                    if cur.args.attach_to_cluster == Some(true)
                        && !info.security_group_ids.contains(&cg.id)
                    {
                        cur.args.attach_to_cluster = Some(false);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the access's cluster during import")
                }
            }
        }
        if cur.args.port.is_none() {
            cur.args.port = Some(model::DEFAULT_PORT);
        }
        Ok(cur.to_state())
    }

    /// Updates the access from `prior` to `planned` in place.
    pub async fn update(&self, prior: &Value, planned: &Value) -> Result<Value, ApplyError> {
        let old = args_of(prior).map_err(|d| ApplyError::new(d, Some(prior.clone())))?;
        let new = args_of(planned).map_err(|d| ApplyError::new(d, Some(prior.clone())))?;
        let cluster_sg = prior.get("id").as_str().unwrap_or_default().to_string();
        let mut cur = Current {
            args: new.clone(),
            cluster_sg: cluster_sg.clone(),
            client_sg: prior
                .get("client_security_group_id")
                .as_str()
                .map(str::to_string),
            owner: prior
                .get("owner_id")
                .as_str()
                .unwrap_or_default()
                .to_string(),
            endpoint: prior.get("cluster_endpoint").as_str().map(str::to_string),
            tags_all: self.tags_all(&new),
            ..Default::default()
        };
        match self.update_steps(&old, &new, prior, &mut cur).await {
            Ok(()) => Ok(cur.to_state()),
            Err(d) => {
                // Report what exists now, so the next plan shows what is left to do.
                let state = match self.read(&cur.to_state()).await {
                    Ok(Some(mut s)) => {
                        s.set("timeouts", planned.get("timeouts").clone());
                        Some(s)
                    }
                    _ => Some(prior.clone()),
                };
                Err(ApplyError::new(d, state))
            }
        }
    }

    async fn update_steps(
        &self,
        old: &AccessArgs,
        new: &AccessArgs,
        prior: &Value,
        cur: &mut Current,
    ) -> Result<(), Diagnostic> {
        let deadline = Instant::now() + Self::timeout(new, Op::Update);
        let name = new.name.clone().unwrap_or_default();
        let port = new.port.unwrap_or(model::DEFAULT_PORT);
        let cluster_sg = cur.cluster_sg.clone();
        let vpc = new.vpc_id.clone().unwrap_or_default();
        let cluster_changed = old.cluster != new.cluster;
        let info = match (
            &new.cluster,
            cluster_changed || new.attach_to_cluster == Some(true),
        ) {
            (Some(c), true) => Some(
                self.cloud
                    .describe_cluster(c)
                    .await
                    .map_err(|e| cloud_diag("read the cluster", &e))?,
            ),
            _ => None,
        };
        if cluster_changed {
            cur.endpoint = info.as_ref().and_then(|i| i.endpoint.clone());
        }
        let mut ids = vec![cluster_sg.clone()];
        ids.extend(cur.client_sg.clone());
        let groups = self
            .cloud
            .describe_security_groups(&ids)
            .await
            .map_err(|e| cloud_diag("read the security groups", &e))?;
        let cg = groups
            .iter()
            .find(|g| g.id == cluster_sg)
            .cloned()
            .ok_or_else(|| {
                Diagnostic::general(
                    "Cluster security group is gone",
                    format!(
                        "{cluster_sg} no longer exists; run a refresh so the access is recreated."
                    ),
                )
            })?;
        let client_group = cur
            .client_sg
            .as_ref()
            .and_then(|c| groups.iter().find(|g| &g.id == c))
            .cloned();
        let rules = self
            .cloud
            .describe_rules(&ids)
            .await
            .map_err(|e| cloud_diag("read the security group rules", &e))?;
        let known: BTreeSet<String> = ["ingress_rule_ids", "client_ssh_rule_ids"]
            .iter()
            .filter_map(|n| prior.get(n).as_map())
            .flat_map(|m| m.values().filter_map(|v| v.as_str().map(str::to_string)))
            .collect();
        let is_mine =
            |r: &Rule| known.contains(&r.id) || r.tags.get(tags::ACCESS) == Some(&cluster_sg);

        // Tags: user tags on every group and rule; bookkeeping tags on the groups.
        let want_cluster_tags = self.cluster_group_tags(new, &name);
        let mut members: Vec<String> = rules
            .iter()
            .filter(|r| is_mine(r))
            .map(|r| r.id.clone())
            .collect();
        members.extend(client_group.as_ref().map(|c| c.id.clone()));
        let user_old = self.tags_all(old);
        let user_new = self.tags_all(new);
        let changed: BTreeMap<String, String> = user_new
            .iter()
            .filter(|(k, v)| user_old.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let removed: Vec<String> = user_old
            .keys()
            .filter(|k| !user_new.contains_key(*k))
            .cloned()
            .collect();
        let mut all = vec![cluster_sg.clone()];
        all.extend(members.iter().cloned());
        self.cloud
            .create_tags(&all, &changed)
            .await
            .map_err(|e| cloud_diag("tag the groups and rules", &e))?;
        self.cloud
            .delete_tags(&all, &removed)
            .await
            .map_err(|e| cloud_diag("untag the groups and rules", &e))?;
        let own_changed: BTreeMap<String, String> = want_cluster_tags
            .iter()
            .filter(|(k, v)| {
                k.starts_with(validate::RESERVED_TAG_PREFIX) && cg.tags.get(*k) != Some(*v)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let own_removed: Vec<String> = cg
            .tags
            .keys()
            .filter(|k| {
                k.starts_with(validate::RESERVED_TAG_PREFIX) && !want_cluster_tags.contains_key(*k)
            })
            .cloned()
            .collect();
        self.cloud
            .create_tags(std::slice::from_ref(&cluster_sg), &own_changed)
            .await
            .map_err(|e| cloud_diag("tag the cluster group", &e))?;
        self.cloud
            .delete_tags(std::slice::from_ref(&cluster_sg), &own_removed)
            .await
            .map_err(|e| cloud_diag("untag the cluster group", &e))?;

        // The client group: create it when wanted and missing.
        let want_client = new.create_client_security_group != Some(false);
        let mut fresh = Vec::new();
        if want_client && client_group.is_none() {
            let tags = self.member_tags(new, &name, &cluster_sg, "clients");
            let id = self
                .cloud
                .create_security_group(
                    &vpc,
                    &format!("{name}-clients"),
                    &group_description(&name, "clients"),
                    &tags,
                )
                .await
                .map_err(|e| cloud_diag("create the client security group", &e))?;
            fresh.push(id.clone());
            cur.client_sg = Some(id);
        } else if client_group.is_none() {
            cur.client_sg = None;
        }
        let rule_tags = self.member_tags(new, &name, &cluster_sg, "rule");

        // Rules on the cluster group: authorize new, then describe, then revoke old.
        let want = desired_cluster_rules(
            new,
            &name,
            port,
            if want_client {
                cur.client_sg.as_deref()
            } else {
                None
            },
            &cg.owner_id,
        );
        let cluster_rules: Vec<&Rule> = rules
            .iter()
            .filter(|r| r.group_id == cluster_sg && !r.is_egress)
            .collect();
        let (rules_map, unmanaged) = self
            .converge(
                &cluster_sg,
                &want,
                &cluster_rules,
                &is_mine,
                new.exclusive_ingress == Some(true),
                &rule_tags,
                deadline,
                &fresh,
            )
            .await?;
        cur.rules = rules_map;
        cur.unmanaged = sorted_unmanaged(&unmanaged);

        // SSH rules on the client group.
        if let (Some(client), true) = (cur.client_sg.clone(), want_client) {
            let want = desired_ssh_rules(new, &name);
            let client_rules: Vec<&Rule> = rules
                .iter()
                .filter(|r| r.group_id == client && !r.is_egress)
                .collect();
            let ssh_mine = |r: &Rule| is_mine(r) && r.is_tcp_port(SSH_PORT);
            let (ssh_map, _) = self
                .converge(
                    &client,
                    &want,
                    &client_rules,
                    &ssh_mine,
                    false,
                    &rule_tags,
                    deadline,
                    &fresh,
                )
                .await?;
            cur.ssh_rules = ssh_map;
        }

        // Attachment.
        if let (Some(c), true) = (
            &old.cluster,
            old.attach_to_cluster == Some(true)
                && (cluster_changed || new.attach_to_cluster != Some(true)),
        ) {
            self.detach(c, &cluster_sg).await?;
        }
        if let (Some(c), Some(i), true) = (&new.cluster, &info, new.attach_to_cluster == Some(true))
        {
            self.attach(c, i, &cluster_sg).await?;
        }

        // The client group: delete it when no longer wanted (its rule was revoked above), within
        // the update's own deadline.
        if let (Some(c), false) = (&client_group, want_client) {
            self.delete_group(&c.id, &vpc, deadline).await?;
            cur.client_sg = None;
            cur.ssh_rules.clear();
        }
        cur.owner = cg.owner_id.clone();
        Ok(())
    }

    /// Brings the rules of `group` to `want`: authorize missing ones (adopting identical unmanaged
    /// rules), update descriptions, then revoke managed rules no longer wanted (and, when `exclusive`,
    /// every unmanaged rule). Returns the managed rules by key and the unmanaged rules left.
    #[allow(clippy::too_many_arguments)]
    async fn converge<'r>(
        &self,
        group: &str,
        want: &BTreeMap<String, RuleSpec>,
        existing: &[&'r Rule],
        is_mine: &(dyn Fn(&Rule) -> bool + Sync),
        exclusive: bool,
        rule_tags: &BTreeMap<String, String>,
        deadline: Instant,
        fresh: &[String],
    ) -> Result<(BTreeMap<String, String>, Vec<&'r Rule>), Diagnostic> {
        let mut keep: BTreeMap<String, String> = BTreeMap::new();
        let mut to_add = Vec::new();
        let mut to_describe = Vec::new();
        let mut adopt = Vec::new();
        let mut used = BTreeSet::new();
        for (k, spec) in want {
            let found = existing
                .iter()
                .find(|r| {
                    is_mine(r)
                        && r.source.as_ref().is_some_and(|s| s.same_as(&spec.source))
                        && r.is_tcp_port(spec.port)
                })
                .or_else(|| {
                    existing.iter().find(|r| {
                        !is_mine(r)
                            && r.source.as_ref().is_some_and(|s| s.same_as(&spec.source))
                            && r.is_tcp_port(spec.port)
                    })
                });
            match found {
                Some(r) => {
                    if !is_mine(r) {
                        adopt.push(r.id.clone());
                    }
                    if r.description.as_deref() != Some(spec.description.as_str()) {
                        to_describe.push((r.id.clone(), spec.clone()));
                    }
                    used.insert(r.id.clone());
                    keep.insert(k.clone(), r.id.clone());
                }
                None => to_add.push(spec.clone()),
            }
        }
        self.cloud
            .create_tags(&adopt, rule_tags)
            .await
            .map_err(|e| cloud_diag("tag adopted rules", &e))?;
        let created = self
            .authorize(group, &to_add, rule_tags, deadline, fresh)
            .await
            .map_err(|e| cloud_diag("authorize the new ingress rules", &e))?;
        for r in created {
            if let Some(s) = &r.source {
                keep.insert(s.key(), r.id.clone());
            }
        }
        self.cloud
            .update_rule_descriptions(group, &to_describe)
            .await
            .map_err(|e| cloud_diag("update the rules' descriptions", &e))?;
        let mut revoke = Vec::new();
        let mut left = Vec::new();
        for r in existing {
            if used.contains(&r.id) {
                continue;
            }
            if is_mine(r) || exclusive {
                revoke.push(r.id.clone());
            } else {
                left.push(*r);
            }
        }
        match self.cloud.revoke_ingress(group, &revoke).await {
            Ok(()) | Err(CloudError::NotFound { .. }) => {}
            Err(e) => return Err(cloud_diag("revoke the old ingress rules", &e)),
        }
        Ok((keep, left))
    }

    /// Adds `group` to the cluster's security groups, keeping the ones it has. `info` is the cluster
    /// as read in this apply; for a replication group that is its first member only, so the groups
    /// are read again over all members (one call) before the members are modified.
    async fn attach(
        &self,
        c: &ClusterRef,
        info: &ClusterInfo,
        group: &str,
    ) -> Result<(), Diagnostic> {
        if info.security_group_ids.iter().any(|s| s == group) {
            return Ok(());
        }
        let mut ids = match info.kind {
            ClusterKind::ReplicationGroup => self
                .cloud
                .cluster_security_groups(c)
                .await
                .map_err(|e| cloud_diag("read the cluster's security groups", &e))?,
            ClusterKind::CacheCluster | ClusterKind::Serverless => info.security_group_ids.clone(),
        };
        if ids.iter().any(|s| s == group) {
            return Ok(());
        }
        ids.push(group.to_string());
        self.cloud
            .set_cluster_security_groups(c, &ids)
            .await
            .map_err(|e| cloud_diag("attach the cluster group to the cluster", &e))
    }

    async fn detach(&self, c: &ClusterRef, group: &str) -> Result<(), Diagnostic> {
        let sgs = match self.cloud.cluster_security_groups(c).await {
            Ok(s) => s,
            Err(CloudError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(cloud_diag("read the cluster's security groups", &e)),
        };
        if !sgs.iter().any(|s| s == group) {
            return Ok(());
        }
        let rest: Vec<String> = sgs.into_iter().filter(|s| s != group).collect();
        if rest.is_empty() {
            return Err(Diagnostic::error(
                AttrPath::attr("attach_to_cluster"),
                "Detaching would leave the cluster with no security group",
                format!("{group} is the only security group of the cluster. Attach another security group to the cluster first (AWS would otherwise fall back to the VPC's default group), then apply again."),
            ));
        }
        self.cloud
            .set_cluster_security_groups(c, &rest)
            .await
            .map_err(|e| cloud_diag("detach the cluster group from the cluster", &e))
    }

    async fn delete_group(&self, id: &str, vpc: &str, deadline: Instant) -> Result<(), Diagnostic> {
        let in_use: fn(&CloudError) -> bool = |e| matches!(e, CloudError::InUse { .. });
        match self
            .retry("DeleteSecurityGroup", deadline, in_use, || {
                self.cloud.delete_security_group(id)
            })
            .await
        {
            Ok(()) | Err(CloudError::NotFound { .. }) => Ok(()),
            Err(e @ CloudError::InUse { .. }) => {
                let holders = self
                    .cloud
                    .find_holders(id, vpc)
                    .await
                    .map(|h| h.to_string())
                    .unwrap_or_else(|e| format!("(could not list what holds it: {e})"));
                Err(Diagnostic::general(
                    format!("Security group {id} is still in use"),
                    format!("AWS answered {e} until the delete timeout. It is held by: {holders}. Detach it from those (or wait until their network interfaces are released), then destroy again; raise timeouts.delete to wait longer."),
                ))
            }
            Err(e) => Err(cloud_diag(&format!("delete security group {id}"), &e)),
        }
    }

    /// Deletes the access. Objects already gone count as deleted.
    pub async fn delete(&self, state: &Value) -> Result<(), ApplyError> {
        let a = args_of(state).map_err(|d| ApplyError::new(d, Some(state.clone())))?;
        let deadline = Instant::now() + Self::timeout(&a, Op::Delete);
        let cluster_sg = state.get("id").as_str().unwrap_or_default().to_string();
        let client_sg = state
            .get("client_security_group_id")
            .as_str()
            .map(str::to_string);
        let vpc = a.vpc_id.clone().unwrap_or_default();
        let fail = |d: Diagnostic| ApplyError::new(d, Some(state.clone()));
        if let (Some(c), Some(true)) = (&a.cluster, a.attach_to_cluster) {
            self.detach(c, &cluster_sg).await.map_err(fail)?;
        }
        if let Some(client) = &client_sg {
            if let Some(rule) = state.get("ingress_rule_ids").get(client).as_str() {
                match self
                    .cloud
                    .revoke_ingress(&cluster_sg, &[rule.to_string()])
                    .await
                {
                    Ok(()) | Err(CloudError::NotFound { .. }) => {}
                    Err(e) => {
                        return Err(fail(cloud_diag(
                            "revoke the rule that references the client group",
                            &e,
                        )))
                    }
                }
            }
            self.delete_group(client, &vpc, deadline)
                .await
                .map_err(fail)?;
        }
        if !cluster_sg.is_empty() {
            let mut left = state.clone();
            left.set("client_security_group_id", Value::Null);
            self.delete_group(&cluster_sg, &vpc, deadline)
                .await
                .map_err(|d| ApplyError::new(d, Some(state::complete(&left))))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod mock_tests;
