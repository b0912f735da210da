//! The legal rules given, when, then: filing, the two-person rule, every
//! approver's terms, disclosure and its limit, and events stored before
//! Step 9.

use chrono::{DateTime, Duration, Utc};
use hellowork_eventstore::{Aggregate, DomainEvent};
use hellowork_proto::auditlog::v1::{self as proto, DisclosureRefusalReason};
use prost::Message;

use super::*;
use crate::domain::{event::Event, time::timestamp};

const ID: &str = "0190c0de-0000-7000-8000-000000000001";

fn command(action: Action) -> Command {
    Command {
        legal_request_id: ID.into(),
        action,
    }
}

fn officer() -> Actor {
    Actor::new("officer-a", Some("P-100"))
}

fn approver(subject: &str, personnel_id: &str) -> Actor {
    Actor::new(subject, Some(personnel_id))
}

fn ceilings(required: u32) -> Ceilings {
    Ceilings {
        approvals_required: required,
        ..Ceilings::default()
    }
}

fn filing(now: DateTime<Utc>) -> Filing {
    Filing {
        legal_request_id: ID.into(),
        scope: Scope {
            job_seeker_ids: vec!["js-1".into()],
            device_pseudonyms: vec![],
            time_range: Some((now - Duration::days(2), now)),
        },
        requested_expires_at: Some(now + Duration::days(7)),
        ..Filing::default()
    }
}

fn file(now: DateTime<Utc>, required: u32) -> Action {
    Action::File {
        filer: officer(),
        filing: filing(now),
        ceilings: ceilings(required),
    }
}

fn filed_needing(now: DateTime<Utc>, required: u32) -> LegalCase {
    decided(LegalCase::default(), file(now, required))
}

fn filed(now: DateTime<Utc>) -> LegalCase {
    filed_needing(now, 1)
}

fn decided(case: LegalCase, action: Action) -> LegalCase {
    let events = case.decide(&command(action)).expect("allowed");
    events.iter().fold(case, |case, event| case.apply(event))
}

fn approve_on(who: Actor, now: DateTime<Utc>, terms: Terms) -> Action {
    Action::Approve {
        approver: who,
        now,
        terms,
        ceilings: Ceilings::default(),
    }
}

fn approve(who: Actor, now: DateTime<Utc>, days: Option<i64>) -> Action {
    approve_on(
        who,
        now,
        Terms {
            expires_at: days.map(|d| now + Duration::days(d)),
            ..Terms::default()
        },
    )
}

fn disclose_as(who: Actor, now: DateTime<Utc>, sequences: Vec<u64>) -> Action {
    Action::Disclose {
        officer: who,
        now,
        record_sequences: sequences,
        ceilings: Ceilings::default(),
    }
}

fn disclose(who: Actor, now: DateTime<Utc>) -> Action {
    disclose_as(who, now, vec![4, 9])
}

/// The refusal a disclosure attempt records, if any.
fn refusal(case: &LegalCase, action: Action) -> Option<DisclosureRefusalReason> {
    match case.decide(&command(action)).unwrap().as_slice() {
        [Event::DeviceRecordsDisclosed(_)] => None,
        [Event::DeviceDisclosureRefused(r)] => Some(r.reason()),
        other => panic!("unexpected {other:?}"),
    }
}

fn over_ceiling(field: &'static str) -> impl Fn(&Result<Vec<Event>, LegalError>) -> bool {
    move |result| matches!(result, Err(LegalError::OverCeiling { field: f, .. }) if *f == field)
}

