//! Projections: redelivery is harmless, a rebuild reproduces the live rows,
//! and old event schemas are upcast on the way in.

mod common;

use std::{sync::Arc, time::Duration};

use common::{
    Totals, deposited, eventually, inbox_count, spawn_consumer, spawn_relay, store, totals_rows,
};
use hellowork_eventstore::{
    EventStore, ExpectedVersion, Projection, ProjectionError, RecordedEvent, StoreConfig, StreamId,
    Upcasters, envelope, rebuild,
};
use hellowork_testing::{TestSchema, TestStream};
use proptest::prelude::*;

async fn checkpoint_sequence(db: &TestSchema, consumer: &str) -> i64 {
    sqlx::query_scalar("SELECT stream_sequence FROM consumer_checkpoints WHERE consumer = $1")
        .bind(consumer)
        .fetch_optional(&db.pool)
        .await
        .unwrap()
        .unwrap_or(0)
}

#[tokio::test]
async fn the_same_event_delivered_twice_changes_nothing() {
    let db = TestSchema::create("dup").await;
    let nats = TestStream::create("dup").await;
    let store = store(&db.pool);
    for i in 0..10 {
        let stream = StreamId::new(format!("account-{}", i % 3)).unwrap();
        store
            .append(&stream, ExpectedVersion::Any, vec![deposited(i)])
            .await
            .unwrap();
    }
    let totals = Totals::create(&db.pool, "totals").await;
    let consumer = spawn_consumer(totals, &db.pool, &nats.jetstream, &nats.config);
    let relay = spawn_relay(&store, &nats.jetstream, &nats.config);
    eventually("first delivery", || async {
        inbox_count(&db.pool, "totals").await == 10
    })
    .await;
    let before = totals_rows(&db.pool).await;

    // Deliver every event again, under fresh message ids so JetStream's
    // de-duplication cannot help: only the inbox stands in the way.
    for event in common::committed(&store, 10).await {
        let subject = envelope::subject(&nats.config.subject_prefix, &event.event_type);
        let mut headers = envelope::headers(&event);
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            uuid::Uuid::now_v7().to_string().as_str(),
        );
        let body = common::signed_body(&event, &subject);
        nats.jetstream
            .publish_with_headers(subject, headers, body.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    eventually("redelivered copies handled", || async {
        checkpoint_sequence(&db, "totals").await == 20
    })
    .await;
    relay.cancel();
    consumer.cancel();

    assert_eq!(totals_rows(&db.pool).await, before);
    assert_eq!(inbox_count(&db.pool, "totals").await, 10);
}

#[tokio::test]
async fn an_undecodable_message_does_not_block_the_ones_behind_it() {
    let db = TestSchema::create("poison").await;
    let nats = TestStream::create("poison").await;
    let totals = Totals::create(&db.pool, "totals").await;
    let consumer = spawn_consumer(totals, &db.pool, &nats.jetstream, &nats.config);

    let subject = envelope::subject(&nats.config.subject_prefix, "Deposited");
    nats.jetstream
        .publish(subject, "not an envelope".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let store = store(&db.pool);
    let relay = spawn_relay(&store, &nats.jetstream, &nats.config);
    store
        .append(
            &StreamId::new("account-1").unwrap(),
            ExpectedVersion::NoStream,
            vec![deposited(5)],
        )
        .await
        .unwrap();
    eventually("the good event applied", || async {
        inbox_count(&db.pool, "totals").await == 1
    })
    .await;
    relay.cancel();
    consumer.cancel();
    assert_eq!(
        totals_rows(&db.pool).await,
        vec![("account-1".to_owned(), 1, 1, 5)]
    );
}

#[tokio::test]
async fn a_stored_v1_event_is_read_as_v2() {
    let db = TestSchema::create("upcast").await;
    let stream = StreamId::new("account-upcast").unwrap();
    store(&db.pool)
        .append(&stream, ExpectedVersion::NoStream, vec![deposited(7)])
        .await
        .unwrap();

    // v2 of Deposited adds a currency code after the amount.
    let upcasters = Upcasters::new().register("Deposited", 1, |v1: &[u8]| {
        if v1.len() != 8 {
            return Err(format!("v1 payload is 8 bytes, got {}", v1.len()));
        }
        Ok([v1, b"JPY"].concat())
    });
    let upgraded = EventStore::new(db.pool.clone(), StoreConfig::new("test"), upcasters);
    let event = &upgraded.read_stream(&stream, 0).await.unwrap()[0];
    assert_eq!(event.schema_version, 2);
    assert_eq!(
        event.payload,
        [7_i64.to_le_bytes().as_slice(), b"JPY"].concat()
    );

    let all = common::committed(&upgraded, 1).await;
    assert_eq!(all[0].schema_version, 2, "read_all upcasts too");
}

/// A randomized workload: (stream, amount, events per append).
fn workload() -> impl Strategy<Value = Vec<(u8, i64, u8)>> {
    proptest::collection::vec((0..6u8, -1000..1000i64, 1..4u8), 1..60)
}

async fn live_equals_rebuild(commands: Vec<(u8, i64, u8)>) {
    let db = TestSchema::create("rebuild").await;
    let nats = TestStream::create("rebuild").await;
    let store = store(&db.pool);
    let totals = Totals::create(&db.pool, "totals").await;
    let consumer = spawn_consumer(totals.clone(), &db.pool, &nats.jetstream, &nats.config);
    let relay = spawn_relay(&store, &nats.jetstream, &nats.config);

    let mut appended = 0;
    for (stream, amount, count) in commands {
        let stream = StreamId::new(format!("account-{stream}")).unwrap();
        let events = (0..count).map(|_| deposited(amount)).collect();
        store
            .append(&stream, ExpectedVersion::Any, events)
            .await
            .unwrap();
        appended += i64::from(count);
    }
    eventually("live projection caught up", || async {
        inbox_count(&db.pool, "totals").await == appended
    })
    .await;
    relay.cancel();
    consumer.cancel();
    let live = totals_rows(&db.pool).await;

    let report = rebuild(&store, totals.as_ref()).await.unwrap();
    assert_eq!(report.events_replayed, appended as u64);
    assert_eq!(totals_rows(&db.pool).await, live);
    assert_eq!(inbox_count(&db.pool, "totals").await, appended);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn the_live_projection_equals_a_rebuild(commands in workload()) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(live_equals_rebuild(commands));
    }
}

#[tokio::test]
async fn a_rebuild_during_live_consumption_loses_and_doubles_nothing() {
    let db = TestSchema::create("rebuildlive").await;
    let nats = TestStream::create("rebuildlive").await;
    let store = store(&db.pool);
    let totals = Totals::create(&db.pool, "totals").await;
    let consumer = spawn_consumer(totals.clone(), &db.pool, &nats.jetstream, &nats.config);
    let relay = spawn_relay(&store, &nats.jetstream, &nats.config);

    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..400 {
                let stream = StreamId::new(format!("account-{}", i % 5)).unwrap();
                store
                    .append(&stream, ExpectedVersion::Any, vec![deposited(i)])
                    .await
                    .unwrap();
            }
        })
    };
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        rebuild(&store, totals.as_ref()).await.unwrap();
    }
    writer.await.unwrap();
    eventually("all 400 applied", || async {
        inbox_count(&db.pool, "totals").await == 400
    })
    .await;
    relay.cancel();
    consumer.cancel();

    let expected: i64 = (0..400).sum();
    let rows = totals_rows(&db.pool).await;
    assert_eq!(
        rows.iter().map(|(_, events, _, _)| events).sum::<i64>(),
        400
    );
    assert_eq!(
        rows.iter().map(|(_, _, _, total)| total).sum::<i64>(),
        expected
    );
}

