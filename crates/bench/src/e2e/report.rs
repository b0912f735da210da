//! The e2e benchmark's table (stdout) and JSON report.

use std::time::Duration;

use serde::Serialize;

use super::{
    TARGET_P99_MS, TARGET_USERS,
    metrics::Lag,
    monitor::{Process, Usage},
    record::{Method, Recorder},
};
use crate::{
    output::{cores, hundredths, tenths},
    stats::quantile_ms,
};

const MIB: f64 = 1024.0 * 1024.0;

#[derive(Debug)]
pub struct Report {
    pub users: usize,
    pub counsellors: usize,
    pub think: Duration,
    pub setup: Duration,
    pub warm_up: Duration,
    pub window: Duration,
    /// Sorted.
    pub calls: Recorder,
    /// LeaveSession ack → scheduling's booking row COMPLETED, ascending.
    pub completed_lags: Vec<Duration>,
    /// JoinSession ack → the audit log's SESSION_JOIN entry, ascending.
    pub joined_lags: Vec<Duration>,
    pub usage: Usage,
}

impl Report {
    fn per_s(&self, count: usize) -> f64 {
        count as f64 / self.window.as_secs_f64()
    }

    fn bookings_per_s(&self) -> f64 {
        self.per_s(self.calls.count(Method::BookSession))
    }

    /// Page views, joins and leaves: each one an Art. 7(1) usage record.
    fn usage_records_per_s(&self) -> f64 {
        let records = self
            .calls
            .calls
            .keys()
            .filter(|method| method.is_usage_record())
            .map(|&method| self.calls.count(method))
            .sum();
        self.per_s(records)
    }

    fn booking_p99_ms(&self) -> f64 {
        self.calls
            .calls
            .get(&Method::BookSession)
            .map_or(0.0, |calls| quantile_ms(&calls.latencies, 0.99))
    }

    fn met(&self) -> bool {
        self.calls.count(Method::BookSession) > 0 && self.booking_p99_ms() < TARGET_P99_MS
    }

    pub fn print(&self) {
        println!(
            "e2e: {} users, {} counsellors, think time {} ms, {:.1} s measured after {:.1} s warm-up \
             (set-up {:.1} s), {} cores",
            self.users,
            self.counsellors,
            self.think.as_millis(),
            self.window.as_secs_f64(),
            self.warm_up.as_secs_f64(),
            self.setup.as_secs_f64(),
            cores()
        );
        println!(
            "bookings {:.1}/s, usage records {:.1}/s (page views + joins + leaves)",
            self.bookings_per_s(),
            self.usage_records_per_s()
        );
        println!();
        println!(
            "{:<28} {:>8} {:>7} {:>9} {:>9} {:>9}",
            "method (client side)", "calls", "errors", "p50 ms", "p95 ms", "p99 ms"
        );
        for (method, calls) in &self.calls.calls {
            let errors = if calls.errors.is_empty() {
                String::new()
            } else {
                format!("  {:?}", calls.errors)
            };
            println!(
                "{:<28} {:>8} {:>7} {:>9.2} {:>9.2} {:>9.2}{errors}",
                method.name(),
                calls.latencies.len(),
                calls.error_count(),
                quantile_ms(&calls.latencies, 0.5),
                quantile_ms(&calls.latencies, 0.95),
                quantile_ms(&calls.latencies, 0.99),
            );
        }
        println!();
        println!("event -> projection lag              samples   p50 ms   p99 ms   max ms");
        for (name, lags) in [
            ("LeaveSession -> scheduling view", &self.completed_lags),
            ("JoinSession -> audit access log", &self.joined_lags),
        ] {
            println!(
                "{name:<36} {:>8} {:>8.1} {:>8.1} {:>8.1}",
                lags.len(),
                quantile_ms(lags, 0.5),
                quantile_ms(lags, 0.99),
                quantile_ms(lags, 1.0)
            );
        }
        println!();
        println!("method (server side, /metrics)            calls   mean ms");
        for served in &self.usage.served {
            println!(
                "{:<41} {:>5.0} {:>9.2}",
                format!("{} ({})", short(&served.method), served.service.name()),
                served.calls,
                served.mean_ms
            );
        }
        println!();
        println!("projection (service's /metrics)           applied/s   max behind");
        for projection in &self.usage.projections {
            let behind = match projection.max_lag {
                Lag::Messages(messages) => format!("{messages:.0} messages"),
                Lag::Seconds(seconds) => format!("{seconds:.2} s"),
            };
            println!(
                "{:<41} {:>9.1}   {behind}",
                format!("{} ({})", projection.name, projection.service.name()),
                projection.applied_per_s
            );
        }
        println!();
        println!(
            "process           CPU % of a core   peak RSS MiB   max outbox backlog   append conflicts"
        );
        let row = |name: &str, process: &Process, service: bool| {
            let (backlog, conflicts) = if service {
                (
                    process
                        .max_backlog
                        .map_or_else(|| "-".to_owned(), |backlog| format!("{backlog:.0}")),
                    format!("{:.0}", process.conflicts),
                )
            } else {
                ("-".to_owned(), "-".to_owned())
            };
            println!(
                "{name:<17} {:>15.0} {:>14.1} {backlog:>20} {conflicts:>18}",
                process.cpu_percent,
                process.peak_rss_bytes as f64 / MIB,
            );
        };
        for (service, process) in &self.usage.services {
            row(service.name(), process, true);
        }
        row("bench (clients)", &self.usage.bench, false);
        println!(
            "machine           {:>15.0}   (of {}; the rest is PostgreSQL, NATS and others)",
            self.usage.machine_cpu_percent,
            cores() * 100
        );
        println!();
        let verdict = if self.met() { "met" } else { "NOT met" };
        let at = if self.users == TARGET_USERS {
            String::new()
        } else {
            format!(
                " (the target is set at {TARGET_USERS} users; this run had {})",
                self.users
            )
        };
        println!(
            "target: p99 BookSession < {TARGET_P99_MS} ms at {TARGET_USERS} users: {:.1} ms, {verdict}{at}",
            self.booking_p99_ms()
        );
    }

