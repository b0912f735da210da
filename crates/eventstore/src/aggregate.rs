//! The shape every service's domain takes: a pure aggregate that decides on
//! commands and evolves by applying its own events, and the repository that
//! loads it from its stream and appends what it decided.

use std::{fmt, marker::PhantomData};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::{AppendError, StoreError},
    model::{AppendOutcome, EventMetadata, ExpectedVersion, NewEvent, StreamId},
    store::EventStore,
};

/// A domain event: knows its type name and schema version and how to
/// (de)serialize itself (protobuf in this project).
pub trait DomainEvent: Sized + Send + Sync {
    /// The event's type, e.g. `OnlineServicesApplied`; also the last token of
    /// its NATS subject.
    fn event_type(&self) -> &'static str;
    /// The payload schema version this code writes.
    fn schema_version(&self) -> u32;
    fn encode(&self) -> Vec<u8>;
    /// Reads a payload already upcast to the current schema version.
    fn decode(event_type: &str, payload: &[u8]) -> Result<Self, String>;
}

impl NewEvent {
    /// `event` to append under a fresh (time-ordered) id, as happened at
    /// `occurred_at` with `metadata`.
    pub fn of(
        event: &impl DomainEvent,
        occurred_at: DateTime<Utc>,
        metadata: &EventMetadata,
    ) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type: event.event_type().to_owned(),
            schema_version: event.schema_version(),
            payload: event.encode(),
            occurred_at,
            metadata: metadata.clone(),
        }
    }
}

/// A consistency boundary. `decide` and `apply` are pure: no I/O, no clock
/// (put the time into the command), so they are tested without a database.
pub trait Aggregate: Default + Send + Sync {
    type Command: Send + Sync;
    type Event: DomainEvent;
    type Error: std::error::Error + Send + Sync + 'static;

    /// The events that `command` causes in the current state, or why it is
    /// refused.
    fn decide(&self, command: &Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    /// The state after `event`.
    #[must_use]
    fn apply(self, event: &Self::Event) -> Self;
}

/// An aggregate as loaded from its stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded<A> {
    pub state: A,
    /// The stream's version (0 = no events yet).
    pub version: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecuteError<E: std::error::Error + 'static> {
    /// The domain refused the command.
    #[error(transparent)]
    Domain(E),
    /// Other writers kept changing the stream between load and append.
    #[error("stream {stream} kept changing concurrently; giving up after {attempts} attempts")]
    Contention { stream: StreamId, attempts: u32 },
    #[error(transparent)]
    Append(AppendError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored event {event_id} cannot be decoded: {reason}")]
    Decode { event_id: Uuid, reason: String },
}

/// Loads and saves aggregates of type `A` in one event store.
pub struct Repository<A> {
    store: EventStore,
    max_attempts: u32,
    aggregate: PhantomData<fn() -> A>,
}

impl<A> fmt::Debug for Repository<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repository")
            .field("aggregate", &std::any::type_name::<A>())
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl<A> Clone for Repository<A> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            max_attempts: self.max_attempts,
            aggregate: PhantomData,
        }
    }
}

impl<A: Aggregate> Repository<A> {
    pub fn new(store: EventStore) -> Self {
        Self {
            store,
            max_attempts: 5,
            aggregate: PhantomData,
        }
    }

    /// Folds the stream's events into the aggregate.
    pub async fn load(&self, stream: &StreamId) -> Result<Loaded<A>, ExecuteError<A::Error>> {
        let mut loaded = Loaded {
            state: A::default(),
            version: 0,
        };
        for recorded in self.store.read_stream(stream, 0).await? {
            let event =
                A::Event::decode(&recorded.event_type, &recorded.payload).map_err(|reason| {
                    ExecuteError::Decode {
                        event_id: recorded.event_id,
                        reason,
                    }
                })?;
            loaded.state = loaded.state.apply(&event);
            loaded.version = recorded.stream_version;
        }
        Ok(loaded)
    }

    /// Loads, decides and appends at the loaded version; on a concurrent
    /// change it decides again on the new state (bounded attempts). Returns
    /// the appended events (none if the command changed nothing).
    pub async fn execute(
        &self,
        stream: &StreamId,
        command: &A::Command,
        metadata: &EventMetadata,
    ) -> Result<(Vec<A::Event>, AppendOutcome), ExecuteError<A::Error>> {
        for _ in 0..self.max_attempts {
            let loaded = self.load(stream).await?;
            let events = loaded.state.decide(command).map_err(ExecuteError::Domain)?;
            if events.is_empty() {
                let unchanged = AppendOutcome {
                    stream_version: loaded.version,
                    already_recorded: true,
                };
                return Ok((events, unchanged));
            }
            let now = Utc::now();
            let new_events = events
                .iter()
                .map(|event| NewEvent::of(event, now, metadata))
                .collect();
            match self
                .store
                .append(stream, ExpectedVersion::Exact(loaded.version), new_events)
                .await
            {
                Ok(outcome) => return Ok((events, outcome)),
                Err(AppendError::WrongExpectedVersion { .. }) => continue,
                Err(error) => return Err(ExecuteError::Append(error)),
            }
        }
        Err(ExecuteError::Contention {
            stream: stream.clone(),
            attempts: self.max_attempts,
        })
    }
}
