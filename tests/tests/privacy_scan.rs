//! Art. 7(2), 8 across the whole system: distinctive values planted through
//! the public APIs of all four services — a device id, an IPv4 and an IPv6
//! address and a user agent through scheduling's join and leave and the
//! audit-log's RecordUsage; a name, a birth date, an e-mail address and a
//! phone number through registration — are then looked for in every table
//! of every schema of every service's database, every message of every
//! JetStream stream, every log line (at debug level), every metric and every
//! exported span, in clear in any case, as hex and as base64. None may be
//! found: the owners hold them only sealed. Then the person is erased and
//! the same scan runs again, the person reads as erased, and their usage
//! still counts in the access log, identifying no one.
//!
//! The services run as their own binaries (`cargo test --workspace` builds
//! them).

// Shared with the traces test, which uses more of it.
#[allow(dead_code)]
#[path = "traces/collector.rs"]
mod collector;
mod common;
#[path = "privacy_scan/scan.rs"]
mod scan;

use std::time::Duration;

use chrono::Utc;
use collector::Collector;
use common::{Stack, eventually, request_id, timestamp};
use hellowork_auth::Role;
use hellowork_proto::{
    auditlog::v1 as audit, registration::v1 as registration, scheduling::v1 as scheduling,
};
use hellowork_testing::nats_url;
use scan::{Coverage, Hit, Planted};

const FAMILY: &str = "鷲尾";
const GIVEN: &str = "瑠璃子";
const FAMILY_READING: &str = "ワシオ";
const GIVEN_READING: &str = "ルリコ";
const EMAIL: &str = "ruriko.washio4711@example.jp";
const PHONE: &str = "087-811-4711";
const DEVICE_ID: &str = "device-ZQ94711-washio";
const IPV4: &str = "203.0.113.147";
const IPV6: &str = "2001:db8:9471::147";
const AGENT: &str = "WashioBrowser/94.711 (privacy scan)";
const FRONT_DEVICE_ID: &str = "front-ZQ94712-kiosk";
const FRONT_IPV4: &str = "198.51.100.147";

fn planted() -> Vec<Planted> {
    vec![
        Planted::new("family name", FAMILY),
        Planted::new("given name", GIVEN),
        Planted::new("family name reading", FAMILY_READING),
        Planted::new("given name reading", GIVEN_READING),
        Planted::new("birth date", "1987-03-14"),
        Planted::new("birth date", "19870314"),
        Planted::new("birth date", "1987/03/14"),
        Planted::new("email", EMAIL),
        Planted::new("phone", PHONE),
        Planted::new("phone", PHONE.replace('-', "")),
        Planted::new("device id", DEVICE_ID),
        Planted::new("IPv4", IPV4),
        Planted::new("IPv6", IPV6),
        Planted::new("user agent", AGENT),
        Planted::new("device id", FRONT_DEVICE_ID),
        Planted::new("IPv4", FRONT_IPV4),
    ]
}

fn device(ip: &str) -> scheduling::DeviceIdentifiers {
    scheduling::DeviceIdentifiers {
        device_id: DEVICE_ID.into(),
        ip_address: ip.into(),
        user_agent: AGENT.into(),
        os_name: "Windows".into(),
        os_version: "11".into(),
    }
}

async fn register(stack: &Stack) -> String {
    stack
        .registrations
        .clone()
        .register_job_seeker(stack.registration_env.request(
            registration::RegisterJobSeekerRequest {
                request_id: request_id(),
                channel: registration::RegistrationChannel::Online.into(),
                name: Some(registration::PersonName {
                    family_name: FAMILY.into(),
                    given_name: GIVEN.into(),
                    family_name_reading: FAMILY_READING.into(),
                    given_name_reading: GIVEN_READING.into(),
                }),
                date_of_birth: Some(registration::Date {
                    year: 1987,
                    month: 3,
                    day: 14,
                }),
                contact: Some(registration::Contact {
                    email: EMAIL.into(),
                    phone_number: PHONE.into(),
                }),
                provisional: false,
            },
            "front-system",
            Role::JobSeeker,
        ))
        .await
        .expect("registered")
        .into_inner()
        .job_seeker
        .unwrap()
        .job_seeker_id
}

