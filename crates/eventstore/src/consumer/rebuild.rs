//! Rebuilding a projection from the event store, atomically, while its
//! live consumption pauses: one REPEATABLE READ snapshot replayed page by
//! page into emptied tables and a rebuilt inbox.

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use super::{ConsumerError, Projection, projection_lock};
use crate::{
    metrics as m,
    model::GlobalPosition,
    store::{EventStore, event_columns, position_of},
};

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
