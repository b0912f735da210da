//! Wiring the audit-log service onto the platform: its migrations, the gRPC
//! server, the ingest of registration's, consent's and scheduling's events
//! (Art. 7(1)), the access-log projection of its own events, the retention
//! job (Art. 7(2), 8), the checkpoint signing and self-verification of the
//! transparency log, and the legal requests by state for Prometheus; the
//! start-up upgrade of records stored before Step 8 runs before all of them.

use std::sync::Arc;

use hellowork_eventstore::{Projection, ProjectionRunner, TailConfig, TailingRunner, Upcasters};
use hellowork_platform::{
    Application, BackgroundTask, Platform, PlatformConfig, Service, ServiceParts, StartupError,
};
use hellowork_proto::auditlog::v1::audit_log_service_server::AuditLogServiceServer;
use tonic::service::Routes;

use crate::{
    grpc::AuditLogApi,
    ingest::Ingestor,
    metrics,
    projections::{AccessLogProjection, PeerIngest},
    retention::Retention,
    settings::AuditLogSettings,
    store,
    transparency::{Transparency, TransparencyLog},
    upgrade,
};

/// The service's own migrations, run after the event store's in the same schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// The name health checks report.
pub const SERVICE_NAME: &str = "hellowork.auditlog.v1.AuditLogService";

/// Builds the service with its settings read from the environment.
pub async fn build(config: PlatformConfig) -> Result<Application, StartupError> {
    let settings = AuditLogSettings::from_env(config.environment)
        .map_err(|error| StartupError::Settings(Box::new(error)))?;
    build_with(config, settings).await
}

/// Builds the service with explicit settings (tests pass their own).
pub async fn build_with(
    config: PlatformConfig,
    settings: AuditLogSettings,
) -> Result<Application, StartupError> {
    let platform = Platform::connect(config, &MIGRATOR, Upcasters::new()).await?;
    let ingestor = Ingestor::new(&settings, platform.pool.clone());
    // The platform's errors have no variant for a service's data upgrade; it
    // is the database's data that could not be upgraded.
    let upgraded = upgrade::run(&platform, &ingestor, &settings.ring)
        .await
        .map_err(|error| StartupError::Upgrade(Box::new(error)))?;
    tracing::info!(?upgraded, "audit-log's usage record upgrade done");
    // Step 9: entries appended before the Merkle tree existed become its
    // first leaves, before anything appends after them.
    let grown = store::catch_up(&platform.pool)
        .await
        .map_err(StartupError::Database)?;
    if grown > 0 {
        tracing::info!(
            entries = grown,
            "the access log's Merkle tree now covers the entries appended before it"
        );
    }
    let mut background = Vec::new();
    for (service, name) in [
        (Service::Registration, "registration"),
        (Service::Consent, "consent"),
        (Service::Scheduling, "scheduling"),
    ] {
        // A peer's stream may not exist yet (the peer never ran): its
        // producer creates it, as only it may (deploy/nats/nats.conf); the
        // consumer attaches once it is there.
        let stream = platform.config.stream_of(service).clone();
        background.push(runner(
            &platform,
            PeerIngest::new(name, ingestor.clone(), platform.store.clone()),
            service,
            &stream,
        ));
    }
    let access_log = TailingRunner::new(
        Arc::new(AccessLogProjection),
        platform.store.clone(),
        TailConfig::default(),
    );
    background.push(Box::new(move |stop| Box::pin(access_log.run(stop))));
    let retention = Retention::new(
        ingestor.keys.clone(),
        platform.store.clone(),
        settings.retention,
    );
    background.push(Box::new(move |stop| Box::pin(retention.run(stop))));
    let pool = platform.pool.clone();
    background.push(Box::new(move |stop| {
        Box::pin(metrics::report_legal_requests(pool, stop))
    }));
    let transparency = Transparency {
        pool: platform.pool.clone(),
        log: TransparencyLog::new(platform.pool.clone(), settings.transparency.clone()),
        checkpoint_interval: settings.transparency.checkpoint_interval,
        verify_interval: settings.transparency.verify_interval,
    };
    background.push(Box::new(move |stop| Box::pin(transparency.run(stop))));
    metrics::register();
    let api = AuditLogServiceServer::new(AuditLogApi::new(
        platform.pool.clone(),
        platform.store.clone(),
        settings,
    ))
    .max_decoding_message_size(platform.config.limits.max_message_bytes);
    let parts = ServiceParts {
        routes: Routes::new(api),
        health_names: vec![SERVICE_NAME.to_owned()],
        file_descriptor_sets: vec![hellowork_proto::FILE_DESCRIPTOR_SET],
        background,
    };
    Application::build(platform, parts).await
}

fn runner<P: Projection>(
    platform: &Platform,
    projection: P,
    producer: Service,
    stream: &hellowork_eventstore::EventStreamConfig,
) -> BackgroundTask {
    let runner = ProjectionRunner::new(
        Arc::new(projection),
        platform.pool.clone(),
        platform.jetstream.clone(),
        platform.config.consumer_of(producer, stream.all_subjects()),
        Upcasters::new(),
    );
    Box::new(move |stop| Box::pin(runner.run(stop)))
}
