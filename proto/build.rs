//! Compiles the protocol definitions in this crate with `protox` (pure Rust,
//! no system `protoc`) and generates prost messages plus tonic servers and
//! clients.

const PROTOS: &[&str] = &[
    "tfplugin6.proto",
    "go-plugin/grpc_controller.proto",
    "go-plugin/grpc_stdio.proto",
    "go-plugin/grpc_broker.proto",
    "pulumi/alias.proto",
    "pulumi/plugin.proto",
    "pulumi/errors.proto",
    "pulumi/engine.proto",
    "pulumi/provider.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    println!("cargo:rerun-if-changed=build.rs");

    // Well-known types (google/protobuf/*.proto) are bundled with protox.
    let fds = protox::compile(PROTOS, ["."])?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
