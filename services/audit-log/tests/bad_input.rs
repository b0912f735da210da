//! Bad input (issue "Step 7"): every RPC of the audit-log service, as its
//! contract lists them (the client-streaming `RecordUsageBatch` with 0 to 3
//! messages), called with generated requests — mutations of valid ones,
//! random structured messages, raw wire bytes — under a valid token of a
//! role its contract allows, and with bad tokens. It answers OK, or
//! INVALID_ARGUMENT with field violations, or a refusal with details; never
//! INTERNAL; the service stays healthy. A call that is not OK writes no
//! event, with one exception by design: a legal officer's refused
//! disclosure of raw device records is itself on record (Art. 7(2)), as
//! exactly one `DeviceDisclosureRefused` event of that call (another role's
//! is refused before anything is written). 64 cases per RPC, or
//! `PROPTEST_CASES`.

mod support;

use chrono::{Duration, Utc};
use hellowork_platform::Role;
use hellowork_proto::auditlog::v1 as proto;
use hellowork_testing::bad_input::{self, Hints, Target};
use support::{World, range, record, slot_range, ts};

const OFFICER: &str = "officer-1";
const APPROVER: &str = "approver-1";
const SYSTEM: &str = "system:front";

fn target(world: &World) -> Target<'_> {
    Target {
        service: hellowork_audit_log::SERVICE_NAME,
        health: hellowork_audit_log::SERVICE_NAME,
        schema: "auditlog",
        addr: world.addr,
        env: &world.env,
        recorded_refusals: &[("DiscloseDeviceRecords", "DeviceDisclosureRefused")],
    }
}

fn filing(person: &str) -> proto::FileLegalRequestRequest {
    let now = Utc::now();
    proto::FileLegalRequestRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        agency: "香川県警察本部".into(),
        legal_basis: proto::LegalBasis::CriminalInvestigationInquiry.into(),
        legal_basis_citation: "刑事訴訟法第197条第2項".into(),
        case_number: "R6-1234".into(),
        scope: Some(proto::LegalRequestScope {
            job_seeker_ids: vec![person.into()],
            device_pseudonyms: vec![],
            time_range: Some(range(now - Duration::days(1), now + Duration::days(1))),
        }),
        justification: "investigation of unauthorized access".into(),
        requested_expires_at: Some(ts(now + Duration::days(7))),
    }
}

fn approval(id: &str) -> proto::ApproveLegalRequestRequest {
    proto::ApproveLegalRequestRequest {
        legal_request_id: id.into(),
        expires_at: Some(ts(Utc::now() + Duration::days(3))),
        note: "scope and basis checked".into(),
        ..Default::default()
    }
}

