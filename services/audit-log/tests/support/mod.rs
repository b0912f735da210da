//! Test support: the audit-log service started in-process on the platform
//! with its own database, stream and signing key, test streams standing in
//! for registration, consent and scheduling, and raw SQL access to its schema.
#![allow(dead_code)] // each test binary uses its own subset

use chrono::{DateTime, Utc};
use hellowork_audit_log::AuditLogSettings;
use hellowork_platform::{Environment, PlatformConfig, Role, Service};
use hellowork_proto::auditlog::v1::{
    self as proto, audit_log_service_client::AuditLogServiceClient,
};
use hellowork_testing::{ServiceEnv, TestDatabase, TestStream, database_url, nats_url};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// Job seekers' ids, in the one form every service accepts.
pub const SEEKER_1: &str = "0190f2c4-6b1e-7a00-8000-000000000001";
pub const SEEKER_9: &str = "0190f2c4-6b1e-7a00-8000-000000000009";
/// The job seeker a test calls `name`: the same UUID for the same name.
pub fn named(name: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
}

/// The `n`th of many job seekers.
pub fn seeker(n: usize) -> String {
    uuid::Uuid::from_u128(n as u128 + 0x1000).to_string()
}

/// The person a legal request targets, and someone outside its scope.
pub const TARGET: &str = "0190f2c4-6b1e-7a00-8000-00000000000a";
pub const SOMEONE_ELSE: &str = "0190f2c4-6b1e-7a00-8000-00000000000b";

pub use hellowork_testing::eventually;

/// The running service and its peers' test streams.
pub struct World {
    pub env: ServiceEnv,
    pub scheduling: TestStream,
    pub registration: TestStream,
    pub consent: TestStream,
    pub client: AuditLogServiceClient<Channel>,
    /// Where the service listens (for raw calls).
    pub addr: std::net::SocketAddr,
    pub pool: sqlx::PgPool,
    shutdown: CancellationToken,
}

impl Drop for World {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn peer(service: &str, stream: &TestStream) -> [(String, String); 2] {
    let upper = service.to_uppercase();
    [
        (
            format!("HELLOWORK_{upper}_NATS_STREAM"),
            stream.config.stream_name.clone(),
        ),
        (
            format!("HELLOWORK_{upper}_NATS_SUBJECT_PREFIX"),
            stream.config.subject_prefix.clone(),
        ),
    ]
}

/// What the service stands on before it starts: its migrated database and
/// the streams, so a test may put data there first (e.g. events in an
/// older form).
pub struct Prepared {
    pub env: ServiceEnv,
    pub scheduling: TestStream,
    pub registration: TestStream,
    pub consent: TestStream,
}

impl Prepared {
    pub async fn new() -> Self {
        let database =
            TestDatabase::from_template(&database_url(), "empty", "v1", |_| async {}).await;
        let env = ServiceEnv::new("auditlog", database, &nats_url());
        let vars = vec![
            ("HELLOWORK_ENVIRONMENT".to_owned(), "development".to_owned()),
            (
                "HELLOWORK_DATABASE_URL".to_owned(),
                env.database.url.clone(),
            ),
        ];
        let config = PlatformConfig::from_vars(Service::AuditLog, vars).expect("a valid config");
        hellowork_platform::prepare_database(&config.database, &hellowork_audit_log::MIGRATOR)
            .await
            .unwrap()
            .close()
            .await;
        Self {
            env,
            scheduling: TestStream::create("scheduling").await,
            registration: TestStream::create("registration").await,
            consent: TestStream::create("consent").await,
        }
    }

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

    /// A pool on the service's schema.
    pub async fn pool(&self) -> sqlx::PgPool {
        schema_pool(&self.env.database.url).await
    }

    pub async fn start(self) -> World {
        World::start_on(self, &[]).await
    }

    /// Starts the service with these `HELLOWORK_AUDITLOG_*` settings.
    pub async fn start_with(self, settings: &[(&str, &str)]) -> World {
        World::start_on(self, settings).await
    }
}

/// A pool on the audit-log's schema. The search path is a connection
/// option, not set after connecting, so the event store's own commit pool
/// (made from these options) finds the schema too.
async fn schema_pool(url: &str) -> sqlx::PgPool {
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.options([("search_path", "auditlog")]))
        .await
        .unwrap()
}

