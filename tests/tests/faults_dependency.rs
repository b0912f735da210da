//! A dependency down (issue "Step 7 — Fault injection"): scheduling asks
//! registration and consent whether a person may book (Art. 2) and, when
//! registration cannot answer, refuses the booking and writes nothing; once
//! registration is back, the very same booking request succeeds.
//!
//! Two ways down: SIGKILLed (nothing listens; the call fails at once,
//! UNAVAILABLE), and frozen with SIGSTOP (connections are accepted but never
//! answered). A frozen peer looks to its callers exactly like a slow one, so
//! it is no outage: the booking's own deadline decides, and the caller gets
//! DEADLINE_EXCEEDED when it passes — never UNAVAILABLE, never a hang.
//!
//! The four services run as their own binaries against the shared
//! PostgreSQL and NATS, each behind a forwarder of the test so that the
//! restarted registration is found where scheduling calls it. Build the
//! binaries first (`cargo build --bins -p hellowork-<service>`), as for the
//! other end-to-end tests.

mod common;
mod faults_restarts_support;

use std::time::{Duration, Instant};

use chrono::Utc;
use faults_restarts_support::{
    FaultStack, PEER_TIMEOUT, Retries, ServiceDb, booking_request, never, publish_slot,
    publish_terms, register_and_apply, retry, wait_until_eligible,
};
use hellowork_auth::Role;
use hellowork_proto::scheduling::v1 as scheduling;
use tonic::Code;

/// Scheduling's read models.
const SCHEDULING_TABLES: [&str; 3] = ["slots", "bookings", "refusals"];

/// How much later than the peer deadline a refusal may come (a loaded
/// two-core machine, four services, PostgreSQL and NATS).
const MARGIN: Duration = Duration::from_secs(2);

/// Everything scheduling has written: its events by type, its outbox and
/// every row of its read models.
async fn written(db: &ServiceDb) -> String {
    format!(
        "{:?} outbox={} {:?}",
        db.event_counts().await,
        db.outbox().await,
        db.snapshot(&SCHEDULING_TABLES).await
    )
}

/// Books with `request` once, expecting UNAVAILABLE because registration
/// is not there to answer, within the peer timeout (connecting) and the
/// margin; how long it took.
async fn refused_unavailable(
    stack: &FaultStack,
    request: &scheduling::BookSessionRequest,
    seeker: &str,
) -> Duration {
    let started = Instant::now();
    let answer = stack
        .schedule()
        .book_session(
            stack
                .scheduling
                .request(request.clone(), seeker, Role::JobSeeker),
        )
        .await;
    let took = started.elapsed();
    let status = answer.expect_err("booked while registration is down");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status.message().contains("registration"),
        "the refusal names registration: {status:?}"
    );
    assert!(
        took < PEER_TIMEOUT + MARGIN,
        "refused after {took:?}, beyond the peer timeout {PEER_TIMEOUT:?} + {MARGIN:?}"
    );
    took
}

/// The deadline the booking's caller gives itself while registration is
/// frozen: well beyond the peer timeout (which now only bounds connecting).
const CALLER_DEADLINE: Duration = Duration::from_secs(3);

/// Books with `request` once under [`CALLER_DEADLINE`] while registration
/// accepts calls and never answers: the booking ends when that deadline
/// passes, as DEADLINE_EXCEEDED (scheduling's answer) or as the client's own
/// expired timeout (tonic reports that as CANCELLED "Timeout expired"), and
/// never as UNAVAILABLE; how long it took.
async fn refused_at_deadline(
    stack: &FaultStack,
    request: &scheduling::BookSessionRequest,
    seeker: &str,
) -> Duration {
    let mut call = stack
        .scheduling
        .request(request.clone(), seeker, Role::JobSeeker);
    call.set_timeout(CALLER_DEADLINE);
    let started = Instant::now();
    let answer = stack.schedule().book_session(call).await;
    let took = started.elapsed();
    let status = answer.expect_err("booked while registration is frozen");
    let clients_own_timeout =
        status.code() == Code::Cancelled && status.message() == "Timeout expired";
    assert!(
        status.code() == Code::DeadlineExceeded || clients_own_timeout,
        "a frozen peer runs out the caller's deadline: {status:?}"
    );
    assert!(
        took >= CALLER_DEADLINE.mul_f64(0.9) && took < CALLER_DEADLINE + MARGIN,
        "ended after {took:?}, not at the caller's deadline {CALLER_DEADLINE:?}"
    );
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_down_scheduling_refuses_bookings_unavailable_writes_nothing_then_books() {
    let stack = FaultStack::start().await;
    let retries = Retries::default();

    // A person ready to book: registered, attested, applied, the deemed
    // consent recorded and known to registration; a free slot.
    let terms = publish_terms(&stack, &retries).await;
    let seeker = register_and_apply(&stack, &retries, "dependency@example.jp", &terms).await;
    wait_until_eligible(&stack, &retries, &seeker).await;
    let start = Utc::now() + chrono::Duration::days(2);
    let slot = publish_slot(
        &stack,
        &retries,
        "counsellor-1",
        start,
        chrono::Duration::hours(1),
    )
    .await;
    let request = booking_request(&seeker, &slot);

    let db = ServiceDb::connect(&stack.scheduling).await;
    // The slot's event has been relayed and projected: nothing is in flight.
    faults_restarts_support::poll_until("scheduling settled", Duration::from_secs(30), || {
        let db = db.clone();
        async move {
            let (outbox, events, applied) = (
                db.outbox().await,
                db.event_total().await,
                db.inbox(hellowork_scheduling::projections::SCHEDULE_CONSUMER)
                    .await,
            );
            (outbox == 0 && applied == events)
                .then_some(())
                .ok_or(format!("outbox {outbox}, {applied} of {events} applied"))
        }
    })
    .await;
    let before = written(&db).await;

    // 1. Registration SIGKILLed: refused at once, nothing written.
    stack.registration.kill().await;
    let took_killed = refused_unavailable(&stack, &request, &seeker).await;
    // A second attempt, as a client retrying would, is refused the same way.
    refused_unavailable(&stack, &request, &seeker).await;
    assert_eq!(written(&db).await, before, "nothing written while killed");

    // 2. Registration restarted, then frozen: the call is accepted and
    //    never answered; the booking waits out its caller's deadline.
    stack.registration.restart().await;
    stack.registration.freeze().await;
    let took_frozen = refused_at_deadline(&stack, &request, &seeker).await;
    stack.registration.unfreeze().await;
    assert_eq!(written(&db).await, before, "nothing written while frozen");

    // 3. Registration answering again: the same request books the slot.
    let booked = retry(&retries, "BookSession", never, || {
        let mut client = stack.schedule();
        let request = stack
            .scheduling
            .request(request.clone(), &seeker, Role::JobSeeker);
        async move { client.book_session(request).await }
    })
    .await
    .booking
    .expect("a booking");
    assert_eq!(booked.slot_id, slot.slot_id);
    assert_eq!(booked.state(), scheduling::BookingState::Confirmed);
    let counts = db.event_counts().await;
    assert_eq!(counts.get("SessionBooked"), Some(&1), "{counts:?}");
    let bookings = db.snapshot(&["bookings"]).await;
    assert_eq!(bookings["bookings"].len(), 1, "{bookings:?}");

    eprintln!(
        "faults_dependency: refused after {took_killed:?} (killed) and {took_frozen:?} (frozen, \
         caller's deadline {CALLER_DEADLINE:?}); retries: {:?}",
        retries.faults()
    );
    stack.terminate().await;
}
