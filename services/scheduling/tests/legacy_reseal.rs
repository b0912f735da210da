//! Art. 7(2), 8: Step 8's start-up upgrade. Joins and leaves stored and
//! published with device identifiers in clear, and stops with their note in
//! clear, before sealing existed, are resealed when scheduling starts (with
//! the audit-log up): afterwards no table of scheduling's and no message on
//! its stream holds them in clear, the identifiers open with the
//! audit-log's key for their booking, and the views read as before.
//! The bookings are in the form of then, all their events on their
//! counsellors' schedules, so the same start-up also carries each over to
//! its own stream (Step 11), its note sealed and no device copied.

mod support;

use hellowork_audit_log::AuditLogSettings;
use hellowork_eventstore::{
    Actor, EventMetadata, EventStore, ExpectedVersion, NewEvent, StoreConfig, StreamId, Upcasters,
    envelope,
};
use hellowork_platform::{Environment, Role};
use hellowork_proto::{
    scheduling::v1::{
        self as proto, BookingCarriedOver, ConductReason, DeviceIdentifiers, Offering,
        PreSessionChecklistCompleted, SessionBooked, SessionJoined, SessionLeft, SessionStopped,
    },
    sealing::v1 as sealing,
};
use hellowork_scheduling::domain::timestamp;
use prost::Message;
use support::{
    privacy::Needle,
    world::{World, eventually},
};
use uuid::Uuid;

const DEVICE_ID: &str = "legacy-device-QX81-5521";
const IP: &str = "198.51.100.173";
const AGENT: &str = "LegacyAgent/9.31 (pre-sealing)";
const NOTE: &str = "Tanaka-san disclosed a bipolar diagnosis, ward 3";

fn device() -> DeviceIdentifiers {
    DeviceIdentifiers {
        device_id: DEVICE_ID.into(),
        ip_address: IP.into(),
        user_agent: AGENT.into(),
        os_name: "Windows".into(),
        os_version: "10".into(),
    }
}

fn needles() -> Vec<Needle> {
    [
        ("device id", DEVICE_ID),
        ("ip address", IP),
        ("user agent", AGENT),
        ("note", NOTE),
    ]
    .iter()
    .map(|(what, clear)| Needle::new(what, clear.as_bytes()))
    .collect()
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

fn legacy(event_type: &str, payload: Vec<u8>) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: event_type.into(),
        schema_version: 1,
        payload,
        occurred_at: chrono::Utc::now(),
        metadata: metadata(),
    }
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