impl World {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    pub async fn start_with(settings: &[(&str, &str)]) -> Self {
        let database =
            TestDatabase::from_template(&database_url(), "empty", "v1", |_| async {}).await;
        let prepared = Prepared {
            env: ServiceEnv::new("auditlog", database, &nats_url()),
            scheduling: TestStream::create("scheduling").await,
            registration: TestStream::create("registration").await,
            consent: TestStream::create("consent").await,
        };
        Self::start_on(prepared, settings).await
    }

    async fn start_on(prepared: Prepared, settings: &[(&str, &str)]) -> Self {
        let Prepared {
            env,
            scheduling,
            registration,
            consent,
        } = prepared;
        let mut vars = env.vars();
        vars.extend(peer("scheduling", &scheduling));
        vars.extend(peer("registration", &registration));
        vars.extend(peer("consent", &consent));
        let settings = AuditLogSettings::from_vars(
            Environment::Development,
            settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .unwrap();
        let app = hellowork_audit_log::build_with(
            PlatformConfig::from_vars(Service::AuditLog, vars).unwrap(),
            settings,
        )
        .await
        .unwrap();
        let addr = app.grpc_addr();
        let shutdown = app.shutdown_token();
        tokio::spawn(app.run_until_stopped());
        let channel = eventually("SERVING", || async move {
            let channel = Channel::from_shared(format!("http://{addr}"))
                .ok()?
                .connect()
                .await
                .ok()?;
            let status = HealthClient::new(channel.clone())
                .check(HealthCheckRequest {
                    service: hellowork_audit_log::SERVICE_NAME.into(),
                })
                .await
                .ok()?
                .into_inner()
                .status();
            (status == ServingStatus::Serving).then_some(channel)
        })
        .await;
        let pool = schema_pool(&env.database.url).await;
        Self {
            env,
            scheduling,
            registration,
            consent,
            client: AuditLogServiceClient::new(channel),
            addr,
            pool,
            shutdown,
        }
    }

    pub fn req<T>(&self, message: T, subject: &str, role: Role) -> tonic::Request<T> {
        self.env.request(message, subject, role)
    }

    /// Gives each of `subjects` a personnel id of its own (`P-<subject>`),
    /// carried by every token minted for it from now on, as the office's
    /// identity provider does for its staff (Art. 7(2) tells people apart by
    /// it).
    pub fn staff(&self, subjects: &[&str]) {
        for subject in subjects {
            self.env
                .assign_personnel_id(subject, &format!("P-{subject}"));
        }
    }

    /// Waits until the access log (a projection) holds `entries` entries.
    pub async fn settled(&self, entries: i64) {
        let pool = self.pool.clone();
        eventually(&format!("{entries} log entries"), || {
            let pool = pool.clone();
            async move {
                let count: i64 = sqlx::query_scalar("SELECT count(*) FROM access_log")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
                (count >= entries).then_some(())
            }
        })
        .await;
    }

    /// How many events of `event_type` the service stored.
    pub async fn stored(&self, event_type: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
            .bind(event_type)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

pub fn ts(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap(),
    }
}

pub fn range(start: DateTime<Utc>, end: DateTime<Utc>) -> proto::TimeRange {
    proto::TimeRange {
        start_time: Some(ts(start)),
        end_time: Some(ts(end)),
    }
}

/// Art. 7(2): `[start, end]` widened to whole slots of `slot_seconds` on
/// the statistics' grid (from the epoch, UTC; days and shorter), as
/// `GetUsageStatistics` requires: from the slot containing `start` to the
/// end of the slot containing `end`.
pub fn slot_range(start: DateTime<Utc>, end: DateTime<Utc>, slot_seconds: i64) -> proto::TimeRange {
    let floor = |at: DateTime<Utc>| at.timestamp().div_euclid(slot_seconds) * slot_seconds;
    let first = DateTime::from_timestamp(floor(start), 0).unwrap();
    let last = DateTime::from_timestamp(floor(end) + slot_seconds, 0).unwrap();
    range(first, last)
}

/// Records `records` as one `RecordUsageBatch` from a front system.
pub async fn record_batch(world: &mut World, records: Vec<proto::UsageRecord>) {
    world
        .client
        .record_usage_batch(world.req(
            futures::stream::iter(vec![proto::RecordUsageBatchRequest { records }]),
            "system:front",
            Role::System,
        ))
        .await
        .unwrap();
}

/// A valid usage record of `person` on `device_id` at `at`.
pub fn record(person: &str, device_id: &str, ip: &str, at: DateTime<Utc>) -> proto::UsageRecord {
    proto::UsageRecord {
        record_id: uuid::Uuid::new_v4().to_string(),
        job_seeker_id: person.to_owned(),
        occurred_at: Some(ts(at)),
        usage_window: None,
        access_kind: proto::AccessKind::PageView as i32,
        action: "/bookings/{booking_id}".to_owned(),
        method: "GET".to_owned(),
        outcome: proto::AccessOutcome::Success as i32,
        offering: 1,
        booking_id: String::new(),
        device: Some(proto::DeviceIdentifiers {
            device_id: device_id.to_owned(),
            ip_address: ip.to_owned(),
            user_agent: format!(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.6099.71 Safari/537.36 Build/{device_id}"
            ),
            os_name: "Windows".to_owned(),
            os_version: "10.0.19045".to_owned(),
        }),
        source: "web".to_owned(),
        sealed_device: None,
    }
}

/// Every stored column of the log and the listed legal requests, in order.
pub async fn snapshot(pool: &sqlx::PgPool) -> (Vec<String>, Vec<String>, String) {
    let log: Vec<String> =
        sqlx::query_scalar("SELECT row_to_json(l)::text FROM access_log l ORDER BY sequence")
            .fetch_all(pool)
            .await
            .unwrap();
    let requests: Vec<String> = sqlx::query_scalar(
        "SELECT row_to_json(r)::text FROM legal_requests r ORDER BY legal_request_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let head: String = sqlx::query_scalar("SELECT row_to_json(h)::text FROM chain_head h")
        .fetch_one(pool)
        .await
        .unwrap();
    (log, requests, head)
}

/// The access log rebuilt from the service's events, as it is then.
pub async fn rebuilt(pool: &sqlx::PgPool) -> (Vec<String>, Vec<String>, String) {
    let store = hellowork_eventstore::EventStore::new(
        pool.clone(),
        hellowork_eventstore::StoreConfig::new("auditlog"),
        hellowork_eventstore::Upcasters::new(),
    );
    hellowork_eventstore::rebuild(
        &store,
        &hellowork_audit_log::projections::AccessLogProjection,
    )
    .await
    .unwrap();
    snapshot(pool).await
}

/// Where in the audit-log's schema `needle` occurs (raw, hex or as text in
/// any text-like or bytea column of any table): `table.column` each time.
pub async fn found_in_schema(pool: &sqlx::PgPool, needle: &str) -> Vec<String> {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns WHERE table_schema = 'auditlog' \
         AND data_type IN ('text', 'bytea', 'character varying', 'json', 'jsonb')",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(columns.len() > 10, "the scan covers the schema");
    let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
    let mut found = Vec::new();
    for (table, column, data_type) in columns {
        let expression = if data_type == "bytea" {
            format!("\"{column}\"")
        } else {
            format!("convert_to(\"{column}\"::text, 'UTF8')")
        };
        let values: Vec<Option<Vec<u8>>> =
            sqlx::query_scalar(&format!("SELECT {expression} FROM auditlog.\"{table}\""))
                .fetch_all(pool)
                .await
                .unwrap();
        for value in values.into_iter().flatten() {
            if contains(&value, needle.as_bytes()) || contains(&value, hex.as_bytes()) {
                found.push(format!("{table}.{column}"));
            }
        }
    }
    found
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every message on the service's own stream, as published.
pub async fn published(world: &World) -> Vec<async_nats::jetstream::message::StreamMessage> {
    let mut stream = world
        .scheduling
        .jetstream
        .get_stream(&world.env.stream_name)
        .await
        .unwrap();
    let last = stream.info().await.unwrap().state.last_sequence;
    let mut messages = Vec::new();
    for sequence in 1..=last {
        if let Ok(message) = stream.get_raw_message(sequence).await {
            messages.push(message);
        }
    }
    messages
}
