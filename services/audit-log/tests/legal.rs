//! Art. 7(2) proviso: legal requests, the two-person rule, and the privacy
//! matrix — raw identifiers appear in exactly one cell of every role ×
//! request state × scope × caller.

mod support;

use chrono::{Duration, Utc};
use hellowork_platform::Role;
use hellowork_proto::auditlog::v1::{self as proto, EntryKind, LegalRequestState};
use support::{World, eventually, range, record, ts};
use tonic_types::StatusExt;

const RAW_DEVICE: &str = "raw-device-secret-77";
const OFFICER: &str = "officer-a";

fn file_request(person: &str, expires_in: Duration) -> proto::FileLegalRequestRequest {
    let now = Utc::now();
    proto::FileLegalRequestRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        agency: "香川県警察本部".into(),
        legal_basis: proto::LegalBasis::CriminalInvestigationInquiry as i32,
        legal_basis_citation: "刑事訴訟法第197条第2項".into(),
        case_number: "R6-1234".into(),
        scope: Some(proto::LegalRequestScope {
            job_seeker_ids: vec![person.into()],
            device_pseudonyms: vec![],
            time_range: Some(range(now - Duration::days(1), now + Duration::days(1))),
        }),
        justification: "investigation of unauthorized access".into(),
        requested_expires_at: Some(ts(now + expires_in)),
    }
}

async fn file(world: &mut World, person: &str, expires_in: Duration) -> String {
    let request = world.req(
        file_request(person, expires_in),
        OFFICER,
        Role::LegalOfficer,
    );
    world
        .client
        .file_legal_request(request)
        .await
        .unwrap()
        .into_inner()
        .legal_request
        .unwrap()
        .legal_request_id
}

