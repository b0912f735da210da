//! A day at the office that touches every metric: the four services as
//! their own processes, and a scenario through their public gRPC APIs.
//!
//! Person A registers, attests, applies (consent deems their consent) and
//! books counselling with an interpreter, joins and leaves; books a job
//! referral, moves it to the next slot, joins, and the counsellor stops the
//! session (Art. 12(2)); books two seminars, cancels one, and a supervisor
//! refuses A's online services (Art. 12(1)), which cancels the other, then
//! lifts the refusal. Person B's environment fails Art. 5(4), so B's
//! booking is refused; B withdraws the deemed consent. The office publishes
//! a revision of its terms (Art. 13). A front system records a page view;
//! a legal request is approved and disclosed to its officer, refused to
//! another, a second one denied and refused; an auditor verifies the log.
//! Each service also answers one call with an error.

use chrono::{Duration, NaiveDate, Utc};
use hellowork_auth::Role;
use hellowork_proto::{
    auditlog::v1::{self as audit, AccessKind, EntryKind},
    consent::v1 as consent,
    registration::v1 as registration,
    scheduling::v1::{self as scheduling, Offering},
};

use crate::common::{AuditLog, Stack, date, eventually, request_id, timestamp};

/// The device A uses; none of it may reach a metric label.
pub const DEVICE_ID: &str = "front-device-dash-7f3a";
pub const IP_ADDRESS: &str = "203.0.113.77";
/// The legal officer named on the requests.
const OFFICER: &str = "officer-a";

/// The ids the scenario created, to be found nowhere in the metrics.
#[derive(Debug)]
pub struct Trail {
    pub people: Vec<String>,
    pub bookings: Vec<String>,
    pub legal_requests: Vec<String>,
}

pub fn device() -> scheduling::DeviceIdentifiers {
    scheduling::DeviceIdentifiers {
        device_id: DEVICE_ID.into(),
        ip_address: IP_ADDRESS.into(),
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/145.0".into(),
        os_name: "Windows".into(),
        os_version: "11".into(),
    }
}

/// Runs the whole scenario.
pub async fn run(stack: &Stack, audit: &AuditLog) -> Trail {
    let in_force = stack.publish_terms().await;
    let a = stack.register("a.dashboards@example.jp").await;
    stack.attest_and_apply(&a, &in_force).await;
    let first = stack.book_with_an_interpreter(&a).await;
    stack.prepare_join_leave(&a, &first, &device()).await;
    let stopped = moved_joined_and_stopped(stack, &a).await;
    let seminars = cancelled_and_refused(stack, &a).await;
    let b = refused_for_the_environment_then_withdrawn(stack, &in_force).await;
    revision_announced(stack).await;
    answered_with_errors(stack).await;
    let legal_requests = article_7(audit, &a).await;
    let mut bookings = vec![first, stopped];
    bookings.extend(seminars);
    Trail {
        people: vec![a, b],
        bookings,
        legal_requests,
    }
}

/// A counsellor's slots of `offering`, `count` of them back to back from
/// `days` ahead.
async fn slots(
    stack: &Stack,
    counsellor: &str,
    offering: Offering,
    capacity: u32,
    days: i64,
    count: i64,
) -> Vec<scheduling::Slot> {
    let start = Utc::now() + Duration::days(days);
    stack
        .schedule
        .clone()
        .publish_availability(stack.scheduling_env.request(
            scheduling::PublishAvailabilityRequest {
                request_id: request_id(),
                counsellor_id: counsellor.into(),
                offering: offering.into(),
                start_time: Some(timestamp(start)),
                end_time: Some(timestamp(start + Duration::hours(count))),
                slot_length: Some(prost_types::Duration {
                    seconds: 3600,
                    nanos: 0,
                }),
                capacity,
            },
            counsellor,
            Role::Counsellor,
        ))
        .await
        .expect("slots published")
        .into_inner()
        .slots
}

async fn book(
    stack: &Stack,
    seeker: &str,
    slot: &scheduling::Slot,
) -> Result<String, tonic::Status> {
    let booked = stack
        .schedule
        .clone()
        .book_session(stack.scheduling_env.request(
            scheduling::BookSessionRequest {
                request_id: request_id(),
                slot_id: slot.slot_id.clone(),
                job_seeker_id: seeker.to_owned(),
                attendants: Vec::new(),
            },
            seeker,
            Role::JobSeeker,
        ))
        .await?;
    Ok(booked.into_inner().booking.expect("a booking").booking_id)
}

