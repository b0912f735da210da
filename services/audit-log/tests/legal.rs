//! Art. 7(2) proviso: legal requests, accountable. The two-person rule by
//! personnel id, N distinct approvers, every approver's terms within their
//! ceilings, the disclosure limit, the role checked before anything is
//! written; the privacy matrix — raw identifiers appear in exactly one cell
//! of every role × request state × scope × caller; and requests stored
//! before Step 9 still load and decide.

mod support;

use chrono::{Duration, Utc};
use hellowork_eventstore::{
    Actor, EventMetadata, EventStore, ExpectedVersion, NewEvent, StoreConfig, StreamId, Upcasters,
};
use hellowork_platform::{CallingService, Role};
use hellowork_proto::auditlog::v1::{self as proto, EntryKind, LegalRequestState};
use prost::Message;
use support::{
    Prepared, SEEKER_1, SEEKER_9, SOMEONE_ELSE, TARGET, World, eventually, range, record, ts,
};
use tonic::Code;
use tonic_types::StatusExt;

const RAW_DEVICE: &str = "raw-device-secret-77";
const RAW_IP: &str = "203.0.113.9";
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

fn approval(id: &str) -> proto::ApproveLegalRequestRequest {
    proto::ApproveLegalRequestRequest {
        legal_request_id: id.into(),
        note: "ok".into(),
        ..Default::default()
    }
}

async fn approve_as(
    world: &mut World,
    approver: &str,
    request: proto::ApproveLegalRequestRequest,
) -> Result<proto::LegalRequest, tonic::Status> {
    world
        .client
        .approve_legal_request(world.req(request, approver, Role::Approver))
        .await
        .map(|r| r.into_inner().legal_request.unwrap())
}

async fn approve(world: &mut World, id: &str, expires_in: Option<Duration>) {
    let request = proto::ApproveLegalRequestRequest {
        expires_at: expires_in.map(|d| ts(Utc::now() + d)),
        ..approval(id)
    };
    approve_as(world, "approver-b", request).await.unwrap();
}

async fn get(world: &mut World, id: &str) -> proto::LegalRequest {
    world
        .client
        .get_legal_request(world.req(
            proto::GetLegalRequestRequest {
                legal_request_id: id.into(),
            },
            "aud",
            Role::Auditor,
        ))
        .await
        .unwrap()
        .into_inner()
        .legal_request
        .unwrap()
}

/// Asserts `result` is refused with `code` naming Art. 7(2), and shows no
/// raw identifier.
#[track_caller]
fn refused<T: std::fmt::Debug>(what: &str, result: Result<T, tonic::Status>, code: Code) {
    let status = result.expect_err(what);
    assert_eq!(status.code(), code, "{what}: {status:?}");
    let details = status.get_error_details();
    assert_eq!(
        details.error_info().expect(what).metadata["article"],
        "7(2)",
        "{what}"
    );
    assert!(
        !status.message().contains(RAW_DEVICE) && !status.message().contains(RAW_IP),
        "{what}"
    );
}

