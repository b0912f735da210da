//! Read models of other services' events, in the registration schema, fed by
//! durable JetStream consumers on those services' streams: what eligibility
//! needs to know about consent (Art. 2(1), 4, 6) and refusals (Art. 12(1)),
//! and which counsellors serve a person (Art. 8).
//! The job seeker's own facts are read from their event stream (kept in
//! memory while nothing newer is committed).

mod consent_status;
mod counsellors;
mod eligibility;
mod refusals;

pub use consent_status::{CONSENT_STATUS_CONSUMER, ConsentStatusProjection};
pub use counsellors::{COUNSELLORS_CONSUMER, CounsellorProjection, booked_with};
pub use eligibility::{PeerRecords, peer_records};
pub use refusals::{REFUSALS_CONSUMER, RefusalProjection};

use hellowork_eventstore::{ProjectionError, RecordedEvent};

/// Decodes a peer's event payload, or rejects the event (it can never apply).
fn decode<M: prost::Message + Default>(event: &RecordedEvent) -> Result<M, ProjectionError> {
    M::decode(event.payload.as_slice()).map_err(|error| ProjectionError::Rejected {
        event_id: event.event_id,
        event_type: event.event_type.clone(),
        reason: error.to_string(),
    })
}

fn datetime(at: Option<&prost_types::Timestamp>) -> Option<chrono::DateTime<chrono::Utc>> {
    let at = at?;
    chrono::DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?)
}
