//! A peer that is slow is not a peer that is down (issue "First, before
//! Step 8"). Registration answers every booking's eligibility check (Art. 2)
//! from its database on a pool of `budget::SERVICE_POOL` connections; here
//! its refusal read model is locked, so each check holds a connection and
//! waits, and a burst of bookings exhausts the pool:
//!
//! - while the lock lasts less than the pool's acquire timeout, every
//!   booking waits for a connection and is booked: an exhausted pool is no
//!   outage;
//! - when it lasts beyond a booking's deadline, the booking ends at that
//!   deadline with DEADLINE_EXCEEDED, writes nothing, and the same request
//!   books once registration answers again.
//!
//! Neither is UNAVAILABLE: that is kept for a peer that is not there
//! (`grpc.rs`, `registration_or_consent_down_is_unavailable_and_writes_nothing`).
//! Meanwhile each service stays within the connections the test harness
//! declares for it.

mod support;

use std::time::{Duration, Instant};

use futures::future::join_all;
use hellowork_proto::scheduling::v1::Offering;
use hellowork_testing::{budget, database_url};
use sqlx::{Connection, PgConnection};
use support::world::World;
use tonic::Code;

/// Bookings at once: more than registration's pool.
const BURST: u32 = 3 * budget::SERVICE_POOL;

/// How long registration is held up in the first part: well within its
/// pool's acquire timeout (3 s).
const HOLD: Duration = Duration::from_millis(800);

/// Scheduling's request timeout in the second part, which registration is
/// held up beyond.
const DEADLINE: Duration = Duration::from_millis(1500);

/// A transaction on registration's database holding its refusal read model
/// (which every eligibility check reads) exclusively.
struct Lock {
    conn: PgConnection,
}

impl Lock {
    async fn take(url: &str) -> Self {
        let mut conn = PgConnection::connect(url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
        sqlx::query("LOCK TABLE registration.online_services_refusals IN ACCESS EXCLUSIVE MODE")
            .execute(&mut conn)
            .await
            .unwrap();
        Self { conn }
    }

    async fn release(mut self) {
        sqlx::query("ROLLBACK")
            .execute(&mut self.conn)
            .await
            .unwrap();
        self.conn.close().await.unwrap();
    }
}

/// Sessions of one database, and how many of them wait for a lock
/// (the lock's holder is not among them: it waits for nothing).
async fn sessions(monitor: &mut PgConnection, database: &str) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock') \
         FROM pg_stat_activity WHERE datname = $1",
    )
    .bind(database)
    .fetch_one(monitor)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_slow_registration_is_waited_for_within_the_deadline_and_is_never_unavailable() {
    let mut world = World::start("24h").await;
    let mut seekers = Vec::new();
    for n in 0..=BURST {
        seekers.push(world.eligible_person(300 + n).await);
    }
    let late = seekers.pop().expect("one seeker kept for the second part");
    let slot = world
        .publish("counsellor-1", Offering::Seminar, 48, BURST + 1)
        .await;
    let registration_url = world.registration_env.database.url.clone();
    let registration_db = world.registration_env.database.name().to_owned();
    let scheduling_db = world.env.database.name().to_owned();
    let mut monitor = PgConnection::connect(&database_url()).await.unwrap();

    // 1. The burst against a held-up registration: every booking waits.
    let lock = Lock::take(&registration_url).await;
    let client = world.client().await;
    let burst = join_all(seekers.iter().map(|seeker| {
        let mut client = client.clone();
        let request = world.booking_request(&slot, seeker);
        async move { client.book_session(request).await }
    }));
    let watch = async {
        let started = Instant::now();
        let (mut most, mut most_waiting, mut most_scheduling) = (0, 0, 0);
        while started.elapsed() < HOLD {
            let (open, waiting) = sessions(&mut monitor, &registration_db).await;
            let (scheduling, _) = sessions(&mut monitor, &scheduling_db).await;
            // The lock's holder is a session of its own, not registration's.
            most = most.max(open - 1);
            most_waiting = most_waiting.max(waiting);
            most_scheduling = most_scheduling.max(scheduling);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        lock.release().await;
        (most, most_waiting, most_scheduling)
    };
    let (answers, (most, most_waiting, most_scheduling)) = tokio::join!(burst, watch);
    for answer in &answers {
        let booking = answer
            .as_ref()
            .expect("a held-up registration is waited for");
        assert!(booking.get_ref().booking.is_some());
    }
    assert_eq!(
        most_waiting,
        i64::from(budget::SERVICE_POOL),
        "the burst held every connection of registration's pool"
    );
    let declared = i64::from(budget::SERVICE_CONNECTIONS);
    assert!(
        most <= declared && most_scheduling <= declared,
        "registration opened {most} and scheduling {most_scheduling} connections, beyond the \
         {declared} the harness declares for a service"
    );

    // 2. Held up beyond a booking's deadline: DEADLINE_EXCEEDED at that
    //    deadline, nothing written, and the same request books afterwards.
    let registration = world.url_of(world.registration.as_ref());
    let consent = world.url_of(world.consent.as_ref());
    let impatient = world
        .start_scheduling_with(
            "24h",
            &registration,
            &consent,
            &[("HELLOWORK_REQUEST_TIMEOUT", "1500ms")],
        )
        .await;
    let mut client = world.client_at(&impatient).await;
    let before = world.stored_events().await.len();
    let lock = Lock::take(&registration_url).await;
    let started = Instant::now();
    let status = client
        .book_session(world.booking_request(&slot, &late))
        .await
        .expect_err("booked while registration was held up");
    let took = started.elapsed();
    lock.release().await;
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        took >= DEADLINE.mul_f64(0.9) && took < DEADLINE + Duration::from_secs(2),
        "answered after {took:?}, not at the deadline {DEADLINE:?}"
    );
    assert_eq!(world.stored_events().await.len(), before, "nothing written");
    client
        .book_session(world.booking_request(&slot, &late))
        .await
        .expect("booked once registration answers again");
}
