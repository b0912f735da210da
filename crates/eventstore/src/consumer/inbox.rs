//! The consumer's inbox and checkpoint: a delivered event is applied in
//! the transaction that records its id (with the stream sequence and
//! signature it came with) and moves the checkpoint; an id seen before is
//! a duplicate, or a replay when the same signature came under another
//! stream sequence.

use std::collections::HashSet;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{ConsumerError, Delivered, Outcome, Projection, projection_lock};

/// Applies the delivered event unless the inbox has seen it.
pub(super) async fn apply_once<P: Projection>(
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
pub(super) async fn move_checkpoint(
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
pub(super) async fn record_all_in_inbox(
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
pub(super) async fn known_outcome(
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
