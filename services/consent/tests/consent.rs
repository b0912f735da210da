//! The consent service over gRPC against real PostgreSQL and NATS: the real
//! terms published, invalid input refused, deemed consent from
//! registration's events, Art. 13 revisions with notices, and roles.

mod support;

use chrono::{Duration, NaiveDate, Utc};
use hellowork_platform::Role;
use hellowork_proto::{
    consent::v1 as proto,
    registration::v1::{JobSeekerRegistered, OnlineServicesApplied},
};
use hellowork_testing::terms::terms_of_use;
use hellowork_values::time::timestamp;
use prost::Message;
use support::{
    Consent, date, eventually, publish_baseline, sha256, start, start_in_tokyo, today_in_tokyo,
};
use tonic::Code;
use tonic_types::StatusExt;
use uuid::Uuid;

const OPERATOR: &str = "operator-1";

fn violated_fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_error_details()
        .bad_request()
        .expect("BadRequest")
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect()
}

fn article(status: &tonic::Status) -> String {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    status
        .get_error_details()
        .error_info()
        .expect("ErrorInfo")
        .metadata["article"]
        .clone()
}

#[tokio::test]
async fn the_real_terms_are_published_with_their_hash_and_are_in_force() {
    let consent = start().await;
    let mut client = consent.client().await;
    let text = terms_of_use().text;
    let request_id = Uuid::now_v7().to_string();
    let request = proto::PublishTermsDocumentRequest {
        request_id: request_id.clone(),
        version: "2023-12-18".into(),
        language: "ja".into(),
        title: terms_of_use().title().to_owned(),
        full_text: text.clone(),
        sha256: sha256(&text),
        established_date: Some(date(NaiveDate::from_ymd_opt(2021, 3, 1).unwrap())),
        revised_date: Some(date(NaiveDate::from_ymd_opt(2023, 12, 18).unwrap())),
        effective_date: Some(date(NaiveDate::from_ymd_opt(2023, 12, 18).unwrap())),
    };
    let published = client
        .publish_terms_document(consent.request(request.clone(), OPERATOR, Role::Operator))
        .await
        .unwrap()
        .into_inner()
        .terms_document
        .unwrap();
    assert_eq!(published.sha256, sha256(&text));
    assert_eq!(published.version, "2023-12-18");
    assert_eq!(published.full_text, text);

    // Repeating the request returns the first result and writes nothing.
    let again = client
        .publish_terms_document(consent.request(request, OPERATOR, Role::Operator))
        .await
        .unwrap()
        .into_inner()
        .terms_document
        .unwrap();
    assert_eq!(again.terms_document_id, published.terms_document_id);
    assert_eq!(consent.stored_events().await, 1);

    let in_force = |at: chrono::DateTime<Utc>| proto::GetTermsInForceRequest {
        kind: proto::TermsKind::OnlineServices.into(),
        language: String::new(),
        at: Some(timestamp(at)),
    };
    let now = client
        .get_terms_in_force(consent.request(in_force(Utc::now()), "seeker", Role::JobSeeker))
        .await
        .unwrap()
        .into_inner();
    let document = now.terms_document.unwrap();
    assert_eq!(document.version, "2023-12-18");
    assert_eq!(document.sha256, sha256(&text));
    assert_eq!(
        now.in_force_since.unwrap().seconds,
        start_in_tokyo(NaiveDate::from_ymd_opt(2023, 12, 18).unwrap()).timestamp()
    );
    assert!(
        now.revision_id.is_empty(),
        "a first version needs no revision"
    );

    let before =
        start_in_tokyo(NaiveDate::from_ymd_opt(2023, 12, 18).unwrap()) - Duration::seconds(1);
    let none = client
        .get_terms_in_force(consent.request(in_force(before), "seeker", Role::JobSeeker))
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::NotFound);

    let fetched = eventually("the document projected", || {
        let mut client = client.clone();
        let request = consent.request(
            proto::GetTermsDocumentRequest {
                terms_document_id: published.terms_document_id.clone(),
            },
            "counsellor-1",
            Role::Counsellor,
        );
        async move { client.get_terms_document(request).await.ok() }
    })
    .await
    .into_inner()
    .terms_document
    .unwrap();
    assert_eq!(fetched.full_text, text);
    assert_eq!(
        fetched.established_date,
        Some(date(NaiveDate::from_ymd_opt(2021, 3, 1).unwrap()))
    );
}

