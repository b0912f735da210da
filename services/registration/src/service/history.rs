//! A job seeker for a response: the aggregate folded from their opened
//! stream, plus when each fact happened (the envelope's `occurred_at`, which
//! the events themselves do not repeat).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hellowork_eventstore::{Aggregate, RecordedEvent};
use hellowork_proto::events::v1 as proto;
use uuid::Uuid;

use crate::domain::{Event, JobSeeker, JobSeekerId};

/// A job seeker and the times of their facts.
#[derive(Debug)]
pub struct History {
    pub job_seeker_id: JobSeekerId,
    pub state: JobSeeker,
    pub registered_at: Option<DateTime<Utc>>,
    /// The counsellor who registered the person at the counter, if one did
    /// (the registration's actor): they serve the person (Art. 8).
    pub registered_by: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    /// By application or attestation id.
    pub recorded_at: HashMap<Uuid, DateTime<Utc>>,
}

impl History {
    /// Folds the stream of `job_seeker_id`, `events` as opened by
    /// `crate::sealed`, oldest first.
    pub fn of<'a>(
        job_seeker_id: JobSeekerId,
        events: impl IntoIterator<Item = (&'a RecordedEvent, &'a Event)>,
    ) -> Self {
        let mut history = Self {
            job_seeker_id,
            state: JobSeeker::default(),
            registered_at: None,
            registered_by: None,
            completed_at: None,
            recorded_at: HashMap::new(),
        };
        for (recorded, event) in events {
            let at = recorded.occurred_at;
            let fact_id = match event {
                Event::Registered(_) => {
                    history.registered_at = Some(at);
                    let actor = &recorded.metadata.actor;
                    history.registered_by =
                        (actor.role == proto::Role::Counsellor).then(|| actor.subject.clone());
                    None
                }
                Event::RegistrationCompleted(_) => {
                    history.completed_at = Some(at);
                    None
                }
                Event::OnlineServicesApplied(e) => Some(e.application_id.as_str()),
                Event::DeviceCapabilityAttested(e) => Some(e.device_attestation_id.as_str()),
                Event::EnvironmentAttested(e) => Some(e.environment_attestation_id.as_str()),
                Event::ConvertedToHelloWorkUser(_) | Event::Erased(_) => None,
            };
            if let Some(id) = fact_id.and_then(|id| Uuid::try_parse(id).ok()) {
                history.recorded_at.insert(id, at);
            }
            history.state = std::mem::take(&mut history.state).apply(event);
        }
        history
    }
}
