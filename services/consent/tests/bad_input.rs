//! Bad input (issue "Step 7"): every RPC of the consent service, as its
//! contract lists them, called with generated requests — mutations of valid
//! ones, random structured messages, raw wire bytes — under a valid token of
//! a role its contract allows, and with bad tokens. It answers OK, or
//! INVALID_ARGUMENT with field violations, or a refusal with details; never
//! INTERNAL; a call that is not OK writes no event; the service stays
//! healthy. 64 cases per RPC, or `PROPTEST_CASES`.

mod support;

use chrono::{Duration, NaiveDate};
use hellowork_platform::Role;
use hellowork_proto::consent::v1 as proto;
use hellowork_testing::bad_input::{self, Hints, Target};
use hellowork_testing::terms::terms_of_use;
use support::{Consent, date, eventually, publish_baseline, start, today_in_tokyo};
use uuid::Uuid;

const OPERATOR: &str = "operator-1";

fn target(consent: &Consent) -> Target<'_> {
    Target {
        service: hellowork_consent::app::HEALTH_NAME,
        health: hellowork_consent::app::HEALTH_NAME,
        schema: "consent",
        addr: consent
            .url
            .trim_start_matches("http://")
            .parse()
            .expect("the service's address"),
        env: &consent.env,
        recorded_refusals: &[],
    }
}

fn reference(document: &proto::TermsDocument) -> proto::TermsReference {
    proto::TermsReference {
        terms_document_id: document.terms_document_id.clone(),
        version: document.version.clone(),
        sha256: document.sha256.clone(),
    }
}

/// Terms and meeting-app terms in force, a later version not yet announced,
/// a job seeker with a consent receipt, and a valid request of every RPC.
async fn prepare(consent: &Consent) -> Hints {
    let (terms, app) = publish_baseline(consent).await;
    let mut client = consent.client().await;
    let effective = today_in_tokyo() + Duration::days(60);
    let revision = proto::PublishTermsDocumentRequest {
        request_id: Uuid::now_v7().to_string(),
        version: "2099-01-01".into(),
        language: "ja".into(),
        title: "revised terms".into(),
        full_text: format!("{}\n(test revision)", terms_of_use().text),
        sha256: String::new(),
        established_date: Some(date(NaiveDate::from_ymd_opt(2021, 3, 1).unwrap())),
        revised_date: Some(date(effective)),
        effective_date: Some(date(effective)),
    };
    let revised = client
        .publish_terms_document(consent.request(revision.clone(), OPERATOR, Role::Operator))
        .await
        .unwrap()
        .into_inner()
        .terms_document
        .unwrap();
    let lookup = proto::GetTermsDocumentRequest {
        terms_document_id: revised.terms_document_id.clone(),
    };
    eventually("the revised text projected", || {
        let mut client = client.clone();
        let request = consent.request(lookup.clone(), OPERATOR, Role::Operator);
        async move { client.get_terms_document(request).await.ok() }
    })
    .await;

    let seeker = Uuid::now_v7().to_string();
    let record = proto::RecordConsentRequest {
        request_id: Uuid::now_v7().to_string(),
        job_seeker_id: seeker.clone(),
        terms: Some(reference(&terms)),
        meeting_app_terms: Some(reference(&app)),
        method: proto::ConsentMethod::Explicit.into(),
        application_id: String::new(),
        consented_at: None,
        time_zone: "Asia/Tokyo".into(),
        language: "ja".into(),
    };
    let receipt = client
        .record_consent(consent.request(record.clone(), &seeker, Role::JobSeeker))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();

    let mut hints = Hints::default();
    hints
        .subject(Role::JobSeeker, &seeker)
        .subject(Role::Operator, OPERATOR)
        .subject(Role::Counsellor, "counsellor-1")
        .string(&terms.terms_document_id)
        .string(&app.terms_document_id)
        .string(&revised.terms_document_id)
        .string(&terms.sha256)
        .string(&app.sha256)
        .string(&receipt.receipt_id)
        .string("2023-12-18")
        .string("Asia/Tokyo")
        .instant(chrono::Utc::now().timestamp() + 60 * 86_400);
    hints
        .seed("PublishTermsDocument", &revision)
        .seed(
            "PublishTermsDocument",
            &proto::PublishTermsDocumentRequest {
                request_id: Uuid::now_v7().to_string(),
                version: "2099-02-01".into(),
                full_text: "短い規約".into(),
                sha256: String::new(),
                ..revision.clone()
            },
        )
        .seed(
            "PublishMeetingAppTerms",
            &proto::PublishMeetingAppTermsRequest {
                request_id: Uuid::now_v7().to_string(),
                meeting_app_name: "Meeting App".into(),
                version: "2099-10".into(),
                language: "ja".into(),
                title: "Meeting app terms".into(),
                full_text: "test meeting app terms, revised".into(),
                sha256: String::new(),
                effective_date: Some(date(effective)),
                source_uri: "https://example.com/terms".into(),
            },
        )
        .seed("GetTermsDocument", &lookup)
        .seed(
            "GetTermsInForce",
            &proto::GetTermsInForceRequest {
                kind: proto::TermsKind::OnlineServices.into(),
                language: "ja".into(),
                at: None,
            },
        )
        .seed("RecordConsent", &record)
        .seed(
            "WithdrawConsent",
            &proto::WithdrawConsentRequest {
                request_id: Uuid::now_v7().to_string(),
                job_seeker_id: seeker.clone(),
                receipt_id: receipt.receipt_id.clone(),
            },
        )
        .seed(
            "GetConsentStatus",
            &proto::GetConsentStatusRequest {
                job_seeker_id: seeker.clone(),
                at: None,
            },
        )
        .seed(
            "ListConsentReceipts",
            &proto::ListConsentReceiptsRequest {
                job_seeker_id: seeker.clone(),
                page_size: 1,
                page_token: String::new(),
            },
        )
        .seed(
            "AnnounceRevision",
            &proto::AnnounceRevisionRequest {
                request_id: Uuid::now_v7().to_string(),
                terms_document_id: revised.terms_document_id.clone(),
                ground: proto::RevisionGround::ReasonableChange.into(),
                reasons: "Art. 5(3): OS support is checked against a published table".into(),
                change_summary: "the OS support table is published".into(),
            },
        )
        .seed(
            "ListNotices",
            &proto::ListNoticesRequest {
                job_seeker_id: seeker,
                page_size: 0,
                page_token: String::new(),
            },
        );
    hints
}

#[test]
fn every_rpc_answers_bad_requests_with_details_and_writes_nothing() {
    let runtime = bad_input::runtime();
    let consent = runtime.block_on(start());
    let hints = runtime.block_on(prepare(&consent));
    let report = bad_input::every_rpc(&runtime, target(&consent), hints);
    eprintln!("consent, bad requests:\n{report}");
    report.assert_passed();
}

#[test]
fn bad_tokens_are_unauthenticated_and_write_nothing() {
    let runtime = bad_input::runtime();
    let consent = runtime.block_on(start());
    let hints = runtime.block_on(prepare(&consent));
    let report = bad_input::bad_tokens(&runtime, target(&consent), &hints);
    eprintln!("consent, bad tokens:\n{report}");
    report.assert_passed();
}
