//! Appending: optimistic concurrency, expectations, idempotency, reads.

mod common;

use std::{str::FromStr, sync::Arc};

use common::{deposited, store};
use hellowork_eventstore::{AppendError, ExpectedVersion, InvalidInput, StreamId, connect};
use hellowork_testing::TestSchema;
use tokio::sync::Barrier;

#[tokio::test]
async fn of_32_racing_writers_at_one_version_exactly_one_wins() {
    let db = TestSchema::create("race").await;
    let store = store(&db.pool);
    let stream = StreamId::new("account-race").unwrap();
    store
        .append(
            &stream,
            ExpectedVersion::NoStream,
            vec![deposited(1), deposited(2)],
        )
        .await
        .unwrap();

    let barrier = Arc::new(Barrier::new(32));
    let racers: Vec<_> = (0..32)
        .map(|i| {
            let (store, stream, barrier) = (store.clone(), stream.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .append(&stream, ExpectedVersion::Exact(2), vec![deposited(i)])
                    .await
            })
        })
        .collect();

    let mut winners = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(outcome) => {
                winners += 1;
                assert_eq!(outcome.stream_version, 3);
            }
            Err(AppendError::WrongExpectedVersion {
                actual, expected, ..
            }) => {
                assert_eq!(actual, 3, "the conflict carries the actual version");
                assert_eq!(expected, ExpectedVersion::Exact(2));
            }
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(store.read_stream(&stream, 0).await.unwrap().len(), 3);
}

#[tokio::test]
async fn racing_writers_in_two_store_instances_never_overwrite() {
    // Two EventStore instances on one schema stand for two service replicas:
    // their batches race in Postgres, not in one process' writer.
    let db = TestSchema::create("replicas").await;
    let (first, second) = (store(&db.pool), store(&db.pool));
    let stream = StreamId::new("account-replicas").unwrap();
    let barrier = Arc::new(Barrier::new(16));
    let racers: Vec<_> = (0..16)
        .map(|i| {
            let store = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let (stream, barrier) = (stream.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .append(&stream, ExpectedVersion::NoStream, vec![deposited(i)])
                    .await
            })
        })
        .collect();
    let mut winners = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(_) => winners += 1,
            Err(AppendError::WrongExpectedVersion { actual: 1, .. }) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn expectations_no_stream_any_and_exact() {
    let db = TestSchema::create("expect").await;
    let store = store(&db.pool);
    let stream = StreamId::new("account-expect").unwrap();

    let missing = store
        .append(&stream, ExpectedVersion::Exact(1), vec![deposited(1)])
        .await;
    assert!(matches!(
        missing,
        Err(AppendError::WrongExpectedVersion { actual: 0, .. })
    ));

    let created = store
        .append(&stream, ExpectedVersion::NoStream, vec![deposited(1)])
        .await
        .unwrap();
    assert_eq!(created.stream_version, 1);

    let again = store
        .append(&stream, ExpectedVersion::NoStream, vec![deposited(1)])
        .await;
    assert!(matches!(
        again,
        Err(AppendError::WrongExpectedVersion { actual: 1, .. })
    ));

    let any = store
        .append(
            &stream,
            ExpectedVersion::Any,
            vec![deposited(2), deposited(3)],
        )
        .await
        .unwrap();
    assert_eq!(any.stream_version, 3);

    let exact = store
        .append(&stream, ExpectedVersion::Exact(3), vec![deposited(4)])
        .await
        .unwrap();
    assert_eq!(exact.stream_version, 4);

    let versions: Vec<u64> = store
        .read_stream(&stream, 0)
        .await
        .unwrap()
        .iter()
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(versions, vec![1, 2, 3, 4]);
    let tail: Vec<u64> = store
        .read_stream(&stream, 2)
        .await
        .unwrap()
        .iter()
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(tail, vec![3, 4]);
}

/// An append is written in one statement planned on the version it
/// expects; where the stream is behind that version, the statement must
/// write nothing (a gap) and the append is refused with the actual head.
#[tokio::test]
async fn an_expectation_beyond_the_head_is_refused_and_leaves_no_gap() {
    let db = TestSchema::create("beyond").await;
    let store = store(&db.pool);
    let stream = StreamId::new("account-beyond").unwrap();
    store
        .append(&stream, ExpectedVersion::NoStream, vec![deposited(1)])
        .await
        .unwrap();

    // Ahead of the head, and behind it.
    for expected in [ExpectedVersion::Exact(3), ExpectedVersion::NoStream] {
        let refused = store.append(&stream, expected, vec![deposited(2)]).await;
        assert!(
            matches!(
                refused,
                Err(AppendError::WrongExpectedVersion { actual: 1, .. })
            ),
            "{expected}: {refused:?}"
        );
    }
    let versions: Vec<u64> = store
        .read_stream(&stream, 0)
        .await
        .unwrap()
        .iter()
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(versions, vec![1]);
}