/// [`Totals`] that can never apply a negative deposit.
struct NoOverdrafts(Arc<Totals>);

impl Projection for NoOverdrafts {
    fn name(&self) -> &str {
        self.0.name()
    }

    async fn apply(
        &self,
        tx: &mut sqlx::PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if common::amount_of(event) < 0 {
            return Err(ProjectionError::Rejected {
                event_id: event.event_id,
                event_type: event.event_type.clone(),
                reason: "negative deposit".into(),
            });
        }
        self.0.apply(tx, event).await
    }

    async fn reset(&self, tx: &mut sqlx::PgConnection) -> Result<(), ProjectionError> {
        self.0.reset(tx).await
    }
}

/// Messages waiting when the consumer attaches arrive together and are
/// applied in shared transactions; one the projection rejects fails its
/// batch, whose messages are then applied one by one: the rejected one is
/// settled alone and every other is applied exactly once.
#[tokio::test]
async fn a_rejected_event_in_a_batch_is_settled_alone_and_the_rest_applied() {
    let db = TestSchema::create("batch").await;
    let nats = TestStream::create("batch").await;
    let store = store(&db.pool);
    let stream = StreamId::new("account-1").unwrap();
    let amounts: Vec<i64> = (1..=300).map(|i| if i == 150 { -1 } else { i }).collect();
    for amount in &amounts {
        store
            .append(&stream, ExpectedVersion::Any, vec![deposited(*amount)])
            .await
            .unwrap();
    }
    let relay = spawn_relay(&store, &nats.jetstream, &nats.config);
    eventually("every event published", || async {
        common::outbox_count(&db.pool).await == 0
    })
    .await;
    let totals = Totals::create(&db.pool, "totals").await;
    let consumer = spawn_consumer(
        Arc::new(NoOverdrafts(totals)),
        &db.pool,
        &nats.jetstream,
        &nats.config,
    );
    eventually("every message settled", || async {
        checkpoint_sequence(&db, "totals").await == 300
    })
    .await;
    relay.cancel();
    consumer.cancel();
    let applied: i64 = amounts.iter().filter(|a| **a > 0).sum();
    assert_eq!(inbox_count(&db.pool, "totals").await, 299);
    assert_eq!(
        totals_rows(&db.pool).await,
        vec![("account-1".to_owned(), 299, 300, applied)]
    );
}

