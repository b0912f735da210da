//! Generated code for the Hello Work contracts in `proto/`: one module per
//! protobuf package and version, plus the file descriptor set that services
//! register with gRPC server reflection.

/// `hellowork.events.v1`: the envelope every domain event travels in.
pub mod events {
    pub mod v1 {
        tonic::include_proto!("hellowork.events.v1");
    }
}

/// Encoded `FileDescriptorSet` of every Hello Work proto file, for
/// `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/hellowork_descriptor.bin"));
