//! `terraform-provider-elasticache`: the Terraform provider (plugin protocol 6). Terraform starts it
//! without arguments; run by hand it prints go-plugin's "This binary is a plugin" message and exits 1.
//! `terraform-provider-elasticache generate [--check]` writes (or checks) the generated files
//! instead (see `elasticache_provider::generate`); `terraform-provider-elasticache sweep [--region R]
//! [--vpc-id V] [--dry-run]` deletes the security groups of creates that never finished (see
//! `elasticache_provider::sweep`). `terraform-provider-elasticache --version` prints
//! `terraform-provider-elasticache VERSION`, the workspace version (Cargo.toml `[workspace.package]`).
//! `terraform-provider-elasticache --debug` serves in debug mode: it prints the
//! `TF_REATTACH_PROVIDERS` value to export and serves until interrupted (see
//! `elasticache_provider::terraform::debug`).

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args == ["--version"] {
        println!(
            "terraform-provider-elasticache {}",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    if let Some(code) = elasticache_provider::generate::main_from_args(&args) {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    if let Some(code) = elasticache_provider::sweep::main_from_args(&args).await {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    if args == ["--debug"] || args == ["-debug"] {
        return elasticache_provider::terraform::run_debug().await;
    }
    elasticache_provider::terraform::run().await
}
