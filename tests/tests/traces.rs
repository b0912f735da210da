//! Step 6, traces: the four services as separate processes export their
//! spans over OTLP/gRPC to a receiver inside this test. One booking is
//! followed as one trace: the client's `traceparent` → scheduling's
//! `BookSession` server span → registration's `CheckEligibility` and
//! consent's `GetConsentStatus` server spans (gRPC metadata) → the
//! `SessionBooked` event's NATS headers → audit-log's consumer span. No span,
//! span event or resource attribute carries any of the personal data the
//! scenario used (Art. 8).
//!
//! The dependencies on the service crates exist so `cargo test` builds their
//! binaries, which the test starts as processes.

#[path = "traces/collector.rs"]
mod collector;

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use chrono::{Datelike, NaiveDate, Utc};
use hellowork_auth::Role;
use hellowork_proto::{
    auditlog::v1::{self as auditlog, audit_log_service_client::AuditLogServiceClient},
    consent::v1::{self as consent, consent_service_client::ConsentServiceClient},
    registration::v1::{
        self as registration, registration_service_client::RegistrationServiceClient,
    },
    scheduling::v1::{self as scheduling, scheduling_service_client::SchedulingServiceClient},
};
use hellowork_testing::{
    ServiceEnv, ServiceProcess, TestDatabase, database_url, eventually, nats_url,
    passing_environment,
};
use hellowork_values::time::timestamp;
use tonic::transport::Channel;

use collector::{Collector, Exported};

const PATIENCE: Duration = Duration::from_secs(30);

/// `service.name` of each service's resource.
const SERVICES: [&str; 4] = ["registration", "consent", "scheduling", "auditlog"];

const BOOK_SESSION: &str = "hellowork.scheduling.v1.SchedulingService/BookSession";
const CHECK_ELIGIBILITY: &str = "hellowork.registration.v1.RegistrationService/CheckEligibility";
const GET_CONSENT_STATUS: &str = "hellowork.consent.v1.ConsentService/GetConsentStatus";

/// The personal data of the scenario, none of which may reach a span.
struct Person {
    family_name: &'static str,
    given_name: &'static str,
    family_name_reading: &'static str,
    given_name_reading: &'static str,
    date_of_birth: NaiveDate,
    email: &'static str,
    phone: &'static str,
    device: scheduling::DeviceIdentifiers,
}