async fn front_page_view(audit: &common::AuditLog, seeker: &str, booking: &str) {
    let record = audit::UsageRecord {
        record_id: uuid::Uuid::new_v4().to_string(),
        job_seeker_id: seeker.to_owned(),
        occurred_at: Some(timestamp(Utc::now())),
        usage_window: None,
        access_kind: audit::AccessKind::PageView.into(),
        action: "/bookings/{booking_id}".into(),
        method: "GET".into(),
        outcome: audit::AccessOutcome::Success.into(),
        offering: scheduling::Offering::Counselling.into(),
        booking_id: booking.to_owned(),
        device: Some(audit::DeviceIdentifiers {
            device_id: FRONT_DEVICE_ID.into(),
            ip_address: FRONT_IPV4.into(),
            user_agent: AGENT.into(),
            os_name: "Windows".into(),
            os_version: "11".into(),
        }),
        source: "web".into(),
        sealed_device: None,
    };
    audit
        .client
        .clone()
        .record_usage(audit.request(
            audit::RecordUsageRequest {
                record: Some(record),
            },
            "system:front",
            Role::System,
        ))
        .await
        .expect("usage recorded");
}

/// The access log's entries of `kind`, as an operator sees it (it shows no
/// booking or person; the test's one person is all there is).
async fn entries(audit: &common::AuditLog, kind: audit::EntryKind) -> Vec<audit::AccessLogEntry> {
    let now = Utc::now();
    audit
        .client
        .clone()
        .list_access_log(audit.request(
            audit::ListAccessLogRequest {
                time_range: Some(audit::TimeRange {
                    start_time: Some(timestamp(now - chrono::Duration::days(1))),
                    end_time: Some(timestamp(now + chrono::Duration::days(1))),
                }),
                page_size: 1000,
                ..Default::default()
            },
            "operator-1",
            Role::Operator,
        ))
        .await
        .expect("the access log")
        .into_inner()
        .entries
        .into_iter()
        .filter(|e| e.kind == kind as i32)
        .collect()
}

async fn metrics(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("metrics");
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).await.unwrap();
    page
}

