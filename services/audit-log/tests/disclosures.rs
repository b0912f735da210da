//! Accountable disclosure as the people concerned see it: a disclosure
//! returns the inclusion proof of its own log entry, and a job seeker lists
//! the disclosures that gave their records — once the deferral set at
//! approval has passed, with agency, basis, date and their own record
//! count, never the case file — each with a proof that verifies on the
//! client side against a signed checkpoint.

mod support;

use chrono::{Duration, Utc};
use hellowork_platform::Role;
use hellowork_proto::auditlog::v1 as proto;
use hellowork_transparency::{checkpoint, hash_from_bytes, keys, proof::verify_inclusion};
use prost::Message;
use support::{SEEKER_1, SEEKER_9, World, range, record, record_batch, ts};
use tonic::Code;

const CASE_NUMBER: &str = "R6-5521";
const JUSTIFICATION: &str = "不正アクセス事件の捜査のため";

async fn usage(world: &mut World, person: &str, count: usize) {
    let now = Utc::now();
    let records = (0..count)
        .map(|i| {
            record(
                person,
                &format!("{person}-device-{i}"),
                "198.51.100.20",
                now,
            )
        })
        .collect();
    record_batch(world, records).await;
}

/// Files, approves (with `deferral`) and discloses a request for `person`.
async fn disclosed(
    world: &mut World,
    person: &str,
    deferral: Option<Duration>,
) -> proto::DiscloseDeviceRecordsResponse {
    let now = Utc::now();
    let filed = world
        .client
        .file_legal_request(world.req(
            proto::FileLegalRequestRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                agency: "香川県警察本部".into(),
                legal_basis: proto::LegalBasis::CourtWarrant as i32,
                legal_basis_citation: "刑事訴訟法第218条".into(),
                case_number: CASE_NUMBER.into(),
                scope: Some(proto::LegalRequestScope {
                    job_seeker_ids: vec![person.into()],
                    device_pseudonyms: vec![],
                    time_range: Some(range(now - Duration::days(1), now + Duration::days(1))),
                }),
                justification: JUSTIFICATION.into(),
                requested_expires_at: Some(ts(now + Duration::days(3))),
            },
            "officer-a",
            Role::LegalOfficer,
        ))
        .await
        .unwrap()
        .into_inner()
        .legal_request
        .unwrap();
    let id = filed.legal_request_id;
    world
        .client
        .approve_legal_request(world.req(
            proto::ApproveLegalRequestRequest {
                legal_request_id: id.clone(),
                note: "warrant checked".into(),
                notification_deferral: deferral.map(|d| prost_types::Duration {
                    seconds: d.num_seconds(),
                    nanos: 0,
                }),
                deferral_reason: if deferral.is_some() {
                    "the investigation is ongoing".into()
                } else {
                    String::new()
                },
                ..Default::default()
            },
            "approver-b",
            Role::Approver,
        ))
        .await
        .unwrap();
    world
        .client
        .disclose_device_records(world.req(
            proto::DiscloseDeviceRecordsRequest {
                legal_request_id: id,
                page_size: 0,
                page_token: String::new(),
            },
            "officer-a",
            Role::LegalOfficer,
        ))
        .await
        .unwrap()
        .into_inner()
}

/// Checks `inclusion` on this side: the checkpoint's signature under the
/// pinned development key, and the audit path to its root.
fn verify(inclusion: &proto::LogInclusion) {
    let signed = inclusion.checkpoint.as_ref().expect("a checkpoint");
    let verified = checkpoint::verify(
        &signed.signed_note,
        hellowork_transparency::DEFAULT_ORIGIN,
        keys::DEVELOPMENT_LOG_VERIFIER_KEY,
        &[keys::DEVELOPMENT_WITNESS_VERIFIER_KEY.to_owned()],
    )
    .unwrap();
    let proof: Vec<_> = inclusion
        .proof
        .iter()
        .map(|hash| hash_from_bytes(hash).unwrap())
        .collect();
    verify_inclusion(
        &proof,
        inclusion.sequence - 1,
        verified.size,
        hash_from_bytes(&inclusion.leaf_hash).unwrap(),
        verified.root,
    )
    .unwrap();
}

async fn mine(
    world: &mut World,
    person: &str,
) -> Result<Vec<proto::SubjectDisclosure>, tonic::Status> {
    world
        .client
        .list_my_disclosures(world.req(
            proto::ListMyDisclosuresRequest::default(),
            person,
            Role::JobSeeker,
        ))
        .await
        .map(|response| response.into_inner().disclosures)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_seeker_sees_the_disclosures_of_their_records_once_due_with_a_proof_and_no_case_file()
{
    let mut world = World::start_with(&[("HELLOWORK_AUDITLOG_CHECKPOINT_INTERVAL", "200ms")]).await;
    world.staff(&["officer-a", "approver-b"]);
    usage(&mut world, SEEKER_1, 3).await;
    usage(&mut world, SEEKER_9, 2).await;
    world.settled(5).await;

    let now = disclosed(&mut world, SEEKER_1, None).await;
    assert_eq!(now.records.len(), 3);
    let own = now.inclusion.as_ref().expect("the disclosure's own entry");
    verify(own);

    let seen = mine(&mut world, SEEKER_1).await.unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let item = &seen[0];
    assert_eq!(item.agency, "香川県警察本部");
    assert_eq!(item.legal_basis, proto::LegalBasis::CourtWarrant as i32);
    assert_eq!(item.record_count, 3);
    assert!(item.disclosed_at.is_some());
    let inclusion = item.inclusion.as_ref().unwrap();
    assert_eq!(inclusion.sequence, own.sequence, "the same log entry");
    verify(inclusion);
    // The proof can be fetched again by the person with the leaf they hold.
    world
        .client
        .get_inclusion_proof(world.req(
            proto::GetInclusionProofRequest {
                sequence: inclusion.sequence,
                tree_size: 0,
                leaf_hash: inclusion.leaf_hash.clone(),
            },
            SEEKER_1,
            Role::JobSeeker,
        ))
        .await
        .unwrap();
    let bytes = String::from_utf8_lossy(
        &proto::ListMyDisclosuresResponse {
            disclosures: seen.clone(),
            next_page_token: String::new(),
        }
        .encode_to_vec(),
    )
    .into_owned();
    for secret in [
        CASE_NUMBER,
        JUSTIFICATION,
        "officer-a",
        "approver-b",
        "js-7-device",
    ] {
        assert!(
            !bytes.contains(secret),
            "{secret} in the data subject's view"
        );
    }

    // Another person's records were not disclosed: nothing to see.
    assert!(mine(&mut world, SEEKER_9).await.unwrap().is_empty());

    // Deferred 30 days: disclosed now, told only then.
    let deferred = disclosed(&mut world, SEEKER_9, Some(Duration::days(30))).await;
    assert_eq!(deferred.records.len(), 2);
    assert!(
        mine(&mut world, SEEKER_9).await.unwrap().is_empty(),
        "deferred"
    );
    assert_eq!(mine(&mut world, SEEKER_1).await.unwrap().len(), 1);

    // Only a job seeker, about themselves.
    let refused = world
        .client
        .list_my_disclosures(world.req(
            proto::ListMyDisclosuresRequest::default(),
            "c-1",
            Role::Counsellor,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let bad = world
        .client
        .list_my_disclosures(world.req(
            proto::ListMyDisclosuresRequest {
                page_size: 0,
                page_token: "not-a-token".into(),
            },
            SEEKER_1,
            Role::JobSeeker,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
}
