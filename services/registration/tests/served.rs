//! Art. 8: a counsellor reads a person's registration and eligibility only
//! when they serve the person: they registered them at the counter, or the
//! person booked a session with them (scheduling's events). Any other
//! counsellor is refused alike whether or not the person is registered, and
//! learns nothing; supervisors read everyone.

mod support;

use hellowork_platform::Role;
use hellowork_proto::registration::v1 as proto;
use support::service::{Harness, start};
use tonic::Code;
use uuid::Uuid;

fn counter_registration() -> proto::RegisterJobSeekerRequest {
    proto::RegisterJobSeekerRequest {
        request_id: Uuid::new_v4().to_string(),
        channel: proto::RegistrationChannel::Counter.into(),
        name: Some(proto::PersonName {
            family_name: "善通寺".into(),
            given_name: "一郎".into(),
            family_name_reading: String::new(),
            given_name_reading: String::new(),
        }),
        date_of_birth: Some(proto::Date {
            year: 1979,
            month: 11,
            day: 3,
        }),
        contact: Some(proto::Contact {
            email: String::new(),
            phone_number: "0877-62-0000".into(),
        }),
        provisional: false,
    }
}

/// `GetJobSeeker` and `CheckEligibility` of `id` as counsellor `subject`.
async fn reads(h: &Harness, id: &str, subject: &str, role: Role) -> [Result<(), tonic::Status>; 2] {
    let mut client = h.client().await;
    let get = client
        .get_job_seeker(h.request(
            proto::GetJobSeekerRequest {
                job_seeker_id: id.to_owned(),
            },
            subject,
            role,
        ))
        .await
        .map(|_| ());
    let check = client
        .check_eligibility(h.request(
            proto::CheckEligibilityRequest {
                job_seeker_id: id.to_owned(),
                at: None,
            },
            subject,
            role,
        ))
        .await
        .map(|_| ());
    [get, check]
}

fn assert_not_served(results: [Result<(), tonic::Status>; 2], who: &str) -> String {
    let mut messages = Vec::new();
    for result in results {
        let status = result.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{who}: {status:?}");
        assert!(status.message().starts_with("Art. 8: "), "{who}");
        messages.push(status.message().to_owned());
    }
    messages.join("|")
}

#[tokio::test]
async fn the_counsellor_who_registered_a_person_reads_them_and_no_other_counsellor_does() {
    let h = start().await;
    let id = h
        .client()
        .await
        .register_job_seeker(h.request(counter_registration(), "c-desk", Role::Counsellor))
        .await
        .unwrap()
        .into_inner()
        .job_seeker
        .unwrap()
        .job_seeker_id;
    for result in reads(&h, &id, "c-desk", Role::Counsellor).await {
        result.unwrap();
    }
    for result in reads(&h, &id, "s-1", Role::Supervisor)
        .await
        .into_iter()
        .take(1)
    {
        result.unwrap();
    }
    // Another counsellor: refused, word for word as about no one at all.
    let registered =
        assert_not_served(reads(&h, &id, "c-other", Role::Counsellor).await, "c-other");
    let nobody = Uuid::new_v4().to_string();
    let unknown = assert_not_served(
        reads(&h, &nobody, "c-other", Role::Counsellor).await,
        "nobody",
    );
    assert_eq!(
        registered, unknown,
        "the refusal tells nothing of existence"
    );
}

#[tokio::test]
async fn a_counsellor_reads_whom_they_have_a_booking_with() {
    let h = start().await;
    let mut client = h.client().await;
    let mut online = counter_registration();
    online.channel = proto::RegistrationChannel::Online.into();
    let id = client
        .register_job_seeker(h.request(online, "front-1", Role::JobSeeker))
        .await
        .unwrap()
        .into_inner()
        .job_seeker
        .unwrap()
        .job_seeker_id;
    assert_not_served(reads(&h, &id, "c-7", Role::Counsellor).await, "before");
    h.book_with(&id, "c-7").await;
    for result in reads(&h, &id, "c-7", Role::Counsellor).await {
        result.unwrap();
    }
    assert_not_served(reads(&h, &id, "c-8", Role::Counsellor).await, "c-8");
}