/// Waits until the request's approval has expired (by polling, not a sleep).
async fn expired(world: &World, id: &str) {
    eventually("expiry", || {
        let mut client = world.client.clone();
        let request = world.req(
            proto::GetLegalRequestRequest {
                legal_request_id: id.to_owned(),
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

#[tokio::test]
async fn the_filer_can_never_approve_their_own_request() {
    let mut world = World::start().await;
    world.staff(&[OFFICER, "approver-b"]);
    let id = file(&mut world, TARGET, Duration::days(3)).await;
    // The filer's own token holding both roles, and the same person under
    // another subject.
    for token in [
        world
            .env
            .token(OFFICER, &[Role::LegalOfficer, Role::Approver]),
        world
            .env
            .token_as("officer-a-2", &[Role::Approver], Some("P-officer-a")),
    ] {
        let mut request = tonic::Request::new(approval(&id));
        request
            .metadata_mut()
            .insert("authorization", token.parse().unwrap());
        refused(
            "self-approval",
            world.client.approve_legal_request(request).await,
            Code::PermissionDenied,
        );
    }
    // A legal officer without the approver role cannot approve at all.
    let request = world.req(approval(&id), "officer-c", Role::LegalOfficer);
    assert_eq!(
        world
            .client
            .approve_legal_request(request)
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let got = get(&mut world, &id).await;
    assert_eq!(got.state, LegalRequestState::Filed as i32);
    assert!(!got.authorized_legal_request && got.approvals.is_empty());
    assert_eq!(world.stored("LegalRequestApproved").await, 0);
}

/// The entries of `kind` about `id` on the access log as an auditor lists
/// them, once there are `count`.
async fn logged(
    world: &World,
    id: &str,
    kind: EntryKind,
    count: usize,
) -> Vec<proto::AccessLogEntry> {
    eventually(&format!("{count} {kind:?} entries of {id}"), || {
        let mut client = world.client.clone();
        let now = Utc::now();
        let request = world.req(
            proto::ListAccessLogRequest {
                time_range: Some(range(now - Duration::days(1), now + Duration::days(1))),
                kinds: vec![kind as i32],
                page_size: 1000,
                page_token: String::new(),
            },
            "aud",
            Role::Auditor,
        );
        let id = id.to_owned();
        async move {
            let entries: Vec<_> = client
                .list_access_log(request)
                .await
                .ok()?
                .into_inner()
                .entries
                .into_iter()
                .filter(|e| e.legal_request_id == id)
                .collect();
            (entries.len() >= count).then_some(entries)
        }
    })
    .await
}

/// The subject a token of `role` names: `person`'s, or for `system` a
/// service's (the front system), the only subjects a system token may have.
fn subject_for(role: Role, person: &str) -> String {
    if role == Role::System {
        CallingService::Front.subject()
    } else {
        person.to_owned()
    }
}

fn disclosure(id: &str, page_size: i32, page_token: &str) -> proto::DiscloseDeviceRecordsRequest {
    proto::DiscloseDeviceRecordsRequest {
        legal_request_id: id.into(),
        page_size,
        page_token: page_token.into(),
    }
}

/// The approval matrix with two approvers required and tight ceilings: the
/// same person under two subjects, N-1 approvers, expired, over a ceiling,
/// out of scope, over the disclosure limit, wrong role — all refused with
/// the article and nothing raw out; the refusals of legal officers are on
/// the log, those of other roles are not; approvals carry the approver's
/// personnel id and terms.
#[tokio::test]
async fn the_approval_matrix_refuses_with_the_article_and_logs_what_legal_officers_were_refused() {
    let mut world = World::start_with(&[
        ("HELLOWORK_AUDITLOG_APPROVALS_REQUIRED", "2"),
        ("HELLOWORK_AUDITLOG_MAX_APPROVAL_VALIDITY", "7days"),
        ("HELLOWORK_AUDITLOG_MAX_SCOPE_ENTRIES", "3"),
        ("HELLOWORK_AUDITLOG_MAX_SCOPE_SPAN", "30days"),
        ("HELLOWORK_AUDITLOG_MAX_DISCLOSURE_LIMIT", "100"),
        ("HELLOWORK_AUDITLOG_MAX_NOTIFICATION_DEFERRAL", "30days"),
    ])
    .await;
    world.staff(&[OFFICER, "officer-z", "approver-b", "approver-c"]);
    // The filer and approver-b under second subjects.
    world
        .env
        .assign_personnel_id("officer-a-alt", "P-officer-a");
    world
        .env
        .assign_personnel_id("approver-b-alt", "P-approver-b");
    let now = Utc::now();
    let person = uuid::Uuid::new_v4().to_string();
    for minutes in [30, 20, 10] {
        let usage = record(
            &person,
            RAW_DEVICE,
            RAW_IP,
            now - Duration::minutes(minutes),
        );
        world
            .client
            .record_usage(world.req(
                proto::RecordUsageRequest {
                    record: Some(usage),
                },
                "system:front",
                Role::System,
            ))
            .await
            .unwrap();
    }
    world.settled(3).await;

    // Filing over the scope ceilings, or without a personnel id: refused,
    // nothing written.
    let mut wide = file_request(&person, Duration::days(20));
    wide.scope.as_mut().unwrap().job_seeker_ids = vec![
        person.clone(),
        SEEKER_1.into(),
        SEEKER_9.into(),
        SOMEONE_ELSE.into(),
    ];
    let mut long = file_request(&person, Duration::days(20));
    long.scope.as_mut().unwrap().time_range = Some(range(now - Duration::days(31), now));
    for (what, filing) in [("four persons", wide), ("31 days", long)] {
        refused(
            what,
            world
                .client
                .file_legal_request(world.req(filing, OFFICER, Role::LegalOfficer))
                .await,
            Code::FailedPrecondition,
        );
    }
    refused(
        "filing without a personnel id",
        world
            .client
            .file_legal_request(world.req(
                file_request(&person, Duration::days(20)),
                "officer-nobody",
                Role::LegalOfficer,
            ))
            .await,
        Code::PermissionDenied,
    );
    assert_eq!(world.stored("LegalRequestFiled").await, 0);

    let id = file(&mut world, &person, Duration::days(20)).await;
    let filed = get(&mut world, &id).await;
    assert_eq!(filed.approvals_required, 2);

    // Approvals refused, writing nothing.
    let deferred = |days: i64| proto::ApproveLegalRequestRequest {
        notification_deferral: Some(prost_types::Duration {
            seconds: days * 86_400,
            nanos: 0,
        }),
        deferral_reason: "the suspect would be warned".into(),
        ..approval(&id)
    };
    for (what, approver, request, code) in [
        (
            "the filer under another subject",
            "officer-a-alt",
            approval(&id),
            Code::PermissionDenied,
        ),
        (
            "an approver without a personnel id",
            "approver-nobody",
            approval(&id),
            Code::PermissionDenied,
        ),
        (
            "an expiry over the 7-day ceiling",
            "approver-b",
            proto::ApproveLegalRequestRequest {
                expires_at: Some(ts(Utc::now() + Duration::days(8))),
                ..approval(&id)
            },
            Code::FailedPrecondition,
        ),
        (
            "a limit over the ceiling",
            "approver-b",
            proto::ApproveLegalRequestRequest {
                disclosure_limit: 101,
                ..approval(&id)
            },
            Code::FailedPrecondition,
        ),
        (
            "a deferral over the ceiling",
            "approver-b",
            deferred(31),
            Code::FailedPrecondition,
        ),
    ] {
        refused(what, approve_as(&mut world, approver, request).await, code);
    }
    assert_eq!(world.stored("LegalRequestApproved").await, 0);
    let bad_deferral = proto::ApproveLegalRequestRequest {
        deferral_reason: String::new(),
        ..deferred(3)
    };
    let status = approve_as(&mut world, "approver-b", bad_deferral)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    // N-1 approvals: filed, not authorized; the same person cannot count twice.
    let once = approve_as(
        &mut world,
        "approver-b",
        proto::ApproveLegalRequestRequest {
            disclosure_limit: 2,
            ..deferred(10)
        },
    )
    .await
    .unwrap();
    assert_eq!(once.state(), LegalRequestState::Filed);
    assert!(!once.authorized_legal_request);
    assert_eq!(once.approvals.len(), 1);
    refused(
        "the same person under another subject",
        approve_as(&mut world, "approver-b-alt", approval(&id)).await,
        Code::PermissionDenied,
    );
    refused(
        "disclosure after N-1 approvals",
        world
            .client
            .disclose_device_records(world.req(disclosure(&id, 0, ""), OFFICER, Role::LegalOfficer))
            .await,
        Code::FailedPrecondition,
    );

    // The N-th: approved on the narrowest terms.
    let approved = approve_as(
        &mut world,
        "approver-c",
        proto::ApproveLegalRequestRequest {
            disclosure_limit: 5,
            ..deferred(20)
        },
    )
    .await
    .unwrap();
    let decided_at = Utc::now();
    assert_eq!(approved.state(), LegalRequestState::Approved);
    assert!(approved.authorized_legal_request);
    assert_eq!(approved.disclosure_limit, 2);
    assert_eq!(approved.deferral_reason, "the suspect would be warned");
    let personnel: Vec<_> = approved
        .approvals
        .iter()
        .map(|a| (a.approver.as_str(), a.personnel_id.as_str()))
        .collect();
    assert_eq!(
        personnel,
        [
            ("approver-b", "P-approver-b"),
            ("approver-c", "P-approver-c")
        ]
    );
    let expires_at = approved.expires_at.unwrap().seconds;
    let ceiling = (decided_at + Duration::days(7)).timestamp();
    assert!(
        expires_at <= ceiling && expires_at > ceiling - 60,
        "cut to 7 days"
    );
    let notify = approved.notify_subjects_after.unwrap().seconds;
    let in_ten_days = (decided_at + Duration::days(10)).timestamp();
    assert!(
        notify <= in_ten_days && notify > in_ten_days - 60,
        "the shortest deferral"
    );

    // Wrong roles: PERMISSION_DENIED, nothing written.
    let refusals_before = world.stored("DeviceDisclosureRefused").await;
    for role in Role::ALL.into_iter().filter(|r| *r != Role::LegalOfficer) {
        let status = world
            .client
            .disclose_device_records(world.req(
                disclosure(&id, 0, ""),
                &subject_for(role, OFFICER),
                role,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{role:?}");
        assert!(!status.message().contains(RAW_DEVICE));
    }
    assert_eq!(
        world.stored("DeviceDisclosureRefused").await,
        refusals_before,
        "wrong roles write nothing"
    );
    // Another legal officer, and the named subject as another person:
    // refused and on record.
    refused(
        "another officer",
        world
            .client
            .disclose_device_records(world.req(
                disclosure(&id, 0, ""),
                "officer-z",
                Role::LegalOfficer,
            ))
            .await,
        Code::PermissionDenied,
    );
    let mut impostor = tonic::Request::new(disclosure(&id, 0, ""));
    impostor.metadata_mut().insert(
        "authorization",
        world
            .env
            .token_as(OFFICER, &[Role::LegalOfficer], Some("P-impostor"))
            .parse()
            .unwrap(),
    );
    refused(
        "the named subject under another personnel id",
        world.client.disclose_device_records(impostor).await,
        Code::PermissionDenied,
    );

    // The named officer: never more than the limit of 2 in total.
    let first = world
        .client
        .disclose_device_records(world.req(disclosure(&id, 1, ""), OFFICER, Role::LegalOfficer))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.records.len(), 1);
    assert!(!first.next_page_token.is_empty());
    let second = world
        .client
        .disclose_device_records(world.req(
            disclosure(&id, 100, &first.next_page_token),
            OFFICER,
            Role::LegalOfficer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.records.len(), 1, "cut at the limit");
    assert!(
        !second.next_page_token.is_empty(),
        "a third record is in scope, beyond the limit"
    );
    for record in first.records.iter().chain(&second.records) {
        assert_eq!(record.job_seeker_id, person);
        assert_eq!(record.device.as_ref().unwrap().device_id, RAW_DEVICE);
    }
    refused(
        "over the disclosure limit",
        world
            .client
            .disclose_device_records(world.req(
                disclosure(&id, 100, &second.next_page_token),
                OFFICER,
                Role::LegalOfficer,
            ))
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(get(&mut world, &id).await.disclosed_record_count, 2);

    // Out of scope: another person's request discloses none of these.
    let elsewhere = file(&mut world, SOMEONE_ELSE, Duration::days(20)).await;
    for approver in ["approver-b", "approver-c"] {
        approve_as(&mut world, approver, approval(&elsewhere))
            .await
            .unwrap();
    }
    let out = world
        .client
        .disclose_device_records(world.req(
            disclosure(&elsewhere, 0, ""),
            OFFICER,
            Role::LegalOfficer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(out.records.is_empty());
    let printed = format!("{out:?}");
    assert!(!printed.contains(RAW_DEVICE) && !printed.contains(RAW_IP));

    // Expired: the earliest approver's expiry ends it.
    let short = file(&mut world, &person, Duration::days(20)).await;
    approve_as(
        &mut world,
        "approver-b",
        proto::ApproveLegalRequestRequest {
            expires_at: Some(ts(Utc::now() + Duration::seconds(3))),
            ..approval(&short)
        },
    )
    .await
    .unwrap();
    approve_as(&mut world, "approver-c", approval(&short))
        .await
        .unwrap();
    expired(&world, &short).await;
    refused(
        "expired",
        world
            .client
            .disclose_device_records(world.req(
                disclosure(&short, 0, ""),
                OFFICER,
                Role::LegalOfficer,
            ))
            .await,
        Code::FailedPrecondition,
    );

    // On the log: the legal officers' refusals, in order, and no other;
    // the disclosures with their counts; the approvals with the approver's
    // personnel id and terms; the filing with the filer's.
    let reasons = |entries: Vec<proto::AccessLogEntry>| -> Vec<String> {
        entries.into_iter().map(|e| e.action).collect()
    };
    assert_eq!(
        reasons(logged(&world, &id, EntryKind::DeviceDisclosureRefused, 4).await),
        [
            "DISCLOSURE_REFUSAL_REASON_NOT_APPROVED",
            "DISCLOSURE_REFUSAL_REASON_NOT_NAMED_OFFICER",
            "DISCLOSURE_REFUSAL_REASON_NOT_NAMED_OFFICER",
            "DISCLOSURE_REFUSAL_REASON_LIMIT_REACHED",
        ]
    );
    assert_eq!(
        reasons(logged(&world, &short, EntryKind::DeviceDisclosureRefused, 1).await),
        ["DISCLOSURE_REFUSAL_REASON_EXPIRED"]
    );
    let disclosed: Vec<u64> = logged(&world, &id, EntryKind::DeviceRecordsDisclosed, 2)
        .await
        .iter()
        .map(|e| e.record_count)
        .collect();
    assert_eq!(disclosed, [1, 1]);
    let approvals = logged(&world, &id, EntryKind::LegalRequestApproved, 2).await;
    let terms: Vec<_> = approvals
        .iter()
        .map(|e| (e.reference.as_str(), e.record_count))
        .collect();
    assert_eq!(terms, [("P-approver-b", 2), ("P-approver-c", 5)]);
    assert!(approvals[0].action.contains("disclosure_limit=2"));
    assert!(
        approvals[0]
            .action
            .contains("notification_deferral=864000s")
    );
    assert!(
        approvals[1]
            .action
            .contains("notification_deferral=1728000s")
    );
    let filing = logged(&world, &id, EntryKind::LegalRequestFiled, 1).await;
    assert_eq!(filing[0].reference, "P-officer-a");
    let everything = format!(
        "{:?}{approvals:?}{filing:?}",
        logged(&world, &id, EntryKind::DeviceDisclosureRefused, 4).await
    );
    assert!(!everything.contains(&person) && !everything.contains(RAW_DEVICE));
    // Exactly the legal officers' attempts were recorded, nothing else.
    assert_eq!(world.stored("DeviceDisclosureRefused").await, 5);
    let verified = world
        .client
        .verify_log(world.req(proto::VerifyLogRequest::default(), "aud", Role::Auditor))
        .await
        .unwrap()
        .into_inner();
    assert!(verified.intact);
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
    world.staff(&[OFFICER, "officer-other", "approver-b"]);
    let now = Utc::now();
    let usage = record(TARGET, RAW_DEVICE, RAW_IP, now);
    world
        .client
        .record_usage(world.req(
            proto::RecordUsageRequest {
                record: Some(usage),
            },
            "system:front",
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
            let person = if in_scope { TARGET } else { SOMEONE_ELSE };
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
    for (state, _, id) in &requests {
        if *state == State::Expired {
            expired(&world, id).await;
        }
    }
    let mut raw_cells = Vec::new();
    let mut recorded_calls = 0;
    for role in Role::ALL {
        for named in [true, false] {
            let subject = subject_for(role, if named { OFFICER } else { "officer-other" });
            for (state, in_scope, id) in &requests {
                if role == Role::LegalOfficer {
                    recorded_calls += 1;
                }
                let request = world.req(
                    proto::DiscloseDeviceRecordsRequest {
                        legal_request_id: id.clone(),
                        ..Default::default()
                    },
                    &subject,
                    role,
                );
                match world.client.disclose_device_records(request).await {
                    Ok(response) => {
                        let printed = format!("{:?}", response.get_ref());
                        if printed.contains(RAW_DEVICE) || printed.contains(RAW_IP) {
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
                                Code::PermissionDenied | Code::FailedPrecondition | Code::NotFound
                            ),
                            "{role:?} {state:?}: {status:?}"
                        );
                        if role == Role::LegalOfficer && status.code() != Code::NotFound {
                            let details = status.get_error_details();
                            assert_eq!(details.error_info().unwrap().metadata["article"], "7(2)");
                        }
                        if role != Role::LegalOfficer {
                            assert_eq!(status.code(), Code::PermissionDenied, "{role:?}");
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
    // Every legal officer's attempt, disclosed or refused, is in the log
    // (moments later: the log is a projection); no other role's. 1 usage,
    // 10 filings, 6 approvals, 2 denials, 2 revocations and the attempts.
    world.settled(1 + 10 + 6 + 2 + 2 + recorded_calls).await;
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM access_log WHERE kind = ANY($1)")
        .bind(vec![
            EntryKind::DeviceRecordsDisclosed as i32,
            EntryKind::DeviceDisclosureRefused as i32,
        ])
        .fetch_one(&world.pool)
        .await
        .unwrap();
    assert_eq!(recorded, recorded_calls);
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

fn stored_as(subject: &str, role: hellowork_proto::events::v1::Role) -> EventMetadata {
    EventMetadata {
        correlation_id: uuid::Uuid::now_v7(),
        causation_id: None,
        actor: Actor {
            subject: subject.into(),
            role,
        },
        traceparent: None,
        tracestate: None,
    }
}

/// Requests filed and approved before Step 9 — no personnel ids, no
/// approvals required, no limit, no approver or time in the approval —
/// load after the upgrade: one approval of a request that needed one,
/// limited by the configured ceiling, the approval's entry on the log as
/// it was; a pending one is decided by subject.
#[tokio::test]
async fn legal_requests_stored_before_step_9_load_and_decide() {
    let prepared = Prepared::new().await;
    let pool = prepared.pool().await;
    let store = EventStore::new(pool.clone(), StoreConfig::new("auditlog"), Upcasters::new());
    let now = Utc::now();
    let person = uuid::Uuid::new_v4().to_string();
    let filed = |id: &str| proto::LegalRequestFiled {
        legal_request_id: id.into(),
        agency: "香川県警察本部".into(),
        legal_basis: proto::LegalBasis::CourtWarrant as i32,
        case_number: "R5-1".into(),
        scope: Some(proto::LegalRequestScope {
            job_seeker_ids: vec![person.clone()],
            device_pseudonyms: vec![],
            time_range: Some(range(now - Duration::days(1), now + Duration::days(1))),
        }),
        justification: "warrant".into(),
        requested_expires_at: Some(ts(now + Duration::days(5))),
        filed_by: "officer-old".into(),
        // Fields 10 and 11 did not exist: proto3 writes nothing for them,
        // so these bytes are the old form exactly.
        ..Default::default()
    };
    let approved_id = uuid::Uuid::new_v4().to_string();
    let pending_id = uuid::Uuid::new_v4().to_string();
    use hellowork_proto::events::v1::Role as EnvelopeRole;
    let old = [
        (
            &approved_id,
            "LegalRequestFiled",
            filed(&approved_id).encode_to_vec(),
            stored_as("officer-old", EnvelopeRole::LegalOfficer),
        ),
        (
            &approved_id,
            "LegalRequestApproved",
            proto::LegalRequestApproved {
                legal_request_id: approved_id.clone(),
                expires_at: Some(ts(now + Duration::days(3))),
                note: "granted".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            stored_as("approver-old", EnvelopeRole::Approver),
        ),
        (
            &pending_id,
            "LegalRequestFiled",
            filed(&pending_id).encode_to_vec(),
            stored_as("officer-old", EnvelopeRole::LegalOfficer),
        ),
    ];
    for (id, event_type, payload, metadata) in old {
        let stream = StreamId::new(format!("legal-request-{id}")).unwrap();
        let version = store.read_stream(&stream, 0).await.unwrap().len() as u64;
        let expected = if version == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(version)
        };
        store
            .append(
                &stream,
                expected,
                vec![NewEvent {
                    event_id: uuid::Uuid::now_v7(),
                    event_type: event_type.into(),
                    schema_version: 1,
                    payload,
                    occurred_at: now,
                    metadata,
                }],
            )
            .await
            .unwrap();
    }
    pool.close().await;

    let mut world = prepared
        .start_with(&[
            ("HELLOWORK_AUDITLOG_MAX_DISCLOSURE_LIMIT", "1"),
            ("HELLOWORK_AUDITLOG_APPROVALS_REQUIRED", "2"),
        ])
        .await;
    world.staff(&["approver-new"]);
    let loaded = get(&mut world, &approved_id).await;
    assert_eq!(loaded.state(), LegalRequestState::Approved);
    assert!(loaded.authorized_legal_request);
    assert_eq!(loaded.approvals_required, 1, "filed when one was needed");
    assert_eq!(loaded.approvals.len(), 1);
    assert_eq!(loaded.approvals[0].approver, "approver-old");
    assert_eq!(loaded.approvals[0].personnel_id, "");
    assert!(loaded.approvals[0].approved_at.is_some());
    assert_eq!(loaded.decided_by, "approver-old");
    assert_eq!(loaded.disclosure_limit, 1, "the configured ceiling");
    assert_eq!(loaded.expires_at, Some(ts(now + Duration::days(3))));

    for minutes in [20, 10] {
        world
            .client
            .record_usage(world.req(
                proto::RecordUsageRequest {
                    record: Some(record(
                        &person,
                        RAW_DEVICE,
                        RAW_IP,
                        now - Duration::minutes(minutes),
                    )),
                },
                "system:front",
                Role::System,
            ))
            .await
            .unwrap();
    }
    world.settled(5).await;
    // The named officer, known by subject only, receives up to the ceiling.
    let disclosed = world
        .client
        .disclose_device_records(world.req(
            disclosure(&approved_id, 0, ""),
            "officer-old",
            Role::LegalOfficer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(disclosed.records.len(), 1);
    refused(
        "beyond the ceiling",
        world
            .client
            .disclose_device_records(world.req(
                disclosure(&approved_id, 0, ""),
                "officer-old",
                Role::LegalOfficer,
            ))
            .await,
        Code::FailedPrecondition,
    );
    // The old approval's entry is what it was: no personnel id, no terms.
    let entries = logged(&world, &approved_id, EntryKind::LegalRequestApproved, 1).await;
    assert_eq!(
        (
            entries[0].reference.as_str(),
            entries[0].action.as_str(),
            entries[0].record_count
        ),
        ("", "", 0)
    );

    // The pending one needs one approval, never its filer's.
    refused(
        "the filer of an old request",
        approve_as(&mut world, "officer-old", approval(&pending_id)).await,
        Code::PermissionDenied,
    );
    let decided = approve_as(&mut world, "approver-new", approval(&pending_id))
        .await
        .unwrap();
    assert_eq!(decided.state(), LegalRequestState::Approved);
    assert_eq!(decided.approvals_required, 1);
}
