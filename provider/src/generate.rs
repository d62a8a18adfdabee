//! Every generated file of the repository, derived from the one resource declaration.
//!
//! - `sdk-schemas/pulumi/schema.json`: the Pulumi package schema ([`crate::pulumi::schema`]).
//! - `sdk-schemas/terraform/schema.json`: the document `terraform providers schema -json` prints for
//!   this provider, built from the very `GetProviderSchema` answer the plugin serves.
//! - `sdk-schemas/jsonschema/*.json`: JSON Schema of the resource's inputs and outputs and of the
//!   provider configuration, as schemars derives them.
//! - `docs/index.md`, `docs/resources/access.md`: the Terraform registry pages, with the IAM policy
//!   generated from [`crate::cloud::IAM_ACTIONS`] and the examples of `examples/terraform/` and
//!   `examples/pulumi/` embedded verbatim.
//!
//! [`documents`] returns every file's exact bytes; [`write`] writes them, [`drifted`] lists what
//! differs on disk. `terraform-provider-elasticache generate [--check] [--root DIR]` runs them
//! ([`main_from_args`]); a unit test fails when the checked-in files drift.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use elasticache_proto::tfplugin6 as tf;
use serde_json::{json, Map, Value as Json};

use crate::model::{self, AccessArgs, AccessOutputs, Mode, Nesting, ProviderConfig};
use crate::schema::{self, Attribute, Type};

/// The provider's source address, as Terraform prints it.
pub const TF_PROVIDER_ADDRESS: &str = "registry.terraform.io/elasticache-access/elasticache";
/// The provider's source in `required_providers`.
pub const TF_PROVIDER_SOURCE: &str = "elasticache-access/elasticache";

/// Directories whose every file is generated: a file there that [`documents`] does not produce is
/// drift (and [`write`] removes it).
pub const GENERATED_DIRS: &[&str] = &["docs", "sdk-schemas"];

/// The Terraform examples embedded in the docs: (directory under `examples/terraform/`, title,
/// what it shows, its `main.tf`).
const EXAMPLES: &[(&str, &str, &str, &str)] = &[
    (
        "quickstart",
        "Quickstart",
        "A cluster group, a client group and the rule between them, for an existing replication group.",
        include_str!("../../examples/terraform/quickstart/main.tf"),
    ),
    (
        "existing-cluster",
        "Existing cluster",
        "Port and VPC read from a replication group, an existing application group allowed, and the cluster group attached to the replication group.",
        include_str!("../../examples/terraform/existing-cluster/main.tf"),
    ),
    (
        "cross-vpc",
        "Cross-VPC",
        "A client group of a peered account and CIDR blocks of the peered network.",
        include_str!("../../examples/terraform/cross-vpc/main.tf"),
    ),
];

/// The Pulumi YAML program embedded in the resource page.
const PULUMI_EXAMPLE: &str = include_str!("../../examples/pulumi/Pulumi.yaml");

/// Every generated file, keyed by its path relative to the repository root, with its exact bytes.
pub fn documents() -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut put = |path: &str, text: String| {
        out.insert(PathBuf::from(path), text);
    };
    put(
        "sdk-schemas/pulumi/schema.json",
        pretty(&crate::pulumi::schema::package_schema()),
    );
    put(
        "sdk-schemas/terraform/schema.json",
        pretty(&terraform_schema_json()),
    );
    put(
        "sdk-schemas/jsonschema/access-inputs.json",
        pretty(&schema::json_schema::<AccessArgs>()),
    );
    put(
        "sdk-schemas/jsonschema/access-outputs.json",
        pretty(&schema::json_schema::<AccessOutputs>()),
    );
    put(
        "sdk-schemas/jsonschema/provider-config.json",
        pretty(&schema::json_schema::<ProviderConfig>()),
    );
    put("docs/index.md", index_md());
    put("docs/resources/access.md", access_md());
    out
}

