//! Read models written in the append's own transaction.
//!
//! Most read models follow the store (a consumer or a tailing projection)
//! and may lag it. A few must never lag: where a command finds what it acts
//! on (which schedule holds a booking, which person a refusal is of). Were
//! the request that appended writing those rows itself after the append, a
//! crash in between would leave a committed event its lookup cannot find.
//! An inline projection is handed each batch's events inside the batch's
//! transaction, so its rows commit with the events or not at all.

use std::fmt::Debug;

use futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::model::RecordedEvent;

/// A read model the store's writers keep in the append's transaction.
///
/// `apply` sees every event the batch writes, in order, and must be
/// idempotent (`INSERT … ON CONFLICT DO NOTHING`): a follower of the store
/// may write the same rows, and a rebuild replays them. It must not fail on
/// an event it cannot read (skip it: nothing else would be appended); a
/// database error it returns fails the whole batch, nothing written, and a
/// unique violation counts as a race with another writer (the batch is
/// planned again).
pub trait InlineProjection: Debug + Send + Sync + 'static {
    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), sqlx::Error>>;
}
