//! Inline projections: rows written in the append's own transaction, so
//! they commit with the events or not at all.

mod common;

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use common::deposited;
use futures::future::BoxFuture;
use hellowork_eventstore::{
    EventStore, ExpectedVersion, InlineProjection, RecordedEvent, StoreConfig, StreamId, Upcasters,
};
use hellowork_testing::TestSchema;
use sqlx::{PgConnection, PgPool};

/// Records each event's stream, version and recording time; fails the
/// batch while `failing` is set.
#[derive(Debug, Default)]
struct Ledger {
    failing: AtomicBool,
}

impl InlineProjection for Ledger {
    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            for event in events {
                sqlx::query(
                    "INSERT INTO ledger (event_id, stream_id, stream_version, recorded_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(event.event_id)
                .bind(event.stream_id.as_str())
                .bind(i64::try_from(event.stream_version).unwrap())
                .bind(event.recorded_at)
                .execute(&mut *tx)
                .await?;
            }
            if self.failing.load(Ordering::SeqCst) {
                // A failure the database itself reports, as a real one would.
                sqlx::query("SELECT 1 / 0").execute(&mut *tx).await?;
            }
            Ok(())
        })
    }
}

async fn with_ledger(pool: &PgPool, ledger: Arc<Ledger>) -> EventStore {
    sqlx::query(
        "CREATE TABLE ledger (event_id uuid PRIMARY KEY, stream_id text NOT NULL, \
         stream_version bigint NOT NULL, recorded_at timestamptz NOT NULL)",
    )
    .execute(pool)
    .await
    .unwrap();
    EventStore::new(
        pool.clone(),
        StoreConfig {
            inline: Some(ledger),
            ..StoreConfig::new("test")
        },
        Upcasters::new(),
    )
}

/// (event id, stream, version, recorded_at) of the ledger and of the store,
/// in the store's order.
type Row = (uuid::Uuid, String, i64, chrono::DateTime<chrono::Utc>);

async fn ledger_rows(pool: &PgPool) -> Vec<Row> {
    sqlx::query_as(
        "SELECT l.event_id, l.stream_id, l.stream_version, l.recorded_at FROM ledger l \
         JOIN events e USING (event_id) ORDER BY e.transaction_id, e.position",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn event_rows(pool: &PgPool) -> Vec<Row> {
    sqlx::query_as(
        "SELECT event_id, stream_id, stream_version, recorded_at FROM events \
         ORDER BY transaction_id, position",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_inline_projection_sees_every_appended_event_as_recorded_in_its_transaction() {
    let db = TestSchema::create("inline").await;
    let store = with_ledger(&db.pool, Arc::default()).await;
    // Concurrent appends to many streams share batches: each event once.
    let appends = (0..40).map(|i| {
        let store = store.clone();
        async move {
            let stream = StreamId::new(format!("account-{}", i % 8)).unwrap();
            store
                .append(
                    &stream,
                    ExpectedVersion::Any,
                    vec![deposited(i), deposited(-i)],
                )
                .await
                .unwrap()
        }
    });
    futures::future::join_all(appends).await;
    // A retried append (the same events) writes nothing new anywhere.
    let retried = deposited(7);
    let stream = StreamId::new("account-retried").unwrap();
    for _ in 0..2 {
        store
            .append(&stream, ExpectedVersion::Any, vec![retried.clone()])
            .await
            .unwrap();
    }
    let events = event_rows(&db.pool).await;
    assert_eq!(events.len(), 81);
    assert_eq!(ledger_rows(&db.pool).await, events);
}

#[tokio::test]
async fn when_the_inline_projection_fails_neither_its_rows_nor_the_events_are_written() {
    let db = TestSchema::create("inline_fail").await;
    let ledger = Arc::new(Ledger::default());
    let store = with_ledger(&db.pool, Arc::clone(&ledger)).await;
    let stream = StreamId::new("account-1").unwrap();
    store
        .append(&stream, ExpectedVersion::NoStream, vec![deposited(1)])
        .await
        .unwrap();

    ledger.failing.store(true, Ordering::SeqCst);
    let failed = store
        .append(&stream, ExpectedVersion::Exact(1), vec![deposited(2)])
        .await;
    assert!(failed.is_err(), "the append fails with its read model");
    assert_eq!(event_rows(&db.pool).await.len(), 1);
    assert_eq!(ledger_rows(&db.pool).await.len(), 1);
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(outbox <= 1, "no outbox row for the failed append");

    // The same append succeeds once the read model can be written.
    ledger.failing.store(false, Ordering::SeqCst);
    store
        .append(&stream, ExpectedVersion::Exact(1), vec![deposited(2)])
        .await
        .unwrap();
    assert_eq!(ledger_rows(&db.pool).await, event_rows(&db.pool).await);
}
