//! Art. 8: officers' notes about a person are sealed with the person's
//! scheduling data key: no table of scheduling's and no message on its
//! stream holds them in clear (raw, hex or base64), views open them, and
//! once registration erases the person (`EraseJobSeeker`), scheduling
//! destroys the key: the bookings stay, their notes show as erased, and
//! nothing new about the person is recorded.

mod support;

use hellowork_platform::Role;
use hellowork_proto::{
    registration::v1 as registration,
    scheduling::v1::{self as proto, SessionStopped},
};
use prost::Message;
use support::{
    privacy::Needle,
    world::{World, eventually, request_id},
};
use tonic::Code;
use tonic_types::StatusExt;

const STOP_NOTE: &str = "Kazuko mentioned her depression treatment at Saitama clinic";
const REFUSAL_NOTE: &str = "threatened counsellor Ito twice; police report 4711-Q";
const LIFT_NOTE: &str = "apologised in writing, letter ref 8842-ZX";

fn needles() -> Vec<Needle> {
    [
        ("stop note", STOP_NOTE),
        ("refusal note", REFUSAL_NOTE),
        ("lift note", LIFT_NOTE),
        ("stop note's words", "depression treatment"),
        ("refusal note's words", "police report 4711-Q"),
    ]
    .iter()
    .map(|(what, clear)| Needle::new(what, clear.as_bytes()))
    .collect()
}

async fn get_booking(world: &World, booking: &str) -> proto::Booking {
    world
        .client()
        .await
        .get_booking(world.request_as(
            "supervisor-1",
            Role::Supervisor,
            proto::GetBookingRequest {
                booking_id: booking.into(),
            },
        ))
        .await
        .expect("booking")
        .into_inner()
        .booking
        .unwrap()
}

async fn listed(world: &World, seeker: &str) -> Vec<proto::Booking> {
    world
        .client()
        .await
        .list_bookings(world.request_as(
            "supervisor-1",
            Role::Supervisor,
            proto::ListBookingsRequest {
                job_seeker_id: seeker.into(),
                ..Default::default()
            },
        ))
        .await
        .expect("bookings")
        .into_inner()
        .bookings
}

/// Nothing of the notes in clear anywhere; the scan covers at least the
/// `columns` named (a column holding only NULLs yields nothing to scan).
async fn assert_nothing_in_clear(world: &World, columns: &[&str]) {
    let scanned: Vec<String> = world
        .schema_values()
        .await
        .into_iter()
        .map(|(place, _)| place)
        .collect();
    for column in columns {
        assert!(scanned.iter().any(|c| c == column), "{column} not scanned");
    }
    assert!(!world.published().await.is_empty());
    let found = world.in_clear(&needles()).await;
    assert!(found.is_empty(), "in clear: {found:?}");
}

#[tokio::test]
async fn art_8_notes_are_sealed_per_person_and_show_as_erased_once_registration_erases_them() {
    let mut world = World::start("24h").await;
    let (seeker, booking) = world.ready_booking(1, "counsellor-1").await;
    let mut client = world.client().await;
    client
        .join_session(world.request_as(
            &seeker,
            Role::JobSeeker,
            proto::JoinSessionRequest {
                booking_id: booking.clone(),
                device: Some(proto::DeviceIdentifiers {
                    device_id: "device-1".into(),
                    ip_address: "203.0.113.7".into(),
                    ..Default::default()
                }),
                sealed_device: None,
            },
        ))
        .await
        .expect("joined");
    client
        .stop_session(world.request_as(
            "counsellor-1",
            Role::Counsellor,
            proto::StopSessionRequest {
                booking_id: booking.clone(),
                reason: proto::ConductReason::OtherObstruction.into(),
                note: STOP_NOTE.into(),
            },
        ))
        .await
        .expect("stopped");
    let refusal = client
        .refuse_online_services(world.request_as(
            "supervisor-1",
            Role::Supervisor,
            proto::RefuseOnlineServicesRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                reason: proto::ConductReason::Threat.into(),
                note: REFUSAL_NOTE.into(),
                booking_id: booking.clone(),
            },
        ))
        .await
        .expect("refused")
        .into_inner()
        .refusal
        .unwrap();
    assert_eq!(
        (refusal.note.as_str(), refusal.note_erased),
        (REFUSAL_NOTE, false)
    );
    let lifted = client
        .lift_refusal(world.request_as(
            "supervisor-1",
            Role::Supervisor,
            proto::LiftRefusalRequest {
                refusal_id: refusal.refusal_id.clone(),
                note: LIFT_NOTE.into(),
            },
        ))
        .await
        .expect("lifted")
        .into_inner()
        .refusal
        .unwrap();
    assert_eq!(lifted.note, REFUSAL_NOTE);

    // The views open the note; the store holds it sealed with the person's key.
    let before = get_booking(&world, &booking).await;
    let stop = before.stop.clone().unwrap();
    assert_eq!((stop.note.as_str(), stop.note_erased), (STOP_NOTE, false));
    let stored = world.stored_payloads("SessionStopped").await;
    let stored = SessionStopped::decode(stored[0].as_slice()).unwrap();
    assert!(stored.note.is_empty());
    assert_eq!(
        stored.sealed_note.unwrap().data_key_id,
        format!("scheduling/{seeker}/1")
    );
    // Everything is published before the scan counts.
    eventually("the stream holds every event", || async {
        (world.published().await.len() == world.stored_events().await.len()).then_some(())
    })
    .await;
    assert_nothing_in_clear(&world, &["events.payload", "person_data_keys.wrapped_key"]).await;

    world
        .registrations()
        .await
        .erase_job_seeker(world.registration_env.request(
            registration::EraseJobSeekerRequest {
                job_seeker_id: seeker.clone(),
                reason: registration::ErasureReason::AppiRequest.into(),
                reference: "APPI-2026-0042".into(),
            },
            "supervisor-1",
            Role::Supervisor,
        ))
        .await
        .expect("erased");
    let after = eventually("the note shows erased", || async {
        let booking = get_booking(&world, &booking).await;
        booking.stop.as_ref()?.note_erased.then_some(booking)
    })
    .await;
    // The booking stays as it was, its note gone.
    let mut expected = before.clone();
    let stop = expected.stop.as_mut().unwrap();
    stop.note = String::new();
    stop.note_erased = true;
    assert_eq!(after, expected);
    assert_eq!(listed(&world, &seeker).await, vec![expected]);
    assert_nothing_in_clear(
        &world,
        &["events.payload", "person_data_keys.job_seeker_id"],
    )
    .await;

    // Nothing new about the erased person is recorded (Art. 8).
    let status = client
        .refuse_online_services(world.request_as(
            "supervisor-1",
            Role::Supervisor,
            proto::RefuseOnlineServicesRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                reason: proto::ConductReason::Threat.into(),
                note: REFUSAL_NOTE.into(),
                booking_id: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(
        status.get_error_details().error_info().unwrap().reason,
        "ART_8"
    );
    // A person's later refusal without a note is still recorded.
    let silent = client
        .refuse_online_services(world.request_as(
            "supervisor-1",
            Role::Supervisor,
            proto::RefuseOnlineServicesRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                reason: proto::ConductReason::Threat.into(),
                note: String::new(),
                booking_id: String::new(),
            },
        ))
        .await
        .expect("refused without a note")
        .into_inner()
        .refusal
        .unwrap();
    assert!(silent.note_erased);
}
