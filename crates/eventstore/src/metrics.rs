//! Metric hooks of the kernel, through the `metrics` facade: whichever
//! exporter the service installs (Prometheus) receives them; without one they
//! cost nothing. Labels carry service, consumer and outcome names only, never
//! stream ids or anything else about a person (Art. 8).
//!
//! Counters of rare events an alert or dashboard watches (conflicts, batch
//! retries, redeliveries, rebuilds, relay failures) are registered at zero
//! when their component starts, so the series exists before the first
//! occurrence and `increase()` sees that first one. That needs the exporter
//! installed before the store is created (the services' `main` does so).

use std::time::Duration;

use crate::error::AppendError;

/// Counter of appends by `service` and `outcome`: `appended`,
/// `already_recorded` (a retried command), `conflict` (the expected version
/// was not met: `WrongExpectedVersion`), `rejected` or `error`.
pub const APPENDS: &str = "eventstore_appends_total";
/// Histogram of an append's duration, queueing for the group commit included.
pub const APPEND_SECONDS: &str = "eventstore_append_duration_seconds";
/// Histogram of how many appends shared one commit.
pub const APPEND_BATCH_SIZE: &str = "eventstore_append_batch_size";
/// Counter of batches planned again after losing a race to another process.
pub const APPEND_BATCH_RETRIES: &str = "eventstore_append_batch_retries_total";
/// Gauge of outbox rows not yet acknowledged by JetStream, by `service`
/// (reported by the relay leader about once a second).
pub const OUTBOX_BACKLOG: &str = "eventstore_outbox_backlog";
/// Gauge of the age of the oldest unpublished outbox row, by `service`.
pub const RELAY_LAG_SECONDS: &str = "eventstore_relay_lag_seconds";
/// Counter of events acknowledged by JetStream, by `service` and `outcome`
/// (`stored`, or `duplicate` when JetStream already had it).
pub const RELAY_PUBLISHED: &str = "eventstore_relay_published_total";
/// Counter of relay interruptions (NATS or PostgreSQL unavailable).
pub const RELAY_FAILURES: &str = "eventstore_relay_publish_failures_total";
/// Gauge: 1 while this process's relay leads its store's publishing.
pub const RELAY_LEADER: &str = "eventstore_relay_leader";
/// Gauge of messages a durable consumer has yet to receive, by `consumer`.
pub const CONSUMER_LAG: &str = "eventstore_consumer_lag_messages";
/// Counter of events handled, by `consumer` and `outcome` (`applied`,
/// `duplicate`, `ignored`, `retry`, `rejected`, `undecodable`, `refused`).
pub const CONSUMER_HANDLED: &str = "eventstore_consumer_events_total";
/// Counter of envelopes a consumer refused as untrusted, by `consumer` and
/// `reason` (`unsigned`, `unknown_key`, `bad_signature`, `replayed`): each is
/// a forgery or a replay on the bus, and alerts.
pub const CONSUMER_REFUSED: &str = "eventstore_consumer_refused_envelopes_total";
/// Counter of messages JetStream delivered more than once, by `consumer`.
pub const CONSUMER_REDELIVERIES: &str = "eventstore_consumer_redeliveries_total";
/// Counter of projection rebuilds, by `consumer`.
pub const PROJECTION_REBUILDS: &str = "eventstore_projection_rebuilds_total";
/// Gauge of the age of the oldest committed event a tailing projection has
/// not applied yet (0 when caught up), by `consumer`.
pub const TAIL_LAG_SECONDS: &str = "eventstore_tail_lag_seconds";

/// The `outcome` values of [`APPENDS`], as [`record_append`] names them.
const APPEND_OUTCOMES: [&str; 5] = [
    "appended",
    "already_recorded",
    "conflict",
    "rejected",
    "error",
];

pub(crate) fn register_store(service: &str) {
    for outcome in APPEND_OUTCOMES {
        metrics::counter!(APPENDS, "service" => service.to_owned(), "outcome" => outcome)
            .increment(0);
    }
    metrics::counter!(APPEND_BATCH_RETRIES, "service" => service.to_owned()).increment(0);
}

pub(crate) fn register_relay(service: &str) {
    metrics::counter!(RELAY_FAILURES, "service" => service.to_owned()).increment(0);
}

/// A projection's counters at zero; `delivered` for one fed by JetStream.
pub(crate) fn register_projection(consumer: &str, delivered: bool) {
    metrics::counter!(PROJECTION_REBUILDS, "consumer" => consumer.to_owned()).increment(0);
    if delivered {
        metrics::counter!(CONSUMER_REDELIVERIES, "consumer" => consumer.to_owned()).increment(0);
        for reason in crate::signing::SignatureError::REASONS {
            metrics::counter!(CONSUMER_REFUSED, "consumer" => consumer.to_owned(), "reason" => reason)
                .increment(0);
        }
    }
}

/// One append's outcome: `Ok(already_recorded)` or why it failed.
pub(crate) fn record_append(service: &str, result: Result<bool, &AppendError>, elapsed: Duration) {
    let outcome = match result {
        Ok(true) => "already_recorded",
        Ok(false) => "appended",
        Err(AppendError::WrongExpectedVersion { .. }) => "conflict",
        Err(AppendError::EventIdReused { .. } | AppendError::Invalid(_)) => "rejected",
        Err(AppendError::Store(_)) => "error",
    };
    metrics::counter!(APPENDS, "service" => service.to_owned(), "outcome" => outcome).increment(1);
    metrics::histogram!(APPEND_SECONDS, "service" => service.to_owned())
        .record(elapsed.as_secs_f64());
}

pub(crate) fn record_batch(service: &str, size: usize) {
    metrics::histogram!(APPEND_BATCH_SIZE, "service" => service.to_owned()).record(size as f64);
}

pub(crate) fn record_batch_retry(service: &str) {
    metrics::counter!(APPEND_BATCH_RETRIES, "service" => service.to_owned()).increment(1);
}
