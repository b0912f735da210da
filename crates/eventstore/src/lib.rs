//! The event-sourcing kernel every Hello Work service stands on.
//!
//! - [`EventStore`]: append-only streams in the service's own Postgres schema,
//!   optimistic concurrency per stream, idempotent on event id, group commit,
//!   and a transactional outbox written in the same statement as the events.
//! - [`Relay`]: publishes the outbox to NATS JetStream with `Nats-Msg-Id` =
//!   event id, in commit order, surviving outages; one leader per store;
//!   every envelope signed by the producer ([`signing`]).
//! - [`ProjectionRunner`] and [`rebuild`]: checkpointed, idempotent read
//!   models fed by durable JetStream consumers, rebuildable from the store;
//!   an envelope its stream's producer did not sign, or a replayed copy, is
//!   refused and counted, never applied.
//! - [`TailingRunner`]: a projection of the service's own events in exactly
//!   the store's commit order (for order-sensitive read models).
//! - [`Aggregate`] and [`Repository`]: the pure decide/apply shape of domain
//!   code and its loading and saving; [`CachedRepository`] keeps folded
//!   streams in memory between commands, bounded by the bytes they take;
//!   with a [`CommitFollower`] it answers reads from memory while nothing
//!   newer of the stream has been committed.
//! - [`Upcasters`]: old event schemas stay readable.
//! - [`rewrite`]: a legal erasure's exception to immutability: stored
//!   payloads and published messages rewritten as the caller decides.

mod aggregate;
mod cached;
mod commit_feed;
mod consumer;
mod db;
pub mod envelope;
mod error;
mod follower;
mod inline;
mod jetstream;
pub mod metrics;
mod model;
mod plan;
mod relay;
pub mod rewrite;
pub mod signing;
mod store;
mod tail;
pub mod unsigned;
mod upcast;
mod writer;

pub use aggregate::{Aggregate, DomainEvent, ExecuteError, Loaded, Repository};
pub use cached::{Applied, CachedRepository, Fold, Paired};
pub use consumer::{
    ConsumerConfig, ConsumerError, Projection, ProjectionError, ProjectionRunner, RebuildReport,
    rebuild,
};
pub use db::{SchemaName, connect, migrate, schema_fingerprint};
pub use error::{AppendError, InvalidInput, StoreError};
pub use follower::{CommitFollower, Epoch, FollowConfig};
pub use inline::InlineProjection;
pub use jetstream::{EventStreamConfig, ensure_stream};
pub use model::{
    Actor, AppendOutcome, EventMetadata, ExpectedVersion, GlobalPosition, NewEvent, RecordedEvent,
    StreamId,
};
pub use relay::{Relay, RelayConfig, RelayError};
pub use signing::{EventSigner, SignatureError, TrustedProducers};
pub use store::{EventStore, StoreConfig};
pub use tail::{TailConfig, TailingRunner};
pub use upcast::{UpcastError, Upcasters};
