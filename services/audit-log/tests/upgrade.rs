//! Step 8's upgrade: usage records stored and published before Step 8 —
//! the job seeker id in clear, the device sealed under the ring key with
//! the record id as associated data — are resealed per person and period
//! when the service starts, in the store and on the stream; the access log
//! is rebuilt from them; a legal request still discloses them.

mod support;

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use chrono::{Duration, Utc};
use hellowork_audit_log::domain::subject::KeyPeriod;
use hellowork_eventstore::{
    Actor, EventMetadata, EventStore, ExpectedVersion, NewEvent, StoreConfig, StreamId, Upcasters,
    envelope, rebuild,
};
use hellowork_platform::Role;
use hellowork_proto::auditlog::v1 as proto;
use prost::Message;
use support::{Prepared, contains, found_in_schema, published, range, rebuilt, snapshot, ts};

/// The development ring's key (`HELLOWORK_AUDITLOG_KEYS` unset outside
/// production), under which the old form sealed devices.
const DEV_KEY: &[u8; 32] = b"hellowork-auditlog-development-k";

/// A usage record as it was stored before Step 8.
fn legacy(person: &str, device_id: &str, at: chrono::DateTime<Utc>) -> proto::UsageRecorded {
    let record_id = uuid::Uuid::new_v4().to_string();
    let device = proto::DeviceIdentifiers {
        device_id: device_id.into(),
        ip_address: "198.51.100.80".into(),
        user_agent: "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0".into(),
        os_name: "Windows".into(),
        os_version: "10.0.19045".into(),
    };
    let nonce = [9u8; 12];
    let ciphertext = Aes256Gcm::new_from_slice(DEV_KEY)
        .unwrap()
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &device.encode_to_vec(),
                aad: record_id.as_bytes(),
            },
        )
        .unwrap();
    proto::UsageRecorded {
        record_id,
        legacy_job_seeker_id: person.into(),
        occurred_at: Some(ts(at)),
        access_kind: proto::AccessKind::PageView as i32,
        action: "/bookings/{booking_id}".into(),
        method: "GET".into(),
        outcome: proto::AccessOutcome::Success as i32,
        offering: 1,
        source: "web".into(),
        device_class: proto::DeviceClass::Pc as i32,
        legacy_sealed_device: Some(proto::SealedDeviceIdentifiers {
            key_id: "dev".into(),
            nonce: nonce.to_vec(),
            ciphertext,
        }),
        device: Some(proto::AnonymizedDevice {
            device_pseudonym: "00112233445566778899aabbccddeeff".into(),
            pseudonym_period: KeyPeriod::of(at).label(),
            ip_prefix: "198.51.100.0/24".into(),
            browser_family: "Chrome".into(),
            os_family: "Windows".into(),
            device_class: proto::DeviceClass::Pc as i32,
        }),
        ..Default::default()
    }
}

fn metadata() -> EventMetadata {
    EventMetadata {
        correlation_id: uuid::Uuid::now_v7(),
        causation_id: None,
        actor: Actor {
            subject: "web".into(),
            role: hellowork_proto::events::v1::Role::System,
        },
        traceparent: None,
        tracestate: None,
    }
}

