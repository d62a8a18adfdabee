//! Compiles the protocol definitions in this crate with `protox` (pure Rust,
//! no system `protoc`) and generates prost messages plus tonic servers and
//! clients. Also writes the encoded descriptor set to
//! `$OUT_DIR/elasticache_descriptor.bin`.

use std::path::PathBuf;

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
    let mut compiler = protox::Compiler::new(["."])?;
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(PROTOS)?;

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("elasticache_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
