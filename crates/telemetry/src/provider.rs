//! The OpenTelemetry tracer provider: it gives every span a trace id, and
//! exports spans in batches over OTLP/gRPC when an endpoint is configured.

use opentelemetry::KeyValue;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::{TelemetryConfig, TelemetryError};

/// Builds the provider; without an endpoint it has no exporter, so spans
/// still carry ids that propagate but go nowhere.
pub(crate) fn build(config: &TelemetryConfig) -> Result<SdkTracerProvider, TelemetryError> {
    let resource = Resource::builder()
        .with_service_name(config.service_name.clone())
        .with_attribute(KeyValue::new(
            "service.version",
            config.service_version.clone(),
        ))
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let endpoint = config
        .otlp_endpoint
        .as_deref()
        .map(str::trim)
        .filter(|endpoint| !endpoint.is_empty());
    let Some(endpoint) = endpoint else {
        return Ok(builder.build());
    };
    // The tonic channel lives on the caller's runtime, and the batch
    // processor's thread blocks on it; a current-thread runtime would stall.
    let multi_thread = Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread);
    if !multi_thread {
        return Err(TelemetryError::Runtime);
    }
    let exporter = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|source| TelemetryError::Exporter {
            endpoint: endpoint.to_owned(),
            source,
        })?;
    Ok(builder.with_batch_exporter(exporter).build())
}
