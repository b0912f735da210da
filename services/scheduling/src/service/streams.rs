//! The schedules and persons this process works on, kept folded in memory
//! between requests.
//!
//! A counsellor's schedule is one stream that grows with every booking,
//! check-in and leave; replaying it for every request made each request
//! slower than the last, and concurrent commands on it raced to the
//! database, lost, and replayed it again. Here a request reads only what
//! was appended since the kept state, commands on one stream queue behind
//! each other in this process, and what a command appended is folded into
//! the kept state once its append has committed. Other processes may
//! write the same streams: the append's version check catches a kept state
//! that is behind, which is then caught up and the command decided again.
//! The kept state is never ahead of the store (only committed appends are
//! folded in), so an append that fails in an unknown way changes nothing.
//!
//! Art. 8: what a command decided is sealed before it is appended (a note
//! about a person with their data key, see `sealed::codec`), and the sealed
//! form is what is folded in, so no kept state holds a note in clear.

use std::{convert::Infallible, sync::Arc};

use chrono::Utc;
use hellowork_eventstore::{
    Aggregate, AppendError, EventMetadata, EventStore, ExpectedVersion, NewEvent, StreamId,
};
use hellowork_platform::ServiceError;
use quick_cache::sync::Cache;
use tokio::sync::Mutex;

use super::history::History;
use crate::{
    domain::{DomainError, Event},
    sealed::{PersonalKeys, codec},
};

/// How often a command is decided again while other processes keep winning
/// the stream (each round one of them commits).
const MAX_ROUNDS: u32 = 200;

/// A stream's state as far as this process has read or written it.
#[derive(Debug, Default)]
struct Kept<A> {
    history: History<A>,
    /// The stream version `history` is folded up to (0: nothing yet).
    version: u64,
}

/// The kept streams of one aggregate type, the least recently used dropped
/// beyond a bound (a dropped stream is simply replayed when needed again).
pub struct Streams<A> {
    store: EventStore,
    keys: PersonalKeys,
    kept: Arc<Cache<String, Arc<Mutex<Kept<A>>>>>,
}

impl<A> Clone for Streams<A> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            keys: self.keys.clone(),
            kept: Arc::clone(&self.kept),
        }
    }
}

impl<A> std::fmt::Debug for Streams<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streams")
            .field("aggregate", &std::any::type_name::<A>())
            .field("kept", &self.kept.len())
            .finish()
    }
}

impl<A> Streams<A>
where
    A: Aggregate<Event = Event, Error = DomainError> + Clone,
{
    /// Keeps at most `capacity` streams.
    pub fn new(store: EventStore, keys: PersonalKeys, capacity: usize) -> Self {
        Self {
            store,
            keys,
            kept: Arc::new(Cache::new(capacity)),
        }
    }

    fn entry(&self, stream: &StreamId) -> Arc<Mutex<Kept<A>>> {
        self.kept
            .get_or_insert_with(stream.as_str(), || {
                Ok::<_, Infallible>(Arc::new(Mutex::new(Kept::default())))
            })
            .unwrap_or_else(|never| match never {})
    }

    /// The stream as it is now in the store.
    pub async fn read(&self, stream: &StreamId) -> Result<History<A>, ServiceError> {
        let entry = self.entry(stream);
        let mut kept = entry.lock().await;
        self.catch_up(stream, &mut kept).await?;
        Ok(kept.history.clone())
    }

    /// The kept state if `enough` holds for it (it knows facts that never
    /// change once recorded), else the stream as it is now.
    pub async fn known(
        &self,
        stream: &StreamId,
        enough: impl Fn(&History<A>) -> bool,
    ) -> Result<History<A>, ServiceError> {
        let entry = self.entry(stream);
        let mut kept = entry.lock().await;
        if !enough(&kept.history) {
            self.catch_up(stream, &mut kept).await?;
        }
        Ok(kept.history.clone())
    }

    /// Decides `command` and appends its events, all or none; returns them
    /// and the stream as it is afterwards. The decision is made on the kept
    /// state first: if that is behind, the append is refused by its version
    /// check, and a refusal or a no-op is confirmed on the caught-up state
    /// before it is returned.
    pub async fn execute(
        &self,
        stream: &StreamId,
        command: &A::Command,
        metadata: &EventMetadata,
    ) -> Result<(Vec<Event>, History<A>), ServiceError> {
        let entry = self.entry(stream);
        let mut kept = entry.lock().await;
        let mut current = false;
        for _ in 0..MAX_ROUNDS {
            let decided = kept.history.state.decide(command);
            let events = match decided {
                Ok(events) if !events.is_empty() => self.sealed(events).await?,
                decided if current => {
                    return Ok((decided?, kept.history.clone()));
                }
                _ => {
                    self.catch_up(stream, &mut kept).await?;
                    current = true;
                    continue;
                }
            };
            let at = Utc::now();
            let appending = events
                .iter()
                .map(|event| NewEvent::of(event, at, metadata))
                .collect();
            let expected = ExpectedVersion::Exact(kept.version);
            match self.store.append(stream, expected, appending).await {
                Ok(outcome) => {
                    for event in &events {
                        kept.history.note(event, at, &metadata.actor.subject);
                    }
                    kept.version = outcome.stream_version;
                    return Ok((events, kept.history.clone()));
                }
                Err(AppendError::WrongExpectedVersion { .. }) => {
                    self.catch_up(stream, &mut kept).await?;
                    current = true;
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(ServiceError::Conflict)
    }

    /// Art. 8: `events` as they are stored, each note about a person sealed
    /// with the person's data key (made on first use).
    async fn sealed(&self, events: Vec<Event>) -> Result<Vec<Event>, ServiceError> {
        let mut stored = Vec::with_capacity(events.len());
        for event in events {
            let key = match codec::note_owner(&event) {
                Some(owner) => Some(self.keys.find_or_create(owner).await?),
                None => None,
            };
            stored.push(codec::sealed(event, key.as_ref()).map_err(ServiceError::internal)?);
        }
        Ok(stored)
    }

    /// Folds in what was appended after the kept version.
    async fn catch_up(&self, stream: &StreamId, kept: &mut Kept<A>) -> Result<(), ServiceError> {
        for recorded in self.store.read_stream(stream, kept.version).await? {
            kept.history.record(&recorded)?;
            kept.version = recorded.stream_version;
        }
        Ok(())
    }
}
