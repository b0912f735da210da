//! Projections fed by durable JetStream consumers, and their rebuild.
//!
//! For the messages at hand (one, or as many as JetStream has delivered
//! while the last were applied, up to [`MAX_BATCH`]), one Postgres
//! transaction records the event ids in the consumer's inbox, applies the
//! projection to those that were new and moves the checkpoint; the messages
//! are acked only after that commit. A redelivery, even long after
//! JetStream's duplicate window, finds the id in the inbox and changes
//! nothing. `rebuild` replays the event store into the same tables.

mod batch;

use std::{collections::HashSet, future::Future, sync::Arc, time::Duration};

use async_nats::jetstream::{
    self, AckKind,
    consumer::{AckPolicy, DeliverPolicy, pull},
};
use chrono::DateTime;
use futures::StreamExt;
use sqlx::{Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::Span;
use uuid::Uuid;

use crate::{
    envelope::{self, EnvelopeError},
    error::StoreError,
    metrics as m,
    model::{GlobalPosition, RecordedEvent},
    signing::TrustedProducers,
    store::{EventStore, event_columns, position_of},
    upcast::Upcasters,
};

/// A read model kept in the service's Postgres schema.
///
/// `apply` must be deterministic in the event alone (no clocks, no random
/// ids, no reads of other mutable state) so that a rebuild reproduces the
/// live rows exactly.
pub trait Projection: Send + Sync + 'static {
    /// Stable name: the durable consumer, inbox and checkpoint are keyed by it.
    fn name(&self) -> &str;

    /// Whether events of `event_type` can change this projection. A
    /// consumer acks the others without a transaction or an inbox row (its
    /// checkpoint moves with the next event it handles); by default every
    /// event is handled.
    fn handles(&self, event_type: &str) -> bool {
        let _ = event_type;
        true
    }

    /// Applies one event inside the consumer's transaction. Events the
    /// projection does not care about are ignored.
    fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Applies a page of events in order inside one transaction; must equal
    /// applying them one by one. Tailing projections and rebuilds call this,
    /// so a projection can write a page in one statement.
    fn apply_all(
        &self,
        tx: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send {
        async move {
            for event in events {
                self.apply(tx, event).await?;
            }
            Ok(())
        }
    }

    /// Empties the projection's tables before a rebuild.
    fn reset(
        &self,
        tx: &mut PgConnection,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("projection database error")]
    Database(#[from] sqlx::Error),
    /// Something the projection depends on (a database, a concurrent writer)
    /// was in the way; the event is redelivered and tried again.
    #[error("event not applied for now; will retry")]
    Transient(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The event can never be applied (a bug or a payload it cannot read);
    /// retrying will not help.
    #[error("event {event_id} ({event_type}) cannot be applied: {reason}")]
    Rejected {
        event_id: Uuid,
        event_type: String,
        reason: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("consumer database error")]
    Database(#[from] sqlx::Error),
    #[error("jetstream consumer error: {0}")]
    JetStream(String),
}

/// Where a projection reads from.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// The JetStream stream, e.g. `HELLOWORK_REGISTRATION`.
    pub stream_name: String,
    /// Subjects to receive, e.g. `hellowork.registration.v1.>`.
    pub filter_subject: String,
    /// Redelivery if a message is not acked in time.
    pub ack_wait: Duration,
    /// Delay before a message that failed (database down) is retried.
    pub retry_delay: Duration,
    /// The keys of the stream's producer: an envelope none of them signed is
    /// refused ([`crate::signing`]).
    pub producers: TrustedProducers,
}

impl ConsumerConfig {
    pub fn new(
        stream_name: impl Into<String>,
        filter_subject: impl Into<String>,
        producers: TrustedProducers,
    ) -> Self {
        Self {
            stream_name: stream_name.into(),
            filter_subject: filter_subject.into(),
            producers,
            ack_wait: Duration::from_secs(30),
            retry_delay: Duration::from_millis(500),
        }
    }
}

/// Runs one projection from its durable consumer.
#[derive(Debug)]
pub struct ProjectionRunner<P> {
    projection: Arc<P>,
    pool: PgPool,
    jetstream: jetstream::Context,
    config: ConsumerConfig,
    upcasters: Upcasters,
}

impl<P: Projection> ProjectionRunner<P> {
    pub fn new(
        projection: Arc<P>,
        pool: PgPool,
        jetstream: jetstream::Context,
        config: ConsumerConfig,
        upcasters: Upcasters,
    ) -> Self {
        Self {
            projection,
            pool,
            jetstream,
            config,
            upcasters,
        }
    }

    /// Consumes until `shutdown`, re-attaching after NATS outages.
    pub async fn run(self, shutdown: CancellationToken) {
        m::register_projection(self.projection.name(), true);
        while !shutdown.is_cancelled() {
            if let Err(error) = self.consume(&shutdown).await {
                tracing::warn!(
                    consumer = self.projection.name(),
                    error = &error as &dyn std::error::Error,
                    "consumer interrupted; re-attaching"
                );
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(self.config.retry_delay) => {}
                }
            }
        }
    }

    async fn consume(&self, shutdown: &CancellationToken) -> Result<(), ConsumerError> {
        let consumer = self.attach().await?;
        // Under load, the messages delivered while a transaction was
        // committing are applied together in the next one.
        let mut batches = consumer
            .messages()
            .await
            .map_err(|e| ConsumerError::JetStream(e.to_string()))?
            .ready_chunks(batch::MAX_BATCH);
        loop {
            let batch = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                next = batches.next() => match next {
                    Some(batch) => batch,
                    None => return Err(ConsumerError::JetStream("message stream ended".into())),
                },
            };
            let mut delivered = Vec::with_capacity(batch.len());
            let mut failed = None;
            for message in batch {
                match message {
                    Ok(message) => delivered.push(message),
                    Err(error) => failed = Some(ConsumerError::JetStream(error.to_string())),
                }
            }
            // What arrived before a failure is applied before re-attaching.
            self.handle_all(&delivered).await;
            if let Some(error) = failed {
                return Err(error);
            }
        }
    }

    /// The durable consumer; if JetStream lost it, it is re-created from the
    /// checkpoint rather than from the beginning.
    async fn attach(&self) -> Result<jetstream::consumer::PullConsumer, ConsumerError> {
        let name = self.projection.name();
        let stream = self
            .jetstream
            .get_stream(&self.config.stream_name)
            .await
            .map_err(|e| ConsumerError::JetStream(e.to_string()))?;
        let checkpoint: Option<i64> = sqlx::query_scalar(
            "SELECT stream_sequence FROM consumer_checkpoints WHERE consumer = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let deliver_policy = match checkpoint {
            Some(sequence) if sequence > 0 => DeliverPolicy::ByStartSequence {
                start_sequence: sequence.unsigned_abs() + 1,
            },
            _ => DeliverPolicy::All,
        };
        let consumer: jetstream::consumer::PullConsumer = stream
            .get_or_create_consumer(
                name,
                pull::Config {
                    durable_name: Some(name.to_owned()),
                    filter_subject: self.config.filter_subject.clone(),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: self.config.ack_wait,
                    deliver_policy,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| ConsumerError::JetStream(e.to_string()))?;
        // The lag as of attaching (the info JetStream just answered with);
        // each message updates it from then on.
        let pending = consumer.cached_info().num_pending;
        metrics::gauge!(m::CONSUMER_LAG, "consumer" => name.to_owned()).set(pending as f64);
        Ok(consumer)
    }

    /// The event a message carries, with its stream sequence, signature and
    /// the span that continues the producer's trace; `None` (the message
    /// settled) when it can never be read or is not trusted.
    async fn read(&self, message: &jetstream::Message) -> Option<Delivered> {
        let name = self.projection.name();
        let (sequence, delivered, pending, stored_at) = match message.info() {
            Ok(info) => (
                info.stream_sequence,
                info.delivered,
                info.pending,
                DateTime::from_timestamp_nanos(
                    i64::try_from(info.published.unix_timestamp_nanos()).unwrap_or(i64::MAX),
                ),
            ),
            Err(error) => {
                tracing::warn!(consumer = name, %error, "message without jetstream info");
                return None;
            }
        };
        metrics::gauge!(m::CONSUMER_LAG, "consumer" => name.to_owned()).set(pending as f64);
        if delivered > 1 {
            metrics::counter!(m::CONSUMER_REDELIVERIES, "consumer" => name.to_owned()).increment(1);
        }
        let decoded = envelope::decode_trusted(
            &message.payload,
            message.subject.as_str(),
            stored_at,
            &self.config.producers,
        );
        let trusted = match decoded {
            Ok((event, signature)) => self
                .upcasters
                .upcast(event)
                .map(|event| (event, signature))
                .map_err(|e| e.to_string()),
            Err(EnvelopeError::Untrusted(refusal)) => {
                // A forgery (or a replayed copy) is settled for good: it is
                // never applied, whoever had the credentials to publish it.
                tracing::error!(consumer = name, sequence, %refusal, "untrusted envelope refused");
                self.refuse(name, refusal.reason(), message).await;
                return None;
            }
            Err(error) => Err(error.to_string()),
        };
        let (event, signature) = match trusted {
            Ok(trusted) => trusted,
            Err(reason) => {
                // A message that can never be read must not block the ones behind it.
                tracing::error!(consumer = name, sequence, %reason, "undecodable event dropped");
                self.count(name, "undecodable");
                ack(message, AckKind::Term).await;
                return None;
            }
        };
        // The consumer's span continues the trace of the request that
        // produced the event (W3C context from the NATS headers).
        let span = tracing::info_span!("eventstore.consume", consumer = name, event_type = %event.event_type);
        hellowork_telemetry::set_parent_from_nats_headers(&span, message.headers.as_ref());
        Some(Delivered {
            event,
            sequence,
            signature,
            span,
        })
    }

    /// Settles an untrusted message: terminated, counted by `reason`.
    async fn refuse(&self, consumer: &str, reason: &'static str, message: &jetstream::Message) {
        metrics::counter!(m::CONSUMER_REFUSED, "consumer" => consumer.to_owned(), "reason" => reason)
            .increment(1);
        self.count(consumer, "refused");
        ack(message, AckKind::Term).await;
    }

    async fn apply_and_ack(&self, message: &jetstream::Message, delivered: &Delivered) {
        let name = self.projection.name();
        match apply_once(&self.pool, self.projection.as_ref(), delivered).await {
            Ok(Outcome::Applied) => {
                self.count(name, "applied");
                ack(message, AckKind::Ack).await;
            }
            Ok(Outcome::Duplicate) => {
                self.count(name, "duplicate");
                ack(message, AckKind::Ack).await;
            }
            Ok(Outcome::Replayed) => {
                tracing::error!(
                    consumer = name,
                    sequence = delivered.sequence,
                    "replayed envelope refused"
                );
                self.refuse(name, "replayed", message).await;
            }
            Err(ConsumerError::Projection(error @ ProjectionError::Rejected { .. })) => {
                tracing::error!(
                    consumer = name,
                    error = &error as &dyn std::error::Error,
                    "event rejected by projection"
                );
                self.count(name, "rejected");
                ack(message, AckKind::Term).await;
            }
            Err(error) => {
                tracing::warn!(
                    consumer = name,
                    error = &error as &dyn std::error::Error,
                    "event not applied; will retry"
                );
                self.count(name, "retry");
                ack(message, AckKind::Nak(Some(self.config.retry_delay))).await;
            }
        }
    }

    fn count(&self, consumer: &str, outcome: &'static str) {
        metrics::counter!(m::CONSUMER_HANDLED, "consumer" => consumer.to_owned(), "outcome" => outcome)
            .increment(1);
    }
}

async fn ack(message: &jetstream::Message, kind: AckKind) {
    // A lost ack only means a redelivery, which the inbox absorbs.
    if let Err(error) = message.ack_with(kind).await {
        tracing::debug!(%error, "ack not sent");
    }
}

/// Key of the advisory lock that keeps live consumption (shared) and a
/// rebuild (exclusive) of one projection apart.
pub(crate) fn projection_lock(name: &str) -> String {
    format!("hellowork.projection.{name}")
}

/// A trusted message, read.
struct Delivered {
    event: RecordedEvent,
    /// Its stream sequence.
    sequence: u64,
    /// The producer's signature, which tells a replayed copy (the same
    /// signature under another stream sequence) from a republication (the
    /// producer signs each publication anew).
    signature: Vec<u8>,
    span: Span,
}

/// What became of a delivered event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Applied,
    /// Seen before: a redelivery, or the producer publishing it again.
    Duplicate,
    /// An exact copy of a message applied before, stored again on the stream.
    Replayed,
}

/// Applies the delivered event unless the inbox has seen it.
async fn apply_once<P: Projection>(
    pool: &PgPool,
    projection: &P,
    delivered: &Delivered,
) -> Result<Outcome, ConsumerError> {
    let name = projection.name();
    let event = &delivered.event;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))")
        .bind(projection_lock(name))
        .execute(&mut *tx)
        .await?;
    let fresh = record_all_in_inbox(&mut tx, name, &[delivered]).await?;
    let outcome = if fresh.contains(&event.event_id) {
        projection.apply(&mut tx, event).await?;
        Outcome::Applied
    } else {
        known_outcome(&mut tx, name, delivered).await?
    };
    move_checkpoint(&mut tx, name, delivered.sequence, event.event_id).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Moves the consumer's checkpoint forward to `stream_sequence` (never back:
/// a redelivery of an older message leaves it).
async fn move_checkpoint(
    tx: &mut PgConnection,
    consumer: &str,
    stream_sequence: u64,
    last_event_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO consumer_checkpoints (consumer, stream_sequence, last_event_id) \
         VALUES ($1, $2, $3) \
         ON CONFLICT (consumer) DO UPDATE SET \
             stream_sequence = GREATEST(consumer_checkpoints.stream_sequence, EXCLUDED.stream_sequence), \
             last_event_id = EXCLUDED.last_event_id, updated_at = now()",
    )
    .bind(consumer)
    .bind(i64::try_from(stream_sequence).unwrap_or(i64::MAX))
    .bind(last_event_id)
    .execute(tx)
    .await?;
    Ok(())
}

/// Records the delivered events in the inbox with the stream sequence and
/// signature they came with; returns the ids that were not there before.
async fn record_all_in_inbox(
    tx: &mut PgConnection,
    consumer: &str,
    delivered: &[&Delivered],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let ids: Vec<Uuid> = delivered.iter().map(|d| d.event.event_id).collect();
    let sequences: Vec<i64> = delivered
        .iter()
        .map(|d| i64::try_from(d.sequence).unwrap_or(i64::MAX))
        .collect();
    let signatures: Vec<&[u8]> = delivered.iter().map(|d| d.signature.as_slice()).collect();
    sqlx::query_scalar(
        "INSERT INTO consumer_inbox (consumer, event_id, stream_sequence, signature) \
         SELECT $1, id, sequence, signature \
         FROM UNNEST($2::uuid[], $3::bigint[], $4::bytea[]) AS m(id, sequence, signature) \
         ON CONFLICT DO NOTHING RETURNING event_id",
    )
    .bind(consumer)
    .bind(&ids)
    .bind(&sequences)
    .bind(&signatures)
    .fetch_all(tx)
    .await
    .map(|inserted: Vec<Uuid>| inserted.into_iter().collect())
}