/// Writes every generated file under `root` (only those whose bytes differ) and removes files in
/// [`GENERATED_DIRS`] that are no longer generated. Returns the paths written or removed.
pub fn write(root: &Path) -> io::Result<Vec<PathBuf>> {
    let docs = documents();
    let mut changed = Vec::new();
    for (rel, text) in &docs {
        let path = root.join(rel);
        if std::fs::read(&path).ok().as_deref() == Some(text.as_bytes()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
        changed.push(rel.clone());
    }
    for rel in stale(root, &docs) {
        std::fs::remove_file(root.join(&rel))?;
        changed.push(rel);
    }
    Ok(changed)
}

/// The generated files that are missing under `root` or differ from what [`documents`] produces,
/// plus files in [`GENERATED_DIRS`] that are not generated. Empty when everything is up to date.
pub fn drifted(root: &Path) -> Vec<PathBuf> {
    let docs = documents();
    let mut out: Vec<PathBuf> = docs
        .iter()
        .filter(|(rel, text)| {
            std::fs::read(root.join(rel)).ok().as_deref() != Some(text.as_bytes())
        })
        .map(|(rel, _)| rel.clone())
        .collect();
    out.extend(stale(root, &docs));
    out
}

fn stale(root: &Path, docs: &BTreeMap<PathBuf, String>) -> Vec<PathBuf> {
    fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
            return;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let child = rel.join(e.file_name());
            match e.file_type() {
                Ok(t) if t.is_dir() => walk(root, &child, out),
                Ok(_) => out.push(child),
                Err(_) => {}
            }
        }
    }
    let mut found = Vec::new();
    for dir in GENERATED_DIRS {
        walk(root, Path::new(dir), &mut found);
    }
    found.retain(|p| !docs.contains_key(p));
    found
}

/// The repository this binary was built from (where `provider/Cargo.toml` lives), if it is still
/// there.
fn build_root() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()?
        .to_path_buf();
    root.join("provider/Cargo.toml").is_file().then_some(root)
}

fn is_repo_root(dir: &Path) -> bool {
    dir.join("provider/Cargo.toml").is_file() && dir.join("Cargo.toml").is_file()
}

const USAGE: &str = "usage: terraform-provider-elasticache generate [--check] [--root DIR]

