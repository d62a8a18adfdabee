//! The documentation pages, generated from the resource's declaration: `docs/index.md` (provider
//! configuration, authentication, the IAM policy) and `docs/resources/access.md` (every argument and
//! attribute, examples, import, with `import`: `moved` and identity; what the plan checks:
//! `checks`); `iam_token`: `docs/ephemeral-resources/iam_auth_token.md`; `reach`: the
//! `reachability` section and `docs/data-sources/reachability.md`.

mod checks;
mod iam_token;
mod import;
mod reach;

pub use iam_token::{connect_policy, iam_auth_token_md, PULUMI_TOKEN_EXAMPLE, TOKEN_EXAMPLE};
pub use reach::reachability_md;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Value as Json};

use crate::domain::declaration::model::TF_PROVIDER_SOURCE;
use crate::domain::declaration::model::{self, Mode, Nesting};
use crate::domain::declaration::schema::{self, Attribute, Type};

/// The Terraform examples embedded in the docs: (directory under `examples/terraform/`, title,
/// what it shows, its `main.tf`).
pub const EXAMPLES: &[(&str, &str, &str, &str)] = &[
    (
        "quickstart",
        "Quickstart",
        "A cluster group, a client group and the rule between them, for an existing replication group, with the cluster group attached to it.",
        include_str!("../../../examples/terraform/quickstart/main.tf"),
    ),
    (
        "existing-cluster",
        "Existing cluster",
        "Port and VPC read from a replication group, an existing application group allowed, and the cluster group attached to the replication group.",
        include_str!("../../../examples/terraform/existing-cluster/main.tf"),
    ),
    (
        "cross-vpc",
        "Cross-VPC",
        "A client group of a peered account and CIDR blocks of the peered network.",
        include_str!("../../../examples/terraform/cross-vpc/main.tf"),
    ),
];

/// The Pulumi YAML program embedded in the resource page.
pub const PULUMI_EXAMPLE: &str = include_str!("../../../examples/pulumi/Pulumi.yaml");

// Markdown

