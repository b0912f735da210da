//! Why telemetry could not be set up.

/// An error of [`init`](crate::init) or
/// [`install_metrics_recorder`](crate::install_metrics_recorder).
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The log filter directives do not parse.
    #[error("invalid log filter {directives:?}")]
    LogFilter {
        directives: String,
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// The OTLP exporter could not be built, e.g. the endpoint is not a URI.
    #[error("otlp exporter for {endpoint:?} could not be built")]
    Exporter {
        endpoint: String,
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// The OTLP gRPC exporter runs on the caller's Tokio runtime, which must
    /// be multi-threaded: flushing on drop blocks the calling thread.
    #[error("otlp export needs to be set up inside a multi-thread tokio runtime")]
    Runtime,
    /// Another global `tracing` subscriber was installed first.
    #[error("a global tracing subscriber is already installed")]
    Subscriber(#[source] tracing_subscriber::util::TryInitError),
    /// Another global `metrics` recorder was installed first.
    #[error("a global metrics recorder is already installed")]
    Recorder(#[source] metrics_exporter_prometheus::BuildError),
}
