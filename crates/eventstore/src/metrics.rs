//! Metric hooks of the kernel, through the `metrics` facade: whichever
//! exporter the service installs (Prometheus) receives them; without one they
//! cost nothing. Labels carry service, consumer and outcome names only, never
//! stream ids or anything else about a person.

use std::time::Duration;

use crate::{error::AppendError, model::AppendOutcome};

pub const APPENDS: &str = "eventstore_appends_total";
pub const APPEND_SECONDS: &str = "eventstore_append_duration_seconds";
pub const APPEND_BATCH_SIZE: &str = "eventstore_append_batch_size";
pub const APPEND_BATCH_RETRIES: &str = "eventstore_append_batch_retries_total";
pub const OUTBOX_BACKLOG: &str = "eventstore_outbox_backlog";
pub const RELAY_LAG_SECONDS: &str = "eventstore_relay_lag_seconds";
pub const RELAY_PUBLISHED: &str = "eventstore_relay_published_total";
pub const RELAY_FAILURES: &str = "eventstore_relay_publish_failures_total";
pub const RELAY_LEADER: &str = "eventstore_relay_leader";
pub const CONSUMER_LAG: &str = "eventstore_consumer_lag_messages";
pub const CONSUMER_HANDLED: &str = "eventstore_consumer_events_total";
pub const CONSUMER_REDELIVERIES: &str = "eventstore_consumer_redeliveries_total";
pub const PROJECTION_REBUILDS: &str = "eventstore_projection_rebuilds_total";

pub(crate) fn record_append(
    service: &str,
    result: &Result<AppendOutcome, AppendError>,
    elapsed: Duration,
) {
    let outcome = match result {
        Ok(AppendOutcome {
            already_recorded: true,
            ..
        }) => "already_recorded",
        Ok(_) => "appended",
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
