//! Least privilege per calling service (Art. 6, 8): each RPC a service
//! calls accepts only the services that need it. Deemed consent comes only
//! from registration, whose applications cause it; consent status only
//! from scheduling, which asks before every booking; the terms only from
//! the front system, which shows them. Every other service's valid token
//! is PERMISSION_DENIED naming the RPC, and writes nothing.

mod support;

use hellowork_platform::CallingService;
use hellowork_proto::consent::v1 as proto;
use support::{Consent, publish_baseline, start};
use tonic::Code;
use uuid::Uuid;

fn others(allowed: CallingService) -> impl Iterator<Item = CallingService> {
    CallingService::ALL
        .into_iter()
        .filter(move |service| *service != allowed)
}

fn assert_denied_naming(status: &tonic::Status, rpc: &str, who: CallingService) {
    assert_eq!(status.code(), Code::PermissionDenied, "{who}: {status:?}");
    assert!(
        status.message().starts_with(&format!("{rpc}: ")),
        "{who}: {}",
        status.message()
    );
}

fn deemed(
    seeker: &str,
    terms: &proto::TermsDocument,
    app: &proto::TermsDocument,
) -> proto::RecordConsentRequest {
    let reference = |document: &proto::TermsDocument| proto::TermsReference {
        terms_document_id: document.terms_document_id.clone(),
        version: document.version.clone(),
        sha256: document.sha256.clone(),
    };
    proto::RecordConsentRequest {
        request_id: Uuid::now_v7().to_string(),
        job_seeker_id: seeker.to_owned(),
        terms: Some(reference(terms)),
        meeting_app_terms: Some(reference(app)),
        method: proto::ConsentMethod::DeemedByApplication.into(),
        application_id: Uuid::now_v7().to_string(),
        consented_at: None,
        time_zone: String::new(),
        language: "ja".into(),
    }
}

#[tokio::test]
async fn deemed_consent_is_recorded_only_from_registration() {
    let consent = start().await;
    let (terms, app) = publish_baseline(&consent).await;
    let mut client = consent.client().await;
    let seeker = Uuid::now_v7().to_string();
    let before = consent.stored_events().await;
    for service in others(CallingService::Registration) {
        let request = consent
            .env
            .system_request(deemed(&seeker, &terms, &app), service);
        let denied = client.record_consent(request).await.unwrap_err();
        assert_denied_naming(&denied, "RecordConsent", service);
    }
    assert_eq!(consent.stored_events().await, before, "nothing written");
    let recorded = client
        .record_consent(
            consent
                .env
                .system_request(deemed(&seeker, &terms, &app), CallingService::Registration),
        )
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    assert_eq!(recorded.method(), proto::ConsentMethod::DeemedByApplication);
}

#[tokio::test]
async fn consent_status_is_told_only_to_scheduling_and_terms_only_to_the_front() {
    let consent = start().await;
    publish_baseline(&consent).await;
    let mut client = consent.client().await;
    let status = || proto::GetConsentStatusRequest {
        job_seeker_id: Uuid::now_v7().to_string(),
        at: None,
    };
    let in_force = || proto::GetTermsInForceRequest {
        kind: proto::TermsKind::OnlineServices.into(),
        language: "ja".into(),
        at: None,
    };
    client
        .get_consent_status(
            consent
                .env
                .system_request(status(), CallingService::Scheduling),
        )
        .await
        .unwrap();
    for service in others(CallingService::Scheduling) {
        let denied = client
            .get_consent_status(consent.env.system_request(status(), service))
            .await
            .unwrap_err();
        assert_denied_naming(&denied, "GetConsentStatus", service);
    }
    client
        .get_terms_in_force(
            consent
                .env
                .system_request(in_force(), CallingService::Front),
        )
        .await
        .unwrap();
    for service in others(CallingService::Front) {
        let denied = client
            .get_terms_in_force(consent.env.system_request(in_force(), service))
            .await
            .unwrap_err();
        assert_denied_naming(&denied, "GetTermsInForce", service);
    }
}

/// The RPCs no service needs refuse every service, by role as for any
/// other caller without one of theirs.
#[tokio::test]
async fn the_people_s_rpcs_refuse_every_service() {
    let consent: Consent = start().await;
    let mut client = consent.client().await;
    let seeker = Uuid::now_v7().to_string();
    for service in CallingService::ALL {
        let receipts = client
            .list_consent_receipts(consent.env.system_request(
                proto::ListConsentReceiptsRequest {
                    job_seeker_id: seeker.clone(),
                    page_size: 1,
                    page_token: String::new(),
                },
                service,
            ))
            .await
            .unwrap_err();
        assert_eq!(receipts.code(), Code::PermissionDenied, "{service}");
        let notices = client
            .list_notices(consent.env.system_request(
                proto::ListNoticesRequest {
                    job_seeker_id: seeker.clone(),
                    page_size: 0,
                    page_token: String::new(),
                },
                service,
            ))
            .await
            .unwrap_err();
        assert_eq!(notices.code(), Code::PermissionDenied, "{service}");
    }
}
