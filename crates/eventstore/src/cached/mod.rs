//! A repository that keeps folded streams in memory between commands,
//! bounded by the memory they take rather than by their number.
//!
//! A long stream (a counsellor's schedule grows with every booking) replayed
//! for every request makes each request slower than the last, and commands
//! racing on it to the database lose and replay it again. Here a command
//! reads only what was appended since the kept state, commands on one
//! stream queue behind each other in this process, and what a command
//! appended is folded in once its append has committed. Other processes may
//! write the same streams: the append's version check catches a kept state
//! that is behind, which is then caught up and the command decided again.
//! The kept state is never ahead of the store (only committed appends are
//! folded in), so an append that fails in an unknown way changes nothing.
//!
//! Reads may also be served from memory with no round trip at all: a
//! repository given a [`CommitFollower`] ([`CachedRepository::followed`])
//! answers [`CachedRepository::read_followed`] from the kept state while the
//! follower vouches that nothing newer of the stream has been committed, as
//! of a point of the commit order at most the follower's lag ago.
//!
//! Eviction is least-recently-used by weight: each kept stream weighs the
//! bytes of the payloads folded into it plus a fixed cost per event, an
//! estimate of the memory its state holds that costs nothing to keep up to
//! date. A stream heavier than the whole budget is simply not kept.

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use chrono::{DateTime, Utc};
use quick_cache::{Weighter, sync::Cache};
use tokio::sync::Mutex;

mod applied;
mod paired;

pub use applied::Applied;
pub use paired::Paired;

use crate::{
    aggregate::{DomainEvent, ExecuteError},
    error::AppendError,
    follower::{CommitFollower, Epoch},
    model::{EventMetadata, ExpectedVersion, NewEvent, RecordedEvent, StreamId},
    store::EventStore,
};

/// The bytes a folded event is counted for beyond its payload: the state's
/// own bookkeeping (map entries, ids as strings, times).
const EVENT_OVERHEAD: u64 = 128;

/// How often a command is decided again while other processes keep winning
/// the stream (each round one of them commits).
const MAX_ROUNDS: u32 = 200;

/// A state folded from one stream: an aggregate, or an aggregate with what
/// the envelopes add (when and by whom each fact happened).
pub trait Fold: Default + Clone + Send + Sync + 'static {
    type Event: DomainEvent;
    /// The domain's refusal.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Folds in an event that happened at `at`, caused by `actor`.
    fn fold(&mut self, event: &Self::Event, at: DateTime<Utc>, actor: &str);
}

/// One stream's state as far as this process has read or written it.
#[derive(Debug, Default)]
struct Kept<F> {
    state: F,
    /// The stream version `state` is folded up to (0: nothing yet).
    version: u64,
    /// The follower's epoch when the store was last asked (read or
    /// appended to): what `version` is known current in.
    asked_in: Option<Epoch>,
}

#[derive(Debug, Default)]
struct Entry<F> {
    /// The estimated bytes `kept` holds, kept without taking the lock.
    footprint: AtomicU64,
    kept: Mutex<Kept<F>>,
}

/// An entry as the cache holds it: with the weight it had when it was
/// (re)inserted. The cache needs a value's weight to stay what it was on
/// insertion, so a grown entry is inserted again with its new weight.
#[derive(Debug)]
struct Weighed<F> {
    entry: Arc<Entry<F>>,
    weight: u64,
}

impl<F> Clone for Weighed<F> {
    fn clone(&self) -> Self {
        Self {
            entry: Arc::clone(&self.entry),
            weight: self.weight,
        }
    }
}

impl<F> Entry<F> {
    /// Counts `events` folded in, carrying `payload_bytes` between them.
    fn grew(&self, events: usize, payload_bytes: usize) {
        let bytes = u64::try_from(payload_bytes).unwrap_or(u64::MAX);
        let overhead = EVENT_OVERHEAD.saturating_mul(events as u64);
        self.footprint
            .fetch_add(bytes.saturating_add(overhead), Ordering::Relaxed);
    }
}

#[derive(Debug, Clone, Copy)]
struct Footprint;