#[tokio::test]
async fn invalid_input_of_every_field_is_refused_and_nothing_is_written() {
    let consent = start().await;
    let mut client = consent.client().await;
    let bad_date = Some(proto::Date {
        year: 2023,
        month: 13,
        day: 1,
    });

    let publish = client
        .publish_terms_document(consent.request(
            proto::PublishTermsDocumentRequest {
                request_id: "not-a-uuid".into(),
                version: "bad version!".into(),
                language: "japanese_JP".into(),
                title: String::new(),
                full_text: " ".into(),
                sha256: "0".repeat(64),
                established_date: None,
                revised_date: bad_date,
                effective_date: bad_date,
            },
            OPERATOR,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&publish),
        [
            "request_id",
            "version",
            "language",
            "title",
            "full_text",
            "sha256",
            "established_date",
            "revised_date",
            "effective_date"
        ]
    );

    let app = client
        .publish_meeting_app_terms(consent.request(
            proto::PublishMeetingAppTermsRequest {
                request_id: String::new(),
                meeting_app_name: String::new(),
                version: String::new(),
                language: String::new(),
                title: String::new(),
                full_text: String::new(),
                sha256: "xyz".into(),
                effective_date: None,
                source_uri: "ftp://x y".into(),
            },
            OPERATOR,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&app),
        [
            "request_id",
            "meeting_app_name",
            "version",
            "language",
            "title",
            "full_text",
            "sha256",
            "effective_date",
            "source_uri"
        ]
    );

    let seeker = Uuid::now_v7().to_string();
    let record = client
        .record_consent(consent.request(
            proto::RecordConsentRequest {
                request_id: String::new(),
                job_seeker_id: seeker.clone(),
                terms: Some(proto::TermsReference {
                    terms_document_id: "x".into(),
                    version: String::new(),
                    sha256: "ABC".into(),
                }),
                meeting_app_terms: None,
                method: proto::ConsentMethod::Explicit.into(),
                application_id: "app".into(),
                consented_at: Some(timestamp(Utc::now() + Duration::days(1))),
                time_zone: "Europe/Paris".into(),
                language: "??".into(),
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&record),
        [
            "request_id",
            "terms.terms_document_id",
            "terms.version",
            "terms.sha256",
            "meeting_app_terms",
            "method",
            "consented_at",
            "time_zone",
            "language"
        ]
    );

    let withdraw = client
        .withdraw_consent(consent.request(
            proto::WithdrawConsentRequest {
                request_id: String::new(),
                job_seeker_id: "x".into(),
                receipt_id: "y".into(),
            },
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&withdraw),
        ["request_id", "job_seeker_id", "receipt_id"]
    );

    let announce = client
        .announce_revision(consent.request(
            proto::AnnounceRevisionRequest {
                request_id: String::new(),
                terms_document_id: "x".into(),
                ground: proto::RevisionGround::Unspecified.into(),
                reasons: "r".repeat(4001),
                change_summary: " ".into(),
            },
            OPERATOR,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&announce),
        [
            "request_id",
            "terms_document_id",
            "ground",
            "reasons",
            "change_summary"
        ]
    );

    let in_force = client
        .get_terms_in_force(consent.request(
            proto::GetTermsInForceRequest {
                kind: proto::TermsKind::Unspecified.into(),
                language: "x".into(),
                at: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -5,
                }),
            },
            "seeker",
            Role::JobSeeker,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&in_force), ["kind", "language", "at"]);

    let notices = client
        .list_notices(consent.request(
            proto::ListNoticesRequest {
                job_seeker_id: "x".into(),
                page_size: 501,
                page_token: "abc".into(),
            },
            OPERATOR,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&notices),
        ["job_seeker_id", "page_size", "page_token"]
    );

    assert_eq!(consent.stored_events().await, 0, "nothing written");
}

