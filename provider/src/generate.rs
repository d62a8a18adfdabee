//! Every generated file of the repository, derived from the one resource declaration.
//!
//! - `sdk-schemas/pulumi/schema.json`: the Pulumi package schema ([`crate::pulumi::schema`]).
//! - `sdk-schemas/terraform/schema.json`: the document `terraform providers schema -json` prints for
//!   this provider, built from the very `GetProviderSchema` answer the plugin serves.
//! - `sdk-schemas/jsonschema/*.json`: JSON Schema of the resource's inputs and outputs and of the
//!   provider configuration, as schemars derives them.
//! - `sdk-schemas/jsonschema/reachability.schema.json`: the `reachability` object (issue 24), and
//!   `policies/findings.json`, its table of findings for the policies.
//! - `docs/index.md`, `docs/resources/access.md`, `docs/ephemeral-resources/iam_auth_token.md`:
//!   the Terraform registry pages, with the IAM policy generated from [`crate::aws::IAM_ACTIONS`]
//!   (and `elasticache:Connect` for tokens) and the examples of `examples/terraform/` and
//!   `examples/pulumi/` embedded verbatim.
//!
//! [`documents`] returns every file's exact bytes; [`write()`] writes them, [`drifted`] lists what
//! differs on disk. `terraform-provider-elasticache generate [--check] [--root DIR]` runs them
//! ([`main_from_args`]); a unit test fails when the checked-in files drift.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::docs::{access_md, iam_auth_token_md, index_md, pretty};
use crate::domain::declaration::model::{AccessArgs, AccessOutputs, ProviderConfig};
use crate::domain::declaration::schema;
use crate::terraform::schema_json::terraform_schema_json;

/// Directories whose every file is generated: a file there that [`documents`] does not produce is
/// drift (and [`write()`] removes it).
pub const GENERATED_DIRS: &[&str] = &["docs", "sdk-schemas"];

/// Hand-written files in [`GENERATED_DIRS`]: neither drift nor removed.
pub const HAND_WRITTEN: &[&str] = &[
    "docs/performance.md",
    "docs/guides/migrate.md",
    "docs/guides/reviewing-access.md",
];

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
    put(
        "sdk-schemas/jsonschema/reachability.schema.json",
        pretty(&schema::json_schema::<
            crate::domain::declaration::reach::Reachability,
        >()),
    );
    put(
        "policies/findings.json",
        pretty(&crate::domain::declaration::reach::findings_json()),
    );
    put("docs/index.md", index_md());
    put("docs/resources/access.md", access_md());
    put(
        "docs/data-sources/reachability.md",
        crate::docs::reachability_md(),
    );
    put(
        "docs/ephemeral-resources/iam_auth_token.md",
        iam_auth_token_md(),
    );
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
    found.retain(|p| !docs.contains_key(p) && !HAND_WRITTEN.iter().any(|h| p == Path::new(h)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs::{iam_policy, EXAMPLES, PULUMI_EXAMPLE};
    use crate::domain::declaration::model;
    use crate::domain::declaration::model::TF_PROVIDER_ADDRESS;
    use serde_json::json;
    use serde_json::Value as Json;

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
        let mut want: Vec<String> = crate::aws::IAM_ACTIONS
            .iter()
            .map(|s| s.to_string())
            .collect();
        want.sort();
        want.dedup();
        assert_eq!(actions, want);
        let index = documents()
            .remove(Path::new("docs/index.md"))
            .unwrap_or_default();
        for a in crate::aws::IAM_ACTIONS {
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
    fn token_page_embeds_its_examples_and_both_pages_show_the_connect_policy() {
        let mut docs = documents();
        let page = docs
            .remove(Path::new("docs/ephemeral-resources/iam_auth_token.md"))
            .unwrap_or_default();
        let index = docs.remove(Path::new("docs/index.md")).unwrap_or_default();
        assert!(page.contains(crate::docs::TOKEN_EXAMPLE));
        assert!(page.contains(crate::docs::PULUMI_TOKEN_EXAMPLE));
        assert!(page.contains("- `token` (String, Sensitive) "));
        assert!(page.contains("elasticache:index:getIamAuthToken"));
        let policy = pretty(&crate::docs::connect_policy());
        for text in [&page, &index] {
            assert!(text.contains(&policy));
            assert!(text.contains("\"elasticache:Connect\""));
            assert!(text.contains(":replicationgroup:demo-redis\""));
            assert!(text.contains(":serverlesscache:sessions\""));
            assert!(text.contains(":user:app\""));
        }
        for a in &crate::domain::service::auth_token::token_schema().attributes {
            assert!(page.contains(&format!("- `{}` (", a.name)), "{}", a.name);
        }
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
        std::fs::write(dir.join("docs/performance.md"), "hand-written").unwrap_or_default();
        assert!(drifted(&dir).contains(&PathBuf::from("docs/old/stale.md")));
        let written = write(&dir).unwrap_or_default();
        assert_eq!(written.len(), documents().len() + 1);
        assert!(drifted(&dir).is_empty());
        // a hand-written page is neither drift nor removed
        assert!(dir.join("docs/performance.md").is_file());
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
