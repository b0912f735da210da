//! The scheduling service with domain arguments, below any transport: who
//! may act on which booking, the Art. 2 eligibility asked of the peers,
//! each command on its stream through the kept repositories (booking,
//! cancelling and rescheduling on a schedule and a booking at once), what
//! it appended counted ([`crate::metrics`]), and the queries. The gRPC adapter and the
//! Art. 12(1) refusal cascade ([`crate::refusal_cascade`]) both call it;
//! every failure is a [`ServiceError`], mapped to a status once, at the
//! edge.
//!
//! - `streams`: the schedules, bookings and persons kept folded in memory;
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
use sqlx::PgPool;

use crate::{
    domain::{
        Booking, BookingCommand, BookingId, CounsellorId, Decision, JobSeekerId, Offering, Person,
        PersonCommand, Publish, RefusalId, Schedule,
    },
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
pub use history::{Fact, History, booking_stream, person_stream, schedule_stream};
pub use requests::{
    BookingRequest, BookingsQuery, FreeSlotsQuery, Page, Publication, RefusalRequest,
};
use streams::Streams;

/// Bytes of counsellors' schedules kept folded in memory: a busy schedule
/// folds a few thousand events of a few hundred bytes each, so this keeps
/// every schedule of an office and bounds a much larger one.
const SCHEDULES_KEPT: u64 = 256 << 20;
/// Bytes of bookings' own streams kept folded in memory (a booking folds
/// about ten events): the bookings of the coming sessions; older ones are
/// read again when asked for.
const BOOKINGS_KEPT: u64 = 64 << 20;
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

/// A booking as the service answers with it: its stream folded and its
/// stop's note, opened.
#[derive(Debug, Clone)]
pub struct BookingView {
    pub booking: Arc<History<Booking>>,
    pub booking_id: BookingId,
    pub stop_note: Note,
}

/// A refusal as the service answers with it, its note opened.
#[derive(Debug, Clone)]
pub struct RefusalView {
    pub person: History<Person>,
    pub refusal_id: RefusalId,
    pub note: Note,
}

/// The scheduling service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Scheduling {
    schedules: Streams<Schedule>,
    bookings: Streams<Booking>,
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
            bookings: Streams::new(store.clone(), keys.clone(), BOOKINGS_KEPT),
            persons: Streams::new(store.clone(), keys.clone(), PERSONS_KEPT),
            pool: store.pool().clone(),
            eligibility,
            sealer,
            keys,
            settings: Arc::new(settings),
        }
    }

    /// Art. 8: a booking as shown, the note of its stop opened with its
    /// person's data key (erased once that is destroyed); NOT_FOUND if
    /// `booking` was never booked.
    async fn shown(
        &self,
        booking: Arc<History<Booking>>,
        booking_id: BookingId,
    ) -> Result<BookingView, ServiceError> {
        let record = booking
            .state
            .record()
            .ok_or_else(|| missing("booking", booking_id))?;
        let stop_note = match &record.stop {
            Some(stop) => {
                let key = self.keys.find(&record.job_seeker_id.to_string()).await?;
                codec::stop_note(&key, booking_id, &stop.note).map_err(ServiceError::internal)?
            }
            None => Note::Text(String::new()),
        };
        Ok(BookingView {
            booking,
            booking_id,
            stop_note,
        })
    }

    /// Art. 8: the refusal `refusal_id` of `person`, its note opened.
    async fn shown_refusal(
        &self,
        person: History<Person>,
        refusal_id: RefusalId,
    ) -> Result<RefusalView, ServiceError> {
        let record = person
            .state
            .refusal(refusal_id)
            .ok_or_else(|| missing("refusal", refusal_id))?;
        let key = self.keys.find(&record.job_seeker_id.to_string()).await?;
        let note =
            codec::refusal_note(&key, refusal_id, &record.note).map_err(ServiceError::internal)?;
        Ok(RefusalView {
            person,
            refusal_id,
            note,
        })
    }

    /// Publishes on a counsellor's schedule, counts what it appended and
    /// returns the schedule afterwards.
    async fn on_schedule(
        &self,
        metadata: &EventMetadata,
        counsellor_id: &CounsellorId,
        command: &Publish,
    ) -> Result<Arc<History<Schedule>>, ServiceError> {
        let stream = schedule_stream(counsellor_id)?;
        let (events, history) = self.schedules.execute(&stream, command, metadata).await?;
        metrics::record(&events, Some(command.offering));
        Ok(Arc::new(history))
    }

    /// Runs `command` on a booking's own stream, counts what it appended
    /// (`offering` is the booking's) and returns the booking afterwards.
    async fn on_booking_stream(
        &self,
        metadata: &EventMetadata,
        command: &BookingCommand,
        offering: Offering,
    ) -> Result<Arc<History<Booking>>, ServiceError> {
        let stream = booking_stream(command.booking_id())?;
        let (events, history) = self.bookings.execute(&stream, command, metadata).await?;
        metrics::record(&events, Some(offering));
        Ok(Arc::new(history))
    }

    /// Decides on a counsellor's schedule and a booking together and
    /// appends to both at once (schedule locked first, always); counts what
    /// it appended and returns the booking afterwards.
    async fn on_seat(
        &self,
        metadata: &EventMetadata,
        counsellor_id: &CounsellorId,
        booking_id: BookingId,
        offering: Offering,
        decide: impl Fn(&Schedule, &Booking) -> Result<Decision, crate::domain::DomainError>,
    ) -> Result<Arc<History<Booking>>, ServiceError> {
        let paired = self
            .schedules
            .execute_with(
                &schedule_stream(counsellor_id)?,
                &self.bookings,
                &booking_stream(booking_id)?,
                metadata,
                decide,
            )
            .await?;
        metrics::record(&paired.second_events, Some(offering));
        Ok(Arc::new(paired.second))
    }

    /// Runs `command` on a person's stream, counts what it appended and
    /// returns the person afterwards.
    async fn on_person(
        &self,
        metadata: &EventMetadata,
        job_seeker_id: JobSeekerId,
        command: &PersonCommand,
    ) -> Result<History<Person>, ServiceError> {
        let stream = person_stream(job_seeker_id)?;
        let (events, history) = self.persons.execute(&stream, command, metadata).await?;
        metrics::record(&events, None);
        Ok(history)
    }

    async fn schedule(
        &self,
        counsellor_id: &CounsellorId,
    ) -> Result<Arc<History<Schedule>>, ServiceError> {
        let history = self
            .schedules
            .read(&schedule_stream(counsellor_id)?)
            .await?;
        Ok(Arc::new(history))
    }

    /// A booking's stream as it is now in the store.
    async fn booking_now(
        &self,
        booking_id: BookingId,
    ) -> Result<Arc<History<Booking>>, ServiceError> {
        let history = self.bookings.read(&booking_stream(booking_id)?).await?;
        Ok(Arc::new(history))
    }

    async fn person(&self, job_seeker_id: JobSeekerId) -> Result<History<Person>, ServiceError> {
        self.persons.read(&person_stream(job_seeker_id)?).await
    }
}
