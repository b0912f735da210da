//! The registration service started on the platform for a test: its own
//! database (cloned from a migrated template), its own JetStream stream,
//! peer streams standing in for the consent service and scheduling, and
//! tokens for any role.

use chrono::Utc;
use hellowork_eventstore::{Actor, EventMetadata, RecordedEvent, StreamId, envelope};
use hellowork_platform::{Environment, PlatformConfig, Role, Service};
use hellowork_proto::registration::v1::registration_service_client::RegistrationServiceClient;
use hellowork_registration::{MIGRATOR, RegistrationSettings, SERVICE_NAME};
use hellowork_testing::{ServiceEnv, TestDatabase, TestStream, database_url, eventually, nats_url};
use prost::Message;
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use uuid::Uuid;

/// A running service and what it stands on.
pub struct Harness {
    pub env: ServiceEnv,
    pub consent: TestStream,
    pub scheduling: TestStream,
    pub addr: std::net::SocketAddr,
    shutdown: tokio_util::sync::CancellationToken,
    nats: async_nats::jetstream::Context,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// What a service under test stands on, before it starts: a test may put
/// data there first (e.g. events in an older form).
pub struct Prepared {
    pub env: ServiceEnv,
    pub consent: TestStream,
    pub scheduling: TestStream,
}

pub async fn start() -> Harness {
    prepare().await.start().await
}

pub async fn prepare() -> Prepared {
    let database = TestDatabase::from_template(
        &database_url(),
        "registration",
        &hellowork_testing::template_fingerprint(&MIGRATOR),
        |url| async move {
            let vars = vec![
                ("HELLOWORK_ENVIRONMENT".to_owned(), "development".to_owned()),
                ("HELLOWORK_DATABASE_URL".to_owned(), url),
            ];
            let config = PlatformConfig::from_vars(Service::Registration, vars).unwrap();
            let pool = hellowork_platform::prepare_database(&config.database, &MIGRATOR)
                .await
                .unwrap();
            pool.close().await;
        },
    )
    .await;
    let env = ServiceEnv::new("registration", database, &nats_url());
    let consent = TestStream::create("consent").await;
    let scheduling = TestStream::create("scheduling").await;
    Prepared {
        env,
        consent,
        scheduling,
    }
}

impl Prepared {
    /// The service's own JetStream stream, created as the service would.
    pub async fn stream(&self) -> async_nats::jetstream::Context {
        let config = hellowork_eventstore::EventStreamConfig::new(
            self.env.stream_name.clone(),
            self.env.subject_prefix.clone(),
        );
        hellowork_eventstore::ensure_stream(&self.consent.jetstream, &config)
            .await
            .unwrap();
        self.consent.jetstream.clone()
    }

    pub async fn start(self) -> Harness {
        let Self {
            env,
            consent,
            scheduling,
        } = self;
        start_on(env, consent, scheduling).await
    }
}

async fn start_on(env: ServiceEnv, consent: TestStream, scheduling: TestStream) -> Harness {
    let mut vars = env.vars();
    for (service, stream) in [("CONSENT", &consent), ("SCHEDULING", &scheduling)] {
        vars.push((
            format!("HELLOWORK_{service}_NATS_STREAM"),
            stream.config.stream_name.clone(),
        ));
        vars.push((
            format!("HELLOWORK_{service}_NATS_SUBJECT_PREFIX"),
            stream.config.subject_prefix.clone(),
        ));
    }
    let config = PlatformConfig::from_vars(Service::Registration, vars).unwrap();
    let settings = RegistrationSettings::from_vars(Environment::Development, Vec::new()).unwrap();
    let app = hellowork_registration::build_with(config, settings)
        .await
        .unwrap();
    let addr = app.grpc_addr();
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run_until_stopped());
    let nats = consent.jetstream.clone();
    let harness = Harness {
        env,
        consent,
        scheduling,
        addr,
        shutdown,
        nats,
    };
    harness.wait_until_serving().await;
    harness
}

impl Harness {
    pub async fn client(&self) -> RegistrationServiceClient<Channel> {
        RegistrationServiceClient::connect(format!("http://{}", self.addr))
            .await
            .unwrap()
    }

    pub fn request<T>(&self, message: T, subject: &str, role: Role) -> tonic::Request<T> {
        self.env.request(message, subject, role)
    }

    /// A request by the job seeker themself: their token's subject is their id.
    pub fn seeker<T>(&self, id: &str, message: T) -> tonic::Request<T> {
        self.env.request(message, id, Role::JobSeeker)
    }

