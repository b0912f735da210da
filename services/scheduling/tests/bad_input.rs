//! Bad input (issue "Step 7"): every RPC of the scheduling service, as its
//! contract lists them, called with generated requests — mutations of valid
//! ones, random structured messages, raw wire bytes — under a valid token of
//! a role its contract allows, and with bad tokens, while the real
//! registration and consent services answer eligibility. It answers OK, or
//! INVALID_ARGUMENT with field violations, or a refusal with details; never
//! INTERNAL or UNAVAILABLE; a call that is not OK writes no event; the
//! service stays healthy. 64 cases per RPC, or `PROPTEST_CASES`.

mod support;

use hellowork_platform::Role;
use hellowork_proto::scheduling::v1::{self as proto, Offering};
use hellowork_testing::bad_input::{self, Hints, Target};
use support::world::{World, request_id};

const COUNSELLOR: &str = "counsellor-1";
const SUPERVISOR: &str = "supervisor-1";

fn target(world: &World) -> Target<'_> {
    Target {
        service: hellowork_scheduling::SERVICE_NAME,
        health: hellowork_scheduling::SERVICE_NAME,
        schema: "scheduling",
        addr: world.scheduling.addr,
        env: &world.env,
        recorded_refusals: &[],
    }
}

fn device() -> proto::DeviceIdentifiers {
    proto::DeviceIdentifiers {
        device_id: "front-device-1".into(),
        ip_address: "198.51.100.7".into(),
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0".into(),
        os_name: "Windows".into(),
        os_version: "11".into(),
    }
}

fn date_of(slot: &proto::Slot) -> proto::Date {
    use chrono::Datelike;
    let start = hellowork_scheduling::domain::to_datetime(slot.start_time.as_ref()).unwrap();
    let day = hellowork_scheduling::domain::tokyo_date(start);
    proto::Date {
        year: day.year(),
        month: i32::try_from(day.month()).unwrap(),
        day: i32::try_from(day.day()).unwrap(),
    }
}