fn applied(
    seeker: &str,
    application: &str,
    terms: &proto::TermsDocument,
    app: &proto::TermsDocument,
) -> Vec<u8> {
    OnlineServicesApplied {
        application_id: application.to_owned(),
        job_seeker_id: seeker.to_owned(),
        terms_version: terms.version.clone(),
        terms_sha256: terms.sha256.clone(),
        meeting_app_terms_version: app.version.clone(),
        meeting_app_terms_sha256: app.sha256.clone(),
        language: "ja".into(),
    }
    .encode_to_vec()
}

async fn receipts(consent: &Consent, seeker: &str) -> Vec<proto::ConsentReceipt> {
    consent
        .client()
        .await
        .list_consent_receipts(consent.request(
            proto::ListConsentReceiptsRequest {
                job_seeker_id: seeker.to_owned(),
                page_size: 0,
                page_token: String::new(),
            },
            seeker,
            Role::JobSeeker,
        ))
        .await
        .unwrap()
        .into_inner()
        .receipts
}

async fn status(
    consent: &Consent,
    seeker: &str,
    at: chrono::DateTime<Utc>,
) -> proto::GetConsentStatusResponse {
    consent
        .client()
        .await
        .get_consent_status(consent.request(
            proto::GetConsentStatusRequest {
                job_seeker_id: seeker.to_owned(),
                at: Some(timestamp(at)),
            },
            "system:scheduling",
            Role::System,
        ))
        .await
        .unwrap()
        .into_inner()
}

