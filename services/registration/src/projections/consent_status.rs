//! Art. 2(1), 4, 6: consent receipts and withdrawals, from the consent
//! service's events. Terms revisions are not needed: under Art. 13 an
//! existing consent binds the revised version without re-consent.

use hellowork_eventstore::{Projection, ProjectionError, RecordedEvent};
use hellowork_proto::consent::v1::{ConsentRecorded, ConsentWithdrawn};
use sqlx::PgConnection;

use super::{datetime, decode};

/// The durable consumer's name on the consent stream, unique to this service.
pub const CONSENT_STATUS_CONSUMER: &str = "registration-consent-status";

#[derive(Debug, Default)]
pub struct ConsentStatusProjection;

impl Projection for ConsentStatusProjection {
    fn name(&self) -> &str {
        CONSENT_STATUS_CONSUMER
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        match event.event_type.as_str() {
            "ConsentRecorded" => {
                let consent: ConsentRecorded = decode(event)?;
                // The receipt's own time; the envelope's if the receipt has none.
                let consented_at =
                    datetime(consent.consented_at.as_ref()).unwrap_or(event.occurred_at);
                sqlx::query(
                    "INSERT INTO consent_receipts (receipt_id, job_seeker_id, consented_at) \
                     VALUES ($1, $2, $3) \
                     ON CONFLICT (receipt_id) DO UPDATE SET consented_at = EXCLUDED.consented_at",
                )
                .bind(&consent.receipt_id)
                .bind(&consent.job_seeker_id)
                .bind(consented_at)
                .execute(tx)
                .await?;
            }
            "ConsentWithdrawn" => {
                let withdrawal: ConsentWithdrawn = decode(event)?;
                // The withdrawal's own time; the envelope's if it has none.
                sqlx::query(
                    "INSERT INTO consent_receipts (receipt_id, job_seeker_id, withdrawn_at) \
                     VALUES ($1, $2, $3) \
                     ON CONFLICT (receipt_id) DO UPDATE SET withdrawn_at = EXCLUDED.withdrawn_at",
                )
                .bind(&withdrawal.receipt_id)
                .bind(&withdrawal.job_seeker_id)
                .bind(datetime(withdrawal.withdrawn_at.as_ref()).unwrap_or(event.occurred_at))
                .execute(tx)
                .await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), ProjectionError> {
        sqlx::query("DELETE FROM consent_receipts")
            .execute(tx)
            .await?;
        Ok(())
    }
}