impl Person {
    fn new() -> Self {
        Self {
            family_name: "讃岐",
            given_name: "美咲",
            family_name_reading: "サヌキ",
            given_name_reading: "ミサキ",
            date_of_birth: NaiveDate::from_ymd_opt(1987, 7, 23).unwrap(),
            email: "misaki.sanuki@example.jp",
            phone: "087-811-8609",
            device: scheduling::DeviceIdentifiers {
                device_id: "front-device-7f3c9a".into(),
                ip_address: "203.0.113.77".into(),
                user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                             (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
                    .into(),
                os_name: "Windows".into(),
                os_version: "11".into(),
            },
        }
    }

    /// Every form in which the data could show up in a text.
    fn forms(&self, job_seeker_id: &str, device_attestation_id: &str) -> Vec<String> {
        let dob = self.date_of_birth;
        let mut forms: Vec<String> = [
            self.family_name,
            self.given_name,
            self.family_name_reading,
            self.given_name_reading,
            self.email,
            self.phone,
            job_seeker_id,
            device_attestation_id,
            &self.device.device_id,
            &self.device.ip_address,
            &self.device.user_agent,
        ]
        .iter()
        .map(|value| (*value).to_owned())
        .collect();
        forms.extend([
            format!("{}{}", self.family_name, self.given_name),
            format!("{} {}", self.family_name, self.given_name),
            self.phone.replace('-', ""),
            dob.format("%Y-%m-%d").to_string(),
            dob.format("%Y/%m/%d").to_string(),
            dob.format("%Y%m%d").to_string(),
            format!("year: {}, month: {}", dob.year(), dob.month()),
        ]);
        forms
    }
}

fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn consent_date(day: NaiveDate) -> consent::Date {
    consent::Date {
        year: day.year(),
        month: day.month() as i32,
        day: day.day() as i32,
    }
}

/// A client's W3C context: a fresh sampled trace, and the client's span id.
fn client_traceparent() -> (String, String, String) {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let span_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    let traceparent = format!("00-{trace_id}-{span_id}-01");
    (traceparent, trace_id, span_id)
}

async fn environment(service: &str) -> ServiceEnv {
    let database = TestDatabase::from_template(&database_url(), "empty", "v1", |_| async {}).await;
    ServiceEnv::new(service, database, &nats_url())
}

async fn channel(process: &ServiceProcess) -> Channel {
    Channel::from_shared(process.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// The one span of `service` named `name` in `trace`.
fn span_of<'a>(trace: &'a [Exported], service: &str, name: &str) -> &'a Exported {
    let found: Vec<&Exported> = trace
        .iter()
        .filter(|span| span.service == service && span.span.name == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {name} span of {service} in the trace, got: {:#?}",
        summary(trace)
    );
    found[0]
}

/// Service, name and parent of each span, for failure messages.
fn summary(spans: &[Exported]) -> Vec<String> {
    spans
        .iter()
        .map(|span| {
            format!(
                "{} {} {} <- {}",
                span.service,
                span.span.name,
                span.span_id(),
                span.parent_span_id()
            )
        })
        .collect()
}

/// Whether `trace` holds every hop of the booking: scheduling's server span,
/// registration's and consent's server spans, and audit-log's consumption of
/// `SessionBooked`.
fn is_complete(trace: &[Exported]) -> bool {
    let has = |service: &str, name: &str| {
        trace
            .iter()
            .any(|span| span.service == service && span.span.name == name)
    };
    has("scheduling", BOOK_SESSION)
        && has("registration", CHECK_ELIGIBILITY)
        && has("consent", GET_CONSENT_STATUS)
        && trace.iter().any(|span| {
            span.service == "auditlog"
                && span.attribute("consumer") == Some("auditlog-scheduling")
                && span.attribute("event_type") == Some("SessionBooked")
        })
}

/// The spans of `trace_id` once they include every hop of the booking,
/// polled at most [`PATIENCE`].
async fn booking_trace(collector: &Collector, trace_id: &str) -> Vec<Exported> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let trace: Vec<Exported> = collector
            .spans()
            .into_iter()
            .filter(|span| span.trace_id() == trace_id)
            .collect();
        if is_complete(&trace) {
            return trace;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the booking's trace {trace_id} from all four services; \
             so far: {:#?}",
            summary(&trace)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every place where one of `forms` (compared case-insensitively) occurs in
/// a text of one of `spans`.
fn leaks(spans: &[Exported], forms: &[String]) -> Vec<String> {
    let forms: Vec<String> = forms.iter().map(|form| form.to_lowercase()).collect();
    let mut found = Vec::new();
    for span in spans {
        for text in span.texts() {
            let lower = text.to_lowercase();
            for form in forms.iter().filter(|form| lower.contains(form.as_str())) {
                found.push(format!(
                    "{} span {:?}: {form:?} in {text:?}",
                    span.service, span.span.name
                ));
            }
        }
    }
    found
}

#[test]
fn the_scan_finds_personal_data_wherever_a_span_carries_text() {
    use opentelemetry_proto::tonic::{
        common::v1::{AnyValue, KeyValue, KeyValueList, any_value::Value},
        trace::v1::{Span, span::Event},
    };
    let text = |value: &str| AnyValue {
        value: Some(Value::StringValue(value.to_owned())),
    };
    let pair = |key: &str, value: AnyValue| KeyValue {
        key: key.to_owned(),
        value: Some(value),
        ..KeyValue::default()
    };
    let nested = pair(
        "error",
        AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![pair(
                    "cause",
                    text("no such person: Misaki.Sanuki@example.jp"),
                )],
            })),
        },
    );
    let span = Exported {
        service: "registration".into(),
        resource: vec![pair("host.name", text("203.0.113.77"))],
        span: Span {
            name: "grpc.request".into(),
            events: vec![Event {
                name: "lookup failed".into(),
                attributes: vec![nested],
                ..Event::default()
            }],
            ..Span::default()
        },
    };
    let found = leaks(
        &[span],
        &["misaki.sanuki@example.jp".into(), "203.0.113.77".into()],
    );
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(leaks(&[], &["anything".into()]).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_follows_a_booking_through_all_four_services_without_personal_data() {
    let started = Utc::now();
    let collector = Collector::start().await;
    let otlp = [
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(),
            collector.endpoint(),
        ),
        // Batches leave every 200 ms instead of every 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY".to_owned(), "200".to_owned()),
    ];

    let registration_env = environment("registration").await;
    let consent_env = environment("consent").await;
    let scheduling_env = environment("scheduling").await;
    let audit_env = environment("auditlog").await;

    // Scheduling's `system` token, and registration and consent trusting it.
    let keys = tempfile::tempdir().unwrap();
    let public = keys.path().join("scheduling.pem");
    std::fs::write(&public, scheduling_env.issuer().public_key().to_pem()).unwrap();
    let token_file = keys.path().join("system.token");
    let bearer = scheduling_env.token("system:scheduling", &[Role::System]);
    std::fs::write(&token_file, bearer.trim_start_matches("Bearer ")).unwrap();
    let trusting = |env: &ServiceEnv| {
        let mut vars = env.vars();
        let own = vars
            .iter()
            .find(|(k, _)| k == "HELLOWORK_JWT_PUBLIC_KEYS")
            .map(|(_, v)| v.clone())
            .unwrap();
        vars.push((
            "HELLOWORK_JWT_PUBLIC_KEYS".into(),
            format!(
                "{own},{}={}",
                scheduling_env.issuer().kid(),
                public.display()
            ),
        ));
        vars.extend(scheduling_env.peer_vars());
        vars.extend(otlp.clone());
        vars
    };
    let mut registration_vars = trusting(&registration_env);
    registration_vars.extend(consent_env.peer_vars());
    let mut consent_vars = trusting(&consent_env);
    consent_vars.extend(registration_env.peer_vars());
    // The audit-log trusts scheduling's token too: scheduling asks it for
    // the keys device identifiers are sealed to (Art. 7(2)).
    let mut audit_vars = trusting(&audit_env);
    for peer in [&registration_env, &consent_env] {
        audit_vars.extend(peer.peer_vars());
    }

    let mut audit_process = ServiceProcess::spawn("hellowork-audit-log", &audit_vars);
    let mut consent_process = ServiceProcess::spawn("hellowork-consent", &consent_vars);
    let mut registration_process =
        ServiceProcess::spawn("hellowork-registration", &registration_vars);
    let mut scheduling_vars = scheduling_env.vars();
    scheduling_vars.extend([
        (
            "HELLOWORK_SYSTEM_TOKEN_FILE".to_owned(),
            token_file.display().to_string(),
        ),
        (
            "HELLOWORK_REGISTRATION_URL".to_owned(),
            registration_process.url(),
        ),
        ("HELLOWORK_CONSENT_URL".to_owned(), consent_process.url()),
        ("HELLOWORK_AUDITLOG_URL".to_owned(), audit_process.url()),
    ]);
    scheduling_vars.extend(otlp.clone());
    let mut scheduling_process = ServiceProcess::spawn("hellowork-scheduling", &scheduling_vars);
    audit_process
        .wait_until_serving(hellowork_audit_log::SERVICE_NAME)
        .await;
    consent_process
        .wait_until_serving(hellowork_consent::app::HEALTH_NAME)
        .await;
    registration_process
        .wait_until_serving(hellowork_registration::SERVICE_NAME)
        .await;
    scheduling_process
        .wait_until_serving(hellowork_scheduling::SERVICE_NAME)
        .await;
    let mut consents = ConsentServiceClient::new(channel(&consent_process).await);
    let mut registrations = RegistrationServiceClient::new(channel(&registration_process).await);
    let mut schedule = SchedulingServiceClient::new(channel(&scheduling_process).await);
    let audit = AuditLogServiceClient::new(channel(&audit_process).await);

    // The office's terms and the meeting app's terms.
    let effective = NaiveDate::from_ymd_opt(2023, 12, 18).unwrap();
    consents
        .publish_terms_document(consent_env.request(
            consent::PublishTermsDocumentRequest {
                request_id: request_id(),
                version: "2023-12-18".into(),
                language: "ja".into(),
                title: "オンラインを活用したサービス利用規約".into(),
                full_text: "第1条 (test text standing in for the office's terms)".into(),
                sha256: String::new(),
                established_date: Some(consent_date(NaiveDate::from_ymd_opt(2021, 3, 1).unwrap())),
                revised_date: Some(consent_date(effective)),
                effective_date: Some(consent_date(effective)),
            },
            "operator-1",
            Role::Operator,
        ))
        .await
        .expect("terms published");
    consents
        .publish_meeting_app_terms(consent_env.request(
            consent::PublishMeetingAppTermsRequest {
                request_id: request_id(),
                meeting_app_name: "Designated meeting app".into(),
                version: "2024-04-01".into(),
                language: "ja".into(),
                title: "Meeting app terms".into(),
                full_text: "The meeting app's terms.".into(),
                sha256: String::new(),
                effective_date: Some(consent_date(NaiveDate::from_ymd_opt(2024, 4, 1).unwrap())),
                source_uri: String::new(),
            },
            "operator-1",
            Role::Operator,
        ))
        .await
        .expect("meeting-app terms published");
    let mut in_force = Vec::new();
    for kind in [
        consent::TermsKind::OnlineServices,
        consent::TermsKind::MeetingApp,
    ] {
        in_force.push(
            eventually("terms in force", || {
                let mut consents = consents.clone();
                let request = consent_env.request(
                    consent::GetTermsInForceRequest {
                        kind: kind.into(),
                        language: "ja".into(),
                        at: None,
                    },
                    "operator-1",
                    Role::Operator,
                );
                async move {
                    consents
                        .get_terms_in_force(request)
                        .await
                        .ok()?
                        .into_inner()
                        .terms_document
                }
            })
            .await,
        );
    }

    // Register → attest → apply, with personal data in every field.
    let person = Person::new();
    let seeker = registrations
        .register_job_seeker(registration_env.request(
            registration::RegisterJobSeekerRequest {
                request_id: request_id(),
                channel: registration::RegistrationChannel::Online.into(),
                name: Some(registration::PersonName {
                    family_name: person.family_name.into(),
                    given_name: person.given_name.into(),
                    family_name_reading: person.family_name_reading.into(),
                    given_name_reading: person.given_name_reading.into(),
                }),
                date_of_birth: Some(registration::Date {
                    year: person.date_of_birth.year(),
                    month: person.date_of_birth.month() as i32,
                    day: person.date_of_birth.day() as i32,
                }),
                contact: Some(registration::Contact {
                    email: person.email.into(),
                    phone_number: person.phone.into(),
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
        .job_seeker_id;
    let attestation = registrations
        .attest_device(registration_env.request(
            registration::AttestDeviceRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                device_kind: registration::DeviceKind::Pc.into(),
                owned: true,
                has_webcam: true,
                can_prepare_meeting_app: true,
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("device attested")
        .into_inner()
        .device_attestation
        .unwrap()
        .device_attestation_id;
    registrations
        .attest_environment(registration_env.request(
            registration::AttestEnvironmentRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                device_attestation_id: attestation.clone(),
                report: Some(passing_environment()),
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("environment attested");
    registrations
        .apply_for_online_services(registration_env.request(
            registration::ApplyForOnlineServicesRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                terms_version: in_force[0].version.clone(),
                terms_sha256: in_force[0].sha256.clone(),
                meeting_app_terms_version: in_force[1].version.clone(),
                meeting_app_terms_sha256: in_force[1].sha256.clone(),
                language: "ja".into(),
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("applied");

    // A counsellor publishes a counselling slot in two days.
    let start = Utc::now() + chrono::Duration::days(2);
    let slot = schedule
        .publish_availability(scheduling_env.request(
            scheduling::PublishAvailabilityRequest {
                request_id: request_id(),
                counsellor_id: "counsellor-1".into(),
                offering: scheduling::Offering::Counselling.into(),
                start_time: Some(timestamp(start)),
                end_time: Some(timestamp(start + chrono::Duration::hours(1))),
                slot_length: None,
                capacity: 1,
            },
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .expect("published")
        .into_inner()
        .slots
        .remove(0);

    // The booking, once the consent has reached registration, each attempt
    // in a trace of its own started by the client.
    let (booking, trace_id, client_span_id) = eventually("booked once eligible", || {
        let mut schedule = schedule.clone();
        let mut request = scheduling_env.request(
            scheduling::BookSessionRequest {
                request_id: request_id(),
                slot_id: slot.slot_id.clone(),
                job_seeker_id: seeker.clone(),
                attendants: vec![scheduling::AttendantKind::Interpreter.into()],
            },
            &seeker,
            Role::JobSeeker,
        );
        let (traceparent, trace_id, span_id) = client_traceparent();
        request
            .metadata_mut()
            .insert("traceparent", traceparent.parse().unwrap());
        async move {
            let booked = schedule.book_session(request).await.ok()?.into_inner();
            Some((booked.booking?.booking_id, trace_id, span_id))
        }
    })
    .await;

    // Preparing, joining and leaving, with the device's identifiers
    // (Art. 7(1)).
    schedule
        .complete_pre_session_checklist(scheduling_env.request(
            scheduling::CompletePreSessionChecklistRequest {
                booking_id: booking.clone(),
                confirmed_items: (1..=6).collect(),
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("checklist");
    schedule
        .acknowledge_private_room(scheduling_env.request(
            scheduling::AcknowledgePrivateRoomRequest {
                booking_id: booking.clone(),
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("private room");
    schedule
        .acknowledge_no_recording(scheduling_env.request(
            scheduling::AcknowledgeNoRecordingRequest {
                booking_id: booking.clone(),
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("no recording");
    schedule
        .join_session(scheduling_env.request(
            scheduling::JoinSessionRequest {
                booking_id: booking.clone(),
                device: Some(person.device.clone()),
                sealed_device: None,
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("joined");
    schedule
        .leave_session(scheduling_env.request(
            scheduling::LeaveSessionRequest {
                booking_id: booking.clone(),
                device: Some(person.device.clone()),
                sealed_device: None,
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("left");

    // The audit log has heard the booking, the join and the leave.
    eventually("the booking, join and leave in the audit log", || {
        let mut audit = audit.clone();
        let request = audit_env.request(
            auditlog::ListAccessLogRequest {
                time_range: Some(auditlog::TimeRange {
                    start_time: Some(timestamp(started - chrono::Duration::hours(1))),
                    end_time: Some(timestamp(Utc::now() + chrono::Duration::hours(1))),
                }),
                kinds: vec![],
                page_size: 1000,
                page_token: String::new(),
            },
            "auditor-1",
            Role::Auditor,
        );
        async move {
            let entries = audit
                .list_access_log(request)
                .await
                .ok()?
                .into_inner()
                .entries;
            let booked = entries.iter().any(|entry| {
                entry.kind() == auditlog::EntryKind::DomainEvent && entry.action == "SessionBooked"
            });
            let usages = entries
                .iter()
                .filter(|entry| entry.kind() == auditlog::EntryKind::Usage)
                .count();
            (booked && usages >= 2).then_some(())
        }
    })
    .await;

    // Exported while the services run: the booking's trace reaches all four.
    let trace = booking_trace(&collector, &trace_id).await;
    let booked = span_of(&trace, "scheduling", BOOK_SESSION);
    assert_eq!(
        booked.parent_span_id(),
        client_span_id,
        "scheduling continues the client's trace"
    );
    for (service, name) in [
        ("registration", CHECK_ELIGIBILITY),
        ("consent", GET_CONSENT_STATUS),
    ] {
        let asked = span_of(&trace, service, name);
        assert_eq!(
            asked.parent_span_id(),
            booked.span_id(),
            "{name} is a child of the booking: {:#?}",
            summary(&trace)
        );
    }
    let heard: Vec<&Exported> = trace
        .iter()
        .filter(|span| {
            span.service == "auditlog"
                && span.span.name == "eventstore.consume"
                && span.attribute("consumer") == Some("auditlog-scheduling")
        })
        .collect();
    assert!(
        heard
            .iter()
            .any(|span| span.attribute("event_type") == Some("SessionBooked")),
        "audit-log consumed SessionBooked in the booking's trace: {:#?}",
        summary(&trace)
    );
    for span in &heard {
        assert_eq!(
            span.parent_span_id(),
            booked.span_id(),
            "the consumer continues the booking's span from the NATS headers"
        );
    }

    // Stopping flushes what is left; then every span any service exported
    // is checked.
    assert!(audit_process.terminate().await, "audit-log stopped cleanly");
    assert!(scheduling_process.terminate().await, "scheduling stopped");
    assert!(
        registration_process.terminate().await,
        "registration stopped"
    );
    assert!(consent_process.terminate().await, "consent stopped");
    let spans = collector.spans();

    // Each service names itself in its resource.
    let services: BTreeSet<&str> = spans.iter().map(|span| span.service.as_str()).collect();
    assert_eq!(
        services,
        BTreeSet::from(SERVICES),
        "service.name of every span"
    );
    for span in &spans {
        let version = span
            .resource
            .iter()
            .find(|attribute| attribute.key == "service.version");
        assert!(version.is_some(), "service.version of {}", span.service);
    }

    // Art. 8: none of the person's data in any exported text.
    let found = leaks(&spans, &person.forms(&seeker, &attestation));
    assert!(
        found.is_empty(),
        "personal data in exported spans ({} spans scanned):\n{}",
        spans.len(),
        found.join("\n")
    );
}
