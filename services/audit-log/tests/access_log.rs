//! Ingest (RecordUsage, RecordUsageBatch, scheduling's events), the
//! anonymized views and the tamper evidence, against real Postgres and NATS.

mod support;

use chrono::{Duration, Utc};
use hellowork_audit_log::AuditLogSettings;
use hellowork_eventstore::{Actor, EventMetadata, RecordedEvent, StreamId, envelope};
use hellowork_platform::Environment;
use hellowork_platform::Role;
use hellowork_proto::{
    auditlog::v1::{self as proto, EntryKind},
    scheduling::v1 as scheduling,
    sealing::v1::{self as sealing, HpkeSealed},
};
use prost::Message;
use support::{SEEKER_1, SEEKER_9, World, eventually, range, record, seeker, slot_range};
use tonic_types::StatusExt;

async fn list(world: &mut World) -> Vec<proto::AccessLogEntry> {
    let now = Utc::now();
    let request = proto::ListAccessLogRequest {
        time_range: Some(range(now - Duration::days(2), now + Duration::days(1))),
        page_size: 1000,
        ..Default::default()
    };
    world
        .client
        .list_access_log(world.req(request, "operator-1", Role::Operator))
        .await
        .unwrap()
        .into_inner()
        .entries
}

#[tokio::test]
async fn recorded_usage_is_listed_only_anonymized_and_repeats_record_nothing() {
    let mut world = World::start().await;
    let now = Utc::now();
    let usage = record(SEEKER_1, "device-secret-1", "203.0.113.77", now);
    let first = world
        .client
        .record_usage(world.req(
            proto::RecordUsageRequest {
                record: Some(usage.clone()),
            },
            "system:front",
            Role::System,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!first.duplicate);
    let again = world
        .client
        .record_usage(world.req(
            proto::RecordUsageRequest {
                record: Some(usage.clone()),
            },
            "system:front",
            Role::System,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(again.duplicate);
    world.settled(1).await;
    let entries = list(&mut world).await;
    assert_eq!(entries.len(), 1);
    let device = entries[0].device.clone().unwrap();
    assert_eq!(device.ip_prefix, "203.0.113.0/24");
    assert_eq!(device.browser_family, "Chrome");
    assert_eq!(device.os_family, "Windows");
    let printed = format!("{:?}", entries);
    assert!(
        !printed.contains("device-secret-1")
            && !printed.contains("203.0.113.77")
            && !printed.contains("Build/")
    );
    // At rest the identifiers are sealed.
    let raw: Vec<u8> =
        sqlx::query_scalar("SELECT sealed_device FROM access_log WHERE sequence = 1")
            .fetch_one(&world.pool)
            .await
            .unwrap();
    assert!(!raw.is_empty() && !raw.windows(13).any(|w| w == b"device-secret"));
    // Only `system` records; a job seeker cannot list.
    let status = world
        .client
        .record_usage(world.req(
            proto::RecordUsageRequest {
                record: Some(usage),
            },
            "seeker-1",
            Role::JobSeeker,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
}

#[tokio::test]
async fn an_invalid_record_fails_the_whole_batch_by_index_and_writes_nothing() {
    let mut world = World::start().await;
    let now = Utc::now();
    let mut records: Vec<_> = (0..5)
        .map(|i| record(SEEKER_1, &format!("d{i}"), "198.51.100.1", now))
        .collect();
    records[3].device.as_mut().unwrap().ip_address = "not-an-ip".into();
    let chunks = vec![
        proto::RecordUsageBatchRequest {
            records: records[..2].to_vec(),
        },
        proto::RecordUsageBatchRequest {
            records: records[2..].to_vec(),
        },
    ];
    let status = world
        .client
        .record_usage_batch(world.req(futures::stream::iter(chunks), "system:front", Role::System))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let details = status.get_error_details();
    let fields: Vec<_> = details
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    assert_eq!(fields, vec!["records[3].device.ip_address"]);
    assert_eq!(world.stored("UsageRecorded").await, 0);
    records[3].device.as_mut().unwrap().ip_address = "2001:db8::1".into();
    let done = batch(&mut world, records[..3].to_vec()).await;
    assert_eq!((done.recorded_count, done.duplicate_count), (3, 0));
    // Repeats within and across batches are recorded once.
    let mut overlapping = records.clone();
    overlapping.push(records[4].clone());
    let done = batch(&mut world, overlapping).await;
    assert_eq!((done.recorded_count, done.duplicate_count), (2, 4));
    assert_eq!(world.stored("UsageRecorded").await, 5);
    world.settled(5).await;
    let sequences: Vec<i64> = sqlx::query_scalar("SELECT sequence FROM access_log ORDER BY 1")
        .fetch_all(&world.pool)
        .await
        .unwrap();
    assert_eq!(sequences, vec![1, 2, 3, 4, 5]);
}

async fn batch(
    world: &mut World,
    records: Vec<proto::UsageRecord>,
) -> proto::RecordUsageBatchResponse {
    world
        .client
        .record_usage_batch(world.req(
            futures::stream::iter(vec![proto::RecordUsageBatchRequest { records }]),
            "system:front",
            Role::System,
        ))
        .await
        .unwrap()
        .into_inner()
}

fn scheduling_event(event_type: &str, payload: Vec<u8>) -> RecordedEvent {
    RecordedEvent {
        event_id: uuid::Uuid::now_v7(),
        stream_id: StreamId::new("scheduling-counsellor-c1").unwrap(),
        stream_version: 1,
        event_type: event_type.to_owned(),
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

#[tokio::test]
async fn a_sealed_join_that_does_not_open_is_refused_and_counted_and_only_observed() {
    let mut world = World::start().await;
    let device = scheduling::DeviceIdentifiers {
        device_id: "forged-device-7".into(),
        ip_address: "192.0.2.77".into(),
        user_agent: "Mozilla/5.0".into(),
        ..Default::default()
    };
    // Sealed for another booking: authentic, but not this join's.
    let misbound = scheduling_event(
        "SessionJoined",
        scheduling::SessionJoined {
            booking_id: "b2".into(),
            slot_id: "s1".into(),
            job_seeker_id: SEEKER_9.into(),
            offering: 1,
            device: None,
            sealed_device: Some(sealed(&device, "b1")),
        }
        .encode_to_vec(),
    );
    let prefix = world.scheduling.config.subject_prefix.clone();
    let bytes = hellowork_testing::signed_envelope(
        "scheduling",
        &misbound,
        &envelope::subject(&prefix, "SessionJoined"),
    );
    world
        .scheduling
        .jetstream
        .publish(envelope::subject(&prefix, "SessionJoined"), bytes.into())
        .await
        .unwrap()
        .await
        .unwrap();
    let kinds = eventually("the join observed", || {
        let pool = world.pool.clone();
        async move {
            let kinds: Vec<String> =
                sqlx::query_scalar("SELECT event_type FROM events ORDER BY position")
                    .fetch_all(&pool)
                    .await
                    .ok()?;
            (!kinds.is_empty()).then_some(kinds)
        }
    })
    .await;
    assert_eq!(
        kinds,
        ["PeerEventObserved"],
        "no usage record without its device"
    );
    assert!(
        list(&mut world)
            .await
            .iter()
            .all(|e| e.access_kind != proto::AccessKind::SessionJoin as i32)
    );
}

#[tokio::test]
async fn scheduling_joins_and_leaves_become_usage_records_once_despite_redelivery() {
    let mut world = World::start().await;
    let device = scheduling::DeviceIdentifiers {
        device_id: "join-device-42".into(),
        ip_address: "192.0.2.55".into(),
        user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Version/17.1 Mobile/15E148 Safari/604.1".into(),
        os_name: "iOS".into(),
        os_version: "17.1".into(),
    };
    // The join as scheduling writes it now, sealed to this service; the
    // leave as it wrote it before sealing (a message still on the stream).
    let joined = scheduling_event(
        "SessionJoined",
        scheduling::SessionJoined {
            booking_id: "b1".into(),
            slot_id: "s1".into(),
            job_seeker_id: SEEKER_9.into(),
            offering: 1,
            device: None,
            sealed_device: Some(sealed(&device, "b1")),
        }
        .encode_to_vec(),
    );
    let left = scheduling_event(
        "SessionLeft",
        scheduling::SessionLeft {
            booking_id: "b1".into(),
            slot_id: "s1".into(),
            job_seeker_id: SEEKER_9.into(),
            offering: 1,
            device: Some(device),
            sealed_device: None,
        }
        .encode_to_vec(),
    );
    let prefix = world.scheduling.config.subject_prefix.clone();
    // Each published twice without a message id: JetStream keeps both, the inbox absorbs one.
    for event in [&joined, &joined, &left, &left] {
        // Signed anew each time, as a relay republishing does.
        let bytes = hellowork_testing::signed_envelope(
            "scheduling",
            event,
            &envelope::subject(&prefix, &event.event_type),
        );
        world
            .scheduling
            .jetstream
            .publish(envelope::subject(&prefix, &event.event_type), bytes.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let entries = eventually("both usage records", || {
        let mut client = world.client.clone();
        let request = world.req(
            proto::ListAccessLogRequest {
                time_range: Some(range(
                    Utc::now() - Duration::days(1),
                    Utc::now() + Duration::days(1),
                )),
                ..Default::default()
            },
            "auditor",
            Role::Auditor,
        );
        async move {
            let entries = client
                .list_access_log(request)
                .await
                .ok()?
                .into_inner()
                .entries;
            (entries.len() >= 2).then_some(entries)
        }
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let again = list(&mut world).await;
    assert_eq!(again.len(), 2, "redelivery creates no duplicates");
    assert_eq!(
        entries[0].access_kind,
        proto::AccessKind::SessionJoin as i32
    );
    assert_eq!(
        entries[1].access_kind,
        proto::AccessKind::SessionLeave as i32
    );
    let device = entries[0].device.clone().unwrap();
    assert_eq!(device.device_class, proto::DeviceClass::Smartphone as i32);
    assert_eq!(device.ip_prefix, "192.0.2.0/24");
    assert_eq!(
        entries[0].device.as_ref().unwrap().device_pseudonym,
        device.device_pseudonym
    );
    assert!(!format!("{again:?}").contains("join-device-42"));
}

async fn verify(world: &mut World) -> proto::VerifyLogResponse {
    world
        .client
        .verify_log(world.req(
            proto::VerifyLogRequest::default(),
            "auditor-1",
            Role::Auditor,
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn five(world: &mut World) {
    let now = Utc::now();
    let records: Vec<_> = (0..5)
        .map(|i| record(SEEKER_1, &format!("d{i}"), "198.51.100.1", now))
        .collect();
    batch(world, records).await;
    world.settled(5).await;
}

#[tokio::test]
async fn tampering_with_the_stored_chain_is_detected_at_the_first_bad_position() {
    let cases: [(&str, &[&str], u64, proto::ChainFailure); 4] = [
        (
            "edit",
            &["UPDATE access_log SET action = '/elsewhere' WHERE sequence = 3"],
            3,
            proto::ChainFailure::HashMismatch,
        ),
        (
            "delete",
            &["DELETE FROM access_log WHERE sequence = 3"],
            3,
            proto::ChainFailure::MissingEntry,
        ),
        (
            "reorder",
            &[
                "UPDATE access_log SET sequence = -2 WHERE sequence = 2",
                "UPDATE access_log SET sequence = 2 WHERE sequence = 3",
                "UPDATE access_log SET sequence = 3 WHERE sequence = -2",
            ],
            2,
            proto::ChainFailure::BrokenLink,
        ),
        (
            "truncate",
            &["DELETE FROM access_log WHERE sequence >= 4"],
            4,
            proto::ChainFailure::Truncated,
        ),
    ];
    for (name, statements, position, failure) in cases {
        let mut world = World::start().await;
        five(&mut world).await;
        let intact = verify(&mut world).await;
        assert!(intact.intact, "{name}: intact before");
        assert_eq!(intact.checked_count, 5);
        for statement in statements {
            sqlx::query(statement).execute(&world.pool).await.unwrap();
        }
        let result = verify(&mut world).await;
        assert!(!result.intact, "{name}: detected");
        assert_eq!(result.first_bad_sequence, position, "{name}");
        assert_eq!(result.failure, failure as i32, "{name}");
    }
    // Only auditors verify.
    let mut world = World::start().await;
    let status = world
        .client
        .verify_log(world.req(proto::VerifyLogRequest::default(), "op", Role::Operator))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
}

#[tokio::test]
async fn statistics_publish_no_cell_below_k_and_no_derivable_suppressed_cell() {
    let mut world = World::start().await;
    let now = Utc::now();
    let mut records = Vec::new();
    // 12 persons on PCs for counselling, 3 on another offering.
    for i in 0..12 {
        records.push(record(&seeker(i), &format!("d{i}"), "198.51.100.1", now));
    }
    for i in 0..3 {
        let mut r = record(&seeker(100 + i), &format!("e{i}"), "198.51.100.2", now);
        r.offering = 3;
        records.push(r);
    }
    batch(&mut world, records).await;
    world.settled(15).await;
    let stats = world
        .client
        .get_usage_statistics(world.req(
            proto::GetUsageStatisticsRequest {
                // Whole slots of the configured hour around the records.
                time_range: Some(slot_range(now, now, 3600)),
                slot_length: None,
            },
            "op",
            Role::Operator,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.k, 10);
    for cell in &stats.cells {
        if cell.suppression == proto::CellSuppression::None as i32 {
            assert!(cell.person_count.unwrap() >= 10);
        } else {
            assert!(cell.person_count.is_none() && cell.record_count.is_none());
        }
    }
    let published: Vec<_> = stats
        .cells
        .iter()
        .filter(|c| c.person_count.is_some())
        .collect();
    assert!(published.iter().all(|c| c.person_count == Some(12)));
    // No row or column of a slot's table holds exactly one suppressed cell.
    let mut lines: std::collections::BTreeMap<(i64, bool, i32), usize> = Default::default();
    for cell in &stats.cells {
        let slot = cell.time_slot.as_ref().unwrap().start_time.unwrap().seconds;
        let suppressed = usize::from(cell.suppression != proto::CellSuppression::None as i32);
        *lines.entry((slot, true, cell.offering)).or_default() += suppressed;
        *lines.entry((slot, false, cell.device_class)).or_default() += suppressed;
    }
    assert!(lines.values().all(|&n| n != 1));
    assert!(!format!("{stats:?}").contains("198.51.100.1"));
    let _ = EntryKind::Usage;
}
