//! Art. 7(2), 8: Step 8's start-up upgrade. Joins and leaves stored and
//! published with device identifiers in clear, and stops with their note in
//! clear, before sealing existed, are resealed when scheduling starts (with
//! the audit-log up): afterwards no table of scheduling's and no message on
//! its stream holds them in clear, the identifiers open with the
//! audit-log's key for their booking, and the views read as before.

mod support;

use hellowork_audit_log::AuditLogSettings;
use hellowork_eventstore::{
    Actor, EventMetadata, EventStore, ExpectedVersion, NewEvent, StoreConfig, StreamId, Upcasters,
    envelope,
};
use hellowork_platform::{Environment, Role};
use hellowork_proto::{
    scheduling::v1::{
        self as proto, ConductReason, DeviceIdentifiers, Offering, SessionJoined, SessionLeft,
        SessionStopped,
    },
    sealing::v1 as sealing,
};
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
    let (seeker, stopped) = world.ready_booking(1, "counsellor-1").await;
    let (other, left) = world.ready_booking(2, "counsellor-2").await;

    // The old forms, appended through the event store while scheduling runs
    // (its relay publishes them, in clear, as it did before Step 8).
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
    let stopped_slot = get_booking(&world, &stopped).await.slot_id;
    let left_slot = get_booking(&world, &left).await.slot_id;
    let joined = |booking: &str, slot: &str, person: &str| {
        legacy(
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
        )
    };
    let stop = legacy(
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
    );
    let leave = legacy(
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
    );
    // Each schedule's stream with the versions its legacy events start after.
    let mut streams = Vec::new();
    for (counsellor, events) in [
        (
            "counsellor-1",
            vec![joined(&stopped, &stopped_slot, &seeker), stop],
        ),
        (
            "counsellor-2",
            vec![joined(&left, &left_slot, &other), leave],
        ),
    ] {
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
    // As read from the store by an instance that kept nothing (the upgrade
    // already recorded, it changes nothing): the running one keeps the
    // instants of its own commands at a finer precision than the store's.
    let registration_url = world.url_of(world.registration.as_ref());
    let consent_url = world.url_of(world.consent.as_ref());
    world.scheduling.shutdown.cancel();
    world.scheduling = world
        .start_scheduling("24h", &registration_url, &consent_url)
        .await;
    let views_before = (
        get_booking(&world, &stopped).await,
        get_booking(&world, &left).await,
    );
    assert_eq!(
        views_before.0.stop.as_ref().map(|s| s.note.as_str()),
        Some(NOTE)
    );
    assert_eq!(views_before.1.state(), proto::BookingState::Completed);

    // A database from before Step 8 has no upgrade recorded: restart on it.
    world.scheduling.shutdown.cancel();
    sqlx::query("DELETE FROM completed_upgrades")
        .execute(&pool)
        .await
        .unwrap();
    world.scheduling = world
        .start_scheduling("24h", &registration_url, &consent_url)
        .await;
    eventually("both reseal steps recorded", || {
        let pool = pool.clone();
        async move {
            let done: i64 = sqlx::query_scalar("SELECT count(*) FROM completed_upgrades")
                .fetch_one(&pool)
                .await
                .ok()?;
            (done == 2).then_some(())
        }
    })
    .await;

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
