//! Fault injection: NATS killed (SIGKILL) and restarted while 10 000
//! commands flow through the four services.
//!
//! The services run as their own binaries against the shared PostgreSQL
//! (each in a database of its own) and a private `nats-server`, with 32
//! commands in flight (registrations, consents, published slots and usage
//! records in turn; see `faults_infra`). The test kills NATS (SIGKILL) after
//! 3 000 acknowledgements and restarts it 4 s later on the same port and
//! store. Commands need only PostgreSQL, so they keep being acknowledged
//! during the outage while their events wait in the outboxes; once NATS is
//! back the relays publish them and the durable consumers resume. When everything has caught up, every acknowledged
//! command's events must be in its store and in every projection that
//! consumes them exactly once — no more, no fewer — and the counts are
//! printed (`cargo test --test faults_nats -- --nocapture`).
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
    Audit, FaultStack, Ledger, Progress, Svc, assert_exactly_once, codes, drive, latencies, losses,
};
use hellowork_proto::auditlog::v1::EntryKind;
use hellowork_testing::{NatsServer, database_url};
use tonic_health::pb::health_check_response::ServingStatus;

/// How many acknowledged commands; `HELLOWORK_FAULTS_COMMANDS` overrides
/// (for a quicker run by hand).
const COMMANDS: usize = 10_000;
const IN_FLIGHT: usize = 32;
const OUTAGE: Duration = Duration::from_secs(4);

