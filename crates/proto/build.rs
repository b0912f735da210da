//! Compiles every `.proto` under the workspace's `proto/` with protox (pure Rust),
//! so a fresh machine builds with cargo alone, and keeps the file descriptor set
//! for gRPC server reflection. Servers and clients use `crate::codec::ProtoCodec`
//! (bytes that are not a message are INVALID_ARGUMENT, not INTERNAL), which
//! names the message type from `prost::Name`, hence type names are enabled.

use std::{
    env, fs,
    path::{Path, PathBuf},
};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = proto_files(&proto_root)?;
    println!("cargo:rerun-if-changed={}", proto_root.display());

    let descriptors = protox::compile(&files, [&proto_root])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("hellowork_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    let mut config = tonic_prost_build::Config::new();
    config.enable_type_names();
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .codec_path("crate::codec::ProtoCodec")
        .compile_fds_with_config(descriptors, config)?;
    Ok(())
}

/// Every `.proto` below `root`, sorted so the build is reproducible.
fn proto_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "proto") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
