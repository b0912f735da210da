//! Bookings get their own streams (Step 11): a booking made before lives
//! on its counsellor's schedule, all its events there. At start-up, before
//! serving, each such booking is carried over to `scheduling-booking-<id>`
//! as one `BookingCarriedOver` event holding copies of its events, with
//! when and by whom each happened. The originals stay: the schedule folds
//! them as its seats, and the projections and the audit-log have them
//! already (they ignore the carry-over). Copies drop device identifiers
//! (Art. 7(2): the audit-log holds the usage records; no new copy of a
//! sealed device goes on the bus) and hold every note sealed (Art. 8: one
//! still in clear is sealed on the way with its person's key, dropped if
//! that key was erased).
//!
//! Idempotent: the carry-over of a booking has an id derived from the
//! booking and is appended only where the booking's stream does not exist;
//! replicas starting together take turns under an advisory lock, and once
//! done the step is recorded in `completed_upgrades`.

use chrono::Utc;
use hellowork_eventstore::{
    AppendError, DomainEvent, EventMetadata, EventStore, ExpectedVersion, NewEvent, RecordedEvent,
    StoreError, StreamId,
};
use hellowork_proto::scheduling::v1::{BookingCarriedOver, CarriedEvent};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    domain::{BookingId, Event, timestamp},
    sealed::{
        PersonalKeys,
        codec::{self, CodecError},
        keys::KeyError,
    },
    service::booking_stream,
};

/// The step's name in `completed_upgrades`.
const STEP: &str = "booking-streams";
/// Its advisory lock (not the reseal's, which may wait for the audit-log).
const LOCK: &str = "hellowork.scheduling.booking-streams";
/// Who the carry-overs are recorded as caused by.
const ACTOR: &str = "scheduling-carry-over";
/// Names the carry-overs' event ids.
const NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_3c2e_9a4d_4e8b_b0c5_2f7d_1e9a_8c31);

#[derive(Debug, thiserror::Error)]
pub enum CarryOverError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("no stream id for {0}")]
    Stream(String),
    #[error("stored event {event_id} cannot be decoded: {reason}")]
    Decode { event_id: Uuid, reason: String },
}

/// Carries every booking still on a schedule over to its own stream;
/// returns how many it carried (0 once done).
pub async fn carry_over(
    pool: &PgPool,
    store: &EventStore,
    keys: &PersonalKeys,
) -> Result<usize, CarryOverError> {
    // A connection of its own: closing it releases the lock whatever happens.
    let mut lock = pool.acquire().await?.detach();
    sqlx::query("SELECT pg_advisory_lock(hashtextextended($1::text || current_schema(), 0))")
        .bind(LOCK)
        .execute(&mut lock)
        .await?;
    let carried = carry_over_locked(pool, store, keys).await;
    let _ = sqlx::Connection::close(lock).await;
    carried
}

async fn carry_over_locked(
    pool: &PgPool,
    store: &EventStore,
    keys: &PersonalKeys,
) -> Result<usize, CarryOverError> {
    let done: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM completed_upgrades WHERE name = $1)")
            .bind(STEP)
            .fetch_one(pool)
            .await?;
    if done {
        return Ok(0);
    }
    let schedules: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT stream_id FROM events \
         WHERE event_type = 'SessionBooked' AND stream_id LIKE 'scheduling-counsellor-%'",
    )
    .fetch_all(pool)
    .await?;
    let mut carried = 0;
    for schedule in schedules {
        let stream = StreamId::new(schedule).map_err(|e| CarryOverError::Stream(e.to_string()))?;
        for (booking_id, events) in bookings_of(&store.read_stream(&stream, 0).await?)? {
            let own = BookingId::new(&booking_id)
                .ok()
                .and_then(|id| booking_stream(id).ok())
                .ok_or_else(|| CarryOverError::Stream(booking_id.clone()))?;
            if !store.read_stream(&own, 0).await?.is_empty() {
                continue;
            }
            let mut copies = Vec::with_capacity(events.len());
            for (recorded, event) in events {
                copies.push(copy(recorded, sealed(keys, without_devices(event)).await?));
            }
            let event = Event::BookingCarriedOver(BookingCarriedOver {
                booking_id: booking_id.clone(),
                events: copies,
            });
            let event_id = Uuid::new_v5(&NAMESPACE, booking_id.as_bytes());
            let appended = store
                .append(
                    &own,
                    ExpectedVersion::NoStream,
                    vec![new_event(event_id, &event)],
                )
                .await;
            match appended {
                Ok(_) => carried += 1,
                // Booked anew or carried by another replica meanwhile.
                Err(AppendError::WrongExpectedVersion { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
    }
    sqlx::query("INSERT INTO completed_upgrades (name) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(STEP)
        .execute(pool)
        .await?;
    tracing::info!(carried, "bookings carried over to their own streams");
    Ok(carried)
}

/// Bookings by id, each with its events as stored and decoded.
type BookingEvents<'a> = Vec<(String, Vec<(&'a RecordedEvent, Event)>)>;

/// A schedule stream's bookings, each with its events in stream order;
/// bookings in the order they were booked.
fn bookings_of(recorded: &[RecordedEvent]) -> Result<BookingEvents<'_>, CarryOverError> {
    let mut bookings: BookingEvents<'_> = Vec::new();
    for stored in recorded {
        let event = Event::decode(&stored.event_type, &stored.payload).map_err(|reason| {
            CarryOverError::Decode {
                event_id: stored.event_id,
                reason,
            }
        })?;
        let Some(booking_id) = event.booking_id().map(str::to_owned) else {
            continue;
        };
        match bookings.iter_mut().find(|(id, _)| *id == booking_id) {
            Some((_, events)) => events.push((stored, event)),
            None => bookings.push((booking_id, vec![(stored, event)])),
        }
    }
    Ok(bookings)
}

/// Art. 7(2): a copy keeps no device identifiers, clear or sealed.
fn without_devices(mut event: Event) -> Event {
    match &mut event {
        Event::SessionJoined(e) => (e.device, e.sealed_device) = (None, None),
        Event::SessionLeft(e) => (e.device, e.sealed_device) = (None, None),
        _ => {}
    }
    event
}

/// Art. 8: a copy holds its note sealed with its person's key, or none if
/// the person was erased.
async fn sealed(keys: &PersonalKeys, event: Event) -> Result<Event, CarryOverError> {
    let Some(owner) = codec::note_owner(&event).map(str::to_owned) else {
        return Ok(event);
    };
    match keys.find_or_create(&owner).await {
        Ok(key) => Ok(codec::sealed(event, Some(&key))?),
        Err(KeyError::Erased) => Ok(codec::forgotten(event)),
        Err(error) => Err(error.into()),
    }
}

fn copy(recorded: &RecordedEvent, event: Event) -> CarriedEvent {
    CarriedEvent {
        event_id: recorded.event_id.to_string(),
        event_type: event.event_type().to_owned(),
        schema_version: event.schema_version(),
        payload: event.encode(),
        occurred_at: Some(timestamp(recorded.occurred_at)),
        actor: recorded.metadata.actor.subject.clone(),
    }
}

fn new_event(event_id: Uuid, event: &Event) -> NewEvent {
    let metadata = EventMetadata::system(ACTOR, event_id);
    NewEvent {
        event_id,
        ..NewEvent::of(event, Utc::now(), &metadata)
    }
}
