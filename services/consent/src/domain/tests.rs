//! Given/when/then for every rule of the consent domain, each named after
//! its article.

use chrono::{DateTime, Duration, Utc};
use hellowork_eventstore::Aggregate;
use hellowork_platform::{Article, ServiceError};
use hellowork_proto::consent::v1 as proto;
use hellowork_testing::Scenario;
use uuid::Uuid;

use super::{
    DomainError, Event,
    consent::{
        AgreedTerms, CONTROLLER, ConsentCommand, ConsentMethod, JURISDICTION, PersonConsents,
        RecordConsent, WithdrawConsent,
    },
    event::{date_message, timestamp},
    status::{Binding, Standing, revision_binding, status_at},
    terms::{AnnounceRevision, NewDocument, RevisionGround, TermsCommand, TermsRef, TermsSeries},
    values::{CalendarDate, JobSeekerId, LanguageTag, Sha256Hex, TermsKind, TermsVersion},
};

const V1_TEXT: &str = "first text";
const V2_TEXT: &str = "second text";
const APP_TEXT: &str = "meeting app terms";

fn date(year: i32, month: i32, day: i32) -> CalendarDate {
    CalendarDate::new(year, month, day).unwrap()
}

/// An instant given in Asia/Tokyo.
fn jst(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}+09:00"))
        .unwrap()
        .with_timezone(&Utc)
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn new_document(
    n: u128,
    kind: TermsKind,
    version: &str,
    text: &str,
    effective: CalendarDate,
) -> NewDocument {
    NewDocument {
        terms_document_id: id(n),
        kind,
        version: TermsVersion::new(version).unwrap(),
        language: LanguageTag::japanese(),
        title: "title".into(),
        full_text: text.into(),
        established_date: (kind == TermsKind::OnlineServices).then(|| date(2021, 3, 1)),
        revised_date: None,
        effective_date: effective,
        meeting_app_name: if kind == TermsKind::MeetingApp {
            "App".into()
        } else {
            String::new()
        },
        source_uri: String::new(),
        published_at: jst("2023-12-01T09:00:00"),
    }
}

/// The event publishing `new` produces (via the aggregate itself).
fn published(new: NewDocument) -> Event {
    TermsSeries::default()
        .decide(&TermsCommand::Publish(new))
        .unwrap()
        .remove(0)
}

fn v1() -> Event {
    published(new_document(
        1,
        TermsKind::OnlineServices,
        "2023-12-18",
        V1_TEXT,
        date(2023, 12, 18),
    ))
}

fn v2() -> Event {
    published(new_document(
        2,
        TermsKind::OnlineServices,
        "2024-04-01",
        V2_TEXT,
        date(2024, 4, 1),
    ))
}

fn announce(ground: RevisionGround, reasons: &str, at: DateTime<Utc>) -> TermsCommand {
    TermsCommand::AnnounceRevision(AnnounceRevision {
        revision_id: id(100),
        terms_document_id: id(2),
        ground,
        reasons: reasons.into(),
        change_summary: "art. 5 clarified".into(),
        announced_at: at,
    })
}

fn announced(ground: RevisionGround, reasons: &str, at: DateTime<Utc>) -> Event {
    TermsSeries::default()
        .apply(&v1())
        .apply(&v2())
        .decide(&announce(ground, reasons, at))
        .unwrap()
        .remove(0)
}

fn series(events: &[Event]) -> TermsSeries {
    events
        .iter()
        .fold(TermsSeries::default(), |state, event| state.apply(event))
}

fn reference(n: u128, version: &str, text: &str) -> TermsRef {
    TermsRef {
        terms_document_id: id(n).to_string(),
        version: version.into(),
        sha256: Sha256Hex::of(text).to_string(),
    }
}

fn article_of(error: &DomainError) -> String {
    error
        .article()
        .map_or_else(|| "none".to_owned(), Article::label)
}

// Terms documents (Art. 4, 13) ------------------------------------------------

