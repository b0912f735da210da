//! Applying the messages at hand in one transaction. One commit (and one
//! fsync) per message bounded a consumer to a few hundred events a second,
//! which a busy peer outruns; a batch shares the commit, the advisory lock
//! and the checkpoint. If the batch fails, its messages are applied one by
//! one, so a poison message is still settled alone and the others pass.

use std::{collections::HashSet, future::Future, pin::Pin};

use async_nats::jetstream::{self, AckKind};
use sqlx::{PgConnection, PgPool};
use tracing::{Instrument, Span};
use uuid::Uuid;

use super::{ConsumerError, Projection, ProjectionRunner, ack, projection_lock};
use crate::model::RecordedEvent;

/// At most this many messages share a transaction.
pub(super) const MAX_BATCH: usize = 256;

impl<P: Projection> ProjectionRunner<P> {
    /// Applies and acks `messages`, delivered in this order.
    pub(super) async fn handle_all(&self, messages: &[jetstream::Message]) {
        let mut readable = Vec::with_capacity(messages.len());
        for message in messages {
            let Some((event, sequence, span)) = self.read(message).await else {
                continue;
            };
            if self.projection.handles(&event.event_type) {
                readable.push((message, event, sequence, span));
            } else {
                self.count(self.projection.name(), "ignored");
                ack(message, AckKind::Ack).await;
            }
        }
        let [first, ..] = readable.as_slice() else {
            return;
        };
        if readable.len() == 1 {
            let (message, event, sequence, span) = first;
            return self
                .apply_and_ack(message, event, *sequence)
                .instrument(span.clone())
                .await;
        }
        let events: Vec<RecordedEvent> = readable.iter().map(|(_, e, _, _)| e.clone()).collect();
        let last = readable
            .iter()
            .map(|(_, _, s, _)| *s)
            .max()
            .unwrap_or_default();
        // Each event's span covers the transaction that applied it.
        let spans = readable.iter().map(|(_, _, _, span)| span.clone());
        let applying = apply_batch(&self.pool, self.projection.as_ref(), &events, last);
        match within_spans(applying, spans).await {
            Ok(fresh) => {
                let name = self.projection.name();
                for ((message, event, _, _), _) in readable.iter().zip(&events) {
                    let applied = fresh.contains(&event.event_id);
                    self.count(name, if applied { "applied" } else { "duplicate" });
                    ack(message, AckKind::Ack).await;
                }
            }
            Err(error) => {
                tracing::debug!(
                    consumer = self.projection.name(),
                    error = &error as &dyn std::error::Error,
                    "batch not applied; applying its messages one by one"
                );
                for (message, event, sequence, span) in &readable {
                    self.apply_and_ack(message, event, *sequence)
                        .instrument(span.clone())
                        .await;
                }
            }
        }
    }
}

/// `future`, polled inside every span of `spans`.
fn within_spans<'a, T: 'a>(
    future: impl Future<Output = T> + Send + 'a,
    spans: impl Iterator<Item = Span>,
) -> Pin<Box<dyn Future<Output = T> + Send + 'a>> {
    let mut future: Pin<Box<dyn Future<Output = T> + Send + 'a>> = Box::pin(future);
    for span in spans {
        future = Box::pin(future.instrument(span));
    }
    future
}

/// Applies the events the inbox has not seen, in order, in one transaction
/// that also moves the checkpoint to `last_sequence`; returns the ids
/// applied (the first delivery of each).
async fn apply_batch<P: Projection>(
    pool: &PgPool,
    projection: &P,
    events: &[RecordedEvent],
    last_sequence: u64,
) -> Result<HashSet<Uuid>, ConsumerError> {
    let name = projection.name();
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))")
        .bind(projection_lock(name))
        .execute(&mut *tx)
        .await?;
    let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
    let fresh = record_all_in_inbox(&mut tx, name, &ids).await?;
    let mut pending = fresh.clone();
    let new: Vec<RecordedEvent> = events
        .iter()
        .filter(|e| pending.remove(&e.event_id))
        .cloned()
        .collect();
    projection.apply_all(&mut tx, &new).await?;
    if let Some(last) = events.last() {
        super::move_checkpoint(&mut tx, name, last_sequence, last.event_id).await?;
    }
    tx.commit().await?;
    Ok(fresh)
}

/// Records `ids` in the inbox; returns those that were not there before.
async fn record_all_in_inbox(
    tx: &mut PgConnection,
    consumer: &str,
    ids: &[Uuid],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO consumer_inbox (consumer, event_id) SELECT $1, id FROM UNNEST($2::uuid[]) AS id \
         ON CONFLICT DO NOTHING RETURNING event_id",
    )
    .bind(consumer)
    .bind(ids)
    .fetch_all(tx)
    .await
    .map(|inserted: Vec<Uuid>| inserted.into_iter().collect())
}
