//! The bus with the project's NATS configuration (`deploy/nats/nats.conf`)
//! on a private nats-server: every service its own nkey user over TLS, an
//! anonymous client refused, a service kept to its own subjects and the
//! streams it consumes, and an envelope published with valid credentials
//! but not signed by the stream's producer never applied.

use std::{sync::Arc, time::Duration};

use async_nats::jetstream;
use chrono::Utc;
use hellowork_eventstore::{
    EventSigner, EventStreamConfig, Projection, ProjectionError, ProjectionRunner, RecordedEvent,
    Upcasters, envelope,
};
use hellowork_platform::{
    NatsCredentials, NatsSettings, Service,
    nats_accounts::{DevNatsAccounts, NatsServerTls},
};
use hellowork_testing::{NatsServer, TestSchema};
use hellowork_tls::dev_pki::DevPki;
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;

const PATIENCE: Duration = Duration::from_secs(20);

struct SecuredBus {
    server: NatsServer,
    accounts: DevNatsAccounts,
    ca: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl SecuredBus {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pki = DevPki::ensure(&dir.path().join("pki"), &["nats"]).unwrap();
        let accounts = DevNatsAccounts::ensure(
            &dir.path().join("nats"),
            &NatsServerTls {
                cert: pki.cert("nats"),
                key: pki.key("nats"),
                ca: pki.ca(),
            },
        )
        .unwrap();
        let server = NatsServer::start_configured(accounts.config_file());
        Self {
            server,
            accounts,
            ca: pki.ca(),
            _dir: dir,
        }
    }

    /// `service`'s connection, as the platform makes it.
    async fn connect(&self, service: Service) -> async_nats::Client {
        NatsSettings {
            credentials: Some(NatsCredentials::NkeySeedFile(
                self.accounts.seed_file(service),
            )),
            ca_file: Some(self.ca.clone()),
        }
        .connect_options(service.name())
        .await
        .unwrap()
        .connect(self.server.url())
        .await
        .unwrap()
    }
}

fn stream_of(service: Service) -> EventStreamConfig {
    let upper = service.name().to_uppercase();
    EventStreamConfig::new(
        format!("HELLOWORK_{upper}"),
        format!("hellowork.{}.v1", service.name()),
    )
}

fn jetstream_of(client: &async_nats::Client) -> jetstream::Context {
    jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(2))
        .build(client.clone())
}

async fn messages_on(js: &jetstream::Context, service: Service) -> u64 {
    js.get_stream(stream_of(service).stream_name)
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .state
        .messages
}

#[tokio::test]
async fn anonymous_clients_are_refused_and_services_use_tls_as_their_own_users() {
    let bus = SecuredBus::start();
    assert!(
        async_nats::connect(bus.server.url()).await.is_err(),
        "no credentials, no TLS"
    );
    let anonymous_over_tls = async_nats::ConnectOptions::new()
        .require_tls(true)
        .add_root_certificates(bus.ca.clone())
        .connect(bus.server.url())
        .await;
    assert!(anonymous_over_tls.is_err(), "TLS alone is not a user");
    let without_tls = async_nats::ConnectOptions::with_nkey(
        std::fs::read_to_string(bus.accounts.seed_file(Service::Consent))
            .unwrap()
            .trim()
            .to_owned(),
    )
    .connect(bus.server.url())
    .await;
    assert!(without_tls.is_err(), "the server requires TLS");

    for service in Service::ALL {
        let client = bus.connect(service).await;
        hellowork_eventstore::ensure_stream(&jetstream_of(&client), &stream_of(service))
            .await
            .unwrap_or_else(|e| panic!("{} creates its own stream: {e}", service.name()));
    }
}

