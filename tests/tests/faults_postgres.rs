//! Fault injection: PostgreSQL stopped and restarted under load.
//!
//! The four services run as their own binaries against a private PostgreSQL
//! (`initdb` + `postgres` on a free port, each service in a database of its
//! own) and the shared NATS (each on streams of its own), with a 1 s pool
//! acquire timeout. A load of commands runs with 16 in flight; after 500
//! acknowledgements the test stops PostgreSQL (fast shutdown: connections
//! cut), keeps sending for a few seconds, and starts it again on the same
//! port and data. It checks that:
//!
//! - during the outage every call fails cleanly with UNAVAILABLE, well
//!   within its deadline (none hangs, none is INTERNAL), and health reports
//!   NOT_SERVING;
//! - after the restart health is SERVING again and commands succeed, with
//!   the same processes (no service restarted);
//! - every command that failed, sent again with the same ids as a client
//!   retries, is acknowledged once — an ambiguous commit (cut mid-flight)
//!   is not stored twice;
//! - finally every acknowledged command's events are in its store and in
//!   every projection that consumes them exactly once.
//!
//! The services run as their own binaries, which `cargo test --workspace`
//! builds; `cargo test -p hellowork-tests` alone builds only their libraries
//! (build the binaries first with `cargo build --bins -p hellowork-<service>`).

mod faults_infra;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use faults_infra::{
    Audit, FaultStack, Ledger, Outcome, Progress, already_done, assert_exactly_once, codes, drive,
    latencies, losses, retry_until_acked,
};
use hellowork_testing::{PostgresServer, nats_url};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

