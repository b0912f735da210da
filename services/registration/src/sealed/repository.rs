//! Loading and saving a job seeker through the sealing codec. The kernel's
//! `Repository` encodes an event by itself, with no I/O; sealing needs the
//! person's data key from the database, so registration loads, decides and
//! appends here, in the same optimistic loop.

use chrono::Utc;
use hellowork_eventstore::{
    Aggregate, AppendError, DomainEvent, EventMetadata, EventStore, ExpectedVersion, NewEvent,
    RecordedEvent, StreamId,
};
use hellowork_platform::ServiceError;
use uuid::Uuid;

use super::{codec, keys::PersonalKeys};
use crate::domain::{Command, Event, JobSeeker, JobSeekerId, stream_name};

/// Attempts before a stream that keeps changing gives ABORTED.
const MAX_ATTEMPTS: u32 = 5;

/// A person's stream, opened with their data key.
#[derive(Debug, Default)]
pub struct Opened {
    pub events: Vec<(RecordedEvent, Event)>,
    /// The stream's version (0 = no events yet).
    pub version: u64,
}

impl Opened {
    /// The aggregate folded from the events.
    pub fn state(&self) -> JobSeeker {
        self.events
            .iter()
            .fold(JobSeeker::default(), |state, (_, event)| state.apply(event))
    }
}

/// Job seekers' streams, sealed.
#[derive(Debug, Clone)]
pub struct SealedRepository {
    store: EventStore,
    keys: PersonalKeys,
}

impl SealedRepository {
    pub fn new(store: EventStore, keys: PersonalKeys) -> Self {
        Self { store, keys }
    }

    pub fn keys(&self) -> &PersonalKeys {
        &self.keys
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Reads and opens the person's stream; their registration's personal
    /// data is erased once their key is gone.
    pub async fn open(&self, id: JobSeekerId) -> Result<Opened, ServiceError> {
        let stream = stream_of(id)?;
        let recorded = self.store.read_stream(&stream, 0).await?;
        let key = self.keys.find(id).await?;
        let mut opened = Opened::default();
        for recorded in recorded {
            let event = codec::decode(&recorded.event_type, &recorded.payload, key.as_ref())
                .map_err(|reason| {
                    ServiceError::Internal(
                        format!(
                            "stored event {} cannot be decoded: {reason}",
                            recorded.event_id
                        )
                        .into(),
                    )
                })?;
            opened.version = recorded.stream_version;
            opened.events.push((recorded, event));
        }
        Ok(opened)
    }

    /// Decides and appends one command: all of its events or none. A
    /// registration's data key is made (idempotently) before its event is
    /// appended: the kernel's group-commit writer owns the append's
    /// transaction, so the two cannot share one; a key left by an append
    /// that then failed seals nothing and is reused by the retry.
    pub async fn execute(
        &self,
        id: JobSeekerId,
        command: &Command,
        metadata: &EventMetadata,
    ) -> Result<Vec<Event>, ServiceError> {
        let stream = stream_of(id)?;
        for _ in 0..MAX_ATTEMPTS {
            let opened = self.open(id).await?;
            let events = opened.state().decide(command)?;
            if events.is_empty() {
                return Ok(events);
            }
            let key = if events.iter().any(|e| matches!(e, Event::Registered(_))) {
                Some(self.keys.find_or_create(id).await?)
            } else {
                self.keys.find(id).await?
            };
            let now = Utc::now();
            let new_events = events
                .iter()
                .map(|event| {
                    Ok(NewEvent {
                        event_id: Uuid::now_v7(),
                        event_type: event.event_type().to_owned(),
                        schema_version: event.schema_version(),
                        payload: codec::encode(event, key.as_ref())
                            .map_err(ServiceError::internal)?,
                        occurred_at: now,
                        metadata: metadata.clone(),
                    })
                })
                .collect::<Result<Vec<_>, ServiceError>>()?;
            match self
                .store
                .append(&stream, ExpectedVersion::Exact(opened.version), new_events)
                .await
            {
                Ok(_) => return Ok(events),
                Err(AppendError::WrongExpectedVersion { .. }) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(ServiceError::Conflict)
    }
}

pub fn stream_of(id: JobSeekerId) -> Result<StreamId, ServiceError> {
    StreamId::new(stream_name(id)).map_err(ServiceError::internal)
}