fn commands() -> usize {
    std::env::var("HELLOWORK_FAULTS_COMMANDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(COMMANDS)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_killed_and_restarted_mid_load_every_acknowledged_event_reaches_every_projection_once()
{
    // Four services of 3 + 3 connections each, their databases, the audit
    // reader and the template's set-up: more than one test's share of the
    // shared server, so this test runs with no other beside it.
    hellowork_testing::budget::exclusive();
    let began = Instant::now();
    let commands = commands();
    // NATS dies after 30 % of the load.
    let kill_after = commands * 3 / 10;
    // Declared first, so it is dropped (killed, its store removed) last,
    // after the services and their streams.
    let mut nats = NatsServer::start();
    let mut stack = FaultStack::start(
        &database_url(),
        &nats.url(),
        &[
            // The shared server is shared: the harness's small pool per
            // service (its connection budget), and patience with it on a
            // busy machine (PostgreSQL is not what fails here).
            ("HELLOWORK_DATABASE_ACQUIRE_TIMEOUT", "10s"),
            ("HELLOWORK_REQUEST_TIMEOUT", "30s"),
            ("HELLOWORK_LOG", "warn"),
        ],
    )
    .await;
    // Nothing may fail here, however busy the machine: a generous deadline.
    stack.callers.set_deadline(Duration::from_secs(30));
    stack.callers.publish_terms().await;
    let audit = Audit::connect(&stack, &nats.url()).await;
    let started = began.elapsed();

    // The load: `commands` acknowledged commands, 32 in flight.
    let progress = Arc::new(Progress::default());
    let epoch = Instant::now();
    let load = tokio::spawn(drive(
        stack.callers.clone(),
        commands,
        IN_FLIGHT,
        Duration::from_millis(100),
        Arc::clone(&progress),
        epoch,
    ));
    let deadline = Instant::now() + Duration::from_secs(180);
    while progress.acked() < kill_after {
        assert!(
            Instant::now() < deadline && !load.is_finished(),
            "only {} commands acknowledged ({} failed)\n{}",
            progress.acked(),
            progress.failed(),
            stack.log_tails()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // SIGKILL: no goodbye to the clients.
    nats.stop();
    let killed_at = epoch.elapsed();
    let acked_at_kill = progress.acked();
    // Readiness follows the broker: every service reports NOT_SERVING.
    let noticed = stack
        .wait_for_health(ServingStatus::NotServing, Duration::from_secs(10))
        .await;
    tokio::time::sleep(OUTAGE.saturating_sub(epoch.elapsed() - killed_at)).await;
    let acked_during_outage = progress.acked() - acked_at_kill;
    let outboxes_during_outage = audit.outbox_counts().await;
    tokio::task::block_in_place(|| nats.restart());
    let restarted_at = epoch.elapsed();

    let outcomes = load.await.expect("the load finished");
    let load_took = epoch.elapsed();
    let recovered = stack
        .wait_for_health(ServingStatus::Serving, Duration::from_secs(20))
        .await;
    let caught_up = audit.wait_caught_up(&stack, Duration::from_secs(180)).await;
    // Let any late redelivery land before counting.
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Every command was acknowledged, during the outage too.
    let failures: Vec<_> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    assert!(
        failures.is_empty(),
        "commands failed although PostgreSQL was up: {:?}\n{failures:#?}",
        codes(&outcomes)
    );
    assert!(
        acked_during_outage > 0,
        "the load went on while NATS was down"
    );
    assert!(
        outboxes_during_outage.values().any(|n| *n > 0),
        "events waited in the outboxes while NATS was down: {outboxes_during_outage:?}"
    );
    assert!(
        !outcomes.iter().any(faults_infra::already_done),
        "every command was new"
    );
    let ledger = Ledger::of(&outcomes);
    assert_eq!(ledger.commands(), commands);

    eprintln!(
        "faults_nats: stack up in {started:.1?}; NATS killed at {killed_at:.1?} after {acked_at_kill} \
         acks (NOT_SERVING noticed in {noticed:.1?}), restarted at {restarted_at:.1?}; \
         {acked_during_outage} commands acknowledged while it was down; outboxes at restart \
         {outboxes_during_outage:?}; load done in {load_took:.1?}; health SERVING again {recovered:.1?} \
         after the load; projections caught up {caught_up:.1?} later"
    );
    eprintln!("faults_nats: latencies: {}", latencies(&outcomes));
    eprintln!(
        "faults_nats: pipeline metrics: {:?}",
        faults_infra::pipeline_metrics(&stack).await
    );
    let tallies = audit.tally(&ledger).await;
    assert_exactly_once(&tallies);
    let (lost, duplicated) = losses(&tallies);
    let stores = audit.store_counts().await;
    let streams = Audit::stream_counts(&stack, &nats.url()).await;
    let access_log = stack
        .callers
        .list_access_log()
        .await
        .expect("ListAccessLog answers");
    let (intact, checked) = stack.callers.verify_log().await;
    let peer_events: usize = [Svc::Registration, Svc::Consent, Svc::Scheduling]
        .iter()
        .map(|s| stores[s])
        .sum();
    eprintln!(
        "faults_nats: {} commands acknowledged ({:?}); {} events in the peers' stores \
         ({stores:?}), JetStream holds {streams:?}; {} in audit-log's access log ({} listed \
         through ListAccessLog, chain intact: {intact}, {checked} checked); {lost} lost, \
         {duplicated} duplicated; {:.1?} in all",
        ledger.commands(),
        ledger.by_kind,
        peer_events,
        stores[&Svc::AuditLog],
        access_log.len(),
        began.elapsed()
    );
    assert_eq!((lost, duplicated), (0, 0));
    // Through the API as an operator sees it: one entry per audit-log event,
    // the chain's sequence without gap or repeat, one DOMAIN_EVENT per
    // registration, consent and slot, one USAGE per record.
    assert_eq!(
        access_log.len(),
        stores[&Svc::AuditLog],
        "ListAccessLog shows every entry"
    );
    let sequences: Vec<u64> = access_log.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(sequences, (1..=access_log.len() as u64).collect::<Vec<_>>());
    let listed = |kind: EntryKind, action: &str| {
        access_log
            .iter()
            .filter(|(_, k, a)| *k == kind as i32 && (action.is_empty() || a == action))
            .count()
    };
    assert_eq!(
        listed(EntryKind::DomainEvent, "JobSeekerRegistered"),
        ledger.job_seekers.len()
    );
    assert_eq!(
        listed(EntryKind::DomainEvent, "ConsentRecorded"),
        ledger.receipts.len()
    );
    assert_eq!(
        listed(EntryKind::DomainEvent, "SlotPublished"),
        ledger.slots.len()
    );
    assert_eq!(listed(EntryKind::Usage, ""), ledger.records.len());
    assert!(intact, "the access log's hash chain verifies");
    assert_eq!(checked, stores[&Svc::AuditLog] as u64);
    for (svc, events) in &stores {
        // JetStream de-duplicates re-publishes by event id (Nats-Msg-Id), so
        // each stream holds each event once.
        assert_eq!(
            streams[svc], *events as u64,
            "{svc}: JetStream messages = stored events"
        );
    }

    stack.terminate().await;
}
