//! The Art. 7 access log end to end: registration, consent, scheduling and
//! audit-log as separate processes against the real PostgreSQL and NATS,
//! the audit log following the other three's JetStream streams as in
//! production. A person registers, applies, books, joins from a device and
//! leaves through the public gRPC APIs; a front system reports a page view
//! with `RecordUsage`. The test then reads the log only through the
//! audit-log's own API, as an operator and an auditor would.
//!
//! Ingest is asynchronous (durable consumers feed the service's store, the
//! access log is a projection of it), so every check polls with a deadline;
//! the only fixed waits are short settles before a "nothing more arrived"
//! count.
//!
//! The services run as their own binaries, which `cargo test --workspace`
//! builds; `cargo test -p hellowork-tests` alone builds only their libraries
//! (build the binaries first with `cargo build --bins -p hellowork-<service>`).

mod common;

use std::time::Duration;

use chrono::Utc;
use common::{Journey, Stack, channel, eventually, request_id};
use hellowork_auth::Role;
use hellowork_proto::{
    auditlog::v1::{
        self as proto, AccessKind, EntryKind, audit_log_service_client::AuditLogServiceClient,
    },
    scheduling::v1 as scheduling,
};
use hellowork_testing::{ServiceEnv, ServiceProcess, nats_url};
use tonic::transport::Channel;

/// How long nothing more may arrive before a count is taken as final.
const SETTLE: Duration = Duration::from_millis(750);

