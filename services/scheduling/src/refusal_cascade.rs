//! Art. 12(1): a refusal of online services cancels every open booking of
//! the person. This process manager follows scheduling's own events in
//! commit order (a tailing projection with its checkpoint and inbox) and
//! turns each `OnlineServicesRefused` into the cancellation of the person's
//! open bookings, on their counsellors' schedules.
//!
//! The refusal request makes the same cancellations at once, to answer with
//! them; this is what makes them certain: a crash after the refusal was
//! appended and before its cancellations were leaves them to the cascade,
//! which resumes from its checkpoint. Its "update" is a command outside the
//! tailer's transaction, so a crash can repeat it; a cancellation of a
//! booking already cancelled writes nothing.

use hellowork_eventstore::{
    DomainEvent, EventMetadata, Projection, ProjectionError, RecordedEvent,
};
use sqlx::PgConnection;

use crate::{
    domain::{Event, JobSeekerId, RefusalId},
    service::Scheduling,
};

/// The tailing projection's name (checkpoint and inbox).
pub const NAME: &str = "scheduling-refusal-cascade";

const REFUSED: &str = "OnlineServicesRefused";

/// Cancels the open bookings of refused persons.
#[derive(Debug)]
pub struct RefusalCascade {
    service: Scheduling,
}

impl RefusalCascade {
    pub fn new(service: Scheduling) -> Self {
        Self { service }
    }
}

impl Projection for RefusalCascade {
    fn name(&self) -> &str {
        NAME
    }

    fn handles(&self, event_type: &str) -> bool {
        event_type == REFUSED
    }

    async fn apply(
        &self,
        _tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if event.event_type != REFUSED {
            return Ok(());
        }
        let rejected = |reason: String| ProjectionError::Rejected {
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            reason,
        };
        let Event::OnlineServicesRefused(refused) =
            Event::decode(&event.event_type, &event.payload).map_err(rejected)?
        else {
            return Ok(());
        };
        let job_seeker_id = JobSeekerId::new(&refused.job_seeker_id)
            .map_err(|e| rejected(format!("job_seeker_id {e}")))?;
        let refusal_id =
            RefusalId::new(&refused.refusal_id).map_err(|e| rejected(format!("refusal_id {e}")))?;
        // The cancellations are caused by the refusal: its correlation, the
        // refusal event as cause, the supervisor who refused as actor.
        let metadata = EventMetadata {
            correlation_id: event.metadata.correlation_id,
            causation_id: Some(event.event_id),
            actor: event.metadata.actor.clone(),
            traceparent: event.metadata.traceparent.clone(),
            tracestate: event.metadata.tracestate.clone(),
        };
        self.service
            .cancel_open_bookings(&metadata, job_seeker_id, refusal_id)
            .await
            .map(drop)
            // Retried from the checkpoint: a schedule, the database or a
            // concurrent writer was in the way.
            .map_err(|error| ProjectionError::Transient(Box::new(error)))
    }

    async fn reset(&self, _tx: &mut PgConnection) -> Result<(), ProjectionError> {
        // No tables: the cancellations it made are events, never reset.
        Ok(())
    }
}
