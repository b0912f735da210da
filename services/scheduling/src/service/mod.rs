//! The scheduling service with domain arguments, below any transport: who
//! may act on which booking, the Art. 2 eligibility asked of the peers, one
//! command per stream through the kept repositories, what it appended
//! counted ([`crate::metrics`]), and the queries. The gRPC adapter and the
//! Art. 12(1) refusal cascade ([`crate::refusal_cascade`]) both call it;
//! every failure is a [`ServiceError`], mapped to a status once, at the
//! edge.
//!
//! - `streams`: the schedules and persons kept folded in memory;
//! - `history`: an aggregate with when and by whom each fact happened;
//! - `access`: who may act on a counsellor's slots or a booking;
//! - `slots`, `bookings`, `refusals`: the commands and queries of each.

mod access;
mod bookings;
mod history;
mod refusals;
mod requests;
mod slots;
mod streams;

use std::sync::Arc;

use hellowork_eventstore::{EventMetadata, EventStore, StoreError};
use hellowork_platform::{Caller, ServiceError};
use hellowork_proto::scheduling::v1::Offering;
use sqlx::PgPool;

use crate::{
    domain::{Person, PersonCommand, Schedule, ScheduleCommand},
    eligibility::EligibilityClient,
    metrics,
    sealed::{
        PersonalKeys,
        codec::{self, Note},
    },
    sealing::DeviceSealer,
    settings::SchedulingSettings,
};

pub use access::require_owner_or;
pub use history::{Fact, History, person_stream, schedule_stream};
pub use requests::{
    BookingRequest, BookingsQuery, FreeSlotsQuery, Page, Publication, RefusalRequest,
};
use streams::Streams;

/// Bytes of counsellors' schedules kept folded in memory: a busy schedule
/// folds a few thousand events of a few hundred bytes each, so this keeps
/// every schedule of an office and bounds a much larger one.
const SCHEDULES_KEPT: u64 = 256 << 20;
/// Bytes of persons' refusal streams kept folded in memory (most hold no
/// event at all): the people booking these days; the others are read
/// again when they return.
const PERSONS_KEPT: u64 = 32 << 20;

/// Who asks, and the metadata the events they cause are recorded with
/// (their correlation id, the trace context).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub caller: &'a Caller,
    pub metadata: &'a EventMetadata,
}

/// A booking as the service answers with it: the schedule that holds it
/// (shared by the bookings of one answer) and its stop's note, opened.
#[derive(Debug, Clone)]
pub struct BookingView {
    pub schedule: Arc<History<Schedule>>,
    pub booking_id: String,
    pub stop_note: Note,
}

/// A refusal as the service answers with it, its note opened.
#[derive(Debug, Clone)]
pub struct RefusalView {
    pub person: History<Person>,
    pub refusal_id: String,
    pub note: Note,
}

/// The scheduling service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Scheduling {
    schedules: Streams<Schedule>,
    persons: Streams<Person>,
    pool: PgPool,
    eligibility: EligibilityClient,
    sealer: Arc<DeviceSealer>,
    keys: PersonalKeys,
    settings: Arc<SchedulingSettings>,
}

fn missing(what: &'static str, id: impl ToString) -> ServiceError {
    ServiceError::NotFound {
        resource_type: what,
        resource_name: id.to_string(),
    }
}

/// A read-model query failed: UNAVAILABLE if the database is, else INTERNAL.
fn database(error: sqlx::Error) -> ServiceError {
    StoreError::Database(error).into()
}

impl Scheduling {
    pub fn new(
        store: EventStore,
        eligibility: EligibilityClient,
        sealer: Arc<DeviceSealer>,
        keys: PersonalKeys,
        settings: SchedulingSettings,
    ) -> Self {
        Self {
            schedules: Streams::new(store.clone(), keys.clone(), SCHEDULES_KEPT),
            persons: Streams::new(store.clone(), keys.clone(), PERSONS_KEPT),
            pool: store.pool().clone(),
            eligibility,
            sealer,
            keys,
            settings: Arc::new(settings),
        }
    }

    /// Art. 8: the booking `booking_id` of `schedule`, the note of its stop
    /// opened with its person's data key (erased once that is destroyed).
    async fn shown(
        &self,
        schedule: &Arc<History<Schedule>>,
        booking_id: &str,
    ) -> Result<BookingView, ServiceError> {
        let booking = schedule
            .state
            .booking(booking_id)
            .ok_or_else(|| missing("booking", booking_id))?;
        let stop_note = match &booking.stop {
            Some(stop) => {
                let key = self.keys.find(&stop.job_seeker_id).await?;
                codec::stop_note(&key, stop).map_err(ServiceError::internal)?
            }
            None => Note::Text(String::new()),
        };
        Ok(BookingView {
            schedule: Arc::clone(schedule),
            booking_id: booking_id.to_owned(),
            stop_note,
        })
    }

    /// Art. 8: the refusal `refusal_id` of `person`, its note opened.
    async fn shown_refusal(
        &self,
        person: History<Person>,
        refusal_id: &str,
    ) -> Result<RefusalView, ServiceError> {
        let record = person
            .state
            .refusal(refusal_id)
            .ok_or_else(|| missing("refusal", refusal_id))?;
        let key = self.keys.find(&record.refused.job_seeker_id).await?;
        let note = codec::refusal_note(&key, &record.refused).map_err(ServiceError::internal)?;
        Ok(RefusalView {
            person,
            refusal_id: refusal_id.to_owned(),
            note,
        })
    }

    /// Runs `command` on a counsellor's schedule, counts what it appended
    /// (`offering` is that of the slot or booking concerned) and returns the
    /// schedule afterwards.
    async fn on_schedule(
        &self,
        metadata: &EventMetadata,
        counsellor_id: &str,
        command: &ScheduleCommand,
        offering: Offering,
    ) -> Result<Arc<History<Schedule>>, ServiceError> {
        let stream = schedule_stream(counsellor_id)?;
        let (events, history) = self.schedules.execute(&stream, command, metadata).await?;
        metrics::record(&events, offering);
        Ok(Arc::new(history))
    }

    /// Runs `command` on a person's stream, counts what it appended and
    /// returns the person afterwards.
    async fn on_person(
        &self,
        metadata: &EventMetadata,
        job_seeker_id: &str,
        command: &PersonCommand,
    ) -> Result<History<Person>, ServiceError> {
        let stream = person_stream(job_seeker_id)?;
        let (events, history) = self.persons.execute(&stream, command, metadata).await?;
        metrics::record(&events, Offering::Unspecified);
        Ok(history)
    }

    async fn schedule(&self, counsellor_id: &str) -> Result<Arc<History<Schedule>>, ServiceError> {
        let history = self
            .schedules
            .read(&schedule_stream(counsellor_id)?)
            .await?;
        Ok(Arc::new(history))
    }

    async fn person(&self, job_seeker_id: &str) -> Result<History<Person>, ServiceError> {
        self.persons.read(&person_stream(job_seeker_id)?).await
    }
}
