//! Contender: `disintegrate` 4 with `disintegrate-postgres` 4, an event
//! store with a gap-safe global order (its epoch functions) and a
//! checkpointed listener, on sqlx 0.8 like ours.
//!
//! Commands go to `EventStore::append` with the query of the account's
//! events and the id of the last event the writer saw on it: the
//! framework's commit step and concurrency check (a `SERIALIZABLE`
//! transaction that looks for newer events matching the query, then
//! inserts). `DecisionMaker::make` would also load the state first, a read
//! per command that our `append` does not do; leaving it out compares
//! append with append, as for cqrs-es. A serialization failure, which
//! `SERIALIZABLE` raises between writers of different accounts too, is
//! retried (as `DecisionMaker` retries a conflict); each writer is alone on
//! its accounts, so the retry is the same append.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use async_trait::async_trait;
use disintegrate::{EventListener, EventStore as _, PersistedEvent, StreamQuery, query};
use disintegrate_postgres::{PgEventId, PgEventListener, PgEventListenerConfig, PgEventStore};
use hellowork_eventstore::{SchemaName, connect};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{
    measure::{CatchUp, Measurement, Timing, Writer, run_writers},
    workload::{PAYLOAD_BYTES, Streams},
};
use crate::scratch::Scratch;

/// How the peer is named in the report.
pub const PEER: &str = "disintegrate 4 + disintegrate-postgres 4";

/// Tries per command before a run gives up on serialization failures
/// (with 64 writers they are frequent), and the most a retry waits.
const SERIALIZATION_RETRIES: usize = 1000;
const RETRY_WAIT_MAX_MS: u64 = 10;
/// Events the listener reads per query, as our rebuild's page.
const LISTENER_FETCH: usize = 1000;
/// The listener's poll between fetches once it has caught up.
const LISTENER_POLL: Duration = Duration::from_millis(10);
/// Longest a projection may take to apply the store's events.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Eq, disintegrate::Event, Serialize, Deserialize)]
#[stream(AccountEvent, [Deposited])]
enum BenchEvent {
    Deposited {
        #[id]
        account_id: String,
        amount: i64,
        memo: String,
    },
}

type Store = PgEventStore<BenchEvent, disintegrate::serde::json::Json<BenchEvent>>;

#[derive(Debug)]
pub struct Disintegrate {
    database: PgConnectOptions,
    schema: SchemaName,
}

impl Disintegrate {
    /// A schema of its own, initialised by the crate's own migrator.
    pub async fn setup(scratch: &mut Scratch) -> anyhow::Result<Self> {
        let peer = Self {
            database: scratch.database().clone(),
            schema: scratch.schema("disintegrate")?,
        };
        let opened = peer.store(1).await?;
        let migrator = disintegrate_postgres::Migrator::new(opened.store.clone());
        let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
            .fetch_one(&opened.pool)
            .await?;
        if version >= 160_000 {
            migrator
                .init_event_store()
                .await
                .context("creating disintegrate's tables")?;
        } else {
            init_event_store_before_16(&migrator, &opened.pool).await?;
        }
        migrator
            .init_listener()
            .await
            .context("creating disintegrate's listener tables")?;
        opened.pool.close().await;
        Ok(peer)
    }

    async fn store(&self, connections: u32) -> anyhow::Result<StoreWithPool> {
        let pool = connect(
            self.database.clone(),
            &self.schema,
            PgPoolOptions::new().max_connections(connections),
        )
        .await?;
        let store = PgEventStore::new_uninitialized(pool.clone(), Default::default());
        Ok(StoreWithPool { store, pool })
    }

    pub async fn measure(&self, writers: usize, timing: Timing) -> anyhow::Result<Measurement> {
        let opened = self.store(u32::try_from(writers)?).await?;
        let label = format!("c{writers}");
        let writers = (0..writers)
            .map(|w| AppendWriter {
                store: opened.store.clone(),
                streams: Streams::new(&label, w),
                last_seen: HashMap::new(),
                memo: memo(),
            })
            .collect();
        let measurement = run_writers(writers, timing).await;
        opened.pool.close().await;
        measurement
    }

