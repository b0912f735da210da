//! What a recorded event looks like on the wire: the `EventEnvelope` protobuf
//! as message body, and NATS headers for de-duplication and trace context.

use async_nats::HeaderMap;
use chrono::{DateTime, Utc};
use prost::Message;
use uuid::Uuid;

use hellowork_proto::events::v1::{self as proto, EventEnvelope};

use crate::{
    model::{Actor, EventMetadata, RecordedEvent, StreamId},
    signing::{EventSigner, SignatureError, TrustedProducers},
};

pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";

/// Why a message is not a valid event envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("message is not an EventEnvelope: {0}")]
    Decode(String),
    #[error("envelope field {field} is invalid: {reason}")]
    Field { field: &'static str, reason: String },
    #[error("envelope not trusted: {0}")]
    Untrusted(#[from] SignatureError),
}

/// The JetStream subject of an event: `<prefix>.<EventType>`, where the prefix
/// is e.g. `hellowork.registration.v1`.
pub fn subject(prefix: &str, event_type: &str) -> String {
    format!("{prefix}.{event_type}")
}

pub fn to_envelope(service: &str, event: &RecordedEvent) -> EventEnvelope {
    let meta = &event.metadata;
    EventEnvelope {
        event_id: event.event_id.to_string(),
        stream_id: event.stream_id.as_str().to_owned(),
        stream_version: event.stream_version,
        event_type: event.event_type.clone(),
        schema_version: event.schema_version,
        occurred_at: Some(timestamp(event.occurred_at)),
        recorded_at: Some(timestamp(event.recorded_at)),
        correlation_id: meta.correlation_id.to_string(),
        causation_id: meta
            .causation_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        actor: Some(proto::Actor {
            subject: meta.actor.subject.clone(),
            role: meta.actor.role.into(),
        }),
        traceparent: meta.traceparent.clone().unwrap_or_default(),
        tracestate: meta.tracestate.clone().unwrap_or_default(),
        service: service.to_owned(),
        payload: event.payload.clone(),
        signing_key_id: String::new(),
        signature: Vec::new(),
        signed_at: None,
    }
}

/// The body of a message publishing `event` on `subject`: its envelope,
/// signed by the producer as of `now`.
pub fn signed(
    service: &str,
    event: &RecordedEvent,
    subject: &str,
    signer: &EventSigner,
    now: DateTime<Utc>,
) -> Vec<u8> {
    let mut envelope = to_envelope(service, event);
    signer.sign(&mut envelope, subject, now);
    envelope.encode_to_vec()
}

/// Headers of a published event: `Nats-Msg-Id` (JetStream de-duplication)
/// and the W3C trace context, so consumers continue the producer's trace.
pub fn headers(event: &RecordedEvent) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        async_nats::header::NATS_MESSAGE_ID,
        event.event_id.to_string().as_str(),
    );
    if let Some(traceparent) = &event.metadata.traceparent {
        headers.insert(TRACEPARENT, traceparent.as_str());
    }
    if let Some(tracestate) = &event.metadata.tracestate {
        headers.insert(TRACESTATE, tracestate.as_str());
    }
    headers
}

/// Decodes and checks an envelope; every field a consumer relies on must be
/// present and well formed.
pub fn decode(bytes: &[u8]) -> Result<RecordedEvent, EnvelopeError> {
    let envelope =
        EventEnvelope::decode(bytes).map_err(|error| EnvelopeError::Decode(error.to_string()))?;
    from_envelope(envelope)
}

/// Decodes an envelope received on `subject` and stored on its stream at
/// `stored_at`, trusting it only if `producers` signed it (see
/// [`crate::signing`]), then checks it as [`decode`] does; returns the event
/// and the producer's signature.
pub fn decode_trusted(
    bytes: &[u8],
    subject: &str,
    stored_at: DateTime<Utc>,
    producers: &TrustedProducers,
) -> Result<(RecordedEvent, Vec<u8>), EnvelopeError> {
    let mut envelope =
        EventEnvelope::decode(bytes).map_err(|error| EnvelopeError::Decode(error.to_string()))?;
    producers.verify(&envelope, subject, stored_at)?;
    let signature = std::mem::take(&mut envelope.signature);
    Ok((from_envelope(envelope)?, signature))
}

