//! A test-only stand-in for `hashicorp/aws` (terraform-provider-aws), installed through
//! `dev_overrides` as `terraform-provider-aws`, so that the tests can hold states of
//! `aws_security_group`, `aws_security_group_rule` and `aws_vpc_security_group_ingress_rule` and
//! move them into `elasticache_access` with the real Terraform CLIs.
//!
//! It serves those resources' schemas (see `schemas.rs`) through the same go-plugin handshake and
//! AutoMTLS as the provider (`elasticache_provider::terraform::run_plugin`). It changes nothing:
//! UpgradeResourceState and ReadResource pass the state through, PlanResourceChange plans the
//! prior state again, and ApplyResourceChange fails, so a test sees any change Terraform would
//! make through it. With `AWS_STANDIN_LOG` set, every call is appended to that file as
//! `<rpc> <type>`.

mod schemas;

use std::io::Write;
use std::process::ExitCode;

use elasticache_proto::tfplugin6 as tf;
use tonic::{Request, Response, Status};

type Rpc<T> = Result<Response<T>, Status>;

const TYPES: [&str; 3] = [
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
];

struct Standin;

fn log(rpc: &str, type_name: &str) {
    let Ok(path) = std::env::var("AWS_STANDIN_LOG") else {
        return;
    };
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{rpc} {type_name}");
    }
}

fn check(type_name: &str) -> Result<(), Status> {
    if TYPES.contains(&type_name) {
        Ok(())
    } else {
        Err(Status::invalid_argument(format!(
            "the stand-in for hashicorp/aws has no {type_name}"
        )))
    }
}

fn unimplemented<T>(rpc: &str) -> Rpc<T> {
    log(rpc, "-");
    Err(Status::unimplemented(format!(
        "{rpc}: the stand-in for hashicorp/aws does not serve it"
    )))
}

fn error(summary: &str, detail: String) -> tf::Diagnostic {
    tf::Diagnostic {
        severity: tf::diagnostic::Severity::Error as i32,
        summary: summary.into(),
        detail,
        ..Default::default()
    }
}

#[tonic::async_trait]
impl tf::provider_server::Provider for Standin {
    async fn get_metadata(
        &self,
        _: Request<tf::get_metadata::Request>,
    ) -> Rpc<tf::get_metadata::Response> {
        unimplemented("GetMetadata")
    }