#[test]
fn publishing_records_the_text_with_the_hash_the_service_computed() {
    let new = new_document(
        1,
        TermsKind::OnlineServices,
        "2023-12-18",
        V1_TEXT,
        date(2023, 12, 18),
    );
    Scenario::<TermsSeries>::given([])
        .when(TermsCommand::Publish(new))
        .then_events([Event::TermsDocumentPublished(
            proto::TermsDocumentPublished {
                terms_document_id: id(1).to_string(),
                version: "2023-12-18".into(),
                language: "ja".into(),
                title: "title".into(),
                full_text: V1_TEXT.into(),
                sha256: Sha256Hex::of(V1_TEXT).to_string(),
                established_date: Some(date_message(date(2021, 3, 1))),
                revised_date: None,
                effective_date: Some(date_message(date(2023, 12, 18))),
                published_at: Some(timestamp(jst("2023-12-01T09:00:00"))),
            },
        )]);
}

#[test]
fn repeating_a_publication_writes_nothing() {
    let new = new_document(
        1,
        TermsKind::OnlineServices,
        "other-label",
        "other",
        date(2023, 12, 18),
    );
    Scenario::<TermsSeries>::given([v1()])
        .when(TermsCommand::Publish(new))
        .then_events([]);
}

#[test]
fn a_version_label_is_published_once_per_kind_and_language() {
    let new = new_document(
        9,
        TermsKind::OnlineServices,
        "2023-12-18",
        "other",
        date(2024, 1, 1),
    );
    let error = Scenario::<TermsSeries>::given([v1()])
        .when(TermsCommand::Publish(new))
        .then_error();
    assert_eq!(
        error,
        DomainError::VersionExists {
            version: "2023-12-18".into()
        }
    );
    assert!(matches!(
        ServiceError::from(error),
        ServiceError::AlreadyExists { .. }
    ));
}

/// Art. 4: the meeting app's terms are tracked the same way.
#[test]
fn art_4_meeting_app_terms_are_published_with_their_app() {
    let new = new_document(
        5,
        TermsKind::MeetingApp,
        "2024-01",
        APP_TEXT,
        date(2024, 1, 1),
    );
    let events = TermsSeries::default()
        .decide(&TermsCommand::Publish(new))
        .unwrap();
    let [Event::MeetingAppTermsPublished(event)] = events.as_slice() else {
        panic!("expected MeetingAppTermsPublished, got {events:?}")
    };
    assert_eq!(event.meeting_app_name, "App");
    assert_eq!(event.sha256, Sha256Hex::of(APP_TEXT).to_string());
}

/// Art. 13: the first version is in force from 00:00 Asia/Tokyo of its
/// effective date; a later version is not, without a revision.
#[test]
fn art_13_the_first_version_comes_into_force_on_its_date_later_ones_only_by_revision() {
    let state = series(&[v1(), v2()]);
    assert!(state.in_force_at(jst("2023-12-17T23:59:59")).is_none());
    let in_force = state.in_force_at(jst("2023-12-18T00:00:00")).unwrap();
    assert_eq!(in_force.document.version, "2023-12-18");
    assert!(in_force.revision.is_none());
    let later = state.in_force_at(jst("2024-05-01T00:00:00")).unwrap();
    assert_eq!(
        later.document.version, "2023-12-18",
        "v2 was never announced"
    );
}

/// Art. 4: meeting-app versions follow their own effective dates.
#[test]
fn art_4_the_meeting_app_version_in_force_is_the_latest_effective_one() {
    let state = series(&[
        published(new_document(
            5,
            TermsKind::MeetingApp,
            "a",
            "a",
            date(2024, 1, 1),
        )),
        published(new_document(
            6,
            TermsKind::MeetingApp,
            "b",
            "b",
            date(2024, 6, 1),
        )),
    ]);
    assert!(state.in_force_at(jst("2023-12-31T23:00:00")).is_none());
    assert_eq!(
        state
            .in_force_at(jst("2024-05-31T23:59:59"))
            .unwrap()
            .document
            .version,
        "a"
    );
    assert_eq!(
        state
            .in_force_at(jst("2024-06-01T00:00:00"))
            .unwrap()
            .document
            .version,
        "b"
    );
}

// Revisions (Art. 13) ----------------------------------------------------------

