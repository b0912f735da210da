//! Least privilege per calling service (Art. 8): of registration's RPCs
//! only `CheckEligibility` takes a service, and only scheduling, which asks
//! before every booking. Every other service's valid token is
//! PERMISSION_DENIED naming the RPC; the RPCs for people refuse every
//! service.

mod support;

use hellowork_platform::{CallingService, Role};
use hellowork_proto::registration::v1 as proto;
use support::service::start;
use tonic::Code;
use uuid::Uuid;

fn registration() -> proto::RegisterJobSeekerRequest {
    proto::RegisterJobSeekerRequest {
        request_id: Uuid::new_v4().to_string(),
        channel: proto::RegistrationChannel::Online.into(),
        name: Some(proto::PersonName {
            family_name: "香川".into(),
            given_name: "次郎".into(),
            family_name_reading: "カガワ".into(),
            given_name_reading: "ジロウ".into(),
        }),
        date_of_birth: Some(proto::Date {
            year: 1985,
            month: 7,
            day: 7,
        }),
        contact: Some(proto::Contact {
            email: "jiro@example.jp".into(),
            phone_number: String::new(),
        }),
        provisional: false,
    }
}

#[tokio::test]
async fn eligibility_is_told_to_scheduling_and_to_no_other_service() {
    let h = start().await;
    let mut client = h.client().await;
    let id = client
        .register_job_seeker(h.request(registration(), "front-1", Role::JobSeeker))
        .await
        .unwrap()
        .into_inner()
        .job_seeker
        .unwrap()
        .job_seeker_id;
    let check = || proto::CheckEligibilityRequest {
        job_seeker_id: id.clone(),
        at: None,
    };
    let answer = client
        .check_eligibility(h.env.system_request(check(), CallingService::Scheduling))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.job_seeker_id, id);
    for service in CallingService::ALL
        .into_iter()
        .filter(|s| *s != CallingService::Scheduling)
    {
        let denied = client
            .check_eligibility(h.env.system_request(check(), service))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{service}");
        assert!(
            denied.message().starts_with("CheckEligibility: "),
            "{service}: {}",
            denied.message()
        );
    }
}

#[tokio::test]
async fn the_people_s_rpcs_refuse_every_service() {
    let h = start().await;
    let mut client = h.client().await;
    let id = Uuid::new_v4().to_string();
    for service in CallingService::ALL {
        let mut counter = registration();
        counter.channel = proto::RegistrationChannel::Counter.into();
        let registered = client
            .register_job_seeker(h.env.system_request(counter, service))
            .await;
        let read = client
            .get_job_seeker(h.env.system_request(
                proto::GetJobSeekerRequest {
                    job_seeker_id: id.clone(),
                },
                service,
            ))
            .await;
        let erased = client
            .erase_job_seeker(h.env.system_request(
                proto::EraseJobSeekerRequest {
                    job_seeker_id: id.clone(),
                    reason: proto::ErasureReason::AppiRequest.into(),
                    reference: String::new(),
                },
                service,
            ))
            .await;
        for (rpc, status) in [
            ("RegisterJobSeeker", registered.unwrap_err()),
            ("GetJobSeeker", read.unwrap_err()),
            ("EraseJobSeeker", erased.unwrap_err()),
        ] {
            assert_eq!(status.code(), Code::PermissionDenied, "{rpc} {service}");
        }
    }
    assert!(h.stored_events().await.is_empty(), "nothing written");
}