/// Everything every service holds, sends, logs, counts and traces.
async fn everywhere(
    stack: &Stack,
    collector: &Collector,
    planted: &[Planted],
) -> (Vec<Hit>, Coverage) {
    let audit = stack.audit_log();
    let jetstream = async_nats::jetstream::new(async_nats::connect(nats_url()).await.unwrap());
    let mut coverage = Coverage::default();
    let mut hits = Vec::new();
    let envs = [
        &stack.registration_env,
        &stack.consent_env,
        &stack.scheduling_env,
        &audit.env,
    ];
    for env in envs {
        hits.extend(scan::database(&env.database.url, planted, &mut coverage).await);
        hits.extend(scan::stream(&jetstream, &env.stream_name, planted, &mut coverage).await);
    }
    let processes = [
        ("registration", &stack.registration),
        ("consent", &stack.consent),
        ("scheduling", &stack.scheduling),
        ("auditlog", &audit.process),
    ];
    for (name, process) in processes {
        hits.extend(scan::text(
            &format!("{name} log"),
            &process.log(),
            planted,
            &mut coverage,
        ));
        let page = metrics(process.metrics_addr).await;
        hits.extend(scan::text(
            &format!("{name} metrics"),
            &page,
            planted,
            &mut coverage,
        ));
    }
    for span in collector.spans() {
        hits.extend(scan::text(
            &format!("span {}", span.span.name),
            &span.texts().join("\n"),
            planted,
            &mut coverage,
        ));
    }
    (hits, coverage)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_personal_values_are_nowhere_in_clear_before_or_after_erasure() {
    let collector = Collector::start().await;
    let extra = [
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(),
            collector.endpoint(),
        ),
        ("OTEL_BSP_SCHEDULE_DELAY".to_owned(), "200".to_owned()),
        ("HELLOWORK_LOG".to_owned(), "debug".to_owned()),
    ];
    let mut stack = Stack::start_with(&extra).await;
    let planted = planted();

    // Planted through the public APIs only.
    let in_force = stack.publish_terms().await;
    let seeker = register(&stack).await;
    stack.attest_and_apply(&seeker, &in_force).await;
    let booking = stack.book_with_an_interpreter(&seeker).await;
    stack.prepare(&seeker, &booking).await;
    stack.join_and_leave(&seeker, &booking, &device(IPV4)).await;
    // A second session's leave from another network, over IPv6: the
    // booking is completed, so only the leave's identifiers are new.
    let mut schedule = stack.schedule.clone();
    schedule
        .leave_session(stack.scheduling_env.request(
            scheduling::LeaveSessionRequest {
                booking_id: booking.clone(),
                device: Some(device(IPV6)),
                sealed_device: None,
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("leaving again is idempotent");
    front_page_view(stack.audit_log(), &seeker, &booking).await;
    let usage = eventually(
        "the join, leave and page view in the access log",
        || async {
            let usage = entries(stack.audit_log(), audit::EntryKind::Usage).await;
            (usage.len() >= 3).then_some(usage)
        },
    )
    .await;
    // Spans leave in batches every 200 ms.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let (hits, coverage) = everywhere(&stack, &collector, &planted).await;
    let forms: usize = planted.iter().map(Planted::form_count).sum();
    eprintln!(
        "privacy scan before erasure: {} values in {forms} forms; {} columns, {} cells, \
         {} stream messages, {} texts (logs, metrics pages, spans); {} hits",
        planted.len(),
        coverage.columns,
        coverage.cells,
        coverage.messages,
        coverage.texts,
        hits.len()
    );
    assert!(coverage.columns > 20 && coverage.messages > 10 && coverage.texts > 8);
    assert!(hits.is_empty(), "found in clear: {hits:#?}");
    // Controls: the booking id is no personal value and is kept in clear,
    // and the RPC name is in every metrics page and span of the join, so the
    // same scan must find them in tables, on streams, in metrics and spans.
    let control = [
        Planted::new("booking id", booking.clone()),
        Planted::new("method", "JoinSession"),
    ];
    let (found, _) = everywhere(&stack, &collector, &control).await;
    for place in ["scheduling.", "auditlog.", "stream ", " metrics", "span "] {
        assert!(
            found.iter().any(|hit| hit.place.contains(place)),
            "the control was not found in a {place:?} place: {found:#?}"
        );
    }

    // Erased by a supervisor, under the APPI.
    let erased = stack
        .registrations
        .clone()
        .erase_job_seeker(stack.registration_env.request(
            registration::EraseJobSeekerRequest {
                job_seeker_id: seeker.clone(),
                reason: registration::ErasureReason::AppiRequest.into(),
                reference: "APPI-2026-0042".into(),
            },
            "supervisor-1",
            Role::Supervisor,
        ))
        .await
        .expect("erased")
        .into_inner();
    let person = erased.job_seeker.expect("the person, erased");
    assert!(person.erased && person.name.is_none() && person.contact.is_none());
    let read = stack
        .registrations
        .clone()
        .get_job_seeker(stack.registration_env.request(
            registration::GetJobSeekerRequest {
                job_seeker_id: seeker.clone(),
            },
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .expect("the erased person")
        .into_inner()
        .job_seeker
        .unwrap();
    assert!(read.erased && read.date_of_birth.is_none());
    // The audit-log hears the erasure; the usage still counts, anonymized.
    let erasures = eventually("the erasure on the access log", || async {
        let erasures = entries(stack.audit_log(), audit::EntryKind::SubjectErased).await;
        (!erasures.is_empty()).then_some(erasures)
    })
    .await;
    assert_eq!(erasures.len(), 1);
    assert_eq!(
        entries(stack.audit_log(), audit::EntryKind::Usage)
            .await
            .len(),
        usage.len(),
        "the erased person's usage still counts"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;

    let (hits, coverage) = everywhere(&stack, &collector, &planted).await;
    eprintln!(
        "privacy scan after erasure: {} columns, {} cells, {} stream messages, {} texts; {} hits",
        coverage.columns,
        coverage.cells,
        coverage.messages,
        coverage.texts,
        hits.len()
    );
    assert!(hits.is_empty(), "found in clear after erasure: {hits:#?}");
    stack.terminate().await;
}
