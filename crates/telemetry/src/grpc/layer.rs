//! The tower layer for the tonic server: every request gets a `grpc.request`
//! span continuing the caller's W3C trace, and is counted, timed and tracked
//! in flight.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
};

use tonic::Code;
use tower::{Layer, Service};
use tracing::{Instrument, Span, field::Empty, instrument::Instrumented};

use super::{
    body::ObservedBody,
    call::Call,
    method::{GrpcMethod, MethodLabels},
};
use crate::{carrier::HttpHeaders, propagation};

/// Traces and measures every call of a tonic server:
/// `Server::builder().layer(GrpcTelemetryLayer::new("registration"))`.
///
/// Span `grpc.request` (server kind) with `rpc.system`, `rpc.service`,
/// `rpc.method` and `rpc.grpc.status_code`, child of the caller's
/// `traceparent` if it sent one. Metrics: [`GRPC_SERVER_REQUESTS`],
/// [`GRPC_SERVER_REQUEST_DURATION`] and [`GRPC_SERVER_IN_FLIGHT`], labelled
/// with the given service name, the method as `package.Service/Method`, and
/// the status name. Nothing else of the request is recorded.
///
/// [`GRPC_SERVER_REQUESTS`]: crate::GRPC_SERVER_REQUESTS
/// [`GRPC_SERVER_REQUEST_DURATION`]: crate::GRPC_SERVER_REQUEST_DURATION
/// [`GRPC_SERVER_IN_FLIGHT`]: crate::GRPC_SERVER_IN_FLIGHT
#[derive(Debug, Clone)]
pub struct GrpcTelemetryLayer {
    service: Arc<str>,
    methods: MethodLabels,
}

impl GrpcTelemetryLayer {
    /// A layer whose metrics carry `service` (e.g. `registration`) as label.
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: Arc::from(service.into()),
            methods: MethodLabels::new(),
        }
    }
}

impl<S> Layer<S> for GrpcTelemetryLayer {
    type Service = GrpcTelemetry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcTelemetry {
            inner,
            service: Arc::clone(&self.service),
            methods: self.methods.clone(),
        }
    }
}

/// The service [`GrpcTelemetryLayer`] wraps around the server's routes.
#[derive(Debug, Clone)]
pub struct GrpcTelemetry<S> {
    inner: S,
    service: Arc<str>,
    methods: MethodLabels,
}

impl<S, B, ResBody> Service<http::Request<B>> for GrpcTelemetry<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
    ResBody: http_body::Body,
{
    type Response = http::Response<ObservedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = GrpcMethod::from_path(request.uri().path());
        let span = server_span(method, request.headers());
        let call = Call::start(
            span.clone(),
            Arc::clone(&self.service),
            self.methods.label(method),
        );
        let inner = span.in_scope(|| self.inner.call(request));
        ResponseFuture {
            inner: inner.instrument(span),
            call: Some(call),
        }
    }
}

/// The server span of a call, continuing the caller's trace when its headers
/// carry a valid `traceparent`.
fn server_span(method: GrpcMethod<'_>, headers: &http::HeaderMap) -> Span {
    let span = tracing::info_span!(
        "grpc.request",
        otel.name = %method.full_name(),
        otel.kind = "server",
        otel.status_code = Empty,
        rpc.system = "grpc",
        rpc.service = method.service,
        rpc.method = method.method,
        rpc.grpc.status_code = Empty,
    );
    propagation::set_parent(&span, propagation::extract(&HttpHeaders(headers)));
    span
}

pin_project_lite::pin_project! {
    /// The response future of [`GrpcTelemetry`]; the handler runs inside the
    /// call's span.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        call: Option<Call>,
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
    ResBody: http_body::Body,
{
    type Output = Result<http::Response<ObservedBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let mut call = this.call.take();
        Poll::Ready(match result {
            Ok(response) => {
                if let Some(call) = call.as_mut() {
                    call.response(response.headers(), response.body().is_end_stream());
                }
                Ok(response.map(|body| ObservedBody::new(body, call)))
            }
            Err(error) => {
                if let Some(call) = call.as_mut() {
                    call.settle(Code::Unknown);
                }
                Err(error)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use bytes::Bytes;
    use http_body_util::Empty;
    use tonic::metadata::MetadataMap;
    use tower::ServiceExt;

    use super::*;
    use crate::{
        TraceContext, current_trace_context, inject_into_metadata,
        testing::{TRACE_ID, TRACEPARENT, traced},
    };

    /// A response carrying `seen`, as the handler saw it, in its extensions.
    fn respond<T: Clone + Send + Sync + 'static>(seen: T) -> http::Response<Empty<Bytes>> {
        let mut response = http::Response::new(Empty::new());
        response.extensions_mut().insert(seen);
        response
    }

    /// What the handler saw as its trace context.
    async fn handled(request: http::Request<()>) -> Option<TraceContext> {
        let service = tower::service_fn(|_request: http::Request<()>| async {
            Ok::<_, Infallible>(respond(current_trace_context()))
        });
        let layered = GrpcTelemetryLayer::new("test").layer(service);
        let response = layered.oneshot(request).await.unwrap();
        response
            .extensions()
            .get::<Option<TraceContext>>()
            .cloned()
            .flatten()
    }

    fn request(traceparent: Option<&str>) -> http::Request<()> {
        let mut request = http::Request::builder().uri("/test.v1.Echo/Say");
        if let Some(traceparent) = traceparent {
            request = request.header("traceparent", traceparent);
        }
        request.body(()).unwrap()
    }

    #[tokio::test]
    async fn the_handler_continues_the_callers_trace() {
        let _traced = traced();
        let seen = handled(request(Some(TRACEPARENT))).await.expect("traced");
        assert_eq!(seen.trace_id(), Some(TRACE_ID));
        assert_ne!(seen.traceparent, TRACEPARENT, "the server span is a child");
    }

    #[tokio::test]
    async fn without_a_caller_context_a_new_trace_starts() {
        let _traced = traced();
        let seen = handled(request(None)).await.expect("traced");
        let other = handled(request(Some("00-garbage"))).await.expect("traced");
        assert!(seen.trace_id().is_some());
        assert_ne!(seen.trace_id(), other.trace_id());
    }

    #[tokio::test]
    async fn outgoing_metadata_carries_the_current_trace() {
        let _traced = traced();
        let service = tower::service_fn(|_request: http::Request<()>| async {
            let mut metadata = MetadataMap::new();
            inject_into_metadata(&mut metadata);
            Ok::<_, Infallible>(respond(metadata))
        });
        let layered = GrpcTelemetryLayer::new("test").layer(service);
        let response = layered.oneshot(request(Some(TRACEPARENT))).await.unwrap();
        let metadata = response.extensions().get::<MetadataMap>().expect("seen");
        let sent = metadata
            .get("traceparent")
            .expect("injected")
            .to_str()
            .unwrap();
        assert!(sent.starts_with(&format!("00-{TRACE_ID}-")), "{sent}");
        assert!(metadata.get("tracestate").is_none(), "no empty tracestate");
    }
}
