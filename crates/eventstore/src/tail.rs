//! Projections of a service's *own* events that must see them in exactly the
//! store's commit order, fed straight from the store rather than through
//! JetStream.
//!
//! A JetStream consumer retries a failed message after later ones, so its
//! order can differ from the store's. For most read models that is harmless
//! (each row depends on its own stream only); for an order-sensitive one, such
//! as a hash chain over every event, the live result must equal a rebuild
//! byte for byte, so it reads pages of [`EventStore::read_all`]'s order and
//! applies each page with the checkpoint in one transaction. Rebuild
//! ([`crate::rebuild`]) replays the same order into the same checkpoint, so
//! tailing resumes after it seamlessly.

use std::{sync::Arc, time::Duration};

use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;

use crate::{
    consumer::{ConsumerError, Projection, projection_lock},
    metrics as m,
    model::GlobalPosition,
    store::{EventStore, event_columns, position_of},
};

/// How a [`TailingRunner`] pages and waits.
#[derive(Debug, Clone, Copy)]
pub struct TailConfig {
    /// Most events applied in one transaction.
    pub page: u32,
    /// Fallback when no commit notification arrives (lost wake-up, or a
    /// writer in another process whose notification was missed).
    pub poll_interval: Duration,
    /// Delay before retrying after a database failure.
    pub retry_delay: Duration,
}

impl Default for TailConfig {
    fn default() -> Self {
        Self {
            page: 1000,
            poll_interval: Duration::from_millis(500),
            retry_delay: Duration::from_millis(500),
        }
    }
}

/// Runs one projection over the store's events in commit order.
#[derive(Debug)]
pub struct TailingRunner<P> {
    projection: Arc<P>,
    store: EventStore,
    config: TailConfig,
}

impl<P: Projection> TailingRunner<P> {
    pub fn new(projection: Arc<P>, store: EventStore, config: TailConfig) -> Self {
        Self {
            projection,
            store,
            config,
        }
    }

    /// Applies pages until `shutdown`, woken by the store's commit
    /// notifications; survives database outages.
    pub async fn run(self, shutdown: CancellationToken) {
        m::register_projection(self.projection.name(), false);
        while !shutdown.is_cancelled() {
            if let Err(error) = self.follow(&shutdown).await {
                tracing::warn!(
                    projection = self.projection.name(),
                    error = &error as &dyn std::error::Error,
                    "tailing projection interrupted; resuming from its checkpoint"
                );
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(self.config.retry_delay) => {}
                }
            }
        }
    }

    async fn follow(&self, shutdown: &CancellationToken) -> Result<(), ConsumerError> {
        let mut commits = self.store.commits();
        while !shutdown.is_cancelled() {
            // Seen before the page is read: a commit while it is applied
            // wakes the next round at once.
            commits.mark_unchanged();
            // A connection per page, given back while waiting: a tailer
            // holding one would take it from the service's requests.
            let mut conn = self.store.pool().acquire().await?;
            if self.step(&mut conn).await? > 0 {
                continue;
            }
            drop(conn);
            tokio::select! {
                () = shutdown.cancelled() => {}
                // A feed that ended (never while we hold it) leaves the poll.
                _ = commits.changed() => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
        Ok(())
    }

    /// Applies the next page, if any; returns how many events it applied.
    async fn step(&self, conn: &mut PgConnection) -> Result<usize, ConsumerError> {
        let name = self.projection.name();
        let mut tx = Connection::begin(conn).await?;
        // Exclusive: one tailer per projection at a time (replicas take
        // turns), and never during a rebuild.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(projection_lock(name))
            .execute(&mut *tx)
            .await?;
        let checkpoint: Option<(i64, i64)> = sqlx::query_as(
            "SELECT store_transaction_id, store_position FROM consumer_checkpoints \
             WHERE consumer = $1",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let after = checkpoint.map_or(GlobalPosition::START, |(transaction_id, position)| {
            GlobalPosition {
                transaction_id,
                position,
            }
        });
        // The same visibility rule as `read_all`: nothing can ever commit
        // behind the rows returned.
        let rows = sqlx::query(&format!(
            "SELECT transaction_id, position, {} FROM events \
             WHERE (transaction_id, position) > ($1, $2) \
               AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
             ORDER BY transaction_id, position LIMIT $3",
            event_columns()
        ))
        .bind(after.transaction_id)
        .bind(after.position)
        .bind(i64::from(self.config.page))
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = rows.last() else {
            report_lag(name, &mut tx, after).await?;
            return Ok(0);
        };
        let last = position_of(last)?;
        let events = rows
            .iter()
            .map(|row| self.store.decode(row))
            .collect::<Result<Vec<_>, _>>()?;
        // The inbox, as for JetStream consumers: the events this projection
        // has applied. An event already in it (applied by a JetStream consumer
        // of the same name before the projection moved to tailing, or by a
        // rebuild) is not applied twice.
        let ids: Vec<uuid::Uuid> = events.iter().map(|event| event.event_id).collect();
        let fresh: std::collections::HashSet<uuid::Uuid> = sqlx::query_scalar(
            "INSERT INTO consumer_inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) \
             ON CONFLICT DO NOTHING RETURNING event_id",
        )
        .bind(name)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        let unapplied: Vec<_> = events
            .iter()
            .filter(|event| fresh.contains(&event.event_id))
            .cloned()
            .collect();
        self.projection.apply_all(&mut tx, &unapplied).await?;
        sqlx::query(
            "INSERT INTO consumer_checkpoints (consumer, store_transaction_id, store_position, \
                 last_event_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (consumer) DO UPDATE SET \
                 store_transaction_id = EXCLUDED.store_transaction_id, \
                 store_position = EXCLUDED.store_position, \
                 last_event_id = EXCLUDED.last_event_id, updated_at = now()",
        )
        .bind(name)
        .bind(last.transaction_id)
        .bind(last.position)
        .bind(events.last().map(|event| event.event_id))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let duplicates = (events.len() - unapplied.len()) as u64;
        metrics::counter!(m::CONSUMER_HANDLED, "consumer" => name.to_owned(), "outcome" => "applied")
            .increment(unapplied.len() as u64);
        metrics::counter!(m::CONSUMER_HANDLED, "consumer" => name.to_owned(), "outcome" => "duplicate")
            .increment(duplicates);
        report_lag(name, conn, last).await?;
        Ok(events.len())
    }
}

/// Sets [`m::TAIL_LAG_SECONDS`]: the age of the first committed event after
/// `applied`, or 0. Events held back behind an older running transaction
/// count too: they are committed and not yet applied.
async fn report_lag(
    name: &str,
    conn: &mut PgConnection,
    applied: GlobalPosition,
) -> Result<(), sqlx::Error> {
    let lag: Option<f64> = sqlx::query_scalar(
        "SELECT EXTRACT(EPOCH FROM clock_timestamp() - recorded_at)::float8 FROM events \
         WHERE (transaction_id, position) > ($1, $2) \
         ORDER BY transaction_id, position LIMIT 1",
    )
    .bind(applied.transaction_id)
    .bind(applied.position)
    .fetch_optional(conn)
    .await?;
    metrics::gauge!(m::TAIL_LAG_SECONDS, "consumer" => name.to_owned())
        .set(lag.unwrap_or(0.0).max(0.0));
    Ok(())
}