/// A job referral booked, moved to the next slot, prepared and joined, then
/// stopped by the counsellor (Art. 12(2)); the booking's id.
async fn moved_joined_and_stopped(stack: &Stack, seeker: &str) -> String {
    let env = &stack.scheduling_env;
    let mut schedule = stack.schedule.clone();
    let referral = slots(stack, "counsellor-2", Offering::JobReferral, 1, 4, 2).await;
    let id = book(stack, seeker, &referral[0])
        .await
        .expect("referral booked");
    schedule
        .reschedule_booking(env.request(
            scheduling::RescheduleBookingRequest {
                request_id: request_id(),
                booking_id: id.clone(),
                new_slot_id: referral[1].slot_id.clone(),
            },
            seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("rescheduled");
    schedule
        .complete_pre_session_checklist(env.request(
            scheduling::CompletePreSessionChecklistRequest {
                booking_id: id.clone(),
                confirmed_items: (1..=6).collect(),
            },
            seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("checklist");
    schedule
        .acknowledge_private_room(env.request(
            scheduling::AcknowledgePrivateRoomRequest {
                booking_id: id.clone(),
            },
            seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("private room");
    schedule
        .acknowledge_no_recording(env.request(
            scheduling::AcknowledgeNoRecordingRequest {
                booking_id: id.clone(),
            },
            seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("no recording");
    schedule
        .join_session(env.request(
            scheduling::JoinSessionRequest {
                booking_id: id.clone(),
                device: Some(device()),
                sealed_device: None,
            },
            seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("joined");
    schedule
        .stop_session(env.request(
            scheduling::StopSessionRequest {
                booking_id: id.clone(),
                reason: scheduling::ConductReason::RecordingDetected.into(),
                note: "recording seen on screen".into(),
            },
            "counsellor-2",
            Role::Counsellor,
        ))
        .await
        .expect("stopped");
    id
}

/// Two seminars booked; the person cancels one, a supervisor refuses their
/// online services (cancelling the other) and lifts the refusal.
async fn cancelled_and_refused(stack: &Stack, seeker: &str) -> Vec<String> {
    let env = &stack.scheduling_env;
    let mut schedule = stack.schedule.clone();
    let seminars = slots(stack, "counsellor-3", Offering::Seminar, 5, 5, 2).await;
    let cancelled = book(stack, seeker, &seminars[0]).await.expect("booked");
    let open = book(stack, seeker, &seminars[1]).await.expect("booked");
    schedule
        .cancel_booking(env.request(
            scheduling::CancelBookingRequest {
                booking_id: cancelled.clone(),
                reason: scheduling::CancellationReason::ByJobSeeker.into(),
            },
            seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("cancelled");
    let refused = schedule
        .refuse_online_services(env.request(
            scheduling::RefuseOnlineServicesRequest {
                request_id: request_id(),
                job_seeker_id: seeker.to_owned(),
                reason: scheduling::ConductReason::Threat.into(),
                note: "threatened the counsellor".into(),
                booking_id: String::new(),
            },
            "supervisor-1",
            Role::Supervisor,
        ))
        .await
        .expect("refused")
        .into_inner();
    assert_eq!(refused.cancelled_booking_ids, vec![open.clone()]);
    schedule
        .lift_refusal(env.request(
            scheduling::LiftRefusalRequest {
                refusal_id: refused.refusal.expect("a refusal").refusal_id,
                note: "apology accepted".into(),
            },
            "supervisor-1",
            Role::Supervisor,
        ))
        .await
        .expect("lifted");
    vec![cancelled, open]
}

/// Person B, whose firewall is off (Art. 5(4)), applies, is refused a
/// booking, and withdraws the consent their application deemed.
async fn refused_for_the_environment_then_withdrawn(
    stack: &Stack,
    in_force: &[consent::TermsDocument],
) -> String {
    let b = stack.register("b.dashboards@example.jp").await;
    let env = &stack.registration_env;
    let mut registrations = stack.registrations.clone();
    let device = registrations
        .attest_device(env.request(
            registration::AttestDeviceRequest {
                request_id: request_id(),
                job_seeker_id: b.clone(),
                device_kind: registration::DeviceKind::Smartphone.into(),
                owned: true,
                has_webcam: true,
                can_prepare_meeting_app: true,
            },
            &b,
            Role::JobSeeker,
        ))
        .await
        .expect("device attested")
        .into_inner()
        .device_attestation
        .expect("an attestation");
    let mut report = hellowork_testing::passing_environment();
    report.firewall = Some(registration::FirewallReport {
        enabled: false,
        minimal_allowed_services: true,
    });
    let attested = registrations
        .attest_environment(env.request(
            registration::AttestEnvironmentRequest {
                request_id: request_id(),
                job_seeker_id: b.clone(),
                device_attestation_id: device.device_attestation_id,
                report: Some(report),
            },
            &b,
            Role::JobSeeker,
        ))
        .await
        .expect("environment attested")
        .into_inner()
        .environment_attestation
        .expect("an attestation");
    assert!(!attested.passed, "the firewall is off");
    registrations
        .apply_for_online_services(env.request(
            registration::ApplyForOnlineServicesRequest {
                request_id: request_id(),
                job_seeker_id: b.clone(),
                terms_version: in_force[0].version.clone(),
                terms_sha256: in_force[0].sha256.clone(),
                meeting_app_terms_version: in_force[1].version.clone(),
                meeting_app_terms_sha256: in_force[1].sha256.clone(),
                language: "ja".into(),
            },
            &b,
            Role::JobSeeker,
        ))
        .await
        .expect("applied");
    let slot = slots(stack, "counsellor-4", Offering::Interview, 1, 6, 1).await;
    let refused = book(stack, &b, &slot[0]).await.expect_err("not eligible");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    let receipt = eventually("the deemed consent", || {
        let mut consents = stack.consents.clone();
        let request = stack.consent_env.request(
            consent::GetConsentStatusRequest {
                job_seeker_id: b.clone(),
                at: None,
            },
            &b,
            Role::JobSeeker,
        );
        async move {
            consents
                .get_consent_status(request)
                .await
                .ok()?
                .into_inner()
                .receipt
        }
    })
    .await;
    stack
        .consents
        .clone()
        .withdraw_consent(stack.consent_env.request(
            consent::WithdrawConsentRequest {
                request_id: request_id(),
                job_seeker_id: b.clone(),
                receipt_id: receipt.receipt_id,
            },
            &b,
            Role::JobSeeker,
        ))
        .await
        .expect("withdrawn");
    b
}

/// The office publishes the next version of its terms, effective in 30
/// days, and announces it as an Art. 13(2) revision.
async fn revision_announced(stack: &Stack) {
    let env = &stack.consent_env;
    let effective = Utc::now().date_naive() + Duration::days(30);
    let published = stack
        .consents
        .clone()
        .publish_terms_document(env.request(
            consent::PublishTermsDocumentRequest {
                request_id: request_id(),
                version: effective.to_string(),
                language: "ja".into(),
                title: "オンラインを活用したサービス利用規約".into(),
                full_text: "第1条 (test text standing in for the revised terms)".into(),
                sha256: String::new(),
                established_date: Some(date(NaiveDate::from_ymd_opt(2021, 3, 1).unwrap())),
                revised_date: Some(date(effective)),
                effective_date: Some(date(effective)),
            },
            "operator-1",
            Role::Operator,
        ))
        .await
        .expect("revision published")
        .into_inner()
        .terms_document
        .expect("a document");
    let announcement = request_id();
    eventually("the revision announced", || {
        let mut consents = stack.consents.clone();
        let request = env.request(
            consent::AnnounceRevisionRequest {
                request_id: announcement.clone(),
                terms_document_id: published.terms_document_id.clone(),
                ground: consent::RevisionGround::ReasonableChange.into(),
                reasons: "clarifies the cost notice of Art. 12(5)".into(),
                change_summary: "Art. 12(5) reworded".into(),
            },
            "operator-1",
            Role::Operator,
        );
        async move { consents.announce_revision(request).await.ok() }
    })
    .await;
}

/// Registration and consent each answer one call with an error (scheduling
/// and audit-log refuse calls in the scenario itself).
async fn answered_with_errors(stack: &Stack) {
    let invalid = stack
        .registrations
        .clone()
        .get_job_seeker(stack.registration_env.request(
            registration::GetJobSeekerRequest {
                job_seeker_id: "not-an-id".into(),
            },
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .expect_err("not an id");
    assert_eq!(invalid.code(), tonic::Code::InvalidArgument);
    let unknown = stack
        .consents
        .clone()
        .get_terms_document(stack.consent_env.request(
            consent::GetTermsDocumentRequest {
                terms_document_id: request_id(),
            },
            "operator-1",
            Role::Operator,
        ))
        .await
        .expect_err("no such document");
    assert_eq!(unknown.code(), tonic::Code::NotFound);
}

/// Art. 7: a page view recorded; once the person's usage is on the log, a
/// legal request approved and disclosed to its officer and refused to
/// another; a second denied and refused; the log verified. The requests'
/// ids.
async fn article_7(audit: &AuditLog, seeker: &str) -> Vec<String> {
    let env = &audit.env;
    // Art. 7(2): the filer and the approver are two people, told apart by
    // the personnel ids their tokens carry.
    env.assign_personnel_id(OFFICER, "HW-STAFF-0101");
    env.assign_personnel_id("approver-b", "HW-STAFF-0202");
    let mut client = audit.client.clone();
    client
        .record_usage(env.request(
            audit::RecordUsageRequest {
                record: Some(audit::UsageRecord {
                    record_id: request_id(),
                    job_seeker_id: seeker.to_owned(),
                    occurred_at: Some(timestamp(Utc::now())),
                    usage_window: None,
                    access_kind: AccessKind::PageView.into(),
                    action: "/bookings".into(),
                    method: "GET".into(),
                    outcome: audit::AccessOutcome::Success.into(),
                    offering: Offering::Counselling.into(),
                    booking_id: String::new(),
                    device: Some(audit::DeviceIdentifiers {
                        device_id: DEVICE_ID.into(),
                        ip_address: IP_ADDRESS.into(),
                        user_agent: "Mozilla/5.0".into(),
                        os_name: "Windows".into(),
                        os_version: "11".into(),
                    }),
                    source: "web".into(),
                    sealed_device: None,
                }),
            },
            "system:front",
            Role::System,
        ))
        .await
        .expect("usage recorded");
    // Two joins, a leave and the page view.
    eventually("the person's usage on the access log", || {
        let mut client = audit.client.clone();
        let now = Utc::now();
        let request = env.request(
            audit::ListAccessLogRequest {
                time_range: Some(audit::TimeRange {
                    start_time: Some(timestamp(now - Duration::hours(1))),
                    end_time: Some(timestamp(now + Duration::hours(1))),
                }),
                kinds: vec![EntryKind::Usage.into()],
                page_size: 100,
                page_token: String::new(),
            },
            "operator-1",
            Role::Operator,
        );
        async move {
            let entries = client
                .list_access_log(request)
                .await
                .ok()?
                .into_inner()
                .entries;
            (entries.len() >= 4).then_some(())
        }
    })
    .await;

    let approved = file(audit, seeker).await;
    client
        .approve_legal_request(env.request(
            audit::ApproveLegalRequestRequest {
                legal_request_id: approved.clone(),
                expires_at: None,
                note: "warrant checked".into(),
                ..Default::default()
            },
            "approver-b",
            Role::Approver,
        ))
        .await
        .expect("approved");
    let disclosed = disclose(audit, &approved, OFFICER)
        .await
        .expect("disclosed");
    assert!(!disclosed.records.is_empty(), "the person's records");
    let other = disclose(audit, &approved, "officer-other").await;
    assert_eq!(
        other.expect_err("not the named officer").code(),
        tonic::Code::PermissionDenied
    );

    let denied = file(audit, seeker).await;
    client
        .deny_legal_request(env.request(
            audit::DenyLegalRequestRequest {
                legal_request_id: denied.clone(),
                reason: "no legal basis for this scope".into(),
            },
            "approver-b",
            Role::Approver,
        ))
        .await
        .expect("denied");
    let refused = disclose(audit, &denied, OFFICER).await;
    assert_eq!(
        refused.expect_err("denied").code(),
        tonic::Code::FailedPrecondition
    );

    let verified = client
        .verify_log(env.request(
            audit::VerifyLogRequest {
                from_sequence: 0,
                to_sequence: 0,
            },
            "auditor-1",
            Role::Auditor,
        ))
        .await
        .expect("verified")
        .into_inner();
    assert!(verified.intact);
    vec![approved, denied]
}

async fn file(audit: &AuditLog, seeker: &str) -> String {
    let now = Utc::now();
    audit
        .client
        .clone()
        .file_legal_request(audit.env.request(
            audit::FileLegalRequestRequest {
                request_id: request_id(),
                agency: "香川県警察本部".into(),
                legal_basis: audit::LegalBasis::CourtWarrant.into(),
                legal_basis_citation: String::new(),
                case_number: "R7-0420".into(),
                scope: Some(audit::LegalRequestScope {
                    job_seeker_ids: vec![seeker.to_owned()],
                    device_pseudonyms: Vec::new(),
                    time_range: Some(audit::TimeRange {
                        start_time: Some(timestamp(now - Duration::days(1))),
                        end_time: Some(timestamp(now + Duration::days(1))),
                    }),
                }),
                justification: "investigation of unauthorized access".into(),
                requested_expires_at: Some(timestamp(now + Duration::days(7))),
            },
            OFFICER,
            Role::LegalOfficer,
        ))
        .await
        .expect("filed")
        .into_inner()
        .legal_request
        .expect("a legal request")
        .legal_request_id
}

async fn disclose(
    audit: &AuditLog,
    legal_request_id: &str,
    officer: &str,
) -> Result<audit::DiscloseDeviceRecordsResponse, tonic::Status> {
    audit
        .client
        .clone()
        .disclose_device_records(audit.env.request(
            audit::DiscloseDeviceRecordsRequest {
                legal_request_id: legal_request_id.to_owned(),
                page_size: 0,
                page_token: String::new(),
            },
            officer,
            Role::LegalOfficer,
        ))
        .await
        .map(tonic::Response::into_inner)
}