#[test]
fn art_7_2_a_filing_records_its_filer_and_the_approvals_it_needs() {
    let now = Utc::now();
    let events = LegalCase::default().decide(&command(file(now, 3))).unwrap();
    let [Event::LegalRequestFiled(filed)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(filed.filed_by, "officer-a");
    assert_eq!(filed.filed_by_personnel_id, "P-100");
    assert_eq!(filed.approvals_required, 3);
    let request = filed_needing(now, 3).request.unwrap();
    assert_eq!(request.approvals_required, 3);
    assert_eq!(request.state, RequestState::Filed);
}

#[test]
fn art_7_2_an_officer_without_a_personnel_id_cannot_file() {
    let now = Utc::now();
    let action = Action::File {
        filer: Actor::new("officer-a", None),
        filing: filing(now),
        ceilings: Ceilings::default(),
    };
    assert_eq!(
        LegalCase::default().decide(&command(action)),
        Err(LegalError::NoPersonnelId)
    );
}

#[test]
fn art_7_2_a_scope_over_its_ceilings_is_refused_at_filing() {
    let now = Utc::now();
    let tight = Ceilings {
        max_scope_entries: 2,
        max_scope_span: Duration::days(1),
        ..Ceilings::default()
    };
    let mut wide = filing(now);
    let scope = &mut wide.scope;
    scope.job_seeker_ids = vec!["a".into(), "b".into()];
    scope.device_pseudonyms = vec![DevicePseudonym {
        device_pseudonym: String::new(),
        pseudonym_period: String::new(),
    }];
    scope.time_range = Some((now - Duration::hours(1), now));
    let result = LegalCase::default().decide(&command(Action::File {
        filer: officer(),
        filing: wide.clone(),
        ceilings: tight,
    }));
    assert!(over_ceiling("scope")(&result), "{result:?}");
    // Two entries over more than a day: the span is over.
    wide.scope.device_pseudonyms.clear();
    let mut long = wide.clone();
    long.scope.time_range = Some((now - Duration::days(1) - Duration::seconds(1), now));
    let result = LegalCase::default().decide(&command(Action::File {
        filer: officer(),
        filing: long,
        ceilings: tight,
    }));
    assert!(over_ceiling("scope.time_range")(&result), "{result:?}");
    // At the ceilings exactly: filed.
    let mut exact = wide;
    exact.scope.time_range = Some((now - Duration::days(1), now));
    let events = LegalCase::default()
        .decide(&command(Action::File {
            filer: officer(),
            filing: exact,
            ceilings: tight,
        }))
        .unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn a_repeated_filing_changes_nothing_and_another_officer_cannot_take_the_id() {
    let now = Utc::now();
    let case = filed(now);
    assert_eq!(case.decide(&command(file(now, 1))), Ok(vec![]));
    let other = Action::File {
        filer: Actor::new("officer-z", Some("P-900")),
        filing: filing(now),
        ceilings: Ceilings::default(),
    };
    assert_eq!(
        case.decide(&command(other)),
        Err(LegalError::FiledByAnother)
    );
    assert_eq!(
        LegalCase::default().decide(&command(approve(
            approver("approver-b", "P-200"),
            now,
            None
        ))),
        Err(LegalError::Unknown)
    );
}

#[test]
fn art_7_2_the_filer_can_never_decide_their_own_request_under_any_subject() {
    let now = Utc::now();
    let case = filed(now);
    for filer in [
        Actor::new("officer-a", None),
        Actor::new("officer-a", Some("P-100")),
        // The same person with another token.
        Actor::new("officer-a-approver", Some("P-100")),
    ] {
        assert_eq!(
            case.decide(&command(approve(filer.clone(), now, None))),
            Err(LegalError::OwnRequest),
            "{filer:?}"
        );
        let deny = Action::Deny {
            approver: filer,
            now,
            reason: "no".into(),
        };
        assert_eq!(case.decide(&command(deny)), Err(LegalError::OwnRequest));
    }
}

#[test]
fn art_7_2_an_approver_without_a_personnel_id_cannot_approve() {
    let now = Utc::now();
    assert_eq!(
        filed(now).decide(&command(approve(Actor::new("approver-b", None), now, None))),
        Err(LegalError::NoPersonnelId)
    );
}

#[test]
fn art_7_2_n_distinct_approvers_are_needed_and_one_person_counts_once() {
    let now = Utc::now();
    let case = filed_needing(now, 2);
    let once = decided(case, approve(approver("approver-b", "P-200"), now, None));
    let pending = once.request.clone().unwrap();
    assert_eq!(pending.state, RequestState::Filed);
    assert!(!pending.message().authorized_legal_request);
    assert_eq!(pending.approvals.len(), 1);
    assert_eq!(pending.approvals[0].personnel_id, "P-200");
    assert_eq!(pending.expires_at, None);
    // N-1 approvals disclose nothing.
    assert_eq!(
        refusal(&once, disclose(officer(), now)),
        Some(DisclosureRefusalReason::NotApproved)
    );
    // The same person again, under the same or another subject.
    for again in [
        approver("approver-b", "P-200"),
        approver("approver-b-2", "P-200"),
        approver("approver-b", "P-201"),
    ] {
        assert_eq!(
            once.decide(&command(approve(again.clone(), now, None))),
            Err(LegalError::AlreadyApproved),
            "{again:?}"
        );
    }
    let twice = decided(once, approve(approver("approver-c", "P-300"), now, None));
    let request = twice.request.clone().unwrap();
    assert_eq!(request.state, RequestState::Approved);
    assert!(request.message().authorized_legal_request);
    assert_eq!(request.approvals.len(), 2);
    assert_eq!(refusal(&twice, disclose(officer(), now)), None);
    // Approved: no third approval.
    assert_eq!(
        twice.decide(&command(approve(
            approver("approver-d", "P-400"),
            now,
            None
        ))),
        Err(LegalError::NotFiled("approved"))
    );
}

#[test]
fn art_7_2_every_approvers_terms_bound_the_authorization() {
    let now = Utc::now();
    let later = now + Duration::hours(1);
    let first = approve_on(
        approver("approver-b", "P-200"),
        now,
        Terms {
            expires_at: Some(now + Duration::days(2)),
            disclosure_limit: 50,
            deferral: Some(Duration::days(30)),
            deferral_reason: "the suspect would be warned".into(),
            note: "first".into(),
        },
    );
    let second = approve_on(
        approver("approver-c", "P-300"),
        later,
        Terms {
            expires_at: Some(now + Duration::days(5)),
            disclosure_limit: 20,
            deferral: Some(Duration::days(60)),
            deferral_reason: "longer".into(),
            note: "second".into(),
        },
    );
    let case = decided(decided(filed_needing(now, 2), first), second);
    let request = case.request.unwrap();
    assert_eq!(request.expires_at, Some(now + Duration::days(2)));
    assert_eq!(request.disclosure_limit, 20);
    assert_eq!(request.deferral_reason, "the suspect would be warned");
    assert_eq!(
        request.notify_subjects_after,
        Some(later + Duration::days(30))
    );
    assert_eq!(request.decision_note, "second");
    // An approver who defers nothing: the persons are told at once.
    let third = approve_on(approver("approver-c", "P-300"), later, Terms::default());
    let first = approve_on(
        approver("approver-b", "P-200"),
        now,
        Terms {
            deferral: Some(Duration::days(30)),
            deferral_reason: "x".into(),
            ..Terms::default()
        },
    );
    let request = decided(decided(filed_needing(now, 2), first), third)
        .request
        .unwrap();
    assert_eq!(request.notify_subjects_after, Some(later));
    assert_eq!(request.deferral_reason, "");
    // Unset limits are the ceiling; unset expiry the requested one (7
    // days, under the 30-day ceiling).
    assert_eq!(request.disclosure_limit, DEFAULT_MAX_DISCLOSURE_LIMIT);
    assert_eq!(request.expires_at, request.filing.requested_expires_at);
}

#[test]
fn art_7_2_approval_terms_over_their_ceilings_are_refused() {
    let now = Utc::now();
    let tight = Ceilings {
        max_validity: Duration::days(3),
        max_disclosure_limit: 10,
        max_deferral: Duration::days(5),
        ..Ceilings::default()
    };
    let case = filed(now);
    let with = |terms: Terms| Action::Approve {
        approver: approver("approver-b", "P-200"),
        now,
        terms,
        ceilings: tight,
    };
    for (terms, field) in [
        (
            Terms {
                expires_at: Some(now + Duration::days(4)),
                ..Terms::default()
            },
            "expires_at",
        ),
        (
            Terms {
                disclosure_limit: 11,
                ..Terms::default()
            },
            "disclosure_limit",
        ),
        (
            Terms {
                deferral: Some(Duration::days(5) + Duration::seconds(1)),
                deferral_reason: "x".into(),
                ..Terms::default()
            },
            "notification_deferral",
        ),
    ] {
        let result = case.decide(&command(with(terms)));
        assert!(over_ceiling(field)(&result), "{field}: {result:?}");
    }
    // Unset: the requested 7 days are cut to the 3-day ceiling, the
    // limit is the ceiling.
    let request = decided(case.clone(), with(Terms::default()))
        .request
        .unwrap();
    assert_eq!(request.expires_at, Some(now + Duration::days(3)));
    assert_eq!(request.disclosure_limit, 10);
    // At the ceilings exactly: approved.
    let exact = Terms {
        expires_at: Some(now + Duration::days(3)),
        disclosure_limit: 10,
        deferral: Some(Duration::days(5)),
        deferral_reason: "x".into(),
        note: String::new(),
    };
    assert!(case.decide(&command(with(exact))).is_ok());
}

#[test]
fn art_7_2_approval_may_not_outlast_the_requested_expiry() {
    let now = Utc::now();
    let b = || approver("approver-b", "P-200");
    assert_eq!(
        filed(now).decide(&command(approve(b(), now, Some(8)))),
        Err(LegalError::ExpiryTooLate)
    );
    let past = approve_on(
        b(),
        now,
        Terms {
            expires_at: Some(now - Duration::minutes(1)),
            ..Terms::default()
        },
    );
    assert_eq!(
        filed(now).decide(&command(past)),
        Err(LegalError::ExpiryPassed)
    );
    let approved = decided(filed(now), approve(b(), now, None));
    let request = approved.request.unwrap();
    assert_eq!(request.expires_at, request.filing.requested_expires_at);
}

#[test]
fn art_7_2_an_earlier_approval_that_expired_cannot_be_completed() {
    let now = Utc::now();
    let once = decided(
        filed_needing(now, 2),
        approve_on(
            approver("approver-b", "P-200"),
            now,
            Terms {
                expires_at: Some(now + Duration::hours(1)),
                ..Terms::default()
            },
        ),
    );
    let later = now + Duration::hours(2);
    assert_eq!(
        once.decide(&command(approve(
            approver("approver-c", "P-300"),
            later,
            None
        ))),
        Err(LegalError::ApprovalLapsed)
    );
}

#[test]
fn art_7_2_disclosure_only_to_the_named_officer_while_approved_and_unexpired() {
    let now = Utc::now();
    let case = filed(now);
    assert_eq!(
        refusal(&case, disclose(officer(), now)),
        Some(DisclosureRefusalReason::NotApproved)
    );
    let approved = decided(case, approve(approver("approver-b", "P-200"), now, Some(1)));
    assert_eq!(refusal(&approved, disclose(officer(), now)), None);
    for other in [
        Actor::new("officer-c", Some("P-100")),
        Actor::new("officer-a", Some("P-999")),
        Actor::new("officer-a", None),
    ] {
        assert_eq!(
            refusal(&approved, disclose(other.clone(), now)),
            Some(DisclosureRefusalReason::NotNamedOfficer),
            "{other:?}"
        );
    }
    let later = now + Duration::days(2);
    assert_eq!(
        state_at(approved.request.as_ref().unwrap(), later),
        RequestState::Expired
    );
    assert_eq!(
        refusal(&approved, disclose(officer(), later)),
        Some(DisclosureRefusalReason::Expired)
    );
    assert_eq!(
        refusal(&LegalCase::default(), disclose(officer(), now)),
        Some(DisclosureRefusalReason::UnknownRequest)
    );
}

#[test]
fn art_7_2_revocation_ends_the_authorization_and_denial_never_grants_it() {
    let now = Utc::now();
    let b = || approver("approver-b", "P-200");
    let approved = decided(filed(now), approve(b(), now, Some(1)));
    let revoke = Action::Revoke {
        approver: b(),
        now,
        reason: "case closed".into(),
    };
    let revoked = decided(approved, revoke.clone());
    assert_eq!(
        refusal(&revoked, disclose(officer(), now)),
        Some(DisclosureRefusalReason::Revoked)
    );
    assert_eq!(
        revoked.decide(&command(approve(
            approver("approver-c", "P-300"),
            now,
            None
        ))),
        Err(LegalError::NotFiled("revoked"))
    );
    assert_eq!(
        revoked.decide(&command(revoke)),
        Err(LegalError::NotApproved("revoked"))
    );
    let deny = Action::Deny {
        approver: b(),
        now,
        reason: "no basis".into(),
    };
    let denied = decided(filed(now), deny);
    assert_eq!(
        refusal(&denied, disclose(officer(), now)),
        Some(DisclosureRefusalReason::Denied)
    );
}

#[test]
fn art_7_2_disclosures_never_exceed_the_limit_in_total() {
    let now = Utc::now();
    let approved = decided(
        filed(now),
        approve_on(
            approver("approver-b", "P-200"),
            now,
            Terms {
                disclosure_limit: 3,
                ..Terms::default()
            },
        ),
    );
    let first = decided(approved, disclose(officer(), now));
    assert_eq!(first.request.as_ref().unwrap().disclosed_record_count, 2);
    // The next page of two is cut to the one record left.
    let events = first
        .decide(&command(disclose_as(officer(), now, vec![11, 12])))
        .unwrap();
    let [Event::DeviceRecordsDisclosed(cut)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(
        (cut.record_count, cut.record_sequences.clone()),
        (1, vec![11])
    );
    let full = events.iter().fold(first, |case, e| case.apply(e));
    assert_eq!(full.request.as_ref().unwrap().disclosed_record_count, 3);
    assert_eq!(
        full.authorize_disclosure(&officer(), now, &Ceilings::default()),
        Err(Refusal::LimitReached)
    );
    assert_eq!(
        refusal(&full, disclose(officer(), now)),
        Some(DisclosureRefusalReason::LimitReached)
    );
}

/// `LegalRequestFiled` and `LegalRequestApproved` as the service stored
/// them before Step 9 (their fields then, nothing else).
#[derive(Clone, PartialEq, prost::Message)]
struct FiledBeforeStep9 {
    #[prost(string, tag = "1")]
    legal_request_id: String,
    #[prost(message, optional, tag = "8")]
    requested_expires_at: Option<prost_types::Timestamp>,
    #[prost(string, tag = "9")]
    filed_by: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ApprovedBeforeStep9 {
    #[prost(string, tag = "1")]
    legal_request_id: String,
    #[prost(message, optional, tag = "2")]
    expires_at: Option<prost_types::Timestamp>,
    #[prost(string, tag = "3")]
    note: String,
}

#[test]
fn events_stored_before_step_9_load_as_one_approval_of_a_request_that_needed_one() {
    let now = Utc::now();
    let filed = FiledBeforeStep9 {
        legal_request_id: ID.into(),
        requested_expires_at: Some(timestamp(now + Duration::days(7))),
        filed_by: "officer-a".into(),
    };
    let approved = ApprovedBeforeStep9 {
        legal_request_id: ID.into(),
        expires_at: Some(timestamp(now + Duration::days(5))),
        note: "granted".into(),
    };
    let events = [
        Event::decode("LegalRequestFiled", &filed.encode_to_vec()).unwrap(),
        Event::decode("LegalRequestApproved", &approved.encode_to_vec()).unwrap(),
    ];
    let mut case = LegalCase::default();
    for (event, actor) in events.iter().zip(["officer-a", "approver-b"]) {
        case = case.apply(event);
        annotate(case.request.as_mut().unwrap(), event, actor, now);
    }
    assert_eq!(case.request.as_ref().unwrap().filer_personnel_id, "");
    let request = case.request.clone().unwrap();
    assert_eq!(request.state, RequestState::Approved);
    assert_eq!(request.approvals_required, 1);
    assert_eq!(request.approvals.len(), 1);
    let approval = &request.approvals[0];
    assert_eq!(approval.approver, "approver-b");
    assert_eq!(approval.personnel_id, "");
    assert_eq!(approval.approved_at, Some(now));
    assert_eq!(request.expires_at, Some(now + Duration::days(5)));
    assert_eq!(request.decided.as_ref().unwrap().by, "approver-b");
    assert_eq!(request.notify_subjects_after, Some(now));
    // No limit of its own: the configured ceiling.
    assert_eq!(request.disclosure_limit, 0);
    let tight = Ceilings {
        max_disclosure_limit: 1,
        ..Ceilings::default()
    };
    assert_eq!(shown(request, now, &tight).disclosure_limit, 1);
    // The named officer (by subject, no personnel id recorded) receives
    // up to the ceiling, then no more.
    let by_subject = Actor::new("officer-a", Some("P-100"));
    assert_eq!(case.authorize_disclosure(&by_subject, now, &tight), Ok(1));
    let events = case
        .decide(&command(Action::Disclose {
            officer: by_subject.clone(),
            now,
            record_sequences: vec![1, 2],
            ceilings: tight,
        }))
        .unwrap();
    let case = events.iter().fold(case, |case, e| case.apply(e));
    assert_eq!(
        case.authorize_disclosure(&by_subject, now, &tight),
        Err(Refusal::LimitReached)
    );
    // New events written today decode to the same types.
    let event = Event::LegalRequestApproved(proto::LegalRequestApproved::default());
    assert!(Event::decode(event.event_type(), &event.encode()).is_ok());
}

#[test]
fn a_pending_request_filed_before_step_9_is_decided_by_subject() {
    let now = Utc::now();
    let filed = FiledBeforeStep9 {
        legal_request_id: ID.into(),
        requested_expires_at: Some(timestamp(now + Duration::days(7))),
        filed_by: "officer-a".into(),
    };
    let event = Event::decode("LegalRequestFiled", &filed.encode_to_vec()).unwrap();
    let case = LegalCase::default().apply(&event);
    assert_eq!(
        case.decide(&command(approve(
            Actor::new("officer-a", Some("P-1")),
            now,
            None
        ))),
        Err(LegalError::OwnRequest)
    );
    let approved = decided(case, approve(approver("approver-b", "P-200"), now, None));
    assert_eq!(approved.request.unwrap().state, RequestState::Approved);
}

#[test]
fn ceilings_are_told_in_whole_units() {
    assert_eq!(describe_span(Duration::days(30)), "30 days");
    assert_eq!(describe_span(Duration::hours(5)), "5 hours");
    assert_eq!(describe_span(Duration::seconds(90)), "90 seconds");
}
