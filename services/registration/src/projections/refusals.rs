//! Art. 12(1): refusals of a person's online services and their lifting,
//! from scheduling's events.

use hellowork_eventstore::{Projection, ProjectionError, RecordedEvent};
use hellowork_proto::scheduling::v1::{OnlineServicesRefused, RefusalLifted};
use sqlx::PgConnection;

use super::decode;

/// The durable consumer's name on the scheduling stream, unique to this service.
pub const REFUSALS_CONSUMER: &str = "registration-refusals";

#[derive(Debug, Default)]
pub struct RefusalProjection;

impl Projection for RefusalProjection {
    fn name(&self) -> &str {
        REFUSALS_CONSUMER
    }

    /// Of scheduling's many events, only refusals and their lifting.
    fn handles(&self, event_type: &str) -> bool {
        matches!(event_type, "OnlineServicesRefused" | "RefusalLifted")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        // When a refusal was made or lifted is the envelope's `occurred_at`.
        let (refusal_id, job_seeker_id, column) = match event.event_type.as_str() {
            "OnlineServicesRefused" => {
                let refused: OnlineServicesRefused = decode(event)?;
                (refused.refusal_id, refused.job_seeker_id, "refused_at")
            }
            "RefusalLifted" => {
                let lifted: RefusalLifted = decode(event)?;
                (lifted.refusal_id, lifted.job_seeker_id, "lifted_at")
            }
            _ => return Ok(()),
        };
        // `column` is one of two literals above, never input.
        sqlx::query(&format!(
            "INSERT INTO online_services_refusals (refusal_id, job_seeker_id, {column}) \
             VALUES ($1, $2, $3) \
             ON CONFLICT (refusal_id) DO UPDATE SET {column} = EXCLUDED.{column}"
        ))
        .bind(&refusal_id)
        .bind(&job_seeker_id)
        .bind(event.occurred_at)
        .execute(tx)
        .await?;
        Ok(())
    }

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), ProjectionError> {
        sqlx::query("DELETE FROM online_services_refusals")
            .execute(tx)
            .await?;
        Ok(())
    }
}
