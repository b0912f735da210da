//! Art. 8: when registration erases a person (`JobSeekerErased`, a
//! supervisor's decision with a reason), scheduling destroys that person's
//! data key, fed by a durable consumer on registration's stream filtered to
//! that subject. Their bookings, stops and refusals stay (they count in the
//! statistics and in the office's records of conduct) but every note about
//! them, in every copy, shows as erased from then on. Applying the same
//! erasure again changes nothing.

use hellowork_eventstore::{Projection, ProjectionError, RecordedEvent};
use hellowork_proto::registration::v1::JobSeekerErased;
use prost::Message;
use sqlx::PgConnection;

use super::keys;
use crate::metrics;

/// The durable consumer's name on registration's stream.
pub const ERASURE_CONSUMER: &str = "scheduling-erasures";
/// The event type consumed, and the subject's last token.
pub const ERASED: &str = "JobSeekerErased";

/// Destroys the data keys of erased people.
#[derive(Debug, Default)]
pub struct ErasureProjection;

impl Projection for ErasureProjection {
    fn name(&self) -> &str {
        ERASURE_CONSUMER
    }

    fn handles(&self, event_type: &str) -> bool {
        event_type == ERASED
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let rejected = |reason: String| ProjectionError::Rejected {
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            reason,
        };
        let erased = JobSeekerErased::decode(event.payload.as_slice())
            .map_err(|error| rejected(error.to_string()))?;
        if erased.job_seeker_id.is_empty() {
            return Err(rejected("the erasure names no job seeker".to_owned()));
        }
        let destroyed = keys::destroy(&mut *tx, &erased.job_seeker_id).await?;
        metrics::record_erasure(destroyed);
        tracing::info!(
            destroyed,
            "a person's scheduling data key destroyed on erasure"
        );
        Ok(())
    }

    async fn reset(&self, _tx: &mut PgConnection) -> Result<(), ProjectionError> {
        // Art. 8: a rebuild never brings a destroyed key back; there is
        // nothing to empty.
        Ok(())
    }
}
