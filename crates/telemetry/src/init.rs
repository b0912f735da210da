//! The one telemetry init of a process: global subscriber, propagator and
//! tracer provider.

use std::sync::{Mutex, PoisonError};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tokio::runtime::{Handle, RuntimeFlavor};
use tracing::{Level, Metadata};
use tracing_subscriber::{
    EnvFilter, Layer,
    filter::{FilterExt, filter_fn},
    fmt::{MakeWriter, format::FmtSpan},
    layer::SubscriberExt,
    util::SubscriberInitExt,
};

use crate::{TelemetryConfig, TelemetryError, provider};

/// The provider installed by the first successful [`init`] of the process.
static INSTALLED: Mutex<Option<SdkTracerProvider>> = Mutex::new(None);

/// Flushes the spans not yet exported when dropped; keep it alive until the
/// service has stopped. With an OTLP endpoint the drop waits for the
/// collector's answer (bounded by the SDK's flush timeout).
///
/// The provider itself is never shut down: several services may share one
/// process (tests), and a shut-down provider would leave the remaining ones
/// without trace ids.
#[derive(Debug)]
#[must_use = "dropping the guard flushes spans; keep it until the service stops"]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let flush = || self.provider.force_flush();
        // The exporter's channel is driven by this runtime: let it keep
        // running while this thread waits.
        let flushed = match Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(flush)
            }
            _ => flush(),
        };
        if let Err(error) = flushed {
            tracing::warn!(%error, "spans not flushed");
        }
    }
}

/// Installs the global `tracing` subscriber (env filter; text or JSON logs),
/// the W3C trace-context propagator, and the tracer provider: exporting over
/// OTLP/gRPC when `otlp_endpoint` is set, otherwise only giving spans trace
/// ids so that context still propagates.
///
/// Spans are traced by the same filter as logs, except the INFO-or-louder
/// spans of the `hellowork_*` crates — the server spans of
/// [`GrpcTelemetryLayer`](crate::GrpcTelemetryLayer), the event store's
/// consumer spans — which are always traced so that a quiet log filter never
/// breaks propagation.
///
/// Only the first successful call of a process installs anything; later calls
/// (several services in one test process) return a guard over the same
/// provider and ignore their configuration. With an OTLP endpoint it must be
/// called inside a multi-thread Tokio runtime.
pub fn init(config: &TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    init_with_writer(config, std::io::stdout)
}

/// [`init`], with logs written to `writer` instead of standard output (to a
/// file, or to a buffer a test scans for what the service emitted). JSON
/// lines carry the fields of every enclosing span, and each span is logged
/// when it closes.
pub fn init_with_writer<W>(
    config: &TelemetryConfig,
    writer: W,
) -> Result<TelemetryGuard, TelemetryError>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(provider) = installed.as_ref() {
        return Ok(TelemetryGuard {
            provider: provider.clone(),
        });
    }
    let provider = install(config, writer)?;
    *installed = Some(provider.clone());
    Ok(TelemetryGuard { provider })
}

fn install<W>(config: &TelemetryConfig, writer: W) -> Result<SdkTracerProvider, TelemetryError>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let log_filter = env_filter(&config.log_filter)?;
    // The hint matters: a filter without one lifts the process's maximum
    // level to TRACE, and then INFO events of our own crates were lost from
    // logs and traces alike (per-layer filtering in tracing-subscriber 0.3).
    let propagating = filter_fn(carries_trace).with_max_level_hint(Level::INFO);
    let trace_filter = env_filter(&config.log_filter)?.or(propagating);
    let provider = provider::build(config)?;

    let logs = if config.json_logs {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            // One line per closed span, with its fields and timings: an
            // access log per RPC, and every span attribute as visible (and
            // as checkable for personal data) as the log lines.
            .with_span_events(FmtSpan::CLOSE)
            .with_writer(writer)
            .with_filter(log_filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_filter(log_filter)
            .boxed()
    };
    let traces = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(env!("CARGO_PKG_NAME")))
        .with_filter(trace_filter);
    if let Err(error) = tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init()
    {
        // Nothing else holds this provider; stop its exporter thread.
        let _ = provider.shutdown();
        return Err(TelemetryError::Subscriber(error));
    }
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    Ok(provider)
}

/// Whether `metadata` is one of the spans a trace runs through from process
/// to process: the INFO-or-louder spans of the Hello Work crates (this
/// crate's gRPC server spans, the event store's consumer spans). They are
/// traced whatever the log filter, because events written inside them take
/// their trace context from them; a quiet `HELLOWORK_LOG` must not cut a
/// trace at the first consumer. Log events still follow the log filter.
fn carries_trace(metadata: &Metadata<'_>) -> bool {
    metadata.is_span()
        && *metadata.level() <= Level::INFO
        && metadata
            .target()
            .split("::")
            .next()
            .is_some_and(|krate| krate.starts_with("hellowork_"))
}

fn env_filter(directives: &str) -> Result<EnvFilter, TelemetryError> {
    EnvFilter::try_new(directives).map_err(|source| TelemetryError::LogFilter {
        directives: directives.to_owned(),
        source,
    })
}