// The raw identifiers of the person's device (Art. 7(1)); the views must
// never show any of them (Art. 7(2)).
const DEVICE_ID: &str = "front-device-7f3a9c41";
const IP_ADDRESS: &str = "203.0.113.87";
const USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                          (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36";
const OS_VERSION: &str = "10.0.19045";

fn device() -> scheduling::DeviceIdentifiers {
    scheduling::DeviceIdentifiers {
        device_id: DEVICE_ID.into(),
        ip_address: IP_ADDRESS.into(),
        user_agent: USER_AGENT.into(),
        os_name: "Windows".into(),
        os_version: OS_VERSION.into(),
    }
}

/// Fails if any raw identifier of the device appears in `printed`.
fn assert_no_raw_identifier(what: &str, printed: &str) {
    for raw in [DEVICE_ID, IP_ADDRESS, USER_AGENT, "6099.71", OS_VERSION] {
        assert!(!printed.contains(raw), "{what} shows the raw {raw:?}");
    }
}

/// The audit-log service as its own process, hearing the stack's three
/// services on their streams, and a client of it.
struct AuditLog {
    process: ServiceProcess,
    env: ServiceEnv,
    vars: Vec<(String, String)>,
    client: AuditLogServiceClient<Channel>,
}

/// The whole access log as an operator lists it, and the Debug print of
/// every response page.
struct Listing {
    entries: Vec<proto::AccessLogEntry>,
    printed: String,
}

impl Listing {
    fn usage(&self, kind: AccessKind) -> Vec<&proto::AccessLogEntry> {
        self.entries
            .iter()
            .filter(|e| e.kind == EntryKind::Usage as i32 && e.access_kind == kind as i32)
            .collect()
    }

    /// How many entries record a heard domain event of type `event_type`.
    fn domain_events(&self, event_type: &str) -> usize {
        self.entries
            .iter()
            .filter(|e| e.kind == EntryKind::DomainEvent as i32 && e.action == event_type)
            .count()
    }

    /// Entries made of the peers' events: a domain-event entry for each,
    /// except scheduling's joins and leaves, which are usage records.
    fn heard(&self) -> u64 {
        let session = [
            AccessKind::SessionJoin as i32,
            AccessKind::SessionLeave as i32,
        ];
        self.entries
            .iter()
            .filter(|e| {
                e.kind == EntryKind::DomainEvent as i32
                    || (e.kind == EntryKind::Usage as i32 && session.contains(&e.access_kind))
            })
            .count() as u64
    }
}

impl AuditLog {
    /// The stack's audit-log (schema `auditlog` in a database of its own),
    /// following the streams registration, consent and scheduling publish to.
    fn of(stack: &mut Stack) -> Self {
        let common::AuditLog {
            process,
            env,
            vars,
            client,
        } = stack.take_audit_log();
        Self {
            process,
            env,
            vars,
            client,
        }
    }

    async fn spawn(vars: &[(String, String)]) -> (ServiceProcess, AuditLogServiceClient<Channel>) {
        let mut process = ServiceProcess::spawn("hellowork-audit-log", vars);
        process
            .wait_until_serving(hellowork_audit_log::SERVICE_NAME)
            .await;
        let client = AuditLogServiceClient::new(channel(&process).await);
        (process, client)
    }

    /// SIGTERM (a clean exit), then the same binary and configuration again,
    /// until SERVING.
    async fn restart(&mut self) {
        assert!(self.process.terminate().await, "audit-log stopped cleanly");
        (self.process, self.client) = Self::spawn(&self.vars).await;
    }

    /// Every entry of the day before and after now, page by page; `None` if
    /// the service did not answer.
    async fn list(&self) -> Option<Listing> {
        let now = Utc::now();
        let time_range = proto::TimeRange {
            start_time: Some(common::timestamp(now - chrono::Duration::days(1))),
            end_time: Some(common::timestamp(now + chrono::Duration::days(1))),
        };
        let mut listing = Listing {
            entries: Vec::new(),
            printed: String::new(),
        };
        let mut page_token = String::new();
        loop {
            let request = self.env.request(
                proto::ListAccessLogRequest {
                    time_range: Some(time_range),
                    kinds: Vec::new(),
                    page_size: 1000,
                    page_token,
                },
                "operator-1",
                Role::Operator,
            );
            let page = self
                .client
                .clone()
                .list_access_log(request)
                .await
                .ok()?
                .into_inner();
            listing.printed.push_str(&format!("{page:?}"));
            listing.entries.extend(page.entries);
            if page.next_page_token.is_empty() {
                return Some(listing);
            }
            page_token = page.next_page_token;
        }
    }

    async fn statistics(&self) -> proto::GetUsageStatisticsResponse {
        // Whole slots of the configured hour around now (Art. 7(2): ranges
        // on the slot grid only).
        let hour = Utc::now().timestamp().div_euclid(3600) * 3600;
        let at = |seconds: i64| chrono::DateTime::from_timestamp(seconds, 0).expect("an hour");
        let request = proto::GetUsageStatisticsRequest {
            time_range: Some(proto::TimeRange {
                start_time: Some(common::timestamp(at(hour - 2 * 3600))),
                end_time: Some(common::timestamp(at(hour + 3 * 3600))),
            }),
            slot_length: None,
        };
        self.client
            .clone()
            .get_usage_statistics(self.env.request(request, "operator-1", Role::Operator))
            .await
            .expect("statistics")
            .into_inner()
    }

    /// `RecordUsage` as the front system `web` (role `system`).
    async fn record_usage(&self, record: &proto::UsageRecord) -> proto::RecordUsageResponse {
        let request = proto::RecordUsageRequest {
            record: Some(record.clone()),
        };
        self.client
            .clone()
            .record_usage(self.env.request(request, "system:front", Role::System))
            .await
            .expect("usage recorded")
            .into_inner()
    }

    async fn verify(&self) -> proto::VerifyLogResponse {
        self.client
            .clone()
            .verify_log(self.env.request(
                proto::VerifyLogRequest::default(),
                "auditor-1",
                Role::Auditor,
            ))
            .await
            .expect("verified")
            .into_inner()
    }
}

/// Polls the access log until `done` holds of it.
async fn logged(audit: &AuditLog, what: &str, done: impl Fn(&Listing) -> bool) -> Listing {
    let done = &done;
    eventually(&format!("{what} in the log"), || async move {
        let listing = audit.list().await?;
        done(&listing).then_some(listing)
    })
    .await
}

/// How many events registration, consent and scheduling have published on
/// their streams (each relay publishes an event once, with its id as
/// `Nats-Msg-Id`).
async fn published(jetstream: &async_nats::jetstream::Context, stack: &Stack) -> Option<u64> {
    let mut total = 0;
    for env in [
        &stack.registration_env,
        &stack.consent_env,
        &stack.scheduling_env,
    ] {
        let mut stream = jetstream.get_stream(&env.stream_name).await.ok()?;
        total += stream.info().await.ok()?.state.messages;
    }
    Some(total)
}

/// Art. 7(1), exactly once: waits until the log holds an entry for every
/// event the three peers have published, lets redeliveries settle, and
/// checks that it holds exactly one per event, no more.
async fn every_peer_event_logged_once(
    jetstream: &async_nats::jetstream::Context,
    stack: &Stack,
    audit: &AuditLog,
) -> Listing {
    eventually("an entry for every published peer event", || async move {
        let published = published(jetstream, stack).await?;
        (audit.list().await?.heard() >= published).then_some(())
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    let published = published(jetstream, stack).await.expect("stream counts");
    let listing = audit.list().await.expect("the access log");
    assert_eq!(
        listing.heard(),
        published,
        "one entry per peer event: {:#?}",
        listing.entries
    );
    listing
}

/// Art. 7(1): scheduling's `SessionJoined` and `SessionLeft` each became
/// exactly one usage entry of the counselling session; the person's
/// registration, application, deemed consent and booking are logged as the
/// other services' domain events.
fn session_and_domain_events_logged(listing: &Listing) {
    let joins = listing.usage(AccessKind::SessionJoin);
    let leaves = listing.usage(AccessKind::SessionLeave);
    assert_eq!(joins.len(), 1, "one SESSION_JOIN: {joins:#?}");
    assert_eq!(leaves.len(), 1, "one SESSION_LEAVE: {leaves:#?}");
    for entry in [joins[0], leaves[0]] {
        assert_eq!(entry.offering, scheduling::Offering::Counselling as i32);
        assert_eq!(entry.outcome, proto::AccessOutcome::Success as i32);
    }
    for event_type in [
        // Registration's.
        "JobSeekerRegistered",
        "DeviceCapabilityAttested",
        "EnvironmentAttested",
        "OnlineServicesApplied",
        // Consent's.
        "TermsDocumentPublished",
        "MeetingAppTermsPublished",
        "ConsentRecorded",
        // Scheduling's, other than joins and leaves.
        "SessionBooked",
    ] {
        assert_eq!(
            listing.domain_events(event_type),
            1,
            "one DOMAIN_EVENT entry for {event_type}"
        );
    }
    for usage in ["SessionJoined", "SessionLeft"] {
        assert_eq!(listing.domain_events(usage), 0, "{usage} is a usage record");
    }
}

/// Art. 7(2): the device shows only as a keyed pseudonym of the month, the
/// IP's /24 and the browser and OS families; join and leave from the same
/// device carry the same pseudonym.
fn device_shown_only_anonymized(listing: &Listing) {
    let join = listing.usage(AccessKind::SessionJoin)[0]
        .device
        .clone()
        .expect("an anonymized device");
    let leave = listing.usage(AccessKind::SessionLeave)[0]
        .device
        .clone()
        .expect("an anonymized device");
    assert_eq!(join.ip_prefix, "203.0.113.0/24");
    assert_eq!(join.browser_family, "Chrome");
    assert_eq!(join.os_family, "Windows");
    assert_eq!(join.device_class, proto::DeviceClass::Pc as i32);
    assert_eq!(join.device_pseudonym.len(), 32, "128 bits in hex");
    assert!(join.device_pseudonym.chars().all(|c| c.is_ascii_hexdigit()));
    // The same device within one pseudonym period (a calendar month).
    if join.pseudonym_period == leave.pseudonym_period {
        assert_eq!(join, leave);
    }
}

/// A front system's page view of the same person, from the same device.
fn page_view(journey: &Journey) -> proto::UsageRecord {
    proto::UsageRecord {
        record_id: request_id(),
        job_seeker_id: journey.job_seeker_id.clone(),
        occurred_at: Some(common::timestamp(Utc::now())),
        usage_window: None,
        access_kind: AccessKind::PageView as i32,
        action: "/bookings/{booking_id}".into(),
        method: "GET".into(),
        outcome: proto::AccessOutcome::Success as i32,
        offering: scheduling::Offering::Counselling as i32,
        booking_id: journey.booking_id.clone(),
        device: Some(proto::DeviceIdentifiers {
            device_id: DEVICE_ID.into(),
            ip_address: IP_ADDRESS.into(),
            user_agent: USER_AGENT.into(),
            os_name: "Windows".into(),
            os_version: OS_VERSION.into(),
        }),
        source: "web".into(),
        sealed_device: None,
    }
}

/// Art. 7(1): a `RecordUsage` is logged once; sent again with the same
/// record id it answers `duplicate` and the log still holds one entry.
async fn recorded_usage_logged_once(audit: &AuditLog, journey: &Journey) {
    let record = page_view(journey);
    assert!(
        !audit.record_usage(&record).await.duplicate,
        "first sending"
    );
    let listing = logged(audit, "the page view", |listing| {
        !listing.usage(AccessKind::PageView).is_empty()
    })
    .await;
    let sent = listing.usage(AccessKind::PageView)[0].clone();
    assert_eq!(sent.action, "/bookings/{booking_id}");
    let device = sent.device.as_ref().expect("an anonymized device");
    assert_eq!(
        (device.ip_prefix.as_str(), device.browser_family.as_str()),
        ("203.0.113.0/24", "Chrome")
    );
    assert!(audit.record_usage(&record).await.duplicate, "sent again");
    tokio::time::sleep(SETTLE).await;
    let listing = audit.list().await.expect("the access log");
    assert_eq!(listing.usage(AccessKind::PageView), vec![&sent]);
    assert_no_raw_identifier("ListAccessLog", &listing.printed);
}

/// Registration, consent, scheduling and audit-log as processes; a person's
/// journey; the log checked through the audit-log's API, before and after
/// the audit-log restarts.
#[tokio::test]
async fn joins_leaves_and_recorded_usage_are_logged_once_anonymized_and_survive_a_restart() {
    let mut stack = Stack::start().await;
    let mut audit = AuditLog::of(&mut stack);
    let jetstream = async_nats::jetstream::new(async_nats::connect(nats_url()).await.unwrap());

    // 1. register → apply → book → join (with device identifiers) → leave.
    let journey = stack.journey(&device()).await;

    // 2. As an operator, the session's join and leave and the other
    //    services' events: each once, the device only anonymized.
    logged(&audit, "SESSION_JOIN and SESSION_LEAVE", |listing| {
        !listing.usage(AccessKind::SessionJoin).is_empty()
            && !listing.usage(AccessKind::SessionLeave).is_empty()
    })
    .await;
    let listing = every_peer_event_logged_once(&jetstream, &stack, &audit).await;
    session_and_domain_events_logged(&listing);
    device_shown_only_anonymized(&listing);
    assert_no_raw_identifier("ListAccessLog", &listing.printed);
    let statistics = audit.statistics().await;
    assert_no_raw_identifier("GetUsageStatistics", &format!("{statistics:?}"));
    // Art. 7(2): one person is below k, so no cell counts them.
    assert!(statistics.cells.iter().all(|c| c.person_count.is_none()));

    // 3. A front system's RecordUsage, once, then again as a duplicate.
    recorded_usage_logged_once(&audit, &journey).await;

    // 4. Restarted, the service re-ingests nothing: its durable consumers
    //    and the projection resume at their checkpoints, and the event ids
    //    derived from the peers' absorb any redelivery. The chain verifies
    //    intact over every entry.
    let before = audit.list().await.expect("the access log").entries;
    audit.restart().await;
    tokio::time::sleep(SETTLE).await;
    let after = audit.list().await.expect("the access log after restart");
    assert_eq!(after.entries, before, "a restart changes no entry");
    let verdict = audit.verify().await;
    assert!(verdict.intact, "{verdict:?}");
    assert_eq!(verdict.checked_count, before.len() as u64);

    // 5. And it is still ingesting: a second person's registration is
    //    logged once, every peer event still exactly once, and the entries
    //    from before stay as they were (the log is append-only).
    stack.register("taro@example.jp").await;
    logged(&audit, "the second registration", |listing| {
        listing.domain_events("JobSeekerRegistered") >= 2
    })
    .await;
    let listing = every_peer_event_logged_once(&jetstream, &stack, &audit).await;
    assert_eq!(listing.domain_events("JobSeekerRegistered"), 2);
    assert_eq!(listing.entries[..before.len()], before[..]);
    assert!(audit.verify().await.intact);

    assert!(audit.process.terminate().await, "audit-log stopped cleanly");
    stack.terminate().await;
}
