//! The event store benchmark's table (stdout) and JSON report.

use serde::Serialize;

use super::{cqrs_es::PEER, measure::Measurement, measure::Timing, workload::PAYLOAD_BYTES};
use crate::output::{cores, hundredths, tenths, thousandths};

/// The writer count the append targets are set at.
const TARGET_WRITERS: usize = 64;

/// The three appending contenders at one concurrency.
#[derive(Debug)]
pub struct AppendRow {
    pub writers: usize,
    pub ours: Measurement,
    pub raw_insert: Measurement,
    pub cqrs_es: Measurement,
}

/// Relay vs raw publishing of the same messages (not per concurrency).
#[derive(Debug)]
pub struct Publishing {
    pub events: usize,
    pub message_bytes: usize,
    pub relay_events_per_s: f64,
    pub raw_publish_per_s: f64,
}

#[derive(Debug)]
pub struct Report {
    pub timing: Timing,
    pub appends: Vec<AppendRow>,
    pub publishing: Publishing,
}

/// One target the issue sets: `numerator / denominator >= target`.
struct Ratio {
    name: &'static str,
    key: &'static str,
    value: f64,
    target: f64,
}

impl Report {
    fn ratios(&self) -> Vec<Ratio> {
        let mut ratios = Vec::new();
        if let Some(row) = self
            .appends
            .iter()
            .find(|row| row.writers == TARGET_WRITERS)
        {
            let ours = row.ours.per_second();
            ratios.push(Ratio {
                name: "ours / cqrs-es",
                key: "ours_over_cqrs_es",
                value: ours / row.cqrs_es.per_second(),
                target: 2.0,
            });
            ratios.push(Ratio {
                name: "ours / raw insert",
                key: "ours_over_raw_insert",
                value: ours / row.raw_insert.per_second(),
                target: 1.0,
            });
        }
        ratios.push(Ratio {
            name: "relay / raw publish",
            key: "relay_over_raw_jetstream_publish",
            value: self.publishing.relay_events_per_s / self.publishing.raw_publish_per_s,
            target: 0.5,
        });
        ratios
    }

    pub fn print(&self) {
        let cores = cores();
        println!(
            "event store: {} s per measurement after {:.1} s warm-up, {cores} cores, {PAYLOAD_BYTES} B payloads",
            self.timing.measure.as_secs_f64(),
            self.timing.warm_up.as_secs_f64(),
        );
        println!("peer: {PEER} (PostgresEventRepository::persist, one event per command)");
        println!();
        println!("appends per second (p50 / p99 latency in ms)");
        println!(
            "{:>7} | {:>26} | {:>26} | {:>26}",
            "writers", "ours", "raw insert", "cqrs-es"
        );
        for row in &self.appends {
            println!(
                "{:>7} | {} | {} | {}",
                row.writers,
                cell(&row.ours),
                cell(&row.raw_insert),
                cell(&row.cqrs_es)
            );
        }
        println!();
        let p = &self.publishing;
        println!(
            "publishing {} events ({} B envelopes)",
            p.events, p.message_bytes
        );
        println!(
            "  relay (outbox -> JetStream)   {:>10.0} events/s",
            p.relay_events_per_s
        );
        println!(
            "  raw JetStream async publish   {:>10.0} messages/s",
            p.raw_publish_per_s
        );
        println!();
        println!("targets (appends at {TARGET_WRITERS} writers)");
        for ratio in self.ratios() {
            let verdict = if ratio.value >= ratio.target {
                "met"
            } else {
                "NOT met"
            };
            println!(
                "  {:<20} {:>6.3}   target >= {:<4} {verdict}",
                ratio.name, ratio.value, ratio.target
            );
        }
    }

    /// The report file: `results` as the issue specifies (one object per
    /// concurrency, the publishing figures repeated in each), then extras.
    pub fn to_json(&self) -> JsonReport {
        let p = &self.publishing;
        let results = self
            .appends
            .iter()
            .map(|row| JsonRow {
                concurrency: row.writers,
                ours_appends_per_s: tenths(row.ours.per_second()),
                raw_insert_per_s: tenths(row.raw_insert.per_second()),
                cqrs_es_appends_per_s: tenths(row.cqrs_es.per_second()),
                relay_events_per_s: tenths(p.relay_events_per_s),
                raw_jetstream_publish_per_s: tenths(p.raw_publish_per_s),
                ours_p50_ms: hundredths(row.ours.latency_ms(0.5)),
                ours_p99_ms: hundredths(row.ours.latency_ms(0.99)),
                raw_insert_p50_ms: hundredths(row.raw_insert.latency_ms(0.5)),
                raw_insert_p99_ms: hundredths(row.raw_insert.latency_ms(0.99)),
                cqrs_es_p50_ms: hundredths(row.cqrs_es.latency_ms(0.5)),
                cqrs_es_p99_ms: hundredths(row.cqrs_es.latency_ms(0.99)),
            })
            .collect();
        let targets = self
            .ratios()
            .into_iter()
            .map(|ratio| JsonTarget {
                ratio: ratio.key,
                value: thousandths(ratio.value),
                target: ratio.target,
                met: ratio.value >= ratio.target,
            })
            .collect();
        JsonReport {
            results,
            targets,
            peer: PEER,
            seconds_per_measurement: self.timing.measure.as_secs_f64(),
            warm_up_seconds: self.timing.warm_up.as_secs_f64(),
            payload_bytes: PAYLOAD_BYTES,
            relay_events: p.events,
            message_bytes: p.message_bytes,
            cores: cores(),
        }
    }
}

/// `target/bench/eventstore.json`. Structs rather than `json!` so that the
/// fields keep this order in the file.
#[derive(Debug, Serialize)]
pub struct JsonReport {
    results: Vec<JsonRow>,
    targets: Vec<JsonTarget>,
    peer: &'static str,
    seconds_per_measurement: f64,
    warm_up_seconds: f64,
    payload_bytes: usize,
    relay_events: usize,
    message_bytes: usize,
    cores: usize,
}

#[derive(Debug, Serialize)]
struct JsonRow {
    concurrency: usize,
    ours_appends_per_s: f64,
    raw_insert_per_s: f64,
    cqrs_es_appends_per_s: f64,
    relay_events_per_s: f64,
    raw_jetstream_publish_per_s: f64,
    ours_p50_ms: f64,
    ours_p99_ms: f64,
    raw_insert_p50_ms: f64,
    raw_insert_p99_ms: f64,
    cqrs_es_p50_ms: f64,
    cqrs_es_p99_ms: f64,
}

#[derive(Debug, Serialize)]
struct JsonTarget {
    ratio: &'static str,
    value: f64,
    target: f64,
    met: bool,
}

fn cell(measurement: &Measurement) -> String {
    format!(
        "{:>8.0} ({:>6.2} / {:>6.2})",
        measurement.per_second(),
        measurement.latency_ms(0.5),
        measurement.latency_ms(0.99)
    )
}
