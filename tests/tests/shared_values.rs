//! One parser per value: the same job seeker id or language tag gets the
//! same verdict from every service that takes it, over the real gRPC APIs
//! of the four running services (an id that one service accepted and
//! another refused would split one person's history).

mod common;

use common::Stack;
use hellowork_auth::Role;
use hellowork_proto::{
    auditlog::v1 as auditlog, consent::v1 as consent, registration::v1 as registration,
    scheduling::v1 as scheduling,
};
use tonic::Code;
use tonic_types::StatusExt;

const SUPERVISOR: &str = "supervisor-1";
const CANONICAL: &str = "0190f2c4-6b1e-7a00-8000-00000000000c";

/// Ids in the forms a client might send; only the hyphenated one, in
/// either case, is an id.
fn candidate_ids() -> Vec<(String, bool)> {
    vec![
        (CANONICAL.to_owned(), true),
        (CANONICAL.to_uppercase(), true),
        (format!(" {CANONICAL}"), false),
        (format!("{CANONICAL}\n"), false),
        (format!("{{{CANONICAL}}}"), false),
        (format!("urn:uuid:{CANONICAL}"), false),
        (CANONICAL.replace('-', ""), false),
        ("seeker-1".to_owned(), false),
    ]
}

/// Whether `result` refused the request for `field` being malformed.
fn refused_field<T>(result: &Result<T, tonic::Status>, field: &str) -> bool {
    let Err(status) = result else { return false };
    status.code() == Code::InvalidArgument
        && status.get_error_details().bad_request().is_some_and(|bad| {
            bad.field_violations
                .iter()
                .any(|v| v.field == field || v.field.ends_with(&format!(".{field}")))
        })
}

async fn verdicts_on_id(stack: &Stack, id: &str) -> [(&'static str, bool); 4] {
    let m = registration::GetJobSeekerRequest {
        job_seeker_id: id.to_owned(),
    };
    let registration = stack
        .registrations
        .clone()
        .get_job_seeker(
            stack
                .registration_env
                .request(m, SUPERVISOR, Role::Supervisor),
        )
        .await;
    let m = consent::GetConsentStatusRequest {
        job_seeker_id: id.to_owned(),
        at: None,
    };
    let consent = stack
        .consents
        .clone()
        .get_consent_status(stack.consent_env.request(m, SUPERVISOR, Role::Supervisor))
        .await;
    let m = scheduling::ListBookingsRequest {
        job_seeker_id: id.to_owned(),
        ..Default::default()
    };
    let scheduling = stack
        .schedule
        .clone()
        .list_bookings(
            stack
                .scheduling_env
                .request(m, SUPERVISOR, Role::Supervisor),
        )
        .await;
    let audit = stack.audit_log();
    let record = page_view(id);
    let audit_log = audit
        .client
        .clone()
        .record_usage(audit.request(
            auditlog::RecordUsageRequest {
                record: Some(record),
            },
            "system:front",
            Role::System,
        ))
        .await;
    [
        (
            "registration",
            !refused_field(&registration, "job_seeker_id"),
        ),
        ("consent", !refused_field(&consent, "job_seeker_id")),
        ("scheduling", !refused_field(&scheduling, "job_seeker_id")),
        ("audit-log", !refused_field(&audit_log, "job_seeker_id")),
    ]
}

/// A front system's record of a page `job_seeker_id` viewed.
fn page_view(job_seeker_id: &str) -> auditlog::UsageRecord {
    auditlog::UsageRecord {
        record_id: uuid::Uuid::new_v4().to_string(),
        job_seeker_id: job_seeker_id.to_owned(),
        occurred_at: Some(common::timestamp(chrono::Utc::now())),
        access_kind: auditlog::AccessKind::PageView.into(),
        action: "/bookings".to_owned(),
        method: "GET".to_owned(),
        outcome: auditlog::AccessOutcome::Success.into(),
        device: Some(auditlog::DeviceIdentifiers {
            device_id: "device-1".to_owned(),
            ip_address: "198.51.100.7".to_owned(),
            user_agent: "Mozilla/5.0".to_owned(),
            os_name: "Windows".to_owned(),
            os_version: "10.0.19045".to_owned(),
        }),
        source: "web".to_owned(),
        ..Default::default()
    }
}

async fn verdicts_on_language(stack: &Stack, tag: &str) -> [(&'static str, bool); 2] {
    let apply = stack
        .registrations
        .clone()
        .apply_for_online_services(stack.registration_env.request(
            registration::ApplyForOnlineServicesRequest {
                request_id: common::request_id(),
                job_seeker_id: CANONICAL.to_owned(),
                terms_version: "2023-12-18".into(),
                terms_sha256: "a".repeat(64),
                meeting_app_terms_version: "6.0".into(),
                meeting_app_terms_sha256: "b".repeat(64),
                language: tag.to_owned(),
            },
            CANONICAL,
            Role::JobSeeker,
        ))
        .await;
    let in_force = stack
        .consents
        .clone()
        .get_terms_in_force(stack.consent_env.request(
            consent::GetTermsInForceRequest {
                kind: consent::TermsKind::OnlineServices.into(),
                language: tag.to_owned(),
                at: None,
            },
            CANONICAL,
            Role::JobSeeker,
        ))
        .await;
    [
        ("registration", !refused_field(&apply, "language")),
        ("consent", !refused_field(&in_force, "language")),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_service_gives_one_id_and_one_language_tag_the_same_verdict() {
    let stack = Stack::start().await;
    for (id, valid) in candidate_ids() {
        for (service, accepted) in verdicts_on_id(&stack, &id).await {
            assert_eq!(accepted, valid, "{service} on job_seeker_id {id:?}");
        }
    }
    for (tag, valid) in [
        ("ja", true),
        ("JA", true),
        ("zh-hant-tw", true),
        ("es-419", true),
        ("ja_JP", false),
        ("ja-", false),
        ("x-private", false),
        (" ja", false),
    ] {
        for (service, accepted) in verdicts_on_language(&stack, tag).await {
            assert_eq!(accepted, valid, "{service} on language {tag:?}");
        }
    }
}
