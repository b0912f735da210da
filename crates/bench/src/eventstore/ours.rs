//! Contender: our `EventStore::append` with the default `StoreConfig`
//! (group commit: concurrent appends share transactions, each keeping its
//! own version check, and every event gets its outbox row).

use anyhow::Context as _;
use chrono::Utc;
use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Instant,
};

use hellowork_eventstore::{
    Actor, EventMetadata, EventStore, ExpectedVersion, NewEvent, Projection, ProjectionError,
    RecordedEvent, SchemaName, StoreConfig, StreamId, Upcasters, connect, migrate,
};
use hellowork_proto::events::v1::Role;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool, postgres::PgConnectOptions};
use uuid::Uuid;

use super::{
    measure::{CatchUp, Measurement, Timing, Writer, run_writers},
    workload::{Streams, payload},
};
use crate::scratch::Scratch;

/// Enough for the store's writer tasks (each holds one connection while its
/// batch is open) plus the relay's reads; more would only sit idle.
pub const POOL_CONNECTIONS: u32 = 8;

#[derive(Debug)]
pub struct Ours {
    database: PgConnectOptions,
    schema: SchemaName,
}

impl Ours {
    /// A migrated schema of its own.
    pub async fn setup(scratch: &mut Scratch) -> anyhow::Result<Self> {
        let ours = Self {
            database: scratch.database().clone(),
            schema: scratch.schema("ours")?,
        };
        let pool = ours.pool().await?;
        migrate(&pool)
            .await
            .context("migrating the event store schema")?;
        pool.close().await;
        Ok(ours)
    }

    async fn pool(&self) -> anyhow::Result<PgPool> {
        Ok(connect(
            self.database.clone(),
            &self.schema,
            PgPoolOptions::new().max_connections(POOL_CONNECTIONS),
        )
        .await?)
    }

    /// Our rebuild applies every stored event (to a counter) from scratch,
    /// in commit order with its checkpoint: events per second.
    pub async fn catch_up(&self) -> anyhow::Result<CatchUp> {
        let pool = self.pool().await?;
        let store = store(pool.clone());
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&pool)
            .await?;
        let events = u64::try_from(events)?;
        let counter = Counter::default();
        let started = Instant::now();
        let report = hellowork_eventstore::rebuild(&store, &counter)
            .await
            .context("rebuilding")?;
        let elapsed = started.elapsed();
        anyhow::ensure!(
            report.events_replayed == events && counter.applied.load(Ordering::Relaxed) == events,
            "the rebuild replayed {} and applied {} of {events} events",
            report.events_replayed,
            counter.applied.load(Ordering::Relaxed)
        );
        pool.close().await;
        Ok(CatchUp { events, elapsed })
    }

    pub async fn measure(&self, writers: usize, timing: Timing) -> anyhow::Result<Measurement> {
        let pool = self.pool().await?;
        let store = store(pool.clone());
        let label = format!("c{writers}");
        let writers = (0..writers)
            .map(|w| AppendWriter::new(store.clone(), Streams::new(&label, w)))
            .collect();
        let measurement = run_writers(writers, timing).await;
        pool.close().await;
        measurement
    }
}

/// A projection that counts the events it is given.
#[derive(Debug, Default)]
struct Counter {
    applied: AtomicU64,
}

impl Projection for Counter {
    fn name(&self) -> &str {
        "bench_counter"
    }

    async fn apply(
        &self,
        _tx: &mut PgConnection,
        _event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        self.applied.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn reset(&self, _tx: &mut PgConnection) -> Result<(), ProjectionError> {
        self.applied.store(0, Ordering::Relaxed);
        Ok(())
    }
}

/// A store as a service would open it.
pub fn store(pool: PgPool) -> EventStore {
    EventStore::new(pool, StoreConfig::new("bench"), Upcasters::new())
}

/// Appends one `Deposited` event per command at the version it expects.
#[derive(Debug)]
pub struct AppendWriter {
    store: EventStore,
    streams: Streams,
    payload: Vec<u8>,
}

impl AppendWriter {
    pub fn new(store: EventStore, streams: Streams) -> Self {
        Self {
            store,
            streams,
            payload: payload(),
        }
    }
}

impl Writer for AppendWriter {
    async fn command(&mut self) -> anyhow::Result<()> {
        let (stream, version) = self.streams.next();
        let stream = StreamId::new(stream)?;
        // What a command handler records: ids, actor and trace context.
        let event = NewEvent {
            event_id: Uuid::now_v7(),
            event_type: "Deposited".to_owned(),
            schema_version: 1,
            payload: self.payload.clone(),
            occurred_at: Utc::now(),
            metadata: EventMetadata {
                correlation_id: Uuid::now_v7(),
                causation_id: None,
                actor: Actor {
                    subject: "bench".to_owned(),
                    role: Role::System,
                },
                traceparent: Some(
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
                ),
                tracestate: None,
            },
        };
        let outcome = self
            .store
            .append(&stream, ExpectedVersion::Exact(version), vec![event])
            .await
            .with_context(|| format!("appending to {stream} at version {version}"))?;
        anyhow::ensure!(
            outcome.stream_version == version + 1 && !outcome.already_recorded,
            "append to {stream} at version {version} reported {outcome:?}"
        );
        Ok(())
    }
}
