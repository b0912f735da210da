//! One gRPC call from request to the end of its response: its span, its
//! in-flight count, and on completion its code and duration.

use std::{sync::Arc, time::Instant};

use metrics::Gauge;
use tonic::Code;
use tracing::Span;

use super::status;

/// Counter of finished calls, labelled `service`, `method` and `code`.
pub const GRPC_SERVER_REQUESTS: &str = "grpc_server_requests_total";
/// Histogram of call durations in seconds, labelled `service` and `method`;
/// a streaming call lasts until its response stream ends.
pub const GRPC_SERVER_REQUEST_DURATION: &str = "grpc_server_request_duration_seconds";
/// Gauge of calls in progress, labelled `service`.
pub const GRPC_SERVER_IN_FLIGHT: &str = "grpc_server_in_flight";

/// Records the call when dropped, with the code settled by then; a call
/// dropped before it settled was abandoned by the client: `CANCELLED`.
#[derive(Debug)]
pub(crate) struct Call {
    span: Span,
    service: Arc<str>,
    method: Arc<str>,
    in_flight: Gauge,
    started: Instant,
    code: Option<Code>,
}

impl Call {
    pub(crate) fn start(span: Span, service: Arc<str>, method: Arc<str>) -> Self {
        let in_flight = metrics::gauge!(GRPC_SERVER_IN_FLIGHT, "service" => Arc::clone(&service));
        in_flight.increment(1.0);
        Self {
            span,
            service,
            method,
            in_flight,
            started: Instant::now(),
            code: None,
        }
    }

    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Looks at the response head: tonic answers failed unary calls
    /// trailers-only, with `grpc-status` among the headers. Otherwise the
    /// code comes with the trailers at the end of the body.
    pub(crate) fn response(&mut self, headers: &http::HeaderMap, end_of_stream: bool) {
        if let Some(code) = status::from_headers(headers) {
            self.settle(code);
        } else if end_of_stream {
            self.settle(Code::Ok);
        }
    }

    /// Settles the call's code; the first code settled stays.
    pub(crate) fn settle(&mut self, code: Code) {
        self.code.get_or_insert(code);
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        let code = self.code.unwrap_or(Code::Cancelled);
        self.in_flight.decrement(1.0);
        metrics::counter!(
            GRPC_SERVER_REQUESTS,
            "service" => Arc::clone(&self.service),
            "method" => Arc::clone(&self.method),
            "code" => status::name(code),
        )
        .increment(1);
        metrics::histogram!(
            GRPC_SERVER_REQUEST_DURATION,
            "service" => Arc::clone(&self.service),
            "method" => Arc::clone(&self.method),
        )
        .record(self.started.elapsed().as_secs_f64());
        self.span.record("rpc.grpc.status_code", code as i32);
        if status::is_server_error(code) {
            self.span.record("otel.status_code", "error");
        }
    }
}