pub fn from_envelope(envelope: EventEnvelope) -> Result<RecordedEvent, EnvelopeError> {
    let field = |field: &'static str, reason: &dyn std::fmt::Display| EnvelopeError::Field {
        field,
        reason: reason.to_string(),
    };
    let actor = envelope.actor.ok_or_else(|| field("actor", &"missing"))?;
    let role = proto::Role::try_from(actor.role).map_err(|e| field("actor.role", &e))?;
    if envelope.stream_version == 0 {
        return Err(field("stream_version", &"must be at least 1"));
    }
    if envelope.schema_version == 0 {
        return Err(field("schema_version", &"must be at least 1"));
    }
    if envelope.event_type.is_empty() {
        return Err(field("event_type", &"missing"));
    }
    Ok(RecordedEvent {
        event_id: Uuid::parse_str(&envelope.event_id).map_err(|e| field("event_id", &e))?,
        stream_id: StreamId::new(envelope.stream_id).map_err(|e| field("stream_id", &e))?,
        stream_version: envelope.stream_version,
        event_type: envelope.event_type,
        schema_version: envelope.schema_version,
        payload: envelope.payload,
        occurred_at: datetime(envelope.occurred_at)
            .ok_or_else(|| field("occurred_at", &"missing or out of range"))?,
        recorded_at: datetime(envelope.recorded_at)
            .ok_or_else(|| field("recorded_at", &"missing or out of range"))?,
        metadata: EventMetadata {
            correlation_id: Uuid::parse_str(&envelope.correlation_id)
                .map_err(|e| field("correlation_id", &e))?,
            causation_id: optional_uuid(&envelope.causation_id)
                .map_err(|e| field("causation_id", &e))?,
            actor: Actor {
                subject: actor.subject,
                role,
            },
            traceparent: non_empty(envelope.traceparent),
            tracestate: non_empty(envelope.tracestate),
        },
    })
}

pub(crate) use hellowork_values::time::timestamp;

pub(crate) fn datetime(at: Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    hellowork_values::time::to_datetime(at.as_ref())
}

fn optional_uuid(text: &str) -> Result<Option<Uuid>, uuid::Error> {
    if text.is_empty() {
        Ok(None)
    } else {
        Uuid::parse_str(text).map(Some)
    }
}

fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn recorded(stream: String, version: u64, payload: Vec<u8>, seconds: i64) -> RecordedEvent {
        let at = DateTime::from_timestamp(seconds, 123_456_000).unwrap();
        RecordedEvent {
            event_id: Uuid::now_v7(),
            stream_id: StreamId::new(stream).unwrap(),
            stream_version: version,
            event_type: "OnlineServicesApplied".into(),
            schema_version: 1,
            payload,
            occurred_at: at,
            recorded_at: at,
            metadata: EventMetadata {
                correlation_id: Uuid::now_v7(),
                causation_id: Some(Uuid::now_v7()),
                actor: Actor {
                    subject: "seeker-1".into(),
                    role: proto::Role::JobSeeker,
                },
                traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
                tracestate: None,
            },
        }
    }

    proptest! {
        #[test]
        fn an_envelope_round_trips(
            stream in "[a-z]{1,20}-[0-9a-f]{1,36}",
            version in 1..u64::MAX,
            payload in proptest::collection::vec(any::<u8>(), 0..256),
            seconds in 0..4_000_000_000i64,
        ) {
            let event = recorded(stream, version, payload, seconds);
            let bytes = to_envelope("registration", &event).encode_to_vec();
            prop_assert_eq!(decode(&bytes).unwrap(), event);
        }

        /// Whatever arrives on a subject, decoding answers with a value or an
        /// error, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn stream_ids_are_printable_ascii_without_spaces(id in "\\PC{0,210}") {
            let valid = !id.is_empty() && id.len() <= 200 && id.bytes().all(|b| b.is_ascii_graphic());
            prop_assert_eq!(StreamId::new(id).is_ok(), valid);
        }
    }

    #[test]
    fn an_envelope_without_actor_or_version_is_refused() {
        let event = recorded("registration-1".into(), 1, vec![], 0);
        let mut envelope = to_envelope("registration", &event);
        envelope.actor = None;
        assert!(matches!(
            from_envelope(envelope),
            Err(EnvelopeError::Field { field: "actor", .. })
        ));

        let mut envelope = to_envelope("registration", &event);
        envelope.stream_version = 0;
        assert!(matches!(
            from_envelope(envelope),
            Err(EnvelopeError::Field {
                field: "stream_version",
                ..
            })
        ));
    }

    #[test]
    fn headers_carry_the_message_id_and_trace_context() {
        let event = recorded("registration-1".into(), 1, vec![], 0);
        let headers = headers(&event);
        let id = event.event_id.to_string();
        assert_eq!(
            headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .map(|v| v.as_str()),
            Some(id.as_str())
        );
        assert_eq!(
            headers.get(TRACEPARENT).map(|v| v.as_str()),
            event.metadata.traceparent.as_deref()
        );
        assert!(headers.get(TRACESTATE).is_none());
    }
}
