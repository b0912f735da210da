//! Group commit: one writer task drains every append waiting for it into a
//! single transaction, so 64 concurrent writers cost a handful of commits
//! (and fsyncs) instead of 64, while each append keeps its own version check.

use std::{collections::HashMap, time::Duration};

use sqlx::{PgPool, Postgres, Row, Transaction};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{
    error::{AppendError, StoreError, is_transient_sqlx, is_unique_violation},
    metrics as m,
    model::{AppendOutcome, ExpectedVersion, NewEvent, StreamId},
    plan::{PlannedAppend, StoredAt, Verdict, plan},
    store::to_i64,
};

/// Batches lost to another process' concurrent commit are retried this often.
const MAX_ATTEMPTS: u32 = 8;

#[derive(Debug)]
pub(crate) struct AppendJob {
    pub stream: StreamId,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub reply: oneshot::Sender<Result<AppendOutcome, AppendError>>,
}

/// Why a batch transaction was abandoned.
enum BatchError {
    /// Another process committed to one of our streams first (unique
    /// violation), or committed a stream head with a newer transaction id than
    /// ours; planning again in a fresh transaction resolves it.
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

pub(crate) async fn run_writer(
    pool: PgPool,
    service: String,
    mut jobs: mpsc::Receiver<AppendJob>,
    max_batch: usize,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while jobs.recv_many(&mut batch, max_batch).await > 0 {
        m::record_batch(&service, batch.len());
        let verdicts = commit_with_retries(&pool, &service, &batch).await;
        for (job, verdict) in batch.drain(..).zip(verdicts) {
            // The caller may have gone away (cancelled); the outcome stands.
            let _ = job.reply.send(verdict);
        }
    }
}

async fn commit_with_retries(
    pool: &PgPool,
    service: &str,
    batch: &[AppendJob],
) -> Vec<Result<AppendOutcome, AppendError>> {
    let mut attempt = 1;
    loop {
        match commit_batch(pool, batch).await {
            Ok(outcomes) => return outcomes,
            Err(BatchError::Race) if attempt < MAX_ATTEMPTS => {
                m::record_batch_retry(service);
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
                let shared = std::sync::Arc::new(error);
                return fail_all(batch, || StoreError::Shared(shared.clone()));
            }
        }
    }
}

fn fail_all(
    batch: &[AppendJob],
    error: impl Fn() -> StoreError,
) -> Vec<Result<AppendOutcome, AppendError>> {
    batch.iter().map(|_| Err(error().into())).collect()
}

async fn commit_batch(
    pool: &PgPool,
    batch: &[AppendJob],
) -> Result<Vec<Result<AppendOutcome, AppendError>>, BatchError> {
    let mut tx = pool.begin().await?;
    let own_xid: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
        .fetch_one(&mut *tx)
        .await?;
    let heads = stream_heads(&mut tx, batch, own_xid).await?;
    let stored = stored_events(&mut tx, batch).await?;

    let planned: Vec<PlannedAppend<'_>> = batch
        .iter()
        .map(|job| PlannedAppend {
            stream: &job.stream,
            expected: job.expected,
            event_ids: job.events.iter().map(|e| e.event_id).collect(),
        })
        .collect();
    let verdicts = plan(&planned, heads, stored);

    let mut rows = EventRows::default();
    let outcomes = batch
        .iter()
        .zip(verdicts)
        .map(|(job, verdict)| match verdict {
            Verdict::Write { first_version } => {
                rows.push(job, first_version);
                Ok(AppendOutcome {
                    stream_version: first_version + job.events.len() as u64 - 1,
                    already_recorded: false,
                })
            }
            Verdict::Done(outcome) => outcome,
        })
        .collect();

    if !rows.is_empty() {
        rows.insert(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// The committed head of every stream in the batch.
///
/// Commit order is (transaction id, position): if a head we can see was
/// committed by a transaction *younger* than ours, appending after it here
/// would place the next version before it in commit order. Retrying in a new
/// (younger) transaction keeps every stream's versions in commit order.
async fn stream_heads(
    tx: &mut Transaction<'_, Postgres>,
    batch: &[AppendJob],
    own_xid: i64,
) -> Result<HashMap<String, u64>, BatchError> {
    let mut streams: Vec<&str> = batch.iter().map(|job| job.stream.as_str()).collect();
    streams.sort_unstable();
    streams.dedup();
    let rows = sqlx::query(
        "SELECT s.stream_id, h.stream_version, h.transaction_id \
         FROM unnest($1::text[]) AS s(stream_id) \
         CROSS JOIN LATERAL ( \
             SELECT stream_version, transaction_id FROM events e \
             WHERE e.stream_id = s.stream_id ORDER BY stream_version DESC LIMIT 1 \
         ) AS h",
    )
    .bind(&streams)
    .fetch_all(&mut **tx)
    .await?;
    let mut heads = HashMap::with_capacity(rows.len());
    for row in rows {
        let head_xid: i64 = row.try_get("transaction_id")?;
        if head_xid > own_xid {
            return Err(BatchError::Race);
        }
        let version: i64 = row.try_get("stream_version")?;
        heads.insert(row.try_get("stream_id")?, version.unsigned_abs());
    }
    Ok(heads)
}

/// Where the batch's event ids are already stored (retried appends).
async fn stored_events(
    tx: &mut Transaction<'_, Postgres>,
    batch: &[AppendJob],
) -> Result<HashMap<Uuid, StoredAt>, BatchError> {
    let ids: Vec<Uuid> = batch
        .iter()
        .flat_map(|job| job.events.iter().map(|e| e.event_id))
        .collect();
    let rows = sqlx::query(
        "SELECT event_id, stream_id, stream_version FROM events WHERE event_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|row| {
            let version: i64 = row.try_get("stream_version")?;
            Ok((
                row.try_get("event_id")?,
                StoredAt {
                    stream: row.try_get("stream_id")?,
                    version: version.unsigned_abs(),
                },
            ))
        })
        .collect()
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

    fn push(&mut self, job: &AppendJob, first_version: u64) {
        for (offset, event) in job.events.iter().enumerate() {
            let meta = &event.metadata;
            self.event_id.push(event.event_id);
            self.stream_id.push(job.stream.as_str().to_owned());
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

    /// One statement writes the events and their outbox rows; positions are
    /// drawn in array order, so a stream's versions ascend with position too.
    async fn insert(self, tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
        sqlx::query(
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
             ) \
             INSERT INTO outbox (position, transaction_id) \
             SELECT position, transaction_id FROM inserted",
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
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