    async fn get_provider_schema(
        &self,
        _: Request<tf::get_provider_schema::Request>,
    ) -> Rpc<tf::get_provider_schema::Response> {
        log("GetProviderSchema", "-");
        Ok(Response::new(tf::get_provider_schema::Response {
            provider: Some(schemas::provider()),
            resource_schemas: [
                (TYPES[0].to_string(), schemas::security_group()),
                (TYPES[1].to_string(), schemas::security_group_rule()),
                (TYPES[2].to_string(), schemas::ingress_rule()),
            ]
            .into(),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        _: Request<tf::validate_provider_config::Request>,
    ) -> Rpc<tf::validate_provider_config::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn validate_resource_config(
        &self,
        req: Request<tf::validate_resource_config::Request>,
    ) -> Rpc<tf::validate_resource_config::Response> {
        check(&req.into_inner().type_name)?;
        Ok(Response::new(Default::default()))
    }

    async fn validate_data_resource_config(
        &self,
        _: Request<tf::validate_data_resource_config::Request>,
    ) -> Rpc<tf::validate_data_resource_config::Response> {
        unimplemented("ValidateDataResourceConfig")
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<tf::upgrade_resource_state::Request>,
    ) -> Rpc<tf::upgrade_resource_state::Response> {
        let req = req.into_inner();
        check(&req.type_name)?;
        log("UpgradeResourceState", &req.type_name);
        let json = req.raw_state.map(|r| r.json).unwrap_or_default();
        Ok(Response::new(tf::upgrade_resource_state::Response {
            upgraded_state: Some(tf::DynamicValue {
                msgpack: Vec::new(),
                json,
            }),
            diagnostics: Vec::new(),
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<tf::get_resource_identity_schemas::Request>,
    ) -> Rpc<tf::get_resource_identity_schemas::Response> {
        unimplemented("GetResourceIdentitySchemas")
    }

    async fn upgrade_resource_identity(
        &self,
        _: Request<tf::upgrade_resource_identity::Request>,
    ) -> Rpc<tf::upgrade_resource_identity::Response> {
        unimplemented("UpgradeResourceIdentity")
    }

    async fn configure_provider(
        &self,
        _: Request<tf::configure_provider::Request>,
    ) -> Rpc<tf::configure_provider::Response> {
        log("ConfigureProvider", "-");
        Ok(Response::new(Default::default()))
    }

    async fn read_resource(
        &self,
        req: Request<tf::read_resource::Request>,
    ) -> Rpc<tf::read_resource::Response> {
        let req = req.into_inner();
        check(&req.type_name)?;
        log("ReadResource", &req.type_name);
        Ok(Response::new(tf::read_resource::Response {
            new_state: req.current_state,
            private: req.private,
            new_identity: req.current_identity,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<tf::plan_resource_change::Request>,
    ) -> Rpc<tf::plan_resource_change::Response> {
        let req = req.into_inner();
        check(&req.type_name)?;
        log("PlanResourceChange", &req.type_name);
        // terraform-provider-aws's resources here are SDKv2's (or planned as such): legacy type system.
        Ok(Response::new(tf::plan_resource_change::Response {
            planned_state: req.prior_state.or(req.proposed_new_state),
            planned_private: req.prior_private,
            legacy_type_system: true,
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<tf::apply_resource_change::Request>,
    ) -> Rpc<tf::apply_resource_change::Response> {
        let req = req.into_inner();
        log("ApplyResourceChange", &req.type_name);
        Ok(Response::new(tf::apply_resource_change::Response {
            new_state: req.prior_state,
            diagnostics: vec![error(
                "The stand-in for hashicorp/aws changes nothing",
                format!(
                    "Terraform asked it to change an {}; a migration must not.",
                    req.type_name
                ),
            )],
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        _: Request<tf::import_resource_state::Request>,
    ) -> Rpc<tf::import_resource_state::Response> {
        unimplemented("ImportResourceState")
    }

    async fn generate_resource_config(
        &self,
        _: Request<tf::generate_resource_config::Request>,
    ) -> Rpc<tf::generate_resource_config::Response> {
        unimplemented("GenerateResourceConfig")
    }

    type ListResourceStream = elasticache_provider::terraform::server::ListStream;

    async fn list_resource(
        &self,
        _: Request<tf::list_resource::Request>,
    ) -> Rpc<Self::ListResourceStream> {
        unimplemented("ListResource")
    }

    async fn validate_list_resource_config(
        &self,
        _: Request<tf::validate_list_resource_config::Request>,
    ) -> Rpc<tf::validate_list_resource_config::Response> {
        unimplemented("ValidateListResourceConfig")
    }

    async fn move_resource_state(
        &self,
        _: Request<tf::move_resource_state::Request>,
    ) -> Rpc<tf::move_resource_state::Response> {
        unimplemented("MoveResourceState")
    }

    async fn read_data_source(
        &self,
        _: Request<tf::read_data_source::Request>,
    ) -> Rpc<tf::read_data_source::Response> {
        unimplemented("ReadDataSource")
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _: Request<tf::validate_ephemeral_resource_config::Request>,
    ) -> Rpc<tf::validate_ephemeral_resource_config::Response> {
        unimplemented("ValidateEphemeralResourceConfig")
    }

    async fn open_ephemeral_resource(
        &self,
        _: Request<tf::open_ephemeral_resource::Request>,
    ) -> Rpc<tf::open_ephemeral_resource::Response> {
        unimplemented("OpenEphemeralResource")
    }

    async fn renew_ephemeral_resource(
        &self,
        _: Request<tf::renew_ephemeral_resource::Request>,
    ) -> Rpc<tf::renew_ephemeral_resource::Response> {
        unimplemented("RenewEphemeralResource")
    }

    async fn close_ephemeral_resource(
        &self,
        _: Request<tf::close_ephemeral_resource::Request>,
    ) -> Rpc<tf::close_ephemeral_resource::Response> {
        unimplemented("CloseEphemeralResource")
    }

    async fn get_functions(
        &self,
        _: Request<tf::get_functions::Request>,
    ) -> Rpc<tf::get_functions::Response> {
        unimplemented("GetFunctions")
    }

    async fn call_function(
        &self,
        _: Request<tf::call_function::Request>,
    ) -> Rpc<tf::call_function::Response> {
        unimplemented("CallFunction")
    }

    async fn stop_provider(
        &self,
        _: Request<tf::stop_provider::Request>,
    ) -> Rpc<tf::stop_provider::Response> {
        Ok(Response::new(Default::default()))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    elasticache_provider::terraform::run_plugin(Standin).await
}
