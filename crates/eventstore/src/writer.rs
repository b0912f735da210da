//! Group commit: one writer task drains every append waiting for it into a
//! single insert statement, so 64 concurrent writers cost a handful of commits
//! (and fsyncs) instead of 64, while each append keeps its own version check.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection, PgPool, Row};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{
    error::{AppendError, StoreError, is_transient_sqlx, is_unique_violation},
    inline::InlineProjection,
    metrics as m,
    model::{AppendOutcome, ExpectedVersion, NewEvent, RecordedEvent, StreamId},
    plan::{PlannedAppend, StoredAt, Verdict, plan},
    store::to_i64,
};

/// Batches lost to another process' concurrent commit are retried this often.
const MAX_ATTEMPTS: u32 = 8;

/// One stream's part of an append.
#[derive(Debug)]
pub(crate) struct AppendPart {
    pub stream: StreamId,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// One append: its parts (distinct streams) are written together or not at
/// all, and answered with one outcome per part.
#[derive(Debug)]
pub(crate) struct AppendJob {
    pub parts: Vec<AppendPart>,
    pub reply: oneshot::Sender<Result<Vec<AppendOutcome>, AppendError>>,
}

/// Why a batch was abandoned before writing.
enum BatchError {
    /// Another process appended to one of our streams (or stored one of our
    /// event ids) between our read and our insert; planning again resolves it.
    Race,
    Database(sqlx::Error),
}

impl From<sqlx::Error> for BatchError {
    fn from(error: sqlx::Error) -> Self {
        if is_unique_violation(&error) {
            Self::Race
        } else {
            Self::Database(error)
        }
    }
}

/// One writer task's settings.
#[derive(Debug)]
pub(crate) struct Writer {
    pub pool: PgPool,
    pub service: String,
    pub max_batch: usize,
    pub inline: Option<Arc<dyn InlineProjection>>,
}

/// Drains `jobs` into batches until every sender is gone; after each batch
/// that wrote, signals `committed` (never blocking: a pending signal already
/// covers this commit).
pub(crate) async fn run_writer(
    writer: Writer,
    mut jobs: mpsc::Receiver<AppendJob>,
    committed: mpsc::Sender<()>,
) {
    let mut batch = Vec::with_capacity(writer.max_batch);
    while jobs.recv_many(&mut batch, writer.max_batch).await > 0 {
        m::record_batch(&writer.service, batch.len());
        let verdicts = writer.commit_with_retries(&batch).await;
        if verdicts
            .iter()
            .any(|v| matches!(v, Ok(outcomes) if outcomes.iter().any(|o| !o.already_recorded)))
        {
            let _ = committed.try_send(());
        }
        for (job, verdict) in batch.drain(..).zip(verdicts) {
            // The caller may have gone away (cancelled); the outcome stands.
            let _ = job.reply.send(verdict);
        }
    }
}

impl Writer {
    async fn commit_with_retries(
        &self,
        batch: &[AppendJob],
    ) -> Vec<Result<Vec<AppendOutcome>, AppendError>> {
        let mut attempt = 1;
        loop {
            match self.commit_batch(batch).await {
                Ok(outcomes) => return outcomes,
                Err(BatchError::Race) if attempt < MAX_ATTEMPTS => {
                    m::record_batch_retry(&self.service);
                    tokio::time::sleep(Duration::from_millis(u64::from(attempt) * 2)).await;
                    attempt += 1;
                }
                Err(BatchError::Race) => {
                    tracing::warn!(attempt, "append batch kept losing races; giving up");
                    return fail_all(batch, || StoreError::Contention);
                }
                Err(BatchError::Database(error)) => {
                    if is_transient_sqlx(&error) {
                        tracing::warn!(error = %error, "append batch failed: database unavailable");
                    } else {
                        tracing::error!(
                            error = &error as &dyn std::error::Error,
                            "append batch failed"
                        );
                    }
                    let shared = Arc::new(error);
                    return fail_all(batch, || StoreError::Shared(shared.clone()));
                }
            }
        }
    }

