//! Wire contracts for the elasticache-access provider.
//!
//! # Layout
//!
//! The `.proto` files next to this crate's `Cargo.toml` were written for this
//! project from the published protocol definitions; `build.rs` compiles them
//! with `protox` and generates prost messages plus tonic servers and clients.
//!
//! - [`tfplugin6`]: Terraform plugin protocol 6 (minor version
//!   [`TFPLUGIN6_VERSION`]), service `tfplugin6.Provider`
//!   (`tfplugin6.proto`).
//! - [`plugin`]: go-plugin side services `plugin.GRPCController`,
//!   `plugin.GRPCStdio` and `plugin.GRPCBroker` (`go-plugin/*.proto`).
//! - [`pulumirpc`]: Pulumi `ResourceProvider` and `Engine` services and the
//!   messages they use (`pulumi/*.proto`).
//!
//! `google.protobuf.Empty` maps to `()`, `Struct`/`Value`/`Timestamp` to
//! [`prost_types`]. gRPC health checking comes from the `tonic-health` crate.

/// Terraform plugin protocol minor version implemented by [`tfplugin6`].
pub const TFPLUGIN6_VERSION: &str = "6.10";

/// Terraform plugin protocol 6 (generated).
#[allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    rustdoc::all,
    unused_qualifications,
    rust_2018_idioms
)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin controller, stdio and broker services (generated).
#[allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    rustdoc::all,
    unused_qualifications,
    rust_2018_idioms
)]
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// Pulumi provider, engine and supporting messages (generated).
#[allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    rustdoc::all,
    unused_qualifications,
    rust_2018_idioms
)]
pub mod pulumirpc {
    tonic::include_proto!("pulumirpc");
}

/// Encoded `google.protobuf.FileDescriptorSet` of every file above (with
/// imports), e.g. for gRPC server reflection or descriptor checks in tests.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/elasticache_descriptor.bin"));

