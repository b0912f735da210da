//! The registration service over gRPC against the real PostgreSQL and NATS:
//! the whole flow with its events stored and published, idempotency, input
//! validation, the articles' preconditions, roles, and eligibility fed by
//! consent and scheduling events.

mod support;

use std::time::{Duration, Instant};

use hellowork_platform::{CallingService, Role};
use hellowork_proto::{
    consent::v1::{ConsentRecorded, ConsentWithdrawn},
    registration::v1::{self as proto, EligibilityReason as Reason},
    scheduling::v1::{OnlineServicesRefused, RefusalLifted},
};
use support::service::{Harness, start};
use tonic::Code;
use tonic_types::StatusExt;
use uuid::Uuid;

const SHA: &str = "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000";

fn registration(
    channel: proto::RegistrationChannel,
    provisional: bool,
) -> proto::RegisterJobSeekerRequest {
    proto::RegisterJobSeekerRequest {
        request_id: Uuid::new_v4().to_string(),
        channel: channel.into(),
        name: Some(proto::PersonName {
            family_name: "山田".into(),
            given_name: "太郎".into(),
            family_name_reading: "ヤマダ".into(),
            given_name_reading: "タロウ".into(),
        }),
        date_of_birth: Some(proto::Date {
            year: 1990,
            month: 4,
            day: 1,
        }),
        contact: Some(proto::Contact {
            email: "taro@example.jp".into(),
            phone_number: "087-811-8609".into(),
        }),
        provisional,
    }
}

fn application(id: &str) -> proto::ApplyForOnlineServicesRequest {
    proto::ApplyForOnlineServicesRequest {
        request_id: Uuid::new_v4().to_string(),
        job_seeker_id: id.into(),
        terms_version: "2023-12-18".into(),
        terms_sha256: SHA.into(),
        meeting_app_terms_version: "6.0".into(),
        meeting_app_terms_sha256: SHA.into(),
        language: "ja".into(),
    }
}

fn device(id: &str, owned: bool) -> proto::AttestDeviceRequest {
    proto::AttestDeviceRequest {
        request_id: Uuid::new_v4().to_string(),
        job_seeker_id: id.into(),
        device_kind: proto::DeviceKind::Smartphone.into(),
        owned,
        has_webcam: true,
        can_prepare_meeting_app: true,
    }
}