#[tokio::test]
async fn a_service_publishes_only_its_own_subjects_and_reads_only_what_it_consumes() {
    let bus = SecuredBus::start();
    let consent = bus.connect(Service::Consent).await;
    let consent_js = jetstream_of(&consent);
    hellowork_eventstore::ensure_stream(&consent_js, &stream_of(Service::Consent))
        .await
        .unwrap();
    let registration = bus.connect(Service::Registration).await;
    let registration_js = jetstream_of(&registration);

    // Registration writing onto consent's stream: refused by the server.
    let forged = registration_js
        .publish("hellowork.consent.v1.ConsentGiven", "forged".into())
        .await;
    let acknowledged = match forged {
        Ok(ack) => ack.await.is_ok(),
        Err(_) => false,
    };
    assert!(
        !acknowledged,
        "registration may not publish consent's events"
    );
    assert!(
        registration_js
            .create_stream(jetstream::stream::Config {
                name: "HELLOWORK_CONSENT_COPY".into(),
                subjects: vec!["hellowork.consent.v1.>".into()],
                ..Default::default()
            })
            .await
            .is_err(),
        "nor make a stream of its own that captures them"
    );
    consent_js
        .publish("hellowork.consent.v1.ConsentGiven", "its own".into())
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(messages_on(&consent_js, Service::Consent).await, 1);

    // Scheduling does not consume consent's stream: it cannot look it up,
    // attach a consumer, read a message or listen on its subjects.
    let scheduling = bus.connect(Service::Scheduling).await;
    let scheduling_js = jetstream_of(&scheduling);
    assert!(
        scheduling_js
            .get_stream(stream_of(Service::Consent).stream_name)
            .await
            .is_err()
    );
    let consumer_request = scheduling
        .request(
            "$JS.API.CONSUMER.CREATE.HELLOWORK_CONSENT.peek",
            r#"{"stream_name":"HELLOWORK_CONSENT","config":{"name":"peek"}}"#.into(),
        )
        .await;
    assert!(
        consumer_request.is_err(),
        "no consumer on a stream it does not consume"
    );
    let direct_get = scheduling
        .request(
            "$JS.API.STREAM.MSG.GET.HELLOWORK_CONSENT",
            r#"{"seq":1}"#.into(),
        )
        .await;
    assert!(direct_get.is_err(), "no reading its messages");
    let mut eavesdropper = scheduling.subscribe("hellowork.>").await.unwrap();
    scheduling.flush().await.unwrap();
    consent_js
        .publish("hellowork.consent.v1.ConsentGiven", "again".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let overheard = tokio::time::timeout(Duration::from_millis(500), {
        use futures::StreamExt as _;
        eavesdropper.next()
    })
    .await;
    assert!(
        !matches!(overheard, Ok(Some(_))),
        "scheduling heard consent's events"
    );

    // Registration consumes consent's stream: it may read it.
    registration_js
        .get_stream(stream_of(Service::Consent).stream_name)
        .await
        .expect("registration consumes consent's events");
}

/// Counts nothing: the inbox records what it applied.
struct Applied;

impl Projection for Applied {
    fn name(&self) -> &str {
        "auditlog-ingest-consent"
    }

    async fn apply(
        &self,
        _tx: &mut PgConnection,
        _event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        Ok(())
    }

    async fn reset(&self, _tx: &mut PgConnection) -> Result<(), ProjectionError> {
        Ok(())
    }
}

fn recorded(event_type: &str) -> RecordedEvent {
    let now = Utc::now();
    RecordedEvent {
        event_id: uuid::Uuid::now_v7(),
        stream_id: hellowork_eventstore::StreamId::new("consent-x").unwrap(),
        stream_version: 1,
        event_type: event_type.to_owned(),
        schema_version: 1,
        payload: Vec::new(),
        occurred_at: now,
        recorded_at: now,
        metadata: hellowork_eventstore::EventMetadata {
            correlation_id: uuid::Uuid::now_v7(),
            causation_id: None,
            actor: hellowork_eventstore::Actor {
                subject: "system:consent".into(),
                role: hellowork_proto::events::v1::Role::System,
            },
            traceparent: None,
            tracestate: None,
        },
    }
}

#[tokio::test]
async fn valid_credentials_do_not_make_a_forged_envelope_true() {
    let bus = SecuredBus::start();
    let db = TestSchema::create("natsforged").await;
    let consent = bus.connect(Service::Consent).await;
    let consent_js = jetstream_of(&consent);
    let stream = stream_of(Service::Consent);
    hellowork_eventstore::ensure_stream(&consent_js, &stream)
        .await
        .unwrap();
    let auditlog = bus.connect(Service::AuditLog).await;
    let producer = EventSigner::development("consent");
    let runner = ProjectionRunner::new(
        Arc::new(Applied),
        db.pool.clone(),
        jetstream_of(&auditlog),
        hellowork_eventstore::ConsumerConfig::new(
            stream.stream_name.clone(),
            stream.all_subjects(),
            hellowork_eventstore::TrustedProducers::of(&producer),
        ),
        Upcasters::new(),
    );
    let stop = CancellationToken::new();
    tokio::spawn(runner.run(stop.clone()));

    // Consent's own user, its own subject, a key that is not consent's.
    let forged = recorded("ConsentGiven");
    let subject = envelope::subject(&stream.subject_prefix, &forged.event_type);
    let impostor = EventSigner::from_seed("consent-dev", &[0x42; 32]).unwrap();
    let body = envelope::signed("consent", &forged, &subject, &impostor, Utc::now());
    consent_js
        .publish(subject.clone(), body.into())
        .await
        .unwrap()
        .await
        .unwrap();
    let genuine = recorded("ConsentGiven");
    let body = envelope::signed("consent", &genuine, &subject, &producer, Utc::now());
    consent_js
        .publish(subject, body.into())
        .await
        .unwrap()
        .await
        .unwrap();

    let deadline = tokio::time::Instant::now() + PATIENCE;
    let applied = loop {
        let applied: Vec<uuid::Uuid> =
            sqlx::query_scalar("SELECT event_id FROM consumer_inbox ORDER BY processed_at")
                .fetch_all(&db.pool)
                .await
                .unwrap();
        if !applied.is_empty() || tokio::time::Instant::now() > deadline {
            break applied;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    stop.cancel();
    assert_eq!(
        applied,
        vec![genuine.event_id],
        "only the producer's envelope applied"
    );
}