/// A description as one paragraph per blank-line-separated block: doc comments wrap lines at ~100
/// columns, which Markdown list items should not carry.
fn prose(text: &str) -> String {
    text.split("\n\n")
        .map(|p| {
            p.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The value type as the docs name it (Terraform's words).
fn type_label(ty: &Type) -> String {
    match ty {
        Type::String => "String".into(),
        Type::Integer => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::List(t) => format!("List of {}", type_label(t)),
        Type::Set(t) => format!("Set of {}", type_label(t)),
        Type::Map(t) => format!("Map of {}", type_label(t)),
        Type::Object(_) => "Object".into(),
    }
}

fn attribute_label(a: &Attribute) -> String {
    let mut label = match (a.nesting, &a.ty) {
        (Nesting::Block, _) => "Block".to_string(),
        (_, Type::Object(_)) => "Attributes".to_string(),
        (_, ty) => type_label(ty),
    };
    if let Some((lo, hi)) = a.range {
        let _ = write!(label, ", {lo}-{hi}");
    }
    if a.sensitive {
        label.push_str(", Sensitive");
    }
    label
}

/// The object attributes nested in `a`, if any (an object, or a list/set/map of objects).
fn nested(a: &Attribute) -> Option<&[Attribute]> {
    match &a.ty {
        Type::Object(attrs) => Some(attrs),
        Type::List(t) | Type::Set(t) | Type::Map(t) => match &**t {
            Type::Object(attrs) => Some(attrs),
            _ => None,
        },
        _ => None,
    }
}

fn anchor(path: &str) -> String {
    format!("nestedschema--{}", path.replace('.', "--"))
}

fn default_text(a: &Attribute) -> String {
    match (&a.default, a.mode) {
        (Some(d), _) => format!("`{d}`"),
        (None, Mode::OptionalComputed) => "computed by the provider when not set".into(),
        (None, _) => "not set".into(),
    }
}

/// Which Terraform section an attribute belongs to.
fn section(mode: Mode) -> &'static str {
    match mode {
        Mode::Required => "Required",
        Mode::Optional | Mode::OptionalComputed => "Optional",
        Mode::Computed => "Read-Only",
    }
}

struct Page {
    out: String,
    /// Nested schemas still to render: (dotted path, attributes, noun of their parent).
    pending: Vec<(String, Vec<Attribute>)>,
}

impl Page {
    /// Renders `attrs` grouped by section. `top` adds the default and replacement facts of each
    /// input (only the resource's top-level attributes carry a behaviour).
    fn attributes(&mut self, attrs: &[Attribute], prefix: &str, top: bool, heading: &str) {
        for sec in ["Required", "Optional", "Read-Only"] {
            let here: Vec<&Attribute> = attrs.iter().filter(|a| section(a.mode) == sec).collect();
            if here.is_empty() {
                continue;
            }
            let _ = writeln!(self.out, "{heading} {sec}\n");
            for a in here {
                self.attribute(a, prefix, top);
            }
            self.out.push('\n');
        }
    }

    fn attribute(&mut self, a: &Attribute, prefix: &str, top: bool) {
        let path = if prefix.is_empty() {
            a.name.clone()
        } else {
            format!("{prefix}.{}", a.name)
        };
        let mut line = format!(
            "- `{}` ({}) {}",
            a.name,
            attribute_label(a),
            prose(&a.description)
        );
        if let Some(inner) = nested(a) {
            let _ = write!(line, " See [below for nested schema](#{}).", anchor(&path));
            self.pending.push((path.clone(), inner.to_vec()));
        }
        self.out.push_str(&line);
        self.out.push('\n');
        if top && a.mode != Mode::Computed {
            let _ = writeln!(self.out, "  - Default: {}.", default_text(a));
            let _ = writeln!(
                self.out,
                "  - {}",
                if a.replaces {
                    "Changing this replaces the access."
                } else {
                    "Changing this updates the access in place."
                }
            );
        } else if !top && a.default.is_some() {
            let _ = writeln!(self.out, "  - Default: {}.", default_text(a));
        }
    }

    /// Renders the nested schemas queued so far (and those they queue).
    fn nested_schemas(&mut self) {
        while !self.pending.is_empty() {
            let (path, attrs) = self.pending.remove(0);
            let _ = writeln!(
                self.out,
                "<a id=\"{}\"></a>\n### Nested Schema for `{path}`\n",
                anchor(&path)
            );
            self.attributes(&attrs, &path, false, "####");
        }
    }
}

fn front_matter(title: &str, description: &str) -> String {
    let mut s = format!("---\npage_title: \"{title}\"\nsubcategory: \"\"\ndescription: |-\n");
    for line in prose(description).lines() {
        let _ = writeln!(s, "  {line}");
    }
    s.push_str("---\n\n");
    s
}

pub(crate) const GENERATED_NOTE: &str = "<!-- Generated by `terraform-provider-elasticache generate` from the resource declaration (`provider/src/domain/declaration/`) and `examples/`. Do not edit by hand. -->\n\n";

/// The IAM policy that allows every AWS action the provider calls.
pub fn iam_policy() -> Json {
    let mut by_service: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for action in crate::aws::IAM_ACTIONS {
        let service = action.split(':').next().unwrap_or_default();
        by_service.entry(service).or_default().push(action);
    }
    let statements: Vec<Json> = by_service
        .into_iter()
        .map(|(service, mut actions)| {
            actions.sort_unstable();
            actions.dedup();
            let sid = match service {
                "ec2" => "ElastiCacheAccessEc2".to_string(),
                "elasticache" => "ElastiCacheAccessElastiCache".to_string(),
                other => format!("ElastiCacheAccess{}", pascal(other)),
            };
            json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": "*"})
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn pascal(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

pub fn index_md() -> String {
    let provider = schema::provider();
    let resource = schema::resource();
    let mut out = front_matter(
        "elasticache Provider",
        "Authorizes network access to AWS ElastiCache clusters: a cluster security group, a client security group and the ingress rules between them.",
    );
    out.push_str(GENERATED_NOTE);
    out.push_str("# elasticache Provider\n\n");
    let _ = writeln!(
        out,
        "The `elasticache` provider manages one resource, [`{}`](resources/access.md) \
         (Pulumi: `{}`). {}\n",
        model::TF_RESOURCE_TYPE,
        model::PULUMI_RESOURCE_TOKEN,
        prose(&resource.description)
    );
    let _ = writeln!(
        out,
        "The ephemeral resource [`{}`](ephemeral-resources/iam_auth_token.md) (Pulumi: `{}`) signs \
         the short-lived IAM auth token a client presents to a cache with IAM authentication.\n",
        crate::domain::service::auth_token::TF_EPHEMERAL_TYPE,
        crate::domain::service::auth_token::PULUMI_FUNCTION_TOKEN
    );
    out.push_str(
        "The same resource is served to Pulumi by `pulumi-resource-elasticache`; its package schema \
         (`sdk-schemas/pulumi/schema.json`) carries the descriptions of this page, with camelCase \
         property names (`vpc_id` is `vpcId`).\n\n",
    );
    out.push_str("## Example Usage\n\n```terraform\n");
    let _ = write!(
        out,
        "terraform {{\n  required_providers {{\n    elasticache = {{\n      source  = \"{TF_PROVIDER_SOURCE}\"\n      version = \"~> {}\"\n    }}\n  }}\n}}\n\n",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(
        "provider \"elasticache\" {\n  region = \"eu-west-1\"\n\n  default_tags {\n    tags = {\n      ManagedBy = \"terraform\"\n    }\n  }\n}\n```\n\n",
    );
    out.push_str("## Authentication\n\n");
    out.push_str(
        "The provider finds credentials as the AWS CLI and SDKs do; no credential is ever written in \
         the provider block. In order:\n\n\
         1. Environment variables `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, for temporary \
         credentials, `AWS_SESSION_TOKEN`.\n\
         2. A named profile from the shared files `~/.aws/config` and `~/.aws/credentials` \
         (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`): `profile` in the provider block, else \
         `AWS_PROFILE`, else `default`. Profiles may use IAM Identity Center (SSO, after \
         `aws sso login`), `credential_process`, `role_arn` with `source_profile`, or web identity.\n\
         3. Web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`), ECS container \
         credentials and EC2 instance profile credentials (IMDS).\n\n\
         With `assume_role`, the credentials found above are used to call `sts:AssumeRole` on \
         `role_arn`, and every EC2 and ElastiCache call is made as that role: the caller needs \
         `sts:AssumeRole` on the role, and the role needs the policy below.\n\n\
         The Region comes from `region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the \
         profile's `region`; without one the provider stops with an error that says where to set it.\n\n",
    );
    out.push_str("### Custom endpoints\n\n");
    out.push_str(
        "`endpoints.ec2`, `endpoints.elasticache` and `endpoints.servicequotas` send the calls to \
         another endpoint, such as a local emulator. Without them each service uses \
         `AWS_ENDPOINT_URL_EC2` / `AWS_ENDPOINT_URL_ELASTICACHE` / \
         `AWS_ENDPOINT_URL_SERVICE_QUOTAS`, else `AWS_ENDPOINT_URL`, else the profile's \
         `endpoint_url`, else the Region's public endpoint:\n\n\
         ```shell\n\
         export AWS_ENDPOINT_URL=http://127.0.0.1:5000   # both services\n\
         export AWS_ENDPOINT_URL_EC2=http://127.0.0.1:5000\n\
         export AWS_ENDPOINT_URL_ELASTICACHE=http://127.0.0.1:5000\n\
         ```\n\n",
    );
    out.push_str("### Retries\n\n");
    out.push_str(
        "Every AWS call uses the SDK's adaptive retry mode: one client-side rate limit per \
         service and Region, shared by every call of the provider process (a `-parallelism=10` \
         apply too), slows the calls down when AWS throttles them, and throttling \
         (`RequestLimitExceeded`, `Throttling`) and transient failures are retried with jittered \
         exponential backoff (1 s initial, 20 s cap), up to `max_retries` attempts in all \
         (default 5).\n\n",
    );
    out.push_str("### Interrupted creates, and what the provider never touches\n\n");
    out.push_str(
        "The provider deletes or takes over a security group only when it can prove the group is \
         the access's, never by its name, and never by this machine's clock. \
         Both groups are made under a *creation lease*: the `elasticache-access:creating` tag holds \
         a token of the create and an expiry in AWS's clock (read from the `Date` of AWS's \
         answers), which the running create renews every minute; `elasticache-access:origin` keeps \
         the create's token for good. The lease ends (`elasticache-access:created` is set and the \
         lease removed) as soon as a state records the groups: when the create completes, when a \
         create fails and returns what it made (Terraform then marks it tainted and replaces it; \
         Pulumi retries it), and on the Read that follows an import or Pulumi's recovery of a \
         pending create.\n\n\
         - A retry of the same create finds what its own earlier attempt made by its token (an \
         answer lost on the way back), so nothing is made twice.\n\
         - What a killed create left is *provably abandoned* once its lease has expired by AWS's \
         clock (3 minutes, plus 30 s of grace for AWS's eventual consistency). The next create of \
         the same `name` waits for that, then takes the groups over (and leaves a cluster the \
         abandoned create attached them to, if the configuration now names another); a lease that \
         is renewed meanwhile belongs to a create still running, and the second create fails, \
         naming the group and what holds it.\n\
         - A group a state records (a completed access, or a failed create Terraform marked \
         tainted, for example while `create_before_destroy` replaces it under the same name) is \
         never taken over: use `name_prefix` with `create_before_destroy`.\n\
         - Abandoned groups of generated names are deleted by the next create with a generated \
         name in the VPC (a warning names each) and by the `sweep` command, which both binaries \
         have; `sweep` also deletes client groups whose access is gone (their cluster group was \
         deleted by hand). A group is swept only with the full proof: this provider's name, \
         description and tags, its creation token, and an expired lease; a group carrying copied \
         tags, or a marker of release 0.2 (`<seconds>/<seconds>`), is only reported:\n\n\
         ```shell\n\
         terraform-provider-elasticache sweep --region us-east-1 --vpc-id vpc-0123 --dry-run   # list\n\
         terraform-provider-elasticache sweep --region us-east-1 --vpc-id vpc-0123             # delete\n\
         pulumi-resource-elasticache sweep --region us-east-1                                  # the same\n\
         ```\n\n\
         It uses the standard AWS settings (environment, profile, `AWS_ENDPOINT_URL_EC2`), prints \
         one line per group it deletes and, on stderr, one per marked group it leaves alone and \
         why. `ELASTICACHE_CREATE_LEASE` (a duration such as `3m`, at least `3s`) changes the \
         lease's length; renewal (a third of it) and grace (a sixth, at most 30 s) follow. \
         A create killed after its very last write (its lease already ended) is complete but \
         recorded by no state: with an explicit `name` the next apply refuses and names the \
         `terraform import` that brings it back; with a generated name it stays, and \
         `terraform query` lists it for import.\n\n\
         A client group is deleted with the access only when it is the access's own: this provider \
         made it for this access (its `elasticache-access:cluster-group` tag names the access), or \
         the import id claimed it (see Import). Any other group the access allows, an existing \
         application group among them, is never deleted and its rules outside the access are \
         never touched. The cluster's security groups are changed one access at a time, with \
         the list read again before every try (the SDK never resends it), and only when all \
         members of a replication group use the same groups; a member named by \
         `cache_cluster_id` is refused for `attach_to_cluster`, naming the replication group to use \
         instead.\n\n",
    );
    out.push_str("## IAM permissions\n\n");
    out.push_str(
        "These are all the AWS actions the provider calls (generated from the provider's list of \
         calls, which a test checks against the code). EC2's Describe actions support no \
         resource-level permissions; the others can be narrowed with conditions on tags or VPC if \
         your policy needs it.\n\n```json\n",
    );
    out.push_str(&pretty(&iam_policy()));
    out.push_str("```\n\n");
    out.push_str(
        "`elasticache:Modify*` is called only with `attach_to_cluster = true`; \
         `ec2:DescribeSubnets` and `elasticache:DescribeServerlessCaches` only for a serverless \
         cache; `ec2:DescribeNetworkInterfaces` only to explain a security group that cannot be \
         deleted. `elasticache:DescribeCacheClusters` and `elasticache:DescribeCacheSubnetGroups` \
         are also called once per provider process without a name (one page of 100 each, beside the first \
         replication group described, whose members and subnet group it then holds): a policy \
         that scopes them to named resources refuses that page, which costs that describe one round \
         trip and nothing else.\n\n",
    );
    iam_token::connect_section(&mut out);
    out.push_str("## Schema\n\n");
    let mut page = Page {
        out,
        pending: Vec::new(),
    };
    page.attributes(&provider.attributes, "", false, "###");
    page.nested_schemas();
    finish(page.out)
}

pub fn access_md() -> String {
    let resource = schema::resource();
    let mut out = front_matter(
        &format!("{} Resource - elasticache", model::TF_RESOURCE_TYPE),
        &resource.description,
    );
    out.push_str(GENERATED_NOTE);
    let _ = writeln!(out, "# {} (Resource)\n", model::TF_RESOURCE_TYPE);
    let _ = writeln!(out, "{}\n", prose(&resource.description));
    out.push_str(
        "In the words of AWS's \"Authorize access to the cluster\" guide, the access is: a VPC \
         security group for the cluster (`<name>-cluster`), a VPC security group for the cluster's \
         clients (`<name>-clients`, for your EC2 instances), and a custom rule in the cluster's \
         group that allows connections from the clients' group on the cluster's port. Give the \
         client group to the instances that use the cache, and the cluster group to the cache \
         (`attach_to_cluster = true` does it for you).\n\n",
    );
    out.push_str(
        "**When not to attach.** `attach_to_cluster = true` changes the cluster's security groups, so it must be the only \
         thing that changes them. Leave it false when another tool manages that list, for example \
         an `aws_elasticache_replication_group` (or `aws_elasticache_cluster`) with \
         `security_group_ids`, a CloudFormation stack or a Pulumi `aws.elasticache.ReplicationGroup`: \
         that tool's next apply removes the group this provider added (and the clients lose access \
         until this provider's next apply adds it back), and the two fight on every apply. There, \
         list this access's `cluster_security_group_id` in that tool's `security_group_ids` \
         instead.\n\n",
    );
    out.push_str(
        "Outbound rules are left as AWS makes them: each group this provider creates keeps the one \
         egress rule AWS gives every new VPC security group (all traffic to 0.0.0.0/0) and gets no \
         other; the provider neither adds nor revokes egress rules, and `exclusive_ingress` concerns \
         inbound rules only. Inbound, the access authorizes the rules declared and revokes the ones it \
         authorized that are no longer declared; a rule added outside it is reported in \
         `unmanaged_ingress` and revoked only with `exclusive_ingress = true`.\n\n",
    );
    let _ = writeln!(
        out,
        "Pulumi: `{}`, with the same descriptions in its package schema and camelCase property \
         names.\n",
        model::PULUMI_RESOURCE_TOKEN
    );
    out.push_str("## Example Usage\n\n");
    for (dir, title, what, text) in EXAMPLES {
        let _ = writeln!(out, "### {title}\n");
        let _ = writeln!(out, "{what} (`examples/terraform/{dir}/main.tf`)\n");
        out.push_str("```terraform\n");
        out.push_str(text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("```\n\n");
    }
    out.push_str("### Pulumi YAML\n\n");
    out.push_str(
        "The same access in a Pulumi YAML program (`examples/pulumi/Pulumi.yaml`); properties are \
         the camelCase forms of the attributes below.\n\n```yaml\n",
    );
    out.push_str(PULUMI_EXAMPLE);
    if !PULUMI_EXAMPLE.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("```\n\n");
    out.push_str("## Schema\n\n");
    let mut page = Page {
        out,
        pending: Vec::new(),
    };
    page.attributes(&resource.attributes, "", true, "###");
    page.nested_schemas();
    let mut out = page.out;
    reach::reachability_section(&mut out);
    out.push_str(&checks::section());
    out.push_str("## Import\n\n");
    let _ = writeln!(
        out,
        "The id of an access is the id of its cluster security group (`sg-...`, the group named \
         `<name>-cluster`). Two kinds of group can be imported:\n\n\
         - one this provider created (it carries the tag `{} = cluster`): the configuration \
         (name, description, cluster, options) is read back from the provider's \
         `elasticache-access:` tags on the groups and rules, and its client group is the one \
         this provider made for it. A group a create still holds (its creation lease has not \
         expired) is refused until that create ends.\n\
         - one built by hand as AWS's guide describes: a group on the cache that allows, on the \
         cache's port, a group its clients carry. The cache's group becomes the access's cluster \
         group (deleted with the access); the clients' group is an *existing* client group \
         (`create_client_security_group = false`, `client_security_group_ids = [sg-...]`): it \
         is never deleted and its own rules are never touched. To make that group the access's \
         own instead (deleted with it), import `<cluster group id>,<client group id>`: the \
         import then marks it with the access's tags.\n\n\
         A group made outside this provider keeps its name for life: the access's `name` is the \
         group's name (less a `-cluster` suffix that follows this provider's convention), and \
         never a reason to replace it.\n",
        crate::domain::engine::bookkeeping::ROLE
    );
    let _ = writeln!(
        out,
        "With an `import` block (Terraform 1.5 and later):\n\n```terraform\nimport {{\n  to = {t}.this\n  id = \"sg-0123456789abcdef0\"\n}}\n```\n\nWith the CLI:\n\n```shell\nterraform import {t}.this sg-0123456789abcdef0\n```\n\nWith Pulumi:\n\n```shell\npulumi import {p} this sg-0123456789abcdef0\n```",
        t = model::TF_RESOURCE_TYPE,
        p = model::PULUMI_RESOURCE_TOKEN
    );
    import::moved_section(&mut out);
    import::identity_and_query(&mut out);
    finish(out)
}

/// Ends a page with exactly one newline.
fn finish(mut s: String) -> String {
    while s.ends_with('\n') {
        s.pop();
    }
    s.push('\n');
    s
}

/// A JSON document as the generated files hold it: pretty-printed, with a final newline.
pub fn pretty(v: &Json) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}
