//! A job seeker for a response: the aggregate folded from their opened
//! stream, plus when each fact happened (the envelope's `occurred_at`, which
//! the events themselves do not repeat).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hellowork_eventstore::{Aggregate, RecordedEvent};
use hellowork_proto::events::v1 as proto;

use crate::domain::{Event, JobSeeker};

/// A job seeker and the times of their facts.
#[derive(Debug, Default)]
pub struct History {
    pub state: JobSeeker,
    pub registered_at: Option<DateTime<Utc>>,
    /// The counsellor who registered the person at the counter, if one did
    /// (the registration's actor): they serve the person (Art. 8).
    pub registered_by: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    /// By application or attestation id.
    pub recorded_at: HashMap<String, DateTime<Utc>>,
}

impl History {
    /// Folds `events` (as opened by `crate::sealed`), oldest first.
    pub fn of<'a>(events: impl IntoIterator<Item = (&'a RecordedEvent, &'a Event)>) -> Self {
        let mut history = Self::default();
        for (recorded, event) in events {
            let at = recorded.occurred_at;
            match event {
                Event::Registered(_) => {
                    history.registered_at = Some(at);
                    let actor = &recorded.metadata.actor;
                    history.registered_by =
                        (actor.role == proto::Role::Counsellor).then(|| actor.subject.clone());
                }
                Event::RegistrationCompleted(_) => history.completed_at = Some(at),
                Event::OnlineServicesApplied(e) => {
                    history.recorded_at.insert(e.application_id.clone(), at);
                }
                Event::DeviceCapabilityAttested(e) => {
                    history
                        .recorded_at
                        .insert(e.device_attestation_id.clone(), at);
                }
                Event::EnvironmentAttested(e) => {
                    history
                        .recorded_at
                        .insert(e.environment_attestation_id.clone(), at);
                }
                Event::ConvertedToHelloWorkUser(_) | Event::Erased(_) => {}
            }
            history.state = std::mem::take(&mut history.state).apply(event);
        }
        history
    }
}
