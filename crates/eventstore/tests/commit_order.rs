//! The commit-order gap: positions are drawn before commit, so a slow
//! transaction can commit a *smaller* position after a fast one committed a
//! larger one. A reader that resumes from "position > last seen" skips it for
//! good. `read_all` must never do that.

mod common;

use std::{collections::HashMap, time::Duration};

use common::{deposited, metadata, store};
use hellowork_eventstore::{ExpectedVersion, GlobalPosition, StreamId};
use hellowork_testing::TestSchema;
use rand::Rng;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// What another replica's writer does: insert an event and its outbox row in
/// its own transaction (which the caller then holds open as long as it likes).
async fn insert_in(tx: &mut Transaction<'_, Postgres>, stream: &str, version: i64) -> Uuid {
    let id = Uuid::now_v7();
    let meta = metadata();
    sqlx::query(
        "WITH e AS (INSERT INTO events (event_id, stream_id, stream_version, event_type, \
             schema_version, payload, occurred_at, correlation_id, actor_subject, actor_role) \
         VALUES ($1, $2, $3, 'Deposited', 1, $4, now(), $5, 'slow-writer', 'ROLE_SYSTEM') \
         RETURNING position, transaction_id) \
         INSERT INTO outbox (position, transaction_id) SELECT position, transaction_id FROM e",
    )
    .bind(id)
    .bind(stream)
    .bind(version)
    .bind(1_i64.to_le_bytes().to_vec())
    .bind(meta.correlation_id)
    .execute(&mut **tx)
    .await
    .expect("slow insert");
    id
}

async fn naive_read_after(pool: &PgPool, last_position: i64) -> Vec<(i64, Uuid)> {
    sqlx::query_as("SELECT position, event_id FROM events WHERE position > $1 ORDER BY position")
        .bind(last_position)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_slow_transaction_committing_a_smaller_position_is_not_skipped() {
    let db = TestSchema::create("gap").await;
    let store = store(&db.pool);

    // A slow writer takes a position first and keeps its transaction open.
    let mut slow = db.pool.begin().await.unwrap();
    let slow_id = insert_in(&mut slow, "slow-1", 1).await;

    // A fast writer takes a larger position and commits.
    let fast_event = deposited(2);
    let fast_id = fast_event.event_id;
    store
        .append(
            &StreamId::new("fast-1").unwrap(),
            ExpectedVersion::NoStream,
            vec![fast_event],
        )
        .await
        .unwrap();

    // A naive reader now sees only the fast event and moves its cursor past
    // the slow one's position...
    let naive = naive_read_after(&db.pool, 0).await;
    assert_eq!(
        naive.iter().map(|(_, id)| *id).collect::<Vec<_>>(),
        vec![fast_id]
    );
    let naive_cursor = naive[0].0;

    // ...while read_all holds back: the slow transaction might still commit
    // something that belongs before the fast event.
    assert!(
        store
            .read_all(GlobalPosition::START, 100)
            .await
            .unwrap()
            .is_empty()
    );

    slow.commit().await.unwrap();

    // The naive reader has lost the slow event for good.
    assert!(naive_read_after(&db.pool, naive_cursor).await.is_empty());

    // read_all returns both, in commit order, and nothing after them. (It
    // may lag while any other transaction on the server is still open, since
    // such a transaction could yet commit events that belong in between.)
    hellowork_testing::eventually_within(
        Duration::from_secs(10),
        "both events readable",
        || async {
            store
                .read_all(GlobalPosition::START, 100)
                .await
                .unwrap()
                .len()
                == 2
        },
    )
    .await;
    let all = store.read_all(GlobalPosition::START, 100).await.unwrap();
    let ids: Vec<Uuid> = all.iter().map(|(_, e)| e.event_id).collect();
    assert_eq!(ids, vec![slow_id, fast_id]);
    let cursor = all.last().unwrap().0;
    assert!(store.read_all(cursor, 100).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_tailing_reader_sees_every_event_once_under_interleaved_slow_and_fast_writers() {
    let db = TestSchema::create("tail").await;
    let store = store(&db.pool);

    // Slow writers: hold each transaction open for a random while.
    let slow_writers: Vec<_> = (0..6)
        .map(|w| {
            let pool = db.pool.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..15 {
                    let mut tx = pool.begin().await.unwrap();
                    ids.push(insert_in(&mut tx, &format!("slow-{w}-{i}"), 1).await);
                    let pause = rand::rng().random_range(0..25);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    tx.commit().await.unwrap();
                }
                ids
            })
        })
        .collect();
    // Fast writers: the store's own group-committed appends.
    let fast_writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = StreamId::new(format!("fast-{w}")).unwrap();
                let mut ids = Vec::new();
                for _ in 0..60 {
                    let event = deposited(1);
                    ids.push(event.event_id);
                    store
                        .append(&stream, ExpectedVersion::Any, vec![event])
                        .await
                        .unwrap();
                }
                ids
            })
        })
        .collect();

    // Tail the log while they write.
    let tailer = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut cursor = GlobalPosition::START;
            let mut seen: Vec<(String, u64, Uuid)> = Vec::new();
            let mut quiet_rounds = 0;
            while quiet_rounds < 40 {
                let page = store.read_all(cursor, 50).await.unwrap();
                if page.is_empty() {
                    quiet_rounds += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                quiet_rounds = 0;
                for (position, event) in page {
                    assert!(position > cursor, "positions only move forward");
                    cursor = position;
                    seen.push((
                        event.stream_id.to_string(),
                        event.stream_version,
                        event.event_id,
                    ));
                }
            }
            seen
        })
    };

    let mut written = Vec::new();
    for writer in slow_writers.into_iter().chain(fast_writers) {
        written.extend(writer.await.unwrap());
    }
    let seen = tailer.await.unwrap();

    let mut seen_ids: Vec<Uuid> = seen.iter().map(|(_, _, id)| *id).collect();
    assert_eq!(
        seen_ids.len(),
        written.len(),
        "every event seen exactly once"
    );
    seen_ids.sort();
    written.sort();
    assert_eq!(seen_ids, written);

    // And each stream's versions arrive in order.
    let mut last: HashMap<String, u64> = HashMap::new();
    for (stream, version, _) in &seen {
        let previous = last.insert(stream.clone(), *version).unwrap_or(0);
        assert_eq!(*version, previous + 1, "stream {stream} out of order");
    }
}
