//! The store's errors: what went wrong, and whether retrying can help.

use uuid::Uuid;

use crate::model::{ExpectedVersion, StreamId};

/// Input the store refuses before touching the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("stream id must be 1-200 printable ASCII characters without spaces: {0:?}")]
    StreamId(String),
    #[error("an append needs at least one event")]
    NoEvents,
    #[error("event id {0} appears twice in one append")]
    DuplicateEventId(Uuid),
    #[error("event type must be a non-empty identifier: {0:?}")]
    EventType(String),
    #[error("stream {0} appears twice in one atomic append")]
    StreamTwice(StreamId),
}

/// Why an append did not happen. Nothing was written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Optimistic concurrency: someone else appended first. Reload the stream
    /// (now at `actual`, 0 = no stream), decide again and retry.
    #[error("stream {stream} is at version {actual}, expected {expected}")]
    WrongExpectedVersion {
        stream: StreamId,
        expected: ExpectedVersion,
        actual: u64,
    },
    /// An event id was already stored as a different event (or elsewhere):
    /// ids must be unique, a retry must resend exactly the same events.
    #[error("event id {event_id} is already recorded as a different event")]
    EventIdReused { event_id: Uuid },
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The database or the store's own machinery failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("event store database error")]
    Database(#[from] sqlx::Error),
    #[error("event store migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// One database failure shared by every append of a failed batch.
    #[error("event store database error")]
    Shared(#[source] std::sync::Arc<sqlx::Error>),
    #[error("the event store's writer has stopped")]
    WriterStopped,
    /// Other processes kept winning the same streams; try again.
    #[error("event store contention: the append kept losing races to other writers")]
    Contention,
    #[error("stored event {event_id} is unreadable: {reason}")]
    Corrupt { event_id: Uuid, reason: String },
    #[error(transparent)]
    Upcast(#[from] crate::upcast::UpcastError),
}

impl StoreError {
    /// True when the same call may succeed later (database restarting,
    /// connection lost, pool exhausted), as opposed to a bug or bad data.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Database(error) => is_transient_sqlx(error),
            Self::Shared(error) => is_transient_sqlx(error),
            Self::WriterStopped | Self::Contention => true,
            Self::Migration(_) | Self::Corrupt { .. } | Self::Upcast(_) => false,
        }
    }
}

pub(crate) fn is_transient_sqlx(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => db
            .code()
            // Class 08: connection exception; class 53: insufficient
            // resources (e.g. too many connections); 57P0x: shutdown;
            // 40001/40P01: serialization/deadlock.
            .is_some_and(|code| {
                code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57P0")
                    || code == "40001"
                    || code == "40P01"
            }),
        _ => false,
    }
}

/// Postgres SQLSTATE 23505.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}