async fn approve(world: &mut World, id: &str, expires_in: Option<Duration>) {
    let request = proto::ApproveLegalRequestRequest {
        legal_request_id: id.into(),
        expires_at: expires_in.map(|d| ts(Utc::now() + d)),
        note: "ok".into(),
        ..Default::default()
    };
    world
        .client
        .approve_legal_request(world.req(request, "approver-b", Role::Approver))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_filer_can_never_approve_their_own_request() {
    let mut world = World::start().await;
    let id = file(&mut world, "target", Duration::days(3)).await;
    let mut request = tonic::Request::new(proto::ApproveLegalRequestRequest {
        legal_request_id: id.clone(),
        ..Default::default()
    });
    let token = world
        .env
        .token(OFFICER, &[Role::LegalOfficer, Role::Approver]);
    request
        .metadata_mut()
        .insert("authorization", token.parse().unwrap());
    let status = world
        .client
        .approve_legal_request(request)
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    assert_eq!(
        status.get_error_details().error_info().unwrap().metadata["article"],
        "7(2)"
    );
    // A legal officer without the approver role cannot approve at all.
    let request = world.req(
        proto::ApproveLegalRequestRequest {
            legal_request_id: id.clone(),
            ..Default::default()
        },
        "officer-c",
        Role::LegalOfficer,
    );
    assert_eq!(
        world
            .client
            .approve_legal_request(request)
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );
    let got = world
        .client
        .get_legal_request(world.req(
            proto::GetLegalRequestRequest {
                legal_request_id: id,
            },
            "aud",
            Role::Auditor,
        ))
        .await
        .unwrap()
        .into_inner()
        .legal_request
        .unwrap();
    assert_eq!(got.state, LegalRequestState::Filed as i32);
    assert!(!got.authorized_legal_request);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    None,
    Filed,
    Denied,
    Approved,
    Expired,
    Revoked,
}

#[tokio::test]
async fn privacy_matrix_raw_identifiers_only_for_the_named_officer_of_an_approved_request_in_scope()
{
    let mut world = World::start().await;
    let now = Utc::now();
    let usage = record("target", RAW_DEVICE, "203.0.113.9", now);
    world
        .client
        .record_usage(world.req(
            proto::RecordUsageRequest {
                record: Some(usage),
            },
            "web",
            Role::System,
        ))
        .await
        .unwrap();
    world.settled(1).await;
    // One request per state × scope (in: the person recorded; out: another).
    let mut requests = Vec::new();
    for state in [
        State::None,
        State::Filed,
        State::Denied,
        State::Approved,
        State::Expired,
        State::Revoked,
    ] {
        for in_scope in [true, false] {
            let person = if in_scope { "target" } else { "someone-else" };
            let id = match state {
                State::None => uuid::Uuid::new_v4().to_string(),
                State::Filed => file(&mut world, person, Duration::days(3)).await,
                State::Denied => {
                    let id = file(&mut world, person, Duration::days(3)).await;
                    let deny = proto::DenyLegalRequestRequest {
                        legal_request_id: id.clone(),
                        reason: "insufficient".into(),
                    };
                    world
                        .client
                        .deny_legal_request(world.req(deny, "approver-b", Role::Approver))
                        .await
                        .unwrap();
                    id
                }
                State::Approved => {
                    let id = file(&mut world, person, Duration::days(3)).await;
                    approve(&mut world, &id, None).await;
                    id
                }
                State::Expired => {
                    let id = file(&mut world, person, Duration::days(3)).await;
                    approve(&mut world, &id, Some(Duration::seconds(1))).await;
                    id
                }
                State::Revoked => {
                    let id = file(&mut world, person, Duration::days(3)).await;
                    approve(&mut world, &id, None).await;
                    let revoke = proto::RevokeLegalRequestRequest {
                        legal_request_id: id.clone(),
                        reason: "withdrawn".into(),
                    };
                    world
                        .client
                        .revoke_legal_request(world.req(revoke, "approver-b", Role::Approver))
                        .await
                        .unwrap();
                    id
                }
            };
            requests.push((state, in_scope, id));
        }
    }
    // Wait (by polling, not a fixed sleep) until the short approvals expired.
    for (state, _, id) in &requests {
        if *state != State::Expired {
            continue;
        }
        eventually("expiry", || {
            let mut client = world.client.clone();
            let request = world.req(
                proto::GetLegalRequestRequest {
                    legal_request_id: id.clone(),
                },
                "aud",
                Role::Auditor,
            );
            async move {
                let got = client
                    .get_legal_request(request)
                    .await
                    .ok()?
                    .into_inner()
                    .legal_request?;
                (got.state == LegalRequestState::Expired as i32 && !got.authorized_legal_request)
                    .then_some(())
            }
        })
        .await;
    }
    let mut raw_cells = Vec::new();
    let mut calls = 0;
    for role in Role::ALL {
        for named in [true, false] {
            let subject = if named { OFFICER } else { "officer-other" };
            for (state, in_scope, id) in &requests {
                calls += 1;
                let request = world.req(
                    proto::DiscloseDeviceRecordsRequest {
                        legal_request_id: id.clone(),
                        ..Default::default()
                    },
                    subject,
                    role,
                );
                match world.client.disclose_device_records(request).await {
                    Ok(response) => {
                        let printed = format!("{:?}", response.get_ref());
                        if printed.contains(RAW_DEVICE) || printed.contains("203.0.113.9") {
                            raw_cells.push((role, named, *state, *in_scope));
                        }
                        assert!(
                            role == Role::LegalOfficer && named && *state == State::Approved,
                            "allowed only in the one cell"
                        );
                        assert!(!response.get_ref().disclosure_id.is_empty());
                    }
                    Err(status) => {
                        assert!(
                            matches!(
                                status.code(),
                                tonic::Code::PermissionDenied
                                    | tonic::Code::FailedPrecondition
                                    | tonic::Code::NotFound
                            ),
                            "{role:?} {state:?}: {status:?}"
                        );
                        if status.code() != tonic::Code::NotFound {
                            let details = status.get_error_details();
                            assert_eq!(details.error_info().unwrap().metadata["article"], "7(2)");
                        }
                        assert!(!status.message().contains(RAW_DEVICE));
                    }
                }
            }
        }
    }
    assert_eq!(
        raw_cells,
        vec![(Role::LegalOfficer, true, State::Approved, true)]
    );
    // Every attempt, disclosed or refused, is in the log (moments later: the
    // log is a projection). 1 usage, 10 filings, 6 approvals, 2 denials, 2
    // revocations and the attempts.
    world.settled(1 + 10 + 6 + 2 + 2 + calls).await;
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM access_log WHERE kind = ANY($1)")
        .bind(vec![
            EntryKind::DeviceRecordsDisclosed as i32,
            EntryKind::DeviceDisclosureRefused as i32,
        ])
        .fetch_one(&world.pool)
        .await
        .unwrap();
    assert_eq!(recorded, calls);
    // Filings and decisions too: 10 filed, 6 approved, 2 denied, 2 revoked.
    let decisions: Vec<(i32, i64)> = sqlx::query_as("SELECT kind, count(*) FROM access_log WHERE kind BETWEEN 3 AND 6 GROUP BY kind ORDER BY kind")
        .fetch_all(&world.pool)
        .await
        .unwrap();
    assert_eq!(decisions, vec![(3, 10), (4, 6), (5, 2), (6, 2)]);
    // And the chain over all of it is intact.
    let verified = world
        .client
        .verify_log(world.req(proto::VerifyLogRequest::default(), "aud", Role::Auditor))
        .await
        .unwrap()
        .into_inner();
    assert!(verified.intact);
}