/// [`Totals`] interested in deposits only.
struct DepositsOnly(Arc<Totals>);

impl Projection for DepositsOnly {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn handles(&self, event_type: &str) -> bool {
        event_type == "Deposited"
    }

    async fn apply(
        &self,
        tx: &mut sqlx::PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        assert_eq!(event.event_type, "Deposited", "only handled events arrive");
        self.0.apply(tx, event).await
    }

    async fn reset(&self, tx: &mut sqlx::PgConnection) -> Result<(), ProjectionError> {
        self.0.reset(tx).await
    }
}

/// Events a projection does not handle are acked without an inbox row or
/// a transaction; the ones it handles are applied as ever.
#[tokio::test]
async fn events_a_projection_does_not_handle_leave_no_inbox_rows() {
    let db = TestSchema::create("interest").await;
    let nats = TestStream::create("interest").await;
    let store = store(&db.pool);
    let stream = StreamId::new("account-1").unwrap();
    for amount in 1..=20 {
        let mut event = deposited(amount);
        if amount % 2 == 0 {
            event.event_type = "Audited".into();
        }
        store
            .append(&stream, ExpectedVersion::Any, vec![event])
            .await
            .unwrap();
    }
    let totals = Totals::create(&db.pool, "totals").await;
    let consumer = spawn_consumer(
        Arc::new(DepositsOnly(totals)),
        &db.pool,
        &nats.jetstream,
        &nats.config,
    );
    let relay = spawn_relay(&store, &nats.jetstream, &nats.config);
    // The last deposit is the 19th event.
    eventually("every deposit applied", || async {
        checkpoint_sequence(&db, "totals").await == 19
    })
    .await;
    relay.cancel();
    consumer.cancel();
    assert_eq!(inbox_count(&db.pool, "totals").await, 10);
    assert_eq!(
        totals_rows(&db.pool).await,
        vec![("account-1".to_owned(), 10, 19, (1..=19).step_by(2).sum())]
    );
}
