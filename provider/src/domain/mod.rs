//! The protocol- and SDK-free core: the resource's declaration, its inputs parsed once, the plan,
//! the state codec, the engine, and the service both protocol adapters call.
//!
//! # Layout
//! - Declaration: [`model`] (the resource declared once: inputs, outputs, provider configuration),
//!   [`input`] (each input declared once: its wire type, parsed type, parse and value),
//!   [`behaviour`] (its behaviour table and which outputs follow which inputs), [`schema`] (the
//!   protocol-neutral schema derived from it), [`auth_token`] (the IAM auth token's declaration, its
//!   arguments checked with their paths, the signer port).
//! - Parsed inputs: [`value`] (the dynamic value both adapters decode into), [`typecheck`] (shapes),
//!   [`types`] (typed values; `Known` for what a plan does not know yet), [`desired`] with [`parse`]
//!   (the inputs parsed once; each input's format, then the rules between inputs), [`settings`] (the provider configuration), [`diag`] (diagnostics with
//!   their attribute paths).
//! - Plan and state: [`plan`] (one plan pipeline), [`state`] (the state and its codec),
//!   [`identity`] (the resource identity), [`moved`] (`moved` from `aws_security_group`),
//!   [`quota`] (what AWS's Amazon VPC quotas allow an access: the plan's checks count with it),
//!   [`private`] (what an access keeps between runs out of the user's sight: hints that save a
//!   later process a round trip).
//! - The cloud port and what sits on it: [`cloud`] (the port to AWS), [`holders`] (what still holds
//!   a group that cannot be deleted), [`batch`] (concurrent reads share batched describes), [`scan`]
//!   (a run that read many accesses is answered by one scan of the Region's tagged groups).
//! - Who can reach the cache: [`reach`] (the `reachability` object declared once, its findings
//!   table), [`reach_plan`] (what a plan knows of it), [`reach_query`] (the data source and the
//!   Pulumi invoke), [`network`] (network interfaces, VPCs, peering, prefix lists, network ACLs).
//! - [`engine`]: create, read, import, update, delete, attach, sweep over a world of what AWS holds.
//! - The service: [`service`] (the one service both adapters call), [`listing`] (identity imports
//!   and `terraform query`'s list resource).

pub mod auth_token;
pub mod batch;
pub mod behaviour;
pub mod cloud;
pub mod desired;
pub mod diag;
pub mod engine;
pub mod holders;
pub mod identity;
pub mod input;
pub mod listing;
pub mod model;
pub mod moved;
pub mod network;
pub mod parse;
pub mod plan;
pub mod private;
pub mod quota;
pub mod reach;
pub mod reach_plan;
pub mod reach_query;
pub mod scan;
pub mod schema;
pub mod service;
pub mod settings;
pub mod state;
pub mod typecheck;
pub mod types;
pub mod value;

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
