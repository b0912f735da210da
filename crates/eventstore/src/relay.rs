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
//!   stream's versions ascend; acks are awaited in order and only the
//!   acknowledged prefix is removed, so a failure resumes at the first gap.
//! - Only one relay per store publishes: the leader holds a Postgres advisory
//!   lock on its own connection; the others wait and take over if it dies.
//! - It wakes on `NOTIFY <schema>_outbox` (sent by the store after commits)
//!   and polls as a fallback.

use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, Instant},
};

use async_nats::jetstream::{self, context::PublishAckFuture};
use chrono::Utc;
use sqlx::{Connection, PgConnection};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    envelope,
    jetstream::EventStreamConfig,
    metrics as m,
    model::{GlobalPosition, RecordedEvent},
    signing::EventSigner,
    store::{EventStore, decode_row, event_columns, position_of},
};

const BACKLOG_REPORT_INTERVAL: Duration = Duration::from_secs(1);

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
    pub fn new(stream: EventStreamConfig, signer: Arc<EventSigner>) -> Self {
        Self {
            stream,
            signer,
            max_in_flight: 512,
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
}

#[derive(Debug)]
pub struct Relay {
    store: EventStore,
    jetstream: jetstream::Context,
    config: RelayConfig,
}

impl Relay {
    pub fn new(store: EventStore, jetstream: jetstream::Context, config: RelayConfig) -> Self {
        Self {
            store,
            jetstream,
            config,
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

    async fn publish_until_stopped(
        &self,
        conn: &mut PgConnection,
        commits: &mut watch::Receiver<u64>,
        shutdown: &CancellationToken,
    ) -> Result<(), RelayError> {
        let mut last_report: Option<Instant> = None;
        while !shutdown.is_cancelled() {
            // Seen before the outbox is read: a commit after it wakes the
            // next round at once.
            commits.mark_unchanged();
            let pending = self.pending(conn).await?;
            // Counting the outbox costs a scan: at most once a second.
            if last_report.is_none_or(|at| at.elapsed() >= BACKLOG_REPORT_INTERVAL) {
                self.report_backlog(conn).await?;
                last_report = Some(Instant::now());
            }
            if pending.is_empty() {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    _ = commits.changed() => {}
                    () = tokio::time::sleep(self.config.poll_interval) => {}
                }
                continue;
            }
            let (published, failure) = self.publish(&pending).await;
            if !published.is_empty() {
                // Exactly the published rows: a range would also remove rows
                // that committed after this round read the outbox.
                let (transactions, positions): (Vec<i64>, Vec<i64>) = published
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
            }
            if let Some(error) = failure {
                return Err(error);
            }
        }
        Ok(())
    }

    /// The oldest outbox rows in commit order.
    ///
    /// No snapshot-xmin filter is needed here, unlike `read_all`: a row leaves
    /// the outbox only once published, so a row that commits late is simply
    /// found on a later round. A stream's next version can only commit after
    /// its previous one, so within a stream this order is version order.
    async fn pending(
        &self,
        conn: &mut PgConnection,
    ) -> Result<Vec<(GlobalPosition, RecordedEvent)>, RelayError> {
        let columns = event_columns();
        let rows = sqlx::query(&format!(
            "SELECT e.transaction_id, e.position, {columns} \
             FROM outbox o JOIN events e ON e.position = o.position \
             ORDER BY o.transaction_id, o.position LIMIT $1"
        ))
        .bind(i64::from(self.config.batch_size))
        .fetch_all(&mut *conn)
        .await?;
        let mut pending = Vec::with_capacity(rows.len());
        for row in &rows {
            pending.push((position_of(row)?, decode_row(row)?));
        }
        Ok(pending)
    }

    async fn report_backlog(&self, conn: &mut PgConnection) -> Result<(), RelayError> {
        let (backlog, oldest): (i64, Option<chrono::DateTime<Utc>>) =
            sqlx::query_as("SELECT count(*), min(enqueued_at) FROM outbox")
                .fetch_one(&mut *conn)
                .await?;
        let lag = oldest.map_or(0.0, |at| (Utc::now() - at).as_seconds_f64().max(0.0));
        metrics::gauge!(m::OUTBOX_BACKLOG, "service" => self.service()).set(backlog as f64);
        metrics::gauge!(m::RELAY_LAG_SECONDS, "service" => self.service()).set(lag);
        Ok(())
    }

    /// Publishes in order with at most `max_in_flight` unacknowledged
    /// messages; returns the positions of the acknowledged prefix and the
    /// error that stopped it, if any.
    async fn publish(
        &self,
        pending: &[(GlobalPosition, RecordedEvent)],
    ) -> (Vec<GlobalPosition>, Option<RelayError>) {
        let mut in_flight: VecDeque<(GlobalPosition, PublishAckFuture)> = VecDeque::new();
        let mut acknowledged = Vec::with_capacity(pending.len());
        for (position, event) in pending {
            if in_flight.len() >= self.config.max_in_flight
                && let Some(error) = self.await_oldest(&mut in_flight, &mut acknowledged).await
            {
                return (acknowledged, Some(error));
            }
            let subject = envelope::subject(&self.config.stream.subject_prefix, &event.event_type);
            let body = envelope::signed(
                self.store.service(),
                event,
                &subject,
                &self.config.signer,
                Utc::now(),
            );
            match self
                .jetstream
                .publish_with_headers(subject, envelope::headers(event), body.into())
                .await
            {
                Ok(ack) => in_flight.push_back((*position, ack)),
                Err(error) => {
                    // Keep what was acknowledged before this one.
                    return (
                        self.drain(in_flight, acknowledged).await.0,
                        Some(error.into()),
                    );
                }
            }
        }
        self.drain(in_flight, acknowledged).await
    }

    async fn drain(
        &self,
        mut in_flight: VecDeque<(GlobalPosition, PublishAckFuture)>,
        mut acknowledged: Vec<GlobalPosition>,
    ) -> (Vec<GlobalPosition>, Option<RelayError>) {
        while !in_flight.is_empty() {
            if let Some(error) = self.await_oldest(&mut in_flight, &mut acknowledged).await {
                return (acknowledged, Some(error));
            }
        }
        (acknowledged, None)
    }

    async fn await_oldest(
        &self,
        in_flight: &mut VecDeque<(GlobalPosition, PublishAckFuture)>,
        acknowledged: &mut Vec<GlobalPosition>,
    ) -> Option<RelayError> {
        let (position, ack) = in_flight.pop_front()?;
        match ack.await {
            Ok(ack) => {
                let outcome = if ack.duplicate { "duplicate" } else { "stored" };
                metrics::counter!(m::RELAY_PUBLISHED, "service" => self.service(), "outcome" => outcome)
                    .increment(1);
                acknowledged.push(position);
                None
            }
            Err(error) => Some(error.into()),
        }
    }
}

async fn sleep_unless(shutdown: &CancellationToken, duration: Duration) {
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = tokio::time::sleep(duration) => {}
    }
}
