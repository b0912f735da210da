//! What a service tells telemetry about itself.

/// Settings of [`init`](crate::init), read by the service from its
/// environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// `service.name` of exported spans, e.g. `registration`.
    pub service_name: String,
    /// `service.version` of exported spans, usually the crate version.
    pub service_version: String,
    /// `tracing` env-filter directives, e.g. `info,hellowork=debug`.
    pub log_filter: String,
    /// One JSON object per log line instead of human-readable text.
    pub json_logs: bool,
    /// OTLP/gRPC collector endpoint, e.g. `http://127.0.0.1:4317`; spans are
    /// exported only when it is set (a blank value counts as unset).
    pub otlp_endpoint: Option<String>,
}