    /// A fresh listener applies every stored event (to a counter): events
    /// per second from its start until the last one is applied.
    pub async fn catch_up(&self) -> anyhow::Result<CatchUp> {
        let opened = self.store(4).await?;
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM event")
            .fetch_one(&opened.pool)
            .await?;
        let events = u64::try_from(events)?;
        let applied = Arc::new(AtomicU64::new(0));
        let listener = CountingListener {
            query: query!(BenchEvent),
            applied: applied.clone(),
        };
        let shutdown = tokio_util::sync::CancellationToken::new();
        let stop = shutdown.clone();
        let started = Instant::now();
        let running = tokio::spawn(
            PgEventListener::builder(opened.store.clone())
                .uninitialized()
                .register_listener(
                    listener,
                    PgEventListenerConfig::poller(LISTENER_POLL).fetch_size(LISTENER_FETCH),
                )
                .start_with_shutdown(async move { stop.cancelled().await }),
        );
        while applied.load(Ordering::Relaxed) < events {
            anyhow::ensure!(
                started.elapsed() < CATCH_UP_TIMEOUT,
                "disintegrate's listener applied {} of {events} events in {CATCH_UP_TIMEOUT:?}",
                applied.load(Ordering::Relaxed)
            );
            anyhow::ensure!(!running.is_finished(), "disintegrate's listener stopped");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let elapsed = started.elapsed();
        shutdown.cancel();
        running.await?.context("disintegrate's listener")?;
        opened.pool.close().await;
        Ok(CatchUp { events, elapsed })
    }
}

struct StoreWithPool {
    store: Store,
    pool: sqlx::PgPool,
}

/// What `Migrator::init_event_store` creates, on a PostgreSQL older than
/// 16: its `event_store_begin_epoch` writes a hexadecimal integer literal
/// (`0xFFFFFFFF`), which only PostgreSQL 16 parses. The migrator creates
/// everything before that function; the function is created here with the
/// same mask in decimal, and then the domain id column and its index as the
/// migrator adds them.
async fn init_event_store_before_16(
    migrator: &disintegrate_postgres::Migrator<
        BenchEvent,
        disintegrate::serde::json::Json<BenchEvent>,
    >,
    pool: &sqlx::PgPool,
) -> anyhow::Result<()> {
    if let Err(error) = migrator.init_event_store().await {
        // The migrator's error type is not public: known by its message.
        let message = error.to_string();
        anyhow::ensure!(
            message.contains("0xFFFFFFFF"),
            "creating disintegrate's tables: {message}"
        );
    }
    sqlx::query(
        "CREATE OR REPLACE FUNCTION event_store_begin_epoch() RETURNS void AS $$ \
         DECLARE last_id bigint; db oid; \
         BEGIN \
             SELECT last_value INTO last_id FROM seq_event_event_id; \
             SELECT oid INTO db FROM pg_database WHERE datname = current_database(); \
             PERFORM pg_try_advisory_xact_lock_shared(db::int, 0); \
             PERFORM pg_try_advisory_xact_lock_shared(1, (last_id & 4294967295)::bit(32)::integer); \
             PERFORM pg_try_advisory_xact_lock_shared(2, (last_id >> 32)::bit(32)::integer); \
         END; $$ LANGUAGE plpgsql",
    )
    .execute(pool)
    .await
    .context("creating event_store_begin_epoch")?;
    sqlx::query("ALTER TABLE event ADD COLUMN IF NOT EXISTS account_id TEXT")
        .execute(pool)
        .await?;
    sqlx::query(
        "CREATE INDEX IF NOT EXISTS idx_event_account_id ON event (account_id) \
         WHERE account_id IS NOT NULL",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A memo making the event's JSON about [`PAYLOAD_BYTES`] long, like the
/// payload the other contenders write.
fn memo() -> String {
    let overhead = serde_json::to_string(&BenchEvent::Deposited {
        account_id: "bench-c64-63-999".to_owned(),
        amount: 100,
        memo: String::new(),
    })
    .map_or(0, |json| json.len());
    "m".repeat(PAYLOAD_BYTES.saturating_sub(overhead))
}

// No Debug: the store does not implement it.
struct AppendWriter {
    store: Store,
    streams: Streams,
    /// The id of the last event appended to each account.
    last_seen: HashMap<String, PgEventId>,
    memo: String,
}

impl Writer for AppendWriter {
    async fn command(&mut self) -> anyhow::Result<()> {
        let (account, _) = self.streams.next();
        let last = self.last_seen.get(&account).copied().unwrap_or(0);
        let event = BenchEvent::Deposited {
            account_id: account.clone(),
            amount: 100,
            memo: self.memo.clone(),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let query: StreamQuery<PgEventId, BenchEvent> =
                query!(BenchEvent; account_id == account);
            match self.store.append(vec![event.clone()], query, last).await {
                Ok(persisted) => {
                    let id = persisted.last().map_or(last, PersistedEvent::id);
                    self.last_seen.insert(account, id);
                    return Ok(());
                }
                Err(error) if attempt < SERIALIZATION_RETRIES && serialization_failure(&error) => {
                    let wait = u64::try_from(attempt)
                        .unwrap_or(u64::MAX)
                        .min(RETRY_WAIT_MAX_MS);
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
                Err(error) => {
                    return Err(error).with_context(|| format!("appending to {account}"));
                }
            }
        }
    }
}

/// A serialization failure: reported as `Concurrency` when the commit
/// raises it, as a database error when a statement does. A writer alone on
/// its accounts only meets them as `SERIALIZABLE`'s false conflicts.
fn serialization_failure(error: &disintegrate_postgres::Error) -> bool {
    match error {
        disintegrate_postgres::Error::Concurrency => true,
        disintegrate_postgres::Error::Database(sqlx::Error::Database(db)) => {
            db.code().as_deref() == Some("40001")
        }
        _ => false,
    }
}

/// Counts the events it is handed.
struct CountingListener {
    query: StreamQuery<PgEventId, BenchEvent>,
    applied: Arc<AtomicU64>,
}

#[async_trait]
impl EventListener<PgEventId, BenchEvent> for CountingListener {
    type Error = std::convert::Infallible;

    fn id(&self) -> &'static str {
        "bench_counter"
    }

    fn query(&self) -> &StreamQuery<PgEventId, BenchEvent> {
        &self.query
    }

    async fn handle(
        &self,
        _event: PersistedEvent<PgEventId, BenchEvent>,
    ) -> Result<(), Self::Error> {
        self.applied.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
