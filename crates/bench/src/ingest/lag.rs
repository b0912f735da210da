//! Append→view lag, sampled: for each acknowledged batch its last record
//! (the batch's records reach the access log in order, so the last one is
//! the latest), watched for by a poller that asks the access log for every
//! outstanding sample every [`POLL`] and stamps the poll that first finds it.
//! A row is visible by the time the query that finds it starts, so a lag is
//! at most one poll (plus one query) late.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use sqlx::PgPool;
use tokio::{
    sync::mpsc::{self, UnboundedSender, error::TryRecvError},
    task::JoinHandle,
    time::MissedTickBehavior,
};

/// Fine against lags of milliseconds, cheap for the database: one indexed
/// lookup of a few dozen ids.
const POLL: Duration = Duration::from_millis(2);
/// A sample not visible after this long means the projection is stuck, not
/// slow.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);

/// A record whose batch the service acknowledged at `acked`.
#[derive(Debug)]
pub struct Sample {
    pub record_id: String,
    pub acked: Instant,
}

/// What the poller saw once every sample was visible.
#[derive(Debug, Default)]
pub struct Lags {
    /// Ack to visible, ascending.
    pub sorted: Vec<Duration>,
    /// The poll that found the last sample.
    pub last_visible: Option<Instant>,
}

/// Starts a poller; it ends once the sender is dropped and every sample it
/// sent is visible.
pub fn watch(view: PgPool) -> (UnboundedSender<Sample>, JoinHandle<anyhow::Result<Lags>>) {
    let (samples, received) = mpsc::unbounded_channel();
    (samples, tokio::spawn(poll(view, received)))
}

async fn poll(view: PgPool, mut received: mpsc::UnboundedReceiver<Sample>) -> anyhow::Result<Lags> {
    let mut outstanding: HashMap<String, Instant> = HashMap::new();
    let mut lags = Lags::default();
    let mut sending = true;
    let mut ticks = tokio::time::interval(POLL);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        while sending {
            match received.try_recv() {
                Ok(sample) => {
                    outstanding.insert(sample.record_id, sample.acked);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => sending = false,
            }
        }
        if outstanding.is_empty() {
            if sending {
                continue;
            }
            lags.sorted.sort_unstable();
            return Ok(lags);
        }
        let ids: Vec<&str> = outstanding.keys().map(String::as_str).collect();
        let polled = Instant::now();
        // Not a prepared statement: its first plans are made while the log
        // is nearly empty, and PostgreSQL would keep the sequential scan that
        // suits an empty table for the whole run (seconds per poll at 10^5
        // rows). Planned afresh, every poll uses the record id index.
        let found: Vec<String> =
            sqlx::query_scalar("SELECT record_id FROM access_log WHERE record_id = ANY($1)")
                .bind(ids)
                .persistent(false)
                .fetch_all(&view)
                .await?;
        for record_id in found {
            if let Some(acked) = outstanding.remove(&record_id) {
                lags.sorted.push(polled.saturating_duration_since(acked));
                lags.last_visible = Some(polled);
            }
        }
        if let Some(oldest) = outstanding.values().min() {
            anyhow::ensure!(
                oldest.elapsed() < DRAIN_TIMEOUT,
                "{} acknowledged records were not in the access log after {DRAIN_TIMEOUT:?}",
                outstanding.len()
            );
        }
    }
}
