//! Running N writers for a fixed time and counting what they finish.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use tokio::task::JoinSet;

use crate::stats::quantile_ms;

/// One writer's command loop: each call runs one command to completion.
/// A writer works alone on its own streams, one command at a time, as one
/// client of a service would.
pub trait Writer: Send + 'static {
    fn command(&mut self) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// How long writers run before counting starts (connections are opened,
/// statements prepared, caches warm) and how long they are counted.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub warm_up: Duration,
    pub measure: Duration,
}

/// Commands finished inside the measured window and their latencies.
#[derive(Debug, Clone)]
pub struct Measurement {
    window: Duration,
    /// Sorted ascending.
    latencies: Vec<Duration>,
}

impl Measurement {
    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.window.as_secs_f64()
    }

    /// The latency at `quantile` (0..=1) by nearest rank, in milliseconds.
    pub fn latency_ms(&self, quantile: f64) -> f64 {
        quantile_ms(&self.latencies, quantile)
    }
}

/// Runs every writer until the window closes. A command counts if it
/// finishes inside the window, so throughput is what the window saw
/// complete; no new command starts after it closes.
pub async fn run_writers<W: Writer>(
    writers: Vec<W>,
    timing: Timing,
) -> anyhow::Result<Measurement> {
    let window_opens = Instant::now() + timing.warm_up;
    let window_closes = window_opens + timing.measure;
    let mut tasks = JoinSet::new();
    for mut writer in writers {
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let started = Instant::now();
                if started >= window_closes {
                    return anyhow::Ok(latencies);
                }
                writer.command().await?;
                let finished = Instant::now();
                if (window_opens..=window_closes).contains(&finished) {
                    latencies.push(finished - started);
                }
            }
        });
    }
    let mut latencies = Vec::new();
    // The first failure ends the measurement; dropping the set aborts the rest.
    while let Some(joined) = tasks.join_next().await {
        latencies.extend(joined??);
    }
    latencies.sort_unstable();
    Ok(Measurement {
        window: timing.measure,
        latencies,
    })
}

/// How fast a projection applied a store's events from scratch.
#[derive(Debug, Clone, Copy)]
pub struct CatchUp {
    pub events: u64,
    pub elapsed: Duration,
}

impl CatchUp {
    pub fn per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `commands` commands spread over the writers (for filling a store
/// before a measurement, not for timing).
pub async fn run_commands<W: Writer>(writers: Vec<W>, commands: usize) -> anyhow::Result<()> {
    let count = writers.len();
    anyhow::ensure!(count > 0, "no writers to run {commands} commands");
    let mut tasks = JoinSet::new();
    for (index, mut writer) in writers.into_iter().enumerate() {
        // The first `commands % count` writers take one more.
        let share = commands / count + usize::from(index < commands % count);
        tasks.spawn(async move {
            for _ in 0..share {
                writer.command().await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measurement(millis: &[u64]) -> Measurement {
        Measurement {
            window: Duration::from_secs(2),
            latencies: millis.iter().map(|&ms| Duration::from_millis(ms)).collect(),
        }
    }

    #[test]
    fn throughput_and_percentiles() {
        let m = measurement(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert!((m.per_second() - 5.0).abs() < f64::EPSILON);
        assert!((m.latency_ms(0.5) - 5.0).abs() < 1e-9);
        assert!(measurement(&[]).latency_ms(0.5).abs() < f64::EPSILON);
    }
}
