//! The projection of scheduling's events and the queries on it.

use chrono::{DateTime, NaiveDate, Utc};
use hellowork_eventstore::{DomainEvent, Projection, ProjectionError, RecordedEvent};
use hellowork_proto::scheduling::v1::BookingState;
use sqlx::{PgConnection, PgExecutor, PgPool};

use crate::domain::{
    BookingId, CounsellorId, Event, JobSeekerId, Offering, RefusalId, SlotId, to_datetime,
    tokyo_date,
};

/// The durable consumer's name on the scheduling stream.
pub const SCHEDULE_CONSUMER: &str = "scheduling-read-models";

#[derive(Debug, Default)]
pub struct ScheduleProjection;

/// A slot row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SlotRow {
    pub slot_id: String,
    pub counsellor_id: String,
    pub offering: i32,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub capacity: i32,
    pub booked_count: i64,
}

/// Where an event without a time puts it (never, for what this release
/// writes).
pub(super) fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

/// Records where a slot lives.
pub(super) async fn insert_slot<'e>(
    db: impl PgExecutor<'e>,
    slot_id: &str,
    counsellor_id: &str,
    offering: i32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    capacity: u32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO slots (slot_id, counsellor_id, offering, start_time, end_time, tokyo_date, capacity) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (slot_id) DO NOTHING",
    )
    .bind(slot_id)
    .bind(counsellor_id)
    .bind(offering)
    .bind(start)
    .bind(end)
    .bind(tokyo_date(start))
    .bind(i32::try_from(capacity).unwrap_or(i32::MAX))
    .execute(db)
    .await?;
    Ok(())
}

/// Records where a booking lives.
pub(super) async fn insert_booking<'e>(
    db: impl PgExecutor<'e>,
    booking_id: &str,
    slot_id: &str,
    job_seeker_id: &str,
    counsellor_id: &str,
    start: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO bookings (booking_id, slot_id, job_seeker_id, counsellor_id, start_time, state) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (booking_id) DO NOTHING",
    )
    .bind(booking_id)
    .bind(slot_id)
    .bind(job_seeker_id)
    .bind(counsellor_id)
    .bind(start)
    .bind(i32::from(BookingState::Confirmed))
    .execute(db)
    .await?;
    Ok(())
}

/// Records a refusal's person.
pub(super) async fn insert_refusal<'e>(
    db: impl PgExecutor<'e>,
    refusal_id: &str,
    job_seeker_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refusals (refusal_id, job_seeker_id) VALUES ($1, $2) \
         ON CONFLICT (refusal_id) DO NOTHING",
    )
    .bind(refusal_id)
    .bind(job_seeker_id)
    .execute(db)
    .await?;
    Ok(())
}

async fn set_state(
    tx: &mut PgConnection,
    booking_id: &str,
    state: BookingState,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE bookings SET state = $2 WHERE booking_id = $1")
        .bind(booking_id)
        .bind(i32::from(state))
        .execute(tx)
        .await?;
    Ok(())
}

impl Projection for ScheduleProjection {
    fn name(&self) -> &str {
        SCHEDULE_CONSUMER
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let decoded = Event::decode(&event.event_type, &event.payload).map_err(|reason| {
            ProjectionError::Rejected {
                event_id: event.event_id,
                event_type: event.event_type.clone(),
                reason,
            }
        })?;
        match decoded {
            Event::SlotPublished(e) => {
                let start = to_datetime(e.start_time.as_ref()).unwrap_or_else(epoch);
                let end = to_datetime(e.end_time.as_ref()).unwrap_or_else(epoch);
                insert_slot(
                    &mut *tx,
                    &e.slot_id,
                    &e.counsellor_id,
                    e.offering,
                    start,
                    end,
                    e.capacity,
                )
                .await?;
            }
            Event::SessionBooked(e) => {
                let start = to_datetime(e.start_time.as_ref()).unwrap_or_else(epoch);
                insert_booking(
                    &mut *tx,
                    &e.booking_id,
                    &e.slot_id,
                    &e.job_seeker_id,
                    &e.counsellor_id,
                    start,
                )
                .await?;
            }
            Event::BookingCancelled(e) => {
                set_state(tx, &e.booking_id, BookingState::Cancelled).await?
            }
            Event::BookingRescheduled(e) => {
                sqlx::query(
                    "UPDATE bookings SET slot_id = $2, counsellor_id = $3, start_time = $4 \
                     WHERE booking_id = $1",
                )
                .bind(&e.booking_id)
                .bind(&e.to_slot_id)
                .bind(&e.counsellor_id)
                .bind(to_datetime(e.start_time.as_ref()).unwrap_or_else(epoch))
                .execute(tx)
                .await?;
            }
            Event::SessionJoined(e) => {
                set_state(tx, &e.booking_id, BookingState::InSession).await?
            }
            Event::SessionLeft(e) => set_state(tx, &e.booking_id, BookingState::Completed).await?,
            Event::SessionStopped(e) => set_state(tx, &e.booking_id, BookingState::Stopped).await?,
            Event::OnlineServicesRefused(e) => {
                insert_refusal(&mut *tx, &e.refusal_id, &e.job_seeker_id).await?;
            }
            // Seats are counted from the bookings' rows; a carried-over
            // booking's originals were projected where they were appended.
            Event::SeatTaken(_)
            | Event::SeatReleased(_)
            | Event::SeatMoved(_)
            | Event::BookingCarriedOver(_)
            | Event::AttendantDeclared(_)
            | Event::ChecklistCompleted(_)
            | Event::PrivateRoomAcknowledged(_)
            | Event::NoRecordingAcknowledged(_)
            | Event::RefusalLifted(_) => {}
        }
        Ok(())
    }

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), ProjectionError> {
        sqlx::query("DELETE FROM bookings")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM slots").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM refusals")
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

