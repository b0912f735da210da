//! The schedules and persons this process works on, kept folded in memory
//! between requests by the kernel's [`CachedRepository`] (which explains
//! why and how), within a memory budget per aggregate type.
//!
//! Art. 8: what a command decided is sealed before it is appended (a note
//! about a person with their data key, see `sealed::codec`), and the sealed
//! form is what is folded in, so no kept state holds a note in clear.

use chrono::{DateTime, Utc};
use hellowork_eventstore::{
    Aggregate, CachedRepository, EventMetadata, EventStore, Fold, Paired, StreamId,
};
use hellowork_platform::ServiceError;

use super::history::History;
use crate::{
    domain::{Decision, DomainError, Event},
    sealed::{PersonalKeys, codec},
};

impl<A> Fold for History<A>
where
    A: Aggregate<Event = Event, Error = DomainError> + Clone + 'static,
{
    type Event = Event;
    type Error = DomainError;

    fn fold(&mut self, event: &Event, at: DateTime<Utc>, actor: &str) {
        self.note(event, at, actor);
    }
}

/// The kept streams of one aggregate type.
pub struct Streams<A> {
    kept: CachedRepository<History<A>>,
    keys: PersonalKeys,
}

impl<A> Clone for Streams<A> {
    fn clone(&self) -> Self {
        Self {
            kept: self.kept.clone(),
            keys: self.keys.clone(),
        }
    }
}

impl<A> std::fmt::Debug for Streams<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streams").field("kept", &self.kept).finish()
    }
}

impl<A> Streams<A>
where
    A: Aggregate<Event = Event, Error = DomainError> + Clone + 'static,
{
    /// Keeps streams up to about `budget` bytes.
    pub fn new(store: EventStore, keys: PersonalKeys, budget: u64) -> Self {
        Self {
            kept: CachedRepository::new(store, budget),
            keys,
        }
    }

    /// The stream as it is now in the store.
    pub async fn read(&self, stream: &StreamId) -> Result<History<A>, ServiceError> {
        Ok(self.kept.read(stream).await?)
    }

    /// The kept state if `enough` holds for it (it knows facts that never
    /// change once recorded), else the stream as it is now.
    pub async fn known(
        &self,
        stream: &StreamId,
        enough: impl Fn(&History<A>) -> bool,
    ) -> Result<History<A>, ServiceError> {
        Ok(self.kept.known(stream, enough).await?)
    }

    /// Decides `command` and appends its events, sealed, all or none;
    /// returns them and the stream as it is afterwards.
    pub async fn execute(
        &self,
        stream: &StreamId,
        command: &A::Command,
        metadata: &EventMetadata,
    ) -> Result<(Vec<Event>, History<A>), ServiceError> {
        self.kept
            .execute(
                stream,
                metadata,
                |history| history.state.decide(command),
                |events| self.sealed(events),
            )
            .await
    }

    /// Decides `decide` on a stream of this type and one of `other`'s
    /// together (this one locked first) and appends what it names for
    /// each, sealed, all or none; returns both streams afterwards.
    pub async fn execute_with<B>(
        &self,
        stream: &StreamId,
        other: &Streams<B>,
        other_stream: &StreamId,
        metadata: &EventMetadata,
        decide: impl Fn(&A, &B) -> Result<Decision, DomainError>,
    ) -> Result<Paired<History<A>, History<B>>, ServiceError>
    where
        B: Aggregate<Event = Event, Error = DomainError> + Clone + 'static,
    {
        self.kept
            .execute_with(
                stream,
                &other.kept,
                other_stream,
                metadata,
                |here, there| {
                    decide(&here.state, &there.state)
                        .map(|decision| (decision.schedule, decision.booking))
                },
                |events| self.sealed(events),
            )
            .await
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
}
