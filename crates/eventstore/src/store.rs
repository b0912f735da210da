//! The event store: appends (through the group-commit writer) and reads.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    sync::Arc,
    time::Instant,
};

use sqlx::{
    PgPool, Row,
    postgres::{PgPoolOptions, PgRow},
};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::Instrument;

use crate::{
    commit_feed::CommitFeed,
    error::{AppendError, InvalidInput, StoreError},
    inline::InlineProjection,
    metrics as m,
    model::{
        Actor, AppendOutcome, EventMetadata, ExpectedVersion, GlobalPosition, NewEvent,
        RecordedEvent, StreamId,
    },
    upcast::Upcasters,
    writer::{AppendJob, AppendPart, Writer, run_writer},
};

/// How the store writes.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The owning service (`registration`, …); a metrics label.
    pub service: String,
    /// Parallel writer tasks. Streams are assigned to writers by hash, so one
    /// stream's appends are always serialized by the same writer while
    /// different writers' commits overlap (one commits while the next batch
    /// is being filled).
    pub writers: usize,
    /// Most appends coalesced into one commit.
    pub max_batch: usize,
    /// Connections the writers commit on: a pool of their own beside the
    /// store's, so an append never waits for a connection that its caller
    /// holds. A consumer applying a page in a transaction, or a request
    /// inside one, may append and wait for the writer; were the writer to
    /// draw on the same pool, enough of them at once would take every
    /// connection and wait for ever (until the acquire timeout). Fewer
    /// connections than writers only queue their commits.
    pub writer_connections: u32,
    /// The read model written in each append's transaction, if any.
    pub inline: Option<Arc<dyn InlineProjection>>,
}

impl StoreConfig {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            writers: 4,
            max_batch: 512,
            writer_connections: 4,
            inline: None,
        }
    }
}

/// A handle to one service's event store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: PgPool,
    service: String,
    writers: Vec<mpsc::Sender<AppendJob>>,
    upcasters: Upcasters,
    commits: Arc<CommitFeed>,
}

const EVENT_COLUMNS: &str = "event_id, stream_id, stream_version, event_type, schema_version, \
     payload, occurred_at, recorded_at, correlation_id, causation_id, actor_subject, actor_role, \
     traceparent, tracestate";