    pub fn to_json(&self) -> JsonReport {
        let lag = |lags: &[Duration]| JsonLag {
            samples: lags.len(),
            p50_ms: hundredths(quantile_ms(lags, 0.5)),
            p99_ms: hundredths(quantile_ms(lags, 0.99)),
            max_ms: hundredths(quantile_ms(lags, 1.0)),
        };
        let process = |name: &str, process: &Process| JsonProcess {
            process: name.to_owned(),
            cpu_percent: tenths(process.cpu_percent),
            peak_rss_mib: tenths(process.peak_rss_bytes as f64 / MIB),
            max_outbox_backlog: process.max_backlog,
            append_conflicts: process.conflicts,
        };
        JsonReport {
            bookings_per_s: tenths(self.bookings_per_s()),
            usage_records_per_s: tenths(self.usage_records_per_s()),
            methods: self
                .calls
                .calls
                .iter()
                .map(|(method, calls)| JsonMethod {
                    method: method.name(),
                    calls: calls.latencies.len(),
                    errors: calls.error_count(),
                    p50_ms: hundredths(quantile_ms(&calls.latencies, 0.5)),
                    p95_ms: hundredths(quantile_ms(&calls.latencies, 0.95)),
                    p99_ms: hundredths(quantile_ms(&calls.latencies, 0.99)),
                })
                .collect(),
            served: self
                .usage
                .served
                .iter()
                .map(|served| JsonServed {
                    method: served.method.clone(),
                    service: served.service.name(),
                    calls: served.calls,
                    mean_ms: hundredths(served.mean_ms),
                })
                .collect(),
            lag_leave_to_scheduling_view: lag(&self.completed_lags),
            lag_join_to_audit_access_log: lag(&self.joined_lags),
            projections: self
                .usage
                .projections
                .iter()
                .map(|projection| {
                    let (max_behind_messages, max_behind_seconds) = match projection.max_lag {
                        Lag::Messages(messages) => (Some(messages), None),
                        Lag::Seconds(seconds) => (None, Some(hundredths(seconds))),
                    };
                    JsonProjection {
                        projection: projection.name.clone(),
                        service: projection.service.name(),
                        applied_per_s: tenths(projection.applied_per_s),
                        max_behind_messages,
                        max_behind_seconds,
                    }
                })
                .collect(),
            processes: self
                .usage
                .services
                .iter()
                .map(|(service, usage)| process(service.name(), usage))
                .chain([process("bench", &self.usage.bench)])
                .collect(),
            machine_cpu_percent: tenths(self.usage.machine_cpu_percent),
            target_booking_p99_ms: TARGET_P99_MS,
            target_users: TARGET_USERS,
            booking_p99_ms: hundredths(self.booking_p99_ms()),
            met: self.met(),
            users: self.users,
            counsellors: self.counsellors,
            think_ms: self.think.as_millis(),
            seconds: self.window.as_secs_f64(),
            warm_up_seconds: self.warm_up.as_secs_f64(),
            setup_seconds: tenths(self.setup.as_secs_f64()),
            cores: cores(),
        }
    }
}

/// `Method` of `hellowork.<service>.v1.<Service>/Method`.
fn short(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `target/bench/e2e.json`: the figures first, then how they came
/// about. Structs rather than `json!` so that the fields keep this order.
#[derive(Debug, Serialize)]
pub struct JsonReport {
    bookings_per_s: f64,
    /// Page views, joins and leaves per second.
    usage_records_per_s: f64,
    methods: Vec<JsonMethod>,
    /// The same calls, and the peers' calls they caused, as servers timed them.
    served: Vec<JsonServed>,
    lag_leave_to_scheduling_view: JsonLag,
    lag_join_to_audit_access_log: JsonLag,
    projections: Vec<JsonProjection>,
    processes: Vec<JsonProcess>,
    /// All cores, in percent of one.
    machine_cpu_percent: f64,
    target_booking_p99_ms: f64,
    target_users: usize,
    booking_p99_ms: f64,
    met: bool,
    users: usize,
    counsellors: usize,
    think_ms: u128,
    seconds: f64,
    warm_up_seconds: f64,
    setup_seconds: f64,
    cores: usize,
}

#[derive(Debug, Serialize)]
struct JsonMethod {
    method: &'static str,
    calls: usize,
    errors: u64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
}

#[derive(Debug, Serialize)]
struct JsonServed {
    method: String,
    service: &'static str,
    calls: f64,
    mean_ms: f64,
}

#[derive(Debug, Serialize)]
struct JsonLag {
    samples: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

#[derive(Debug, Serialize)]
struct JsonProjection {
    projection: String,
    service: &'static str,
    applied_per_s: f64,
    /// JetStream-fed projections: messages not yet received.
    max_behind_messages: Option<f64>,
    /// Projections tailing their own store: age of the oldest event not
    /// yet applied.
    max_behind_seconds: Option<f64>,
}

#[derive(Debug, Serialize)]
struct JsonProcess {
    process: String,
    /// Percent of one core, averaged over the window.
    cpu_percent: f64,
    peak_rss_mib: f64,
    /// `None` for the bench, or a service whose gauge never appeared.
    max_outbox_backlog: Option<f64>,
    /// Appends decided again after losing a race for their stream.
    append_conflicts: f64,
}
