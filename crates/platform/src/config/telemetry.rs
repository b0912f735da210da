//! The telemetry settings: the log filter and format, and the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT`, for the services and for the processes
//! that are not one of them.

use super::{ConfigError, PlatformConfig, Vars};

#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    pub log_filter: String,
    pub json_logs: bool,
    /// The standard `OTEL_EXPORTER_OTLP_ENDPOINT` (unprefixed, as every
    /// OpenTelemetry SDK reads it).
    pub otlp_endpoint: Option<String>,
}

impl TelemetrySettings {
    /// `HELLOWORK_LOG`, `HELLOWORK_LOG_FORMAT` and the standard
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`, as the services read them, for a
    /// process that is not one of them (the witness).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Vars(vars.into_iter().collect()).telemetry()
    }
}

impl PlatformConfig {
    /// The telemetry settings in the form `hellowork_telemetry::init` takes.
    pub fn telemetry_config(&self) -> hellowork_telemetry::TelemetryConfig {
        hellowork_telemetry::TelemetryConfig {
            service_name: self.service.name().to_owned(),
            service_version: env!("CARGO_PKG_VERSION").to_owned(),
            log_filter: self.telemetry.log_filter.clone(),
            json_logs: self.telemetry.json_logs,
            otlp_endpoint: self.telemetry.otlp_endpoint.clone(),
        }
    }
}

impl Vars {
    pub(super) fn telemetry(&self) -> Result<TelemetrySettings, ConfigError> {
        Ok(TelemetrySettings {
            log_filter: self.text("LOG", "info"),
            json_logs: match self.text("LOG_FORMAT", "pretty").as_str() {
                "pretty" => false,
                "json" => true,
                _ => return Err(self.error("LOG_FORMAT", "must be pretty or json")),
            },
            otlp_endpoint: self
                .raw("OTEL_EXPORTER_OTLP_ENDPOINT")
                .filter(|v| !v.is_empty()),
        })
    }
}
