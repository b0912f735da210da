//! Wiring: the platform, the gRPC service, the consumers that keep the
//! read models and record deemed consent, and the terms-in-force metric.

use std::sync::Arc;

use hellowork_eventstore::{ConsumerConfig, Projection, ProjectionRunner, Upcasters};
use hellowork_platform::{
    Application, BackgroundTask, Platform, PlatformConfig, Service, ServiceParts, StartupError,
};
use hellowork_proto::consent::v1::consent_service_server::ConsentServiceServer;
use tonic::service::Routes;

use crate::{
    commands::ConsentService,
    deemed_consent::DeemedConsent,
    grpc::ConsentApi,
    metrics,
    projections::{
        notices::{RegisteredUsers, RevisionNotices},
        terms_documents::TermsDocuments,
    },
};

/// The service's own migrations (read models), run after the event store's.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The name health checks report.
pub const HEALTH_NAME: &str = "hellowork.consent.v1.ConsentService";

/// Connects, migrates and binds the consent service (port 0 allowed).
pub async fn build(config: PlatformConfig) -> Result<Application, StartupError> {
    let platform = Platform::connect(config, &MIGRATOR, Upcasters::new()).await?;
    // Registration's stream may not exist yet (registration never ran): only
    // registration may create it (deploy/nats/nats.conf); the consumers
    // attach once it is there.
    let registration = platform.config.stream_of(Service::Registration).clone();

    let service = ConsentService::new(platform.store.clone());
    let api = ConsentServiceServer::new(ConsentApi::new(service.clone()))
        .max_decoding_message_size(platform.config.limits.max_message_bytes);

    let own = &platform.config.stream;
    let from_registration = |event_type: &str| {
        platform.config.consumer_of(
            Service::Registration,
            hellowork_eventstore::envelope::subject(&registration.subject_prefix, event_type),
        )
    };
    let background = vec![
        consumer(
            &platform,
            TermsDocuments,
            platform
                .config
                .consumer_of(Service::Consent, own.all_subjects()),
        ),
        consumer(
            &platform,
            RevisionNotices,
            platform.config.consumer_of(
                Service::Consent,
                hellowork_eventstore::envelope::subject(
                    &own.subject_prefix,
                    "TermsRevisionAnnounced",
                ),
            ),
        ),
        consumer(
            &platform,
            RegisteredUsers,
            from_registration("JobSeekerRegistered"),
        ),
        consumer(
            &platform,
            DeemedConsent::new(service.clone()),
            from_registration("OnlineServicesApplied"),
        ),
        terms_in_force(service, platform.pool.clone()),
    ];
    let parts = ServiceParts {
        routes: Routes::new(api),
        health_names: vec![HEALTH_NAME.to_owned()],
        file_descriptor_sets: vec![hellowork_proto::FILE_DESCRIPTOR_SET],
        background,
    };
    Application::build(platform, parts).await
}

/// A projection run from its durable consumer until shutdown.
fn consumer<P: Projection>(
    platform: &Platform,
    projection: P,
    config: ConsumerConfig,
) -> BackgroundTask {
    let runner = ProjectionRunner::new(
        Arc::new(projection),
        platform.pool.clone(),
        platform.jetstream.clone(),
        config,
        platform.store.upcasters().clone(),
    );
    Box::new(move |shutdown| Box::pin(runner.run(shutdown)))
}

/// Reports the terms version in force to Prometheus until shutdown.
fn terms_in_force(service: ConsentService, pool: sqlx::PgPool) -> BackgroundTask {
    Box::new(move |shutdown| Box::pin(metrics::report_terms_in_force(service, pool, shutdown)))
}
