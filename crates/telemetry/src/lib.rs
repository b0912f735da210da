//! How a Hello Work service is observed: logs, traces and metrics, set up the
//! same way in every service (issue 3, "Telemetry").
//!
//! - [`init`]: the one telemetry init: a `tracing` subscriber with an env
//!   filter and a JSON switch, the W3C trace-context propagator, and an
//!   OpenTelemetry tracer exporting over OTLP when an endpoint is configured.
//! - Trace context crosses process boundaries in the W3C `traceparent` and
//!   `tracestate` fields: [`GrpcTelemetryLayer`] continues the caller's trace
//!   on the server, [`inject_into_metadata`] carries it on outgoing calls,
//!   [`current_trace_context`] hands it to events written by a command, and
//!   [`set_parent_from_nats_headers`] continues it in a consumer, so one trace
//!   runs RPC → event → consumer.
//! - [`serve_metrics`]: the Prometheus `/metrics` endpoint; the layer records
//!   request rate, latency and errors by method and code.
//!
//! Art. 8 of the terms of use: no personal data in metric labels, log fields
//! or span attributes. What this crate records of a request is its gRPC method
//! path and status code only.

mod carrier;
mod config;
mod error;
mod grpc;
mod init;
mod nats;
mod prometheus;
mod propagation;
mod provider;
#[cfg(test)]
mod testing;

pub use config::TelemetryConfig;
pub use error::TelemetryError;
pub use grpc::{
    GRPC_SERVER_IN_FLIGHT, GRPC_SERVER_REQUEST_DURATION, GRPC_SERVER_REQUESTS, GrpcTelemetry,
    GrpcTelemetryLayer, ObservedBody, ResponseFuture, inject_into_metadata,
};
pub use init::{TelemetryGuard, init, init_with_writer};
pub use nats::{context_from_nats_headers, inject_into_nats_headers, set_parent_from_nats_headers};
pub use prometheus::{LATENCY_BUCKETS, install_metrics_recorder, serve_metrics};
pub use propagation::{TraceContext, current_trace_context};
