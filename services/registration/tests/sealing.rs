//! Art. 8: personal data sealed per person and erased by destroying their
//! key, against the real service on PostgreSQL and JetStream: nothing of a
//! person is in clear in any table or message, erasure shows everywhere
//! (live and replayed), erased people take no commands, and registrations
//! stored in clear before Step 8 are resealed at start-up.

mod support;

use base64::Engine;
use hellowork_eventstore::{
    Actor, EventMetadata, EventStore, ExpectedVersion, NewEvent, StoreConfig, StreamId, Upcasters,
    envelope,
};
use hellowork_platform::{CallingService, Environment, Role};
use hellowork_proto::registration::v1 as proto;
use hellowork_registration::{
    RegistrationSettings,
    domain::{self, JobSeekerId},
    grpc::view,
    sealed::{PersonalKeys, codec},
    service::History,
};
use prost::Message;
use support::{
    privacy::{Needle, findings, schema_values},
    service::{Harness, prepare, schema_pool, start},
};
use tonic::Code;
use tonic_types::StatusExt;
use uuid::Uuid;

const FAMILY: &str = "蒼井";
const GIVEN: &str = "澪音";
const FAMILY_READING: &str = "あおい";
const GIVEN_READING: &str = "みおね";
const EMAIL: &str = "mio.aoi.7q2x@example.jp";
const PHONE: &str = "0355550192";

fn name() -> proto::PersonName {
    proto::PersonName {
        family_name: FAMILY.into(),
        given_name: GIVEN.into(),
        family_name_reading: FAMILY_READING.into(),
        given_name_reading: GIVEN_READING.into(),
    }
}

fn birth() -> proto::Date {
    proto::Date {
        year: 1987,
        month: 7,
        day: 23,
    }
}

fn contact() -> proto::Contact {
    proto::Contact {
        email: EMAIL.into(),
        phone_number: PHONE.into(),
    }
}

/// The person's values in every form they could be stored in.
fn needles() -> Vec<Needle> {
    let mut needles: Vec<Needle> = [
        ("family name", FAMILY),
        ("given name", GIVEN),
        ("family reading", FAMILY_READING),
        ("given reading", GIVEN_READING),
        ("email", EMAIL),
        ("phone", PHONE),
        ("birth date", "1987-07-23"),
        ("birth date", "19870723"),
    ]
    .iter()
    .map(|(what, clear)| Needle::new(what, clear.as_bytes()))
    .collect();
    // As the protobuf messages that held them in clear.
    needles.push(Needle::new(
        "birth date (protobuf)",
        &birth().encode_to_vec(),
    ));
    needles.push(Needle::new("name (protobuf)", &name().encode_to_vec()));
    needles.push(Needle::new(
        "contact (protobuf)",
        &contact().encode_to_vec(),
    ));
    needles
}

fn registration() -> proto::RegisterJobSeekerRequest {
    proto::RegisterJobSeekerRequest {
        request_id: Uuid::new_v4().to_string(),
        channel: proto::RegistrationChannel::Counter.into(),
        name: Some(name()),
        date_of_birth: Some(birth()),
        contact: Some(contact()),
        provisional: false,
    }
}

async fn register(h: &Harness) -> proto::RegisterJobSeekerResponse {
    h.client()
        .await
        .register_job_seeker(h.request(registration(), "counsellor-1", Role::Counsellor))
        .await
        .unwrap()
        .into_inner()
}

