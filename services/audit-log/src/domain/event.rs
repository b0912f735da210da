//! The audit-log service's events: the `hellowork.auditlog.v1` event
//! messages, stored and published as protobuf (schema version 1). The access
//! log, with its hash chain, and the legal-request list are projections of
//! them, so a rebuild reproduces both exactly.

use hellowork_eventstore::DomainEvent;
use hellowork_proto::auditlog::v1 as proto;
use prost::Message;

/// One audit-log event; the variant name is the protobuf message name and
/// thus the event type and the last token of its NATS subject.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Boxed: by far the largest, and most events are not usage records.
    UsageRecorded(Box<proto::UsageRecorded>),
    PeerEventObserved(proto::PeerEventObserved),
    LegalRequestFiled(proto::LegalRequestFiled),
    LegalRequestApproved(proto::LegalRequestApproved),
    LegalRequestDenied(proto::LegalRequestDenied),
    LegalRequestRevoked(proto::LegalRequestRevoked),
    DeviceRecordsDisclosed(proto::DeviceRecordsDisclosed),
    DeviceDisclosureRefused(proto::DeviceDisclosureRefused),
    LogVerified(proto::LogVerified),
    SubjectErased(proto::SubjectErased),
    RetentionShredded(proto::RetentionShredded),
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Self::UsageRecorded(_) => "UsageRecorded",
            Self::PeerEventObserved(_) => "PeerEventObserved",
            Self::LegalRequestFiled(_) => "LegalRequestFiled",
            Self::LegalRequestApproved(_) => "LegalRequestApproved",
            Self::LegalRequestDenied(_) => "LegalRequestDenied",
            Self::LegalRequestRevoked(_) => "LegalRequestRevoked",
            Self::DeviceRecordsDisclosed(_) => "DeviceRecordsDisclosed",
            Self::DeviceDisclosureRefused(_) => "DeviceDisclosureRefused",
            Self::LogVerified(_) => "LogVerified",
            Self::SubjectErased(_) => "SubjectErased",
            Self::RetentionShredded(_) => "RetentionShredded",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn encode(&self) -> Vec<u8> {
        match self {
            Self::UsageRecorded(event) => event.encode_to_vec(),
            Self::PeerEventObserved(event) => event.encode_to_vec(),
            Self::LegalRequestFiled(event) => event.encode_to_vec(),
            Self::LegalRequestApproved(event) => event.encode_to_vec(),
            Self::LegalRequestDenied(event) => event.encode_to_vec(),
            Self::LegalRequestRevoked(event) => event.encode_to_vec(),
            Self::DeviceRecordsDisclosed(event) => event.encode_to_vec(),
            Self::DeviceDisclosureRefused(event) => event.encode_to_vec(),
            Self::LogVerified(event) => event.encode_to_vec(),
            Self::SubjectErased(event) => event.encode_to_vec(),
            Self::RetentionShredded(event) => event.encode_to_vec(),
        }
    }

    fn decode(event_type: &str, payload: &[u8]) -> Result<Self, String> {
        fn read<M: Message + Default>(payload: &[u8]) -> Result<M, String> {
            M::decode(payload).map_err(|e| e.to_string())
        }
        match event_type {
            "UsageRecorded" => read(payload).map(|e| Self::UsageRecorded(Box::new(e))),
            "PeerEventObserved" => read(payload).map(Self::PeerEventObserved),
            "LegalRequestFiled" => read(payload).map(Self::LegalRequestFiled),
            "LegalRequestApproved" => read(payload).map(Self::LegalRequestApproved),
            "LegalRequestDenied" => read(payload).map(Self::LegalRequestDenied),
            "LegalRequestRevoked" => read(payload).map(Self::LegalRequestRevoked),
            "DeviceRecordsDisclosed" => read(payload).map(Self::DeviceRecordsDisclosed),
            "DeviceDisclosureRefused" => read(payload).map(Self::DeviceDisclosureRefused),
            "LogVerified" => read(payload).map(Self::LogVerified),
            "SubjectErased" => read(payload).map(Self::SubjectErased),
            "RetentionShredded" => read(payload).map(Self::RetentionShredded),
            other => Err(format!("unknown event type {other}")),
        }
    }
}
