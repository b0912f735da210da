//! The consent service under test: its own database (cloned from a migrated
//! template), its own stream, a registration stream to publish into, tokens
//! for any role.
#![allow(dead_code)] // each test binary uses its own subset

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use hellowork_eventstore::{Actor, EventMetadata, RecordedEvent, StreamId, envelope};
use hellowork_platform::{PlatformConfig, Role, Service};
use hellowork_proto::{
    consent::v1::{self as proto, consent_service_client::ConsentServiceClient},
    events::v1::Role as ProtoRole,
};
use hellowork_testing::{
    ServiceEnv, TestDatabase, TestStream, database_url, nats_url, terms::terms_of_use,
};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use uuid::Uuid;

/// A running consent service and what its tests need around it.
#[derive(Debug)]
pub struct Consent {
    pub env: ServiceEnv,
    pub registration: TestStream,
    pub url: String,
    pub shutdown: CancellationToken,
}

impl Drop for Consent {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts the service on port 0 and waits (polling health) until it serves.
pub async fn start() -> Consent {
    let database = TestDatabase::from_template(
        &database_url(),
        "consent",
        &hellowork_testing::template_fingerprint(&hellowork_consent::app::MIGRATOR),
        |url| async move {
            let vars = vec![
                ("HELLOWORK_ENVIRONMENT".to_owned(), "development".to_owned()),
                ("HELLOWORK_DATABASE_URL".to_owned(), url),
            ];
            let config = PlatformConfig::from_vars(Service::Consent, vars).unwrap();
            let pool = hellowork_platform::prepare_database(
                &config.database,
                &hellowork_consent::app::MIGRATOR,
            )
            .await
            .unwrap();
            pool.close().await;
        },
    )
    .await;
    let env = ServiceEnv::new("consent", database, &nats_url());
    let registration = TestStream::create("registration").await;
    let mut vars = env.vars();
    vars.push((
        "HELLOWORK_REGISTRATION_NATS_STREAM".into(),
        registration.config.stream_name.clone(),
    ));
    vars.push((
        "HELLOWORK_REGISTRATION_NATS_SUBJECT_PREFIX".into(),
        registration.config.subject_prefix.clone(),
    ));
    let config = PlatformConfig::from_vars(Service::Consent, vars).unwrap();
    let app = hellowork_consent::app::build(config).await.unwrap();
    let url = format!("http://{}", app.grpc_addr());
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run_until_stopped());
    let consent = Consent {
        env,
        registration,
        url,
        shutdown,
    };
    consent.wait_until_serving().await;
    consent
}

impl Consent {
    pub async fn client(&self) -> ConsentServiceClient<Channel> {
        ConsentServiceClient::connect(self.url.clone())
            .await
            .unwrap()
    }

    async fn wait_until_serving(&self) {
        eventually("the consent service SERVING", || async {
            let channel = Channel::from_shared(self.url.clone())
                .unwrap()
                .connect()
                .await
                .ok()?;
            let status = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: hellowork_consent::app::HEALTH_NAME.into(),
                })
                .await
                .ok()?
                .into_inner()
                .status();
            (status == ServingStatus::Serving).then_some(())
        })
        .await;
    }

    pub fn request<T>(&self, message: T, subject: &str, role: Role) -> tonic::Request<T> {
        self.env.request(message, subject, role)
    }

    /// Publishes a registration event to the registration test stream, as
    /// registration's relay would.
    pub async fn publish_registration_event(
        &self,
        event_type: &str,
        payload: Vec<u8>,
        stream: &str,
    ) {
        let now = Utc::now();
        let event = RecordedEvent {
            event_id: Uuid::now_v7(),
            stream_id: StreamId::new(format!("registration-{stream}")).unwrap(),
            stream_version: 1,
            event_type: event_type.to_owned(),
            schema_version: 1,
            payload,
            occurred_at: now,
            recorded_at: now,
            metadata: EventMetadata {
                correlation_id: Uuid::now_v7(),
                causation_id: None,
                actor: Actor {
                    subject: stream.to_owned(),
                    role: ProtoRole::JobSeeker,
                },
                traceparent: None,
                tracestate: None,
            },
        };
        let subject = envelope::subject(&self.registration.config.subject_prefix, event_type);
        let body = hellowork_testing::signed_envelope("registration", &event, &subject);
        self.registration
            .jetstream
            .publish_with_headers(subject, envelope::headers(&event), body.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }

    /// Events stored in the consent service's event store.
    pub async fn stored_events(&self) -> i64 {
        let pool = sqlx::PgPool::connect(&self.env.database.url).await.unwrap();
        let count = sqlx::query_scalar("SELECT count(*) FROM consent.events")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        count
    }
}

pub use hellowork_testing::eventually;

pub fn date(date: NaiveDate) -> proto::Date {
    use chrono::Datelike;
    proto::Date {
        year: date.year(),
        month: date.month() as i32,
        day: date.day() as i32,
    }
}

/// Today in Asia/Tokyo.
pub fn today_in_tokyo() -> NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(9 * 3600).unwrap())
        .date_naive()
}

/// 00:00 Asia/Tokyo of `date`.
pub fn start_in_tokyo(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(0, 0, 0)
        .unwrap()
        .and_local_timezone(FixedOffset::east_opt(9 * 3600).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// Lowercase hex SHA-256, computed independently of the service.
pub fn sha256(text: &str) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(text.as_bytes()))
}

/// Publishes the seed text as version 2023-12-18 and a meeting-app version,
/// both in force since 2023-12-18; returns both documents.
pub async fn publish_baseline(consent: &Consent) -> (proto::TermsDocument, proto::TermsDocument) {
    let mut client = consent.client().await;
    let text = terms_of_use();
    let terms = client
        .publish_terms_document(consent.request(
            proto::PublishTermsDocumentRequest {
                request_id: Uuid::now_v7().to_string(),
                version: "2023-12-18".into(),
                language: "ja".into(),
                title: text.title().to_owned(),
                full_text: text.text.clone(),
                sha256: String::new(),
                established_date: Some(date(NaiveDate::from_ymd_opt(2021, 3, 1).unwrap())),
                revised_date: Some(date(NaiveDate::from_ymd_opt(2023, 12, 18).unwrap())),
                effective_date: Some(date(NaiveDate::from_ymd_opt(2023, 12, 18).unwrap())),
            },
            "operator-1",
            Role::Operator,
        ))
        .await
        .unwrap()
        .into_inner()
        .terms_document
        .unwrap();
    let app = client
        .publish_meeting_app_terms(consent.request(
            proto::PublishMeetingAppTermsRequest {
                request_id: Uuid::now_v7().to_string(),
                meeting_app_name: "Meeting App".into(),
                version: "2023-10".into(),
                language: "ja".into(),
                title: "Meeting app terms".into(),
                full_text: "test meeting app terms".into(),
                sha256: sha256("test meeting app terms"),
                effective_date: Some(date(NaiveDate::from_ymd_opt(2023, 10, 1).unwrap())),
                source_uri: "https://example.com/terms".into(),
            },
            "operator-1",
            Role::Operator,
        ))
        .await
        .unwrap()
        .into_inner()
        .terms_document
        .unwrap();
    (terms, app)
}
