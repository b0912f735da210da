//! Group commit: one writer task drains every append waiting for it into a
//! single insert statement, so 64 concurrent writers cost a handful of commits
//! (and fsyncs) instead of 64, while each append keeps its own version check.

mod rows;

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use self::rows::{Checked, CurrentState, EventRows};
use crate::{
    commit_feed::CommitFeed,
    error::{AppendError, StoreError, is_transient_sqlx, is_unique_violation},
    inline::InlineProjection,
    metrics as m,
    model::{AppendOutcome, ExpectedVersion, NewEvent, RecordedEvent, StreamId},
    plan::{PlannedAppend, Verdict, plan},
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
/// that wrote, tells the commit feed.
pub(crate) async fn run_writer(
    writer: Writer,
    mut jobs: mpsc::Receiver<AppendJob>,
    commits: Arc<CommitFeed>,
) {
    let mut batch = Vec::with_capacity(writer.max_batch);
    while jobs.recv_many(&mut batch, writer.max_batch).await > 0 {
        m::record_batch(&writer.service, batch.len());
        let verdicts = writer.commit_with_retries(&batch).await;
        if verdicts
            .iter()
            .any(|v| matches!(v, Ok(outcomes) if outcomes.iter().any(|o| !o.already_recorded)))
        {
            commits.committed();
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
                Err(BatchError::Database(error)) if attempt == 1 && is_transient_sqlx(&error) => {
                    // Most likely a connection that died while idle (the
                    // writers' pool does not test connections before handing
                    // them out, which would cost a round trip per batch):
                    // once more, on a fresh one. Safe whatever the first try
                    // did, since a batch written already is found stored.
                    tracing::debug!(error = %error, "append batch failed; retrying on a new connection");
                    attempt += 1;
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
        let committed = self.commit_on(&mut conn, batch).await;
        if matches!(committed, Err(BatchError::Database(_))) {
            // Perhaps the connection itself failed: never hand it out again.
            conn.close_on_drop();
        }
        committed
    }

    async fn commit_on(
        &self,
        conn: &mut PgConnection,
        batch: &[AppendJob],
    ) -> Result<Vec<Result<Vec<AppendOutcome>, AppendError>>, BatchError> {
        let Some(inline) = &self.inline else {
            return Ok(write_batch(conn, batch).await?.0);
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

/// Plans the batch and writes it with one statement that checks what the
/// plan assumed; returns each append's outcome and the events written, as
/// recorded.
///
/// The first plan assumes each stream's head is the version its first
/// append expects (`NoStream` and `Any`: none) and that none of the event
/// ids is stored — true for every well-behaved caller, so an append costs
/// one round trip. The statement writes nothing if the store differs from
/// that, and returns what it holds instead; the batch is planned again on
/// it and written with the same check, which also catches a concurrent
/// writer in another process (or, racing us to the same version, the
/// unique constraint does, and the batch is retried).
///
/// No explicit transaction of its own: the statement commits on its own
/// unless the caller holds a transaction. It also keeps each stream's
/// versions in commit order, (transaction id, position): the head it
/// checks committed before the statement's snapshot, so before it drew its
/// transaction id.
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
    let streams = streams_of(batch);
    let event_ids: Vec<Uuid> = planned
        .iter()
        .flatten()
        .flat_map(|part| part.event_ids.iter().copied())
        .collect();
    let mut state = CurrentState {
        heads: assumed_heads(batch),
        stored: HashMap::new(),
    };
    let mut read = false;
    for _ in 0..MAX_ATTEMPTS {
        let assumed: Vec<i64> = streams
            .iter()
            .map(|stream| to_i64(state.heads.get(*stream).copied().unwrap_or(0)))
            .collect();
        let prepared = Prepared::new(batch, plan(&planned, state.heads, state.stored));
        if prepared.rows.is_empty() && read {
            // Planned on what the store holds: nothing to write.
            return Ok((prepared.outcomes, Vec::new()));
        }
        match prepared
            .rows
            .insert_if_unchanged(conn, &streams, &assumed, &event_ids)
            .await?
        {
            Checked::Written { recorded_at } => {
                return Ok((prepared.outcomes, recorded(prepared.written, recorded_at)));
            }
            Checked::Differs(held) => {
                state = held;
                read = true;
            }
        }
    }
    // The store kept changing under the batch: another process is writing
    // the same streams.
    Err(BatchError::Race)
}

/// The batch's streams, each once, in the order they first appear.
fn streams_of(batch: &[AppendJob]) -> Vec<&str> {
    let mut seen = HashSet::new();
    batch
        .iter()
        .flat_map(|job| job.parts.iter())
        .map(|part| part.stream.as_str())
        .filter(|stream| seen.insert(*stream))
        .collect()
}

/// Each stream's head as its first append in the batch expects it.
fn assumed_heads(batch: &[AppendJob]) -> HashMap<String, u64> {
    let mut heads = HashMap::new();
    for part in batch.iter().flat_map(|job| job.parts.iter()) {
        heads
            .entry(part.stream.as_str().to_owned())
            .or_insert(match part.expected {
                ExpectedVersion::Exact(version) => version,
                ExpectedVersion::NoStream | ExpectedVersion::Any => 0,
            });
    }
    heads
}

/// A plan turned into rows to write and the outcomes they will have.
struct Prepared<'a> {
    outcomes: Vec<Result<Vec<AppendOutcome>, AppendError>>,
    rows: EventRows,
    /// Each written part with its first version.
    written: Vec<(&'a AppendPart, u64)>,
}

impl<'a> Prepared<'a> {
    fn new(batch: &'a [AppendJob], verdicts: Vec<Verdict>) -> Self {
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
        Self {
            outcomes,
            rows,
            written,
        }
    }
}

/// The written parts' events as recorded.
fn recorded(written: Vec<(&AppendPart, u64)>, recorded_at: DateTime<Utc>) -> Vec<RecordedEvent> {
    written
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
        .collect()
}
