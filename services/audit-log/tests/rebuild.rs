//! The access log is a projection of the service's own events: rebuilt from
//! them it equals the live log row for row and hash for hash, the chain stays
//! intact, and live tailing continues behind the rebuild.

mod support;

use chrono::{Duration, Utc};
use hellowork_audit_log::projections::AccessLogProjection;
use hellowork_eventstore::{EventStore, StoreConfig, Upcasters, rebuild};
use hellowork_platform::Role;
use hellowork_proto::auditlog::v1 as proto;
use support::{World, range, record, seeker, snapshot, ts};

async fn usage(world: &mut World, count: usize) {
    let now = Utc::now();
    let records = (0..count)
        .map(|i| record(&seeker(i % 7), &format!("d{i}"), "198.51.100.4", now))
        .collect();
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

/// A filed and approved request for `seeker(1)`, and one disclosure under it.
async fn legal_history(world: &mut World) {
    world.staff(&["officer-a", "approver-b"]);
    let now = Utc::now();
    let filed = proto::FileLegalRequestRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        agency: "香川県警察本部".into(),
        legal_basis: proto::LegalBasis::CourtWarrant as i32,
        legal_basis_citation: String::new(),
        case_number: "R7-77".into(),
        scope: Some(proto::LegalRequestScope {
            job_seeker_ids: vec![seeker(1)],
            device_pseudonyms: vec![],
            time_range: Some(range(now - Duration::days(1), now + Duration::days(1))),
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
    let disclosed = world
        .client
        .disclose_device_records(world.req(disclose, "officer-a", Role::LegalOfficer))
        .await
        .unwrap()
        .into_inner();
    assert!(!disclosed.records.is_empty());
}

#[tokio::test]
async fn a_rebuilt_access_log_equals_the_live_one_and_tailing_resumes_after_it() {
    let mut world = World::start().await;
    usage(&mut world, 40).await;
    world.settled(40).await;
    legal_history(&mut world).await;
    usage(&mut world, 25).await;
    // 65 usage records, a filing, an approval and a disclosure.
    world.settled(68).await;
    let live = snapshot(&world.pool).await;
    assert_eq!(live.0.len(), 68);

    let store = EventStore::new(
        world.pool.clone(),
        StoreConfig::new("auditlog"),
        Upcasters::new(),
    );
    let report = rebuild(&store, &AccessLogProjection).await.unwrap();
    assert_eq!(report.events_replayed, 68);
    let rebuilt = snapshot(&world.pool).await;
    assert_eq!(
        rebuilt, live,
        "rebuild reproduces every row, hash and request"
    );

    // The live tailer continues the same chain from the rebuilt checkpoint.
    usage(&mut world, 5).await;
    world.settled(73).await;
    let verified = world
        .client
        .verify_log(world.req(proto::VerifyLogRequest::default(), "aud", Role::Auditor))
        .await
        .unwrap()
        .into_inner();
    assert!(verified.intact);
    assert_eq!(verified.checked_count, 73);
}