/// Art. 4, 6: an application recorded by registration counts as consent to
/// both versions, recorded once however often the event arrives.
#[tokio::test]
async fn deemed_consent_is_recorded_once_from_the_application_event_and_can_be_withdrawn() {
    let consent = start().await;
    let (terms, app) = publish_baseline(&consent).await;
    let seeker = Uuid::now_v7().to_string();
    let application = Uuid::now_v7().to_string();
    // The same application delivered twice (e.g. re-published after the
    // duplicate window: a new message, the same application).
    for _ in 0..2 {
        consent
            .publish_registration_event(
                "OnlineServicesApplied",
                applied(&seeker, &application, &terms, &app),
                &seeker,
            )
            .await;
    }
    let receipt = eventually("the deemed consent", || async {
        receipts(&consent, &seeker).await.into_iter().next()
    })
    .await;
    assert_eq!(receipt.method(), proto::ConsentMethod::DeemedByApplication);
    assert_eq!(receipt.application_id, application);
    assert_eq!(
        receipt.terms.as_ref().unwrap().terms_document_id,
        terms.terms_document_id
    );
    assert_eq!(
        receipt.terms.as_ref().unwrap().sha256,
        sha256(&terms_of_use().text)
    );
    assert_eq!(
        receipt.meeting_app_terms.as_ref().unwrap().version,
        app.version
    );
    assert_eq!(
        (
            receipt.jurisdiction.as_str(),
            receipt.time_zone.as_str(),
            receipt.language.as_str()
        ),
        ("JP", "Asia/Tokyo", "ja")
    );
    assert_eq!(receipt.state(), proto::ConsentState::Active);

    // Both deliveries are consumed before the count is trusted.
    eventually("both deliveries handled", || async {
        let pool = sqlx::PgPool::connect(&consent.env.database.url)
            .await
            .unwrap();
        let handled: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM consent.consumer_inbox WHERE consumer = 'consent-deemed-consent'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        (handled == 2).then_some(())
    })
    .await;
    assert_eq!(receipts(&consent, &seeker).await.len(), 1, "recorded once");

    let consented = status(&consent, &seeker, Utc::now()).await;
    assert_eq!(consented.status(), proto::ConsentStatus::Consented);
    assert_eq!(consented.binding_basis(), proto::BindingBasis::Consent);
    assert_eq!(consented.bound_terms.unwrap().version, "2023-12-18");

    // Art. 2(1): the person withdraws; the status says so.
    let withdrawn = consent
        .client()
        .await
        .withdraw_consent(consent.request(
            proto::WithdrawConsentRequest {
                request_id: Uuid::now_v7().to_string(),
                job_seeker_id: seeker.clone(),
                receipt_id: receipt.receipt_id.clone(),
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    assert_eq!(withdrawn.state(), proto::ConsentState::Withdrawn);
    let after = status(&consent, &seeker, Utc::now() + Duration::seconds(1)).await;
    assert_eq!(after.status(), proto::ConsentStatus::Withdrawn);
}

/// Publishes version `version` of the terms, effective on `effective`.
async fn publish_revision_text(
    consent: &Consent,
    version: &str,
    effective: NaiveDate,
) -> proto::TermsDocument {
    let published = consent
        .client()
        .await
        .publish_terms_document(consent.request(
            proto::PublishTermsDocumentRequest {
                request_id: Uuid::now_v7().to_string(),
                version: version.into(),
                language: "ja".into(),
                title: "revised terms".into(),
                full_text: format!("{}\n(test revision {version})", terms_of_use().text),
                sha256: String::new(),
                established_date: Some(date(NaiveDate::from_ymd_opt(2021, 3, 1).unwrap())),
                revised_date: Some(date(effective)),
                effective_date: Some(date(effective)),
            },
            OPERATOR,
            Role::Operator,
        ))
        .await
        .unwrap()
        .into_inner()
        .terms_document
        .unwrap();
    // The revision finds the document's series through the read model.
    let client = consent.client().await;
    eventually("the revised text projected", || {
        let mut client = client.clone();
        let request = consent.request(
            proto::GetTermsDocumentRequest {
                terms_document_id: published.terms_document_id.clone(),
            },
            OPERATOR,
            Role::Operator,
        );
        async move { client.get_terms_document(request).await.ok() }
    })
    .await;
    published
}

fn announcement(document: &proto::TermsDocument, reasons: &str) -> proto::AnnounceRevisionRequest {
    proto::AnnounceRevisionRequest {
        request_id: Uuid::now_v7().to_string(),
        terms_document_id: document.terms_document_id.clone(),
        ground: proto::RevisionGround::ReasonableChange.into(),
        reasons: reasons.into(),
        change_summary: "Art. 5(3): OS support is checked against a published table".into(),
    }
}

async fn notices(consent: &Consent, seeker: &str) -> Vec<proto::Notice> {
    consent
        .client()
        .await
        .list_notices(consent.request(
            proto::ListNoticesRequest {
                job_seeker_id: seeker.to_owned(),
                page_size: 0,
                page_token: String::new(),
            },
            seeker,
            Role::JobSeeker,
        ))
        .await
        .unwrap()
        .into_inner()
        .notices
}

fn registered(seeker: &str) -> Vec<u8> {
    JobSeekerRegistered {
        job_seeker_id: seeker.to_owned(),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Art. 13(2): announced before its effective date, a reasonable change is
/// noticed to every registered user (also those registering before it takes
/// effect), and from its effective date binds existing consents.
#[tokio::test]
async fn a_13_2_revision_announced_in_time_notifies_every_user_and_then_binds() {
    let consent = start().await;
    let (terms, app) = publish_baseline(&consent).await;
    let (early, consenting, late) = (
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
    );
    for seeker in [&early, &consenting] {
        consent
            .publish_registration_event("JobSeekerRegistered", registered(seeker), seeker)
            .await;
    }
    consent
        .publish_registration_event(
            "OnlineServicesApplied",
            applied(&consenting, &Uuid::now_v7().to_string(), &terms, &app),
            &consenting,
        )
        .await;
    eventually("the deemed consent", || async {
        receipts(&consent, &consenting).await.into_iter().next()
    })
    .await;

    let effective = today_in_tokyo() + Duration::days(3);
    let revised = publish_revision_text(&consent, "next", effective).await;
    let revision = consent
        .client()
        .await
        .announce_revision(consent.request(
            announcement(&revised, "consistent with Art. 1 and needed for safety"),
            OPERATOR,
            Role::Operator,
        ))
        .await
        .unwrap()
        .into_inner()
        .revision
        .unwrap();
    assert_eq!(revision.previous_terms.unwrap().version, "2023-12-18");
    let effective_at = start_in_tokyo(effective);
    assert_eq!(
        revision.effective_at.unwrap().seconds,
        effective_at.timestamp()
    );

    // Registered after the announcement, before the effective date.
    consent
        .publish_registration_event("JobSeekerRegistered", registered(&late), &late)
        .await;
    for seeker in [&early, &consenting, &late] {
        let notice = eventually("a notice for every registered user", || async {
            notices(&consent, seeker).await.into_iter().next()
        })
        .await;
        assert_eq!(notice.revision_id, revision.revision_id);
        assert_eq!(notice.new_terms.as_ref().unwrap().version, "next");
        assert_eq!(notice.effective_date, Some(date(effective)));
        assert_eq!(notice.ground(), proto::RevisionGround::ReasonableChange);
    }
    let notified_at = notices(&consent, &consenting).await[0].notified_at.unwrap();

    let before = status(&consent, &consenting, effective_at - Duration::seconds(1)).await;
    assert_eq!(before.binding_basis(), proto::BindingBasis::Consent);
    assert_eq!(before.bound_terms.unwrap().version, "2023-12-18");

    let after = status(&consent, &consenting, effective_at).await;
    assert_eq!(after.status(), proto::ConsentStatus::Consented);
    assert_eq!(after.binding_basis(), proto::BindingBasis::Art13Revision);
    assert_eq!(after.bound_terms.unwrap().version, "next");
    assert_eq!(after.bound_since.unwrap().seconds, effective_at.timestamp());
    assert_eq!(after.revision_id, revision.revision_id);
    assert_eq!(after.notified_at, Some(notified_at));
    assert!(
        after
            .summary
            .starts_with("bound by version next under Art. 13 since "),
        "{}",
        after.summary
    );
    let in_force = consent
        .client()
        .await
        .get_terms_in_force(consent.request(
            proto::GetTermsInForceRequest {
                kind: proto::TermsKind::OnlineServices.into(),
                language: "ja".into(),
                at: Some(timestamp(effective_at)),
            },
            "system:front",
            Role::System,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(in_force.revision_id, revision.revision_id);
}

/// Art. 13(2): too late, or without reasons, a reasonable change is refused
/// and nothing is written.
#[tokio::test]
async fn a_13_2_revision_announced_late_or_without_reasons_is_refused() {
    let consent = start().await;
    publish_baseline(&consent).await;
    let today = publish_revision_text(&consent, "today", today_in_tokyo()).await;
    let before = consent.stored_events().await;
    let late = consent
        .client()
        .await
        .announce_revision(consent.request(
            announcement(&today, "reasons"),
            OPERATOR,
            Role::Operator,
        ))
        .await
        .unwrap_err();
    assert_eq!(article(&late), "13(2)");
    assert_eq!(
        late.get_error_details().error_info().unwrap().reason,
        "ART_13_2"
    );

    let future =
        publish_revision_text(&consent, "future", today_in_tokyo() + Duration::days(10)).await;
    let without_reasons = consent
        .client()
        .await
        .announce_revision(consent.request(announcement(&future, ""), OPERATOR, Role::Operator))
        .await
        .unwrap_err();
    assert_eq!(article(&without_reasons), "13(2)");
    assert_eq!(
        consent.stored_events().await,
        before + 1,
        "only the publication"
    );
}

/// Roles as the contract declares them.
#[tokio::test]
async fn roles_are_enforced() {
    let consent = start().await;
    let (terms, app) = publish_baseline(&consent).await;
    let mut client = consent.client().await;
    let seeker = Uuid::now_v7().to_string();
    let other = Uuid::now_v7().to_string();

    for role in [
        Role::JobSeeker,
        Role::Counsellor,
        Role::Supervisor,
        Role::System,
    ] {
        let subject = if role == Role::System {
            "system:registration"
        } else {
            "x"
        };
        let denied = client
            .publish_terms_document(consent.request(
                proto::PublishTermsDocumentRequest::default(),
                subject,
                role,
            ))
            .await
            .unwrap_err();
        assert_eq!(
            denied.code(),
            Code::PermissionDenied,
            "{role} may not publish"
        );
    }

    let explicit = |subject: &str, role: Role| {
        consent.request(
            proto::RecordConsentRequest {
                request_id: Uuid::now_v7().to_string(),
                job_seeker_id: seeker.clone(),
                terms: Some(proto::TermsReference {
                    terms_document_id: terms.terms_document_id.clone(),
                    version: terms.version.clone(),
                    sha256: terms.sha256.clone(),
                }),
                meeting_app_terms: Some(proto::TermsReference {
                    terms_document_id: app.terms_document_id.clone(),
                    version: app.version.clone(),
                    sha256: app.sha256.clone(),
                }),
                method: proto::ConsentMethod::Explicit.into(),
                application_id: String::new(),
                consented_at: None,
                time_zone: String::new(),
                language: "ja".into(),
            },
            subject,
            role,
        )
    };
    for (subject, role) in [
        (other.as_str(), Role::JobSeeker),
        ("c", Role::Counsellor),
        ("system:registration", Role::System),
    ] {
        let denied = client
            .record_consent(explicit(subject, role))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{role} {subject}");
    }
    let receipt = client
        .record_consent(explicit(&seeker, Role::JobSeeker))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    assert_eq!(receipt.method(), proto::ConsentMethod::Explicit);

    let mut deemed = explicit(&seeker, Role::JobSeeker).into_inner();
    deemed.method = proto::ConsentMethod::DeemedByApplication.into();
    deemed.application_id = Uuid::now_v7().to_string();
    let denied = client
        .record_consent(consent.request(deemed.clone(), &seeker, Role::JobSeeker))
        .await
        .unwrap_err();
    assert_eq!(
        denied.code(),
        Code::PermissionDenied,
        "deemed consent is the system's"
    );
    client
        .record_consent(consent.request(deemed, "system:registration", Role::System))
        .await
        .unwrap();

    let list = |subject: &str, role: Role| {
        consent.request(
            proto::ListConsentReceiptsRequest {
                job_seeker_id: seeker.clone(),
                page_size: 1,
                page_token: String::new(),
            },
            subject,
            role,
        )
    };
    let own = client
        .list_consent_receipts(list(&seeker, Role::JobSeeker))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.receipts.len(), 1);
    assert_eq!(own.next_page_token, "1", "newest first, paged");
    assert!(
        client
            .list_consent_receipts(list("s", Role::Supervisor))
            .await
            .is_ok()
    );
    // A counsellor reads only the people they serve (Art. 8), which consent
    // cannot tell: they see consent through registration's CheckEligibility.
    for (subject, role) in [
        (other.as_str(), Role::JobSeeker),
        ("c", Role::Counsellor),
        ("o", Role::Operator),
        ("system:scheduling", Role::System),
    ] {
        let denied = client
            .list_consent_receipts(list(subject, role))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{role} {subject}");
    }

    let notices = |subject: &str, role: Role| {
        consent.request(
            proto::ListNoticesRequest {
                job_seeker_id: seeker.clone(),
                page_size: 0,
                page_token: String::new(),
            },
            subject,
            role,
        )
    };
    assert!(
        client
            .list_notices(notices(&seeker, Role::JobSeeker))
            .await
            .is_ok()
    );
    assert!(
        client
            .list_notices(notices("o", Role::Operator))
            .await
            .is_ok()
    );
    for (subject, role) in [(other.as_str(), Role::JobSeeker), ("c", Role::Counsellor)] {
        let denied = client
            .list_notices(notices(subject, role))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{role} {subject}");
    }

    let withdraw = |subject: &str, role: Role| {
        consent.request(
            proto::WithdrawConsentRequest {
                request_id: Uuid::now_v7().to_string(),
                job_seeker_id: seeker.clone(),
                receipt_id: receipt.receipt_id.clone(),
            },
            subject,
            role,
        )
    };
    for (subject, role) in [
        (other.as_str(), Role::JobSeeker),
        ("s", Role::Supervisor),
        ("o", Role::Operator),
    ] {
        let denied = client
            .withdraw_consent(withdraw(subject, role))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{role} {subject}");
    }
    let status_request = |subject: &str, role: Role| {
        consent.request(
            proto::GetConsentStatusRequest {
                job_seeker_id: seeker.clone(),
                at: None,
            },
            subject,
            role,
        )
    };
    for (subject, role) in [
        (seeker.as_str(), Role::JobSeeker),
        ("s", Role::Supervisor),
        ("system:scheduling", Role::System),
    ] {
        assert!(
            client
                .get_consent_status(status_request(subject, role))
                .await
                .is_ok(),
            "{role}"
        );
    }
    for (subject, role) in [
        (other.as_str(), Role::JobSeeker),
        ("c", Role::Counsellor),
        ("o", Role::Operator),
    ] {
        let denied = client
            .get_consent_status(status_request(subject, role))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{role} {subject}");
    }
}
