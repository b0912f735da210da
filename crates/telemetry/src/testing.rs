//! A thread-local subscriber with the OpenTelemetry layer, for unit tests
//! that must not touch the process-wide one.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::layer::SubscriberExt;

/// A parent span as a caller would send it.
pub(crate) const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
pub(crate) const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// Traces spans on this thread until the guard is dropped.
pub(crate) fn traced() -> DefaultGuard {
    let tracer = SdkTracerProvider::builder().build().tracer("test");
    tracing::subscriber::set_default(
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer)),
    )
}
