//! `terraform-provider-elasticache`: the Terraform provider (plugin protocol 6). Terraform starts it;
//! run by hand it prints go-plugin's "This binary is a plugin" message and exits 1.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    elasticache_provider::terraform::run().await
}