/// A usage record, legal requests in every state the RPCs act on (one
/// approved for disclosure, one approved to revoke, one filed to approve or
/// deny), and a valid request of every RPC.
async fn prepare(world: &mut World) -> Hints {
    world.staff(&[OFFICER, APPROVER]);
    let now = Utc::now();
    let person = uuid::Uuid::now_v7().to_string();
    let usage = record(&person, "device-1", "203.0.113.7", now);
    world
        .client
        .record_usage(world.req(
            proto::RecordUsageRequest {
                record: Some(usage.clone()),
            },
            SYSTEM,
            Role::System,
        ))
        .await
        .expect("recorded");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let request = world.req(filing(&person), OFFICER, Role::LegalOfficer);
        let filed = world
            .client
            .file_legal_request(request)
            .await
            .expect("filed")
            .into_inner()
            .legal_request
            .unwrap()
            .legal_request_id;
        ids.push(filed);
    }
    let [to_disclose, to_revoke, to_decide] = <[String; 3]>::try_from(ids).unwrap();
    for id in [&to_disclose, &to_revoke] {
        let request = world.req(approval(id), APPROVER, Role::Approver);
        world
            .client
            .approve_legal_request(request)
            .await
            .expect("approved");
    }

    let mut hints = Hints::default();
    hints
        .subject(Role::LegalOfficer, OFFICER)
        .subject(Role::Approver, APPROVER)
        .subject(Role::System, SYSTEM)
        .subject(Role::Auditor, "auditor-1")
        .string(&person)
        .string(&to_disclose)
        .string(&to_revoke)
        .string(&to_decide)
        .string("device-1")
        .instant(now.timestamp());
    let later = |minutes| {
        let mut r = record(
            &person,
            "device-1",
            "203.0.113.7",
            now + Duration::minutes(minutes),
        );
        r.record_id = uuid::Uuid::new_v4().to_string();
        r
    };
    hints
        .seed(
            "RecordUsage",
            &proto::RecordUsageRequest {
                record: Some(usage),
            },
        )
        .seed(
            "RecordUsageBatch",
            &proto::RecordUsageBatchRequest {
                records: vec![later(1), later(2)],
            },
        )
        .seed(
            "ListAccessLog",
            &proto::ListAccessLogRequest {
                time_range: Some(range(now - Duration::hours(2), now + Duration::hours(2))),
                kinds: vec![proto::EntryKind::Usage.into()],
                page_size: 10,
                page_token: String::new(),
            },
        )
        .seed(
            "GetUsageStatistics",
            &proto::GetUsageStatisticsRequest {
                time_range: Some(slot_range(
                    now - Duration::hours(2),
                    now + Duration::hours(2),
                    3600,
                )),
                slot_length: Some(prost_types::Duration {
                    seconds: 3600,
                    nanos: 0,
                }),
            },
        )
        .seed("FileLegalRequest", &filing(&person))
        .seed("ApproveLegalRequest", &approval(&to_decide))
        .seed(
            "DenyLegalRequest",
            &proto::DenyLegalRequestRequest {
                legal_request_id: to_decide.clone(),
                reason: "no legal basis for this scope".into(),
            },
        )
        .seed(
            "RevokeLegalRequest",
            &proto::RevokeLegalRequestRequest {
                legal_request_id: to_revoke,
                reason: "the agency withdrew the request".into(),
            },
        )
        .seed(
            "GetLegalRequest",
            &proto::GetLegalRequestRequest {
                legal_request_id: to_decide,
            },
        )
        .seed(
            "ListLegalRequests",
            &proto::ListLegalRequestsRequest {
                states: vec![proto::LegalRequestState::Approved.into()],
                page_size: 2,
                page_token: String::new(),
            },
        )
        .seed(
            "DiscloseDeviceRecords",
            &proto::DiscloseDeviceRecordsRequest {
                legal_request_id: to_disclose,
                page_size: 10,
                page_token: String::new(),
            },
        )
        .seed(
            "VerifyLog",
            &proto::VerifyLogRequest {
                from_sequence: 1,
                to_sequence: 0,
            },
        );
    // The transparency RPCs, once the log has signed a checkpoint.
    let checkpoint = support::eventually("a signed checkpoint", || {
        let mut client = world.client.clone();
        let request = world.req(
            proto::GetCheckpointRequest::default(),
            "auditor-1",
            Role::Auditor,
        );
        async move {
            client
                .get_checkpoint(request)
                .await
                .ok()?
                .into_inner()
                .checkpoint
        }
    })
    .await;
    let cosigned = hellowork_transparency::cosignature::WitnessKey::from_note_key(
        hellowork_transparency::keys::DEVELOPMENT_WITNESS_KEY,
    )
    .unwrap()
    .cosign(&checkpoint.signed_note, now.timestamp() as u64)
    .unwrap();
    hints
        .seed(
            "GetCheckpoint",
            &proto::GetCheckpointRequest { witnessed: false },
        )
        .seed(
            "GetInclusionProof",
            &proto::GetInclusionProofRequest {
                sequence: 1,
                tree_size: checkpoint.tree_size,
                leaf_hash: Vec::new(),
            },
        )
        .seed(
            "GetConsistencyProof",
            &proto::GetConsistencyProofRequest {
                first_tree_size: 1,
                second_tree_size: checkpoint.tree_size,
            },
        )
        .seed(
            "ListLogLeaves",
            &proto::ListLogLeavesRequest {
                start_sequence: 1,
                page_size: 10,
                tree_size: 0,
            },
        )
        .seed(
            "AddCosignature",
            &proto::AddCosignatureRequest {
                signed_note: cosigned,
            },
        )
        .seed(
            "ListMyDisclosures",
            &proto::ListMyDisclosuresRequest {
                page_size: 10,
                page_token: String::new(),
            },
        );
    hints
}

#[test]
fn every_rpc_answers_bad_requests_with_details_and_writes_nothing() {
    let runtime = bad_input::runtime();
    let mut world = runtime.block_on(World::start());
    let hints = runtime.block_on(prepare(&mut world));
    let report = bad_input::every_rpc(&runtime, target(&world), hints);
    eprintln!("audit log, bad requests:\n{report}");
    report.assert_passed();
}

#[test]
fn bad_tokens_are_unauthenticated_and_write_nothing() {
    let runtime = bad_input::runtime();
    let mut world = runtime.block_on(World::start());
    let hints = runtime.block_on(prepare(&mut world));
    let report = bad_input::bad_tokens(&runtime, target(&world), &hints);
    eprintln!("audit log, bad tokens:\n{report}");
    report.assert_passed();
}
