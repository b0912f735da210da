//! Event→projection lag, for every join and leave acknowledged inside the
//! window, watched by pollers that ask the read model for every
//! outstanding booking each [`POLL`] and stamp the poll that first finds
//! it (so a lag is at most one poll and one query late):
//!
//! - scheduling's own read model: `LeaveSession` acknowledged until the
//!   booking's row says COMPLETED (its event relayed to JetStream and
//!   applied by the `scheduling-read-models` consumer);
//! - across services: `JoinSession` acknowledged until the audit log's
//!   access log holds its SESSION_JOIN entry (relayed, heard by the audit
//!   log, appended to its own store, then projected into the hash chain).
//!   The entry carries the booking id but no id the bench knows, so it is
//!   found through the person's index.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use hellowork_proto::{auditlog::v1::AccessKind, scheduling::v1::BookingState};
use sqlx::PgPool;
use tokio::{
    sync::mpsc::{self, UnboundedSender, error::TryRecvError},
    task::JoinHandle,
    time::MissedTickBehavior,
};

/// Fine against lags of tens of milliseconds, and cheap for a database the
/// services are busy with: one indexed lookup per poll.
const POLL: Duration = Duration::from_millis(5);
/// A sample not visible after this long means the projection is stuck.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);

/// A booking's call acknowledged at `acked`.
#[derive(Debug)]
pub struct Sample {
    pub job_seeker_id: String,
    pub booking_id: String,
    pub acked: Instant,
}

/// Where a poller looks.
#[derive(Debug, Clone, Copy)]
pub enum Probe {
    /// Scheduling's `bookings` row in state COMPLETED.
    Completed,
    /// The audit log's SESSION_JOIN entry.
    Joined,
}

impl Probe {
    /// The bookings of `outstanding` visible now. Not prepared statements:
    /// their first plans are made while the tables are nearly empty, and
    /// PostgreSQL would keep a sequential scan for the whole run.
    async fn visible(
        self,
        pool: &PgPool,
        outstanding: &HashMap<String, (String, Instant)>,
    ) -> sqlx::Result<Vec<String>> {
        let bookings: Vec<&str> = outstanding.keys().map(String::as_str).collect();
        match self {
            Self::Completed => {
                sqlx::query_scalar(
                    "SELECT booking_id FROM bookings WHERE booking_id = ANY($1) AND state = $2",
                )
                .bind(bookings)
                .bind(BookingState::Completed as i32)
                .persistent(false)
                .fetch_all(pool)
                .await
            }
            Self::Joined => {
                // The access log keeps no clear job seeker id (Art. 7(2), 8);
                // a booking is one person's.
                sqlx::query_scalar(
                    "SELECT booking_id FROM access_log WHERE booking_id <> '' \
                     AND booking_id = ANY($1) AND access_kind = $2",
                )
                .bind(bookings)
                .bind(AccessKind::SessionJoin as i32)
                .persistent(false)
                .fetch_all(pool)
                .await
            }
        }
    }
}

/// Starts a poller; it ends once the sender is dropped and every sample it
/// sent is visible; its lags ascending.
pub fn watch(
    probe: Probe,
    pool: PgPool,
) -> (
    UnboundedSender<Sample>,
    JoinHandle<anyhow::Result<Vec<Duration>>>,
) {
    let (samples, received) = mpsc::unbounded_channel();
    (samples, tokio::spawn(poll(probe, pool, received)))
}

async fn poll(
    probe: Probe,
    pool: PgPool,
    mut received: mpsc::UnboundedReceiver<Sample>,
) -> anyhow::Result<Vec<Duration>> {
    // By booking: the person and the acknowledgement.
    let mut outstanding: HashMap<String, (String, Instant)> = HashMap::new();
    let mut lags = Vec::new();
    let mut sending = true;
    let mut ticks = tokio::time::interval(POLL);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        while sending {
            match received.try_recv() {
                Ok(sample) => {
                    outstanding.insert(sample.booking_id, (sample.job_seeker_id, sample.acked));
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => sending = false,
            }
        }
        if outstanding.is_empty() {
            if sending {
                continue;
            }
            pool.close().await;
            lags.sort_unstable();
            return Ok(lags);
        }
        let polled = Instant::now();
        for booking_id in probe.visible(&pool, &outstanding).await? {
            if let Some((_, acked)) = outstanding.remove(&booking_id) {
                lags.push(polled.saturating_duration_since(acked));
            }
        }
        if let Some(oldest) = outstanding.values().map(|(_, acked)| acked).min() {
            anyhow::ensure!(
                oldest.elapsed() < DRAIN_TIMEOUT,
                "{} bookings were not visible ({probe:?}) after {DRAIN_TIMEOUT:?}",
                outstanding.len()
            );
        }
    }
}
