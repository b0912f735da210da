//! Which streams changed: the store's commit order followed stream by
//! stream, so that a state kept in memory can be known current without a
//! round trip.
//!
//! A read that asks the database whether a kept state is still current
//! costs a round trip: on a loaded machine as much as the read it saves.
//! Here one task per follower reads the store's commit order (only each
//! event's stream and version: no payloads), woken by the store's commits
//! (at once in this process, within a few milliseconds from another), and
//! remembers the newest version it has seen of every stream. A state read
//! from the store at version `v` is current as of the follower's position
//! if the follower has seen nothing of its stream beyond `v`.
//!
//! Why that is sound: an event the store read did not see was committed
//! after that read began, so the follower reaches it only after the read
//! began too; and from the moment the follower sees it, the stream reads as
//! changed. What the reader must take *before* reading the stream is the
//! follower's [`Epoch`]: the map of seen versions is bounded, and when it
//! is full it is cleared and a new epoch begins, in which nothing read
//! under an older one counts as current.
//!
//! A follower that has not reached the head of the commit order recently
//! (the database is unreachable, or it is still starting) vouches for
//! nothing: every read then goes to the store, as without a follower.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError, Weak},
    time::{Duration, Instant},
};

use sqlx::{PgPool, Row};

use crate::{
    error::StoreError,
    model::GlobalPosition,
    store::{EventStore, position_of},
};

/// How a [`CommitFollower`] reads and how far behind it may be.
#[derive(Debug, Clone, Copy)]
pub struct FollowConfig {
    /// Events read in one round trip.
    pub page: u32,
    /// A kept state is vouched for only while the follower has reached the
    /// head of the commit order within this long. The follower polls twice
    /// as often when no commit wakes it.
    pub max_lag: Duration,
    /// Streams remembered before the memory is cleared and an epoch begins.
    pub streams: usize,
}

impl Default for FollowConfig {
    fn default() -> Self {
        Self {
            page: 2_000,
            max_lag: Duration::from_millis(500),
            streams: 200_000,
        }
    }
}

/// When a stream was read, as far as the follower is concerned: a read is
/// vouched for only within the epoch it was made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(u64);

/// Follows the store's commit order; see the module documentation.
#[derive(Debug, Clone)]
pub struct CommitFollower {
    seen: Arc<Mutex<Seen>>,
    max_lag: Duration,
}

#[derive(Debug)]
struct Seen {
    /// 0 until the follower has found where the commit order stands.
    epoch: u64,
    /// The newest version of each stream followed in this epoch.
    versions: HashMap<String, u64>,
    capacity: usize,
    /// When the last read that reached the head of the commit order began.
    at_head: Option<Instant>,
}

impl CommitFollower {
    /// Starts following `store` from the head of its commit order; the
    /// task ends when the last clone of the follower is dropped. Must be
    /// called inside a Tokio runtime.
    pub fn start(store: &EventStore, config: FollowConfig) -> Self {
        let seen = Arc::new(Mutex::new(Seen::new(config.streams)));
        tokio::spawn(follow(store.clone(), Arc::downgrade(&seen), config));
        Self {
            seen,
            max_lag: config.max_lag,
        }
    }

    /// To be taken before a stream is read from the store.
    pub fn epoch(&self) -> Epoch {
        Epoch(self.lock().epoch)
    }

