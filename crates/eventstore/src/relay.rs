//! The relay: publishes committed events from the outbox to JetStream.
//!
//! - Nothing is published that was not committed (it reads committed rows) and
//!   nothing committed stays unpublished: a row leaves the outbox only after
//!   JetStream acknowledged it, so a crash anywhere means "publish again".
//! - Every envelope is signed by the service's key as it is published
//!   ([`crate::signing`]): consumers apply nothing else.
//! - Publishing again is harmless: `Nats-Msg-Id` = event id lets JetStream drop
//!   duplicates within its window, and consumer inboxes drop the rest.
//! - Order: rows go out in commit order, (transaction id, position), in which a
//!   stream's versions ascend; acks are taken in order and only the
//!   acknowledged prefix is removed, so a failure resumes at the first gap.
//! - Pipelined: the next page is read and published while the previous
//!   one's acks are outstanding (up to `max_in_flight`), acknowledged rows
//!   leave the outbox as their acks arrive, and the outbox is counted only
//!   when a full page says the relay cannot see all of it.
//! - Only one relay per store publishes: the leader holds a Postgres advisory
//!   lock on its own connection; the others wait and take over if it dies.
//! - It wakes on `NOTIFY <schema>_outbox` (sent by the store after commits)
//!   and polls as a fallback.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_nats::jetstream;
use chrono::Utc;
use sqlx::{Connection, PgConnection};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    jetstream::EventStreamConfig,
    metrics as m,
    model::{GlobalPosition, RecordedEvent},
    signing::EventSigner,
    store::{EventStore, decode_row, event_columns, position_of},
};

mod in_flight;
mod signed_page;

use in_flight::{Acked, InFlight};
use signed_page::PageSigner;