/// Art. 13(1): a revision in the users' general interest, announced before
/// its effective date, brings the new version into force on that date.
#[test]
fn art_13_1_a_revision_announced_in_time_takes_effect_on_its_date() {
    let at = jst("2024-03-01T10:00:00");
    Scenario::<TermsSeries>::given([v1(), v2()])
        .when(announce(RevisionGround::GeneralInterest, "", at))
        .then_events([Event::TermsRevisionAnnounced(
            proto::TermsRevisionAnnounced {
                revision_id: id(100).to_string(),
                new_terms: Some(reference(2, "2024-04-01", V2_TEXT).message()),
                previous_terms: Some(reference(1, "2023-12-18", V1_TEXT).message()),
                ground: proto::RevisionGround::GeneralInterest.into(),
                reasons: String::new(),
                change_summary: "art. 5 clarified".into(),
                effective_date: Some(date_message(date(2024, 4, 1))),
                effective_at: Some(timestamp(jst("2024-04-01T00:00:00"))),
                announced_at: Some(timestamp(at)),
            },
        )]);
    let state = series(&[
        v1(),
        v2(),
        announced(RevisionGround::GeneralInterest, "", at),
    ]);
    let before = state.in_force_at(jst("2024-03-31T23:59:59")).unwrap();
    assert_eq!(before.document.version, "2023-12-18");
    let after = state.in_force_at(jst("2024-04-01T00:00:00")).unwrap();
    assert_eq!(after.document.version, "2024-04-01");
    assert_eq!(after.since, jst("2024-04-01T00:00:00"));
    assert_eq!(after.revision.unwrap().revision_id, id(100));
}

/// Art. 13(2): a reasonable change with its reasons, announced in time.
#[test]
fn art_13_2_a_reasonable_change_with_reasons_announced_in_time_is_recorded() {
    let events = series(&[v1(), v2()])
        .decide(&announce(
            RevisionGround::ReasonableChange,
            "new OS support policy",
            jst("2024-03-31T23:59:59"),
        ))
        .unwrap();
    let [Event::TermsRevisionAnnounced(event)] = events.as_slice() else {
        panic!("expected an announcement, got {events:?}")
    };
    assert_eq!(event.ground(), proto::RevisionGround::ReasonableChange);
    assert_eq!(event.reasons, "new OS support policy");
}

/// Art. 13(2): the reasons must be recorded.
#[test]
fn art_13_2_a_reasonable_change_without_reasons_is_refused() {
    let error = Scenario::<TermsSeries>::given([v1(), v2()])
        .when(announce(
            RevisionGround::ReasonableChange,
            "  ",
            jst("2024-03-01T10:00:00"),
        ))
        .then_error();
    assert_eq!(error, DomainError::ReasonsRequired);
    assert_eq!(article_of(&error), "13(2)");
}

/// Art. 13(2) (Civil Code Art. 548-4(3)): announced at or after 00:00
/// Asia/Tokyo of the effective date, it has no effect and is refused.
#[test]
fn art_13_2_a_reasonable_change_announced_too_late_is_refused() {
    let error = Scenario::<TermsSeries>::given([v1(), v2()])
        .when(announce(
            RevisionGround::ReasonableChange,
            "reasons",
            jst("2024-04-01T00:00:00"),
        ))
        .then_error();
    assert!(matches!(
        error,
        DomainError::ReasonableChangeAnnouncedLate { .. }
    ));
    assert_eq!(article_of(&error), "13(2)");
    let status = ServiceError::from(error).into_status();
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
}

/// Art. 13: any revision is announced before it takes effect.
#[test]
fn art_13_a_revision_announced_after_its_effective_date_is_refused() {
    let error = Scenario::<TermsSeries>::given([v1(), v2()])
        .when(announce(
            RevisionGround::GeneralInterest,
            "",
            jst("2024-04-02T09:00:00"),
        ))
        .then_error();
    assert!(matches!(error, DomainError::AnnouncedLate { .. }));
    assert_eq!(article_of(&error), "13");
}

/// Art. 13: the first version needs no revision.
#[test]
fn art_13_the_first_version_is_not_revised() {
    let command = TermsCommand::AnnounceRevision(AnnounceRevision {
        revision_id: id(100),
        terms_document_id: id(1),
        ground: RevisionGround::GeneralInterest,
        reasons: String::new(),
        change_summary: "x".into(),
        announced_at: jst("2023-01-01T00:00:00"),
    });
    let error = Scenario::<TermsSeries>::given([v1(), v2()])
        .when(command)
        .then_error();
    assert_eq!(error, DomainError::FirstVersionNeedsNoRevision);
}

