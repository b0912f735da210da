//! Where each slot, booking and refusal lives, written in the append's own
//! transaction: a command finds what it acts on through these rows (the
//! counsellor whose schedule holds a slot or a booking, the person of a
//! refusal), so they commit with the event that made them or not at all.
//! The projection of the same events ([`super::ScheduleProjection`]) writes
//! the same rows again, idempotently, and keeps their state; a rebuild of it
//! restores them.

use futures::future::BoxFuture;
use hellowork_eventstore::{DomainEvent, InlineProjection, RecordedEvent};
use sqlx::PgConnection;

use super::schedule::{epoch, insert_booking, insert_refusal, insert_slot};
use crate::domain::{Event, to_datetime};

/// The inline projection of scheduling's placements.
#[derive(Debug, Default)]
pub struct Placements;

const PLACED: [&str; 3] = ["SlotPublished", "SessionBooked", "OnlineServicesRefused"];

async fn place(tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), sqlx::Error> {
    if !PLACED.contains(&event.event_type.as_str()) {
        return Ok(());
    }
    // What this release cannot read was not appended by it: the projection
    // of the same events reports it.
    let Ok(decoded) = Event::decode(&event.event_type, &event.payload) else {
        return Ok(());
    };
    match decoded {
        Event::SlotPublished(e) => {
            insert_slot(
                tx,
                &e.slot_id,
                &e.counsellor_id,
                e.offering,
                to_datetime(e.start_time.as_ref()).unwrap_or_else(epoch),
                to_datetime(e.end_time.as_ref()).unwrap_or_else(epoch),
                e.capacity,
            )
            .await
        }
        Event::SessionBooked(e) => {
            insert_booking(
                tx,
                &e.booking_id,
                &e.slot_id,
                &e.job_seeker_id,
                &e.counsellor_id,
                to_datetime(e.start_time.as_ref()).unwrap_or_else(epoch),
            )
            .await
        }
        Event::OnlineServicesRefused(e) => {
            insert_refusal(tx, &e.refusal_id, &e.job_seeker_id).await
        }
        _ => Ok(()),
    }
}

impl InlineProjection for Placements {
    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            for event in events {
                place(tx, event).await?;
            }
            Ok(())
        })
    }
}