/// An eligible person with two bookings (one to cancel), a free slot to
/// reschedule to, a seminar with seats, a refused person, and a valid
/// request of every RPC about them.
async fn prepare(world: &mut World) -> Hints {
    let seeker = world.eligible_person(1).await;
    let main = world
        .publish(COUNSELLOR, Offering::Counselling, 48, 1)
        .await;
    let other = world
        .publish(COUNSELLOR, Offering::Counselling, 120, 1)
        .await;
    let free = world
        .publish(COUNSELLOR, Offering::Counselling, 72, 1)
        .await;
    let seminar = world.publish(COUNSELLOR, Offering::Seminar, 96, 20).await;
    let mut client = world.client().await;
    let mut bookings = Vec::new();
    for slot in [&main, &other] {
        let booking = client
            .book_session(world.booking_request(slot, &seeker))
            .await
            .expect("booked")
            .into_inner()
            .booking
            .unwrap();
        bookings.push(booking.booking_id);
    }
    let [booking, to_cancel] = <[String; 2]>::try_from(bookings).unwrap();
    let refused = uuid::Uuid::now_v7().to_string();
    let refuse = proto::RefuseOnlineServicesRequest {
        request_id: request_id(),
        job_seeker_id: refused.clone(),
        reason: proto::ConductReason::AbusiveLanguage.into(),
        note: "abusive language in the session".into(),
        booking_id: String::new(),
    };
    let refusal = client
        .refuse_online_services(world.request(refuse.clone(), SUPERVISOR, Role::Supervisor))
        .await
        .expect("refused")
        .into_inner()
        .refusal
        .unwrap()
        .refusal_id;

    let mut hints = Hints::default();
    hints
        .subject(Role::JobSeeker, &seeker)
        .subject(Role::Counsellor, COUNSELLOR)
        .subject(Role::Supervisor, SUPERVISOR)
        .string(&main.slot_id)
        .string(&free.slot_id)
        .string(&seminar.slot_id)
        .string(&booking)
        .string(&to_cancel)
        .string(&refused)
        .string(&refusal);
    for slot in [&main, &other, &free, &seminar] {
        hints.instant(slot.start_time.unwrap().seconds);
    }
    hints
        .seed(
            "PublishAvailability",
            &proto::PublishAvailabilityRequest {
                request_id: request_id(),
                counsellor_id: COUNSELLOR.into(),
                offering: Offering::Counselling.into(),
                start_time: Some(prost_types::Timestamp {
                    seconds: main.start_time.unwrap().seconds + 7 * 86_400,
                    nanos: 0,
                }),
                end_time: Some(prost_types::Timestamp {
                    seconds: main.start_time.unwrap().seconds + 7 * 86_400 + 7200,
                    nanos: 0,
                }),
                slot_length: Some(prost_types::Duration {
                    seconds: 1800,
                    nanos: 0,
                }),
                capacity: 1,
            },
        )
        .seed(
            "ListFreeSlots",
            &proto::ListFreeSlotsRequest {
                offering: Offering::Counselling.into(),
                date: Some(date_of(&free)),
                counsellor_id: String::new(),
                page_size: 0,
                page_token: String::new(),
            },
        )
        .seed(
            "BookSession",
            &proto::BookSessionRequest {
                request_id: request_id(),
                slot_id: seminar.slot_id.clone(),
                job_seeker_id: seeker.clone(),
                attendants: vec![proto::AttendantKind::Interpreter.into()],
            },
        )
        .seed(
            "GetBooking",
            &proto::GetBookingRequest {
                booking_id: booking.clone(),
            },
        )
        .seed(
            "CancelBooking",
            &proto::CancelBookingRequest {
                booking_id: to_cancel.clone(),
                reason: proto::CancellationReason::ByJobSeeker.into(),
            },
        )
        .seed(
            "RescheduleBooking",
            &proto::RescheduleBookingRequest {
                request_id: request_id(),
                booking_id: booking.clone(),
                new_slot_id: free.slot_id.clone(),
            },
        )
        .seed(
            "DeclareAttendant",
            &proto::DeclareAttendantRequest {
                request_id: request_id(),
                booking_id: booking.clone(),
                kind: proto::AttendantKind::Caregiver.into(),
            },
        )
        .seed(
            "CompletePreSessionChecklist",
            &proto::CompletePreSessionChecklistRequest {
                booking_id: booking.clone(),
                confirmed_items: (1..=6).collect(),
            },
        )
        .seed(
            "AcknowledgePrivateRoom",
            &proto::AcknowledgePrivateRoomRequest {
                booking_id: booking.clone(),
            },
        )
        .seed(
            "AcknowledgeNoRecording",
            &proto::AcknowledgeNoRecordingRequest {
                booking_id: booking.clone(),
            },
        )
        .seed(
            "JoinSession",
            &proto::JoinSessionRequest {
                booking_id: booking.clone(),
                device: Some(device()),
                sealed_device: None,
            },
        )
        .seed(
            "LeaveSession",
            &proto::LeaveSessionRequest {
                booking_id: booking.clone(),
                device: Some(device()),
                sealed_device: None,
            },
        )
        .seed(
            "StopSession",
            &proto::StopSessionRequest {
                booking_id: booking.clone(),
                reason: proto::ConductReason::OtherObstruction.into(),
                note: "the connection was used for another purpose".into(),
            },
        )
        .seed("RefuseOnlineServices", &refuse)
        .seed(
            "LiftRefusal",
            &proto::LiftRefusalRequest {
                refusal_id: refusal,
                note: "apologised".into(),
            },
        )
        .seed(
            "ListBookings",
            &proto::ListBookingsRequest {
                job_seeker_id: seeker,
                states: vec![proto::BookingState::Confirmed.into()],
                page_size: 1,
                page_token: String::new(),
            },
        )
        .seed(
            "GetCounsellorDay",
            &proto::GetCounsellorDayRequest {
                counsellor_id: COUNSELLOR.into(),
                date: Some(date_of(&main)),
            },
        );
    hints
}

#[test]
fn every_rpc_answers_bad_requests_with_details_and_writes_nothing() {
    let runtime = bad_input::runtime();
    let mut world = runtime.block_on(World::start("24h"));
    let hints = runtime.block_on(prepare(&mut world));
    let report = bad_input::every_rpc(&runtime, target(&world), hints);
    eprintln!("scheduling, bad requests:\n{report}");
    report.assert_passed();
}

#[test]
fn bad_tokens_are_unauthenticated_and_write_nothing() {
    let runtime = bad_input::runtime();
    let mut world = runtime.block_on(World::start("24h"));
    let hints = runtime.block_on(prepare(&mut world));
    let report = bad_input::bad_tokens(&runtime, target(&world), &hints);
    eprintln!("scheduling, bad tokens:\n{report}");
    report.assert_passed();
}