    /// Writes the batch: on its own, or with the inline projection's rows
    /// in one transaction.
    async fn commit_batch(
        &self,
        batch: &[AppendJob],
    ) -> Result<Vec<Result<Vec<AppendOutcome>, AppendError>>, BatchError> {
        let mut conn = self.pool.acquire().await?;
        let Some(inline) = &self.inline else {
            return Ok(write_batch(&mut conn, batch).await?.0);
        };
        let mut tx = conn.begin().await?;
        let (outcomes, written) = write_batch(&mut tx, batch).await?;
        if !written.is_empty() {
            inline.apply(&mut tx, &written).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

fn fail_all(
    batch: &[AppendJob],
    error: impl Fn() -> StoreError,
) -> Vec<Result<Vec<AppendOutcome>, AppendError>> {
    batch.iter().map(|_| Err(error().into())).collect()
}

/// Plans the batch from one read and writes it with one statement; returns
/// each append's outcome and the events written, as recorded.
///
/// No explicit transaction of its own: the read is a plain snapshot, and the
/// insert (events and outbox rows in one statement) commits on its own
/// unless the caller holds a transaction. If anything changed in between —
/// another process appended to one of the streams or stored one of the
/// event ids — the insert hits a unique constraint, writes nothing, and the
/// batch is planned again. Two round trips per batch.
///
/// This also keeps each stream's versions in commit order, (transaction id,
/// position): the head a batch plans against committed before the batch's
/// insert began, so its transaction id is smaller than the insert's.
async fn write_batch(
    conn: &mut PgConnection,
    batch: &[AppendJob],
) -> Result<
    (
        Vec<Result<Vec<AppendOutcome>, AppendError>>,
        Vec<RecordedEvent>,
    ),
    BatchError,
> {
    let (heads, stored) = current_state(conn, batch).await?;
    let planned: Vec<Vec<PlannedAppend<'_>>> = batch
        .iter()
        .map(|job| {
            job.parts
                .iter()
                .map(|part| PlannedAppend {
                    stream: &part.stream,
                    expected: part.expected,
                    event_ids: part.events.iter().map(|e| e.event_id).collect(),
                })
                .collect()
        })
        .collect();
    let verdicts = plan(&planned, heads, stored);

    let mut rows = EventRows::default();
    let mut written = Vec::new();
    let outcomes = batch
        .iter()
        .zip(verdicts)
        .map(|(job, verdict)| match verdict {
            Verdict::Write { first_versions } => Ok(job
                .parts
                .iter()
                .zip(first_versions)
                .map(|(part, first_version)| {
                    rows.push(part, first_version);
                    written.push((part, first_version));
                    AppendOutcome {
                        stream_version: first_version + part.events.len() as u64 - 1,
                        already_recorded: false,
                    }
                })
                .collect()),
            Verdict::Done(outcome) => outcome,
        })
        .collect();

    if rows.is_empty() {
        return Ok((outcomes, Vec::new()));
    }
    let recorded_at = rows.insert(conn).await?;
    let recorded = written
        .into_iter()
        .flat_map(|(part, first_version)| {
            part.events
                .iter()
                .enumerate()
                .map(move |(offset, event)| RecordedEvent {
                    event_id: event.event_id,
                    stream_id: part.stream.clone(),
                    stream_version: first_version + offset as u64,
                    event_type: event.event_type.clone(),
                    schema_version: event.schema_version,
                    payload: event.payload.clone(),
                    occurred_at: event.occurred_at,
                    recorded_at,
                    metadata: event.metadata.clone(),
                })
        })
        .collect();
    Ok((outcomes, recorded))
}

/// In one query: the head version of every stream in the batch, and where
/// the batch's event ids are already stored (retried appends).
async fn current_state(
    conn: &mut PgConnection,
    batch: &[AppendJob],
) -> Result<(HashMap<String, u64>, HashMap<Uuid, StoredAt>), BatchError> {
    let parts = || batch.iter().flat_map(|job| job.parts.iter());
    let mut streams: Vec<&str> = parts().map(|part| part.stream.as_str()).collect();
    streams.sort_unstable();
    streams.dedup();
    let ids: Vec<Uuid> = parts()
        .flat_map(|part| part.events.iter().map(|e| e.event_id))
        .collect();
    let rows = sqlx::query(
        "SELECT s.stream_id, h.stream_version, NULL::uuid AS event_id \
         FROM unnest($1::text[]) AS s(stream_id) \
         CROSS JOIN LATERAL ( \
             SELECT stream_version FROM events e \
             WHERE e.stream_id = s.stream_id ORDER BY stream_version DESC LIMIT 1 \
         ) AS h \
         UNION ALL \
         SELECT stream_id, stream_version, event_id FROM events WHERE event_id = ANY($2)",
    )
    .bind(&streams)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;

    let mut heads = HashMap::with_capacity(streams.len());
    let mut stored = HashMap::new();
    for row in rows {
        let stream: String = row.try_get("stream_id")?;
        let version = row.try_get::<i64, _>("stream_version")?.unsigned_abs();
        match row.try_get::<Option<Uuid>, _>("event_id")? {
            Some(event_id) => {
                stored.insert(event_id, StoredAt { stream, version });
            }
            None => {
                heads.insert(stream, version);
            }
        }
    }
    Ok((heads, stored))
}

/// Column arrays for one multi-row insert.
#[derive(Default)]
struct EventRows {
    event_id: Vec<Uuid>,
    stream_id: Vec<String>,
    stream_version: Vec<i64>,
    event_type: Vec<String>,
    schema_version: Vec<i32>,
    payload: Vec<Vec<u8>>,
    occurred_at: Vec<chrono::DateTime<chrono::Utc>>,
    correlation_id: Vec<Uuid>,
    causation_id: Vec<Option<Uuid>>,
    actor_subject: Vec<String>,
    actor_role: Vec<String>,
    traceparent: Vec<Option<String>>,
    tracestate: Vec<Option<String>>,
}

impl EventRows {
    fn is_empty(&self) -> bool {
        self.event_id.is_empty()
    }

    fn push(&mut self, part: &AppendPart, first_version: u64) {
        for (offset, event) in part.events.iter().enumerate() {
            let meta = &event.metadata;
            self.event_id.push(event.event_id);
            self.stream_id.push(part.stream.as_str().to_owned());
            self.stream_version
                .push(to_i64(first_version + offset as u64));
            self.event_type.push(event.event_type.clone());
            self.schema_version
                .push(i32::try_from(event.schema_version).unwrap_or(i32::MAX));
            self.payload.push(event.payload.clone());
            self.occurred_at.push(event.occurred_at);
            self.correlation_id.push(meta.correlation_id);
            self.causation_id.push(meta.causation_id);
            self.actor_subject.push(meta.actor.subject.clone());
            self.actor_role
                .push(meta.actor.role.as_str_name().to_owned());
            self.traceparent.push(meta.traceparent.clone());
            self.tracestate.push(meta.tracestate.clone());
        }
    }

    /// One statement (so one atomic commit) writes the events and their
    /// outbox rows; positions are drawn in array order, so a stream's versions
    /// ascend with position too. Returns when they were recorded (the
    /// transaction's time, the same for every row).
    async fn insert(self, conn: &mut PgConnection) -> Result<DateTime<Utc>, sqlx::Error> {
        sqlx::query_scalar(
            "WITH inserted AS ( \
                 INSERT INTO events (event_id, stream_id, stream_version, event_type, \
                     schema_version, payload, occurred_at, correlation_id, causation_id, \
                     actor_subject, actor_role, traceparent, tracestate) \
                 SELECT event_id, stream_id, stream_version, event_type, schema_version, \
                     payload, occurred_at, correlation_id, causation_id, actor_subject, \
                     actor_role, traceparent, tracestate \
                 FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::int[], \
                     $6::bytea[], $7::timestamptz[], $8::uuid[], $9::uuid[], $10::text[], \
                     $11::text[], $12::text[], $13::text[]) WITH ORDINALITY \
                     AS r(event_id, stream_id, stream_version, event_type, schema_version, \
                     payload, occurred_at, correlation_id, causation_id, actor_subject, \
                     actor_role, traceparent, tracestate, ord) \
                 ORDER BY ord \
                 RETURNING position, transaction_id \
             ), outboxed AS ( \
                 INSERT INTO outbox (position, transaction_id) \
                 SELECT position, transaction_id FROM inserted \
             ) \
             SELECT now()",
        )
        .bind(self.event_id)
        .bind(self.stream_id)
        .bind(self.stream_version)
        .bind(self.event_type)
        .bind(self.schema_version)
        .bind(self.payload)
        .bind(self.occurred_at)
        .bind(self.correlation_id)
        .bind(self.causation_id)
        .bind(self.actor_subject)
        .bind(self.actor_role)
        .bind(self.traceparent)
        .bind(self.tracestate)
        .fetch_one(conn)
        .await
    }
}
