//! Any [`Aggregate`] kept by a [`CachedRepository`]: its state folded by
//! `apply`, its commands decided by `decide`.

use chrono::{DateTime, Utc};

use super::{CachedRepository, Fold};
use crate::{
    aggregate::{Aggregate, ExecuteError},
    model::{EventMetadata, StreamId},
};

/// An aggregate's state as a [`Fold`] (when and by whom each event
/// happened is not part of an aggregate's state).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied<A>(pub A);

impl<A: Aggregate + Clone + 'static> Fold for Applied<A> {
    type Event = A::Event;
    type Error = A::Error;

    fn fold(&mut self, event: &A::Event, _: DateTime<Utc>, _: &str) {
        self.0 = std::mem::take(&mut self.0).apply(event);
    }
}

impl<A: Aggregate + Clone + 'static> CachedRepository<Applied<A>> {
    /// Decides `command` on the stream's state and appends what it decided,
    /// all or none, as [`CachedRepository::execute`]; returns the events and
    /// the state afterwards.
    pub async fn decide(
        &self,
        stream: &StreamId,
        command: &A::Command,
        metadata: &EventMetadata,
    ) -> Result<(Vec<A::Event>, A), ExecuteError<A::Error>> {
        let (events, state) = self
            .execute(
                stream,
                metadata,
                |state: &Applied<A>| state.0.decide(command),
                |events| async { Ok::<_, ExecuteError<A::Error>>(events) },
            )
            .await?;
        Ok((events, state.0))
    }
}
