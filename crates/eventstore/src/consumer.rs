//! Projections fed by durable JetStream consumers, and their rebuild.
//!
//! For the messages at hand (one, or as many as JetStream has delivered
//! while the last were applied, up to [`MAX_BATCH`]), one Postgres
//! transaction records the event ids in the consumer's inbox, applies the
//! projection to those that were new and moves the checkpoint; the messages
//! are acked only after that commit. A redelivery, even long after
//! JetStream's duplicate window, finds the id in the inbox and changes
//! nothing. `rebuild` replays the event store into the same tables.
//!
//! This file holds the projection's contract, the errors and the consumer's
//! configuration, with the types its parts share; [`runner`] consumes,
//! [`batch`] applies the messages at hand together, [`inbox`] records what
//! was applied, and [`rebuild`](mod@rebuild) replays the store.

mod batch;
mod inbox;
mod rebuild;
mod runner;

use std::{future::Future, sync::Arc, time::Duration};

use async_nats::jetstream::{self, AckKind};
use sqlx::{PgConnection, PgPool};
use tracing::Span;
use uuid::Uuid;

use crate::{
    error::StoreError, model::RecordedEvent, signing::TrustedProducers, upcast::Upcasters,
};

pub use rebuild::{RebuildReport, rebuild};

/// A read model kept in the service's Postgres schema.
///
/// `apply` must be deterministic in the event alone (no clocks, no random
/// ids, no reads of other mutable state) so that a rebuild reproduces the
/// live rows exactly.
pub trait Projection: Send + Sync + 'static {
    /// Stable name: the durable consumer, inbox and checkpoint are keyed by it.
    fn name(&self) -> &str;

    /// Whether events of `event_type` can change this projection. A
    /// consumer acks the others without a transaction or an inbox row (its
    /// checkpoint moves with the next event it handles); by default every
    /// event is handled.
    fn handles(&self, event_type: &str) -> bool {
        let _ = event_type;
        true
    }

    /// Applies one event inside the consumer's transaction. Events the
    /// projection does not care about are ignored.
    fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Applies a page of events in order inside one transaction; must equal
    /// applying them one by one. Tailing projections and rebuilds call this,
    /// so a projection can write a page in one statement.
    fn apply_all(
        &self,
        tx: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send {
        async move {
            for event in events {
                self.apply(tx, event).await?;
            }
            Ok(())
        }
    }

    /// Empties the projection's tables before a rebuild.
    fn reset(
        &self,
        tx: &mut PgConnection,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("projection database error")]
    Database(#[from] sqlx::Error),
    /// Something the projection depends on (a database, a concurrent writer)
    /// was in the way; the event is redelivered and tried again.
    #[error("event not applied for now; will retry")]
    Transient(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The event can never be applied (a bug or a payload it cannot read);
    /// retrying will not help.
    #[error("event {event_id} ({event_type}) cannot be applied: {reason}")]
    Rejected {
        event_id: Uuid,
        event_type: String,
        reason: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("consumer database error")]
    Database(#[from] sqlx::Error),
    #[error("jetstream consumer error: {0}")]
    JetStream(String),
}

/// Where a projection reads from.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// The JetStream stream, e.g. `HELLOWORK_REGISTRATION`.
    pub stream_name: String,
    /// Subjects to receive, e.g. `hellowork.registration.v1.>`.
    pub filter_subject: String,
    /// Redelivery if a message is not acked in time.
    pub ack_wait: Duration,
    /// Delay before a message that failed (database down) is retried.
    pub retry_delay: Duration,
    /// The keys of the stream's producer: an envelope none of them signed is
    /// refused ([`crate::signing`]).
    pub producers: TrustedProducers,
}

impl ConsumerConfig {
    pub fn new(
        stream_name: impl Into<String>,
        filter_subject: impl Into<String>,
        producers: TrustedProducers,
    ) -> Self {
        Self {
            stream_name: stream_name.into(),
            filter_subject: filter_subject.into(),
            producers,
            ack_wait: Duration::from_secs(30),
            retry_delay: Duration::from_millis(500),
        }
    }
}

/// Runs one projection from its durable consumer.
#[derive(Debug)]
pub struct ProjectionRunner<P> {
    projection: Arc<P>,
    pool: PgPool,
    jetstream: jetstream::Context,
    config: ConsumerConfig,
    upcasters: Upcasters,
}

async fn ack(message: &jetstream::Message, kind: AckKind) {
    // A lost ack only means a redelivery, which the inbox absorbs.
    if let Err(error) = message.ack_with(kind).await {
        tracing::debug!(%error, "ack not sent");
    }
}

/// Key of the advisory lock that keeps live consumption (shared) and a
/// rebuild (exclusive) of one projection apart.
pub(crate) fn projection_lock(name: &str) -> String {
    format!("hellowork.projection.{name}")
}

/// A trusted message, read.
struct Delivered {
    event: RecordedEvent,
    /// Its stream sequence.
    sequence: u64,
    /// The producer's signature, which tells a replayed copy (the same
    /// signature under another stream sequence) from a republication (the
    /// producer signs each publication anew).
    signature: Vec<u8>,
    span: Span,
}

/// What became of a delivered event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Applied,
    /// Seen before: a redelivery, or the producer publishing it again.
    Duplicate,
    /// An exact copy of a message applied before, stored again on the stream.
    Replayed,
}