pub use prost_types;

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn tfplugin6_attribute_path_step_attribute_name_is_field_1() {
        use tfplugin6::attribute_path::{step::Selector, Step};
        let step = Step {
            selector: Some(Selector::AttributeName("ab".into())),
        };
        // field 1, wire type 2 (length-delimited) => 0x0a
        assert_eq!(step.encode_to_vec(), vec![0x0a, 0x02, b'a', b'b']);
        let key = Step {
            selector: Some(Selector::ElementKeyString("k".into())),
        };
        assert_eq!(key.encode_to_vec(), vec![0x12, 0x01, b'k']);
        let idx = Step {
            selector: Some(Selector::ElementKeyInt(3)),
        };
        assert_eq!(idx.encode_to_vec(), vec![0x18, 0x03]);
        assert_eq!(Step::decode(&[0x0a, 0x02, b'a', b'b'][..]).unwrap(), step);
    }

    #[test]
    fn tfplugin6_dynamic_value_msgpack_is_field_1() {
        let v = tfplugin6::DynamicValue {
            msgpack: vec![0xc0],
            json: vec![],
        };
        assert_eq!(v.encode_to_vec(), vec![0x0a, 0x01, 0xc0]);
        let j = tfplugin6::DynamicValue {
            msgpack: vec![],
            json: b"{}".to_vec(),
        };
        assert_eq!(j.encode_to_vec(), vec![0x12, 0x02, b'{', b'}']);
        assert_eq!(
            tfplugin6::DynamicValue::decode(&[0x0a, 0x01, 0xc0][..]).unwrap(),
            v
        );
    }

    #[test]
    fn tfplugin6_server_capabilities_field_numbers() {
        let caps = tfplugin6::ServerCapabilities {
            plan_destroy: true,
            get_provider_schema_optional: true,
            move_resource_state: false,
            generate_resource_config: false,
        };
        // plan_destroy = 1 (0x08), get_provider_schema_optional = 2 (0x10)
        assert_eq!(caps.encode_to_vec(), vec![0x08, 0x01, 0x10, 0x01]);
        assert_eq!(
            tfplugin6::ServerCapabilities::decode(&[0x18, 0x01][..]).unwrap(),
            tfplugin6::ServerCapabilities {
                move_resource_state: true,
                ..Default::default()
            }
        );
    }

    #[test]
    fn tfplugin6_query_field_numbers() {
        // generate_resource_config = 4 (0x20)
        assert_eq!(
            tfplugin6::ServerCapabilities::decode(&[0x20, 0x01][..]).unwrap(),
            tfplugin6::ServerCapabilities {
                generate_resource_config: true,
                ..Default::default()
            }
        );
        // list_resource_schemas = 9 (0x4a): a map entry whose key is field 1
        let s = tfplugin6::get_provider_schema::Response {
            list_resource_schemas: [("x".to_string(), tfplugin6::Schema::default())].into(),
            ..Default::default()
        };
        assert_eq!(s.encode_to_vec(), vec![0x4a, 0x03, 0x0a, 0x01, b'x']);
        // Event: identity = 1 (0x0a), display_name = 2 (0x12), resource_object = 3 (0x1a)
        let e = tfplugin6::list_resource::Event {
            identity: Some(tfplugin6::ResourceIdentityData::default()),
            display_name: "d".into(),
            resource_object: Some(tfplugin6::DynamicValue::default()),
            diagnostic: vec![],
        };
        assert_eq!(
            e.encode_to_vec(),
            vec![0x0a, 0x00, 0x12, 0x01, b'd', 0x1a, 0x00]
        );
        // Request: include_resource_object = 3 (0x18), limit = 4 (0x20)
        let r = tfplugin6::list_resource::Request {
            include_resource_object: true,
            limit: 5,
            ..Default::default()
        };
        assert_eq!(r.encode_to_vec(), vec![0x18, 0x01, 0x20, 0x05]);
    }

    #[test]
    fn tfplugin6_ephemeral_resource_field_numbers() {
        // ephemeral_resource_schemas = 8 (0x42): a map entry whose key is field 1
        let s = tfplugin6::get_provider_schema::Response {
            ephemeral_resource_schemas: [("e".to_string(), tfplugin6::Schema::default())].into(),
            ..Default::default()
        };
        assert_eq!(s.encode_to_vec(), vec![0x42, 0x03, 0x0a, 0x01, b'e']);
        // Open.Request: type_name = 1, config = 2, client_capabilities = 3
        let r = tfplugin6::open_ephemeral_resource::Request {
            type_name: "t".into(),
            config: Some(tfplugin6::DynamicValue::default()),
            client_capabilities: Some(tfplugin6::ClientCapabilities::default()),
        };
        assert_eq!(
            r.encode_to_vec(),
            vec![0x0a, 0x01, b't', 0x12, 0x00, 0x1a, 0x00]
        );
        // Open.Response: diagnostics = 1, renew_at = 2, result = 3, private = 4, deferred = 5
        let o = tfplugin6::open_ephemeral_resource::Response {
            diagnostics: vec![tfplugin6::Diagnostic::default()],
            renew_at: Some(prost_types::Timestamp {
                seconds: 1,
                nanos: 0,
            }),
            result: Some(tfplugin6::DynamicValue::default()),
            private: Some(b"p".to_vec()),
            deferred: Some(tfplugin6::Deferred::default()),
        };
        assert_eq!(
            o.encode_to_vec(),
            vec![0x0a, 0x00, 0x12, 0x02, 0x08, 0x01, 0x1a, 0x00, 0x22, 0x01, b'p', 0x2a, 0x00]
        );
        // Renew: Request {type_name = 1, private = 2}, Response {diagnostics = 1, renew_at = 2,
        // private = 3}; Close.Request {type_name = 1, private = 2}
        let rr = tfplugin6::renew_ephemeral_resource::Request {
            type_name: "t".into(),
            private: Some(b"p".to_vec()),
        };
        assert_eq!(rr.encode_to_vec(), vec![0x0a, 0x01, b't', 0x12, 0x01, b'p']);
        let rs = tfplugin6::renew_ephemeral_resource::Response {
            diagnostics: vec![],
            renew_at: Some(prost_types::Timestamp::default()),
            private: Some(b"p".to_vec()),
        };
        assert_eq!(rs.encode_to_vec(), vec![0x12, 0x00, 0x1a, 0x01, b'p']);
        let c = tfplugin6::close_ephemeral_resource::Request {
            type_name: "t".into(),
            private: Some(vec![]),
        };
        assert_eq!(c.encode_to_vec(), vec![0x0a, 0x01, b't', 0x12, 0x00]);
        // GetMetadata.Response.ephemeral_resources = 6 (0x32)
        let m = tfplugin6::get_metadata::Response {
            ephemeral_resources: vec![tfplugin6::get_metadata::EphemeralMetadata {
                type_name: "e".into(),
            }],
            ..Default::default()
        };
        assert_eq!(m.encode_to_vec(), vec![0x32, 0x03, 0x0a, 0x01, b'e']);
    }

    #[test]
    fn tfplugin6_diagnostic_and_schema_field_numbers() {
        let d = tfplugin6::Diagnostic {
            severity: tfplugin6::diagnostic::Severity::Error as i32,
            summary: "s".into(),
            detail: String::new(),
            attribute: None,
        };
        assert_eq!(d.encode_to_vec(), vec![0x08, 0x01, 0x12, 0x01, b's']);

        // nested_type is field 10 (tag 0x52), write_only field 11 (0x58).
        let attr = tfplugin6::schema::Attribute {
            nested_type: Some(tfplugin6::schema::Object::default()),
            write_only: true,
            ..Default::default()
        };
        assert_eq!(attr.encode_to_vec(), vec![0x52, 0x00, 0x58, 0x01]);

        // ValidateProviderConfig.Response carries diagnostics in field 2.
        let r = tfplugin6::validate_provider_config::Response {
            diagnostics: vec![tfplugin6::Diagnostic::default()],
        };
        assert_eq!(r.encode_to_vec(), vec![0x12, 0x00]);
    }

    #[test]
    fn pulumirpc_diff_response_field_numbers() {
        use pulumirpc::diff_response::DiffChanges;
        use pulumirpc::property_diff::Kind;
        let resp = pulumirpc::DiffResponse {
            changes: DiffChanges::DiffSome as i32,
            ..Default::default()
        };
        // changes = 4, varint => tag 0x20
        assert_eq!(resp.encode_to_vec(), vec![0x20, 0x02]);

        let resp = pulumirpc::DiffResponse {
            replaces: vec!["a".into()],
            delete_before_replace: true,
            diffs: vec!["b".into()],
            has_detailed_diff: true,
            ..Default::default()
        };
        assert_eq!(
            resp.encode_to_vec(),
            vec![0x0a, 0x01, b'a', 0x18, 0x01, 0x2a, 0x01, b'b', 0x38, 0x01]
        );

        let pd = pulumirpc::PropertyDiff {
            kind: Kind::UpdateReplace as i32,
            input_diff: true,
        };
        assert_eq!(pd.encode_to_vec(), vec![0x08, 0x05, 0x10, 0x01]);
        let back = pulumirpc::DiffResponse::decode(&[0x20, 0x01][..]).unwrap();
        assert_eq!(back.changes(), DiffChanges::DiffNone);
    }

    #[test]
    fn pulumirpc_error_resource_init_failed_round_trip() {
        let err = pulumirpc::ErrorResourceInitFailed {
            id: "x".into(),
            properties: Some(prost_types::Struct::default()),
            reasons: vec!["r".into()],
            inputs: Some(prost_types::Struct::default()),
            refresh_before_update: true,
        };
        let bytes = err.encode_to_vec();
        assert_eq!(
            bytes,
            vec![0x0a, 0x01, b'x', 0x12, 0x00, 0x1a, 0x01, b'r', 0x22, 0x00, 0x28, 0x01]
        );
        assert_eq!(
            pulumirpc::ErrorResourceInitFailed::decode(bytes.as_slice()).unwrap(),
            err
        );
    }

    #[test]
    fn pulumirpc_handshake_and_log_field_numbers() {
        let req = pulumirpc::ProviderHandshakeRequest {
            accepts_byte_string: true,
            ..Default::default()
        };
        // field 11, varint => (11 << 3) = 0x58
        assert_eq!(req.encode_to_vec(), vec![0x58, 0x01]);
        let resp = pulumirpc::ProviderHandshakeResponse {
            accept_secrets: true,
            accepts_byte_string: true,
            ..Default::default()
        };
        assert_eq!(resp.encode_to_vec(), vec![0x08, 0x01, 0x30, 0x01]);
        let log = pulumirpc::LogRequest {
            severity: pulumirpc::LogSeverity::Warning as i32,
            message: "m".into(),
            stream_id: 7,
            ..Default::default()
        };
        assert_eq!(
            log.encode_to_vec(),
            vec![0x08, 0x02, 0x12, 0x01, b'm', 0x20, 0x07]
        );
    }

    #[test]
    fn go_plugin_stdio_data_field_numbers() {
        let d = plugin::StdioData {
            channel: plugin::stdio_data::Channel::Stderr as i32,
            data: b"x".to_vec(),
        };
        assert_eq!(d.encode_to_vec(), vec![0x08, 0x02, 0x12, 0x01, b'x']);
    }
}
