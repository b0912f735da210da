//! The event store benchmark's table (stdout) and JSON report.

use serde::Serialize;

use super::{
    cqrs_es::PEER,
    disintegrate::PEER as SECOND_PEER,
    measure::{CatchUp, Measurement, Timing},
    workload::PAYLOAD_BYTES,
};
use crate::output::{cores, hundredths, tenths, thousandths};

/// Step 12's targets: ours over cqrs-es at these writer counts...
const OVER_CQRS_ES: (&[usize], f64) = (&[8, 64], 1.5);
/// ...over a raw single-row insert with one writer (the durability limit
/// when each command waits for its own commit)...
const OVER_RAW_INSERT: (usize, f64) = (1, 0.85);
/// ...over disintegrate at every writer count and on a projection's
/// catch-up...
const OVER_DISINTEGRATE: f64 = 1.5;
/// ...the relay over raw JetStream publishing...
const RELAY_OVER_RAW_PUBLISH: f64 = 0.8;
/// ...and a rebuild's events per second.
const REBUILD_EVENTS_PER_S: f64 = 100_000.0;

/// The four appending contenders at one concurrency.
#[derive(Debug)]
pub struct AppendRow {
    pub writers: usize,
    pub ours: Measurement,
    pub raw_insert: Measurement,
    pub cqrs_es: Measurement,
    pub disintegrate: Measurement,
}

/// A fresh projection applying every event its store holds: our rebuild
/// and disintegrate's listener.
#[derive(Debug)]
pub struct CatchUps {
    pub ours: CatchUp,
    pub disintegrate: CatchUp,
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
    pub catch_ups: CatchUps,
    pub publishing: Publishing,
}

/// One target the issue sets: `value >= target`.
struct Ratio {
    name: String,
    key: String,
    value: f64,
    target: f64,
}

impl Report {
    fn ratios(&self) -> Vec<Ratio> {
        let mut ratios = Vec::new();
        for row in &self.appends {
            let ours = row.ours.per_second();
            let w = row.writers;
            if OVER_CQRS_ES.0.contains(&w) {
                ratios.push(Ratio {
                    name: format!("ours / cqrs-es at {w}"),
                    key: format!("ours_over_cqrs_es_at_{w}"),
                    value: ours / row.cqrs_es.per_second(),
                    target: OVER_CQRS_ES.1,
                });
            }
            if w == OVER_RAW_INSERT.0 {
                ratios.push(Ratio {
                    name: format!("ours / raw insert at {w}"),
                    key: format!("ours_over_raw_insert_at_{w}"),
                    value: ours / row.raw_insert.per_second(),
                    target: OVER_RAW_INSERT.1,
                });
            }
            ratios.push(Ratio {
                name: format!("ours / disintegrate at {w}"),
                key: format!("ours_over_disintegrate_at_{w}"),
                value: ours / row.disintegrate.per_second(),
                target: OVER_DISINTEGRATE,
            });
        }
        let c = &self.catch_ups;
        ratios.push(Ratio {
            name: "catch-up / disintegrate".to_owned(),
            key: "ours_catch_up_over_disintegrate".to_owned(),
            value: c.ours.per_second() / c.disintegrate.per_second(),
            target: OVER_DISINTEGRATE,
        });
        ratios.push(Ratio {
            name: "rebuild events/s / 100k".to_owned(),
            key: "ours_rebuild_over_100k_per_s".to_owned(),
            value: c.ours.per_second() / REBUILD_EVENTS_PER_S,
            target: 1.0,
        });
        ratios.push(Ratio {
            name: "relay / raw publish".to_owned(),
            key: "relay_over_raw_jetstream_publish".to_owned(),
            value: self.publishing.relay_events_per_s / self.publishing.raw_publish_per_s,
            target: RELAY_OVER_RAW_PUBLISH,
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
        println!("peers: {PEER} (PostgresEventRepository::persist, one event per command)");
        println!("       {SECOND_PEER} (EventStore::append with the account's query)");
        println!();
        println!("appends per second (p50 / p99 latency in ms)");
        println!(
            "{:>7} | {:>26} | {:>26} | {:>26} | {:>26}",
            "writers", "ours", "raw insert", "cqrs-es", "disintegrate"
        );
        for row in &self.appends {
            println!(
                "{:>7} | {} | {} | {} | {}",
                row.writers,
                cell(&row.ours),
                cell(&row.raw_insert),
                cell(&row.cqrs_es),
                cell(&row.disintegrate)
            );
        }
        println!();
        let c = &self.catch_ups;
        println!("a fresh projection applying every stored event");
        for (name, catch_up) in [
            ("ours (rebuild)", &c.ours),
            ("disintegrate (listener)", &c.disintegrate),
        ] {
            println!(
                "  {name:<30} {:>10.0} events/s ({} events in {:.2} s)",
                catch_up.per_second(),
                catch_up.events,
                catch_up.elapsed.as_secs_f64()
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
        println!("targets (Step 12)");
        for ratio in self.ratios() {
            let verdict = if ratio.value >= ratio.target {
                "met"
            } else {
                "NOT met"
            };
            println!(
                "  {:<28} {:>6.3}   target >= {:<4} {verdict}",
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
                disintegrate_appends_per_s: tenths(row.disintegrate.per_second()),
                disintegrate_p50_ms: hundredths(row.disintegrate.latency_ms(0.5)),
                disintegrate_p99_ms: hundredths(row.disintegrate.latency_ms(0.99)),
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
        let c = &self.catch_ups;
        JsonReport {
            results,
            targets,
            ours_rebuild_events_per_s: tenths(c.ours.per_second()),
            disintegrate_listener_events_per_s: tenths(c.disintegrate.per_second()),
            peer: PEER,
            disintegrate_peer: SECOND_PEER,
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
    ours_rebuild_events_per_s: f64,
    disintegrate_listener_events_per_s: f64,
    peer: &'static str,
    disintegrate_peer: &'static str,
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
    disintegrate_appends_per_s: f64,
    disintegrate_p50_ms: f64,
    disintegrate_p99_ms: f64,
}

#[derive(Debug, Serialize)]
struct JsonTarget {
    ratio: String,
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
