//! One decision over two kept streams of (possibly) different folded
//! types, appended to both at once: a seat on a counsellor's schedule and
//! the booking that holds it agree or neither changes.

use chrono::Utc;

use super::{CachedRepository, Fold, MAX_ROUNDS};
use crate::{
    aggregate::ExecuteError,
    error::{AppendError, InvalidInput},
    model::{EventMetadata, ExpectedVersion, NewEvent, StreamId},
};

/// What a decision on two streams appended to each (nothing: it was
/// already made) and both states afterwards.
#[derive(Debug, Clone)]
pub struct Paired<F: Fold, G: Fold> {
    pub first_events: Vec<F::Event>,
    pub first: F,
    pub second_events: Vec<G::Event>,
    pub second: G,
}

impl<F: Fold> CachedRepository<F> {
    /// Decides on `stream` of this repository and `other_stream` of `other`
    /// together, and appends what `decide` names for each in one atomic
    /// append, each stream's version checked. A stream the decision appends
    /// nothing to cannot be checked, so such a decision is made on both
    /// streams caught up first (a decision that relies on a stream's state
    /// should append to it: the window between catching up and appending
    /// stays open). Otherwise as [`CachedRepository::execute`]:
    /// decided on the kept states first, caught up and decided again when
    /// either was behind, a refusal confirmed on current states.
    ///
    /// Locks this repository's stream, then the other's: callers must hold
    /// them in one order (e.g. schedule before booking) and never lock the
    /// first while holding the second.
    pub async fn execute_with<G, E, Prepared>(
        &self,
        stream: &StreamId,
        other: &CachedRepository<G>,
        other_stream: &StreamId,
        metadata: &EventMetadata,
        decide: impl Fn(&F, &G) -> Result<(Vec<F::Event>, Vec<F::Event>), F::Error>,
        prepare: impl Fn(Vec<F::Event>) -> Prepared,
    ) -> Result<Paired<F, G>, E>
    where
        G: Fold<Event = F::Event, Error = F::Error>,
        E: From<ExecuteError<F::Error>>,
        Prepared: Future<Output = Result<Vec<F::Event>, E>>,
    {
        if stream == other_stream {
            let twice = InvalidInput::StreamTwice(stream.clone());
            return Err(ExecuteError::Append(twice.into()).into());
        }
        let entry = self.entry(stream);
        let mut kept = entry.kept.lock().await;
        let other_entry = other.entry(other_stream);
        let mut other_kept = other_entry.kept.lock().await;
        let mut current = false;
        for _ in 0..MAX_ROUNDS {
            let (here, there) = match decide(&kept.state, &other_kept.state) {
                // One stream only: it is the other's state the append will
                // not check, so that is decided on current states, never on
                // a kept one that may be behind.
                Ok((here, there)) if (here.is_empty() != there.is_empty()) && !current => {
                    drop((here, there));
                    self.catch_up(stream, &entry, &mut kept).await?;
                    other
                        .catch_up(other_stream, &other_entry, &mut other_kept)
                        .await?;
                    current = true;
                    continue;
                }
                Ok((here, there)) if !(here.is_empty() && there.is_empty()) => {
                    (prepare(here).await?, prepare(there).await?)
                }
                decided if current => {
                    let (here, there) = decided.map_err(ExecuteError::Domain)?;
                    return Ok(Paired {
                        first_events: here,
                        first: kept.state.clone(),
                        second_events: there,
                        second: other_kept.state.clone(),
                    });
                }
                _ => {
                    self.catch_up(stream, &entry, &mut kept).await?;
                    other
                        .catch_up(other_stream, &other_entry, &mut other_kept)
                        .await?;
                    current = true;
                    continue;
                }
            };
            let at = Utc::now();
            let new = |events: &[F::Event]| -> Vec<NewEvent> {
                events
                    .iter()
                    .map(|event| NewEvent::of(event, at, metadata))
                    .collect()
            };
            let mut parts = Vec::with_capacity(2);
            if !here.is_empty() {
                parts.push((
                    stream.clone(),
                    ExpectedVersion::Exact(kept.version),
                    new(&here),
                ));
            }
            if !there.is_empty() {
                let expected = ExpectedVersion::Exact(other_kept.version);
                parts.push((other_stream.clone(), expected, new(&there)));
            }
            let sizes: Vec<usize> = parts
                .iter()
                .map(|(_, _, events)| events.iter().map(|e| e.payload.len()).sum())
                .collect();
            match self.store.append_atomically(parts).await {
                Ok(outcomes) => {
                    let actor = &metadata.actor.subject;
                    let mut outcomes = outcomes.iter().zip(sizes);
                    if !here.is_empty()
                        && let Some((outcome, bytes)) = outcomes.next()
                    {
                        self.committed(stream, &entry, &mut kept, &here, at, actor, bytes);
                        kept.version = outcome.stream_version;
                    }
                    if !there.is_empty()
                        && let Some((outcome, bytes)) = outcomes.next()
                    {
                        let (entry, kept) = (&other_entry, &mut other_kept);
                        other.committed(other_stream, entry, kept, &there, at, actor, bytes);
                        kept.version = outcome.stream_version;
                    }
                    return Ok(Paired {
                        first_events: here,
                        first: kept.state.clone(),
                        second_events: there,
                        second: other_kept.state.clone(),
                    });
                }
                Err(AppendError::WrongExpectedVersion { .. }) => {
                    self.catch_up(stream, &entry, &mut kept).await?;
                    other
                        .catch_up(other_stream, &other_entry, &mut other_kept)
                        .await?;
                    current = true;
                }
                Err(error) => return Err(ExecuteError::Append(error).into()),
            }
        }
        Err(ExecuteError::Contention {
            stream: stream.clone(),
            attempts: MAX_ROUNDS,
        }
        .into())
    }
}
