//! Art. 8: no answer to an online registration tells the caller whether
//! another person is registered. A caller whose token does not name the
//! person is told the id the identity derives to and nothing else, the same
//! for a fresh identity, one registered online or at the counter, and an
//! erased one; only the person themself (their token's subject is that id)
//! is shown the registration.

mod support;

use hellowork_platform::Role;
use hellowork_proto::registration::v1 as proto;
use support::service::{Harness, start};
use uuid::Uuid;

fn person(family_name: &str, email: &str) -> proto::RegisterJobSeekerRequest {
    proto::RegisterJobSeekerRequest {
        request_id: Uuid::new_v4().to_string(),
        channel: proto::RegistrationChannel::Online.into(),
        name: Some(proto::PersonName {
            family_name: family_name.into(),
            given_name: "花子".into(),
            family_name_reading: String::new(),
            given_name_reading: String::new(),
        }),
        date_of_birth: Some(proto::Date {
            year: 1988,
            month: 2,
            day: 29,
        }),
        contact: Some(proto::Contact {
            email: email.into(),
            phone_number: String::new(),
        }),
        provisional: false,
    }
}

fn at_the_counter(mut request: proto::RegisterJobSeekerRequest) -> proto::RegisterJobSeekerRequest {
    request.channel = proto::RegistrationChannel::Counter.into();
    request
}

/// Registers online as `subject`, a job seeker's token.
async fn online(
    h: &Harness,
    request: proto::RegisterJobSeekerRequest,
    subject: &str,
) -> proto::RegisterJobSeekerResponse {
    h.client()
        .await
        .register_job_seeker(h.request(request, subject, Role::JobSeeker))
        .await
        .unwrap()
        .into_inner()
}

/// What an unidentified online registrant is told about `id`.
fn told_only(id: &str) -> proto::RegisterJobSeekerResponse {
    proto::RegisterJobSeekerResponse {
        job_seeker: Some(proto::JobSeeker {
            job_seeker_id: id.to_owned(),
            ..Default::default()
        }),
        created: false,
    }
}

#[tokio::test]
async fn a_second_caller_registering_a_registered_identity_learns_nothing() {
    let h = start().await;
    let mut client = h.client().await;
    // One person registered online, another at the counter and erased.
    let online_person = online(&h, person("松本", "hanako@example.jp"), "front-1").await;
    let online_id = online_person.job_seeker.unwrap().job_seeker_id;
    let counter_id = client
        .register_job_seeker(h.request(
            at_the_counter(person("高松", "takamatsu@example.jp")),
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .unwrap()
        .into_inner()
        .job_seeker
        .unwrap()
        .job_seeker_id;
    let erased_id = online(&h, person("丸亀", "marugame@example.jp"), "front-1")
        .await
        .job_seeker
        .unwrap()
        .job_seeker_id;
    client
        .erase_job_seeker(h.request(
            proto::EraseJobSeekerRequest {
                job_seeker_id: erased_id.clone(),
                reason: proto::ErasureReason::AppiRequest.into(),
                reference: String::new(),
            },
            "supervisor-1",
            Role::Supervisor,
        ))
        .await
        .unwrap();
    let stored = h.stored_events().await;

    // Someone else types each identity again: the same answer each time,
    // and the same as for an identity never registered.
    for (request, id) in [
        (person("松本", "hanako@example.jp"), &online_id),
        (person("高松", "takamatsu@example.jp"), &counter_id),
        (person("丸亀", "marugame@example.jp"), &erased_id),
    ] {
        let answer = online(&h, request, "front-2").await;
        assert_eq!(answer, told_only(id));
    }
    assert_eq!(h.stored_events().await, stored, "nothing written for them");
    let fresh = online(&h, person("坂出", "sakaide@example.jp"), "front-2").await;
    let fresh_id = fresh.job_seeker.clone().unwrap().job_seeker_id;
    assert_eq!(
        fresh,
        told_only(&fresh_id),
        "a fresh identity: the same shape"
    );
    assert_eq!(
        h.stored_events().await.len(),
        stored.len() + 1,
        "the fresh identity is registered"
    );
}

#[tokio::test]
async fn the_person_themself_is_shown_their_registration() {
    let h = start().await;
    let id = online(&h, person("松本", "hanako@example.jp"), "front-1")
        .await
        .job_seeker
        .unwrap()
        .job_seeker_id;
    let again = online(&h, person("松本", "hanako@example.jp"), &id).await;
    assert!(!again.created);
    let shown = again.job_seeker.unwrap();
    assert_eq!(shown.job_seeker_id, id);
    assert_eq!(shown.name.as_ref().unwrap().family_name, "松本");
    assert_eq!(shown.channel(), proto::RegistrationChannel::Online);
    // Another person's token (their own id) is told nothing of this one.
    let other = online(&h, person("坂出", "sakaide@example.jp"), "front-1")
        .await
        .job_seeker
        .unwrap()
        .job_seeker_id;
    let answer = online(&h, person("松本", "hanako@example.jp"), &other).await;
    assert_eq!(answer, told_only(&id));
}