impl EventStore {
    /// Starts the writer tasks; must be called inside a Tokio runtime. The
    /// pool's schema must be migrated ([`crate::migrate`]).
    pub fn new(pool: PgPool, config: StoreConfig, upcasters: Upcasters) -> Self {
        let commits = Arc::new(CommitFeed::new(pool.clone()));
        let commit_pool = PgPoolOptions::new()
            .max_connections(config.writer_connections.max(1))
            .acquire_timeout(pool.options().get_acquire_timeout())
            // A ping before every batch would be a second round trip per
            // append; a connection that died idle fails its batch, which the
            // writer retries once on a new one.
            .test_before_acquire(false)
            .connect_lazy_with((*pool.connect_options()).clone());
        let writers = (0..config.writers.max(1))
            .map(|_| {
                let (sender, receiver) = mpsc::channel(config.max_batch * 4);
                tokio::spawn(run_writer(
                    Writer {
                        pool: commit_pool.clone(),
                        service: config.service.clone(),
                        max_batch: config.max_batch.max(1),
                        inline: config.inline.clone(),
                    },
                    receiver,
                    commits.clone(),
                ));
                sender
            })
            .collect();
        m::register_store(&config.service);
        Self {
            inner: Arc::new(Inner {
                pool,
                service: config.service,
                writers,
                upcasters,
                commits,
            }),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    pub fn service(&self) -> &str {
        &self.inner.service
    }

    pub fn upcasters(&self) -> &Upcasters {
        &self.inner.upcasters
    }

    /// Changes after every commit to the store's schema, by this process
    /// (at once) or another (notified): what the relay and tailing
    /// projections wait on between polls.
    pub(crate) fn commits(&self) -> watch::Receiver<u64> {
        self.inner.commits.subscribe(&self.inner.pool)
    }

    /// Appends `events` to `stream` if its version meets `expected`, together
    /// with their outbox entries, atomically. Concurrent appends share one
    /// commit (group commit) but each keeps its own version check.
    pub async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, AppendError> {
        let started = Instant::now();
        let result = self
            .send(vec![AppendPart {
                stream: stream.clone(),
                expected,
                events,
            }])
            .await
            .map(single);
        m::record_append(
            &self.inner.service,
            result.as_ref().map(|o| o.already_recorded),
            started.elapsed(),
        );
        result
    }

    /// Appends to several streams at once, all or nothing: each part's
    /// version is checked, and if any check fails nothing is written. For a
    /// decision that two aggregates must agree on (a seat on a counsellor's
    /// schedule and the booking that holds it). Returns one outcome per
    /// part, in order; the streams must be distinct.
    pub async fn append_atomically(
        &self,
        appends: Vec<(StreamId, ExpectedVersion, Vec<NewEvent>)>,
    ) -> Result<Vec<AppendOutcome>, AppendError> {
        let mut streams = std::collections::HashSet::with_capacity(appends.len());
        if let Some((twice, _, _)) = appends.iter().find(|(s, _, _)| !streams.insert(s.clone())) {
            return Err(InvalidInput::StreamTwice(twice.clone()).into());
        }
        let started = Instant::now();
        let parts = appends
            .into_iter()
            .map(|(stream, expected, events)| AppendPart {
                stream,
                expected,
                events,
            })
            .collect();
        let result = self.send(parts).await;
        let replayed = result
            .as_ref()
            .map(|outcomes| outcomes.iter().all(|o| o.already_recorded));
        m::record_append(&self.inner.service, replayed, started.elapsed());
        result
    }

    /// Hands one job to the writer of its first stream and waits for it.
    async fn send(&self, parts: Vec<AppendPart>) -> Result<Vec<AppendOutcome>, AppendError> {
        let Some(first) = parts.first() else {
            return Err(InvalidInput::NoEvents.into());
        };
        for part in &parts {
            validate(&part.events)?;
        }
        // No stream id here: it contains a person's id (e.g. registration-<id>),
        // which must not reach logs or traces (Art. 8).
        let events: usize = parts.iter().map(|part| part.events.len()).sum();
        let span = tracing::debug_span!("eventstore.append", streams = parts.len(), events);
        let writer = &self.inner.writers[writer_for(&first.stream, self.inner.writers.len())];
        let (reply, outcome) = oneshot::channel();
        async {
            writer
                .send(AppendJob { parts, reply })
                .await
                .map_err(|_| StoreError::WriterStopped)?;
            outcome.await.map_err(|_| StoreError::WriterStopped)?
        }
        .instrument(span)
        .await
    }

    /// Appends to several streams through one writer, in the order given:
    /// each append is its own (version-checked, all-or-nothing) append, but
    /// they share commits and are committed in this order, so the store's
    /// global order keeps it. For a consumer recording a peer's events one
    /// stream each, which would otherwise wait for a commit per event.
    pub async fn append_in_order(
        &self,
        appends: Vec<(StreamId, ExpectedVersion, Vec<NewEvent>)>,
    ) -> Vec<Result<AppendOutcome, AppendError>> {
        let Some((first, _, _)) = appends.first() else {
            return Vec::new();
        };
        let writer = &self.inner.writers[writer_for(first, self.inner.writers.len())];
        let mut outcomes = Vec::with_capacity(appends.len());
        for (stream, expected, events) in appends {
            let started = Instant::now();
            let (reply, outcome) = oneshot::channel();
            let sent = match validate(&events) {
                Err(error) => Err(AppendError::from(error)),
                Ok(()) => writer
                    .send(AppendJob {
                        parts: vec![AppendPart {
                            stream,
                            expected,
                            events,
                        }],
                        reply,
                    })
                    .await
                    .map(|()| (outcome, started))
                    .map_err(|_| AppendError::from(StoreError::WriterStopped)),
            };
            outcomes.push(sent);
        }
        let mut results = Vec::with_capacity(outcomes.len());
        for sent in outcomes {
            let result = match sent {
                Ok((outcome, started)) => {
                    let result = outcome
                        .await
                        .map_err(|_| AppendError::from(StoreError::WriterStopped))
                        .and_then(|result| result)
                        .map(single);
                    m::record_append(
                        &self.inner.service,
                        result.as_ref().map(|o| o.already_recorded),
                        started.elapsed(),
                    );
                    result
                }
                Err(error) => Err(error),
            };
            results.push(result);
        }
        results
    }

    /// The events of `stream` after version `after_version`, in order.
    pub async fn read_stream(
        &self,
        stream: &StreamId,
        after_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version"
        ))
        .bind(stream.as_str())
        .bind(to_i64(after_version))
        .fetch_all(&self.inner.pool)
        .await?;
        rows.iter().map(|row| self.decode(row)).collect()
    }

    /// Which of `event_ids` are stored already (in any stream): lets a
    /// command whose events carry ids derived from client keys drop the ones
    /// recorded before instead of failing on them.
    pub async fn stored_event_ids(
        &self,
        event_ids: &[uuid::Uuid],
    ) -> Result<std::collections::HashSet<uuid::Uuid>, StoreError> {
        let stored: Vec<uuid::Uuid> =
            sqlx::query_scalar("SELECT event_id FROM events WHERE event_id = ANY($1)")
                .bind(event_ids)
                .fetch_all(&self.inner.pool)
                .await?;
        Ok(stored.into_iter().collect())
    }