/// Art. 4: the meeting app's terms are not revised under Art. 13.
#[test]
fn art_4_meeting_app_terms_are_not_revised_under_art_13() {
    let app = |n, version: &str| {
        published(new_document(
            n,
            TermsKind::MeetingApp,
            version,
            version,
            date(2024, 1, 1),
        ))
    };
    let mut command = announce(
        RevisionGround::GeneralInterest,
        "",
        jst("2023-01-01T00:00:00"),
    );
    if let TermsCommand::AnnounceRevision(announce) = &mut command {
        announce.terms_document_id = id(6);
    }
    let error = Scenario::<TermsSeries>::given([app(5, "a"), app(6, "b")])
        .when(command)
        .then_error();
    assert_eq!(error, DomainError::MeetingAppTermsNotRevisable);
    assert_eq!(article_of(&error), "4");
}

#[test]
fn a_revision_of_an_unknown_document_is_not_found() {
    let error = Scenario::<TermsSeries>::given([v1()])
        .when(announce(
            RevisionGround::GeneralInterest,
            "",
            jst("2024-03-01T00:00:00"),
        ))
        .then_error();
    assert!(matches!(
        ServiceError::from(error),
        ServiceError::NotFound { .. }
    ));
}

/// Art. 13: one revision per new version; repeating the same request is
/// not a second revision.
#[test]
fn art_13_a_version_is_revised_once_and_a_repeated_announcement_writes_nothing() {
    let at = jst("2024-03-01T10:00:00");
    let history = [
        v1(),
        v2(),
        announced(RevisionGround::GeneralInterest, "", at),
    ];
    Scenario::<TermsSeries>::given(history.clone())
        .when(announce(RevisionGround::GeneralInterest, "", at))
        .then_events([]);
    let mut other = announce(RevisionGround::GeneralInterest, "", at);
    if let TermsCommand::AnnounceRevision(announce) = &mut other {
        announce.revision_id = id(101);
    }
    let error = Scenario::<TermsSeries>::given(history)
        .when(other)
        .then_error();
    assert!(matches!(error, DomainError::AlreadyRevised { .. }));
}

/// Art. 13: revisions take effect in the order they are announced.
#[test]
fn art_13_a_revision_effective_before_an_announced_one_is_refused() {
    let at = jst("2024-03-01T10:00:00");
    let v3 = published(new_document(
        3,
        TermsKind::OnlineServices,
        "2024-03-15",
        "third",
        date(2024, 3, 15),
    ));
    let command = TermsCommand::AnnounceRevision(AnnounceRevision {
        revision_id: id(101),
        terms_document_id: id(3),
        ground: RevisionGround::GeneralInterest,
        reasons: String::new(),
        change_summary: "x".into(),
        announced_at: at,
    });
    let error = Scenario::<TermsSeries>::given([
        v1(),
        v2(),
        announced(RevisionGround::GeneralInterest, "", at),
        v3,
    ])
    .when(command)
    .then_error();
    assert!(matches!(error, DomainError::RevisionOutOfOrder { .. }));
}

/// Art. 13: a revision replaces a version in force.
#[test]
fn art_13_a_revision_effective_before_the_first_version_has_nothing_to_revise() {
    let early = published(new_document(
        2,
        TermsKind::OnlineServices,
        "early",
        "early",
        date(2023, 6, 1),
    ));
    let error = Scenario::<TermsSeries>::given([v1(), early])
        .when(announce(
            RevisionGround::GeneralInterest,
            "",
            jst("2023-05-01T00:00:00"),
        ))
        .then_error();
    assert!(matches!(error, DomainError::NothingToRevise { .. }));
}

// Consent (Art. 2(1), 4, 6) ------------------------------------------------------

fn app_event() -> Event {
    published(new_document(
        5,
        TermsKind::MeetingApp,
        "2024-01",
        APP_TEXT,
        date(2023, 1, 1),
    ))
}

