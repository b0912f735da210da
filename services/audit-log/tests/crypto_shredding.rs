//! Art. 7(2), 8: a usage record's identifying parts are sealed with a data
//! key of its person and key period; the access log holds only the
//! period's lookup tag; a legal request still finds and opens them; the end
//! of retention and the person's erasure destroy the keys, after which the
//! records are disclosed as erased while the statistics still count them.

mod support;

use chrono::{Duration, Utc};
use hellowork_audit_log::{
    AuditLogSettings, domain::subject::KeyPeriod, keys::SubjectKeys, retention::Retention,
};
use hellowork_eventstore::{
    Actor, EventMetadata, EventStore, RecordedEvent, StoreConfig, StreamId, Upcasters, envelope,
};
use hellowork_platform::{Environment, Role};
use hellowork_proto::{
    auditlog::v1::{self as proto, EntryKind},
    registration::v1 as registration,
};
use prost::Message;
use support::{
    World, eventually, found_in_schema, range, rebuilt, record, slot_range, snapshot, ts,
};

/// Records `records` through the API.
async fn record_all(world: &mut World, records: Vec<proto::UsageRecord>) {
    world
        .client
        .record_usage_batch(world.req(
            futures::stream::iter(vec![proto::RecordUsageBatchRequest { records }]),
            "system:front",
            Role::System,
        ))
        .await
        .unwrap();
}

/// Files and approves a request for `person` over `[start, end)`.
async fn approved_request(
    world: &mut World,
    person: &str,
    start: chrono::DateTime<Utc>,
    end: chrono::DateTime<Utc>,
) -> String {
    world.staff(&["officer-a", "approver-b"]);
    let filed = proto::FileLegalRequestRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        agency: "香川県警察本部".into(),
        legal_basis: proto::LegalBasis::CourtWarrant as i32,
        legal_basis_citation: String::new(),
        case_number: "R7-88".into(),
        scope: Some(proto::LegalRequestScope {
            job_seeker_ids: vec![person.into()],
            device_pseudonyms: vec![],
            time_range: Some(range(start, end)),
        }),
        justification: "warrant".into(),
        requested_expires_at: Some(ts(Utc::now() + Duration::days(2))),
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
    id
}

async fn disclose(world: &mut World, id: &str) -> Vec<proto::DisclosedDeviceRecord> {
    let disclose = proto::DiscloseDeviceRecordsRequest {
        legal_request_id: id.into(),
        ..Default::default()
    };
    let mut records = world
        .client
        .disclose_device_records(world.req(disclose, "officer-a", Role::LegalOfficer))
        .await
        .unwrap()
        .into_inner()
        .records;
    records.sort_by_key(|r| r.occurred_at.map(|t| t.seconds));
    records
}

/// The (offering 1, PC) cell of the slot containing `at`: persons, records.
async fn cell(world: &mut World, at: chrono::DateTime<Utc>) -> (Option<u64>, Option<u64>) {
    let request = proto::GetUsageStatisticsRequest {
        time_range: Some(slot_range(at, at, 3600)),
        slot_length: Some(prost_types::Duration {
            seconds: 3600,
            nanos: 0,
        }),
    };
    let stats = world
        .client
        .get_usage_statistics(world.req(request, "auditor", Role::Auditor))
        .await
        .unwrap()
        .into_inner();
    let cells: Vec<_> = stats
        .cells
        .iter()
        .filter(|c| c.offering == 1 && c.device_class == proto::DeviceClass::Pc as i32)
        .filter(|c| c.record_count.is_some())
        .collect();
    assert_eq!(cells.len(), 1, "{stats:?}");
    (cells[0].person_count, cells[0].record_count)
}