    /// Up to `limit` events after `after`, in commit order.
    ///
    /// Positions come from a sequence drawn *before* commit, so a slow
    /// transaction can commit a smaller position after a faster one committed a
    /// larger one; a reader that only asked for "position > last seen" would
    /// skip it forever. Here every row carries its writer's transaction id and
    /// only rows of transactions older than the oldest one still running
    /// (`pg_snapshot_xmin`) are returned: every such transaction has ended, so
    /// nothing can ever appear behind the returned rows.
    pub async fn read_all(
        &self,
        after: GlobalPosition,
        limit: u32,
    ) -> Result<Vec<(GlobalPosition, RecordedEvent)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT transaction_id, position, {EVENT_COLUMNS} FROM events \
             WHERE (transaction_id, position) > ($1, $2) \
               AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
             ORDER BY transaction_id, position LIMIT $3"
        ))
        .bind(after.transaction_id)
        .bind(after.position)
        .bind(i64::from(limit))
        .fetch_all(&self.inner.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((position_of(row)?, self.decode(row)?)))
            .collect()
    }

    /// Decodes and upcasts a row selected with the store's event columns.
    pub(crate) fn decode(&self, row: &PgRow) -> Result<RecordedEvent, StoreError> {
        let event = decode_row(row)?;
        Ok(self.inner.upcasters.upcast(event)?)
    }
}

pub(crate) fn event_columns() -> &'static str {
    EVENT_COLUMNS
}

pub(crate) fn position_of(row: &PgRow) -> Result<GlobalPosition, StoreError> {
    Ok(GlobalPosition {
        transaction_id: row.try_get("transaction_id")?,
        position: row.try_get("position")?,
    })
}

pub(crate) fn decode_row(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    let event_id: uuid::Uuid = row.try_get("event_id")?;
    let corrupt = |reason: String| StoreError::Corrupt { event_id, reason };
    let role_name: String = row.try_get("actor_role")?;
    let role = hellowork_proto::events::v1::Role::from_str_name(&role_name)
        .ok_or_else(|| corrupt(format!("unknown actor role {role_name:?}")))?;
    let stream_id = StreamId::new(row.try_get::<String, _>("stream_id")?)
        .map_err(|error| corrupt(error.to_string()))?;
    let stream_version: i64 = row.try_get("stream_version")?;
    let schema_version: i32 = row.try_get("schema_version")?;
    Ok(RecordedEvent {
        event_id,
        stream_id,
        stream_version: u64::try_from(stream_version)
            .map_err(|_| corrupt("negative stream version".into()))?,
        event_type: row.try_get("event_type")?,
        schema_version: u32::try_from(schema_version)
            .map_err(|_| corrupt("negative schema version".into()))?,
        payload: row.try_get("payload")?,
        occurred_at: row.try_get("occurred_at")?,
        recorded_at: row.try_get("recorded_at")?,
        metadata: EventMetadata {
            correlation_id: row.try_get("correlation_id")?,
            causation_id: row.try_get("causation_id")?,
            actor: Actor {
                subject: row.try_get("actor_subject")?,
                role,
            },
            traceparent: row.try_get("traceparent")?,
            tracestate: row.try_get("tracestate")?,
        },
    })
}

fn validate(events: &[NewEvent]) -> Result<(), InvalidInput> {
    if events.is_empty() {
        return Err(InvalidInput::NoEvents);
    }
    let mut seen = std::collections::HashSet::with_capacity(events.len());
    for event in events {
        if !seen.insert(event.event_id) {
            return Err(InvalidInput::DuplicateEventId(event.event_id));
        }
        // The type becomes the last token of a NATS subject.
        let valid_type = !event.event_type.is_empty()
            && event
                .event_type
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid_type {
            return Err(InvalidInput::EventType(event.event_type.clone()));
        }
    }
    Ok(())
}

/// The outcome of a one-part job.
fn single(outcomes: Vec<AppendOutcome>) -> AppendOutcome {
    outcomes
        .into_iter()
        .next()
        .expect("the writer answers a job with one outcome per part")
}

fn writer_for(stream: &StreamId, writers: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    stream.hash(&mut hasher);
    (hasher.finish() % writers as u64) as usize
}

/// Stream versions are u64 in the API and bigint in Postgres; a version past
/// i64::MAX cannot exist (it would take 2^63 appends).
pub(crate) fn to_i64(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}