#[tokio::test]
async fn a_retried_append_is_idempotent_on_event_id() {
    let db = TestSchema::create("idem").await;
    let store = store(&db.pool);
    let stream = StreamId::new("account-idem").unwrap();
    let events = vec![deposited(10), deposited(20)];

    let first = store
        .append(&stream, ExpectedVersion::NoStream, events.clone())
        .await
        .unwrap();
    assert!(!first.already_recorded);
    // The client never saw the answer and sends the very same command again.
    let retried = store
        .append(&stream, ExpectedVersion::NoStream, events.clone())
        .await
        .unwrap();
    assert!(retried.already_recorded);
    assert_eq!(retried.stream_version, 2);
    assert_eq!(store.read_stream(&stream, 0).await.unwrap().len(), 2);
    assert_eq!(
        common::outbox_count(&db.pool).await,
        2,
        "nothing published twice either"
    );

    // The same id on another stream is not a retry: it is refused.
    let elsewhere = StreamId::new("account-other").unwrap();
    let reused = store
        .append(&elsewhere, ExpectedVersion::Any, vec![events[0].clone()])
        .await;
    assert!(matches!(reused, Err(AppendError::EventIdReused { .. })));
}

#[tokio::test]
async fn invalid_appends_are_refused_before_writing() {
    let db = TestSchema::create("invalid").await;
    let store = store(&db.pool);
    let stream = StreamId::new("account-invalid").unwrap();

    let empty = store.append(&stream, ExpectedVersion::Any, vec![]).await;
    assert!(matches!(
        empty,
        Err(AppendError::Invalid(InvalidInput::NoEvents))
    ));

    let twice = deposited(1);
    let duplicated = store
        .append(&stream, ExpectedVersion::Any, vec![twice.clone(), twice])
        .await;
    assert!(matches!(
        duplicated,
        Err(AppendError::Invalid(InvalidInput::DuplicateEventId(_)))
    ));

    let mut bad_type = deposited(1);
    bad_type.event_type = "Not.A.Subject".into();
    let refused = store
        .append(&stream, ExpectedVersion::Any, vec![bad_type])
        .await;
    assert!(matches!(
        refused,
        Err(AppendError::Invalid(InvalidInput::EventType(_)))
    ));

    assert!(StreamId::new("").is_err());
    assert!(StreamId::new("has space").is_err());
    assert!(store.read_stream(&stream, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn events_keep_their_metadata() {
    let db = TestSchema::create("meta").await;
    let store = store(&db.pool);
    let stream = StreamId::new("account-meta").unwrap();
    let event = deposited(42);
    store
        .append(&stream, ExpectedVersion::NoStream, vec![event.clone()])
        .await
        .unwrap();

    let stored = &store.read_stream(&stream, 0).await.unwrap()[0];
    assert_eq!(stored.event_id, event.event_id);
    assert_eq!(stored.event_type, "Deposited");
    assert_eq!(stored.payload, event.payload);
    assert_eq!(stored.metadata, event.metadata);
    assert_eq!(
        stored.occurred_at.timestamp_micros(),
        event.occurred_at.timestamp_micros()
    );
}

#[tokio::test]
async fn many_concurrent_appends_to_many_streams_all_land_in_order() {
    let db = TestSchema::create("many").await;
    let store = store(&db.pool);
    let writers: Vec<_> = (0..64)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = StreamId::new(format!("account-{}", w % 8)).unwrap();
                for i in 0..10 {
                    store
                        .append(&stream, ExpectedVersion::Any, vec![deposited(w * 100 + i)])
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    for s in 0..8 {
        let stream = StreamId::new(format!("account-{s}")).unwrap();
        let versions: Vec<u64> = store
            .read_stream(&stream, 0)
            .await
            .unwrap()
            .iter()
            .map(|e| e.stream_version)
            .collect();
        assert_eq!(versions, (1..=80).collect::<Vec<u64>>());
    }
}

/// The writers' connections are not pinged before each batch (that would be
/// a second round trip per append): one that died while idle costs the
/// batch a retry on a new connection, never the caller an error.
#[tokio::test]
async fn an_append_survives_its_writer_connection_dying_while_idle() {
    let db = TestSchema::create("dying").await;
    let marked = format!("writer-dies-{}", uuid::Uuid::new_v4().simple());
    let options = (*db.pool.connect_options())
        .clone()
        .application_name(&marked);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_lazy_with(options);
    let store = store(&pool);
    let stream = StreamId::new("account-dying").unwrap();
    store
        .append(&stream, ExpectedVersion::NoStream, vec![deposited(1)])
        .await
        .unwrap();

    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE application_name = $1",
    )
    .bind(&marked)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(killed >= 1, "the writer's connection was open");

    let after = store
        .append(&stream, ExpectedVersion::Exact(1), vec![deposited(2)])
        .await
        .unwrap();
    assert_eq!(after.stream_version, 2);
    assert!(!after.already_recorded);
}

/// A connection lent by a pool from [`connect`] is pinged only after it has
/// been idle a while: one that died idle is replaced before a read uses it.
#[tokio::test]
async fn a_pooled_connection_that_died_idle_is_replaced_before_it_is_lent() {
    let db = TestSchema::create("idle_death").await;
    let marked = format!("idle-dies-{}", uuid::Uuid::new_v4().simple());
    let options = sqlx::postgres::PgConnectOptions::from_str(&hellowork_testing::database_url())
        .unwrap()
        .application_name(&marked);
    let pool = connect(
        options,
        &db.name,
        sqlx::postgres::PgPoolOptions::new().max_connections(1),
    )
    .await
    .unwrap();
    let before: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(before)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(killed, "the pool's connection was open");
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let after: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .expect("a read after the idle connection died");
    assert_ne!(after, before, "a new connection");
    pool.close().await;
}