fn person() -> JobSeekerId {
    JobSeekerId::new("0190f2c4-6b1e-7a00-8000-000000000001").unwrap()
}

fn agreed(n: Option<u128>, version: &str, text: &str) -> AgreedTerms {
    AgreedTerms {
        terms_document_id: n.map(id),
        version: version.into(),
        sha256: Sha256Hex::of(text).to_string(),
    }
}

/// A consent command with the versions in force at `at` looked up as the
/// service does.
fn record(
    receipt: u128,
    method: ConsentMethod,
    terms: AgreedTerms,
    app: AgreedTerms,
    at: DateTime<Utc>,
) -> ConsentCommand {
    let terms_series = series(&[v1(), v2()]);
    let app_series = series(&[app_event()]);
    ConsentCommand::Record(Box::new(RecordConsent {
        receipt_id: id(receipt),
        job_seeker_id: person(),
        terms,
        meeting_app_terms: app,
        method,
        consented_at: at,
        language: LanguageTag::japanese(),
        terms_in_force: terms_series.in_force_at(at).map(|f| f.document.reference()),
        meeting_app_terms_in_force: app_series.in_force_at(at).map(|f| f.document.reference()),
    }))
}

fn deemed(receipt: u128, at: DateTime<Utc>) -> ConsentCommand {
    record(
        receipt,
        ConsentMethod::DeemedByApplication {
            application_id: id(77),
        },
        agreed(None, "2023-12-18", V1_TEXT),
        agreed(None, "2024-01", APP_TEXT),
        at,
    )
}

fn recorded(command: &ConsentCommand) -> Event {
    PersonConsents::default().decide(command).unwrap().remove(0)
}

/// Art. 4, 6: applying counts as consent to the terms and the meeting app's
/// terms in force; the receipt carries the consent-receipt fields.
#[test]
fn art_6_deemed_consent_is_recorded_with_both_versions() {
    let at = jst("2024-02-01T10:00:00");
    Scenario::<PersonConsents>::given([])
        .when(deemed(10, at))
        .then_events([Event::ConsentRecorded(proto::ConsentRecorded {
            receipt_id: id(10).to_string(),
            job_seeker_id: person().to_string(),
            terms: Some(reference(1, "2023-12-18", V1_TEXT).message()),
            meeting_app_terms: Some(reference(5, "2024-01", APP_TEXT).message()),
            method: proto::ConsentMethod::DeemedByApplication.into(),
            application_id: id(77).to_string(),
            consented_at: Some(timestamp(at)),
            time_zone: "Asia/Tokyo".into(),
            jurisdiction: JURISDICTION.into(),
            language: "ja".into(),
            controller: CONTROLLER.into(),
        })]);
}

/// Art. 6: a redelivered application is recorded once.
#[test]
fn art_6_deemed_consent_is_recorded_once() {
    let at = jst("2024-02-01T10:00:00");
    Scenario::<PersonConsents>::given([recorded(&deemed(10, at))])
        .when(deemed(10, at))
        .then_events([]);
}

/// Art. 2(1): explicit consent names the exact document.
#[test]
fn art_2_1_explicit_consent_to_the_version_in_force_is_recorded() {
    let command = record(
        11,
        ConsentMethod::Explicit,
        agreed(Some(1), "2023-12-18", V1_TEXT),
        agreed(Some(5), "2024-01", APP_TEXT),
        jst("2024-02-01T10:00:00"),
    );
    let events = recorded_all(&command);
    let [Event::ConsentRecorded(event)] = events.as_slice() else {
        panic!("expected a consent")
    };
    assert_eq!(event.method(), proto::ConsentMethod::Explicit);
    assert!(event.application_id.is_empty());
}

fn recorded_all(command: &ConsentCommand) -> Vec<Event> {
    PersonConsents::default().decide(command).unwrap()
}

/// Art. 2(1): consent to a version not in force (or to another text under
/// its label) is refused.
#[test]
fn art_2_1_consent_to_a_version_not_in_force_or_another_text_is_refused() {
    let at = jst("2024-02-01T10:00:00");
    for terms in [
        agreed(None, "2024-04-01", V2_TEXT),
        agreed(None, "2023-12-18", "tampered"),
        agreed(Some(2), "2023-12-18", V1_TEXT),
    ] {
        let error = Scenario::<PersonConsents>::given([])
            .when(record(
                12,
                ConsentMethod::Explicit,
                terms,
                agreed(None, "2024-01", APP_TEXT),
                at,
            ))
            .then_error();
        assert!(matches!(error, DomainError::TermsNotInForce { .. }));
        assert_eq!(article_of(&error), "2(1)");
    }
}

