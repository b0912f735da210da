//! Art. 8: the counsellors each person booked a session with, from
//! scheduling's events, so that a counsellor reads only the people they
//! serve.

use hellowork_eventstore::{Projection, ProjectionError, RecordedEvent};
use hellowork_proto::scheduling::v1::{BookingRescheduled, SessionBooked};
use sqlx::{PgConnection, PgPool};

use super::decode;

/// The durable consumer's name on the scheduling stream, unique to this service.
pub const COUNSELLORS_CONSUMER: &str = "registration-counsellors";

#[derive(Debug, Default)]
pub struct CounsellorProjection;

impl Projection for CounsellorProjection {
    fn name(&self) -> &str {
        COUNSELLORS_CONSUMER
    }

    /// A booking, or its move to another slot, names the person's counsellor.
    fn handles(&self, event_type: &str) -> bool {
        matches!(event_type, "SessionBooked" | "BookingRescheduled")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let (job_seeker_id, counsellor_id) = match event.event_type.as_str() {
            "SessionBooked" => {
                let booked: SessionBooked = decode(event)?;
                (booked.job_seeker_id, booked.counsellor_id)
            }
            "BookingRescheduled" => {
                let moved: BookingRescheduled = decode(event)?;
                (moved.job_seeker_id, moved.counsellor_id)
            }
            _ => return Ok(()),
        };
        sqlx::query(
            "INSERT INTO counsellor_bookings (job_seeker_id, counsellor_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&job_seeker_id)
        .bind(&counsellor_id)
        .execute(tx)
        .await?;
        Ok(())
    }

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), ProjectionError> {
        sqlx::query("DELETE FROM counsellor_bookings")
            .execute(tx)
            .await?;
        Ok(())
    }
}

/// Whether `job_seeker_id` ever booked a session with `counsellor_id`.
pub async fn booked_with(
    pool: &PgPool,
    job_seeker_id: &str,
    counsellor_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM counsellor_bookings \
         WHERE job_seeker_id = $1 AND counsellor_id = $2)",
    )
    .bind(job_seeker_id)
    .bind(counsellor_id)
    .fetch_one(pool)
    .await
}