impl<F> Weighter<String, Weighed<F>> for Footprint {
    fn weight(&self, stream: &String, weighed: &Weighed<F>) -> u64 {
        weighed.weight.saturating_add(stream.len() as u64).max(1)
    }
}

/// Streams of one folded type kept in memory, within `budget` bytes.
pub struct CachedRepository<F> {
    store: EventStore,
    kept: Arc<Cache<String, Weighed<F>, Footprint>>,
    follower: Option<CommitFollower>,
}

impl<F> Clone for CachedRepository<F> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            kept: Arc::clone(&self.kept),
            follower: self.follower.clone(),
        }
    }
}

impl<F> std::fmt::Debug for CachedRepository<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedRepository")
            .field("state", &std::any::type_name::<F>())
            .field("kept", &self.kept.len())
            .field("bytes", &self.kept.weight())
            .field("followed", &self.follower.is_some())
            .finish()
    }
}

impl<F: Fold> CachedRepository<F> {
    /// Keeps streams up to about `budget` bytes of folded events.
    pub fn new(store: EventStore, budget: u64) -> Self {
        // The item estimate only sizes the cache's tables: a kept stream is
        // rarely under a few kilobytes.
        let items = usize::try_from(budget / 4_096)
            .unwrap_or(usize::MAX)
            .max(16);
        Self {
            store,
            kept: Arc::new(Cache::with_weighter(items, budget.max(1), Footprint)),
            follower: None,
        }
    }

    /// Lets [`Self::read_followed`] answer from memory while `follower`
    /// (following this repository's store) vouches for the kept state.
    #[must_use]
    pub fn followed(mut self, follower: CommitFollower) -> Self {
        self.follower = Some(follower);
        self
    }

    /// How many streams are kept and the bytes they are estimated to take.
    pub fn usage(&self) -> (usize, u64) {
        (self.kept.len(), self.kept.weight())
    }

    fn entry(&self, stream: &StreamId) -> Arc<Entry<F>> {
        self.kept
            .get_or_insert_with(stream.as_str(), || {
                Ok::<_, Infallible>(Weighed {
                    entry: Arc::new(Entry::default()),
                    weight: 0,
                })
            })
            .unwrap_or_else(|never| match never {})
            .entry
    }

    /// Inserts `entry` again with the weight it grew to. Should it have
    /// been evicted and replaced meanwhile, this puts it back over the
    /// newcomer: harmless, the store's version checks decide, the lock only
    /// queues commands.
    fn reweigh(&self, stream: &StreamId, entry: &Arc<Entry<F>>) {
        let weighed = Weighed {
            entry: Arc::clone(entry),
            weight: entry.footprint.load(Ordering::Relaxed),
        };
        self.kept.insert(stream.as_str().to_owned(), weighed);
    }

    /// The stream as it is now in the store.
    pub async fn read(&self, stream: &StreamId) -> Result<F, ExecuteError<F::Error>> {
        self.known(stream, |_| false).await
    }

    /// The stream as of a point of the store's commit order at most the
    /// follower's lag ago: the kept state, with no round trip, when the
    /// follower has seen nothing of the stream newer than it (this
    /// process' own appends are in it at once); otherwise as [`Self::read`].
    pub async fn read_followed(&self, stream: &StreamId) -> Result<F, ExecuteError<F::Error>> {
        let entry = self.entry(stream);
        let mut kept = entry.kept.lock().await;
        if !self.is_current(stream, &kept) {
            self.catch_up(stream, &entry, &mut kept).await?;
        }
        Ok(kept.state.clone())
    }

    fn is_current(&self, stream: &StreamId, kept: &Kept<F>) -> bool {
        match (&self.follower, kept.asked_in) {
            (Some(follower), Some(epoch)) => {
                follower.is_current(stream.as_str(), kept.version, epoch)
            }
            _ => false,
        }
    }

    fn epoch(&self) -> Option<Epoch> {
        self.follower.as_ref().map(CommitFollower::epoch)
    }

    /// The kept state if `enough` holds for it (it knows facts that never
    /// change once recorded), else the stream as it is now.
    pub async fn known(
        &self,
        stream: &StreamId,
        enough: impl Fn(&F) -> bool,
    ) -> Result<F, ExecuteError<F::Error>> {
        let entry = self.entry(stream);
        let mut kept = entry.kept.lock().await;
        if !enough(&kept.state) {
            self.catch_up(stream, &entry, &mut kept).await?;
        }
        Ok(kept.state.clone())
    }