/// Art. 2(1): no consent before any terms are in force.
#[test]
fn art_2_1_consent_before_any_terms_are_in_force_is_refused() {
    let error = Scenario::<PersonConsents>::given([])
        .when(deemed(13, jst("2023-12-17T12:00:00")))
        .then_error();
    assert!(matches!(error, DomainError::NoTermsInForce { .. }));
    assert_eq!(article_of(&error), "2(1)");
}

/// Art. 4: the meeting app's terms accepted must be those in force.
#[test]
fn art_4_consent_to_meeting_app_terms_not_in_force_is_refused() {
    let error = Scenario::<PersonConsents>::given([])
        .when(record(
            14,
            ConsentMethod::Explicit,
            agreed(None, "2023-12-18", V1_TEXT),
            agreed(None, "2023-01", APP_TEXT),
            jst("2024-02-01T10:00:00"),
        ))
        .then_error();
    assert!(matches!(
        error,
        DomainError::MeetingAppTermsNotInForce { .. }
    ));
    assert_eq!(article_of(&error), "4");
    let mut command = deemed(15, jst("2024-02-01T10:00:00"));
    if let ConsentCommand::Record(record) = &mut command {
        record.meeting_app_terms_in_force = None;
    }
    let error = Scenario::<PersonConsents>::given([])
        .when(command)
        .then_error();
    assert!(matches!(
        error,
        DomainError::NoMeetingAppTermsInForce { .. }
    ));
    assert_eq!(article_of(&error), "4");
}

fn withdraw(receipt: u128, at: DateTime<Utc>) -> ConsentCommand {
    ConsentCommand::Withdraw(WithdrawConsent {
        job_seeker_id: person(),
        receipt_id: id(receipt),
        withdrawn_at: at,
    })
}

/// Art. 2(1): withdrawal ends the consent; repeating it changes nothing.
#[test]
fn art_2_1_consent_is_withdrawn_once() {
    let consented = recorded(&deemed(10, jst("2024-02-01T10:00:00")));
    let at = jst("2024-02-10T10:00:00");
    Scenario::<PersonConsents>::given([consented.clone()])
        .when(withdraw(10, at))
        .then_events([Event::ConsentWithdrawn(proto::ConsentWithdrawn {
            receipt_id: id(10).to_string(),
            job_seeker_id: person().to_string(),
            withdrawn_at: Some(timestamp(at)),
        })]);
    let withdrawn = PersonConsents::default()
        .apply(&consented)
        .decide(&withdraw(10, at))
        .unwrap()
        .remove(0);
    Scenario::<PersonConsents>::given([consented, withdrawn])
        .when(withdraw(10, at))
        .then_events([]);
}

#[test]
fn withdrawing_an_unknown_receipt_is_not_found() {
    let error = Scenario::<PersonConsents>::given([])
        .when(withdraw(10, jst("2024-02-10T10:00:00")))
        .then_error();
    assert_eq!(
        error,
        DomainError::UnknownReceipt {
            receipt_id: id(10).to_string()
        }
    );
}

/// Art. 2(1): only the current consent can be withdrawn.
#[test]
fn art_2_1_a_superseded_receipt_is_not_withdrawn() {
    let first = recorded(&deemed(10, jst("2024-02-01T10:00:00")));
    let second = recorded(&deemed(11, jst("2024-02-02T10:00:00")));
    let error = Scenario::<PersonConsents>::given([first, second])
        .when(withdraw(10, jst("2024-02-10T10:00:00")))
        .then_error();
    assert!(matches!(error, DomainError::ReceiptSuperseded { .. }));
    assert_eq!(article_of(&error), "2(1)");
}

// Status (Art. 2(1), 13) -----------------------------------------------------------

