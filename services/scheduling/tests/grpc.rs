//! The scheduling service over gRPC against the real PostgreSQL and NATS,
//! with the real registration and consent services answering eligibility
//! (Art. 2): booking and its confirmation (Art. 3), the session rules of
//! Art. 12, concurrency, unavailable peers, validation and roles.

mod support;

use chrono::Datelike;
use futures::future::join_all;
use hellowork_platform::Role;
use hellowork_proto::{
    consent::v1 as consent,
    scheduling::v1::{self as proto, ConfirmationNotice, Offering},
};
use support::world::{World, eventually, request_id};
use tonic::Code;
use tonic_types::StatusExt;

fn device() -> proto::DeviceIdentifiers {
    proto::DeviceIdentifiers {
        device_id: "front-device-1".into(),
        ip_address: "198.51.100.7".into(),
        user_agent: "Mozilla/5.0".into(),
        os_name: "Windows".into(),
        os_version: "11".into(),
    }
}

fn precondition_types(status: &tonic::Status) -> Vec<(String, String)> {
    status
        .get_error_details()
        .precondition_failure()
        .map(|p| {
            p.violations
                .iter()
                .map(|v| (v.r#type.clone(), v.subject.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn book_with_an_interpreter_prepare_join_and_leave() {
    let mut world = World::start("24h").await;
    let seeker = world.eligible_person(1).await;
    let slot = world
        .publish("counsellor-1", Offering::Counselling, 48, 1)
        .await;
    let mut client = world.client().await;
    // Free slots by offering and Asia/Tokyo date.
    let start = hellowork_scheduling::domain::to_datetime(slot.start_time.as_ref()).unwrap();
    let day = hellowork_scheduling::domain::tokyo_date(start);
    let date = proto::Date {
        year: chrono::Datelike::year(&day),
        month: chrono::Datelike::month(&day) as i32,
        day: chrono::Datelike::day(&day) as i32,
    };
    let free = client
        .list_free_slots(world.request(
            proto::ListFreeSlotsRequest {
                offering: Offering::Counselling.into(),
                date: Some(date),
                ..Default::default()
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("free slots")
        .into_inner();
    assert_eq!(free.slots.len(), 1);
    assert_eq!(free.slots[0].slot_id, slot.slot_id);
    let mut request = world.booking_request(&slot, &seeker);
    request.get_mut().attendants = vec![proto::AttendantKind::Interpreter.into()];
    let booked = client
        .book_session(request)
        .await
        .expect("booked")
        .into_inner();
    // Art. 3, 12(5): free of charge; device and data costs are the user's.
    assert!(
        booked
            .notices
            .contains(&(ConfirmationNotice::FreeOfCharge as i32))
    );
    assert!(
        booked
            .notices
            .contains(&(ConfirmationNotice::DeviceAndDataCostsBorneByUser as i32))
    );
    let booking = booked.booking.unwrap();
    assert_eq!(booking.state(), proto::BookingState::Confirmed);
    assert_eq!(booking.attendants.len(), 1);
    let id = booking.booking_id.clone();

    // Art. 12(2)-(4): joining before the checklist and acknowledgements.
    let refused = client
        .join_session(world.request_as(
            &seeker,
            Role::JobSeeker,
            proto::JoinSessionRequest {
                booking_id: id.clone(),
                device: Some(device()),
                sealed_device: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let types: Vec<String> = precondition_types(&refused)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(types, ["ART_12_4", "ART_12_3", "ART_12_2"]);

    // Art. 12(4): an incomplete checklist is refused.
    let incomplete = client
        .complete_pre_session_checklist(world.request_as(
            &seeker,
            Role::JobSeeker,
            proto::CompletePreSessionChecklistRequest {
                booking_id: id.clone(),
                confirmed_items: vec![proto::ChecklistItem::MeetingAppReady.into()],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(incomplete.code(), Code::FailedPrecondition);
    assert_eq!(precondition_types(&incomplete).len(), 5);
    client
        .complete_pre_session_checklist(world.request_as(
            &seeker,
            Role::JobSeeker,
            proto::CompletePreSessionChecklistRequest {
                booking_id: id.clone(),
                confirmed_items: (1..=6).collect(),
            },
        ))
        .await
        .expect("checklist");
    client
        .acknowledge_private_room(world.request_as(
            &seeker,
            Role::JobSeeker,
            proto::AcknowledgePrivateRoomRequest {
                booking_id: id.clone(),
            },
        ))
        .await
        .expect("private room");
    client
        .acknowledge_no_recording(world.request_as(
            &seeker,
            Role::JobSeeker,
            proto::AcknowledgeNoRecordingRequest {
                booking_id: id.clone(),
            },
        ))
        .await
        .expect("no recording");
    let joined = client
        .join_session(world.request_as(
            &seeker,
            Role::JobSeeker,
            proto::JoinSessionRequest {
                booking_id: id.clone(),
                device: Some(device()),
                sealed_device: None,
            },
        ))
        .await
        .expect("joined")
        .into_inner()
        .booking
        .unwrap();
    assert_eq!(joined.state(), proto::BookingState::InSession);
    assert!(joined.joined_at.is_some() && joined.checklist_completed_at.is_some());
    let left = client
        .leave_session(world.request_as(
            &seeker,
            Role::JobSeeker,
            proto::LeaveSessionRequest {
                booking_id: id.clone(),
                device: Some(device()),
                sealed_device: None,
            },
        ))
        .await
        .expect("left")
        .into_inner()
        .booking
        .unwrap();
    assert_eq!(left.state(), proto::BookingState::Completed);
    let events = world.stored_events().await;
    for expected in [
        "SlotPublished",
        "SessionBooked",
        "AttendantDeclared",
        "PreSessionChecklistCompleted",
        "PrivateRoomAcknowledged",
        "NoRecordingAcknowledged",
        "SessionJoined",
        "SessionLeft",
    ] {
        assert!(
            events.contains(&expected.to_owned()),
            "{expected} in {events:?}"
        );
    }

    // Queries: the person's bookings and the counsellor's day.
    let listed = eventually("the booking listed as completed", || {
        let mut client = client.clone();
        let request = world.request(
            proto::ListBookingsRequest {
                job_seeker_id: seeker.clone(),
                ..Default::default()
            },
            &seeker,
            Role::JobSeeker,
        );
        async move {
            let bookings = client
                .list_bookings(request)
                .await
                .ok()?
                .into_inner()
                .bookings;
            (bookings.len() == 1).then_some(bookings)
        }
    })
    .await;
    assert_eq!(listed[0].booking_id, id);
    let day_view = client
        .get_counsellor_day(world.request(
            proto::GetCounsellorDayRequest {
                counsellor_id: "counsellor-1".into(),
                date: Some(date),
            },
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .expect("day")
        .into_inner();
    assert_eq!(day_view.slots.len(), 1);
    assert_eq!(day_view.slots[0].bookings.len(), 1);
    // Another counsellor may not see it.
    let denied = client
        .get_counsellor_day(world.request(
            proto::GetCounsellorDayRequest {
                counsellor_id: "counsellor-1".into(),
                date: Some(date),
            },
            "counsellor-2",
            Role::Counsellor,
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    // Art. 8: the person's bookings are read by the counsellor they booked
    // with, not by another, who is refused as about a person with none.
    let bookings_of = |person: &str, counsellor: &str| {
        world.request(
            proto::ListBookingsRequest {
                job_seeker_id: person.to_owned(),
                ..Default::default()
            },
            counsellor,
            Role::Counsellor,
        )
    };
    let served = client
        .list_bookings(bookings_of(&seeker, "counsellor-1"))
        .await
        .expect("the counsellor booked with")
        .into_inner();
    assert_eq!(served.bookings.len(), 1);
    let mut refusals = Vec::new();
    for person in [seeker.clone(), uuid::Uuid::new_v4().to_string()] {
        let status = client
            .list_bookings(bookings_of(&person, "counsellor-2"))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
        assert!(status.message().starts_with("Art. 8: "), "{status:?}");
        refusals.push(status.message().to_owned());
    }
    assert_eq!(refusals[0], refusals[1], "nothing told of the bookings");
}

#[tokio::test]
async fn fifty_clients_for_a_seminar_get_exactly_its_capacity() {
    let mut world = World::start("24h").await;
    let seeker_count = 50;
    let capacity = 3;
    let mut seekers = Vec::new();
    for n in 0..seeker_count {
        seekers.push(world.eligible_person(100 + n).await);
    }
    let slot = world
        .publish("counsellor-1", Offering::Seminar, 48, capacity)
        .await;
    let client = world.client().await;
    let results = join_all(seekers.iter().map(|seeker| {
        let mut client = client.clone();
        let request = world.booking_request(&slot, seeker);
        async move { client.book_session(request).await }
    }))
    .await;
    let booked = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(booked, capacity as usize);
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    }
    let events = world.stored_events().await;
    assert_eq!(
        events.iter().filter(|e| *e == "SessionBooked").count(),
        capacity as usize
    );
}

#[tokio::test]
async fn registration_or_consent_down_is_unavailable_and_writes_nothing() {
    // Four services and two more scheduling instances: more than a share.
    hellowork_testing::budget::exclusive();
    let mut world = World::start("24h").await;
    let seeker = world.eligible_person(1).await;
    let slot = world
        .publish("counsellor-1", Offering::Counselling, 48, 1)
        .await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let registration_url = format!("http://{}", world.registration.as_ref().unwrap().addr);
    let consent_url = format!("http://{}", world.consent.as_ref().unwrap().addr);
    let before = world.stored_events().await.len();
    for (registration, consent) in [(&closed, &consent_url), (&registration_url, &closed)] {
        let instance = world.start_scheduling("24h", registration, consent).await;
        let mut client = world.client_at(&instance).await;
        let status = client
            .book_session(world.booking_request(&slot, &seeker))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    }
    // The registration service stopped: UNAVAILABLE too.
    world.registration.take();
    let mut client = world.client().await;
    let status = client
        .book_session(world.booking_request(&slot, &seeker))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(world.stored_events().await.len(), before);
}

#[tokio::test]
async fn withdrawn_consent_takes_effect_on_the_next_booking() {
    let mut world = World::start("24h").await;
    let seeker = world.eligible_person(1).await;
    let first = world
        .publish("counsellor-1", Offering::Counselling, 48, 1)
        .await;
    let second = world
        .publish("counsellor-1", Offering::Counselling, 72, 1)
        .await;
    let mut client = world.client().await;
    client
        .book_session(world.booking_request(&first, &seeker))
        .await
        .expect("eligible");
    let mut consents = world.consents().await;
    let receipt = consents
        .get_consent_status(world.consent_env.request(
            consent::GetConsentStatusRequest {
                job_seeker_id: seeker.clone(),
                at: None,
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    consents
        .withdraw_consent(world.consent_env.request(
            consent::WithdrawConsentRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                receipt_id: receipt.receipt_id,
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("withdrawn");
    let refused = client
        .book_session(world.booking_request(&second, &seeker))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let violations = precondition_types(&refused);
    assert!(
        violations
            .iter()
            .any(|(t, s)| t == "ART_2_1" && s.contains("CONSENT_WITHDRAWN")),
        "{violations:?}"
    );
}

#[tokio::test]
async fn an_expired_environment_attestation_takes_effect_on_the_next_booking() {
    // Attestations are valid for 30 days (registration's default): patches
    // and antivirus patterns age (Art. 5(3), 5(6)). Eligibility is judged at
    // the session's start, so a session beyond the validity is refused.
    let mut world = World::start("24h").await;
    let seeker = world.eligible_person(1).await;
    let soon = world
        .publish("counsellor-1", Offering::Counselling, 48, 1)
        .await;
    let beyond_validity = world
        .publish("counsellor-1", Offering::Counselling, 24 * 31, 1)
        .await;
    let mut client = world.client().await;
    client
        .book_session(world.booking_request(&soon, &seeker))
        .await
        .expect("within the attestation's validity");
    let refused = client
        .book_session(world.booking_request(&beyond_validity, &seeker))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let violations = precondition_types(&refused);
    assert!(
        violations
            .iter()
            .any(|(t, s)| t.starts_with("ART_5") && s.contains("ENVIRONMENT_ATTESTATION_EXPIRED")),
        "{violations:?}"
    );
    let booked: Vec<String> = world
        .stored_events()
        .await
        .into_iter()
        .filter(|t| t == "SessionBooked")
        .collect();
    assert_eq!(booked.len(), 1, "the refused booking wrote nothing");
}

#[tokio::test]
async fn invalid_input_lists_every_field_and_roles_are_checked() {
    let world = World::start("24h").await;
    let mut client = world.client().await;
    let status = client
        .publish_availability(world.request(
            proto::PublishAvailabilityRequest {
                request_id: "nope".into(),
                counsellor_id: "counsellor-1".into(),
                offering: 0,
                start_time: None,
                end_time: None,
                slot_length: None,
                capacity: 0,
            },
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    assert_eq!(fields, ["request_id", "offering", "start_time", "end_time"]);
    // Another counsellor's availability; a job seeker publishing.
    let slot_request = |counsellor: &str| proto::PublishAvailabilityRequest {
        request_id: request_id(),
        counsellor_id: counsellor.into(),
        offering: Offering::Counselling.into(),
        start_time: Some(prost_types::Timestamp {
            seconds: 2_000_000_000,
            nanos: 0,
        }),
        end_time: Some(prost_types::Timestamp {
            seconds: 2_000_003_600,
            nanos: 0,
        }),
        slot_length: None,
        capacity: 1,
    };
    for (subject, role) in [
        ("counsellor-2", Role::Counsellor),
        ("counsellor-1", Role::JobSeeker),
    ] {
        let status = client
            .publish_availability(world.request(slot_request("counsellor-1"), subject, role))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
    }
    // A person booking for someone else.
    let someone = uuid::Uuid::new_v4().to_string();
    let status = client
        .book_session(world.request(
            proto::BookSessionRequest {
                request_id: request_id(),
                slot_id: uuid::Uuid::new_v4().to_string(),
                job_seeker_id: someone,
                attendants: vec![],
            },
            &uuid::Uuid::new_v4().to_string(),
            Role::JobSeeker,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    // Refusal is the supervisor's.
    let status = client
        .refuse_online_services(world.request(
            proto::RefuseOnlineServicesRequest {
                request_id: request_id(),
                job_seeker_id: uuid::Uuid::new_v4().to_string(),
                reason: proto::ConductReason::Threat.into(),
                ..Default::default()
            },
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(world.stored_events().await.is_empty());
}

#[tokio::test]
async fn attendants_after_the_cutoff_are_refused_citing_art_12_3() {
    let mut world = World::start("24h").await;
    let seeker = world.eligible_person(1).await;
    // The session is in 2 hours: the 24h cut-off has passed.
    let slot = world
        .publish("counsellor-1", Offering::Interview, 2, 1)
        .await;
    let mut client = world.client().await;
    let booking = client
        .book_session(world.booking_request(&slot, &seeker))
        .await
        .expect("booked without attendants")
        .into_inner()
        .booking
        .unwrap();
    let status = client
        .declare_attendant(world.request(
            proto::DeclareAttendantRequest {
                request_id: request_id(),
                booking_id: booking.booking_id,
                kind: proto::AttendantKind::Caregiver.into(),
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(precondition_types(&status)[0].0, "ART_12_3");
}

#[tokio::test]
async fn a_refusal_cancels_open_bookings_and_refuses_new_ones_until_lifted() {
    let mut world = World::start("24h").await;
    let seeker = world.eligible_person(1).await;
    let first = world
        .publish("counsellor-1", Offering::Counselling, 48, 1)
        .await;
    let second = world
        .publish("counsellor-2", Offering::Counselling, 72, 1)
        .await;
    let mut client = world.client().await;
    let booking = client
        .book_session(world.booking_request(&first, &seeker))
        .await
        .expect("booked")
        .into_inner()
        .booking
        .unwrap();
    let refused = client
        .refuse_online_services(world.request_as(
            "supervisor-1",
            Role::Supervisor,
            proto::RefuseOnlineServicesRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                reason: proto::ConductReason::AbusiveLanguage.into(),
                note: String::new(),
                booking_id: booking.booking_id.clone(),
            },
        ))
        .await
        .expect("refused")
        .into_inner();
    assert_eq!(
        refused.cancelled_booking_ids,
        std::slice::from_ref(&booking.booking_id)
    );
    let refusal = refused.refusal.unwrap();
    assert_eq!(refusal.state(), proto::RefusalState::Active);
    let status = client
        .book_session(world.booking_request(&second, &seeker))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        precondition_types(&status)
            .iter()
            .any(|(t, _)| t == "ART_12_1")
    );
    client
        .lift_refusal(world.request_as(
            "supervisor-1",
            Role::Supervisor,
            proto::LiftRefusalRequest {
                refusal_id: refusal.refusal_id.clone(),
                note: "reviewed".into(),
            },
        ))
        .await
        .expect("lifted");
    // Registration learns of the lifting from the scheduling stream.
    eventually("bookable again", || {
        let mut client = client.clone();
        let request = world.booking_request(&second, &seeker);
        async move { client.book_session(request).await.ok() }
    })
    .await;
}

/// Each instance keeps the schedules it works on in memory: one that is
/// behind another instance's writes must still decide on the store's
/// state (capacity holds across instances) and answer with it.
#[tokio::test]
async fn two_instances_on_one_schedule_keep_capacity_and_show_each_others_writes() {
    let mut world = World::start("24h").await;
    let capacity = 3;
    let mut seekers = Vec::new();
    for n in 0..12 {
        seekers.push(world.eligible_person(200 + n).await);
    }
    let registration_url = format!("http://{}", world.registration.as_ref().unwrap().addr);
    let consent_url = format!("http://{}", world.consent.as_ref().unwrap().addr);
    let other = world
        .start_scheduling("24h", &registration_url, &consent_url)
        .await;
    let clients = [world.client().await, world.client_at(&other).await];
    let slot = world
        .publish("counsellor-1", Offering::Seminar, 48, capacity)
        .await;
    // Both instances read the schedule first, so each keeps a state that
    // the other's bookings then leave behind.
    let start = chrono::DateTime::from_timestamp(slot.start_time.unwrap().seconds, 0).unwrap();
    let tokyo_day = (start + chrono::Duration::hours(9)).date_naive();
    for client in &clients {
        let day = client
            .clone()
            .get_counsellor_day(world.request(
                proto::GetCounsellorDayRequest {
                    counsellor_id: "counsellor-1".into(),
                    date: Some(proto::Date {
                        year: tokyo_day.year(),
                        month: i32::try_from(tokyo_day.month()).unwrap(),
                        day: i32::try_from(tokyo_day.day()).unwrap(),
                    }),
                },
                "counsellor-1",
                Role::Counsellor,
            ))
            .await
            .expect("the counsellor's day")
            .into_inner();
        assert_eq!(day.slots.len(), 1, "{day:?}");
    }
    let results = join_all(seekers.iter().enumerate().map(|(n, seeker)| {
        let mut client = clients[n % 2].clone();
        let request = world.booking_request(&slot, seeker);
        async move { client.book_session(request).await }
    }))
    .await;
    let booked: Vec<_> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.get_ref().booking.clone().expect("a booking"))
        .collect();
    assert_eq!(booked.len(), capacity as usize, "{results:?}");
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    }
    let events = world.stored_events().await;
    assert_eq!(
        events.iter().filter(|e| *e == "SessionBooked").count(),
        capacity as usize
    );
    // A write on one instance is what the other answers with next.
    let booking = &booked[0];
    for (writer, reader) in [(0, 1), (1, 0)] {
        let acknowledged = clients[writer]
            .clone()
            .acknowledge_private_room(world.request(
                proto::AcknowledgePrivateRoomRequest {
                    booking_id: booking.booking_id.clone(),
                },
                &booking.job_seeker_id,
                Role::JobSeeker,
            ))
            .await;
        assert!(acknowledged.is_ok(), "{acknowledged:?}");
        let seen = clients[reader]
            .clone()
            .get_booking(world.request(
                proto::GetBookingRequest {
                    booking_id: booking.booking_id.clone(),
                },
                &booking.job_seeker_id,
                Role::JobSeeker,
            ))
            .await
            .expect("the booking")
            .into_inner()
            .booking
            .expect("a booking");
        assert!(
            seen.private_room_acknowledged_at.is_some(),
            "instance {reader} shows instance {writer}'s acknowledgement: {seen:?}"
        );
    }
    other.shutdown.cancel();
}