fn now_minus(hours: i64) -> prost_types::Timestamp {
    let at = chrono::Utc::now() - chrono::Duration::hours(hours);
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

fn environment(id: &str, device_attestation_id: &str) -> proto::AttestEnvironmentRequest {
    proto::AttestEnvironmentRequest {
        request_id: Uuid::new_v4().to_string(),
        job_seeker_id: id.into(),
        device_attestation_id: device_attestation_id.into(),
        report: Some(proto::EnvironmentReport {
            device_security: Some(proto::DeviceSecurityReport {
                compromise_detected: false,
                last_scanned_at: Some(now_minus(1)),
            }),
            connection_type: proto::ConnectionType::MobileNetwork.into(),
            operating_system: Some(proto::OperatingSystemReport {
                name: "Android".into(),
                version: "15".into(),
                latest_security_patches_applied: true,
            }),
            firewall: Some(proto::FirewallReport {
                enabled: true,
                minimal_allowed_services: true,
            }),
            installed_software_names: vec!["LINE".into()],
            antivirus: Some(proto::AntivirusReport {
                installed: true,
                product_name: "ウイルスバスター".into(),
                grade: proto::AntivirusGrade::PaidEquivalent.into(),
                patterns_updated_at: Some(now_minus(2)),
            }),
            readiness: Some(proto::SessionReadinessReport {
                meeting_app_ready: true,
                connectivity_checked: true,
                browser_name: "Chrome".into(),
                browser_version: "142".into(),
                browser_up_to_date: true,
            }),
        }),
    }
}

/// Registers online (provisional or not) and returns the id.
async fn register(h: &Harness, provisional: bool) -> String {
    let mut client = h.client().await;
    let response = client
        .register_job_seeker(h.request(
            registration(proto::RegistrationChannel::Online, provisional),
            "front-1",
            Role::JobSeeker,
        ))
        .await
        .unwrap()
        .into_inner();
    response.job_seeker.unwrap().job_seeker_id
}

async fn eligibility(h: &Harness, id: &str) -> proto::CheckEligibilityResponse {
    h.client()
        .await
        .check_eligibility(h.request(
            proto::CheckEligibilityRequest {
                job_seeker_id: id.into(),
                at: None,
            },
            "system:scheduling",
            Role::System,
        ))
        .await
        .unwrap()
        .into_inner()
}

fn reasons(response: &proto::CheckEligibilityResponse) -> Vec<Reason> {
    response
        .unmet_conditions
        .iter()
        .map(|c| c.reason())
        .collect()
}

/// Polls eligibility until `done` (projections are fed asynchronously).
async fn eligibility_until(
    h: &Harness,
    id: &str,
    done: impl Fn(&proto::CheckEligibilityResponse) -> bool,
) -> proto::CheckEligibilityResponse {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = eligibility(h, id).await;
        if done(&response) {
            return response;
        }
        assert!(
            Instant::now() < deadline,
            "eligibility never changed: {response:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn consent_recorded(id: &str, receipt: &str) -> ConsentRecorded {
    ConsentRecorded {
        receipt_id: receipt.into(),
        job_seeker_id: id.into(),
        consented_at: Some(now_minus(0)),
        ..Default::default()
    }
}

#[tokio::test]
async fn register_complete_attest_apply_then_eligible_once_consent_arrives() {
    let h = start().await;
    let id = register(&h, true).await;
    let mut client = h.client().await;

    let completed = client
        .complete_registration(h.request(
            proto::CompleteRegistrationRequest {
                job_seeker_id: id.clone(),
            },
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .unwrap()
        .into_inner()
        .job_seeker
        .unwrap();
    assert_eq!(completed.status(), proto::RegistrationStatus::Complete);
    assert!(completed.completed_at.is_some());

    let device = client
        .attest_device(h.seeker(&id, device(&id, true)))
        .await
        .unwrap()
        .into_inner()
        .device_attestation
        .unwrap();
    assert!(device.capable && device.failures.is_empty());
    let environment = client
        .attest_environment(h.seeker(&id, environment(&id, &device.device_attestation_id)))
        .await
        .unwrap()
        .into_inner()
        .environment_attestation
        .unwrap();
    assert!(environment.passed, "{environment:?}");
    assert_eq!(environment.items.len(), 9);
    // The validity runs from the evaluation; the attestation is shown as
    // attested when it was recorded, a moment later.
    let (expires, attested) = (
        environment.expires_at.unwrap(),
        environment.attested_at.unwrap(),
    );
    let valid_for = chrono::Duration::seconds(expires.seconds - attested.seconds)
        + chrono::Duration::nanoseconds(i64::from(expires.nanos - attested.nanos));
    let thirty_days = chrono::Duration::days(30);
    assert!(
        valid_for <= thirty_days && valid_for > thirty_days - chrono::Duration::seconds(1),
        "default validity 30 days from the evaluation, got {valid_for}"
    );

    let applied = client
        .apply_for_online_services(h.seeker(&id, application(&id)))
        .await
        .unwrap()
        .into_inner();
    assert!(applied.converted_to_hello_work_user, "Art. 2(2)");
    let seeker = applied.job_seeker.unwrap();
    assert_eq!(seeker.category(), proto::RegistrantCategory::HelloWorkUser);
    assert_eq!(seeker.application.unwrap().terms_version, "2023-12-18");

    assert_eq!(
        h.stored_events().await,
        [
            "JobSeekerRegistered",
            "JobSeekerRegistrationCompleted",
            "DeviceCapabilityAttested",
            "EnvironmentAttested",
            "OnlineServicesApplied",
            "RegistrantConvertedToHelloWorkUser"
        ]
    );
    h.wait_for_published(6).await;

    let before = eligibility(&h, &id).await;
    assert!(!before.eligible);
    assert_eq!(reasons(&before), [Reason::ConsentMissing]);
    assert_eq!(before.unmet_conditions[0].article, "Art. 2(1)");

    h.publish_consent("ConsentRecorded", consent_recorded(&id, "receipt-1"))
        .await;
    let after = eligibility_until(&h, &id, |r| r.eligible).await;
    assert!(after.unmet_conditions.is_empty());

    h.publish_consent(
        "ConsentWithdrawn",
        ConsentWithdrawn {
            receipt_id: "receipt-1".into(),
            job_seeker_id: id.clone(),
            ..Default::default()
        },
    )
    .await;
    let withdrawn = eligibility_until(&h, &id, |r| !r.eligible).await;
    assert_eq!(reasons(&withdrawn), [Reason::ConsentWithdrawn]);

    h.publish_consent("ConsentRecorded", consent_recorded(&id, "receipt-2"))
        .await;
    eligibility_until(&h, &id, |r| r.eligible).await;
    h.publish_scheduling(
        "OnlineServicesRefused",
        OnlineServicesRefused {
            refusal_id: "refusal-1".into(),
            job_seeker_id: id.clone(),
            ..Default::default()
        },
    )
    .await;
    let refused = eligibility_until(&h, &id, |r| !r.eligible).await;
    assert_eq!(reasons(&refused), [Reason::Refused]);
    assert_eq!(refused.unmet_conditions[0].article, "Art. 12(1)");
    h.publish_scheduling(
        "RefusalLifted",
        RefusalLifted {
            refusal_id: "refusal-1".into(),
            job_seeker_id: id.clone(),
            note: String::new(),
            sealed_note: None,
        },
    )
    .await;
    eligibility_until(&h, &id, |r| r.eligible).await;
}

#[tokio::test]
async fn registering_the_same_person_again_returns_the_existing_registration_and_writes_nothing() {
    let h = start().await;
    let mut client = h.client().await;
    let first = client
        .register_job_seeker(h.request(
            registration(proto::RegistrationChannel::Online, false),
            "front-1",
            Role::JobSeeker,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(h.stored_events().await, ["JobSeekerRegistered"]);
    // The same person typed in other widths, at the counter this time.
    let mut again = registration(proto::RegistrationChannel::Counter, false);
    again.name.as_mut().unwrap().family_name = " 山田\u{3000}".into();
    again.contact = Some(proto::Contact {
        email: "TARO@example.jp".into(),
        phone_number: "０８７－８１１－８６０９".into(),
    });
    let second = client
        .register_job_seeker(h.request(again, "counsellor-1", Role::Counsellor))
        .await
        .unwrap()
        .into_inner();
    assert!(!second.created);
    let (a, b) = (first.job_seeker.unwrap(), second.job_seeker.unwrap());
    assert_eq!(a.job_seeker_id, b.job_seeker_id);
    assert_eq!(
        b.channel(),
        proto::RegistrationChannel::Online,
        "the existing registration"
    );
    assert_eq!(h.stored_events().await, ["JobSeekerRegistered"]);
    assert!(!a.job_seeker_id.contains("taro"), "no personal data in ids");
}

fn violated_fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_error_details()
        .bad_request()
        .expect("BadRequest")
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect()
}

#[tokio::test]
async fn invalid_input_of_every_field_is_refused_with_every_violation_and_nothing_written() {
    let h = start().await;
    let mut client = h.client().await;
    let bad = proto::RegisterJobSeekerRequest {
        request_id: "not-a-uuid".into(),
        channel: proto::RegistrationChannel::Unspecified.into(),
        name: Some(proto::PersonName {
            family_name: " ".into(),
            given_name: "Taro1".into(),
            family_name_reading: "yamada".into(),
            given_name_reading: "太郎".into(),
        }),
        date_of_birth: Some(proto::Date {
            year: 2020,
            month: 2,
            day: 30,
        }),
        contact: Some(proto::Contact {
            email: "taro@".into(),
            phone_number: "12".into(),
        }),
        provisional: false,
    };
    let status = client
        .register_job_seeker(h.request(bad, "counsellor-1", Role::Counsellor))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        [
            "request_id",
            "channel",
            "name.family_name",
            "name.given_name",
            "name.family_name_reading",
            "name.given_name_reading",
            "date_of_birth",
            "contact.email",
            "contact.phone_number"
        ]
    );
    let mut young = registration(proto::RegistrationChannel::Counter, true);
    young.date_of_birth = Some(proto::Date {
        year: 2020,
        month: 1,
        day: 1,
    });
    young.contact = Some(proto::Contact::default());
    young.name = None;
    let status = client
        .register_job_seeker(h.request(young, "counsellor-1", Role::Counsellor))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        ["provisional", "name", "date_of_birth", "contact"]
    );

    let id = Uuid::new_v4().to_string();
    let mut apply = application(&id);
    apply.request_id = String::new();
    apply.terms_version = String::new();
    apply.terms_sha256 = "XYZ".into();
    apply.meeting_app_terms_version = "bad version".into();
    apply.meeting_app_terms_sha256 = String::new();
    apply.language = "日本語".into();
    let status = client
        .apply_for_online_services(h.request(apply, "counsellor-1", Role::Counsellor))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        [
            "request_id",
            "terms_version",
            "terms_sha256",
            "meeting_app_terms_version",
            "meeting_app_terms_sha256",
            "language"
        ]
    );

    let mut attest = device("nope", true);
    attest.device_kind = proto::DeviceKind::Unspecified.into();
    let status = client
        .attest_device(h.request(attest, "counsellor-1", Role::Counsellor))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        ["request_id", "job_seeker_id", "device_kind"][1..]
    );

    let mut env = environment(&id, "x");
    let report = env.report.as_mut().unwrap();
    report.device_security = None;
    report.connection_type = proto::ConnectionType::Unspecified.into();
    report.operating_system.as_mut().unwrap().name = String::new();
    report.installed_software_names.push("x".repeat(201));
    let antivirus = report.antivirus.as_mut().unwrap();
    antivirus.grade = proto::AntivirusGrade::Unspecified.into();
    antivirus.patterns_updated_at = Some(now_minus(-48));
    let status = client
        .attest_environment(h.request(env, "counsellor-1", Role::Counsellor))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        [
            "device_attestation_id",
            "report.device_security",
            "report.connection_type",
            "report.operating_system.name",
            "report.installed_software_names[1]",
            "report.antivirus.grade",
            "report.antivirus.patterns_updated_at"
        ]
    );
    let status = client
        .check_eligibility(h.request(
            proto::CheckEligibilityRequest {
                job_seeker_id: "x".into(),
                at: None,
            },
            "system:scheduling",
            Role::System,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["job_seeker_id"]);
    assert!(h.stored_events().await.is_empty(), "nothing written");
}

fn article_of(status: &tonic::Status) -> (String, String) {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let info = status
        .get_error_details()
        .error_info()
        .cloned()
        .expect("ErrorInfo");
    (info.reason, info.metadata["article"].clone())
}

#[tokio::test]
async fn art_2_2_and_2_3_preconditions_fail_with_the_article_and_write_nothing() {
    let h = start().await;
    let id = register(&h, true).await;
    let mut client = h.client().await;

    let status = client
        .apply_for_online_services(h.seeker(&id, application(&id)))
        .await
        .unwrap_err();
    assert_eq!(article_of(&status), ("ART_2_2".into(), "2(2)".into()));

    let device = client
        .attest_device(h.seeker(&id, device(&id, false)))
        .await
        .unwrap()
        .into_inner()
        .device_attestation
        .unwrap();
    assert!(!device.capable);
    assert_eq!(
        device.failures().collect::<Vec<_>>(),
        [proto::DeviceCapabilityFailure::NotOwned]
    );
    let status = client
        .attest_environment(h.seeker(&id, environment(&id, &device.device_attestation_id)))
        .await
        .unwrap_err();
    assert_eq!(article_of(&status), ("ART_2_3".into(), "2(3)".into()));

    let status = client
        .attest_environment(h.seeker(&id, environment(&id, &Uuid::new_v4().to_string())))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    assert_eq!(
        h.stored_events().await,
        ["JobSeekerRegistered", "DeviceCapabilityAttested"]
    );
    let unmet = reasons(&eligibility(&h, &id).await);
    assert_eq!(
        unmet,
        [
            Reason::RegistrationIncomplete,
            Reason::NotApplied,
            Reason::ConsentMissing,
            Reason::NoCapableDevice,
            Reason::EnvironmentNotAttested
        ]
    );
}

#[tokio::test]
async fn art_5_a_failing_environment_is_recorded_with_each_clause_and_shows_in_eligibility() {
    let h = start().await;
    let id = register(&h, false).await;
    let mut client = h.client().await;
    let device = client
        .attest_device(h.seeker(&id, device(&id, true)))
        .await
        .unwrap()
        .into_inner()
        .device_attestation
        .unwrap();
    let mut request = environment(&id, &device.device_attestation_id);
    let report = request.report.as_mut().unwrap();
    report.operating_system = Some(proto::OperatingSystemReport {
        name: "Windows".into(),
        version: "10 22H2".into(),
        latest_security_patches_applied: true,
    });
    report.installed_software_names.push("Winny 2.0".into());
    report.connection_type = proto::ConnectionType::FreePublicWifi.into();
    let attestation = client
        .attest_environment(h.seeker(&id, request))
        .await
        .unwrap()
        .into_inner()
        .environment_attestation
        .unwrap();
    assert!(!attestation.passed);
    assert_eq!(attestation.file_sharing_software_found, ["Winny 2.0"]);
    assert_eq!(
        attestation.os_support.unwrap().support_ends_on,
        Some(proto::Date {
            year: 2025,
            month: 10,
            day: 14
        })
    );
    let failed: Vec<String> = eligibility(&h, &id)
        .await
        .unwrap_conditions()
        .filter(|c| c.reason() == Reason::EnvironmentItemFailed)
        .map(|c| c.article.clone())
        .collect();
    assert_eq!(failed, ["Art. 5(2)", "Art. 5(3)", "Art. 5(5)"]);
}

trait Conditions {
    fn unwrap_conditions(&self) -> std::slice::Iter<'_, proto::UnmetCondition>;
}

impl Conditions for proto::CheckEligibilityResponse {
    fn unwrap_conditions(&self) -> std::slice::Iter<'_, proto::UnmetCondition> {
        self.unmet_conditions.iter()
    }
}