/// How often a relay with a full page counts the outbox.
const BACKLOG_REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// The most rows that count reads: beyond it the gauge says "at least".
const BACKLOG_COUNT_LIMIT: i64 = 100_000;

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub stream: EventStreamConfig,
    /// The service's envelope signing key.
    pub signer: Arc<EventSigner>,
    /// Publishes awaiting their JetStream ack at once.
    pub max_in_flight: usize,
    /// Outbox rows read per round.
    pub batch_size: u32,
    /// Fallback poll when no notification arrives.
    pub poll_interval: Duration,
    /// How often a standby relay tries to become leader.
    pub standby_retry: Duration,
    /// Backoff bounds while NATS or Postgres is unavailable.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl RelayConfig {
    /// Messages awaiting their ack at once by default: wide enough that the
    /// acks of one page arrive while the next is read and published, below
    /// async-nats' own limit of pending acks (5,000).
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 4096;

    pub fn new(stream: EventStreamConfig, signer: Arc<EventSigner>) -> Self {
        Self {
            stream,
            signer,
            max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
            batch_size: 2048,
            poll_interval: Duration::from_millis(500),
            standby_retry: Duration::from_secs(1),
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("relay database error")]
    Database(#[from] sqlx::Error),
    #[error("publish to jetstream failed")]
    Publish(#[from] async_nats::jetstream::context::PublishError),
    #[error(transparent)]
    Store(#[from] crate::StoreError),
    #[error("signing envelopes did not finish")]
    Signing(#[from] tokio::task::JoinError),
}

#[derive(Debug)]
pub struct Relay {
    store: EventStore,
    jetstream: jetstream::Context,
    config: RelayConfig,
    page_signer: PageSigner,
}

impl Relay {
    pub fn new(store: EventStore, jetstream: jetstream::Context, config: RelayConfig) -> Self {
        let page_signer = PageSigner::new(
            store.service(),
            config.signer.clone(),
            &config.stream.subject_prefix,
        );
        Self {
            store,
            jetstream,
            config,
            page_signer,
        }
    }

    /// Runs until `shutdown` is cancelled, surviving database and NATS
    /// outages with exponential backoff.
    pub async fn run(self, shutdown: CancellationToken) {
        m::register_relay(self.store.service());
        let mut backoff = self.config.backoff_min;
        while !shutdown.is_cancelled() {
            match self.lead(&shutdown).await {
                Ok(()) => backoff = self.config.backoff_min,
                Err(error) => {
                    metrics::counter!(m::RELAY_FAILURES, "service" => self.service()).increment(1);
                    tracing::warn!(
                        error = &error as &dyn std::error::Error,
                        backoff_ms = backoff.as_millis() as u64,
                        "relay interrupted; retrying"
                    );
                    sleep_unless(&shutdown, backoff).await;
                    backoff = (backoff * 2).min(self.config.backoff_max);
                }
            }
        }
        metrics::gauge!(m::RELAY_LEADER, "service" => self.service()).set(0.0);
    }

    fn service(&self) -> String {
        self.store.service().to_owned()
    }

    /// Becomes leader (or waits as standby) and publishes until shutdown or
    /// an error. Dropping the connection releases the leadership lock.
    async fn lead(&self, shutdown: &CancellationToken) -> Result<(), RelayError> {
        let mut conn = PgConnection::connect_with(&self.store.pool().connect_options()).await?;
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&mut conn)
            .await?;
        let leader: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                .bind(format!("hellowork.relay.{schema}"))
                .fetch_one(&mut conn)
                .await?;
        if !leader {
            sleep_unless(shutdown, self.config.standby_retry).await;
            return Ok(());
        }
        metrics::gauge!(m::RELAY_LEADER, "service" => self.service()).set(1.0);
        tracing::info!(%schema, "relay is leader");

        let mut commits = self.store.commits();
        let result = self
            .publish_until_stopped(&mut conn, &mut commits, shutdown)
            .await;
        metrics::gauge!(m::RELAY_LEADER, "service" => self.service()).set(0.0);
        result
    }

    /// Publishes the outbox as it fills, pipelined: while a page's acks are
    /// outstanding the next page is read and published, acknowledged rows
    /// are removed as their acks arrive, and only a full window
    /// (`max_in_flight`) or an empty outbox makes the relay wait.
    async fn publish_until_stopped(
        &self,
        conn: &mut PgConnection,
        commits: &mut watch::Receiver<u64>,
        shutdown: &CancellationToken,
    ) -> Result<(), RelayError> {
        let mut window = InFlight::default();
        let mut backlog = BacklogReport::default();
        let mut wait_for_ack = false;
        while !shutdown.is_cancelled() {
            // Seen before the outbox is read: a commit after it wakes the
            // next round at once.
            commits.mark_unchanged();
            self.remove_acknowledged(conn, window.collect(wait_for_ack).await)
                .await?;
            // A page is read once the window has room for a good part of
            // one: reading a few rows each time an ack arrives would cost a
            // query per handful of messages.
            let room = self.config.max_in_flight.saturating_sub(window.len());
            let page = (self.config.batch_size as usize).min(self.config.max_in_flight);
            if room == 0 || (room < page / 2 && !window.is_empty()) {
                wait_for_ack = true;
                continue;
            }
            let limit = u32::try_from(room.min(page)).unwrap_or(u32::MAX);
            let pending = self.pending(conn, window.position_arrays(), limit).await?;
            let known = Known {
                awaiting_ack: window.len(),
                oldest: window.oldest_recorded_at(),
            };
            let page_full = pending.len() == limit as usize;
            backlog
                .report(self, conn, known, &pending, page_full)
                .await?;
            if pending.is_empty() {
                if window.is_empty() {
                    tokio::select! {
                        () = shutdown.cancelled() => {}
                        _ = commits.changed() => {}
                        () = tokio::time::sleep(self.config.poll_interval) => {}
                    }
                }
                // Nothing new to publish while acks are outstanding: wait
                // for the next one before reading again.
                wait_for_ack = !window.is_empty();
                continue;
            }
            wait_for_ack = false;
            let mut signed = self.page_signer.sign(pending);
            while let Some(chunk) = signed.next_chunk().await? {
                for message in chunk {
                    match self
                        .jetstream
                        .publish_with_headers(message.subject, message.headers, message.body)
                        .await
                    {
                        Ok(ack) => window.push(message.position, message.recorded_at, ack),
                        Err(error) => {
                            // Keep what was acknowledged before this one.
                            let acked = window.collect(false).await;
                            self.remove_acknowledged(conn, acked).await?;
                            return Err(error.into());
                        }
                    }
                }
            }
        }
        // Stopping: what JetStream acknowledged leaves the outbox now rather
        // than being published again by the next leader.
        while !window.is_empty() {
            self.remove_acknowledged(conn, window.collect(true).await)
                .await?;
        }
        Ok(())
    }

    /// Removes exactly the acknowledged rows (a range would also remove rows
    /// that committed after they were read) and counts them; then fails with
    /// the ack error that ended the prefix, if one did.
    async fn remove_acknowledged(
        &self,
        conn: &mut PgConnection,
        acked: Acked,
    ) -> Result<(), RelayError> {
        if !acked.positions.is_empty() {
            let (transactions, positions): (Vec<i64>, Vec<i64>) = acked
                .positions
                .iter()
                .map(|at| (at.transaction_id, at.position))
                .unzip();
            sqlx::query(
                "DELETE FROM outbox WHERE (transaction_id, position) IN \
                 (SELECT * FROM unnest($1::bigint[], $2::bigint[]))",
            )
            .bind(transactions)
            .bind(positions)
            .execute(&mut *conn)
            .await?;
            let stored = acked.positions.len() as u64 - acked.duplicates;
            let service = self.service();
            metrics::counter!(m::RELAY_PUBLISHED, "service" => service.clone(), "outcome" => "stored")
                .increment(stored);
            metrics::counter!(m::RELAY_PUBLISHED, "service" => service, "outcome" => "duplicate")
                .increment(acked.duplicates);
        }
        match acked.failure {
            Some(error) => Err(error.into()),
            None => Ok(()),
        }
    }

    /// The oldest outbox rows in commit order, but those awaiting their ack.
    ///
    /// No snapshot-xmin filter is needed here, unlike `read_all`: a row leaves
    /// the outbox only once published, so a row that commits late is simply
    /// found on a later round, and always before any later version of its
    /// stream (which could only commit after it). Within a stream this order
    /// is version order.
    async fn pending(
        &self,
        conn: &mut PgConnection,
        (transactions, positions): (Vec<i64>, Vec<i64>),
        limit: u32,
    ) -> Result<Vec<(GlobalPosition, RecordedEvent)>, RelayError> {
        let columns = event_columns();
        let rows = sqlx::query(&format!(
            "SELECT e.transaction_id, e.position, {columns} \
             FROM outbox o JOIN events e ON e.position = o.position \
             WHERE NOT EXISTS ( \
                 SELECT FROM unnest($2::bigint[], $3::bigint[]) AS f(transaction_id, position) \
                 WHERE f.transaction_id = o.transaction_id AND f.position = o.position) \
             ORDER BY o.transaction_id, o.position LIMIT $1"
        ))
        .bind(i64::from(limit))
        .bind(transactions)
        .bind(positions)
        .fetch_all(&mut *conn)
        .await?;
        let mut pending = Vec::with_capacity(rows.len());
        for row in &rows {
            pending.push((position_of(row)?, decode_row(row)?));
        }
        Ok(pending)
    }
}

/// The backlog and lag gauges, from what the relay reads anyway: the rows
/// awaiting acks and the page just read are the whole outbox unless the
/// page was full; only then is the outbox counted, at most once per
/// [`BACKLOG_REPORT_INTERVAL`] and never further than [`BACKLOG_COUNT_LIMIT`]
/// rows.
#[derive(Debug, Default)]
struct BacklogReport {
    counted_at: Option<Instant>,
}

/// What the relay knows of its window of messages awaiting acks.
#[derive(Debug)]
struct Known {
    awaiting_ack: usize,
    /// When the oldest of them was recorded.
    oldest: Option<chrono::DateTime<Utc>>,
}

impl BacklogReport {
    async fn report(
        &mut self,
        relay: &Relay,
        conn: &mut PgConnection,
        known: Known,
        page: &[(GlobalPosition, RecordedEvent)],
        page_full: bool,
    ) -> Result<(), RelayError> {
        let mut backlog = (known.awaiting_ack + page.len()) as f64;
        if page_full {
            if self
                .counted_at
                .is_some_and(|at| at.elapsed() < BACKLOG_REPORT_INTERVAL)
            {
                return Ok(());
            }
            let counted: i64 =
                sqlx::query_scalar("SELECT count(*) FROM (SELECT FROM outbox LIMIT $1) AS bounded")
                    .bind(BACKLOG_COUNT_LIMIT)
                    .fetch_one(&mut *conn)
                    .await?;
            backlog = counted as f64;
            self.counted_at = Some(Instant::now());
        }
        let oldest = known
            .oldest
            .or_else(|| page.first().map(|(_, event)| event.recorded_at));
        let lag = oldest.map_or(0.0, |at| (Utc::now() - at).as_seconds_f64().max(0.0));
        let service = relay.service();
        metrics::gauge!(m::OUTBOX_BACKLOG, "service" => service.clone()).set(backlog);
        metrics::gauge!(m::RELAY_LAG_SECONDS, "service" => service).set(lag);
        Ok(())
    }
}

async fn sleep_unless(shutdown: &CancellationToken, duration: Duration) {
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = tokio::time::sleep(duration) => {}
    }
}