    async fn wait_until_serving(&self) {
        eventually("the registration service SERVING", || async {
            let channel = Channel::from_shared(format!("http://{}", self.addr))
                .unwrap()
                .connect()
                .await
                .unwrap();
            let status = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: SERVICE_NAME.into(),
                })
                .await
                .map(|r| r.into_inner().status());
            matches!(status, Ok(ServingStatus::Serving))
        })
        .await;
    }

    /// A pool of one connection in the service's schema.
    pub async fn pool(&self) -> sqlx::PgPool {
        schema_pool(&self.env).await
    }

    /// Every message on the service's JetStream stream, oldest first.
    pub async fn published(&self) -> Vec<async_nats::jetstream::message::StreamMessage> {
        let mut stream = self.nats.get_stream(&self.env.stream_name).await.unwrap();
        let last = stream.info().await.unwrap().state.last_sequence;
        let mut messages = Vec::new();
        for sequence in 1..=last {
            // Deleted (erased) sequences are gaps.
            if let Ok(message) = stream.get_raw_message(sequence).await {
                messages.push(message);
            }
        }
        messages
    }

    /// Events in the registration store.
    pub async fn stored_events(&self) -> Vec<String> {
        let pool = sqlx::PgPool::connect(&self.env.database.url).await.unwrap();
        let types =
            sqlx::query_scalar("SELECT event_type FROM registration.events ORDER BY position")
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        types
    }

    /// Waits until the service's JetStream stream holds `count` messages.
    pub async fn wait_for_published(&self, count: u64) {
        let published = eventually(&format!("{count} events published"), || async {
            let mut stream = self.nats.get_stream(&self.env.stream_name).await.unwrap();
            let messages = stream.info().await.unwrap().state.messages;
            (messages >= count).then_some(messages)
        })
        .await;
        assert_eq!(published, count);
    }

    /// Publishes a consent-service event, as the consent service's relay would.
    pub async fn publish_consent(&self, event_type: &str, payload: impl Message) {
        publish(
            &self.nats,
            "consent",
            &self.consent,
            event_type,
            payload.encode_to_vec(),
        )
        .await;
    }

    /// Books `job_seeker_id` a session with `counsellor_id` on scheduling's
    /// stream and waits until registration knows the counsellor serves them.
    pub async fn book_with(&self, job_seeker_id: &str, counsellor_id: &str) {
        self.publish_scheduling(
            "SessionBooked",
            hellowork_proto::scheduling::v1::SessionBooked {
                booking_id: Uuid::now_v7().to_string(),
                slot_id: Uuid::now_v7().to_string(),
                job_seeker_id: job_seeker_id.to_owned(),
                counsellor_id: counsellor_id.to_owned(),
                ..Default::default()
            },
        )
        .await;
        let pool = self.pool().await;
        eventually("the booking in the counsellor's bookings", || async {
            sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM counsellor_bookings \
                 WHERE job_seeker_id = $1 AND counsellor_id = $2)",
            )
            .bind(job_seeker_id)
            .bind(counsellor_id)
            .fetch_one(&pool)
            .await
            .unwrap()
        })
        .await;
        pool.close().await;
    }

    /// Publishes a scheduling event, as scheduling's relay would.
    pub async fn publish_scheduling(&self, event_type: &str, payload: impl Message) {
        publish(
            &self.nats,
            "scheduling",
            &self.scheduling,
            event_type,
            payload.encode_to_vec(),
        )
        .await;
    }
}

async fn publish(
    nats: &async_nats::jetstream::Context,
    service: &str,
    stream: &TestStream,
    event_type: &str,
    payload: Vec<u8>,
) {
    let now = Utc::now();
    let event = RecordedEvent {
        event_id: Uuid::now_v7(),
        stream_id: StreamId::new(format!("{service}-{}", Uuid::now_v7())).unwrap(),
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
                subject: format!("system:{service}"),
                role: hellowork_proto::events::v1::Role::System,
            },
            traceparent: None,
            tracestate: None,
        },
    };
    let subject = envelope::subject(&stream.config.subject_prefix, event_type);
    let bytes = hellowork_testing::signed_envelope(service, &event, &subject);
    nats.publish_with_headers(subject, envelope::headers(&event), bytes.into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// A pool of one connection in the registration schema of `env`'s database.
pub async fn schema_pool(env: &ServiceEnv) -> sqlx::PgPool {
    let options: sqlx::postgres::PgConnectOptions = env.database.url.parse().unwrap();
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.options([("search_path", "registration")]))
        .await
        .unwrap()
}
