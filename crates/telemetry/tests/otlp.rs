//! Spans reach an OTLP/gRPC collector (a fake one on port 0) with the
//! service's resource and the server span's attributes. Own test binary: it
//! installs the global subscriber.

use std::{convert::Infallible, time::Duration};

use bytes::Bytes;
use http_body_util::Empty;
use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::{KeyValue, any_value::Value},
    trace::v1::{span::SpanKind, status::StatusCode},
};
use tokio::{net::TcpListener, sync::mpsc};
use tokio_stream::wrappers::TcpListenerStream;
use tower::{Layer, ServiceExt};

use hellowork_telemetry::{GrpcTelemetryLayer, TelemetryConfig, init};

struct Collector(mpsc::UnboundedSender<ExportTraceServiceRequest>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let _ = self.0.send(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()
}

fn text<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match attribute(attributes, key)? {
        Value::StringValue(text) => Some(text),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn server_spans_are_exported_with_the_service_resource() {
    let (exports, mut exported) = mpsc::unbounded_channel();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(exports)))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    let guard = init(&TelemetryConfig {
        service_name: "otlp-test".into(),
        service_version: "1.2.3".into(),
        log_filter: "info".into(),
        json_logs: true,
        otlp_endpoint: Some(endpoint),
    })
    .unwrap();

    let service = tower::service_fn(|_request: http::Request<Empty<Bytes>>| async {
        let response = http::Response::builder()
            .header("grpc-status", "13")
            .body(Empty::<Bytes>::new())
            .unwrap();
        Ok::<_, Infallible>(response)
    });
    let request = http::Request::builder()
        .uri("/test.v1.Echo/Fail")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .body(Empty::new())
        .unwrap();
    let response = GrpcTelemetryLayer::new("otlp-test")
        .layer(service)
        .oneshot(request)
        .await
        .unwrap();
    drop(response);
    // Flushing waits for the export, even on the runtime's only worker.
    drop(guard);

    let request = tokio::time::timeout(Duration::from_secs(10), exported.recv())
        .await
        .expect("exported in time")
        .expect("collector running");
    let resource_spans = &request.resource_spans[0];
    let resource = &resource_spans.resource.as_ref().unwrap().attributes;
    assert_eq!(text(resource, "service.name"), Some("otlp-test"));
    assert_eq!(text(resource, "service.version"), Some("1.2.3"));

    let span = resource_spans
        .scope_spans
        .iter()
        .flat_map(|scope| &scope.spans)
        .find(|span| span.name == "test.v1.Echo/Fail")
        .expect("the server span");
    assert_eq!(hex(&span.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(hex(&span.parent_span_id), "00f067aa0ba902b7");
    assert_eq!(span.kind, SpanKind::Server as i32);
    assert_eq!(text(&span.attributes, "rpc.system"), Some("grpc"));
    assert_eq!(text(&span.attributes, "rpc.service"), Some("test.v1.Echo"));
    assert_eq!(text(&span.attributes, "rpc.method"), Some("Fail"));
    assert_eq!(
        attribute(&span.attributes, "rpc.grpc.status_code"),
        Some(&Value::IntValue(13))
    );
    assert_eq!(
        span.status.as_ref().map(|status| status.code),
        Some(StatusCode::Error as i32)
    );
}
