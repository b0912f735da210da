//! Loading a schedule or a person for a response: the aggregate folded from
//! its stream, plus when each fact happened (the envelope's `occurred_at`,
//! which the events themselves do not repeat).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hellowork_eventstore::{Aggregate, DomainEvent, EventStore, StreamId};
use hellowork_platform::ServiceError;

use crate::domain::{Event, Person, Schedule};

/// What happened to a booking or attendant, for its timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fact {
    Booked,
    Declared,
    Checklist,
    PrivateRoom,
    NoRecording,
    Joined,
    Left,
    Stopped,
    Refused,
    Lifted,
}

/// An aggregate and the times of its facts, by (id, fact).
#[derive(Debug, Default)]
pub struct History<A> {
    pub state: A,
    pub times: HashMap<(String, Fact), DateTime<Utc>>,
    /// Who stopped a session or made or lifted a refusal, by (id, fact).
    pub actors: HashMap<(String, Fact), String>,
}

impl<A> History<A> {
    pub fn at(&self, id: &str, fact: Fact) -> Option<DateTime<Utc>> {
        self.times.get(&(id.to_owned(), fact)).copied()
    }

    pub fn actor(&self, id: &str, fact: Fact) -> String {
        self.actors
            .get(&(id.to_owned(), fact))
            .cloned()
            .unwrap_or_default()
    }
}

pub fn schedule_stream(counsellor_id: &str) -> Result<StreamId, ServiceError> {
    StreamId::new(format!("scheduling-counsellor-{counsellor_id}")).map_err(ServiceError::internal)
}

pub fn person_stream(job_seeker_id: &str) -> Result<StreamId, ServiceError> {
    StreamId::new(format!("scheduling-person-{job_seeker_id}")).map_err(ServiceError::internal)
}

pub async fn load_schedule(
    store: &EventStore,
    counsellor_id: &str,
) -> Result<History<Schedule>, ServiceError> {
    load(store, &schedule_stream(counsellor_id)?).await
}

pub async fn load_person(
    store: &EventStore,
    job_seeker_id: &str,
) -> Result<History<Person>, ServiceError> {
    load(store, &person_stream(job_seeker_id)?).await
}

async fn load<A: Aggregate<Event = Event> + Default>(
    store: &EventStore,
    stream: &StreamId,
) -> Result<History<A>, ServiceError> {
    let mut history = History::<A>::default();
    for recorded in store.read_stream(stream, 0).await? {
        let event = Event::decode(&recorded.event_type, &recorded.payload).map_err(|reason| {
            ServiceError::Internal(
                format!(
                    "stored event {} cannot be decoded: {reason}",
                    recorded.event_id
                )
                .into(),
            )
        })?;
        let key = match &event {
            Event::SessionBooked(e) => Some((e.booking_id.clone(), Fact::Booked)),
            Event::AttendantDeclared(e) => Some((e.attendant_id.clone(), Fact::Declared)),
            Event::ChecklistCompleted(e) => Some((e.booking_id.clone(), Fact::Checklist)),
            Event::PrivateRoomAcknowledged(e) => Some((e.booking_id.clone(), Fact::PrivateRoom)),
            Event::NoRecordingAcknowledged(e) => Some((e.booking_id.clone(), Fact::NoRecording)),
            Event::SessionJoined(e) => Some((e.booking_id.clone(), Fact::Joined)),
            Event::SessionLeft(e) => Some((e.booking_id.clone(), Fact::Left)),
            Event::SessionStopped(e) => Some((e.booking_id.clone(), Fact::Stopped)),
            Event::OnlineServicesRefused(e) => Some((e.refusal_id.clone(), Fact::Refused)),
            Event::RefusalLifted(e) => Some((e.refusal_id.clone(), Fact::Lifted)),
            _ => None,
        };
        if let Some(key) = key {
            history
                .actors
                .insert(key.clone(), recorded.metadata.actor.subject.clone());
            history.times.insert(key, recorded.occurred_at);
        }
        history.state = history.state.apply(&event);
    }
    Ok(history)
}