/// Where a slot lives: its counsellor, its offering and when it starts
/// (none ever changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotPlacement {
    pub counsellor_id: CounsellorId,
    pub offering: Offering,
    pub start_time: DateTime<Utc>,
}

/// Where the slot `slot_id` lives.
pub async fn slot_placement(
    pool: &PgPool,
    slot_id: SlotId,
) -> Result<Option<SlotPlacement>, sqlx::Error> {
    let row: Option<(String, i32, DateTime<Utc>)> =
        sqlx::query_as("SELECT counsellor_id, offering, start_time FROM slots WHERE slot_id = $1")
            .bind(slot_id.to_string())
            .fetch_optional(pool)
            .await?;
    row.map(|(counsellor_id, offering, start_time)| {
        // Written from a stored slot, which always names its offering.
        let offering =
            Offering::try_from(offering).map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
        Ok(SlotPlacement {
            counsellor_id: CounsellorId::stored(&counsellor_id),
            offering,
            start_time,
        })
    })
    .transpose()
}

/// The person of a refusal.
pub async fn refusal_person(
    pool: &PgPool,
    refusal_id: RefusalId,
) -> Result<Option<JobSeekerId>, sqlx::Error> {
    let person: Option<String> =
        sqlx::query_scalar("SELECT job_seeker_id FROM refusals WHERE refusal_id = $1")
            .bind(refusal_id.to_string())
            .fetch_optional(pool)
            .await?;
    Ok(person.as_deref().map(JobSeekerId::stored))
}

/// Art. 8: whether `job_seeker_id` has (or had) a booking in one of
/// `counsellor_id`'s slots, in any state.
pub async fn booked_with(
    pool: &PgPool,
    job_seeker_id: JobSeekerId,
    counsellor_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM bookings WHERE job_seeker_id = $1 AND counsellor_id = $2)",
    )
    .bind(job_seeker_id.to_string())
    .bind(counsellor_id)
    .fetch_one(pool)
    .await
}

/// A person's bookings, soonest first, optionally only in `states`; keyset
/// paging by (start, id) after `after`.
pub async fn bookings_of_person(
    pool: &PgPool,
    job_seeker_id: JobSeekerId,
    states: &[i32],
    after: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> Result<Vec<(BookingId, DateTime<Utc>)>, sqlx::Error> {
    let (after_start, after_id) = after.unzip();
    let rows: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT booking_id, start_time FROM bookings \
         WHERE job_seeker_id = $1 AND (cardinality($2::int[]) = 0 OR state = ANY($2)) \
           AND ($3::timestamptz IS NULL OR (start_time, booking_id) > ($3, $4::text)) \
         ORDER BY start_time, booking_id LIMIT $5",
    )
    .bind(job_seeker_id.to_string())
    .bind(states)
    .bind(after_start)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(booking_id, start)| (BookingId::stored(&booking_id), start))
        .collect())
}

const SLOT_COLUMNS: &str = "s.slot_id, s.counsellor_id, s.offering, s.start_time, s.end_time, s.capacity, \
     (SELECT count(*) FROM bookings b WHERE b.slot_id = s.slot_id AND b.state <> 4) AS booked_count";

/// Slots of an offering on an Asia/Tokyo date with a seat left, by start;
/// keyset paging by (start, id).
pub async fn free_slots(
    pool: &PgPool,
    offering: i32,
    date: NaiveDate,
    counsellor_id: Option<&CounsellorId>,
    after: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> Result<Vec<SlotRow>, sqlx::Error> {
    let (after_start, after_id) = after.unzip();
    sqlx::query_as(&format!(
        "SELECT * FROM (SELECT {SLOT_COLUMNS} FROM slots s \
         WHERE s.offering = $1 AND s.tokyo_date = $2 AND ($3::text IS NULL OR s.counsellor_id = $3) \
           AND ($4::timestamptz IS NULL OR (s.start_time, s.slot_id) > ($4, $5::text))) f \
         WHERE f.booked_count < f.capacity ORDER BY f.start_time, f.slot_id LIMIT $6"
    ))
    .bind(offering)
    .bind(date)
    .bind(counsellor_id.map(CounsellorId::as_str))
    .bind(after_start)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}