#[tokio::test]
async fn art_7_8_identifiers_and_notes_stored_in_clear_before_sealing_are_resealed_at_start_up() {
    // Three scheduling instances in turn, each declaring its connections.
    hellowork_testing::budget::exclusive();
    let mut world = World::start("24h").await;
    let seeker = world.eligible_person(1).await;
    let other = world.eligible_person(2).await;
    let stopped_slot = world
        .publish("counsellor-1", Offering::Counselling, 48, 1)
        .await
        .slot_id;
    let left_slot = world
        .publish("counsellor-2", Offering::Counselling, 48, 1)
        .await
        .slot_id;
    let (stopped, left) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());

    // Two bookings in their old form, as a database from before Step 8 (and
    // Step 11) holds them: all their events on their counsellors' schedules,
    // device identifiers and notes in clear. Appended through the event
    // store while scheduling runs (its relay publishes them, in clear, as it
    // did then).
    let options: sqlx::postgres::PgConnectOptions = world.env.database.url.parse().unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.options([("search_path", "scheduling")]))
        .await
        .unwrap();
    let store = EventStore::new(
        pool.clone(),
        StoreConfig::new("scheduling"),
        Upcasters::new(),
    );
    let lived = |booking: &str, slot: &str, person: &str, counsellor: &str| {
        let at = chrono::Utc::now() + chrono::Duration::hours(48);
        let mut events = vec![
            legacy(
                "SessionBooked",
                SessionBooked {
                    booking_id: booking.into(),
                    slot_id: slot.into(),
                    job_seeker_id: person.into(),
                    counsellor_id: counsellor.into(),
                    offering: Offering::Counselling.into(),
                    start_time: Some(timestamp(at)),
                    end_time: Some(timestamp(at + chrono::Duration::hours(1))),
                    attendant_cutoff: Some(timestamp(at - chrono::Duration::hours(24))),
                }
                .encode_to_vec(),
            ),
            legacy(
                "PreSessionChecklistCompleted",
                PreSessionChecklistCompleted {
                    booking_id: booking.into(),
                    job_seeker_id: person.into(),
                    confirmed_items: (1..=6).collect(),
                }
                .encode_to_vec(),
            ),
        ];
        events.push(legacy(
            "SessionJoined",
            SessionJoined {
                booking_id: booking.into(),
                slot_id: slot.into(),
                job_seeker_id: person.into(),
                offering: Offering::Counselling.into(),
                device: Some(device()),
                sealed_device: None,
            }
            .encode_to_vec(),
        ));
        events
    };
    let mut stop = lived(&stopped, &stopped_slot, &seeker, "counsellor-1");
    stop.push(legacy(
        "SessionStopped",
        SessionStopped {
            booking_id: stopped.clone(),
            slot_id: stopped_slot.clone(),
            job_seeker_id: seeker.clone(),
            reason: ConductReason::OtherObstruction.into(),
            note: NOTE.into(),
            sealed_note: None,
        }
        .encode_to_vec(),
    ));
    let mut leave = lived(&left, &left_slot, &other, "counsellor-2");
    leave.push(legacy(
        "SessionLeft",
        SessionLeft {
            booking_id: left.clone(),
            slot_id: left_slot.clone(),
            job_seeker_id: other.clone(),
            offering: Offering::Counselling.into(),
            device: Some(device()),
            sealed_device: None,
        }
        .encode_to_vec(),
    ));
    // Each schedule's stream with the versions its legacy events start after.
    let mut streams = Vec::new();
    for (counsellor, events) in [("counsellor-1", stop), ("counsellor-2", leave)] {
        let stream = StreamId::new(format!("scheduling-counsellor-{counsellor}")).unwrap();
        let version = store
            .read_stream(&stream, 0)
            .await
            .unwrap()
            .last()
            .unwrap()
            .stream_version;
        store
            .append(&stream, ExpectedVersion::Exact(version), events)
            .await
            .unwrap();
        streams.push((stream, version));
    }
    // Not vacuous: the clear values are in the store and on the stream.
    eventually("the legacy events published", || async {
        (world.published().await.len() == world.stored_events().await.len()).then_some(())
    })
    .await;
    let found = world.in_clear(&needles()).await;
    for place in ["events.payload", "message"] {
        assert!(found.iter().any(|f| f.starts_with(place)), "{found:?}");
    }

    // A database from before Step 8 has no upgrade recorded: restart on it.
    let registration_url = world.url_of(world.registration.as_ref());
    let consent_url = world.url_of(world.consent.as_ref());
    world.scheduling.shutdown.cancel();
    sqlx::query("DELETE FROM completed_upgrades")
        .execute(&pool)
        .await
        .unwrap();
    world.scheduling = world
        .start_scheduling("24h", &registration_url, &consent_url)
        .await;
    eventually("both reseal steps and the carry-over recorded", || {
        let pool = pool.clone();
        async move {
            let done: i64 = sqlx::query_scalar("SELECT count(*) FROM completed_upgrades")
                .fetch_one(&pool)
                .await
                .ok()?;
            (done == 3).then_some(())
        }
    })
    .await;
    // Step 11: each booking answers from its own stream, carried over.
    let views_before = (
        get_booking(&world, &stopped).await,
        get_booking(&world, &left).await,
    );
    assert_eq!(
        views_before.0.stop.as_ref().map(|s| s.note.as_str()),
        Some(NOTE)
    );
    assert_eq!(views_before.0.state(), proto::BookingState::Stopped);
    assert_eq!(views_before.1.state(), proto::BookingState::Completed);
    assert!(views_before.1.joined_at.is_some() && views_before.1.left_at.is_some());
    for booking in [&stopped, &left] {
        let own = StreamId::new(format!("scheduling-booking-{booking}")).unwrap();
        let carried = store.read_stream(&own, 0).await.unwrap();
        assert_eq!(carried.len(), 1);
        assert_eq!(carried[0].event_type, "BookingCarriedOver");
        let copies = BookingCarriedOver::decode(carried[0].payload.as_slice())
            .unwrap()
            .events;
        assert_eq!(copies.len(), 4);
        for copy in copies.iter().filter(|c| c.event_type == "SessionJoined") {
            let joined = SessionJoined::decode(copy.payload.as_slice()).unwrap();
            assert!(joined.device.is_none() && joined.sealed_device.is_none());
        }
        for copy in copies.iter().filter(|c| c.event_type == "SessionStopped") {
            let stop = SessionStopped::decode(copy.payload.as_slice()).unwrap();
            assert!(stop.note.is_empty() && stop.sealed_note.is_some());
        }
    }

    let found = world.in_clear(&needles()).await;
    assert!(found.is_empty(), "in clear after the upgrade: {found:?}");
    let keys = AuditLogSettings::from_vars(Environment::Development, Vec::new())
        .unwrap()
        .sealing;
    let plaintext = {
        let d = device();
        sealing::DeviceIdentifiers {
            device_id: d.device_id,
            ip_address: d.ip_address,
            user_agent: d.user_agent,
            os_name: d.os_name,
            os_version: d.os_version,
        }
        .encode_to_vec()
    };
    let published: Vec<_> = world
        .published()
        .await
        .into_iter()
        .map(|(_, body)| envelope::decode(&body).unwrap())
        .collect();
    let mut opened = 0;
    for (stream, version) in &streams {
        for event in store.read_stream(stream, *version).await.unwrap() {
            // The stream's copy is the store's, under the original event id.
            let copies: Vec<_> = published
                .iter()
                .filter(|p| p.event_id == event.event_id)
                .collect();
            assert_eq!(copies.len(), 1, "{}", event.event_type);
            assert_eq!(copies[0].payload, event.payload);
            let (booking, device, sealed) = match event.event_type.as_str() {
                "SessionJoined" => {
                    let e = SessionJoined::decode(event.payload.as_slice()).unwrap();
                    (e.booking_id, e.device, e.sealed_device)
                }
                "SessionLeft" => {
                    let e = SessionLeft::decode(event.payload.as_slice()).unwrap();
                    (e.booking_id, e.device, e.sealed_device)
                }
                _ => continue,
            };
            assert!(device.is_none());
            let open = keys
                .open(&sealed.unwrap().into(), booking.as_bytes())
                .unwrap();
            assert_eq!(open.as_slice(), plaintext.as_slice());
            opened += 1;
        }
    }
    assert_eq!(opened, 3);
    assert_eq!(
        (
            get_booking(&world, &stopped).await,
            get_booking(&world, &left).await
        ),
        views_before
    );
    pool.close().await;
}
