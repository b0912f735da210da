//! The relay: every committed event reaches JetStream, and through a
//! consumer with an inbox reaches the projection exactly once — across
//! crashes, duplicate windows, NATS outages and competing relays.

mod common;

use std::time::Duration;

use async_nats::jetstream;
use common::{
    Totals, deposited, eventually, inbox_count, jetstream_at, outbox_count, spawn_consumer,
    spawn_relay, store, totals_rows,
};
use hellowork_eventstore::{
    EventStore, EventStreamConfig, ExpectedVersion, StreamId, ensure_stream, envelope,
};
use hellowork_testing::{NatsServer, TestSchema, TestStream, nats_url};

async fn append_spread(store: &EventStore, streams: u64, per_stream: u64) {
    append_spread_from(store, streams, 0, per_stream).await;
}

/// Publishes the first `count` stored events the way a relay does, without
/// touching the outbox: a relay that crashed after publishing, before
/// recording it.
async fn publish_like_a_crashed_relay(
    store: &EventStore,
    js: &jetstream::Context,
    stream: &EventStreamConfig,
    count: usize,
) {
    for event in common::committed(store, count).await {
        let subject = envelope::subject(&stream.subject_prefix, &event.event_type);
        let body = common::signed_body(&event, &subject);
        js.publish_with_headers(subject, envelope::headers(&event), body.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
}

async fn stream_messages(js: &jetstream::Context, name: &str) -> u64 {
    js.get_stream(name)
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .state
        .messages
}

async fn projected_events(db: &TestSchema) -> i64 {
    totals_rows(&db.pool)
        .await
        .iter()
        .map(|(_, events, _, _)| events)
        .sum()
}

#[tokio::test]
async fn a_crash_between_commit_and_publish_delivers_every_event_exactly_once() {
    let db = TestSchema::create("crash").await;
    let nats = TestStream::create("crash").await;
    let store = store(&db.pool);
    append_spread(&store, 10, 10).await;
    common::committed(&store, 100).await;

    // The first relay published 40 events and died before removing them
    // from the outbox.
    publish_like_a_crashed_relay(&store, &nats.jetstream, &nats.config, 40).await;
    assert_eq!(outbox_count(&db.pool).await, 100);

    let totals = Totals::create(&db.pool, "totals").await;
    let consumer = spawn_consumer(totals, &db.pool, &nats.jetstream, &nats.config);
    let relay = spawn_relay(&store, &nats.jetstream, &nats.config);
    eventually("outbox drained", || async {
        outbox_count(&db.pool).await == 0
    })
    .await;
    eventually("all events consumed", || async {
        inbox_count(&db.pool, "totals").await == 100
    })
    .await;
    relay.cancel();
    consumer.cancel();

    assert_eq!(
        stream_messages(&nats.jetstream, &nats.config.stream_name).await,
        100,
        "JetStream dropped the re-published 40"
    );
    assert_eq!(projected_events(&db).await, 100);
    for (_, events, last_version, _) in totals_rows(&db.pool).await {
        assert_eq!((events, last_version), (10, 10));
    }
}

#[tokio::test]
async fn republishing_after_the_duplicate_window_is_absorbed_by_the_inbox() {
    let db = TestSchema::create("window").await;
    let client = async_nats::connect(nats_url()).await.unwrap();
    let js = jetstream::new(client);
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let mut config = EventStreamConfig::new(
        format!("TEST_WINDOW_{suffix}"),
        format!("test_{suffix}.window.v1"),
    );
    config.duplicate_window = Duration::from_millis(200);
    ensure_stream(&js, &config).await.unwrap();

    let store = store(&db.pool);
    append_spread(&store, 5, 6).await;
    publish_like_a_crashed_relay(&store, &js, &config, 30).await;
    // JetStream forgets the ids; the relay's re-publish is stored again.
    tokio::time::sleep(Duration::from_millis(400)).await;

    let totals = Totals::create(&db.pool, "totals").await;
    let consumer = spawn_consumer(totals, &db.pool, &js, &config);
    let relay = spawn_relay(&store, &js, &config);
    eventually("outbox drained", || async {
        outbox_count(&db.pool).await == 0
    })
    .await;
    eventually("all 60 messages handled", || async {
        let handled: Option<i64> = sqlx::query_scalar(
            "SELECT stream_sequence FROM consumer_checkpoints WHERE consumer = 'totals'",
        )
        .fetch_optional(&db.pool)
        .await
        .unwrap();
        handled == Some(60)
    })
    .await;
    relay.cancel();
    consumer.cancel();

    assert_eq!(
        stream_messages(&js, &config.stream_name).await,
        60,
        "every event really was delivered twice"
    );
    assert_eq!(inbox_count(&db.pool, "totals").await, 30);
    assert_eq!(
        projected_events(&db).await,
        30,
        "the projection counted each event once"
    );
    js.delete_stream(&config.stream_name).await.unwrap();
}

#[tokio::test]
async fn events_appended_while_nats_is_down_are_delivered_once_it_returns() {
    let mut server = NatsServer::start();
    let db = TestSchema::create("outage").await;
    let js = jetstream_at(&server.url()).await;
    let config = EventStreamConfig::new("TEST_OUTAGE", "test.outage.v1");
    ensure_stream(&js, &config).await.unwrap();

    let store = store(&db.pool);
    let totals = Totals::create(&db.pool, "totals").await;
    let consumer = spawn_consumer(totals, &db.pool, &js, &config);
    let relay = spawn_relay(&store, &js, &config);

    let total: u64 = 300;
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..total {
                let stream = StreamId::new(format!("account-{}", i % 7)).unwrap();
                store
                    .append(&stream, ExpectedVersion::Any, vec![deposited(1)])
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    eventually("some events delivered", || async {
        inbox_count(&db.pool, "totals").await >= 50
    })
    .await;

    server.stop();
    let during_outage = inbox_count(&db.pool, "totals").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        outbox_count(&db.pool).await > 0,
        "appends go on and wait in the outbox"
    );
    server.restart();

    writer.await.unwrap();
    eventually("outbox drained after the outage", || async {
        outbox_count(&db.pool).await == 0
    })
    .await;
    eventually("every event consumed", || async {
        inbox_count(&db.pool, "totals").await == total as i64
    })
    .await;
    relay.cancel();
    consumer.cancel();

    assert!(during_outage < total as i64);
    assert_eq!(
        projected_events(&db).await,
        total as i64,
        "none lost, none twice"
    );
    for (stream, events, last_version, _) in totals_rows(&db.pool).await {
        assert_eq!(
            events, last_version,
            "stream {stream} has each version once"
        );
    }
}

#[tokio::test]
async fn two_relays_on_one_outbox_publish_each_event_once_and_take_over() {
    let db = TestSchema::create("tworelays").await;
    let nats = TestStream::create("tworelays").await;
    let store = store(&db.pool);
    let drained = || async { outbox_count(&db.pool).await == 0 };

    // Alone, the first relay becomes leader.
    let first = spawn_relay(&store, &nats.jetstream, &nats.config);
    append_spread_from(&store, 4, 0, 25).await;
    eventually("published by the first relay", drained).await;

    // With a second relay on the same outbox, events still go out once.
    let second = spawn_relay(&store, &nats.jetstream, &nats.config);
    append_spread_from(&store, 4, 25, 25).await;
    eventually("published with two relays", drained).await;
    assert_eq!(
        stream_messages(&nats.jetstream, &nats.config.stream_name).await,
        200
    );

    // The leader goes away; the standby takes over.
    first.cancel();
    append_spread_from(&store, 4, 50, 25).await;
    eventually("published by the standby", drained).await;
    second.cancel();
    assert_eq!(
        stream_messages(&nats.jetstream, &nats.config.stream_name).await,
        300
    );
}

async fn append_spread_from(store: &EventStore, streams: u64, from: u64, count: u64) {
    for version in from..from + count {
        for s in 0..streams {
            let stream = StreamId::new(format!("account-{s}")).unwrap();
            store
                .append(&stream, ExpectedVersion::Exact(version), vec![deposited(1)])
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn the_relay_is_woken_by_commits_not_by_its_poll() {
    let db = TestSchema::create("wake").await;
    let nats = TestStream::create("wake").await;
    let store = store(&db.pool);
    published_without_polling(&db, &nats, &store, store.clone()).await;
    assert_eq!(
        stream_messages(&nats.jetstream, &nats.config.stream_name).await,
        1
    );
}

/// Starts a relay on `relaying` that polls only every 600 s, lets it reach
/// its idle wait, appends one event through `writing` and waits (2 s at
/// most) for the event to leave the outbox: only a wake-up can do that.
async fn published_without_polling(
    db: &TestSchema,
    nats: &TestStream,
    writing: &EventStore,
    relaying: EventStore,
) {
    let mut config = hellowork_eventstore::RelayConfig::new(nats.config.clone(), common::signer());
    config.poll_interval = Duration::from_secs(600);
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(
        hellowork_eventstore::Relay::new(relaying, nats.jetstream.clone(), config)
            .run(shutdown.clone()),
    );

    // Let the relay reach its idle wait, listening.
    tokio::time::sleep(Duration::from_millis(300)).await;
    writing
        .append(
            &StreamId::new("account-1").unwrap(),
            ExpectedVersion::NoStream,
            vec![deposited(1)],
        )
        .await
        .unwrap();
    hellowork_testing::eventually_within(
        Duration::from_secs(2),
        "published long before the next poll",
        || async { outbox_count(&db.pool).await == 0 },
    )
    .await;
    shutdown.cancel();
}

/// The relay reads the next page while the last one's acks are
/// outstanding; with pages much smaller than the backlog and writers still
/// appending, every event goes out once and each stream in version order.
#[tokio::test]
async fn a_pipelined_relay_keeps_each_stream_in_order_while_writers_append() {
    let db = TestSchema::create("pipelined").await;
    let nats = TestStream::create("pipelined").await;
    let store = store(&db.pool);
    let mut config = hellowork_eventstore::RelayConfig::new(nats.config.clone(), common::signer());
    config.batch_size = 16;
    config.max_in_flight = 40;
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(
        hellowork_eventstore::Relay::new(store.clone(), nats.jetstream.clone(), config)
            .run(shutdown.clone()),
    );

    let (streams, per_stream) = (12, 40);
    let writers: Vec<_> = (0..streams)
        .map(|s| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = StreamId::new(format!("account-{s}")).unwrap();
                for version in 0..per_stream {
                    store
                        .append(&stream, ExpectedVersion::Exact(version), vec![deposited(1)])
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    eventually("everything published", || async {
        outbox_count(&db.pool).await == 0
    })
    .await;
    shutdown.cancel();

    let messages = stream_messages(&nats.jetstream, &nats.config.stream_name).await;
    assert_eq!(messages, streams * per_stream);
    let mut last = std::collections::HashMap::new();
    let published = nats
        .jetstream
        .get_stream(&nats.config.stream_name)
        .await
        .unwrap();
    for sequence in 1..=messages {
        let message = published.get_raw_message(sequence).await.unwrap();
        let event = envelope::decode(&message.payload).unwrap();
        let previous = last.insert(event.stream_id.as_str().to_owned(), event.stream_version);
        assert_eq!(
            event.stream_version,
            previous.unwrap_or(0) + 1,
            "{} out of order at sequence {sequence}",
            event.stream_id
        );
    }
}

/// A relay in another process (here: another store instance, with writers
/// of its own that never write) hears of commits by notification.
#[tokio::test]
async fn a_relay_in_another_process_is_woken_by_notification() {
    let db = TestSchema::create("elsewhere").await;
    let nats = TestStream::create("elsewhere").await;
    published_without_polling(&db, &nats, &store(&db.pool), store(&db.pool)).await;
}