async fn get(h: &Harness, id: &str) -> proto::JobSeeker {
    h.client()
        .await
        .get_job_seeker(h.request(
            proto::GetJobSeekerRequest {
                job_seeker_id: id.into(),
            },
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .unwrap()
        .into_inner()
        .job_seeker
        .unwrap()
}

fn erase_request(id: &str) -> proto::EraseJobSeekerRequest {
    proto::EraseJobSeekerRequest {
        job_seeker_id: id.into(),
        reason: proto::ErasureReason::AppiRequest.into(),
        reference: "APPI-2026-0042".into(),
    }
}

async fn erase(h: &Harness, id: &str) -> Result<proto::EraseJobSeekerResponse, tonic::Status> {
    h.client()
        .await
        .erase_job_seeker(h.request(erase_request(id), "supervisor-1", Role::Supervisor))
        .await
        .map(tonic::Response::into_inner)
}

fn shows_the_person(seeker: &proto::JobSeeker) {
    assert!(!seeker.erased);
    assert_eq!(seeker.name, Some(name()));
    assert_eq!(seeker.date_of_birth, Some(birth()));
    assert_eq!(seeker.contact, Some(contact()));
}

/// Nothing of the person in clear in any column of any table, nor in any
/// message on the stream; the scan covers at least the `columns` named.
async fn assert_nothing_in_clear(h: &Harness, columns: &[&str]) {
    let pool = h.pool().await;
    let values = schema_values(&pool).await;
    pool.close().await;
    for column in columns {
        assert!(
            values.iter().any(|(place, _)| place == column),
            "{column} not scanned"
        );
    }
    let found = findings(
        values.iter().map(|(p, v)| (p.clone(), v.as_slice())),
        &needles(),
    );
    assert!(found.is_empty(), "in clear in the database: {found:?}");
    let published = h.published().await;
    assert!(!published.is_empty());
    let found = findings(
        published
            .iter()
            .map(|m| (format!("message {}", m.sequence), m.payload.as_ref())),
        &needles(),
    );
    assert!(found.is_empty(), "in clear on the stream: {found:?}");
}

/// `before` as shown once erased: everything but the personal data.
fn seeker_after(before: &proto::JobSeeker, erased: bool) -> proto::JobSeeker {
    proto::JobSeeker {
        name: None,
        date_of_birth: None,
        contact: None,
        erased,
        ..before.clone()
    }
}

fn article_reason(status: &tonic::Status) -> String {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    status
        .get_error_details()
        .error_info()
        .unwrap()
        .reason
        .clone()
}

/// The person as a consumer replaying the stream would see them: every
/// published event opened with registration's codec and the key as it is
/// now in the database.
async fn replayed_from_the_stream(h: &Harness, id: &str) -> proto::JobSeeker {
    let pool = h.pool().await;
    let settings = RegistrationSettings::from_vars(Environment::Development, Vec::new()).unwrap();
    let key = PersonalKeys::new(pool.clone(), settings.keks)
        .find(JobSeekerId::new(id).unwrap())
        .await
        .unwrap();
    pool.close().await;
    let mut events = Vec::new();
    for message in h.published().await {
        let recorded = envelope::decode(&message.payload).unwrap();
        if recorded.stream_id.as_str() == format!("registration-{id}") {
            let event =
                codec::decode(&recorded.event_type, &recorded.payload, key.as_ref()).unwrap();
            events.push((recorded, event));
        }
    }
    events.sort_by_key(|(recorded, _)| recorded.stream_version);
    let id = JobSeekerId::new(id).unwrap();
    view::job_seeker(&History::of(id, events.iter().map(|(r, e)| (r, e)))).unwrap()
}

async fn wait_until_published(h: &Harness, event_type: &str) {
    let subject = format!(".{event_type}");
    hellowork_testing::eventually(&format!("{event_type} published"), || async {
        h.published()
            .await
            .iter()
            .any(|m| m.subject.ends_with(&subject))
    })
    .await;
}

#[tokio::test]
async fn art_8_a_person_is_sealed_everywhere_and_erased_everywhere_by_destroying_their_key() {
    let h = start().await;
    let registered = register(&h).await;
    let id = registered.job_seeker.unwrap().job_seeker_id;
    let seeker_before_erasure = get(&h, &id).await;
    shows_the_person(&seeker_before_erasure);
    wait_until_published(&h, "JobSeekerRegistered").await;
    assert_nothing_in_clear(&h, &["events.payload", "person_data_keys.wrapped_key"]).await;
    assert_eq!(replayed_from_the_stream(&h, &id).await, get(&h, &id).await);

    let erased = erase(&h, &id).await.unwrap();
    assert!(erased.erased_now);
    let seeker = erased.job_seeker.unwrap();
    assert_eq!(seeker, seeker_after(&seeker_before_erasure, true));
    let live = get(&h, &id).await;
    assert_eq!(live, seeker_after(&seeker_before_erasure, true));

    // Erasing again writes nothing; the key is gone.
    assert!(!erase(&h, &id).await.unwrap().erased_now);
    let stored = h.stored_events().await;
    assert_eq!(
        stored.iter().filter(|t| *t == "JobSeekerErased").count(),
        1,
        "{stored:?}"
    );
    let pool = h.pool().await;
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM person_data_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(keys, 0);

    // Published like the others, and a replay of the stream now yields the
    // erased person, the same as the live view.
    wait_until_published(&h, "JobSeekerErased").await;
    assert_eq!(replayed_from_the_stream(&h, &id).await, live);
    assert_nothing_in_clear(&h, &["events.payload"]).await;

    // Art. 8: the erased person takes no further command.
    let mut client = h.client().await;
    let status = client
        .complete_registration(h.request(
            proto::CompleteRegistrationRequest {
                job_seeker_id: id.clone(),
            },
            "op-1",
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(article_reason(&status), "ART_8");
    let status = client
        .attest_device(h.seeker(
            &id,
            proto::AttestDeviceRequest {
                request_id: Uuid::new_v4().to_string(),
                job_seeker_id: id.clone(),
                device_kind: proto::DeviceKind::Pc.into(),
                owned: true,
                has_webcam: true,
                can_prepare_meeting_app: true,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(article_reason(&status), "ART_8");
    let status = client
        .register_job_seeker(h.request(registration(), "counsellor-1", Role::Counsellor))
        .await
        .unwrap_err();
    assert_eq!(article_reason(&status), "ART_8");
    let eligibility = client
        .check_eligibility(h.request(
            proto::CheckEligibilityRequest {
                job_seeker_id: id.clone(),
                at: None,
            },
            "system:scheduling",
            Role::System,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        eligibility
            .unmet_conditions
            .iter()
            .any(|c| c.reason() == proto::EligibilityReason::Erased && c.article == "Art. 8")
    );
}

#[tokio::test]
async fn art_8_erasure_is_for_supervisors_of_known_people_with_a_reason() {
    let h = start().await;
    let id = register(&h).await.job_seeker.unwrap().job_seeker_id;
    let mut client = h.client().await;
    for role in [
        Role::JobSeeker,
        Role::Counsellor,
        Role::Operator,
        Role::System,
        Role::Auditor,
        Role::LegalOfficer,
    ] {
        let subject = if role == Role::System {
            CallingService::Scheduling.subject()
        } else {
            id.clone()
        };
        let status = client
            .erase_job_seeker(h.request(erase_request(&id), &subject, role))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{role} erases");
    }
    let unknown = erase(&h, &Uuid::new_v4().to_string()).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let bad = proto::EraseJobSeekerRequest {
        job_seeker_id: "not-a-uuid".into(),
        reason: proto::ErasureReason::Unspecified.into(),
        reference: "山田太郎 taro@example.jp".into(),
    };
    let status = client
        .erase_job_seeker(h.request(bad, "supervisor-1", Role::Supervisor))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let mut fields: Vec<String> = status
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    fields.sort();
    assert_eq!(fields, ["job_seeker_id", "reason", "reference"]);
    // The refusal never echoes what was sent as a reference.
    assert!(!status.message().contains("taro@example.jp"));
    let long = proto::EraseJobSeekerRequest {
        reference: "x".repeat(65),
        ..erase_request(&id)
    };
    let status = client
        .erase_job_seeker(h.request(long, "supervisor-1", Role::Supervisor))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        !h.stored_events()
            .await
            .contains(&"JobSeekerErased".to_owned())
    );
    shows_the_person(&get(&h, &id).await);
}

/// A tampered sealed field in the store is an error, never shown as some
/// other person or as erased.
#[tokio::test]
async fn art_8_a_flipped_bit_in_a_stored_sealed_field_does_not_open() {
    let h = start().await;
    let id = register(&h).await.job_seeker.unwrap().job_seeker_id;
    let pool = h.pool().await;
    let (event_id, payload): (Uuid, Vec<u8>) = sqlx::query_as(
        "SELECT event_id, payload FROM events WHERE event_type = 'JobSeekerRegistered'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let mut message = proto::JobSeekerRegistered::decode(payload.as_slice()).unwrap();
    message.sealed_name.as_mut().unwrap().ciphertext[0] ^= 0x01;
    sqlx::query("UPDATE events SET payload = $2 WHERE event_id = $1")
        .bind(event_id)
        .bind(message.encode_to_vec())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let status = h
        .client()
        .await
        .get_job_seeker(h.request(
            proto::GetJobSeekerRequest { job_seeker_id: id },
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert!(!status.message().contains(FAMILY));
}

fn metadata() -> EventMetadata {
    EventMetadata {
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        actor: Actor {
            subject: "counsellor-1".into(),
            role: hellowork_proto::events::v1::Role::Counsellor,
        },
        traceparent: None,
        tracestate: None,
    }
}

/// Step 8's upgrade: a registration stored and published in clear before
/// sealing existed is resealed when the service starts, in the store and
/// on the stream, and still reads as it was.
#[tokio::test]
async fn art_8_registrations_stored_in_clear_before_sealing_are_resealed_at_start_up() {
    let prepared = prepare().await;
    let settings = RegistrationSettings::from_vars(Environment::Development, Vec::new()).unwrap();
    let parsed = |r: &proto::RegisterJobSeekerRequest| {
        let n = r.name.as_ref().unwrap();
        let d = r.date_of_birth.unwrap();
        let c = r.contact.as_ref().unwrap();
        let today = domain::tokyo_date(chrono::Utc::now());
        domain::derived_id(
            &settings.identity_key,
            &domain::PersonName::parse(
                &n.family_name,
                &n.given_name,
                &n.family_name_reading,
                &n.given_name_reading,
            )
            .unwrap(),
            domain::DateOfBirth::parse(d.year, d.month, d.day, today).unwrap(),
            &domain::Contact::parse(&c.email, &c.phone_number).unwrap(),
        )
    };
    let id = parsed(&registration());

    // The old form, stored through the event store and published.
    let legacy = proto::LegacyJobSeekerRegistered {
        job_seeker_id: id.to_string(),
        channel: proto::RegistrationChannel::Counter.into(),
        category: proto::RegistrantCategory::HelloWorkUser.into(),
        status: proto::RegistrationStatus::Complete.into(),
        name: Some(name()),
        date_of_birth: Some(birth()),
        contact: Some(contact()),
    };
    let pool = schema_pool(&prepared.env).await;
    let store = EventStore::new(
        pool.clone(),
        StoreConfig::new("registration"),
        Upcasters::new(),
    );
    let stream = StreamId::new(domain::stream_name(id)).unwrap();
    store
        .append(
            &stream,
            ExpectedVersion::NoStream,
            vec![NewEvent {
                event_id: Uuid::now_v7(),
                event_type: "JobSeekerRegistered".into(),
                schema_version: 1,
                payload: legacy.encode_to_vec(),
                occurred_at: chrono::Utc::now(),
                metadata: metadata(),
            }],
        )
        .await
        .unwrap();
    let recorded = store.read_stream(&stream, 0).await.unwrap().remove(0);
    let jetstream = prepared.stream().await;
    jetstream
        .publish_with_headers(
            envelope::subject(&prepared.env.subject_prefix, "JobSeekerRegistered"),
            envelope::headers(&recorded),
            envelope::to_envelope("registration", &recorded)
                .encode_to_vec()
                .into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    // Not vacuous: the clear values are there before the upgrade.
    let published = jetstream
        .get_stream(&prepared.env.stream_name)
        .await
        .unwrap()
        .get_raw_message(1)
        .await
        .unwrap();
    assert!(Needle::new("email", EMAIL.as_bytes()).found_in(&published.payload));
    let before = schema_values(&pool).await;
    let found = findings(
        before.iter().map(|(p, v)| (p.clone(), v.as_slice())),
        &needles(),
    );
    assert!(
        found.iter().any(|f| f.starts_with("events.payload")),
        "{found:?}"
    );
    pool.close().await;

    let h = prepared.start().await;
    assert_nothing_in_clear(&h, &["events.payload", "person_data_keys.wrapped_key"]).await;
    let seeker = get(&h, &id.to_string()).await;
    shows_the_person(&seeker);
    assert_eq!(seeker.status(), proto::RegistrationStatus::Complete);

    // The stream holds the resealed envelope: the store's ciphertext, under
    // the original event id.
    let pool = h.pool().await;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT payload FROM events WHERE event_id = $1")
        .bind(recorded.event_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    let upgrades: i64 = sqlx::query_scalar("SELECT count(*) FROM completed_upgrades")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(upgrades, 1);
    let republished: Vec<_> = h
        .published()
        .await
        .into_iter()
        .map(|m| envelope::decode(&m.payload).unwrap())
        .filter(|e| e.event_id == recorded.event_id)
        .collect();
    assert!(!republished.is_empty());
    assert!(republished.iter().all(|e| e.payload == stored));

    // The same person registering again is recognised: nothing written.
    assert!(!register(&h).await.created);
}

#[test]
fn every_form_of_a_value_is_found_and_nothing_else() {
    let needle = Needle::new("email", b"mio@example.jp");
    for offset in 0..3 {
        let blob = [vec![7u8; offset], b"mio@example.jp".to_vec(), vec![9u8; 4]].concat();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&blob);
        assert!(needle.found_in(encoded.as_bytes()), "offset {offset}");
    }
    assert!(needle.found_in(b"xx6d696f406578616d706c652e6a70yy"));
    assert!(needle.found_in(b"<mio@example.jp>"));
    assert!(!needle.found_in(b"mio@example.com"));
}
