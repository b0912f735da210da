//! The ingest benchmark's table (stdout) and JSON report.

use std::time::Duration;

use serde::Serialize;

use super::{STREAMS, TARGET, ours::OursRun, raw::RawRun};
use crate::{
    output::{cores, hundredths, tenths, thousandths},
    stats::quantile_ms,
};

#[derive(Debug)]
pub struct Report {
    pub warm_up: Duration,
    pub sending: Duration,
    pub batch_size: usize,
    pub ours: OursRun,
    pub raw: RawRun,
}

impl Report {
    /// The figure: end to end (records in the access log), not
    /// merely acknowledged, against the raw path.
    fn ratio(&self) -> f64 {
        self.ours.visible_per_s() / self.raw.per_s()
    }

    pub fn print(&self) {
        let (ours, raw) = (&self.ours, &self.raw);
        println!(
            "ingest: {STREAMS} client streams, batches of {} records, {:.1} s of sending after {:.1} s warm-up, {} cores",
            self.batch_size,
            self.sending.as_secs_f64(),
            self.warm_up.as_secs_f64(),
            cores(),
        );
        println!(
            "{} records ({} batches) through RecordUsageBatch, the same through the raw path",
            ours.records,
            ours.batches.end - ours.batches.start
        );
        println!();
        println!("{:<42} {:>10}   batch p50 / p99 ms", "", "records/s");
        println!(
            "{:<42} {:>10.0}   {}",
            "ours, acknowledged (stored as events)",
            ours.acked_per_s(),
            batch_cell(&ours.batch_latencies)
        );
        println!(
            "{:<42} {:>10.0}",
            "ours, visible in the access log",
            ours.visible_per_s()
        );
        println!(
            "{:<42} {:>10.0}",
            "ours, published to JetStream (relay)",
            ours.published_per_s()
        );
        println!(
            "{:<42} {:>10.0}   {}",
            "raw batched INSERT + JetStream publish",
            raw.per_s(),
            batch_cell(&raw.batch_latencies)
        );
        println!();
        println!(
            "append->view lag (ack to row in access_log, {} samples): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ours.lags.len(),
            quantile_ms(&ours.lags, 0.5),
            quantile_ms(&ours.lags, 0.99),
            quantile_ms(&ours.lags, 1.0),
        );
        println!(
            "drain after the last ack: all records visible in {:.0} ms, all events published in {:.0} ms",
            ours.drain().as_secs_f64() * 1000.0,
            ours.relay_drain().as_secs_f64() * 1000.0
        );
        println!();
        let ratio = self.ratio();
        let verdict = if ratio >= TARGET { "met" } else { "NOT met" };
        println!("target (records visible per second)");
        println!("  ours / raw   {ratio:>6.3}   target >= {TARGET}   {verdict}");
    }

    pub fn to_json(&self) -> JsonReport {
        let (ours, raw) = (&self.ours, &self.raw);
        JsonReport {
            ours_records_per_s: tenths(ours.visible_per_s()),
            raw_records_per_s: tenths(raw.per_s()),
            ours_over_raw: thousandths(self.ratio()),
            target: TARGET,
            met: self.ratio() >= TARGET,
            lag_p50_ms: hundredths(quantile_ms(&ours.lags, 0.5)),
            lag_p99_ms: hundredths(quantile_ms(&ours.lags, 0.99)),
            lag_max_ms: hundredths(quantile_ms(&ours.lags, 1.0)),
            lag_samples: ours.lags.len(),
            drain_ms: hundredths(ours.drain().as_secs_f64() * 1000.0),
            ours_acked_records_per_s: tenths(ours.acked_per_s()),
            ours_published_records_per_s: tenths(ours.published_per_s()),
            relay_drain_ms: hundredths(ours.relay_drain().as_secs_f64() * 1000.0),
            ours_batch_p50_ms: hundredths(quantile_ms(&ours.batch_latencies, 0.5)),
            ours_batch_p99_ms: hundredths(quantile_ms(&ours.batch_latencies, 0.99)),
            raw_batch_p50_ms: hundredths(quantile_ms(&raw.batch_latencies, 0.5)),
            raw_batch_p99_ms: hundredths(quantile_ms(&raw.batch_latencies, 0.99)),
            records: ours.records,
            batch_size: self.batch_size,
            client_streams: STREAMS,
            sending_seconds: self.sending.as_secs_f64(),
            warm_up_seconds: self.warm_up.as_secs_f64(),
            cores: cores(),
        }
    }
}

/// `target/bench/ingest.json`: the fields first, then how they came
/// about. Structs rather than `json!` so that the fields keep this order.
#[derive(Debug, Serialize)]
pub struct JsonReport {
    /// Records visible in the access log per second, first send to last
    /// visible.
    ours_records_per_s: f64,
    raw_records_per_s: f64,
    ours_over_raw: f64,
    target: f64,
    met: bool,
    lag_p50_ms: f64,
    lag_p99_ms: f64,
    lag_max_ms: f64,
    lag_samples: usize,
    drain_ms: f64,
    /// Records acknowledged per second, first send to last acknowledgement.
    ours_acked_records_per_s: f64,
    /// Events the relay published per second, first send to empty outbox.
    ours_published_records_per_s: f64,
    relay_drain_ms: f64,
    ours_batch_p50_ms: f64,
    ours_batch_p99_ms: f64,
    raw_batch_p50_ms: f64,
    raw_batch_p99_ms: f64,
    records: u64,
    batch_size: usize,
    client_streams: usize,
    sending_seconds: f64,
    warm_up_seconds: f64,
    cores: usize,
}

fn batch_cell(sorted: &[Duration]) -> String {
    format!(
        "{:>7.2} / {:>7.2}",
        quantile_ms(sorted, 0.5),
        quantile_ms(sorted, 0.99)
    )
}