    /// Decides on the stream's state with `decide`, turns the events into
    /// what is stored with `prepare` (e.g. sealing what must not be stored
    /// in clear), and appends them, all or none; returns the stored events
    /// and the state afterwards. The decision is made on the kept state
    /// first: if that is behind, the append is refused by its version
    /// check, and a refusal or a no-op is confirmed on the caught-up state
    /// before it is returned.
    pub async fn execute<E, Prepared>(
        &self,
        stream: &StreamId,
        metadata: &EventMetadata,
        decide: impl Fn(&F) -> Result<Vec<F::Event>, F::Error>,
        prepare: impl Fn(Vec<F::Event>) -> Prepared,
    ) -> Result<(Vec<F::Event>, F), E>
    where
        E: From<ExecuteError<F::Error>>,
        Prepared: Future<Output = Result<Vec<F::Event>, E>>,
    {
        let entry = self.entry(stream);
        let mut kept = entry.kept.lock().await;
        let mut current = false;
        for _ in 0..MAX_ROUNDS {
            let events = match decide(&kept.state) {
                Ok(events) if !events.is_empty() => prepare(events).await?,
                decided if current => {
                    let events = decided.map_err(ExecuteError::Domain)?;
                    return Ok((events, kept.state.clone()));
                }
                _ => {
                    self.catch_up(stream, &entry, &mut kept).await?;
                    current = true;
                    continue;
                }
            };
            let at = Utc::now();
            let appending: Vec<NewEvent> = events
                .iter()
                .map(|event| NewEvent::of(event, at, metadata))
                .collect();
            let bytes = appending.iter().map(|e| e.payload.len()).sum();
            let expected = ExpectedVersion::Exact(kept.version);
            let asked_in = self.epoch();
            match self.store.append(stream, expected, appending).await {
                Ok(outcome) => {
                    let actor = &metadata.actor.subject;
                    self.committed(stream, &entry, &mut kept, &events, at, actor, bytes);
                    kept.version = outcome.stream_version;
                    kept.asked_in = asked_in;
                    return Ok((events, kept.state.clone()));
                }
                Err(AppendError::WrongExpectedVersion { .. }) => {
                    self.catch_up(stream, &entry, &mut kept).await?;
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

    /// Folds in `events`, appended at `at` by `actor` with `bytes` of
    /// payload, and weighs the entry again (the caller sets the version).
    #[allow(clippy::too_many_arguments)]
    fn committed(
        &self,
        stream: &StreamId,
        entry: &Arc<Entry<F>>,
        kept: &mut Kept<F>,
        events: &[F::Event],
        at: DateTime<Utc>,
        actor: &str,
        bytes: usize,
    ) {
        for event in events {
            kept.state.fold(event, at, actor);
        }
        entry.grew(events.len(), bytes);
        self.reweigh(stream, entry);
    }

    /// Folds in what was appended after the kept version.
    async fn catch_up(
        &self,
        stream: &StreamId,
        entry: &Arc<Entry<F>>,
        kept: &mut Kept<F>,
    ) -> Result<(), ExecuteError<F::Error>> {
        let asked_in = self.epoch();
        let recorded = self.store.read_stream(stream, kept.version).await?;
        kept.asked_in = asked_in;
        if recorded.is_empty() {
            return Ok(());
        }
        for event in &recorded {
            kept.state.fold(
                &decoded::<F>(event)?,
                event.occurred_at,
                &event.metadata.actor.subject,
            );
            kept.version = event.stream_version;
            entry.grew(1, event.payload.len());
        }
        self.reweigh(stream, entry);
        Ok(())
    }
}

fn decoded<F: Fold>(recorded: &RecordedEvent) -> Result<F::Event, ExecuteError<F::Error>> {
    F::Event::decode(&recorded.event_type, &recorded.payload).map_err(|reason| {
        ExecuteError::Decode {
            event_id: recorded.event_id,
            reason,
        }
    })
}
