//! Atomic appends to several streams: every part's version is checked and
//! either every part is written or none, under races with single-stream
//! appends and across two store instances.

mod common;

use std::sync::Arc;

use common::{deposited, store};
use hellowork_eventstore::{AppendError, ExpectedVersion, InvalidInput, StreamId};
use hellowork_testing::TestSchema;
use tokio::sync::Barrier;

fn streams() -> (StreamId, StreamId) {
    (
        StreamId::new("seats-1").unwrap(),
        StreamId::new("holder-1").unwrap(),
    )
}

#[tokio::test]
async fn a_refused_part_writes_no_part() {
    let db = TestSchema::create("atomic_refused").await;
    let store = store(&db.pool);
    let (seats, holder) = streams();
    store
        .append(&holder, ExpectedVersion::NoStream, vec![deposited(1)])
        .await
        .unwrap();

    let refused = store
        .append_atomically(vec![
            (seats.clone(), ExpectedVersion::NoStream, vec![deposited(2)]),
            (
                holder.clone(),
                ExpectedVersion::NoStream,
                vec![deposited(3)],
            ),
        ])
        .await;
    match refused {
        Err(AppendError::WrongExpectedVersion { stream, actual, .. }) => {
            assert_eq!(stream, holder);
            assert_eq!(actual, 1);
        }
        other => panic!("expected a conflict on the holder, got {other:?}"),
    }
    assert!(store.read_stream(&seats, 0).await.unwrap().is_empty());
    assert_eq!(store.read_stream(&holder, 0).await.unwrap().len(), 1);

    let written = store
        .append_atomically(vec![
            (seats.clone(), ExpectedVersion::NoStream, vec![deposited(2)]),
            (
                holder.clone(),
                ExpectedVersion::Exact(1),
                vec![deposited(3)],
            ),
        ])
        .await
        .unwrap();
    let versions: Vec<u64> = written.iter().map(|o| o.stream_version).collect();
    assert_eq!(versions, [1, 2]);
}

#[tokio::test]
async fn a_retried_atomic_append_is_answered_from_the_store() {
    let db = TestSchema::create("atomic_retry").await;
    let store = store(&db.pool);
    let (seats, holder) = streams();
    let (seat, held) = (deposited(1), deposited(2));
    let append = || {
        vec![
            (seats.clone(), ExpectedVersion::NoStream, vec![seat.clone()]),
            (
                holder.clone(),
                ExpectedVersion::NoStream,
                vec![held.clone()],
            ),
        ]
    };
    let first = store.append_atomically(append()).await.unwrap();
    assert!(first.iter().all(|o| !o.already_recorded));
    let again = store.append_atomically(append()).await.unwrap();
    assert!(
        again
            .iter()
            .all(|o| o.already_recorded && o.stream_version == 1)
    );
    assert_eq!(store.read_stream(&seats, 0).await.unwrap().len(), 1);
}

#[tokio::test]
async fn one_stream_twice_is_refused_before_anything_is_written() {
    let db = TestSchema::create("atomic_twice").await;
    let store = store(&db.pool);
    let (seats, _) = streams();
    let refused = store
        .append_atomically(vec![
            (seats.clone(), ExpectedVersion::Any, vec![deposited(1)]),
            (seats.clone(), ExpectedVersion::Any, vec![deposited(2)]),
        ])
        .await;
    assert!(matches!(
        refused,
        Err(AppendError::Invalid(InvalidInput::StreamTwice(_)))
    ));
    assert!(store.read_stream(&seats, 0).await.unwrap().is_empty());
}

/// Sixteen holders race for four seats on one stream, each taking a seat
/// and opening its own stream in one append, through two store instances
/// (two processes' writers): the seats stream grows by exactly the winners
/// and every winner's stream exists, every loser's does not.
#[tokio::test]
async fn racing_atomic_appends_across_two_stores_write_whole_decisions_only() {
    let db = TestSchema::create("atomic_race").await;
    let stores = [store(&db.pool), store(&db.pool)];
    let seats = StreamId::new("seats-race").unwrap();
    let barrier = Arc::new(Barrier::new(16));
    let racers: Vec<_> = (0..16)
        .map(|i| {
            let store = stores[i % 2].clone();
            let (seats, barrier) = (seats.clone(), barrier.clone());
            tokio::spawn(async move {
                let holder = StreamId::new(format!("holder-{i}")).unwrap();
                barrier.wait().await;
                // Each holder retries on the seats' new version until the
                // four seats are gone, as a command handler re-decides.
                loop {
                    let taken = store.read_stream(&seats, 0).await.unwrap().len() as u64;
                    if taken == 4 {
                        return (holder, false);
                    }
                    let appended = store
                        .append_atomically(vec![
                            (
                                seats.clone(),
                                ExpectedVersion::Exact(taken),
                                vec![deposited(i64::try_from(i).unwrap())],
                            ),
                            (
                                holder.clone(),
                                ExpectedVersion::NoStream,
                                vec![deposited(0)],
                            ),
                        ])
                        .await;
                    match appended {
                        Ok(_) => return (holder, true),
                        Err(AppendError::WrongExpectedVersion { .. }) => continue,
                        Err(other) => panic!("unexpected error {other:?}"),
                    }
                }
            })
        })
        .collect();
    let mut winners = 0;
    for racer in racers {
        let (holder, won) = racer.await.unwrap();
        let opened = !stores[0].read_stream(&holder, 0).await.unwrap().is_empty();
        assert_eq!(
            opened, won,
            "a holder's stream exists exactly when it won a seat"
        );
        winners += usize::from(won);
    }
    assert_eq!(winners, 4);
    let versions: Vec<u64> = stores[0]
        .read_stream(&seats, 0)
        .await
        .unwrap()
        .iter()
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(versions, [1, 2, 3, 4]);
}