const ACKS: usize = 1_500;
const IN_FLIGHT: usize = 16;
const STOP_AFTER: usize = 500;
const OUTAGE: Duration = Duration::from_secs(3);
const ACQUIRE_TIMEOUT: &str = "1s";
const CALL_DEADLINE: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_mid_load_calls_fail_unavailable_services_recover_nothing_acknowledged_lost()
 {
    let began = Instant::now();
    // Declared first, so it is dropped (stopped, its data removed) last,
    // after the services and their databases.
    let mut postgres = tokio::task::block_in_place(PostgresServer::start);
    let mut stack = FaultStack::start(
        &postgres.url(),
        &nats_url(),
        &[
            ("HELLOWORK_DATABASE_ACQUIRE_TIMEOUT", ACQUIRE_TIMEOUT),
            ("HELLOWORK_DATABASE_MAX_CONNECTIONS", "8"),
            ("HELLOWORK_PEER_TIMEOUT", "1s"),
            ("HELLOWORK_LOG", "warn"),
        ],
    )
    .await;
    // Well beyond the acquire timeout: a call that fails must fail by
    // itself, not by the caller giving up.
    stack.callers.set_deadline(CALL_DEADLINE);
    stack.callers.publish_terms().await;
    let audit = Audit::connect(&stack, &nats_url()).await;
    let started = began.elapsed();

    let progress = Arc::new(Progress::default());
    let epoch = Instant::now();
    let load = tokio::spawn(drive(
        stack.callers.clone(),
        ACKS,
        IN_FLIGHT,
        // A client backs off a little after a failure.
        Duration::from_millis(100),
        Arc::clone(&progress),
        epoch,
    ));
    let deadline = Instant::now() + Duration::from_secs(120);
    while progress.acked() < STOP_AFTER {
        assert!(
            Instant::now() < deadline && !load.is_finished(),
            "only {} commands acknowledged ({} failed)\n{}",
            progress.acked(),
            progress.failed(),
            stack.log_tails()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Fast shutdown: every connection is cut, as in an outage.
    let stopping_at = epoch.elapsed();
    tokio::task::block_in_place(|| postgres.stop());
    let stopped_at = epoch.elapsed();
    let acked_at_stop = progress.acked();
    let noticed = stack
        .wait_for_health(ServingStatus::NotServing, Duration::from_secs(10))
        .await;
    tokio::time::sleep(OUTAGE.saturating_sub(epoch.elapsed() - stopped_at)).await;
    let restarting_at = epoch.elapsed();
    let acked_during_outage = progress.acked() - acked_at_stop;
    tokio::task::block_in_place(|| postgres.restart());
    let restarted_at = epoch.elapsed();
    // The same processes recover on their own.
    let recovery = stack
        .wait_for_health(ServingStatus::Serving, Duration::from_secs(30))
        .await;
    let serving_at = epoch.elapsed();

    let outcomes = load.await.expect("the load finished");
    let load_took = epoch.elapsed();

    // Calls sent and answered while PostgreSQL was down: each UNAVAILABLE,
    // within its deadline.
    let during: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.sent >= stopped_at && o.answered <= restarting_at)
        .collect();
    let unclean: Vec<&&Outcome> = during
        .iter()
        .filter(|o| !matches!(&o.result, Err(f) if f.code == Code::Unavailable))
        .collect();
    // No call hangs: every failure (the ones cut at the stop or the restart
    // included) comes well within the deadline.
    let slowest_failure = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(|f| f.took))
        .max()
        .unwrap_or_default();
    // Across the whole run, a failure is UNAVAILABLE and nothing else (a
    // call cut at the moment of the stop or the restart included).
    let other_failures: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| matches!(&o.result, Err(f) if f.code != Code::Unavailable))
        .collect();
    // Once health says SERVING again, commands succeed.
    let after: Vec<&Outcome> = outcomes.iter().filter(|o| o.sent >= serving_at).collect();
    let failed_after: Vec<&&Outcome> = after.iter().filter(|o| o.result.is_err()).collect();
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| o.result.is_err())
        .map(|o| o.command.clone())
        .collect();
    eprintln!(
        "faults_postgres: stack up in {started:.1?} (private PostgreSQL); PostgreSQL stopped at \
         {stopping_at:.1?}-{stopped_at:.1?} after {acked_at_stop} acks (NOT_SERVING noticed in \
         {noticed:.1?}), restarted at {restarting_at:.1?}-{restarted_at:.1?}, SERVING again \
         {recovery:.1?} after; {} calls during the outage: {:?}, slowest failure {slowest_failure:.2?} \
         (acquire timeout {ACQUIRE_TIMEOUT}, deadline {CALL_DEADLINE:?}), {acked_during_outage} \
         acknowledged; whole load {:?} in {load_took:.1?}; {} calls after recovery, {} failed",
        during.len(),
        codes(during.iter().copied()),
        codes(&outcomes),
        after.len(),
        failed_after.len(),
    );
    eprintln!("faults_postgres: latencies: {}", latencies(&outcomes));
    assert!(!during.is_empty(), "calls were made during the outage");
    assert!(
        unclean.is_empty(),
        "calls during the outage that were not UNAVAILABLE: {unclean:#?}\n{}",
        stack.log_tails()
    );
    assert!(
        other_failures.is_empty(),
        "failures other than UNAVAILABLE: {other_failures:#?}\n{}",
        stack.log_tails()
    );
    assert!(
        slowest_failure < CALL_DEADLINE,
        "a call took {slowest_failure:?} to fail"
    );
    assert!(!after.is_empty(), "commands were sent after the recovery");
    assert!(
        failed_after.is_empty(),
        "commands failed after health was SERVING again: {failed_after:#?}\n{}",
        stack.log_tails()
    );

    // A client sends each failed command again; each is acknowledged once,
    // and one whose commit was cut mid-flight is not stored twice.
    let retried = retry_until_acked(
        &stack.callers,
        failed,
        IN_FLIGHT,
        Duration::from_secs(30),
        epoch,
    )
    .await;
    let already = retried.iter().filter(|o| already_done(o)).count();
    assert!(
        !outcomes.iter().any(already_done),
        "a fresh command was already done"
    );
    let ledger = Ledger::of(outcomes.iter().chain(&retried));
    assert_eq!(ledger.commands(), ACKS + retried.len());
    let caught_up = audit.wait_caught_up(&stack, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    eprintln!(
        "faults_postgres: pipeline metrics: {:?}",
        faults_infra::pipeline_metrics(&stack).await
    );
    let tallies = audit.tally(&ledger).await;
    eprintln!(
        "faults_postgres: {} failed commands sent again and acknowledged ({already} of them \
         answered as already done: committed although their first answer was UNAVAILABLE); \
         projections caught up {caught_up:.1?} after",
        retried.len()
    );
    assert_exactly_once(&tallies);
    let (lost, duplicated) = losses(&tallies);
    let stores = audit.store_counts().await;
    let (intact, checked) = stack.callers.verify_log().await;
    eprintln!(
        "faults_postgres: {} commands acknowledged ({:?}), {ACKS} in the load and {} on retry; \
         stores {stores:?}; access log chain intact: {intact} ({checked} entries); {lost} lost, \
         {duplicated} duplicated; {:.1?} in all",
        ledger.commands(),
        ledger.by_kind,
        retried.len(),
        began.elapsed()
    );
    assert_eq!((lost, duplicated), (0, 0));
    assert!(intact, "the access log's hash chain verifies");

    stack.terminate().await;
}
