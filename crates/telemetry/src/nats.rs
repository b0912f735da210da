//! Trace context over NATS: the relay publishes each event with the
//! `traceparent`/`tracestate` headers of the command that recorded it, and a
//! consumer's span continues that trace.

use async_nats::HeaderMap;
use opentelemetry::Context;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{
    carrier::{NatsHeaders, NatsHeadersMut},
    propagation,
};

/// The producer's context from a message's headers; an empty context when
/// there are no headers or no valid `traceparent`.
pub fn context_from_nats_headers(headers: Option<&HeaderMap>) -> Context {
    headers.map_or_else(Context::new, |headers| {
        propagation::extract(&NatsHeaders(headers))
    })
}

/// Makes the producer's span the parent of `span`, so a consumer continues
/// the trace of the command that recorded the event. Call it before `span`
/// is first entered; without a valid `traceparent` it does nothing.
pub fn set_parent_from_nats_headers(span: &tracing::Span, headers: Option<&HeaderMap>) {
    propagation::set_parent(span, context_from_nats_headers(headers));
}

/// Writes the current span's context into the headers of a message about to
/// be published; nothing outside a traced span.
pub fn inject_into_nats_headers(headers: &mut HeaderMap) {
    propagation::inject(
        &tracing::Span::current().context(),
        &mut NatsHeadersMut(headers),
    );
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TraceContextExt;

    use super::*;
    use crate::{
        current_trace_context,
        testing::{TRACE_ID, TRACEPARENT, traced},
    };

    #[test]
    fn a_consumer_span_continues_the_producers_trace() {
        let _traced = traced();
        let producer = tracing::info_span!("producer");
        let mut headers = HeaderMap::new();
        let produced = producer.in_scope(|| {
            inject_into_nats_headers(&mut headers);
            current_trace_context().expect("producer is traced")
        });
        assert_eq!(
            headers.get("traceparent").map(|v| v.as_str()),
            Some(produced.traceparent.as_str())
        );
        assert!(headers.get("tracestate").is_none(), "no empty tracestate");

        let consumer = tracing::info_span!("consumer");
        set_parent_from_nats_headers(&consumer, Some(&headers));
        let consumed = consumer
            .in_scope(current_trace_context)
            .expect("consumer is traced");
        assert_eq!(consumed.trace_id(), produced.trace_id());
        assert_ne!(
            consumed.traceparent, produced.traceparent,
            "a span of its own"
        );
    }

    #[test]
    fn headers_written_by_the_relay_are_read() {
        // As crates/eventstore/src/envelope.rs writes them.
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", TRACEPARENT);
        headers.insert("tracestate", "vendor=value");
        let context = context_from_nats_headers(Some(&headers));
        let span = context.span();
        let span_context = span.span_context();
        assert!(span_context.is_remote());
        assert_eq!(span_context.trace_id().to_string(), TRACE_ID);
        assert_eq!(span_context.trace_state().header(), "vendor=value");
    }

    #[test]
    fn without_headers_a_consumer_starts_its_own_trace() {
        let _traced = traced();
        assert!(!context_from_nats_headers(None).has_active_span());
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", "not a traceparent");
        assert!(!context_from_nats_headers(Some(&headers)).has_active_span());

        let consumer = tracing::info_span!("consumer");
        set_parent_from_nats_headers(&consumer, Some(&headers));
        let own = consumer.in_scope(current_trace_context).expect("traced");
        assert_ne!(own.trace_id(), Some(TRACE_ID));
    }
}
