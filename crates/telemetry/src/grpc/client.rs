//! The client half: outgoing calls carry the caller's trace.

use tonic::metadata::MetadataMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{carrier::Metadata, propagation};

/// Writes the current span's W3C context (`traceparent`, `tracestate`) into
/// the metadata of an outgoing request, so the called service continues the
/// trace; use it in the client's interceptor. Nothing outside a traced span.
pub fn inject_into_metadata(metadata: &mut MetadataMap) {
    propagation::inject(&tracing::Span::current().context(), &mut Metadata(metadata));
}