/// For an event the inbox already holds: a replay if it was recorded with
/// the same signature from another stream message, else a duplicate (a
/// redelivery of the same message, a republication the producer signed
/// anew, or an event a rebuild recorded).
async fn known_outcome(
    tx: &mut PgConnection,
    consumer: &str,
    delivered: &Delivered,
) -> Result<Outcome, sqlx::Error> {
    let recorded: Option<(Option<i64>, Option<Vec<u8>>)> = sqlx::query_as(
        "SELECT stream_sequence, signature FROM consumer_inbox \
         WHERE consumer = $1 AND event_id = $2",
    )
    .bind(consumer)
    .bind(delivered.event.event_id)
    .fetch_optional(tx)
    .await?;
    let sequence = i64::try_from(delivered.sequence).unwrap_or(i64::MAX);
    Ok(match recorded {
        Some((Some(recorded_sequence), Some(signature)))
            if recorded_sequence != sequence && signature == delivered.signature =>
        {
            Outcome::Replayed
        }
        _ => Outcome::Duplicate,
    })
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildReport {
    pub events_replayed: u64,
    pub last_position: GlobalPosition,
}

/// Rebuilds `projection` from the event store, atomically: readers see the
/// old rows until the new ones commit.
///
/// Live consumption of the projection pauses meanwhile (an exclusive advisory
/// lock against the consumers' shared one). The replay reads one REPEATABLE
/// READ snapshot, so it sees every event committed before it began and none
/// after; those later ones are not in the rebuilt inbox, so the live consumer
/// applies them when it resumes, exactly once.
pub async fn rebuild<P: Projection>(
    store: &EventStore,
    projection: &P,
) -> Result<RebuildReport, ConsumerError> {
    let name = projection.name();
    let mut conn = store.pool().acquire().await?;
    sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
        .bind(projection_lock(name))
        .execute(&mut *conn)
        .await?;
    let result = replay(store, projection, &mut conn).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
        .bind(projection_lock(name))
        .execute(&mut *conn)
        .await;
    if unlocked.is_err() {
        // Never hand a connection that may still hold the lock back to the pool.
        let _ = conn.detach().close().await;
    }
    let report = result?;
    metrics::counter!(m::PROJECTION_REBUILDS, "consumer" => name.to_owned()).increment(1);
    tracing::info!(
        consumer = name,
        events = report.events_replayed,
        "projection rebuilt"
    );
    Ok(report)
}

const REBUILD_PAGE: i64 = 1000;

async fn replay<P: Projection>(
    store: &EventStore,
    projection: &P,
    conn: &mut PgConnection,
) -> Result<RebuildReport, ConsumerError> {
    let name = projection.name();
    let mut tx = Connection::begin(conn).await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .execute(&mut *tx)
        .await?;
    projection.reset(&mut tx).await?;
    sqlx::query("DELETE FROM consumer_inbox WHERE consumer = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;

    let mut report = RebuildReport {
        events_replayed: 0,
        last_position: GlobalPosition::START,
    };
    loop {
        // One snapshot for the whole transaction: ordering by
        // (transaction id, position) pages through it without gaps.
        let rows = sqlx::query(&format!(
            "SELECT transaction_id, position, {} FROM events \
             WHERE (transaction_id, position) > ($1, $2) \
             ORDER BY transaction_id, position LIMIT $3",
            event_columns()
        ))
        .bind(report.last_position.transaction_id)
        .bind(report.last_position.position)
        .bind(REBUILD_PAGE)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            break;
        }
        let events = rows
            .iter()
            .map(|row| store.decode(row))
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<Uuid> = events.iter().map(|event| event.event_id).collect();
        sqlx::query(
            "INSERT INTO consumer_inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) \
             ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
        projection.apply_all(&mut tx, &events).await?;
        report.events_replayed += events.len() as u64;
        if let Some(last) = rows.last() {
            report.last_position = position_of(last)?;
        }
    }
    sqlx::query(
        "INSERT INTO consumer_checkpoints (consumer, store_transaction_id, store_position) \
         VALUES ($1, $2, $3) \
         ON CONFLICT (consumer) DO UPDATE SET store_transaction_id = EXCLUDED.store_transaction_id, \
             store_position = EXCLUDED.store_position, updated_at = now()",
    )
    .bind(name)
    .bind(report.last_position.transaction_id)
    .bind(report.last_position.position)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(report)
}
