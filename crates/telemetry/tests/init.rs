//! `init` installs process-wide state, so it has a test binary of its own and
//! a single test that takes the steps in order.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Empty;
use tower::{Layer, ServiceExt};
use tracing::level_filters::LevelFilter;

use hellowork_telemetry::{
    GrpcTelemetryLayer, TelemetryConfig, TelemetryError, TraceContext, current_trace_context, init,
};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn config(log_filter: &str, otlp_endpoint: Option<&str>) -> TelemetryConfig {
    TelemetryConfig {
        service_name: "init-test".into(),
        service_version: "0.0.0".into(),
        log_filter: log_filter.into(),
        json_logs: false,
        otlp_endpoint: otlp_endpoint.map(str::to_owned),
    }
}

/// The trace context a handler behind the layer sees for a call carrying
/// [`TRACEPARENT`].
fn handled() -> Option<TraceContext> {
    let service = tower::service_fn(|_request: http::Request<Empty<Bytes>>| async {
        let mut response = http::Response::new(Empty::<Bytes>::new());
        response.extensions_mut().insert(current_trace_context());
        Ok::<_, Infallible>(response)
    });
    let request = http::Request::builder()
        .uri("/test.v1.Echo/Say")
        .header("traceparent", TRACEPARENT)
        .body(Empty::new())
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let response = runtime
        .block_on(
            GrpcTelemetryLayer::new("init-test")
                .layer(service)
                .oneshot(request),
        )
        .unwrap();
    response
        .extensions()
        .get::<Option<TraceContext>>()
        .cloned()
        .flatten()
}

#[test]
fn init_installs_once_and_tracing_outlives_its_guards() {
    // A failed init installs nothing, so a corrected one can follow.
    assert!(matches!(
        init(&config("hellowork=loud", None)),
        Err(TelemetryError::LogFilter { .. })
    ));
    let endpoint = Some("http://127.0.0.1:4317");
    assert!(matches!(
        init(&config("info", endpoint)),
        Err(TelemetryError::Runtime)
    ));
    let current_thread = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    current_thread.block_on(async {
        assert!(matches!(
            init(&config("info", endpoint)),
            Err(TelemetryError::Runtime)
        ));
    });

    let first = init(&config("warn", None)).expect("first init installs");
    // Several services in one process: later calls change nothing.
    let second = init(&config("not a filter", None)).expect("second init is a no-op");

    // Always tracing those spans lifts the maximum level no further than
    // INFO: TRACE and DEBUG callsites stay disabled process-wide.
    assert_eq!(LevelFilter::current(), LevelFilter::INFO);

    // A quiet log filter keeps other spans out of traces, but never the
    // spans that carry a trace on: the server spans, and the Hello Work
    // crates' spans at INFO or louder (a consumer's, whose events continue
    // the producer's trace).
    assert_eq!(
        tracing::info_span!("quiet").in_scope(current_trace_context),
        None
    );
    assert!(
        tracing::info_span!(target: "hellowork_eventstore::consumer", "eventstore.consume")
            .in_scope(current_trace_context)
            .is_some()
    );
    assert_eq!(
        tracing::debug_span!(target: "hellowork_eventstore::store", "eventstore.append")
            .in_scope(current_trace_context),
        None
    );
    assert_eq!(
        tracing::info_span!(target: "helloworkish", "not ours").in_scope(current_trace_context),
        None
    );
    assert!(
        tracing::warn_span!("loud")
            .in_scope(current_trace_context)
            .is_some()
    );
    let seen = handled().expect("server span is traced");
    assert_eq!(seen.trace_id(), Some(TRACE_ID));

    // Dropping the guards flushes; tracing goes on for whoever still runs.
    drop(second);
    drop(first);
    let third = init(&config("info", None)).expect("init after the guards are gone");
    assert_eq!(
        handled()
            .and_then(|seen| seen.trace_id().map(str::to_owned))
            .as_deref(),
        Some(TRACE_ID)
    );
    drop(third);
}
