//! The protocol- and SDK-free core: the resource's declaration, its inputs parsed once, the plan,
//! the state codec, the engine, and the service both protocol adapters call.
//!
//! # Layout
//! Each layer uses only the layers above it in this list (bottom first):
//! - Shared vocabulary: [`types`] (typed values; `Known` for what a plan does not know yet) and
//!   [`diag`] (diagnostics with their attribute paths).
//! - [`cloud`]: the port to AWS and its value types (`cloud/`).
//! - [`declaration`]: the resource declared once and its inputs parsed once (`declaration/`).
//! - [`planning`]: the plan, the state and its codec, the identity, the quota checks (`planning/`).
//! - [`engine`]: create, read, import, update, delete, attach, sweep over a world of what AWS holds
//!   (`engine/`).
//! - [`service`]: the one service both adapters call, the batching and scan it wraps around the
//!   engine's cloud, and the calls beside apply (`service/`).

pub mod cloud;
pub mod declaration;
pub mod diag;
pub mod engine;
pub mod planning;
pub mod service;
pub mod types;

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Crates and modules the core must not use: the wire formats, the gRPC stack and AWS's SDK.
    const FORBIDDEN: &[&str] = &[
        "aws_sdk_",
        "aws_smithy",
        "aws_config",
        "aws_types",
        "tonic",
        "prost",
        "rmpv",
        "rmp_serde",
        "crate::aws",
        "crate::terraform",
        "crate::pulumi",
        "crate::proto",
    ];

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read src/domain") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    #[test]
    fn the_core_uses_no_protocol_or_sdk_type() {
        let mut files = Vec::new();
        rust_files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain"),
            &mut files,
        );
        assert!(files.len() > 20, "found only {files:?}");
        let mut found = Vec::new();
        for f in &files {
            let text = std::fs::read_to_string(f).expect("read");
            for (n, line) in text.lines().enumerate() {
                let line = line.trim_start();
                if line.starts_with("//") {
                    continue;
                }
                // the code outside string literals
                let code: String = line.split('"').step_by(2).collect();
                if FORBIDDEN.iter().any(|m| code.contains(m)) {
                    found.push(format!("{}:{}: {line}", f.display(), n + 1));
                }
            }
        }
        assert!(
            found.is_empty(),
            "the core names protocol or SDK items:\n{}",
            found.join("\n")
        );
    }
}