    /// Whether `stream`, read at `version` in `read_in`, is current as of a
    /// position of the commit order reached within the follower's lag.
    pub fn is_current(&self, stream: &str, version: u64, read_in: Epoch) -> bool {
        self.lock()
            .vouches(stream, version, read_in, Instant::now(), self.max_lag)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Seen {
    fn new(capacity: usize) -> Self {
        Self {
            epoch: 0,
            versions: HashMap::new(),
            capacity: capacity.max(1),
            at_head: None,
        }
    }

    fn vouches(
        &self,
        stream: &str,
        version: u64,
        read_in: Epoch,
        now: Instant,
        lag: Duration,
    ) -> bool {
        self.epoch != 0
            && self.epoch == read_in.0
            && self
                .at_head
                .is_some_and(|at| now.saturating_duration_since(at) <= lag)
            && self
                .versions
                .get(stream)
                .is_none_or(|&newest| newest <= version)
    }

    /// Where the commit order stood when the follower began: an epoch in
    /// which reads can be vouched for.
    fn started(&mut self, at: Instant) {
        self.epoch += 1;
        self.at_head = Some(at);
    }

    fn saw(&mut self, stream: String, version: u64) {
        if self.versions.len() >= self.capacity && !self.versions.contains_key(&stream) {
            self.versions.clear();
            self.epoch += 1;
        }
        let newest = self.versions.entry(stream).or_default();
        *newest = (*newest).max(version);
    }
}

/// Reads the commit order until the follower is dropped, surviving
/// database outages (while they last, nothing is vouched for).
async fn follow(store: EventStore, seen: Weak<Mutex<Seen>>, config: FollowConfig) {
    let mut commits = store.commits();
    let idle = config.max_lag / 2;
    let mut after = None;
    while let Some(shared) = seen.upgrade() {
        commits.mark_unchanged();
        let began = Instant::now();
        let read = match after {
            None => head(store.pool()).await.map(|head| {
                shared
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .started(began);
                after = Some(head);
                0
            }),
            Some(position) => page(store.pool(), position, config.page)
                .await
                .map(|events| {
                    let mut seen = shared.lock().unwrap_or_else(PoisonError::into_inner);
                    let read = events.len();
                    for (position, stream, version) in events {
                        seen.saw(stream, version);
                        after = Some(position);
                    }
                    if read < config.page as usize {
                        seen.at_head = Some(began);
                    }
                    read
                }),
        };
        drop(shared);
        match read {
            Ok(read) if read >= config.page as usize => continue,
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "commit follower interrupted; retrying"),
        }
        tokio::select! {
            _ = commits.changed() => {}
            () = tokio::time::sleep(idle) => {}
        }
    }
}

/// Where the commit order stands: everything at or before it is visible.
async fn head(pool: &PgPool) -> Result<GlobalPosition, StoreError> {
    let row = sqlx::query(
        "SELECT transaction_id, position FROM events \
         WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
         ORDER BY transaction_id DESC, position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    row.map_or(Ok(GlobalPosition::START), |row| position_of(&row))
}

/// The next events' streams and versions in commit order, as
/// [`EventStore::read_all`] orders them.
async fn page(
    pool: &PgPool,
    after: GlobalPosition,
    limit: u32,
) -> Result<Vec<(GlobalPosition, String, u64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT transaction_id, position, stream_id, stream_version FROM events \
         WHERE (transaction_id, position) > ($1, $2) \
           AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
         ORDER BY transaction_id, position LIMIT $3",
    )
    .bind(after.transaction_id)
    .bind(after.position)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let version: i64 = row.try_get("stream_version")?;
            Ok((
                position_of(row)?,
                row.try_get("stream_id")?,
                u64::try_from(version).unwrap_or_default(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAG: Duration = Duration::from_millis(500);

    fn started(capacity: usize) -> (Seen, Instant) {
        let mut seen = Seen::new(capacity);
        let now = Instant::now();
        seen.started(now);
        (seen, now)
    }

    #[test]
    fn nothing_is_vouched_for_before_the_follower_has_started() {
        let seen = Seen::new(8);
        assert!(!seen.vouches("s", 0, Epoch(0), Instant::now(), LAG));
    }

    #[test]
    fn a_read_is_current_until_a_newer_version_of_its_stream_is_seen() {
        let (mut seen, now) = started(8);
        let epoch = Epoch(seen.epoch);
        assert!(seen.vouches("s", 0, epoch, now, LAG), "never seen: current");
        seen.saw("s".to_owned(), 3);
        assert!(seen.vouches("s", 3, epoch, now, LAG), "read at the newest");
        assert!(!seen.vouches("s", 2, epoch, now, LAG), "read before it");
        seen.saw("other".to_owned(), 9);
        assert!(seen.vouches("s", 3, epoch, now, LAG), "another stream");
        // An older copy of what was seen (a redelivered page) changes nothing.
        seen.saw("s".to_owned(), 1);
        assert!(seen.vouches("s", 3, epoch, now, LAG));
    }

    #[test]
    fn a_follower_behind_the_head_for_longer_than_its_lag_vouches_for_nothing() {
        let (seen, began) = started(8);
        let epoch = Epoch(seen.epoch);
        assert!(seen.vouches("s", 0, epoch, began + LAG, LAG));
        assert!(!seen.vouches("s", 0, epoch, began + LAG * 2, LAG));
    }

    #[test]
    fn a_full_memory_begins_an_epoch_in_which_older_reads_are_not_current() {
        let (mut seen, now) = started(2);
        let before = Epoch(seen.epoch);
        seen.saw("a".to_owned(), 1);
        seen.saw("b".to_owned(), 1);
        // Seen again: no room needed.
        seen.saw("a".to_owned(), 2);
        assert_eq!(Epoch(seen.epoch), before);
        seen.saw("c".to_owned(), 1);
        assert_ne!(
            Epoch(seen.epoch),
            before,
            "a third stream clears the memory"
        );
        // "a" at 2 is forgotten: a read of it made before cannot be vouched
        // for, one made in the new epoch can.
        assert!(!seen.vouches("a", 1, before, now, LAG));
        assert!(seen.vouches("a", 2, Epoch(seen.epoch), now, LAG));
        assert!(!seen.vouches("c", 0, Epoch(seen.epoch), now, LAG));
    }
}
