//! The cached repository: kept states stay within their memory budget,
//! a state kept behind another process' appends is caught up before a
//! command is decided on it, and a refusal is confirmed on the store's
//! current state; a decision on two streams writes both or neither; a
//! followed repository answers from memory until another writer's append
//! reaches its follower, and only while the follower keeps up.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{deposited, metadata, store};
use hellowork_eventstore::{
    CachedRepository, CommitFollower, DomainEvent, ExecuteError, ExpectedVersion, Fold,
    FollowConfig, Paired, StreamId,
};
use hellowork_testing::{TestSchema, eventually};

/// A ledger of deposits: the amounts, in order.
#[derive(Debug, Default, Clone, PartialEq)]
struct Ledger {
    amounts: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq)]
struct Deposited(i64);

impl DomainEvent for Deposited {
    fn event_type(&self) -> &'static str {
        "Deposited"
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn encode(&self) -> Vec<u8> {
        self.0.to_le_bytes().to_vec()
    }

    fn decode(_: &str, payload: &[u8]) -> Result<Self, String> {
        let bytes = payload.try_into().map_err(|_| "payload is not 8 bytes")?;
        Ok(Self(i64::from_le_bytes(bytes)))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the ledger holds {0} deposits, the most it may")]
struct Full(usize);

impl Fold for Ledger {
    type Event = Deposited;
    type Error = Full;

    fn fold(&mut self, event: &Deposited, _: DateTime<Utc>, _: &str) {
        self.amounts.push(event.0);
    }
}

/// Deposits `amount` unless the ledger already holds `most` deposits.
async fn deposit(
    repository: &CachedRepository<Ledger>,
    stream: &StreamId,
    amount: i64,
    most: usize,
) -> Result<Ledger, ExecuteError<Full>> {
    let decide = |ledger: &Ledger| {
        if ledger.amounts.len() >= most {
            Err(Full(ledger.amounts.len()))
        } else {
            Ok(vec![Deposited(amount)])
        }
    };
    let (_, ledger) = repository
        .execute(stream, &metadata(), decide, |events| async {
            Ok::<_, ExecuteError<Full>>(events)
        })
        .await?;
    Ok(ledger)
}

#[tokio::test]
async fn kept_streams_stay_within_the_memory_budget() {
    let db = TestSchema::create("cached_budget").await;
    // About 16 events of 8-byte payloads and their overhead.
    let repository = CachedRepository::<Ledger>::new(store(&db.pool), 16 * 136);
    for i in 0..40 {
        let stream = StreamId::new(format!("ledger-{i}")).unwrap();
        for amount in 0..3 {
            deposit(&repository, &stream, amount, 10).await.unwrap();
        }
    }
    let (kept, bytes) = repository.usage();
    assert!(
        bytes <= 16 * 136,
        "{bytes} bytes kept over a budget of {}",
        16 * 136
    );
    assert!(kept < 40, "{kept} streams kept: nothing was evicted");
    assert!(
        kept >= 3,
        "{kept} streams kept: the budget holds at least three"
    );
    // An evicted stream is replayed in full when needed again.
    let first = repository
        .read(&StreamId::new("ledger-0").unwrap())
        .await
        .unwrap();
    assert_eq!(first.amounts, [0, 1, 2]);
}

#[tokio::test]
async fn a_kept_state_behind_another_writer_is_caught_up_before_deciding() {
    let db = TestSchema::create("cached_behind").await;
    let other = store(&db.pool);
    let repository = CachedRepository::<Ledger>::new(store(&db.pool), 1 << 20);
    let stream = StreamId::new("ledger-shared").unwrap();
    deposit(&repository, &stream, 1, 3).await.unwrap();
    // Another process appends behind the kept state's back.
    other
        .append(&stream, ExpectedVersion::Exact(1), vec![deposited(2)])
        .await
        .unwrap();
    let after = deposit(&repository, &stream, 3, 3).await.unwrap();
    assert_eq!(after.amounts, [1, 2, 3], "decided on the caught-up state");
    // The kept state thinks there is room; the store says otherwise, and
    // the refusal is confirmed on the store's state, not the kept one.
    other
        .append(&stream, ExpectedVersion::Exact(3), vec![deposited(4)])
        .await
        .unwrap();
    match deposit(&repository, &stream, 5, 4).await {
        Err(ExecuteError::Domain(Full(4))) => {}
        other => panic!("expected the ledger to be full at 4, got {other:?}"),
    }
    let stored = other.read_stream(&stream, 0).await.unwrap();
    assert_eq!(stored.len(), 4, "nothing written by the refused command");
}

/// Moves `amount` from `from` to `to` (two ledgers of one repository
/// here) unless `from` holds `most` deposits already: one decision on both.
async fn transfer(
    repository: &CachedRepository<Ledger>,
    from: &StreamId,
    to: &StreamId,
    amount: i64,
    most: usize,
) -> Result<Paired<Ledger, Ledger>, ExecuteError<Full>> {
    let decide = |here: &Ledger, _: &Ledger| {
        if here.amounts.len() >= most {
            Err(Full(here.amounts.len()))
        } else {
            Ok((vec![Deposited(-amount)], vec![Deposited(amount)]))
        }
    };
    repository
        .execute_with(from, repository, to, &metadata(), decide, |events| async {
            Ok::<_, ExecuteError<Full>>(events)
        })
        .await
}

#[tokio::test]
async fn a_decision_on_two_streams_writes_both_or_neither_on_current_states() {
    let db = TestSchema::create("cached_paired").await;
    let other = store(&db.pool);
    let repository = CachedRepository::<Ledger>::new(store(&db.pool), 1 << 20);
    let (from, to) = (
        StreamId::new("ledger-from").unwrap(),
        StreamId::new("ledger-to").unwrap(),
    );
    let paired = transfer(&repository, &from, &to, 5, 3).await.unwrap();
    assert_eq!(
        (paired.first.amounts, paired.second.amounts),
        (vec![-5], vec![5])
    );
    // Another process appends to the second stream only: the kept pair is
    // behind there, the atomic append refused, both caught up, decided
    // again; both streams hold the decision once.
    other
        .append(&to, ExpectedVersion::Exact(1), vec![deposited(7)])
        .await
        .unwrap();
    let paired = transfer(&repository, &from, &to, 2, 3).await.unwrap();
    assert_eq!(paired.first.amounts, [-5, -2]);
    assert_eq!(paired.second.amounts, [5, 7, 2]);
    // Behind on the first: the refusal is confirmed on the store's state,
    // and neither stream is written.
    other
        .append(&from, ExpectedVersion::Exact(2), vec![deposited(1)])
        .await
        .unwrap();
    match transfer(&repository, &from, &to, 9, 3).await {
        Err(ExecuteError::Domain(Full(3))) => {}
        other => panic!("expected a full ledger at 3, got {other:?}"),
    }
    assert_eq!(other.read_stream(&from, 0).await.unwrap().len(), 3);
    assert_eq!(other.read_stream(&to, 0).await.unwrap().len(), 3);
    // One stream twice is refused before anything is locked or written.
    match transfer(&repository, &from, &from, 1, 9).await {
        Err(ExecuteError::Append(_)) => {}
        other => panic!("expected one stream twice refused, got {other:?}"),
    }
}

#[tokio::test]
async fn a_followed_read_is_answered_from_memory_only_while_nothing_newer_is_committed() {
    let db = TestSchema::create("cached_followed").await;
    let other = store(&db.pool);
    let followed_store = store(&db.pool);
    let max_lag = Duration::from_secs(2);
    let follower = CommitFollower::start(
        &followed_store,
        FollowConfig {
            max_lag,
            ..FollowConfig::default()
        },
    );
    let repository = CachedRepository::<Ledger>::new(followed_store, 1 << 20).followed(follower);
    let stream = StreamId::new("ledger-followed").unwrap();
    deposit(&repository, &stream, 1, 9).await.unwrap();
    assert_eq!(
        repository.read_followed(&stream).await.unwrap().amounts,
        [1]
    );

    // Another process' append reaches the follower, and the next read.
    other
        .append(&stream, ExpectedVersion::Exact(1), vec![deposited(2)])
        .await
        .unwrap();
    eventually("the other writer's deposit in a followed read", || async {
        repository.read_followed(&stream).await.unwrap().amounts == [1, 2]
    })
    .await;
    // This process' own append is in the next read at once.
    deposit(&repository, &stream, 3, 9).await.unwrap();
    assert_eq!(
        repository.read_followed(&stream).await.unwrap().amounts,
        [1, 2, 3]
    );

    // With the database gone, the followed read needs no round trip while
    // the follower's last visit to the head is recent; a plain read does.
    db.pool.close().await;
    assert_eq!(
        repository.read_followed(&stream).await.unwrap().amounts,
        [1, 2, 3],
        "answered from memory"
    );
    assert!(repository.read(&stream).await.is_err(), "a plain read asks");
    // A follower that cannot reach the head vouches for nothing after its
    // lag: the read asks the store, which is gone.
    tokio::time::sleep(max_lag * 2).await;
    assert!(
        repository.read_followed(&stream).await.is_err(),
        "a stale follower still vouched for the kept state"
    );
}
