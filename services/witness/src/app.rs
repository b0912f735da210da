//! Wiring: the witness's storage, its schedule against the log, its gRPC
//! service (with health and reflection, like the services') and its
//! Prometheus endpoint.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use hellowork_platform::{GrpcTransport, SystemCredentials};
use hellowork_proto::witness::v1::witness_service_server::WitnessServiceServer;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Endpoint, server::TcpIncoming};

use crate::{config::WitnessConfig, observe::Witness, server::WitnessApi, state::StateError};

/// How long a call to the log may take.
const PEER_TIMEOUT: Duration = Duration::from_secs(10);
const SERVICE_NAME: &str = "hellowork.witness.v1.WitnessService";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("the witness's system credentials: {0}")]
    Credentials(#[from] hellowork_platform::KeyLoadError),
    #[error("the log's address {url}: {source}")]
    LogUrl {
        url: String,
        #[source]
        source: tonic::transport::Error,
    },
    #[error("cannot load the gRPC TLS files (HELLOWORK_TLS_*): {0}")]
    Tls(#[from] hellowork_tls::TlsError),
    #[error("cannot bind {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The running witness.
#[derive(Debug)]
pub struct Running {
    pub grpc_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops on SIGTERM/SIGINT, or when `stop` is called.
    pub async fn until_stopped(self) {
        tokio::select! {
            () = hellowork_platform::terminate_signal() => {}
            () = self.stop.cancelled() => {}
        }
        self.stop().await;
    }

    /// Stops every task and waits for them.
    pub async fn stop(self) {
        self.stop.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn bind(what: &'static str, addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { what, addr, source })
}

/// Opens the storage, binds both ports (port 0 picks one) and starts.
pub async fn start(config: WitnessConfig) -> Result<Running, StartError> {
    hellowork_telemetry::install_metrics_recorder().ok();
    let credentials = Arc::new(SystemCredentials::for_subject(
        "system:witness",
        config.environment,
        &config.auth,
        PEER_TIMEOUT,
    )?);
    let tls = config.tls.as_ref().map(GrpcTransport::load).transpose()?;
    let endpoint = Endpoint::from_shared(config.log_url.clone())
        .map_err(|source| StartError::LogUrl {
            url: config.log_url.clone(),
            source,
        })?
        .connect_timeout(PEER_TIMEOUT);
    let channel = match &tls {
        Some(tls) => hellowork_tls::channel(endpoint, tls.client.clone()),
        None => endpoint.connect_lazy(),
    };
    let verifier_key = config.key.verifier_key();
    let grpc = bind("grpc", config.grpc_addr).await?;
    let metrics = bind("metrics", config.metrics_addr).await?;
    let grpc_addr = grpc.local_addr().map_err(|source| StartError::Bind {
        what: "grpc",
        addr: config.grpc_addr,
        source,
    })?;
    let metrics_addr = metrics.local_addr().map_err(|source| StartError::Bind {
        what: "metrics",
        addr: config.metrics_addr,
        source,
    })?;
    let witness = Witness::open(config, channel, credentials.interceptor())?;
    let api = WitnessApi::new(witness.shared(), verifier_key);
    let stop = CancellationToken::new();
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status(SERVICE_NAME, tonic_health::ServingStatus::Serving)
        .await;
    health_reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let served = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let router = tonic::transport::Server::builder()
                .add_service(health)
                .add_service(WitnessServiceServer::new(api));
            let stopped = stop.cancelled_owned();
            let result = match tls {
                Some(tls) => {
                    let incoming = hellowork_tls::incoming(grpc, tls.server);
                    router.serve_with_incoming_shutdown(incoming, stopped).await
                }
                None => {
                    let incoming = TcpIncoming::from(grpc).with_nodelay(Some(true));
                    router.serve_with_incoming_shutdown(incoming, stopped).await
                }
            };
            if let Err(error) = result {
                tracing::error!(%error, "the witness's gRPC server failed");
            }
        })
    };
    let exported = tokio::spawn(hellowork_telemetry::serve_metrics(
        metrics,
        stop.clone().cancelled_owned(),
    ));
    let observing = tokio::spawn(witness.run(stop.clone()));
    tracing::info!(%grpc_addr, %metrics_addr, "witness started");
    Ok(Running {
        grpc_addr,
        metrics_addr,
        stop,
        tasks: vec![served, exported, observing],
    })
}
