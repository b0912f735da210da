//! The store's commit notifications, shared by every follower (the relay,
//! each tailing projection).
//!
//! - Followers in this process are woken by the writers themselves, straight
//!   after each commit: no round trip, no delay.
//! - Followers in other processes (a standby relay, another replica's
//!   tailing projections) hear `NOTIFY <schema>_outbox`, sent from a
//!   connection of the store's own, outside the appends' transactions, and
//!   at most once per [`NOTIFY_INTERVAL`]: each notification is a
//!   transaction of its own with a commit record to flush, which at one
//!   writer would double the flushes per append. One `LISTEN` session per
//!   store serves all of this process' followers.
//!
//! Every follower also polls, so a notification lost while the session
//! reconnects costs at most one poll interval, never an event.

use std::{sync::Mutex, time::Duration};

use sqlx::PgPool;
use tokio::{
    sync::{mpsc, watch},
    task::JoinHandle,
};

/// How long the listening session waits before reconnecting.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);
/// The most often another process is told of commits: what a follower
/// elsewhere may wait beyond a commit, against one flushed transaction per
/// notification.
const NOTIFY_INTERVAL: Duration = Duration::from_millis(5);

/// A counter that changes after every commit, from this process' writers
/// or (through `LISTEN`) any other's.
#[derive(Debug)]
pub(crate) struct CommitFeed {
    feed: watch::Sender<u64>,
    /// Wakes the notifier task; capacity one, so commits arriving while a
    /// signal is pending coalesce into it.
    notify_others: mpsc::Sender<()>,
    /// The `LISTEN` session, started by the first follower and ended when no
    /// follower holds a receiver.
    listening: Mutex<Option<JoinHandle<()>>>,
}

impl CommitFeed {
    /// A feed whose cross-process notifications are sent on `pool` until the
    /// feed is dropped; must be called inside a Tokio runtime.
    pub(crate) fn new(pool: PgPool) -> Self {
        let (notify_others, signals) = mpsc::channel(1);
        tokio::spawn(notify_other_processes(pool, signals));
        Self {
            feed: watch::channel(0).0,
            notify_others,
            listening: Mutex::new(None),
        }
    }

    /// Called by a writer after a commit that wrote events.
    pub(crate) fn committed(&self) {
        self.feed
            .send_modify(|count| *count = count.wrapping_add(1));
        // A full channel already carries a pending notification.
        let _ = self.notify_others.try_send(());
    }

    /// A receiver whose value changes after each commit; starts the
    /// listening session if it is not running.
    pub(crate) fn subscribe(&self, pool: &PgPool) -> watch::Receiver<u64> {
        let receiver = self.feed.subscribe();
        let mut listening = self
            .listening
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if listening.as_ref().is_none_or(JoinHandle::is_finished) {
            *listening = Some(tokio::spawn(listen(pool.clone(), self.feed.clone())));
        }
        receiver
    }
}

impl Drop for CommitFeed {
    fn drop(&mut self) {
        if let Some(session) = self.listening.get_mut().ok().and_then(Option::take) {
            session.abort();
        }
    }
}

/// Sends one notification per signal, then lets further commits coalesce
/// for [`NOTIFY_INTERVAL`]. Ends when the feed is gone.
async fn notify_other_processes(pool: PgPool, mut signals: mpsc::Receiver<()>) {
    while signals.recv().await.is_some() {
        let notified = sqlx::query("SELECT pg_notify(current_schema() || '_outbox', '')")
            .execute(&pool)
            .await;
        if let Err(error) = notified {
            // The followers' polling covers a lost wake-up.
            tracing::debug!(%error, "commit notification not sent");
        }
        tokio::time::sleep(NOTIFY_INTERVAL).await;
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
