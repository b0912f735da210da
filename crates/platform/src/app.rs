//! Starting, running and stopping a service, the same way for all four.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use async_nats::jetstream;
use futures::future::BoxFuture;
use hellowork_eventstore::{
    EventStore, InlineProjection, Relay, RelayConfig, StoreConfig, Upcasters,
};
use hellowork_tls::{ClientTls, ServerTls};
use sqlx::{PgPool, migrate::Migrator};
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;
use tonic::{
    service::Routes,
    transport::{Channel, Endpoint, Server, server::TcpIncoming},
};
use tonic_health::ServingStatus;
use tower::{ServiceBuilder, limit::GlobalConcurrencyLimitLayer, load_shed::LoadShedLayer};

use crate::{
    auth::{AuthLayer, KeyLoadError, SharedVerifier, load_verifier, reload_keys},
    config::{GrpcTls, PlatformConfig},
    deadline::DeadlineLayer,
    migrate::prepare_database,
    readiness,
    system_token::SystemCredentials,
};

/// Why a service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot install the metrics recorder")]
    Metrics(#[source] hellowork_telemetry::TelemetryError),
    #[error("cannot prepare the database")]
    Database(#[source] sqlx::Error),
    /// A service's own settings variable is missing or malformed.
    #[error("invalid settings")]
    Settings(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A peer service's address cannot be used.
    #[error("cannot configure the channel to a peer service")]
    Peer(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Data stored in an earlier format cannot be brought to the current one.
    #[error("cannot upgrade the stored data")]
    Upgrade(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("cannot use the NATS credentials")]
    NatsCredentials(#[source] crate::config::NatsCredentialsError),
    #[error("cannot connect to NATS")]
    Nats(#[source] async_nats::ConnectError),
    #[error("cannot create the JetStream stream")]
    Stream(#[source] async_nats::jetstream::context::CreateStreamError),
    #[error("cannot sign the messages published before envelopes were signed")]
    SignUnsigned(#[source] hellowork_eventstore::unsigned::SignUnsignedError),
    #[error("cannot load the token verification keys")]
    Auth(#[source] KeyLoadError),
    #[error("cannot load the gRPC TLS files (HELLOWORK_TLS_*)")]
    Tls(#[source] hellowork_tls::TlsError),
    #[error("cannot bind {what} on {addr}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build gRPC reflection")]
    Reflection(#[source] tonic_reflection::server::Error),
    #[error("the gRPC server failed")]
    Serve(#[source] tonic::transport::Error),
    #[error("the gRPC server task panicked")]
    ServerPanicked,
}

/// Connections every service shares: its database schema and event store,
/// NATS, and the token verifier.
#[derive(Debug, Clone)]
pub struct Platform {
    pub config: PlatformConfig,
    pub pool: PgPool,
    pub store: EventStore,
    pub nats: async_nats::Client,
    pub jetstream: jetstream::Context,
    /// Reloaded when the configured key files change (see [`SharedVerifier`]).
    pub verifier: SharedVerifier,
    /// Credentials for this service's calls to other services.
    pub system: Arc<SystemCredentials>,
    /// The gRPC TLS this service serves and calls with, where configured.
    pub tls: Option<GrpcTransport>,
}

/// A service's gRPC TLS: what it serves with (its certificate, and the
/// roots its callers' must chain to) and what it calls others with (the
/// same certificate, naming it, and the roots theirs must chain to); both
/// re-read when their files change.
#[derive(Debug, Clone)]
pub struct GrpcTransport {
    pub server: Arc<ServerTls>,
    pub client: Arc<ClientTls>,
}

impl GrpcTransport {
    /// Loads the files and watches them (needs a Tokio runtime).
    pub fn load(tls: &GrpcTls) -> Result<Self, hellowork_tls::TlsError> {
        let files = &tls.files;
        Ok(Self {
            server: ServerTls::load_and_watch(files.clone(), tls.client_auth, tls.reload_interval)?,
            client: ClientTls::load_and_watch(
                &files.ca,
                Some((&files.cert, &files.key)),
                tls.reload_interval,
            )?,
        })
    }
}

impl Platform {
    /// Loads the TLS files, verification keys and credentials, prepares the
    /// schema (under an advisory lock), connects to NATS and ensures the
    /// service's JetStream stream.
    pub async fn connect(
        config: PlatformConfig,
        migrations: &Migrator,
        upcasters: Upcasters,
    ) -> Result<Self, StartupError> {
        Self::connect_with_inline(config, migrations, upcasters, None).await
    }

    /// [`Platform::connect`] with a read model the event store writes in
    /// each append's transaction.
    pub async fn connect_with_inline(
        config: PlatformConfig,
        migrations: &Migrator,
        upcasters: Upcasters,
        inline: Option<Arc<dyn InlineProjection>>,
    ) -> Result<Self, StartupError> {
        // Before anything records a metric: the event store and the service
        // register counters at zero while starting, which a recorder
        // installed later (by the metrics endpoint) would never see.
        hellowork_telemetry::install_metrics_recorder().map_err(StartupError::Metrics)?;
        // The local files first (TLS, token keys, system token, NATS seed):
        // a bad one is named at once, not hidden behind an unreachable
        // database or a NATS connection retried without end.
        let tls = config
            .grpc_tls
            .as_ref()
            .map(GrpcTransport::load)
            .transpose()
            .map_err(StartupError::Tls)?;
        let verifier = SharedVerifier::new(load_verifier(&config).map_err(StartupError::Auth)?);
        let system = Arc::new(SystemCredentials::from_config(&config).map_err(StartupError::Auth)?);
        let nats_options = config
            .nats
            .connect_options(config.service.name())
            .await
            .map_err(StartupError::NatsCredentials)?;
        let pool = prepare_database(&config.database, migrations)
            .await
            .map_err(StartupError::Database)?;
        let nats = nats_options
            .retry_on_initial_connect()
            .connect(config.nats_url.expose().as_str())
            .await
            .map_err(StartupError::Nats)?;
        let jetstream = jetstream::new(nats.clone());
        hellowork_eventstore::ensure_stream(&jetstream, &config.stream)
            .await
            .map_err(StartupError::Stream)?;
        // Before the relay publishes anything: consumers trust only signed
        // envelopes, so what an older release published is signed now.
        if let Some(report) = hellowork_eventstore::unsigned::sign_unsigned_messages(
            &pool,
            &jetstream,
            &config.stream,
            &config.bus.signer,
        )
        .await
        .map_err(StartupError::SignUnsigned)?
            && report.rewritten > 0
        {
            tracing::info!(
                signed = report.rewritten,
                examined = report.examined,
                "signed the messages published before envelopes were signed"
            );
        }
        let store = EventStore::new(
            pool.clone(),
            StoreConfig {
                writer_connections: config.database.writer_connections,
                inline,
                ..StoreConfig::new(config.service.name())
            },
            upcasters,
        );
        Ok(Self {
            config,
            pool,
            store,
            nats,
            jetstream,
            verifier,
            system,
            tls,
        })
    }
}

impl Platform {
    /// A channel to another service: connected lazily (so start-up does not
    /// depend on the peer), reconnecting on its own; over TLS, presenting
    /// this service's certificate, where TLS is configured. Wrap clients with
    /// `self.system.interceptor()` to call as `system`, which gives every
    /// call its deadline (what is left of the request being served). A peer
    /// that cannot be reached within the peer timeout gives UNAVAILABLE.
    pub fn channel_to(
        &self,
        service: crate::config::Service,
    ) -> Result<Channel, tonic::transport::Error> {
        let endpoint = Endpoint::from_shared(self.config.endpoint_of(service).to_owned())?
            .connect_timeout(self.config.peer_timeout);
        Ok(match &self.tls {
            Some(tls) => hellowork_tls::channel(endpoint, tls.client.clone()),
            None => endpoint.connect_lazy(),
        })
    }
}

/// A background task (a projection, a sweeper) run until shutdown.
pub type BackgroundTask = Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, ()> + Send>;

/// What a service adds to the platform.
pub struct ServiceParts {
    /// The service's gRPC servers.
    pub routes: Routes,
    /// Fully qualified gRPC service names reported by health checks, e.g.
    /// `hellowork.consent.v1.ConsentService`.
    pub health_names: Vec<String>,
    /// Encoded `FileDescriptorSet`s served by reflection (for the real
    /// services, `hellowork_proto::FILE_DESCRIPTOR_SET`).
    pub file_descriptor_sets: Vec<&'static [u8]>,
    pub background: Vec<BackgroundTask>,
}

impl std::fmt::Debug for ServiceParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceParts")
            .field("health_names", &self.health_names)
            .field("background", &self.background.len())
            .finish_non_exhaustive()
    }
}

/// A service whose listeners are bound; [`Application::run_until_stopped`]
/// serves until SIGTERM/SIGINT or [`Application::shutdown_token`] is cancelled.
#[derive(Debug)]
pub struct Application {
    platform: Platform,
    parts: ServiceParts,
    grpc: TcpListener,
    metrics: TcpListener,
    shutdown: CancellationToken,
}

impl Application {
    /// Binds the gRPC and metrics listeners (port 0 picks a free port).
    pub async fn build(platform: Platform, parts: ServiceParts) -> Result<Self, StartupError> {
        let grpc = bind("grpc", platform.config.grpc_addr).await?;
        let metrics = bind("metrics", platform.config.metrics_addr).await?;
        Ok(Self {
            platform,
            parts,
            grpc,
            metrics,
            shutdown: CancellationToken::new(),
        })
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Cancel to stop gracefully, as SIGTERM does.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until stopped, then shuts down in order: health turns
    /// NOT_SERVING, the listener closes and in-flight RPCs finish (bounded by
    /// the grace period), then the relay and background tasks stop.
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        let Self {
            platform,
            parts,
            grpc,
            metrics,
            shutdown,
        } = self;
        let config = &platform.config;
        let service = config.service.name();
        let reflection = parts
            .file_descriptor_sets
            .iter()
            .fold(
                tonic_reflection::server::Builder::configure()
                    .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
                |builder, set| builder.register_encoded_file_descriptor_set(set),
            )
            .build_v1()
            .map_err(StartupError::Reflection)?;
        let (reporter, health) = tonic_health::server::health_reporter();
        readiness::set_all(&reporter, &parts.health_names, ServingStatus::NotServing).await;

        let background_stop = CancellationToken::new();
        let mut background = JoinSet::new();
        let relay = Relay::new(
            platform.store.clone(),
            platform.jetstream.clone(),
            RelayConfig::new(config.stream.clone(), config.bus.signer.clone()),
        );
        background.spawn(relay.run(background_stop.clone()));
        for task in parts.background {
            background.spawn(task(background_stop.clone()));
        }
        let readiness_stop = CancellationToken::new();
        background.spawn(readiness::monitor(
            reporter.clone(),
            parts.health_names.clone(),
            platform.pool.clone(),
            platform.nats.clone(),
            config.readiness_interval,
            readiness_stop.clone(),
        ));
        background.spawn(reload_keys(
            platform.verifier.clone(),
            config.environment,
            config.auth.clone(),
            background_stop.clone(),
        ));
        background.spawn(hellowork_telemetry::serve_metrics(
            metrics,
            background_stop.clone().cancelled_owned(),
        ));

        let layers = ServiceBuilder::new()
            .layer(hellowork_telemetry::GrpcTelemetryLayer::new(service))
            .layer(DeadlineLayer::new(config.limits.request_timeout))
            .layer(LoadShedLayer::new())
            .layer(GlobalConcurrencyLimitLayer::new(
                config.limits.max_concurrent_requests,
            ))
            .layer(AuthLayer::new(
                platform.verifier.clone(),
                platform.tls.is_some(),
            ))
            .into_inner();
        let server_stop = CancellationToken::new();
        let router = Server::builder()
            .layer(layers)
            .add_routes(parts.routes)
            .add_service(health)
            .add_service(reflection);
        let stopped = server_stop.clone().cancelled_owned();
        let mut server = match &platform.tls {
            // The handshake happens before a request is read: a plaintext
            // client never gets a gRPC answer.
            Some(tls) => tokio::spawn(router.serve_with_incoming_shutdown(
                hellowork_tls::incoming(grpc, tls.server.clone()),
                stopped,
            )),
            // Without TCP_NODELAY, a response written in several frames
            // waits for the peer's delayed ACK (Nagle): a booking's
            // eligibility calls took 40 ms more than their handlers did.
            None => tokio::spawn(router.serve_with_incoming_shutdown(
                TcpIncoming::from(grpc).with_nodelay(Some(true)),
                stopped,
            )),
        };
        tracing::info!(service, tls = platform.tls.is_some(), "serving");

        let served = tokio::select! {
            () = shutdown.cancelled() => None,
            () = terminate_signal() => None,
            served = &mut server => Some(served),
        };
        readiness_stop.cancel();
        readiness::set_all(&reporter, &parts.health_names, ServingStatus::NotServing).await;
        if served.is_none() {
            tracing::info!(service, "shutting down: draining in-flight requests");
            server_stop.cancel();
            if tokio::time::timeout(config.shutdown_grace, &mut server)
                .await
                .is_err()
            {
                tracing::warn!(service, "grace period over; aborting remaining requests");
                server.abort();
            }
        }
        background_stop.cancel();
        let drained = tokio::time::timeout(Duration::from_secs(10), async {
            while background.join_next().await.is_some() {}
        });
        if drained.await.is_err() {
            tracing::warn!(service, "background tasks did not stop in time");
        }
        platform.pool.close().await;
        tracing::info!(service, "stopped");
        match served {
            Some(Ok(Err(error))) => Err(StartupError::Serve(error)),
            Some(Err(_)) => Err(StartupError::ServerPanicked),
            Some(Ok(Ok(()))) | None => Ok(()),
        }
    }
}

async fn bind(what: &'static str, addr: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { what, addr, source })
}

/// SIGTERM (orchestrators) or SIGINT (Ctrl-C).
pub async fn terminate_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
