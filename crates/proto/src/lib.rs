//! Generated code for the Hello Work contracts in `proto/`: one module per
//! protobuf package and version, plus the file descriptor set that services
//! register with gRPC server reflection. Every generated server and client
//! uses [`codec::ProtoCodec`], so undecodable bytes are INVALID_ARGUMENT.
//! [`examples`] holds the hand-written messages a conforming client sends.

pub mod codec;
pub mod examples;

/// `hellowork.events.v1`: the envelope every domain event travels in.
pub mod events {
    pub mod v1 {
        tonic::include_proto!("hellowork.events.v1");
    }
}

/// `hellowork.sealing.v1`: sealed device identifiers (HPKE) and per-person sealed fields (Art. 7(2), 8).
pub mod sealing {
    pub mod v1 {
        tonic::include_proto!("hellowork.sealing.v1");
    }
}

/// `hellowork.registration.v1`: registration, application, attestations, eligibility (Art. 2, 5, 6).
pub mod registration {
    pub mod v1 {
        tonic::include_proto!("hellowork.registration.v1");
    }
}

/// `hellowork.consent.v1`: terms documents, consent receipts and revisions (Art. 2(1), 4, 6, 13).
pub mod consent {
    pub mod v1 {
        tonic::include_proto!("hellowork.consent.v1");
    }
}

/// `hellowork.scheduling.v1`: offerings, bookings and the session rules (Art. 1, 3, 12).
pub mod scheduling {
    pub mod v1 {
        tonic::include_proto!("hellowork.scheduling.v1");
    }
}

/// `hellowork.auditlog.v1`: the device-anonymized access log and legal requests (Art. 7).
pub mod auditlog {
    pub mod v1 {
        tonic::include_proto!("hellowork.auditlog.v1");
    }
}

/// `hellowork.witness.v1`: the independent witness of the access log (Art. 7(2)).
pub mod witness {
    pub mod v1 {
        tonic::include_proto!("hellowork.witness.v1");
    }
}

/// Encoded `FileDescriptorSet` of every Hello Work proto file, for
/// `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/hellowork_descriptor.bin"));
