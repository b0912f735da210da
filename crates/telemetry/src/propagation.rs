//! W3C trace context in and out of `tracing` spans.
//!
//! The wire format is fixed to W3C `traceparent`/`tracestate` (the event
//! envelope and NATS headers carry exactly these), so the helpers use the W3C
//! propagator directly instead of whatever is installed globally.

use std::collections::HashMap;

use opentelemetry::{
    Context,
    propagation::{Extractor, Injector, TextMapPropagator},
    trace::TraceContextExt,
};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::{OpenTelemetrySpanExt, SetParentError};

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

/// The W3C trace context of a span, as written into event metadata so the
/// trace continues in whoever consumes the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// `00-<trace id>-<span id>-<flags>`.
    pub traceparent: String,
    /// Vendor entries, if any.
    pub tracestate: Option<String>,
}

impl TraceContext {
    /// The 32 hex digits of the trace id, if `traceparent` is well formed.
    pub fn trace_id(&self) -> Option<&str> {
        self.traceparent
            .split('-')
            .nth(1)
            .filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
    }
}

/// The W3C context of the current span, or `None` outside a traced span
/// (telemetry not initialised, or the span filtered out).
pub fn current_trace_context() -> Option<TraceContext> {
    let mut fields = HashMap::new();
    inject(&tracing::Span::current().context(), &mut fields);
    Some(TraceContext {
        traceparent: fields.remove(TRACEPARENT)?,
        tracestate: fields.remove(TRACESTATE).filter(|state| !state.is_empty()),
    })
}

pub(crate) fn extract(carrier: &dyn Extractor) -> Context {
    TraceContextPropagator::new().extract(carrier)
}

/// Writes the context of `cx` into `carrier`; nothing when it has no valid
/// span.
pub(crate) fn inject(cx: &Context, carrier: &mut dyn Injector) {
    TraceContextPropagator::new().inject_context(cx, carrier);
}

/// Makes `parent` the parent of `span` when it carries a valid remote span,
/// so that `span` continues the remote trace.
///
/// Must happen before `span` is first entered; without the OpenTelemetry
/// layer (telemetry not initialised) it does nothing.
pub(crate) fn set_parent(span: &tracing::Span, parent: Context) {
    if !parent.span().span_context().is_valid() {
        return;
    }
    let result = span.set_parent(parent);
    debug_assert!(
        !matches!(result, Err(SetParentError::AlreadyStarted)),
        "parent set after the span was entered"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TRACE_ID, TRACEPARENT, traced};

    #[test]
    fn outside_a_traced_span_there_is_no_context() {
        assert_eq!(current_trace_context(), None);
        let _traced = traced();
        assert_eq!(current_trace_context(), None);
    }

    #[test]
    fn the_trace_id_is_read_from_traceparent() {
        let context = TraceContext {
            traceparent: TRACEPARENT.to_owned(),
            tracestate: None,
        };
        assert_eq!(context.trace_id(), Some(TRACE_ID));
        let malformed = TraceContext {
            traceparent: "00-xyz-00f067aa0ba902b7-01".to_owned(),
            tracestate: None,
        };
        assert_eq!(malformed.trace_id(), None);
    }
}
