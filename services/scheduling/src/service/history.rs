//! A schedule or a person as responses show it: the aggregate folded from
//! its stream, plus when and by whom each fact happened (the envelope's
//! `occurred_at` and actor, which the events themselves do not repeat).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hellowork_eventstore::{Aggregate, DomainEvent, StreamId};
use hellowork_platform::ServiceError;

use crate::domain::{BookingId, CounsellorId, Event, JobSeekerId, to_datetime};

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
#[derive(Debug, Default, Clone)]
pub struct History<A> {
    pub state: A,
    pub times: HashMap<(String, Fact), DateTime<Utc>>,
    /// Who stopped a session or made or lifted a refusal, by (id, fact).
    pub actors: HashMap<(String, Fact), String>,
}

impl<A> History<A> {
    /// When the fact about `id` (a booking, attendant or refusal) happened.
    pub fn at(&self, id: impl ToString, fact: Fact) -> Option<DateTime<Utc>> {
        self.times.get(&(id.to_string(), fact)).copied()
    }

    pub fn actor(&self, id: impl ToString, fact: Fact) -> String {
        self.actors
            .get(&(id.to_string(), fact))
            .cloned()
            .unwrap_or_default()
    }
}

pub fn schedule_stream(counsellor_id: &CounsellorId) -> Result<StreamId, ServiceError> {
    StreamId::new(format!("scheduling-counsellor-{counsellor_id}")).map_err(ServiceError::internal)
}

pub fn booking_stream(booking_id: BookingId) -> Result<StreamId, ServiceError> {
    StreamId::new(format!("scheduling-booking-{booking_id}")).map_err(ServiceError::internal)
}

pub fn person_stream(job_seeker_id: JobSeekerId) -> Result<StreamId, ServiceError> {
    StreamId::new(format!("scheduling-person-{job_seeker_id}")).map_err(ServiceError::internal)
}

impl<A: Aggregate<Event = Event>> History<A> {
    /// Folds in an event that happened at `at`, caused by `actor`.
    pub fn note(&mut self, event: &Event, at: DateTime<Utc>, actor: &str) {
        if let Event::BookingCarriedOver(carried) = event {
            // Each copy with when and by whom it happened on the schedule.
            for copy in &carried.events {
                let Ok(event) = Event::decode(&copy.event_type, &copy.payload) else {
                    continue;
                };
                let at =
                    to_datetime(copy.occurred_at.as_ref()).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
                self.note(&event, at, &copy.actor);
            }
            return;
        }
        let key = match event {
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
            self.actors.insert(key.clone(), actor.to_owned());
            self.times.insert(key, at);
        }
        self.state = std::mem::take(&mut self.state).apply(event);
    }
}
