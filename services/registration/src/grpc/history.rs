//! Loading a job seeker for a response: the aggregate folded from the
//! stream, plus when each fact happened (the envelope's `occurred_at`, which
//! the events themselves do not repeat).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hellowork_eventstore::{Aggregate, DomainEvent, EventStore, StreamId};
use hellowork_platform::ServiceError;

use crate::domain::{Event, JobSeeker, JobSeekerId};

/// A job seeker and the times of their facts.
#[derive(Debug, Default)]
pub struct History {
    pub state: JobSeeker,
    pub registered_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// By application or attestation id.
    pub recorded_at: HashMap<String, DateTime<Utc>>,
}

pub async fn load(store: &EventStore, id: JobSeekerId) -> Result<History, ServiceError> {
    let stream = stream_of(id)?;
    let mut history = History::default();
    for recorded in store.read_stream(&stream, 0).await? {
        let event = Event::decode(&recorded.event_type, &recorded.payload).map_err(|reason| {
            ServiceError::Internal(
                format!(
                    "stored event {} cannot be decoded: {reason}",
                    recorded.event_id
                )
                .into(),
            )
        })?;
        let at = recorded.occurred_at;
        match &event {
            Event::Registered(_) => history.registered_at = Some(at),
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
            Event::ConvertedToHelloWorkUser(_) => {}
        }
        history.state = history.state.apply(&event);
    }
    Ok(history)
}

pub fn stream_of(id: JobSeekerId) -> Result<StreamId, ServiceError> {
    StreamId::new(id.stream_name()).map_err(ServiceError::internal)
}
