//! Wiring the registration service onto the platform: its migrations, the
//! gRPC server, and the projections of the consent service's and
//! scheduling's events.

use std::sync::Arc;

use hellowork_eventstore::{Projection, ProjectionRunner, Upcasters};
use hellowork_platform::{
    Application, BackgroundTask, Platform, PlatformConfig, Service, ServiceParts, StartupError,
};
use hellowork_proto::registration::v1::registration_service_server::RegistrationServiceServer;
use tonic::service::Routes;

use crate::{
    grpc::RegistrationApi,
    projections::{ConsentStatusProjection, CounsellorProjection, RefusalProjection},
    sealed::{PersonalKeys, SealedRepository, upgrade},
    service::Registrations,
    settings::RegistrationSettings,
};

/// The service's own migrations (its read models), run after the event
/// store's in the same schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// The name health checks report.
pub const SERVICE_NAME: &str = "hellowork.registration.v1.RegistrationService";

/// Builds the service with its settings read from the environment.
pub async fn build(config: PlatformConfig) -> Result<Application, StartupError> {
    let settings = RegistrationSettings::from_env(config.environment)
        .map_err(|error| StartupError::Settings(Box::new(error)))?;
    build_with(config, settings).await
}

/// Builds the service with explicit settings (tests pass their own).
pub async fn build_with(
    config: PlatformConfig,
    settings: RegistrationSettings,
) -> Result<Application, StartupError> {
    let platform = Platform::connect(config, &MIGRATOR, Upcasters::new()).await?;
    let keys = PersonalKeys::new(platform.pool.clone(), settings.keks.clone());
    // Art. 8: before the relay publishes or the API answers anything.
    // The platform's errors have no variant for a service's data upgrade; it
    // is the database not being ready, as for the settings above.
    let upgraded = upgrade::run(&platform, &keys)
        .await
        .map_err(|error| StartupError::Upgrade(Box::new(error)))?;
    tracing::info!(?upgraded, "registration's personal data upgrade done");
    // The peers' streams may not exist yet (a peer that never ran): only each
    // producer may create its own (deploy/nats/nats.conf); the consumers
    // attach once they are there.
    let consent = platform.config.stream_of(Service::Consent).clone();
    let scheduling = platform.config.stream_of(Service::Scheduling).clone();
    let service = Registrations::new(
        SealedRepository::new(platform.store.clone(), keys),
        platform.pool.clone(),
        settings,
    );
    let api = RegistrationServiceServer::new(RegistrationApi::new(service))
        .max_decoding_message_size(platform.config.limits.max_message_bytes);
    let background = vec![
        runner(
            &platform,
            ConsentStatusProjection,
            Service::Consent,
            &consent,
        ),
        runner(
            &platform,
            RefusalProjection,
            Service::Scheduling,
            &scheduling,
        ),
        runner(
            &platform,
            CounsellorProjection,
            Service::Scheduling,
            &scheduling,
        ),
    ];
    let parts = ServiceParts {
        routes: Routes::new(api),
        health_names: vec![SERVICE_NAME.to_owned()],
        file_descriptor_sets: vec![hellowork_proto::FILE_DESCRIPTOR_SET],
        background,
    };
    Application::build(platform, parts).await
}

/// A projection fed by a durable consumer on every subject of `stream`.
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
