//! The gRPC metrics and the `/metrics` endpoint, against the process-wide
//! Prometheus recorder (own test binary). Each test uses its own service
//! label, so tests running in parallel do not see each other's calls.

use std::{convert::Infallible, time::Duration};

use bytes::Bytes;
use futures::stream;
use http_body::Frame;
use http_body_util::{BodyExt, Empty, StreamBody};
use metrics_exporter_prometheus::PrometheusHandle;
use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_client::TraceServiceClient,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    trace::v1::ResourceSpans,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_stream::wrappers::TcpListenerStream;
use tower::{Layer, ServiceExt};

use hellowork_telemetry::{
    GrpcTelemetryLayer, ObservedBody, install_metrics_recorder, serve_metrics,
};

/// The value of the sample of `metric` whose labels include all of `labels`.
fn sample(handle: &PrometheusHandle, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    handle.render().lines().find_map(|line| {
        let rest = line.strip_prefix(metric)?.strip_prefix('{')?;
        let (label_text, value) = rest.split_once("} ")?;
        labels
            .iter()
            .all(|(key, value)| label_text.contains(&format!("{key}=\"{value}\"")))
            .then(|| value.parse().ok())?
    })
}

fn request(path: &str) -> http::Request<Empty<Bytes>> {
    http::Request::builder()
        .uri(path)
        .body(Empty::new())
        .unwrap()
}

#[tokio::test]
async fn a_trailers_only_error_is_counted_with_its_code() {
    let handle = install_metrics_recorder().unwrap();
    let service = tower::service_fn(|_request| async {
        let response = http::Response::builder()
            .header("content-type", "application/grpc")
            .header("grpc-status", "3")
            .header("grpc-message", "bad")
            .body(Empty::<Bytes>::new())
            .unwrap();
        Ok::<_, Infallible>(response)
    });
    let layered = GrpcTelemetryLayer::new("trailers-only").layer(service);
    let response = layered
        .oneshot(request("/test.v1.Echo/Fail"))
        .await
        .unwrap();
    drop(response);

    let labels = [
        ("service", "trailers-only"),
        ("method", "test.v1.Echo/Fail"),
        ("code", "INVALID_ARGUMENT"),
    ];
    assert_eq!(
        sample(&handle, "grpc_server_requests_total", &labels),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &handle,
            "grpc_server_request_duration_seconds_count",
            &labels[..2]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &handle,
            "grpc_server_in_flight",
            &[("service", "trailers-only")]
        ),
        Some(0.0)
    );
}

type StreamedBody = StreamBody<stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

/// Calls `path` through `layer` on a service answering with one message and
/// trailers carrying `grpc_status`; the response body is not yet read.
async fn call(
    layer: &GrpcTelemetryLayer,
    path: &str,
    grpc_status: &'static str,
) -> http::Response<ObservedBody<StreamedBody>> {
    let service = tower::service_fn(move |_request| async move {
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static(grpc_status));
        let frames = vec![
            Ok(Frame::data(Bytes::from_static(b"\0\0\0\0\0"))),
            Ok(Frame::trailers(trailers)),
        ];
        Ok::<_, Infallible>(http::Response::new(StreamBody::new(stream::iter(frames))))
    });
    layer.layer(service).oneshot(request(path)).await.unwrap()
}

#[tokio::test]
async fn a_streamed_response_takes_its_code_from_the_trailers() {
    let handle = install_metrics_recorder().unwrap();
    let layer = GrpcTelemetryLayer::new("streamed");
    let response = call(&layer, "/test.v1.Echo/Stream", "13").await;

    let in_flight = [("service", "streamed")];
    assert_eq!(
        sample(&handle, "grpc_server_in_flight", &in_flight),
        Some(1.0)
    );
    response.into_body().collect().await.unwrap();
    assert_eq!(
        sample(&handle, "grpc_server_in_flight", &in_flight),
        Some(0.0)
    );
    let labels = [
        ("service", "streamed"),
        ("method", "test.v1.Echo/Stream"),
        ("code", "INTERNAL"),
    ];
    assert_eq!(
        sample(&handle, "grpc_server_requests_total", &labels),
        Some(1.0)
    );
}

#[tokio::test]
async fn success_abandonment_and_made_up_paths() {
    let handle = install_metrics_recorder().unwrap();
    let layer = GrpcTelemetryLayer::new("outcomes");
    let response = call(&layer, "/test.v1.Echo/Say", "0").await;
    response.into_body().collect().await.unwrap();

    // The client goes away before the response stream ended.
    drop(call(&layer, "/test.v1.Echo/Say", "0").await);

    // Whatever a client puts in the path, no arbitrary text becomes a label.
    let response = call(&layer, "/Yamada%20Taro/x", "0").await;
    response.into_body().collect().await.unwrap();

    let count = |method: &str, code: &str| {
        sample(
            &handle,
            "grpc_server_requests_total",
            &[("service", "outcomes"), ("method", method), ("code", code)],
        )
    };
    assert_eq!(count("test.v1.Echo/Say", "OK"), Some(1.0));
    assert_eq!(count("test.v1.Echo/Say", "CANCELLED"), Some(1.0));
    assert_eq!(count("unknown/unknown", "OK"), Some(1.0));
    assert!(!handle.render().contains("Yamada"));
    // Latency is a histogram with the configured buckets, not a summary.
    assert_eq!(
        sample(
            &handle,
            "grpc_server_request_duration_seconds_bucket",
            &[
                ("service", "outcomes"),
                ("method", "test.v1.Echo/Say"),
                ("le", "10")
            ],
        ),
        Some(2.0)
    );
}

async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn the_endpoint_serves_recorded_metrics_on_port_zero() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_metrics(listener, async {
        let _ = stopped.await;
    }));
    install_metrics_recorder().unwrap();
    metrics::counter!("telemetry_endpoint_test_total").increment(3);

    let response = get(addr, "/metrics").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("text/plain; version=0.0.4"), "{response}");
    assert!(
        response.contains("\ntelemetry_endpoint_test_total 3\n"),
        "{response}"
    );
    assert!(get(addr, "/").await.starts_with("HTTP/1.1 404"));

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the endpoint stops on shutdown")
        .unwrap();
}

/// A sample gRPC service: refuses an export without spans.
struct Sample;

#[tonic::async_trait]
impl TraceService for Sample {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        if request.get_ref().resource_spans.is_empty() {
            return Err(tonic::Status::invalid_argument("no spans"));
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::test]
async fn a_tonic_server_behind_the_layer_reports_its_codes() {
    let handle = install_metrics_recorder().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(GrpcTelemetryLayer::new("tonic-server"))
            .add_service(TraceServiceServer::new(Sample))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    let mut client = TraceServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let refused = client
        .export(ExportTraceServiceRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let accepted = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans::default()],
    };
    client.export(accepted).await.unwrap();

    let method = "opentelemetry.proto.collector.trace.v1.TraceService/Export";
    let count = |code: &str| {
        sample(
            &handle,
            "grpc_server_requests_total",
            &[
                ("service", "tonic-server"),
                ("method", method),
                ("code", code),
            ],
        )
    };
    // The server records a call once its response has gone out, which may
    // be just after the client has read it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while (count("OK").is_none() || count("INVALID_ARGUMENT").is_none())
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(count("INVALID_ARGUMENT"), Some(1.0));
    assert_eq!(count("OK"), Some(1.0));
}