/// Art. 13: after a revision takes effect, an earlier consent binds the new
/// version without re-consent, and the status says since when and when the
/// person was notified.
#[test]
fn art_13_after_the_effective_date_the_revised_version_binds_without_re_consent() {
    let consented_at = jst("2024-02-01T10:00:00");
    let announced_at = jst("2024-03-01T10:00:00");
    let consents = PersonConsents::default().apply(&recorded(&deemed(10, consented_at)));
    let terms = series(&[
        v1(),
        v2(),
        announced(RevisionGround::ReasonableChange, "reasons", announced_at),
    ]);
    let notified = |revision: Uuid| (revision == id(100)).then_some(announced_at);

    let none = status_at(&consents, &terms, notified, jst("2024-01-01T00:00:00"));
    assert_eq!(none.standing, Standing::None);

    let before = status_at(&consents, &terms, notified, jst("2024-03-31T23:59:59"));
    assert_eq!(before.standing, Standing::Consented);
    let (bound, binding, since) = before.bound.clone().unwrap();
    assert_eq!(
        (bound.version.as_str(), binding, since),
        ("2023-12-18", Binding::Consent, consented_at)
    );

    let after = status_at(&consents, &terms, notified, jst("2024-04-01T00:00:00"));
    let (bound, binding, since) = after.bound.clone().unwrap();
    assert_eq!(bound, reference(2, "2024-04-01", V2_TEXT));
    assert_eq!(since, jst("2024-04-01T00:00:00"));
    assert_eq!(
        binding,
        Binding::Revision {
            revision_id: id(100),
            notified_at: Some(announced_at)
        }
    );
    assert_eq!(
        after.summary,
        "bound by version 2024-04-01 under Art. 13 since 2024-04-01T00:00:00+09:00, \
         notified at 2024-03-01T10:00:00+09:00"
    );
}

/// Art. 13: only a revision in force after the consent binds without it,
/// and only while the consent stands; the status asks for no notice
/// otherwise.
#[test]
fn art_13_a_revision_binds_only_after_its_effective_date_and_while_consent_stands() {
    let consented_at = jst("2024-02-01T10:00:00");
    let consents = PersonConsents::default().apply(&recorded(&deemed(10, consented_at)));
    let terms = series(&[
        v1(),
        v2(),
        announced(
            RevisionGround::ReasonableChange,
            "reasons",
            jst("2024-03-01T10:00:00"),
        ),
    ]);
    let binding = |consents: &PersonConsents, at| revision_binding(consents, &terms, at);
    assert_eq!(binding(&consents, jst("2024-03-31T23:59:59")), None);
    assert_eq!(
        binding(&consents, jst("2024-04-01T00:00:00")),
        Some(id(100))
    );
    assert_eq!(
        binding(&PersonConsents::default(), jst("2024-04-01T00:00:00")),
        None,
        "no consent, no revision binding"
    );
    let withdrawn_at = jst("2024-04-10T10:00:00");
    let withdrawn = consents
        .decide(&withdraw(10, withdrawn_at))
        .unwrap()
        .remove(0);
    let consents = consents.apply(&withdrawn);
    assert_eq!(
        binding(&consents, withdrawn_at - Duration::seconds(1)),
        Some(id(100))
    );
    assert_eq!(binding(&consents, withdrawn_at), None, "withdrawn");
}

/// Art. 2(1): a withdrawn consent binds nothing from its withdrawal on.
#[test]
fn art_2_1_the_status_after_withdrawal_is_withdrawn() {
    let consented = recorded(&deemed(10, jst("2024-02-01T10:00:00")));
    let withdrawn_at = jst("2024-02-10T10:00:00");
    let consents = PersonConsents::default().apply(&consented);
    let withdrawn = consents
        .decide(&withdraw(10, withdrawn_at))
        .unwrap()
        .remove(0);
    let consents = consents.apply(&withdrawn);
    let terms = series(&[v1()]);
    let during = status_at(
        &consents,
        &terms,
        |_| None,
        withdrawn_at - Duration::seconds(1),
    );
    assert_eq!(during.standing, Standing::Consented);
    let after = status_at(&consents, &terms, |_| None, withdrawn_at);
    assert_eq!(after.standing, Standing::Withdrawn);
    assert!(after.bound.is_none());
}
