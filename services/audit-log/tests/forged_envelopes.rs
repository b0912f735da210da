//! A message on scheduling's stream is trusted only if scheduling signed it:
//! published by someone who may publish there (valid credentials), a
//! `SessionJoined` signed with the wrong key, under a key id nobody
//! configured, unsigned, copied back onto the stream (a replay) or signed
//! long before it was stored is refused by the audit-log's consumer,
//! counted, and never reaches its store, its access log or its inbox; the
//! genuine joins around them are recorded exactly once.

mod support;

use std::collections::BTreeSet;

use chrono::{Duration, TimeDelta, Utc};
use hellowork_audit_log::AuditLogSettings;
use hellowork_eventstore::{
    Actor, EventMetadata, EventSigner, RecordedEvent, StreamId, envelope, metrics::CONSUMER_REFUSED,
};
use hellowork_platform::{Environment, Role};
use hellowork_proto::{
    auditlog::v1 as proto,
    scheduling::v1 as scheduling,
    sealing::v1::{self as sealing, HpkeSealed},
};
use prost::Message as _;
use support::{World, eventually, found_in_schema, range};

/// The audit-log's consumer of scheduling's stream.
const CONSUMER: &str = "auditlog-scheduling";

/// The refusals counted so far for [`CONSUMER`] with `reason` (the
/// recorder is process-wide; this binary has one test).
fn refused(reason: &str) -> u64 {
    let handle = hellowork_telemetry::install_metrics_recorder().unwrap();
    let consumer = format!(r#"consumer="{CONSUMER}""#);
    let reason = format!(r#"reason="{reason}""#);
    handle
        .render()
        .lines()
        .filter(|line| line.starts_with(&format!("{CONSUMER_REFUSED}{{")))
        .filter(|line| line.contains(&consumer) && line.contains(&reason))
        .map(|line| {
            line.rsplit_once(' ')
                .unwrap()
                .1
                .trim()
                .parse::<u64>()
                .unwrap()
        })
        .sum()
}

fn refusals() -> [u64; 4] {
    ["bad_signature", "unknown_key", "unsigned", "replayed"].map(refused)
}

/// `device` sealed to the development keys the test service runs with,
/// for `booking`.
fn sealed(device: &scheduling::DeviceIdentifiers, booking: &str) -> HpkeSealed {
    let plaintext = sealing::DeviceIdentifiers {
        device_id: device.device_id.clone(),
        ip_address: device.ip_address.clone(),
        user_agent: device.user_agent.clone(),
        os_name: device.os_name.clone(),
        os_version: device.os_version.clone(),
    }
    .encode_to_vec();
    AuditLogSettings::from_vars(Environment::Development, Vec::new())
        .unwrap()
        .sealing
        .public_keys()
        .seal(&plaintext, booking.as_bytes())
        .into()
}

/// A join of booking `booking` from device `device_id`, as scheduling
/// records it (its device sealed to this service).
fn joined(booking: &str, device_id: &str) -> RecordedEvent {
    let device = scheduling::DeviceIdentifiers {
        device_id: device_id.to_owned(),
        ip_address: "192.0.2.55".into(),
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.6099.71 Safari/537.36"
            .into(),
        os_name: "Windows".into(),
        os_version: "10.0.19045".into(),
    };
    let payload = scheduling::SessionJoined {
        booking_id: booking.to_owned(),
        slot_id: "s1".into(),
        job_seeker_id: "seeker-9".into(),
        offering: 1,
        device: None,
        sealed_device: Some(sealed(&device, booking)),
    }
    .encode_to_vec();
    RecordedEvent {
        event_id: uuid::Uuid::now_v7(),
        stream_id: StreamId::new(format!("scheduling-booking-{booking}")).unwrap(),
        stream_version: 1,
        event_type: "SessionJoined".to_owned(),
        schema_version: 1,
        payload,
        occurred_at: Utc::now(),
        recorded_at: Utc::now(),
        metadata: EventMetadata {
            correlation_id: uuid::Uuid::now_v7(),
            causation_id: None,
            actor: Actor {
                subject: "seeker-9".into(),
                role: hellowork_proto::events::v1::Role::JobSeeker,
            },
            traceparent: None,
            tracestate: None,
        },
    }
}

/// Publishes `body` on `subject` of scheduling's stream, as anyone with
/// publish rights there may (no message id: JetStream keeps every copy).
async fn publish(world: &World, subject: &str, body: Vec<u8>) {
    world
        .scheduling
        .jetstream
        .publish(subject.to_owned(), body.into())
        .await
        .unwrap()
        .await
        .unwrap();
}

async fn list(world: &World) -> Vec<proto::AccessLogEntry> {
    let now = Utc::now();
    let request = world.req(
        proto::ListAccessLogRequest {
            time_range: Some(range(now - Duration::days(2), now + Duration::days(1))),
            page_size: 1000,
            ..Default::default()
        },
        "auditor-1",
        Role::Auditor,
    );
    world
        .client
        .clone()
        .list_access_log(request)
        .await
        .unwrap()
        .into_inner()
        .entries
}

#[tokio::test]
async fn forged_unsigned_and_replayed_joins_are_refused_counted_and_never_in_the_access_log() {
    hellowork_telemetry::install_metrics_recorder().unwrap();
    let world = World::start().await;
    let before = refusals();
    let subject = envelope::subject(&world.scheduling.config.subject_prefix, "SessionJoined");

    // Signed with another key under scheduling's own key id.
    let wrong_key = joined("b-forged-wrong-key", "forged-device-wrong-key");
    let forger = EventSigner::from_seed("scheduling-dev", &[0x5a; 32]).unwrap();
    assert_eq!(
        forger.key_id(),
        EventSigner::development("scheduling").key_id()
    );
    assert_ne!(
        forger.public_key(),
        EventSigner::development("scheduling").public_key()
    );
    let body = envelope::signed("scheduling", &wrong_key, &subject, &forger, Utc::now());
    publish(&world, &subject, body).await;
    // Signed under a key id nobody configured.
    let stranger_key = joined("b-forged-stranger", "forged-device-stranger");
    let stranger = EventSigner::from_seed("stranger", &[0x5b; 32]).unwrap();
    let body = envelope::signed("scheduling", &stranger_key, &subject, &stranger, Utc::now());
    publish(&world, &subject, body).await;
    // Not signed at all.
    let unsigned = joined("b-forged-unsigned", "forged-device-unsigned");
    let body = envelope::to_envelope("scheduling", &unsigned);
    assert!(body.signature.is_empty() && body.signing_key_id.is_empty());
    publish(&world, &subject, body.encode_to_vec()).await;
    // Genuine, then the very same message copied back onto the stream.
    let first = joined("b-genuine-first", "genuine-device-first");
    let body = hellowork_testing::signed_envelope("scheduling", &first, &subject);
    publish(&world, &subject, body.clone()).await;
    publish(&world, &subject, body).await;
    // Genuinely signed, but long before it reached the stream.
    let stale = joined("b-forged-stale", "forged-device-stale");
    let body = envelope::signed(
        "scheduling",
        &stale,
        &subject,
        &EventSigner::development("scheduling"),
        Utc::now() - TimeDelta::minutes(30),
    );
    publish(&world, &subject, body).await;
    // A genuine join behind them all.
    let last = joined("b-genuine-last", "genuine-device-last");
    let body = hellowork_testing::signed_envelope("scheduling", &last, &subject);
    publish(&world, &subject, body).await;

    // The last join listed means the consumer went past everything before it.
    eventually(
        "the join behind the forgeries in the access log",
        || async {
            let bookings: Vec<String> =
                sqlx::query_scalar("SELECT booking_id FROM access_log ORDER BY sequence")
                    .fetch_all(&world.pool)
                    .await
                    .ok()?;
            bookings.iter().any(|b| b == "b-genuine-last").then_some(())
        },
    )
    .await;
    let entries = eventually("both genuine joins listed", || async {
        let entries = list(&world).await;
        (entries.len() >= 2).then_some(entries)
    })
    .await;
    // Anything late would show by now.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(list(&world).await, entries, "nothing more arrives");

    // The access log holds exactly the two genuine joins, in order.
    assert_eq!(entries.len(), 2, "{entries:?}");
    for entry in &entries {
        assert_eq!(entry.kind, proto::EntryKind::Usage as i32);
        assert_eq!(entry.access_kind, proto::AccessKind::SessionJoin as i32);
    }
    let pseudonyms: BTreeSet<_> = entries
        .iter()
        .map(|e| e.device.as_ref().unwrap().device_pseudonym.clone())
        .collect();
    assert_eq!(pseudonyms.len(), 2, "two devices, one entry each");
    let bookings: Vec<String> =
        sqlx::query_scalar("SELECT booking_id FROM access_log ORDER BY sequence")
            .fetch_all(&world.pool)
            .await
            .unwrap();
    assert_eq!(bookings, ["b-genuine-first", "b-genuine-last"]);

    // The service's store holds one usage record each, nothing else observed.
    assert_eq!(world.stored("UsageRecorded").await, 2);
    assert_eq!(world.stored("PeerEventObserved").await, 0);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&world.pool)
        .await
        .unwrap();
    assert_eq!(stored, 2, "no other event stored");

    // The consumer's inbox saw only the genuine events, the first once.
    let inbox: Vec<(uuid::Uuid, i64)> = sqlx::query_as(
        "SELECT event_id, stream_sequence FROM consumer_inbox \
         WHERE consumer = $1 ORDER BY stream_sequence",
    )
    .bind(CONSUMER)
    .fetch_all(&world.pool)
    .await
    .unwrap();
    // Stream sequences: 1-3 forged, 4 the first join, 5 its copy, 6 stale, 7 the last.
    assert_eq!(inbox, [(first.event_id, 4), (last.event_id, 7)]);

    // No trace of a forged join anywhere in the schema; the genuine ones are found.
    for booking in ["b-genuine-first", "b-genuine-last"] {
        let found = found_in_schema(&world.pool, booking).await;
        assert!(
            found.contains(&"access_log.booking_id".to_owned()),
            "{booking}: {found:?}"
        );
    }
    for forged in [
        "b-forged-wrong-key",
        "b-forged-stranger",
        "b-forged-unsigned",
        "b-forged-stale",
        "forged-device",
    ] {
        assert_eq!(
            found_in_schema(&world.pool, forged).await,
            Vec::<String>::new(),
            "{forged}"
        );
    }
    for event in [&wrong_key, &stranger_key, &unsigned, &stale] {
        assert_eq!(
            found_in_schema(&world.pool, &event.event_id.to_string()).await,
            Vec::<String>::new(),
            "{}",
            event.stream_id.as_str()
        );
    }

    // Each refusal counted by its reason, for this consumer.
    let after = refusals();
    let counted: Vec<u64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    assert_eq!(
        counted,
        [1, 1, 1, 2],
        "bad_signature, unknown_key, unsigned, replayed (the copy and the stale one)"
    );
}
