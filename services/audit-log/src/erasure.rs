//! Art. 8: a job seeker's erasure, heard from registration
//! (`JobSeekerErased`), applied to the access log: the person's data keys
//! of every key period still held are destroyed — found by their lookup
//! tags, one per period from the oldest key held to the newest (which spans
//! every period retention has not shredded yet, and any dated ahead) — so
//! the job seeker id and device identifiers of all their usage records stop
//! opening everywhere at once, while the records' anonymized parts keep
//! counting in the statistics. The fact is recorded as `SubjectErased`,
//! which names no person: who erased is the peer envelope's actor.

use hellowork_eventstore::{ProjectionError, RecordedEvent};
use hellowork_proto::{auditlog::v1 as proto, registration::v1::JobSeekerErased};
use uuid::Uuid;

use crate::{domain::event::Event, ingest::Ingestor, metrics};

/// Registration's event type of an erasure.
pub const ERASED: &str = "JobSeekerErased";

/// Namespace of the ids of `SubjectErased` events (UUIDv5 of the peer event
/// id), so a redelivered erasure records nothing new.
const ERASED_NAMESPACE: Uuid = Uuid::from_u128(0x6865_6c6c_6f77_6f72_6b2e_6572_6173_6501);

/// Destroys the keys of the person `erased` names and returns the event
/// recording it, with its id. Idempotent: a redelivery finds no key left.
pub async fn apply(
    ingestor: &Ingestor,
    service: &str,
    event: &RecordedEvent,
    erased: JobSeekerErased,
) -> Result<(Uuid, Event), ProjectionError> {
    let periods = ingestor.keys.held_periods().await?;
    let tags: Vec<_> = periods
        .into_iter()
        .map(|period| ingestor.subjects.tag(period, &erased.job_seeker_id))
        .collect();
    let destroyed = ingestor.keys.destroy(&tags).await?;
    metrics::keys_shredded("erasure", destroyed);
    tracing::info!(
        peer_event_id = %event.event_id,
        periods = tags.len(),
        keys_destroyed = destroyed,
        "erasure applied to the access log"
    );
    Ok((
        Uuid::new_v5(&ERASED_NAMESPACE, event.event_id.as_bytes()),
        Event::SubjectErased(proto::SubjectErased {
            service: service.to_owned(),
            peer_event_id: event.event_id.to_string(),
            reason: erased.reason,
            reference: erased.reference,
            erased_at: erased.erased_at,
        }),
    ))
}
