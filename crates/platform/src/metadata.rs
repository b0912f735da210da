//! The metadata every event a request causes is recorded with.

use hellowork_auth::Caller;
use hellowork_eventstore::{Actor, EventMetadata};
use uuid::Uuid;

/// Metadata for the events `caller`'s request causes: who (their most
/// specific role, their pseudonymous subject), the correlation id (the
/// caller's, or a new one), and the current W3C trace context so the trace
/// runs on from the request to the event and its consumers.
pub fn event_metadata(caller: &Caller, correlation_id: Option<Uuid>) -> EventMetadata {
    let trace = hellowork_telemetry::current_trace_context();
    EventMetadata {
        correlation_id: correlation_id.unwrap_or_else(Uuid::now_v7),
        causation_id: None,
        actor: Actor {
            subject: caller.subject().to_owned(),
            role: caller.actor_role().into(),
        },
        traceparent: trace.as_ref().map(|t| t.traceparent.clone()),
        tracestate: trace.and_then(|t| t.tracestate),
    }
}

/// Request header carrying a caller-chosen correlation id (a UUID), so the
/// events of several requests can be tied together.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// The request's correlation id, if it carries a valid one.
pub fn correlation_id<T>(request: &tonic::Request<T>) -> Option<Uuid> {
    request
        .metadata()
        .get(CORRELATION_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| Uuid::parse_str(value).ok())
}
