//! The store's commit notifications, shared: one `LISTEN` session per store
//! however many followers (the relay, each tailing projection) wait for
//! commits. Every follower also polls, so a notification lost while the
//! session reconnects (or a follower subscribing just as the last one left)
//! costs at most one poll interval, never an event.

use std::{sync::Mutex, time::Duration};

use sqlx::PgPool;
use tokio::sync::watch;

/// How long the listening session waits before reconnecting.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// Hands out receivers that change with every commit notification of the
/// store's schema (`<schema>_outbox`), from this process' writers or any
/// other's.
#[derive(Debug, Default)]
pub(crate) struct CommitFeed {
    /// The live feed, if a follower is listening: a counter of
    /// notifications. Started by the first follower, ended with the last.
    live: Mutex<Option<watch::Sender<u64>>>,
}

impl CommitFeed {
    /// A receiver whose value changes after each notification; starts the
    /// listening session if no follower holds one.
    pub(crate) fn subscribe(&self, pool: &PgPool) -> watch::Receiver<u64> {
        let mut live = self
            .live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(sender) = live.as_ref().filter(|sender| !sender.is_closed()) {
            return sender.subscribe();
        }
        let (sender, receiver) = watch::channel(0);
        tokio::spawn(listen(pool.clone(), sender.clone()));
        *live = Some(sender);
        receiver
    }
}

/// Counts notifications into `feed` until no follower holds a receiver.
async fn listen(pool: PgPool, feed: watch::Sender<u64>) {
    loop {
        tokio::select! {
            () = feed.closed() => return,
            ended = follow(&pool, &feed) => {
                if let Err(error) = ended {
                    tracing::debug!(%error, "commit notifications interrupted; reconnecting");
                }
            }
        }
        tokio::select! {
            () = feed.closed() => return,
            () = tokio::time::sleep(RECONNECT_DELAY) => {}
        }
    }
}

async fn follow(pool: &PgPool, feed: &watch::Sender<u64>) -> Result<(), sqlx::Error> {
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(pool)
        .await?;
    let mut listener = crate::db::listen_outside(pool, &format!("{schema}_outbox")).await?;
    loop {
        listener.recv().await?;
        feed.send_modify(|count| *count = count.wrapping_add(1));
    }
}