fn erased_event(person: &str) -> RecordedEvent {
    RecordedEvent {
        event_id: uuid::Uuid::now_v7(),
        stream_id: StreamId::new(format!("registration-{person}")).unwrap(),
        stream_version: 3,
        event_type: "JobSeekerErased".into(),
        schema_version: 1,
        payload: registration::JobSeekerErased {
            job_seeker_id: person.into(),
            reason: registration::ErasureReason::AppiRequest as i32,
            reference: "APPI-2026-0042".into(),
            erased_at: Some(ts(Utc::now())),
        }
        .encode_to_vec(),
        occurred_at: Utc::now(),
        recorded_at: Utc::now(),
        metadata: EventMetadata {
            correlation_id: uuid::Uuid::now_v7(),
            causation_id: None,
            actor: Actor {
                subject: "supervisor-7".into(),
                role: hellowork_proto::events::v1::Role::Supervisor,
            },
            traceparent: None,
            tracestate: None,
        },
    }
}

async fn publish(world: &World, event: &RecordedEvent) {
    let prefix = world.registration.config.subject_prefix.clone();
    world
        .registration
        .jetstream
        .publish(
            envelope::subject(&prefix, &event.event_type),
            hellowork_testing::signed_envelope(
                "registration",
                event,
                &envelope::subject(&prefix, &event.event_type),
            )
            .into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
}

async fn entries_of(world: &World, kind: EntryKind) -> Vec<(String, String, String, String)> {
    sqlx::query_as(
        "SELECT row_to_json(l)::text, actor, action, reference FROM access_log l \
         WHERE kind = $1 ORDER BY sequence",
    )
    .bind(kind as i32)
    .fetch_all(&world.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn art_8_records_across_periods_are_unlinkable_disclosed_and_erased_with_the_person() {
    let mut world = World::start_with(&[("HELLOWORK_AUDITLOG_K", "5")]).await;
    let person = uuid::Uuid::new_v4().to_string();
    let device = format!("shred-device-{}", uuid::Uuid::new_v4().simple());
    let now = Utc::now();
    let last_month = KeyPeriod::of(now).start() - Duration::days(2);
    let mut records = vec![
        record(&person, &device, "198.51.100.61", last_month),
        record(&person, &device, "198.51.100.61", now),
    ];
    // Four others in the same statistics cell, so it is published (k = 5).
    for i in 0..4 {
        records.push(record(
            &uuid::Uuid::new_v4().to_string(),
            &format!("other-{i}"),
            "198.51.100.9",
            now,
        ));
    }
    let ids: Vec<String> = records[..2].iter().map(|r| r.record_id.clone()).collect();
    record_all(&mut world, records).await;
    world.settled(6).await;

    // No clear id or device anywhere; the person's two periods carry two tags.
    assert_eq!(
        found_in_schema(&world.pool, &person).await,
        Vec::<String>::new()
    );
    assert_eq!(
        found_in_schema(&world.pool, &device).await,
        Vec::<String>::new()
    );
    let tags: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT subject_tag FROM access_log WHERE record_id = ANY($1) ORDER BY occurred_at",
    )
    .bind(&ids)
    .fetch_all(&world.pool)
    .await
    .unwrap();
    assert_eq!(tags.len(), 2);
    assert!(tags.iter().all(|t| t.len() == 32));
    assert_ne!(
        tags[0], tags[1],
        "a reader of the table cannot link the periods"
    );
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM subject_keys")
        .fetch_one(&world.pool)
        .await
        .unwrap();
    assert_eq!(keys, 6, "one key per person and period");
    assert_eq!(cell(&mut world, now).await, (Some(5), Some(5)));

    // A legal request still finds both periods' records and opens them.
    let id = approved_request(
        &mut world,
        &person,
        last_month - Duration::days(1),
        now + Duration::days(1),
    )
    .await;
    let disclosed = disclose(&mut world, &id).await;
    assert_eq!(disclosed.len(), 2);
    for record in &disclosed {
        assert!(!record.erased);
        assert_eq!(record.job_seeker_id, person);
        assert_eq!(record.device.as_ref().unwrap().device_id, device);
    }

    // The person is erased at registration: twice delivered, applied once.
    let erased = erased_event(&person);
    publish(&world, &erased).await;
    publish(&world, &erased).await;
    let entries = eventually("the erasure entry", || {
        let world = &world;
        async move {
            let entries = entries_of(world, EntryKind::SubjectErased).await;
            (!entries.is_empty()).then_some(entries)
        }
    })
    .await;
    assert_eq!(entries.len(), 1);
    let (row, actor, action, reference) = &entries[0];
    assert_eq!(actor, "supervisor-7");
    assert_eq!(action, "ERASURE_REASON_APPI_REQUEST");
    assert_eq!(reference, "APPI-2026-0042");
    assert!(row.contains(&erased.event_id.to_string()), "{row}");
    assert!(!row.contains(&person));
    // Only the legal request names the person, as its scope must.
    assert_eq!(
        found_in_schema(&world.pool, &person).await,
        ["events.payload", "legal_requests.body"]
    );
    let naming: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM events WHERE position(convert_to($1, 'UTF8') IN payload) > 0",
    )
    .bind(&person)
    .fetch_all(&world.pool)
    .await
    .unwrap();
    assert_eq!(naming, ["LegalRequestFiled"]);
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM subject_keys")
        .fetch_one(&world.pool)
        .await
        .unwrap();
    assert_eq!(
        keys, 4,
        "both of the person's keys are gone, the others' stay"
    );

    // Disclosed as erased: the times remain, the identifiers do not.
    let disclosed = disclose(&mut world, &id).await;
    assert_eq!(disclosed.len(), 2);
    for record in &disclosed {
        assert!(record.erased);
        assert!(record.job_seeker_id.is_empty() && record.device.is_none());
    }
    assert_eq!(cell(&mut world, now).await, (Some(5), Some(5)));

    // 6 usage records, filing, approval, two disclosures, one erasure.
    world.settled(11).await;
    let live = snapshot(&world.pool).await;
    assert_eq!(live.0.len(), 11);
    assert_eq!(rebuilt(&world.pool).await, live);
}

#[tokio::test]
async fn art_7_2_retention_shreds_the_keys_of_ended_periods_only_and_records_it() {
    let mut world = World::start().await;
    let person = uuid::Uuid::new_v4().to_string();
    let now = Utc::now();
    let old = now - Duration::days(100);
    record_all(
        &mut world,
        vec![
            record(&person, "retained-device-1", "198.51.100.7", old),
            record(&person, "retained-device-1", "198.51.100.7", now),
        ],
    )
    .await;
    world.settled(2).await;
    let settings = AuditLogSettings::from_vars(Environment::Development, Vec::new()).unwrap();
    let store = EventStore::new(
        world.pool.clone(),
        StoreConfig::new("auditlog"),
        Upcasters::new(),
    );
    let mut retention = Retention::new(
        SubjectKeys::new(world.pool.clone(), settings.keks()),
        store,
        Duration::days(30),
    );
    assert_eq!(retention.run_once(now).await.unwrap(), 1);
    assert_eq!(
        retention.run_once(now).await.unwrap(),
        0,
        "nothing left to shred"
    );
    world.settled(3).await;
    let shredded = entries_of(&world, EntryKind::RetentionShredded).await;
    assert_eq!(
        shredded.len(),
        1,
        "a run that shreds nothing records nothing"
    );
    let count: i64 = sqlx::query_scalar("SELECT record_count FROM access_log WHERE kind = $1")
        .bind(EntryKind::RetentionShredded as i32)
        .fetch_one(&world.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    assert!(!shredded[0].0.contains(&person));

    let id = approved_request(
        &mut world,
        &person,
        old - Duration::days(1),
        now + Duration::days(1),
    )
    .await;
    let disclosed = disclose(&mut world, &id).await;
    assert_eq!(disclosed.len(), 2);
    assert!(disclosed[0].erased && disclosed[0].device.is_none());
    assert!(disclosed[0].job_seeker_id.is_empty());
    assert!(!disclosed[1].erased);
    assert_eq!(disclosed[1].job_seeker_id, person);
    world.settled(6).await;
    let live = snapshot(&world.pool).await;
    assert_eq!(rebuilt(&world.pool).await, live);
}
