//! Wiring the scheduling service onto the platform: its migrations, the
//! gRPC server with its clients of registration and consent (eligibility)
//! and of the audit-log (the keys device identifiers are sealed to), the
//! projection of its own events and the Art. 12(1) refusal cascade (both in
//! commit order), the consumer of
//! registration's erasures and the start-up reseal (Art. 7(2), 8).

use std::sync::Arc;

use hellowork_eventstore::{ProjectionRunner, TailConfig, TailingRunner, Upcasters, envelope};
use hellowork_platform::{
    Application, BackgroundTask, Platform, PlatformConfig, Service, ServiceParts, StartupError,
};
use hellowork_proto::scheduling::v1::scheduling_service_server::SchedulingServiceServer;
use tonic::service::Routes;

use crate::{
    carry_over,
    eligibility::EligibilityClient,
    grpc::SchedulingApi,
    projections::{Placements, ScheduleProjection},
    refusal_cascade::RefusalCascade,
    sealed::{
        PersonalKeys,
        erasure::{ERASED, ErasureProjection},
        upgrade::Upgrade,
    },
    sealing::DeviceSealer,
    service::Scheduling,
    settings::SchedulingSettings,
};

/// The service's own migrations (its read models), run after the event
/// store's in the same schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// The name health checks report.
pub const SERVICE_NAME: &str = "hellowork.scheduling.v1.SchedulingService";

/// Builds the service with its settings read from the environment.
pub async fn build(config: PlatformConfig) -> Result<Application, StartupError> {
    let settings = SchedulingSettings::from_env(config.environment)
        .map_err(|error| StartupError::Settings(Box::new(error)))?;
    build_with(config, settings).await
}

/// Builds the service with explicit settings (tests pass their own).
pub async fn build_with(
    config: PlatformConfig,
    settings: SchedulingSettings,
) -> Result<Application, StartupError> {
    let platform = Platform::connect_with_inline(
        config,
        &MIGRATOR,
        Upcasters::new(),
        Some(Arc::new(Placements)),
    )
    .await?;
    let channel = |service| {
        platform
            .channel_to(service)
            .map_err(|error| StartupError::Peer(Box::new(error)))
    };
    let eligibility = EligibilityClient::new(
        channel(Service::Registration)?,
        channel(Service::Consent)?,
        platform.system.interceptor(),
    );
    let sealer = Arc::new(DeviceSealer::new(
        channel(Service::AuditLog)?,
        platform.system.interceptor(),
    ));
    let keys = PersonalKeys::new(platform.pool.clone(), settings.keks.clone());
    // Before serving: a booking made when bookings lived on schedules is
    // answered from its own stream.
    carry_over::carry_over(&platform.pool, &platform.store, &keys)
        .await
        .map_err(|error| StartupError::Upgrade(Box::new(error)))?;
    // Art. 7(2), 8: in the background, as it needs the audit-log's keys and
    // the audit-log may start after us; until it is done, events stored
    // before Step 8 still read as they were.
    let upgrade = Upgrade {
        pool: platform.pool.clone(),
        store: platform.store.clone(),
        jetstream: platform.jetstream.clone(),
        stream: platform.config.stream.clone(),
        signer: platform.config.bus.signer.clone(),
        keys: keys.clone(),
        sealer: Arc::clone(&sealer),
    };
    // Art. 8: registration's stream may not exist yet (it never ran): only
    // registration may create it (deploy/nats/nats.conf); the consumer
    // attaches once it is there.
    let registration = platform.config.stream_of(Service::Registration).clone();
    let erasures = ProjectionRunner::new(
        Arc::new(ErasureProjection),
        platform.pool.clone(),
        platform.jetstream.clone(),
        platform.config.consumer_of(
            Service::Registration,
            envelope::subject(&registration.subject_prefix, ERASED),
        ),
        Upcasters::new(),
    );
    let service = Scheduling::new(platform.store.clone(), eligibility, sealer, keys, settings);
    let api = SchedulingServiceServer::new(SchedulingApi::new(service.clone()))
        .max_decoding_message_size(platform.config.limits.max_message_bytes);
    // The bookings rows keep the state of the last event applied, so they
    // must see the events in commit order: a JetStream consumer would apply a
    // message redelivered after a crash (or a Nak) behind later ones, e.g. a
    // join after the leave.
    let runner = TailingRunner::new(
        Arc::new(ScheduleProjection),
        platform.store.clone(),
        TailConfig::default(),
    );
    // Art. 12(1): in commit order too, after the refusal it follows.
    let cascade = TailingRunner::new(
        Arc::new(RefusalCascade::new(service)),
        platform.store.clone(),
        TailConfig::default(),
    );
    let background: Vec<BackgroundTask> = vec![
        Box::new(move |stop| Box::pin(runner.run(stop))),
        Box::new(move |stop| Box::pin(cascade.run(stop))),
        Box::new(move |stop| Box::pin(erasures.run(stop))),
        Box::new(move |stop| Box::pin(upgrade.run(stop))),
    ];
    let parts = ServiceParts {
        routes: Routes::new(api),
        health_names: vec![SERVICE_NAME.to_owned()],
        file_descriptor_sets: vec![hellowork_proto::FILE_DESCRIPTOR_SET],
        background,
    };
    Application::build(platform, parts).await
}
