//! The `envelope_decode` fuzz target's property as an ordinary test, so every
//! `cargo test` checks it too (fuzz/ needs cargo-fuzz): valid envelopes with
//! bytes changed, cut, spliced or extended decode to an event or an error,
//! never a panic, and an event that decodes re-encodes to itself. 4096
//! cases, or `PROPTEST_CASES`.

use chrono::DateTime;
use hellowork_eventstore::{Actor, EventMetadata, RecordedEvent, StreamId, envelope};
use hellowork_proto::events::v1::{self as proto, EventEnvelope};
use proptest::{collection::vec, prelude::*, sample::Index};
use prost::Message;
use uuid::Uuid;

fn valid(role: proto::Role, payload: Vec<u8>, seconds: i64, traced: bool) -> Vec<u8> {
    let at = DateTime::from_timestamp(seconds, 0).unwrap();
    let event = RecordedEvent {
        event_id: Uuid::now_v7(),
        stream_id: StreamId::new(format!("job-seeker-{}", Uuid::now_v7())).unwrap(),
        stream_version: 1,
        event_type: "OnlineServicesApplied".into(),
        schema_version: 1,
        payload,
        occurred_at: at,
        recorded_at: at,
        metadata: EventMetadata {
            correlation_id: Uuid::now_v7(),
            causation_id: traced.then(Uuid::now_v7),
            actor: Actor {
                subject: "seeker-1".into(),
                role,
            },
            traceparent: traced
                .then(|| "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
            tracestate: None,
        },
    };
    envelope::to_envelope("registration", &event).encode_to_vec()
}

fn envelopes() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just(proto::Role::JobSeeker),
            Just(proto::Role::System),
            Just(proto::Role::LegalOfficer),
        ],
        vec(any::<u8>(), 0..64),
        0..4_000_000_000i64,
        any::<bool>(),
    )
        .prop_map(|(role, payload, seconds, traced)| valid(role, payload, seconds, traced))
}

/// A valid envelope, then changed: bytes overwritten, cut short, a slice
/// repeated, or random bytes appended.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        envelopes(),
        0..4u8,
        vec((any::<Index>(), any::<u8>()), 1..6),
        any::<Index>(),
        vec(any::<u8>(), 0..32),
    )
        .prop_map(|(mut bytes, how, flips, at, tail)| {
            match how {
                0 => {
                    for (i, byte) in flips {
                        let i = i.index(bytes.len());
                        bytes[i] = byte;
                    }
                }
                1 => bytes.truncate(at.index(bytes.len() + 1)),
                2 => {
                    let from = at.index(bytes.len());
                    let slice = bytes[from..].to_vec();
                    bytes.extend(slice);
                }
                _ => bytes.extend(tail),
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(4096)
    ))]

    #[test]
    fn mutated_envelopes_decode_or_fail_cleanly(bytes in mutated()) {
        if let Ok(event) = envelope::decode(&bytes) {
            let service = EventEnvelope::decode(bytes.as_slice()).unwrap().service;
            let again = envelope::to_envelope(&service, &event).encode_to_vec();
            prop_assert_eq!(envelope::decode(&again), Ok(event));
        }
    }

    #[test]
    fn arbitrary_bytes_decode_or_fail_cleanly(bytes in vec(any::<u8>(), 0..1024)) {
        let _ = envelope::decode(&bytes);
    }
}
