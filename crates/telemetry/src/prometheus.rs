//! The Prometheus side: one global `metrics` recorder per process, rendered
//! on `GET /metrics` of a listener the service binds itself.

use std::{
    future::Future,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use metrics::Unit;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::{
    GRPC_SERVER_IN_FLIGHT, GRPC_SERVER_REQUEST_DURATION, GRPC_SERVER_REQUESTS, TelemetryError,
};

/// Histogram buckets, in seconds, of every metric whose name ends in
/// `_seconds`: from half a millisecond (a cached answer) to ten seconds (a
/// request that hit its deadline).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded in when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Text exposition format 0.0.4.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

static RECORDER: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// Installs the Prometheus recorder as the process's global `metrics`
/// recorder, once; later calls return the same handle. Call it early in
/// startup: metrics recorded before it are lost.
pub fn install_metrics_recorder() -> Result<PrometheusHandle, TelemetryError> {
    let mut installed = RECORDER.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(TelemetryError::Recorder)?;
    describe();
    *installed = Some(handle.clone());
    Ok(handle)
}

fn describe() {
    metrics::describe_counter!(
        GRPC_SERVER_REQUESTS,
        Unit::Count,
        "gRPC calls finished, by method and status code"
    );
    metrics::describe_histogram!(
        GRPC_SERVER_REQUEST_DURATION,
        Unit::Seconds,
        "gRPC call duration until the response ended"
    );
    metrics::describe_gauge!(GRPC_SERVER_IN_FLIGHT, Unit::Count, "gRPC calls in progress");
}

/// Serves `GET /metrics` on `listener` (404 elsewhere) until `shutdown`
/// completes, installing the recorder first if needed. Bind port 0 and read
/// the listener's address to learn the real port.
///
/// Failures are logged: the recorder may be taken by another one (call
/// [`install_metrics_recorder`] at startup to fail early instead).
pub async fn serve_metrics(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let handle = match install_metrics_recorder() {
        Ok(handle) => handle,
        Err(error) => {
            tracing::error!(
                error = &error as &dyn std::error::Error,
                "metrics endpoint not served"
            );
            return;
        }
    };
    let upkeep = upkeep(handle.clone());
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state(handle);
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown);
    let result = tokio::select! {
        result = served => result,
        () = upkeep => Ok(()),
    };
    if let Err(error) = result {
        tracing::error!(%error, "metrics endpoint failed");
    }
}

async fn render(State(handle): State<PrometheusHandle>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], handle.render())
}

/// Drains histogram samples regularly so memory stays bounded between
/// scrapes; never returns.
async fn upkeep(handle: PrometheusHandle) {
    let mut interval = tokio::time::interval(UPKEEP_INTERVAL);
    loop {
        interval.tick().await;
        handle.run_upkeep();
    }
}
