//! The maps of the house stay true: the README's Development section and every module's doc comment
//! (`lib.rs`, each `mod.rs`) name only paths that exist, and name every module and directory there is.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn crate_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// The `//!` lines at the top of a file, joined.
fn top_doc(text: &str) -> String {
    text.lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| &l[3..])
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules a file declares outside `#[cfg(test)]`.
fn declared_modules(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let rest = t
            .strip_prefix("pub mod ")
            .or_else(|| t.strip_prefix("pub(crate) mod "))
            .or_else(|| t.strip_prefix("mod "));
        let Some(name) = rest.and_then(|r| r.strip_suffix(';')) else {
            continue;
        };
        let test_only = i > 0 && lines[i - 1].trim() == "#[cfg(test)]";
        if !test_only {
            out.push(name.to_string());
        }
    }
    out
}

/// Whether the doc names the module: `` `name` ``, `` [`name`] `` or `` `...::name` ``.
fn names(doc: &str, module: &str) -> bool {
    doc.contains(&format!("`{module}`"))
        || doc.contains(&format!("::{module}`"))
        || doc.contains(&format!("`{module}/`"))
}

/// Every `lib.rs` and `mod.rs` under the crate's source directory.
fn module_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read the source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            module_files(&path, out);
        } else if matches!(
            path.file_name().and_then(|n| n.to_str()),
            Some("lib.rs" | "mod.rs")
        ) {
            out.push(path);
        }
    }
}

/// Paths a doc names in backticks: `dir/`, `file.rs`, `file.md`, `a/b.json`.
fn named_paths(doc: &str) -> Vec<String> {
    doc.split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| {
            !t.contains(' ')
                && !t.contains("::")
                && (t.ends_with('/') || t.ends_with(".rs") || t.ends_with(".md"))
        })
        .map(str::to_string)
        .collect()
}

/// `a/{b,c}.rs` → `a/b.rs`, `a/c.rs`.
fn expand_braces(path: &str) -> Vec<String> {
    match (path.find('{'), path.find('}')) {
        (Some(open), Some(close)) if open < close => path[open + 1..close]
            .split(',')
            .flat_map(|alt| {
                expand_braces(&format!("{}{}{}", &path[..open], alt, &path[close + 1..]))
            })
            .collect(),
        _ => vec![path.to_string()],
    }
}

fn exists_near(file: &Path, path: &str) -> bool {
    let dir = file.parent().expect("a module file's directory");
    let bases = [
        dir.to_path_buf(),
        crate_src(),
        crate_src().parent().unwrap().to_path_buf(),
        repo_root(),
    ];
    expand_braces(path)
        .iter()
        .all(|p| bases.iter().any(|b| b.join(p).exists()))
}

#[test]
fn every_module_file_names_each_of_its_modules_and_only_paths_that_exist() {
    let mut files = Vec::new();
    module_files(&crate_src(), &mut files);
    let mut problems = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("read a module file");
        let doc = top_doc(&text);
        let shown = file
            .strip_prefix(repo_root())
            .unwrap_or(&file)
            .display()
            .to_string();
        for module in declared_modules(&text) {
            if !names(&doc, &module) {
                problems.push(format!(
                    "{shown}: the doc comment does not name module `{module}`"
                ));
            }
        }
        for path in named_paths(&doc) {
            if !exists_near(&file, &path) {
                problems.push(format!(
                    "{shown}: the doc comment names `{path}`, which does not exist"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "stale maps:\n{}", problems.join("\n"));
}

/// The fenced block under `## Development` in the README.
fn development_map(readme: &str) -> String {
    let section = readme
        .split("\n## Development")
        .nth(1)
        .expect("a Development section in README.md");
    let block = section
        .split("```text")
        .nth(1)
        .expect("a ```text block in the Development section");
    block.split("```").next().unwrap_or_default().to_string()
}

#[test]
fn the_readme_map_names_every_directory_and_source_entry_and_nothing_else() {
    let root = repo_root();
    let map = development_map(&fs::read_to_string(root.join("README.md")).expect("read README.md"));
    let named: BTreeSet<String> = map
        .split_whitespace()
        .filter(|t| t.contains('/'))
        .flat_map(|t| {
            expand_braces(
                t.trim_start_matches('(')
                    .trim_end_matches([',', ';', ':', ')']),
            )
        })
        .collect();
    let mut problems: Vec<String> = named
        .iter()
        .filter(|p| !root.join(p).exists())
        .map(|p| format!("README names {p}, which does not exist"))
        .collect();
    let mut wanted = Vec::new();
    for entry in fs::read_dir(&root).expect("read the repository root") {
        let entry = entry.expect("an entry");
        let name = entry.file_name().to_string_lossy().to_string();
        let ignored = name.starts_with('.') || name == "target";
        if entry.path().is_dir() && !ignored {
            wanted.push(format!("{name}/"));
        }
    }
    for entry in fs::read_dir(crate_src()).expect("read provider/src") {
        let name = entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        if name != "lib.rs" && !name.ends_with("_tests.rs") && name != "lifecycle_tests" {
            let dir = if crate_src().join(&name).is_dir() {
                "/"
            } else {
                ""
            };
            wanted.push(format!("provider/src/{name}{dir}"));
        }
    }
    for w in wanted {
        if !named.contains(&w) && !named.contains(w.trim_end_matches('/')) {
            problems.push(format!("README's Development map does not name {w}"));
        }
    }
    assert!(
        problems.is_empty(),
        "stale README map:\n{}",
        problems.join("\n")
    );
}

#[test]
fn braces_expand_and_the_checks_see_a_missing_module() {
    assert_eq!(expand_braces("a/{b,c}.rs"), vec!["a/b.rs", "a/c.rs"]);
    let text =
        "//! - [`one`]: the first\n\npub mod one;\nmod two;\n#[cfg(test)]\nmod three_tests;\n";
    assert_eq!(declared_modules(text), vec!["one", "two"]);
    let doc = top_doc(text);
    assert!(names(&doc, "one") && !names(&doc, "two"));
}

#[test]
fn the_note_atop_every_generated_doc_names_paths_that_exist() {
    let named = named_paths(crate::docs::GENERATED_NOTE);
    assert!(!named.is_empty(), "the note names no path");
    for p in named {
        assert!(
            repo_root().join(&p).exists(),
            "the generated docs' note names {p}, which does not exist"
        );
    }
}
