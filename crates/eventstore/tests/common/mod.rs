//! Helpers shared by the event store's integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::{sync::Arc, time::Duration};

use async_nats::jetstream;
use chrono::Utc;
use hellowork_eventstore::{
    Actor, ConsumerConfig, EventMetadata, EventSigner, EventStore, EventStreamConfig, NewEvent,
    Projection, ProjectionError, ProjectionRunner, RecordedEvent, Relay, RelayConfig, StoreConfig,
    TrustedProducers, Upcasters,
};
use hellowork_proto::events::v1::Role;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub fn metadata() -> EventMetadata {
    EventMetadata {
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        actor: Actor {
            subject: "test-system".into(),
            role: Role::System,
        },
        traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
        tracestate: None,
    }
}

/// A `Deposited` event whose payload is `amount` as 8 little-endian bytes.
pub fn deposited(amount: i64) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "Deposited".into(),
        schema_version: 1,
        payload: amount.to_le_bytes().to_vec(),
        occurred_at: Utc::now(),
        metadata: metadata(),
    }
}

pub fn amount_of(event: &RecordedEvent) -> i64 {
    let bytes: [u8; 8] = event.payload.as_slice().try_into().expect("8-byte payload");
    i64::from_le_bytes(bytes)
}

pub fn store(pool: &PgPool) -> EventStore {
    EventStore::new(pool.clone(), StoreConfig::new("test"), Upcasters::new())
}

/// Per stream: how many events, the last version, and the sum of amounts.
/// Deterministic in the events alone, as a projection must be.
#[derive(Debug)]
pub struct Totals {
    pub name: String,
}

impl Totals {
    pub async fn create(pool: &PgPool, name: &str) -> Arc<Self> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS totals (stream_id text PRIMARY KEY, \
             events bigint NOT NULL, last_version bigint NOT NULL, total bigint NOT NULL)",
        )
        .execute(pool)
        .await
        .expect("create totals");
        Arc::new(Self { name: name.into() })
    }
}

impl Projection for Totals {
    fn name(&self) -> &str {
        &self.name
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        sqlx::query(
            "INSERT INTO totals (stream_id, events, last_version, total) VALUES ($1, 1, $2, $3) \
             ON CONFLICT (stream_id) DO UPDATE SET events = totals.events + 1, \
             last_version = GREATEST(totals.last_version, EXCLUDED.last_version), \
             total = totals.total + EXCLUDED.total",
        )
        .bind(event.stream_id.as_str())
        .bind(event.stream_version as i64)
        .bind(amount_of(event))
        .execute(tx)
        .await?;
        Ok(())
    }

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), ProjectionError> {
        sqlx::query("TRUNCATE totals").execute(tx).await?;
        Ok(())
    }
}

pub async fn totals_rows(pool: &PgPool) -> Vec<(String, i64, i64, i64)> {
    sqlx::query_as("SELECT stream_id, events, last_version, total FROM totals ORDER BY stream_id")
        .fetch_all(pool)
        .await
        .expect("read totals")
}

pub async fn inbox_count(pool: &PgPool, consumer: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM consumer_inbox WHERE consumer = $1")
        .bind(consumer)
        .fetch_one(pool)
        .await
        .expect("count inbox")
}

pub async fn outbox_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(pool)
        .await
        .expect("count outbox")
}

pub use hellowork_testing::eventually;

/// A JetStream context whose publish acks time out quickly, so outage tests
/// do not wait for the default 5 s per attempt.
pub async fn jetstream_at(url: &str) -> jetstream::Context {
    let client = async_nats::ConnectOptions::new()
        .reconnect_delay_callback(|attempts| Duration::from_millis(50 * attempts.min(4) as u64))
        .connect(url)
        .await
        .expect("connect to nats");
    jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(1))
        .ack_timeout(Duration::from_secs(1))
        .build(client)
}

/// The key the test producer ("test") signs its envelopes with.
pub fn signer() -> Arc<EventSigner> {
    Arc::new(EventSigner::development("test"))
}

/// What the test consumers trust: the test producer's key only.
pub fn producers() -> TrustedProducers {
    TrustedProducers::of(&signer())
}

/// The body a relay publishes for `event` on `subject`: signed now.
pub fn signed_body(event: &RecordedEvent, subject: &str) -> Vec<u8> {
    hellowork_eventstore::envelope::signed("test", event, subject, &signer(), Utc::now())
}

pub fn spawn_relay(
    store: &EventStore,
    js: &jetstream::Context,
    stream: &EventStreamConfig,
) -> CancellationToken {
    let shutdown = CancellationToken::new();
    let mut config = RelayConfig::new(stream.clone(), signer());
    config.backoff_max = Duration::from_millis(500);
    config.poll_interval = Duration::from_millis(200);
    tokio::spawn(Relay::new(store.clone(), js.clone(), config).run(shutdown.clone()));
    shutdown
}

pub fn spawn_consumer<P: Projection>(
    projection: Arc<P>,
    pool: &PgPool,
    js: &jetstream::Context,
    stream: &EventStreamConfig,
) -> CancellationToken {
    let shutdown = CancellationToken::new();
    let mut config = ConsumerConfig::new(
        stream.stream_name.clone(),
        stream.all_subjects(),
        producers(),
    );
    config.retry_delay = Duration::from_millis(100);
    let runner = ProjectionRunner::new(
        projection,
        pool.clone(),
        js.clone(),
        config,
        Upcasters::new(),
    );
    tokio::spawn(runner.run(shutdown.clone()));
    shutdown
}

/// The first `count` events in commit order, waiting for them: `read_all`
/// holds back while any older transaction on the server (another test's) is
/// still open, so right after appending it may not show them all yet.
pub async fn committed(store: &EventStore, count: usize) -> Vec<RecordedEvent> {
    eventually(&format!("{count} events readable"), || async {
        let page = store
            .read_all(hellowork_eventstore::GlobalPosition::START, count as u32)
            .await
            .expect("read_all");
        (page.len() == count).then(|| page.into_iter().map(|(_, event)| event).collect())
    })
    .await
}
