//! Art. 12(1): refusing a person online services, lifting the refusal, and
//! the cancellation of the person's open bookings a refusal causes.

use chrono::Utc;
use hellowork_eventstore::EventMetadata;
use hellowork_platform::ServiceError;
use uuid::Uuid;

use super::{Context, RefusalRequest, RefusalView, Scheduling, database, missing};
use crate::{
    domain::{
        BookingId, BookingState, Cancel, CancellationReason, JobSeekerId, PersonCommand, RefusalId,
        Refuse, placement,
    },
    projections,
};

impl Scheduling {
    /// Art. 12(1): refuses a person online services and cancels their open
    /// bookings (returned by id). The cancellations are also made by the
    /// refusal cascade from the refusal event, so a crash between the
    /// refusal and its cancellations leaves nothing open; both are
    /// idempotent, so doing them twice changes nothing.
    pub async fn refuse(
        &self,
        cx: Context<'_>,
        request: RefusalRequest,
    ) -> Result<(RefusalView, Vec<BookingId>), ServiceError> {
        let job_seeker_id = request.job_seeker_id;
        let refusal_id = RefusalId::from_uuid(Uuid::new_v5(
            &job_seeker_id.uuid(),
            format!("refusal:{}", request.request_id).as_bytes(),
        ));
        let command = PersonCommand::Refuse(Refuse {
            refusal_id,
            job_seeker_id,
            reason: request.reason,
            note: request.note,
            booking_id: request.booking_id,
        });
        let person = self.on_person(cx.metadata, job_seeker_id, &command).await?;
        let cancelled = self
            .cancel_open_bookings(cx.metadata, job_seeker_id, refusal_id)
            .await?;
        let refusal = self.shown_refusal(person, refusal_id).await?;
        Ok((refusal, cancelled))
    }

    /// Art. 12(1): lifts a refusal; the person may book again.
    pub async fn lift(
        &self,
        cx: Context<'_>,
        refusal_id: RefusalId,
        note: String,
    ) -> Result<RefusalView, ServiceError> {
        let job_seeker_id = projections::refusal_person(&self.pool, refusal_id)
            .await
            .map_err(database)?
            .ok_or_else(|| missing("refusal", refusal_id))?;
        let command = PersonCommand::Lift { refusal_id, note };
        let person = self.on_person(cx.metadata, job_seeker_id, &command).await?;
        self.shown_refusal(person, refusal_id).await
    }

    /// Art. 12(1): cancels every open booking of the person under the
    /// refusal `refusal_id`, returning the ids of those it cancelled now or
    /// before (by this refusal). Each cancellation is idempotent, so a
    /// repetition, or a crash half-way and a retry, completes the set
    /// without duplicates.
    pub async fn cancel_open_bookings(
        &self,
        metadata: &EventMetadata,
        job_seeker_id: JobSeekerId,
        refusal_id: RefusalId,
    ) -> Result<Vec<BookingId>, ServiceError> {
        let rows = projections::bookings_of_person(&self.pool, job_seeker_id, &[], None, i64::MAX)
            .await
            .map_err(database)?;
        let mut cancelled = Vec::new();
        for (booking_id, _) in rows {
            let booking = self.booking_now(booking_id).await?;
            let Some(record) = booking.state.record() else {
                continue;
            };
            let open = record.state == BookingState::Confirmed;
            let by_refusal =
                record.cancellation_reason == Some(CancellationReason::OnlineServicesRefused);
            if open {
                let command = Cancel {
                    booking_id,
                    reason: CancellationReason::OnlineServicesRefused,
                    refusal_id: Some(refusal_id),
                    at: Utc::now(),
                };
                self.on_seat(
                    metadata,
                    &record.counsellor_id,
                    booking_id,
                    record.offering,
                    |_, booking| placement::cancel(booking, &command),
                )
                .await?;
            }
            if open || by_refusal {
                cancelled.push(booking_id);
            }
        }
        Ok(cancelled)
    }
}