/// The subject a token of `role` names: `person`, or for `system` the one
/// service that calls registration (scheduling), to show that even it is
/// refused where it has no business.
fn subject_of(role: Role, person: &str) -> String {
    if role == Role::System {
        CallingService::Scheduling.subject()
    } else {
        person.to_owned()
    }
}

#[tokio::test]
async fn every_rpc_allows_exactly_the_roles_its_contract_names() {
    let h = start().await;
    let id = register(&h, true).await;
    let mut client = h.client().await;
    // RegisterJobSeeker: job seekers online only, staff at the counter only.
    for (channel, role) in [
        (proto::RegistrationChannel::Counter, Role::JobSeeker),
        (proto::RegistrationChannel::Online, Role::Counsellor),
        (proto::RegistrationChannel::Online, Role::Operator),
        (proto::RegistrationChannel::Counter, Role::Supervisor),
        (proto::RegistrationChannel::Counter, Role::System),
        (proto::RegistrationChannel::Counter, Role::Auditor),
        (proto::RegistrationChannel::Counter, Role::LegalOfficer),
        (proto::RegistrationChannel::Counter, Role::Approver),
    ] {
        let status = client
            .register_job_seeker(h.request(
                registration(channel, false),
                &subject_of(role, "x"),
                role,
            ))
            .await
            .unwrap_err();
        assert_eq!(
            status.code(),
            Code::PermissionDenied,
            "{role} registers {channel:?}"
        );
    }
    assert!(
        client
            .register_job_seeker(h.request(
                registration(proto::RegistrationChannel::Counter, false),
                "op-1",
                Role::Operator
            ))
            .await
            .is_ok()
    );

    // CompleteRegistration: counsellor, operator.
    let complete = || proto::CompleteRegistrationRequest {
        job_seeker_id: id.clone(),
    };
    for role in [Role::JobSeeker, Role::Supervisor, Role::System] {
        let result = client
            .complete_registration(h.request(complete(), &subject_of(role, &id), role))
            .await;
        assert_eq!(
            result.unwrap_err().code(),
            Code::PermissionDenied,
            "{role} completes"
        );
    }
    assert!(
        client
            .complete_registration(h.request(complete(), "op-1", Role::Operator))
            .await
            .is_ok()
    );

    // A job seeker acts only on their own record.
    let other = Uuid::new_v4().to_string();
    let status = client
        .attest_device(h.request(device(&id, true), &other, Role::JobSeeker))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = client
        .apply_for_online_services(h.request(application(&id), &other, Role::JobSeeker))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    for role in [Role::Operator, Role::Supervisor, Role::System] {
        let staff = subject_of(role, "staff");
        let status = client
            .apply_for_online_services(h.request(application(&id), &staff, role))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{role} applies");
        let status = client
            .attest_device(h.request(device(&id, true), &staff, role))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{role} attests");
    }
    assert!(
        client
            .attest_device(h.request(device(&id, true), "c-1", Role::Counsellor))
            .await
            .is_ok()
    );

    // GetJobSeeker: self, a counsellor who serves them, supervisor.
    h.book_with(&id, "c-1").await;
    let get = || proto::GetJobSeekerRequest {
        job_seeker_id: id.clone(),
    };
    for (subject, role, allowed) in [
        (id.as_str(), Role::JobSeeker, true),
        (other.as_str(), Role::JobSeeker, false),
        ("c-1", Role::Counsellor, true),
        ("c-2", Role::Counsellor, false),
        ("s-1", Role::Supervisor, true),
        ("system:scheduling", Role::System, false),
        ("op-1", Role::Operator, false),
    ] {
        let result = client.get_job_seeker(h.request(get(), subject, role)).await;
        assert_eq!(result.is_ok(), allowed, "{role} reads: {result:?}");
    }

    // CheckEligibility: system, counsellor, self.
    let check = || proto::CheckEligibilityRequest {
        job_seeker_id: id.clone(),
        at: None,
    };
    for (subject, role, allowed) in [
        ("system:scheduling", Role::System, true),
        ("c-1", Role::Counsellor, true),
        ("c-2", Role::Counsellor, false),
        (id.as_str(), Role::JobSeeker, true),
        (other.as_str(), Role::JobSeeker, false),
        ("op-1", Role::Operator, false),
        ("s-1", Role::Supervisor, false),
    ] {
        let result = client
            .check_eligibility(h.request(check(), subject, role))
            .await;
        assert_eq!(result.is_ok(), allowed, "{role} checks: {result:?}");
    }
    let missing = client
        .check_eligibility(h.request(
            proto::CheckEligibilityRequest {
                job_seeker_id: other.clone(),
                at: None,
            },
            "system:scheduling",
            Role::System,
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let unauthenticated = client.get_job_seeker(get()).await.unwrap_err();
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn repeated_requests_return_the_first_result_and_write_nothing() {
    let h = start().await;
    let id = register(&h, false).await;
    let mut client = h.client().await;
    let attest = device(&id, true);
    let first = client
        .attest_device(h.seeker(&id, attest.clone()))
        .await
        .unwrap()
        .into_inner();
    let again = client
        .attest_device(h.seeker(&id, attest))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    let apply = application(&id);
    let first = client
        .apply_for_online_services(h.seeker(&id, apply.clone()))
        .await
        .unwrap()
        .into_inner();
    let again = client
        .apply_for_online_services(h.seeker(&id, apply))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    assert!(again.converted_to_hello_work_user);
    assert_eq!(
        h.stored_events().await,
        [
            "JobSeekerRegistered",
            "DeviceCapabilityAttested",
            "OnlineServicesApplied",
            "RegistrantConvertedToHelloWorkUser"
        ]
    );
}
