//! Applying the messages at hand in one transaction. One commit (and one
//! fsync) per message bounded a consumer to a few hundred events a second,
//! which a busy peer outruns; a batch shares the commit, the advisory lock
//! and the checkpoint. If the batch fails, its messages are applied one by
//! one, so a poison message is still settled alone and the others pass.

use std::{future::Future, pin::Pin};

use async_nats::jetstream::{self, AckKind};
use sqlx::PgPool;
use tracing::{Instrument, Span};

use super::{
    ConsumerError, Delivered, Outcome, Projection, ProjectionRunner, ack,
    inbox::{known_outcome, move_checkpoint, record_all_in_inbox},
    projection_lock,
};

/// At most this many messages share a transaction.
pub(super) const MAX_BATCH: usize = 256;

impl<P: Projection> ProjectionRunner<P> {
    /// Applies and acks `messages`, delivered in this order.
    pub(super) async fn handle_all(&self, messages: &[jetstream::Message]) {
        let mut readable = Vec::with_capacity(messages.len());
        for message in messages {
            let Some(delivered) = self.read(message).await else {
                continue;
            };
            if self.projection.handles(&delivered.event.event_type) {
                readable.push((message, delivered));
            } else {
                self.count(self.projection.name(), "ignored");
                ack(message, AckKind::Ack).await;
            }
        }
        let [first, ..] = readable.as_slice() else {
            return;
        };
        if readable.len() == 1 {
            let (message, delivered) = first;
            return self
                .apply_and_ack(message, delivered)
                .instrument(delivered.span.clone())
                .await;
        }
        let delivered: Vec<&Delivered> = readable.iter().map(|(_, d)| d).collect();
        // Each event's span covers the transaction that applied it.
        let spans = delivered.iter().map(|d| d.span.clone());
        let applying = apply_batch(&self.pool, self.projection.as_ref(), &delivered);
        match within_spans(applying, spans).await {
            Ok(outcomes) => {
                let name = self.projection.name();
                for ((message, delivered), outcome) in readable.iter().zip(outcomes) {
                    match outcome {
                        Outcome::Applied => self.count(name, "applied"),
                        Outcome::Duplicate => self.count(name, "duplicate"),
                        Outcome::Replayed => {
                            tracing::error!(
                                consumer = name,
                                sequence = delivered.sequence,
                                "replayed envelope refused"
                            );
                            self.refuse(name, "replayed", message).await;
                            continue;
                        }
                    }
                    ack(message, AckKind::Ack).await;
                }
            }
            Err(error) => {
                tracing::debug!(
                    consumer = self.projection.name(),
                    error = &error as &dyn std::error::Error,
                    "batch not applied; applying its messages one by one"
                );
                for (message, delivered) in &readable {
                    self.apply_and_ack(message, delivered)
                        .instrument(delivered.span.clone())
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
/// that also moves the checkpoint to the batch's last sequence; returns
/// each message's outcome, in order (the first delivery of an event is the
/// one applied).
async fn apply_batch<P: Projection>(
    pool: &PgPool,
    projection: &P,
    delivered: &[&Delivered],
) -> Result<Vec<Outcome>, ConsumerError> {
    let name = projection.name();
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))")
        .bind(projection_lock(name))
        .execute(&mut *tx)
        .await?;
    let fresh = record_all_in_inbox(&mut tx, name, delivered).await?;
    let mut pending = fresh.clone();
    let mut outcomes = Vec::with_capacity(delivered.len());
    let mut new = Vec::with_capacity(fresh.len());
    for message in delivered {
        if pending.remove(&message.event.event_id) {
            new.push(message.event.clone());
            outcomes.push(Outcome::Applied);
        } else {
            outcomes.push(known_outcome(&mut tx, name, message).await?);
        }
    }
    projection.apply_all(&mut tx, &new).await?;
    let last_sequence = delivered.iter().map(|d| d.sequence).max();
    if let (Some(last_sequence), Some(last)) = (last_sequence, delivered.last()) {
        move_checkpoint(&mut tx, name, last_sequence, last.event.event_id).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}