#[tokio::test]
async fn usage_records_stored_and_published_in_the_old_form_are_resealed_at_start_up() {
    let prepared = Prepared::new().await;
    let person = uuid::Uuid::new_v4().to_string();
    let device = format!("legacy-device-{}", uuid::Uuid::new_v4().simple());
    let now = Utc::now();
    let last_month = KeyPeriod::of(now).start() - Duration::days(3);

    // The old form, stored, published and projected as the old service did.
    let pool = prepared.pool().await;
    let store = EventStore::new(pool.clone(), StoreConfig::new("auditlog"), Upcasters::new());
    let jetstream = prepared.stream().await;
    for at in [last_month, now] {
        let usage = legacy(&person, &device, at);
        let stream = StreamId::new(format!("usage-{}", uuid::Uuid::new_v4())).unwrap();
        store
            .append(
                &stream,
                ExpectedVersion::NoStream,
                vec![NewEvent {
                    event_id: uuid::Uuid::now_v7(),
                    event_type: "UsageRecorded".into(),
                    schema_version: 1,
                    payload: usage.encode_to_vec(),
                    occurred_at: at,
                    metadata: metadata(),
                }],
            )
            .await
            .unwrap();
        let recorded = store.read_stream(&stream, 0).await.unwrap().remove(0);
        jetstream
            .publish_with_headers(
                envelope::subject(&prepared.env.subject_prefix, "UsageRecorded"),
                envelope::headers(&recorded),
                envelope::to_envelope("auditlog", &recorded)
                    .encode_to_vec()
                    .into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    rebuild(
        &store,
        &hellowork_audit_log::projections::AccessLogProjection,
    )
    .await
    .unwrap();
    // Not vacuous: the clear id is stored before the upgrade.
    assert_eq!(found_in_schema(&pool, &person).await, ["events.payload"; 2]);
    pool.close().await;

    let mut world = prepared.start().await;
    world.staff(&["officer-a", "approver-b"]);
    world.settled(2).await;
    assert_eq!(
        found_in_schema(&world.pool, &person).await,
        Vec::<String>::new()
    );
    assert_eq!(
        found_in_schema(&world.pool, &device).await,
        Vec::<String>::new()
    );
    let messages = published(&world).await;
    assert!(!messages.is_empty());
    for message in &messages {
        assert!(
            !contains(&message.payload, person.as_bytes()),
            "{}",
            message.sequence
        );
        assert!(
            !contains(&message.payload, device.as_bytes()),
            "{}",
            message.sequence
        );
        let recorded = envelope::decode(&message.payload).unwrap();
        let usage = proto::UsageRecorded::decode(recorded.payload.as_slice()).unwrap();
        assert!(usage.legacy_job_seeker_id.is_empty() && usage.legacy_sealed_device.is_none());
        assert_eq!(usage.subject_tag.len(), 32);
    }
    // The log was rebuilt from the resealed events: tags, one per period.
    let tags: Vec<Vec<u8>> = sqlx::query_scalar("SELECT subject_tag FROM access_log")
        .fetch_all(&world.pool)
        .await
        .unwrap();
    assert_eq!(tags.len(), 2);
    assert!(tags.iter().all(|t| t.len() == 32) && tags[0] != tags[1]);
    let upgrades: i64 = sqlx::query_scalar("SELECT count(*) FROM completed_upgrades")
        .fetch_one(&world.pool)
        .await
        .unwrap();
    assert_eq!(upgrades, 1);

    // A legal request still discloses the resealed records.
    let filed = proto::FileLegalRequestRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        agency: "香川県警察本部".into(),
        legal_basis: proto::LegalBasis::CourtWarrant as i32,
        legal_basis_citation: String::new(),
        case_number: "R7-99".into(),
        scope: Some(proto::LegalRequestScope {
            job_seeker_ids: vec![person.clone()],
            device_pseudonyms: vec![],
            time_range: Some(range(
                last_month - Duration::days(1),
                now + Duration::days(1),
            )),
        }),
        justification: "warrant".into(),
        requested_expires_at: Some(ts(now + Duration::days(2))),
    };
    let id = world
        .client
        .file_legal_request(world.req(filed, "officer-a", Role::LegalOfficer))
        .await
        .unwrap()
        .into_inner()
        .legal_request
        .unwrap()
        .legal_request_id;
    let approve = proto::ApproveLegalRequestRequest {
        legal_request_id: id.clone(),
        expires_at: None,
        note: "granted".into(),
        ..Default::default()
    };
    world
        .client
        .approve_legal_request(world.req(approve, "approver-b", Role::Approver))
        .await
        .unwrap();
    let disclose = proto::DiscloseDeviceRecordsRequest {
        legal_request_id: id,
        ..Default::default()
    };
    let records = world
        .client
        .disclose_device_records(world.req(disclose, "officer-a", Role::LegalOfficer))
        .await
        .unwrap()
        .into_inner()
        .records;
    assert_eq!(records.len(), 2);
    for record in &records {
        assert!(!record.erased);
        assert_eq!(record.job_seeker_id, person);
        assert_eq!(record.device.as_ref().unwrap().device_id, device);
    }
    world.settled(5).await;
    let live = snapshot(&world.pool).await;
    assert_eq!(rebuilt(&world.pool).await, live);
}
