//! Bad input (issue "Step 7"): every RPC of the registration service, as its
//! contract lists them, called with generated requests — mutations of valid
//! ones, random structured messages, raw wire bytes — under a valid token of
//! a role its contract allows, and with bad tokens. It answers OK, or
//! INVALID_ARGUMENT with field violations, or a refusal with details; never
//! INTERNAL; a call that is not OK writes no event; the service stays
//! healthy. 64 cases per RPC, or `PROPTEST_CASES`.

mod support;

use hellowork_platform::Role;
use hellowork_proto::registration::v1 as proto;
use hellowork_testing::bad_input::{self, Hints, Target};
use support::service::{Harness, start};
use uuid::Uuid;

const SHA: &str = "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000";

fn target(h: &Harness) -> Target<'_> {
    Target {
        service: hellowork_registration::SERVICE_NAME,
        health: hellowork_registration::SERVICE_NAME,
        schema: "registration",
        addr: h.addr,
        env: &h.env,
        recorded_refusals: &[],
    }
}

fn registration(
    channel: proto::RegistrationChannel,
    given: &str,
) -> proto::RegisterJobSeekerRequest {
    proto::RegisterJobSeekerRequest {
        request_id: Uuid::new_v4().to_string(),
        channel: channel.into(),
        name: Some(proto::PersonName {
            family_name: "山田".into(),
            given_name: given.into(),
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
        provisional: channel == proto::RegistrationChannel::Online,
    }
}

fn device(id: &str) -> proto::AttestDeviceRequest {
    proto::AttestDeviceRequest {
        request_id: Uuid::new_v4().to_string(),
        job_seeker_id: id.into(),
        device_kind: proto::DeviceKind::Pc.into(),
        owned: true,
        has_webcam: true,
        can_prepare_meeting_app: true,
    }
}

/// Two job seekers (one complete with a capable device, one provisional)
/// and a valid request of every RPC about them.
async fn prepare(h: &Harness) -> Hints {
    let mut client = h.client().await;
    let online = registration(proto::RegistrationChannel::Online, "太郎");
    let counter = registration(proto::RegistrationChannel::Counter, "花子");
    let mut ids = Vec::new();
    for (request, subject, role) in [
        (online.clone(), "front-1", Role::JobSeeker),
        (counter.clone(), "counsellor-1", Role::Counsellor),
    ] {
        let response = client
            .register_job_seeker(h.request(request, subject, role))
            .await
            .unwrap()
            .into_inner();
        ids.push(response.job_seeker.unwrap().job_seeker_id);
    }
    let [provisional, complete] = <[String; 2]>::try_from(ids).unwrap();
    let attest = device(&complete);
    let device_id = client
        .attest_device(h.seeker(&complete, attest.clone()))
        .await
        .unwrap()
        .into_inner()
        .device_attestation
        .unwrap()
        .device_attestation_id;

    let mut hints = Hints::default();
    hints
        .subject(Role::JobSeeker, &provisional)
        .subject(Role::JobSeeker, &complete)
        .subject(Role::Counsellor, "counsellor-1")
        .field("device_attestation_id", &device_id)
        .string("2023-12-18")
        .string(SHA)
        .instant(chrono::Utc::now().timestamp() + 30 * 86_400);
    hints
        .seed("RegisterJobSeeker", &online)
        .seed("RegisterJobSeeker", &counter)
        .seed(
            "CompleteRegistration",
            &proto::CompleteRegistrationRequest {
                job_seeker_id: provisional.clone(),
            },
        )
        .seed(
            "ApplyForOnlineServices",
            &proto::ApplyForOnlineServicesRequest {
                request_id: Uuid::new_v4().to_string(),
                job_seeker_id: complete.clone(),
                terms_version: "2023-12-18".into(),
                terms_sha256: SHA.into(),
                meeting_app_terms_version: "6.0".into(),
                meeting_app_terms_sha256: SHA.into(),
                language: "ja".into(),
            },
        )
        .seed(
            "ApplyForOnlineServices",
            &proto::ApplyForOnlineServicesRequest {
                request_id: Uuid::new_v4().to_string(),
                job_seeker_id: provisional.clone(),
                terms_version: "2023-12-18".into(),
                terms_sha256: SHA.into(),
                meeting_app_terms_version: "6.0".into(),
                meeting_app_terms_sha256: SHA.into(),
                language: "ja".into(),
            },
        )
        .seed("AttestDevice", &attest)
        .seed("AttestDevice", &device(&provisional))
        .seed(
            "AttestEnvironment",
            &proto::AttestEnvironmentRequest {
                request_id: Uuid::new_v4().to_string(),
                job_seeker_id: complete.clone(),
                device_attestation_id: device_id,
                report: Some(hellowork_testing::passing_environment()),
            },
        )
        .seed(
            "GetJobSeeker",
            &proto::GetJobSeekerRequest {
                job_seeker_id: complete.clone(),
            },
        )
        .seed(
            "EraseJobSeeker",
            &proto::EraseJobSeekerRequest {
                job_seeker_id: provisional.clone(),
                reason: proto::ErasureReason::RetentionEnded.into(),
                reference: "RET-2026-7".into(),
            },
        )
        .seed(
            "CheckEligibility",
            &proto::CheckEligibilityRequest {
                job_seeker_id: complete,
                at: None,
            },
        );
    hints
}

#[test]
fn every_rpc_answers_bad_requests_with_details_and_writes_nothing() {
    let runtime = bad_input::runtime();
    let harness = runtime.block_on(start());
    let hints = runtime.block_on(prepare(&harness));
    let report = bad_input::every_rpc(&runtime, target(&harness), hints);
    eprintln!("registration, bad requests:\n{report}");
    report.assert_passed();
}

#[test]
fn bad_tokens_are_unauthenticated_and_write_nothing() {
    let runtime = bad_input::runtime();
    let harness = runtime.block_on(start());
    let hints = runtime.block_on(prepare(&harness));
    let report = bad_input::bad_tokens(&runtime, target(&harness), &hints);
    eprintln!("registration, bad tokens:\n{report}");
    report.assert_passed();
}