Writes the generated files (sdk-schemas/, docs/) of the repository at DIR (default: the current
directory when it is the repository's root, else the repository the binary was built from).
--check writes nothing: it lists the files that differ and exits 1 when any does.";

/// Handles `generate [--check] [--root DIR]` (`args` without the program name). Returns None when
/// the arguments are not a `generate` command, so the caller carries on as the plugin; else the
/// process exit code: 0 done / up to date, 1 drift found (`--check`) or a write failed, 2 usage.
pub fn main_from_args(args: &[String]) -> Option<i32> {
    if args.first().map(String::as_str) != Some("generate") {
        return None;
    }
    let mut check = false;
    let mut root: Option<PathBuf> = None;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--check" => check = true,
            "--root" => match it.next() {
                Some(dir) => root = Some(PathBuf::from(dir)),
                None => {
                    eprintln!("--root needs a directory\n\n{USAGE}");
                    return Some(2);
                }
            },
            s if s.starts_with("--root=") => root = Some(PathBuf::from(&s["--root=".len()..])),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Some(0);
            }
            other => {
                eprintln!("unknown argument {other:?}\n\n{USAGE}");
                return Some(2);
            }
        }
    }
    let root = match root {
        Some(r) => r,
        None => match std::env::current_dir().ok().filter(|d| is_repo_root(d)) {
            Some(d) => d,
            None => match build_root() {
                Some(d) => d,
                None => {
                    eprintln!("the current directory is not the repository's root (no provider/Cargo.toml): run from the root or pass --root DIR\n\n{USAGE}");
                    return Some(2);
                }
            },
        },
    };
    if !is_repo_root(&root) {
        eprintln!(
            "{} is not the repository's root (no provider/Cargo.toml)\n\n{USAGE}",
            root.display()
        );
        return Some(2);
    }
    if check {
        let drift = drifted(&root);
        if drift.is_empty() {
            println!(
                "generated files are up to date ({} files)",
                documents().len()
            );
            return Some(0);
        }
        eprintln!("generated files differ from the resource declaration:");
        for p in &drift {
            eprintln!("  {}", p.display());
        }
        eprintln!("run `terraform-provider-elasticache generate` (or `cargo run --bin terraform-provider-elasticache -- generate`) and commit the result");
        return Some(1);
    }
    match write(&root) {
        Ok(changed) if changed.is_empty() => {
            println!(
                "generated files are up to date ({} files)",
                documents().len()
            );
            Some(0)
        }
        Ok(changed) => {
            for p in &changed {
                println!("wrote {}", p.display());
            }
            Some(0)
        }
        Err(e) => {
            eprintln!(
                "cannot write the generated files under {}: {e}",
                root.display()
            );
            Some(1)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

fn pretty(v: &Json) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// `v` with every object's keys sorted (Go's encoding/json writes maps sorted).
fn sorted(v: &Json) -> Json {
    match v {
        Json::Object(o) => {
            let keys: BTreeSet<&String> = o.keys().collect();
            let mut m = Map::new();
            for k in keys {
                m.insert(k.clone(), sorted(&o[k]));
            }
            Json::Object(m)
        }
        Json::Array(a) => Json::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Terraform: the document of `terraform providers schema -json` (internal/command/jsonprovider)

fn string_kind(kind: i32) -> &'static str {
    if kind == tf::StringKind::Markdown as i32 {
        "markdown"
    } else {
        "plain"
    }
}

/// Attributes keyed and ordered by name.
fn tf_attributes(attrs: &[tf::schema::Attribute]) -> Json {
    let mut sorted: Vec<&tf::schema::Attribute> = attrs.iter().collect();
    sorted.sort_by(|x, y| x.name.cmp(&y.name));
    Json::Object(
        sorted
            .into_iter()
            .map(|a| (a.name.clone(), tf_attribute(a)))
            .collect(),
    )
}

/// `description` when there is one, and always its kind.
fn tf_description(o: &mut Map<String, Json>, description: &str, kind: i32) {
    if !description.is_empty() {
        o.insert("description".into(), Json::String(description.to_string()));
    }
    o.insert(
        "description_kind".into(),
        Json::String(string_kind(kind).into()),
    );
}

fn tf_attribute(a: &tf::schema::Attribute) -> Json {
    // Field order and omission as jsonprovider.Attribute (`omitempty` everywhere but the kind).
    let mut o = Map::new();
    if !a.r#type.is_empty() {
        let ty: Json = serde_json::from_slice(&a.r#type).unwrap_or(Json::Null);
        o.insert("type".into(), sorted(&ty));
    }
    if let Some(n) = &a.nested_type {
        let mut nested = Map::new();
        nested.insert("attributes".into(), tf_attributes(&n.attributes));
        let mode = tf::schema::object::NestingMode::try_from(n.nesting)
            .map(|m| m.as_str_name().to_ascii_lowercase())
            .unwrap_or_default();
        nested.insert("nesting_mode".into(), Json::String(mode));
        o.insert("nested_type".into(), Json::Object(nested));
    }
    tf_description(&mut o, &a.description, a.description_kind);
    for (flag, set) in [
        ("deprecated", a.deprecated),
        ("required", a.required),
        ("optional", a.optional),
        ("computed", a.computed),
        ("sensitive", a.sensitive),
        ("write_only", a.write_only),
    ] {
        if set {
            o.insert(flag.into(), Json::Bool(true));
        }
    }
    Json::Object(o)
}

fn tf_block(b: &tf::schema::Block) -> Json {
    let mut o = Map::new();
    if !b.attributes.is_empty() {
        o.insert("attributes".into(), tf_attributes(&b.attributes));
    }
    if !b.block_types.is_empty() {
        let mut blocks: Vec<&tf::schema::NestedBlock> = b.block_types.iter().collect();
        blocks.sort_by(|x, y| x.type_name.cmp(&y.type_name));
        let mut m = Map::new();
        for nb in blocks {
            let mut t = Map::new();
            let mode = tf::schema::nested_block::NestingMode::try_from(nb.nesting)
                .map(|m| m.as_str_name().to_ascii_lowercase())
                .unwrap_or_default();
            t.insert("nesting_mode".into(), Json::String(mode));
            t.insert(
                "block".into(),
                tf_block(&nb.block.clone().unwrap_or_default()),
            );
            if nb.min_items > 0 {
                t.insert("min_items".into(), json!(nb.min_items));
            }
            if nb.max_items > 0 {
                t.insert("max_items".into(), json!(nb.max_items));
            }
            m.insert(nb.type_name.clone(), Json::Object(t));
        }
        o.insert("block_types".into(), Json::Object(m));
    }
    tf_description(&mut o, &b.description, b.description_kind);
    if b.deprecated {
        o.insert("deprecated".into(), Json::Bool(true));
    }
    Json::Object(o)
}

fn tf_schema(s: &tf::Schema) -> Json {
    json!({
        "version": s.version,
        "block": tf_block(&s.block.clone().unwrap_or_default()),
    })
}

/// The document `terraform providers schema -json` prints for a configuration that uses only this
/// provider (format 1.0, as Terraform 1.1 and later print it), built from the `GetProviderSchema`
/// answer the plugin serves.
pub fn terraform_schema_json() -> Json {
    let resp = crate::terraform::server::ProviderService::provider_schema();
    let mut provider = Map::new();
    if let Some(p) = &resp.provider {
        provider.insert("provider".into(), tf_schema(p));
    }
    let resources: BTreeMap<&String, &tf::Schema> = resp.resource_schemas.iter().collect();
    if !resources.is_empty() {
        provider.insert(
            "resource_schemas".into(),
            Json::Object(
                resources
                    .into_iter()
                    .map(|(k, v)| (k.clone(), tf_schema(v)))
                    .collect(),
            ),
        );
    }
    let data: BTreeMap<&String, &tf::Schema> = resp.data_source_schemas.iter().collect();
    if !data.is_empty() {
        provider.insert(
            "data_source_schemas".into(),
            Json::Object(
                data.into_iter()
                    .map(|(k, v)| (k.clone(), tf_schema(v)))
                    .collect(),
            ),
        );
    }
    json!({
        "format_version": "1.0",
        "provider_schemas": { TF_PROVIDER_ADDRESS: provider },
    })
}

// ---------------------------------------------------------------------------------------------
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

const GENERATED_NOTE: &str = "<!-- Generated by `terraform-provider-elasticache generate` from the resource declaration (provider/src/model.rs) and examples/. Do not edit by hand. -->\n\n";

/// The IAM policy that allows every AWS action the provider calls.
pub fn iam_policy() -> Json {
    let mut by_service: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for action in crate::cloud::IAM_ACTIONS {
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

fn index_md() -> String {
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
    out.push_str(
        "The same resource is served to Pulumi by `pulumi-resource-elasticache`; its package schema \
         (`sdk-schemas/pulumi/schema.json`) carries the descriptions of this page, with camelCase \
         property names (`vpc_id` is `vpcId`).\n\n",
    );
    out.push_str("## Example Usage\n\n```terraform\n");
    let _ = write!(
        out,
        "terraform {{\n  required_providers {{\n    elasticache = {{\n      source = \"{TF_PROVIDER_SOURCE}\"\n    }}\n  }}\n}}\n\n"
    );
    out.push_str(
        "provider \"elasticache\" {\n  region = \"eu-west-1\"\n\n  default_tags = {\n    ManagedBy = \"terraform\"\n  }\n}\n```\n\n",
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
        "`endpoints.ec2` and `endpoints.elasticache` send the calls to another endpoint, such as a \
         local emulator. Without them each service uses `AWS_ENDPOINT_URL_EC2` / \
         `AWS_ENDPOINT_URL_ELASTICACHE`, else `AWS_ENDPOINT_URL`, else the profile's \
         `endpoint_url`, else the Region's public endpoint:\n\n\
         ```shell\n\
         export AWS_ENDPOINT_URL=http://127.0.0.1:5000   # both services\n\
         export AWS_ENDPOINT_URL_EC2=http://127.0.0.1:5000\n\
         export AWS_ENDPOINT_URL_ELASTICACHE=http://127.0.0.1:5000\n\
         ```\n\n",
    );
    out.push_str("### Retries\n\n");
    out.push_str(
        "Every AWS call uses the SDK's standard retry mode: throttling (`RequestLimitExceeded`, \
         `Throttling`) and transient failures are retried with exponential backoff (1 s initial, \
         20 s cap), up to `max_retries` attempts in all (default 5).\n\n",
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
         deleted.\n\n",
    );
    out.push_str("## Schema\n\n");
    let mut page = Page {
        out,
        pending: Vec::new(),
    };
    page.attributes(&provider.attributes, "", false, "###");
    page.nested_schemas();
    finish(page.out)
}

fn access_md() -> String {
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
    out.push_str("## Import\n\n");
    let _ = writeln!(
        out,
        "The id of an access is the id of its cluster security group (`sg-...`, the group named \
         `<name>-cluster`). Only a group this provider created can be imported: it carries the tag \
         `{} = cluster`, and the configuration (name, description, cluster, options) is read back \
         from the provider's `elasticache-access:` tags on the groups and rules.\n",
        crate::engine::tags::ROLE
    );
    let _ = writeln!(
        out,
        "With an `import` block (Terraform 1.5 and later):\n\n```terraform\nimport {{\n  to = {t}.this\n  id = \"sg-0123456789abcdef0\"\n}}\n```\n\nWith the CLI:\n\n```shell\nterraform import {t}.this sg-0123456789abcdef0\n```\n\nWith Pulumi:\n\n```shell\npulumi import {p} this sg-0123456789abcdef0\n```",
        t = model::TF_RESOURCE_TYPE,
        p = model::PULUMI_RESOURCE_TOKEN
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// With `UPDATE_GENERATED=1` this test rewrites the files instead (like `generate`).
    #[test]
    fn checked_in_generated_files_have_not_drifted() {
        if std::env::var_os("UPDATE_GENERATED").is_some_and(|v| v == "1") {
            let written = write(&repo_root()).unwrap_or_else(|e| panic!("write: {e}"));
            eprintln!("UPDATE_GENERATED=1: wrote {written:?}");
        }
        let drift = drifted(&repo_root());
        assert!(
            drift.is_empty(),
            "generated files differ from the resource declaration: {drift:?}\n\
             run `cargo run --bin terraform-provider-elasticache -- generate` (or this test with \
             UPDATE_GENERATED=1) and commit the result"
        );
    }

    #[test]
    fn documents_are_deterministic_and_end_with_one_newline() {
        let a = documents();
        let b = documents();
        assert_eq!(a, b);
        for (p, text) in &a {
            assert!(
                text.ends_with('\n') && !text.ends_with("\n\n"),
                "{}",
                p.display()
            );
        }
    }

    #[test]
    fn terraform_document_lists_every_attribute_with_one_mode() {
        let doc = terraform_schema_json();
        let block = &doc["provider_schemas"][TF_PROVIDER_ADDRESS]["resource_schemas"]
            [model::TF_RESOURCE_TYPE]["block"];
        let attrs = block["attributes"].as_object().cloned().unwrap_or_default();
        let blocks = block["block_types"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for a in &schema::resource().attributes {
            assert!(
                attrs.contains_key(&a.name) || blocks.contains_key(&a.name),
                "{}",
                a.name
            );
        }
        for (name, a) in &attrs {
            let n = ["required", "optional", "computed"]
                .iter()
                .filter(|k| a.get(**k) == Some(&Json::Bool(true)))
                .count();
            assert!((1..=2).contains(&n), "{name}");
            assert!(
                a.get("type").is_some() != a.get("nested_type").is_some(),
                "{name}"
            );
        }
        assert_eq!(blocks["timeouts"]["nesting_mode"], "single");
        assert_eq!(
            doc["provider_schemas"][TF_PROVIDER_ADDRESS]["resource_schemas"]
                [model::TF_RESOURCE_TYPE]["version"],
            json!(model::SCHEMA_VERSION)
        );
    }

    #[test]
    fn iam_policy_has_every_action_once() {
        let p = iam_policy();
        let mut actions: Vec<String> = p["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        actions.sort();
        let mut want: Vec<String> = crate::cloud::IAM_ACTIONS
            .iter()
            .map(|s| s.to_string())
            .collect();
        want.sort();
        want.dedup();
        assert_eq!(actions, want);
        let index = documents()
            .remove(Path::new("docs/index.md"))
            .unwrap_or_default();
        for a in crate::cloud::IAM_ACTIONS {
            assert!(
                index.contains(&format!("\"{a}\"")),
                "{a} missing from docs/index.md"
            );
        }
    }

    #[test]
    fn access_page_documents_every_attribute_default_and_replacement() {
        let page = documents()
            .remove(Path::new("docs/resources/access.md"))
            .unwrap_or_default();
        for a in &schema::resource().attributes {
            assert!(page.contains(&format!("- `{}` (", a.name)), "{}", a.name);
            if let Some(d) = &a.default {
                assert!(page.contains(&format!("Default: `{d}`")), "{}", a.name);
            }
        }
        let replacing = schema::resource()
            .attributes
            .iter()
            .filter(|a| a.replaces)
            .count();
        assert_eq!(
            page.matches("Changing this replaces the access.").count(),
            replacing
        );
        for (dir, _, _, text) in EXAMPLES {
            assert!(page.contains(text), "example {dir} not embedded verbatim");
        }
        assert!(
            page.contains(PULUMI_EXAMPLE),
            "the Pulumi example is not embedded verbatim"
        );
        assert!(page.contains("terraform import elasticache_access.this sg-"));
    }

    #[test]
    fn generate_command_parses_its_arguments() {
        assert_eq!(main_from_args(&[]), None);
        assert_eq!(main_from_args(&["serve".into()]), None);
        assert_eq!(
            main_from_args(&["generate".into(), "--bogus".into()]),
            Some(2)
        );
        assert_eq!(
            main_from_args(&["generate".into(), "--root".into()]),
            Some(2)
        );
        let empty = std::env::temp_dir().join("elasticache-generate-not-a-repo");
        let _ = std::fs::create_dir_all(&empty);
        assert_eq!(
            main_from_args(&[
                "generate".into(),
                "--check".into(),
                "--root".into(),
                empty.display().to_string()
            ]),
            Some(2)
        );
    }

    #[test]
    fn write_then_check_round_trips_in_a_scratch_copy() {
        let dir = std::env::temp_dir().join(format!("elasticache-generate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("provider")).unwrap_or_default();
        std::fs::write(dir.join("Cargo.toml"), "").unwrap_or_default();
        std::fs::write(dir.join("provider/Cargo.toml"), "").unwrap_or_default();
        std::fs::create_dir_all(dir.join("docs/old")).unwrap_or_default();
        std::fs::write(dir.join("docs/old/stale.md"), "x").unwrap_or_default();
        assert!(drifted(&dir).contains(&PathBuf::from("docs/old/stale.md")));
        let written = write(&dir).unwrap_or_default();
        assert_eq!(written.len(), documents().len() + 1);
        assert!(drifted(&dir).is_empty());
        assert_eq!(write(&dir).map(|w| w.len()).ok(), Some(0));
        let args = |check: bool| {
            let mut a = vec!["generate".to_string()];
            if check {
                a.push("--check".into());
            }
            a.push("--root".into());
            a.push(dir.display().to_string());
            a
        };
        assert_eq!(main_from_args(&args(true)), Some(0));
        std::fs::write(dir.join("docs/index.md"), "edited\n").unwrap_or_default();
        assert_eq!(main_from_args(&args(true)), Some(1));
        assert_eq!(main_from_args(&args(false)), Some(0));
        assert_eq!(main_from_args(&args(true)), Some(0));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
