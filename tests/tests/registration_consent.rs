//! Registration and consent as separate processes against the real
//! PostgreSQL and NATS: a person registers, attests, applies; the consent
//! service records the deemed consent from the application event; the person
//! becomes eligible. Then a 13(2) revision is announced: every registered user
//! gets a notice, and after its effective date the new version binds them
//! without re-consent.
//!
//! The dependencies on the service crates exist so `cargo test` builds their
//! binaries, which the test starts as processes.

use chrono::{Datelike, Days, NaiveDate, Utc};
use hellowork_auth::Role;
use hellowork_proto::{
    consent::v1::{self as consent, consent_service_client::ConsentServiceClient},
    registration::v1::{
        self as registration, registration_service_client::RegistrationServiceClient,
    },
};
use hellowork_testing::{
    ServiceEnv, ServiceProcess, TestDatabase, TestStream, database_url, eventually, nats_url,
    terms::terms_of_use,
};
use hellowork_values::time::timestamp;
use tonic::{Code, transport::Channel};

fn date(day: NaiveDate) -> consent::Date {
    consent::Date {
        year: day.year(),
        month: day.month() as i32,
        day: day.day() as i32,
    }
}

fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn environment(service: &str) -> ServiceEnv {
    // Each service migrates its own empty database at start, as in production.
    let database = TestDatabase::from_template(&database_url(), "empty", "v1", |_| async {}).await;
    ServiceEnv::new(service, database, &nats_url())
}

use hellowork_testing::passing_environment as good_environment;

#[tokio::test]
async fn register_attest_apply_consent_eligible_then_an_art_13_2_revision_binds_everyone() {
    let registration_env = environment("registration").await;
    let consent_env = environment("consent").await;
    // Scheduling is not started here; its stream stands empty.
    let scheduling = TestStream::create("scheduling").await;
    let scheduling_vars = [
        (
            "HELLOWORK_SCHEDULING_NATS_STREAM".to_owned(),
            scheduling.config.stream_name.clone(),
        ),
        (
            "HELLOWORK_SCHEDULING_NATS_SUBJECT_PREFIX".to_owned(),
            scheduling.config.subject_prefix.clone(),
        ),
    ];
    let mut registration_vars = registration_env.vars();
    registration_vars.extend(consent_env.peer_vars());
    registration_vars.extend(scheduling_vars.clone());
    let mut consent_vars = consent_env.vars();
    consent_vars.extend(registration_env.peer_vars());
    consent_vars.extend(scheduling_vars);

    let mut consent_process = ServiceProcess::spawn("hellowork-consent", &consent_vars);
    let mut registration_process =
        ServiceProcess::spawn("hellowork-registration", &registration_vars);
    consent_process
        .wait_until_serving(hellowork_consent::app::HEALTH_NAME)
        .await;
    registration_process
        .wait_until_serving(hellowork_registration::SERVICE_NAME)
        .await;
    let mut consents = ConsentServiceClient::new(channel(&consent_process).await);
    let mut registrations = RegistrationServiceClient::new(channel(&registration_process).await);

    // The operator publishes the terms (the office's text from beside the
    // checkout, never from the repository, or the stand-in) and the
    // meeting app's terms.
    let terms = terms_of_use();
    let operator = "operator-1";
    let established = NaiveDate::from_ymd_opt(2021, 3, 1).unwrap();
    let revised = NaiveDate::from_ymd_opt(2023, 12, 18).unwrap();
    let published = consents
        .publish_terms_document(consent_env.request(
            consent::PublishTermsDocumentRequest {
                request_id: request_id(),
                version: "2023-12-18".into(),
                language: "ja".into(),
                title: terms.title().into(),
                full_text: terms.text.clone(),
                sha256: String::new(),
                established_date: Some(date(established)),
                revised_date: Some(date(revised)),
                effective_date: Some(date(revised)),
            },
            operator,
            Role::Operator,
        ))
        .await
        .expect("terms published")
        .into_inner();
    let terms = published.terms_document.expect("document");
    assert_eq!(terms.sha256.len(), 64);
    consents
        .publish_meeting_app_terms(consent_env.request(
            consent::PublishMeetingAppTermsRequest {
                request_id: request_id(),
                meeting_app_name: "Designated meeting app".into(),
                version: "2024-04-01".into(),
                language: "ja".into(),
                title: "Meeting app terms".into(),
                full_text: "The meeting app's terms as the office designates them.".into(),
                sha256: String::new(),
                effective_date: Some(date(NaiveDate::from_ymd_opt(2024, 4, 1).unwrap())),
                source_uri: String::new(),
            },
            operator,
            Role::Operator,
        ))
        .await
        .expect("meeting-app terms published");
    let in_force = |kind: consent::TermsKind| consent::GetTermsInForceRequest {
        kind: kind.into(),
        language: "ja".into(),
        at: None,
    };
    let terms_in_force = eventually("terms in force", || {
        let mut consents = consents.clone();
        let request = consent_env.request(
            in_force(consent::TermsKind::OnlineServices),
            operator,
            Role::Operator,
        );
        async move {
            consents
                .get_terms_in_force(request)
                .await
                .ok()?
                .into_inner()
                .terms_document
        }
    })
    .await;
    let meeting_terms = eventually("meeting-app terms in force", || {
        let mut consents = consents.clone();
        let request = consent_env.request(
            in_force(consent::TermsKind::MeetingApp),
            operator,
            Role::Operator,
        );
        async move {
            consents
                .get_terms_in_force(request)
                .await
                .ok()?
                .into_inner()
                .terms_document
        }
    })
    .await;
    assert_eq!(terms_in_force.version, "2023-12-18");

    // A person registers online, attests device and environment, applies.
    let registered = registrations
        .register_job_seeker(registration_env.request(
            registration::RegisterJobSeekerRequest {
                request_id: request_id(),
                channel: registration::RegistrationChannel::Online.into(),
                name: Some(registration::PersonName {
                    family_name: "高松".into(),
                    given_name: "花子".into(),
                    family_name_reading: "タカマツ".into(),
                    given_name_reading: "ハナコ".into(),
                }),
                date_of_birth: Some(registration::Date {
                    year: 1990,
                    month: 4,
                    day: 1,
                }),
                contact: Some(registration::Contact {
                    email: "hanako@example.jp".into(),
                    phone_number: String::new(),
                }),
                provisional: false,
            },
            "front-system",
            Role::JobSeeker,
        ))
        .await
        .expect("registered")
        .into_inner();
    let seeker = registered.job_seeker.expect("job seeker").job_seeker_id;
    let device = registrations
        .attest_device(registration_env.request(
            registration::AttestDeviceRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                device_kind: registration::DeviceKind::Pc.into(),
                owned: true,
                has_webcam: true,
                can_prepare_meeting_app: true,
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("device attested")
        .into_inner()
        .device_attestation
        .expect("device attestation");
    let environment = registrations
        .attest_environment(registration_env.request(
            registration::AttestEnvironmentRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                device_attestation_id: device.device_attestation_id.clone(),
                report: Some(good_environment()),
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("environment attested");
    drop(environment);

    // Not eligible yet: no application, no consent.
    let eligibility = |at: Option<prost_types::Timestamp>| registration::CheckEligibilityRequest {
        job_seeker_id: seeker.clone(),
        at,
    };
    let before = registrations
        .check_eligibility(registration_env.request(
            eligibility(None),
            "system:scheduling",
            Role::System,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!before.eligible);
    let reasons: Vec<i32> = before.unmet_conditions.iter().map(|c| c.reason).collect();
    assert!(
        reasons.contains(&(registration::EligibilityReason::NotApplied as i32)),
        "{before:?}"
    );

    let applied = registrations
        .apply_for_online_services(registration_env.request(
            registration::ApplyForOnlineServicesRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                terms_version: terms_in_force.version.clone(),
                terms_sha256: terms_in_force.sha256.clone(),
                meeting_app_terms_version: meeting_terms.version.clone(),
                meeting_app_terms_sha256: meeting_terms.sha256.clone(),
                language: "ja".into(),
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("applied")
        .into_inner();
    assert!(
        applied.converted_to_hello_work_user,
        "Art. 2(2): the online registrant became a Hello Work user"
    );

    // Consent recorded from the application event (Art. 4, 6).
    let status = eventually("deemed consent recorded", || {
        let mut consents = consents.clone();
        let request = consent_env.request(
            consent::GetConsentStatusRequest {
                job_seeker_id: seeker.clone(),
                at: None,
            },
            &seeker,
            Role::JobSeeker,
        );
        async move {
            let status = consents
                .get_consent_status(request)
                .await
                .ok()?
                .into_inner();
            (status.status() == consent::ConsentStatus::Consented).then_some(status)
        }
    })
    .await;
    let receipt = status.receipt.expect("receipt");
    assert_eq!(
        receipt.method(),
        consent::ConsentMethod::DeemedByApplication
    );
    assert_eq!(receipt.terms.expect("terms").sha256, terms_in_force.sha256);
    assert_eq!(receipt.jurisdiction, "JP");

    // Eligible, once registration has heard of the consent.
    eventually("eligible", || {
        let mut registrations = registrations.clone();
        let request =
            registration_env.request(eligibility(None), "system:scheduling", Role::System);
        async move {
            registrations
                .check_eligibility(request)
                .await
                .ok()?
                .into_inner()
                .eligible
                .then_some(())
        }
    })
    .await;

    // A second person, registered at the counter.
    let second = registrations
        .register_job_seeker(registration_env.request(
            registration::RegisterJobSeekerRequest {
                request_id: request_id(),
                channel: registration::RegistrationChannel::Counter.into(),
                name: Some(registration::PersonName {
                    family_name: "Smith".into(),
                    given_name: "Alex".into(),
                    family_name_reading: "スミス".into(),
                    given_name_reading: "アレックス".into(),
                }),
                date_of_birth: Some(registration::Date {
                    year: 1985,
                    month: 11,
                    day: 3,
                }),
                contact: Some(registration::Contact {
                    email: String::new(),
                    phone_number: "087-811-8609".into(),
                }),
                provisional: false,
            },
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .expect("second person registered")
        .into_inner()
        .job_seeker
        .expect("job seeker")
        .job_seeker_id;

    // An Art. 13(2) revision: new text, effective in 40 days, announced now.
    let effective = Utc::now()
        .date_naive()
        .checked_add_days(Days::new(40))
        .unwrap();
    let revised_text = format!(
        "{}\n（改定）本文の一部を明確化しました。\n",
        terms_of_use().text
    );
    let revision_document = consents
        .publish_terms_document(consent_env.request(
            consent::PublishTermsDocumentRequest {
                request_id: request_id(),
                version: effective.to_string(),
                language: "ja".into(),
                title: terms_in_force.title.clone(),
                full_text: revised_text,
                sha256: String::new(),
                established_date: Some(date(established)),
                revised_date: Some(date(effective)),
                effective_date: Some(date(effective)),
            },
            operator,
            Role::Operator,
        ))
        .await
        .expect("revised version published")
        .into_inner()
        .terms_document
        .expect("document");
    let announcement = consent::AnnounceRevisionRequest {
        request_id: request_id(),
        terms_document_id: revision_document.terms_document_id.clone(),
        ground: consent::RevisionGround::ReasonableChange.into(),
        reasons: "Clarifies wording; consistent with the purpose of the terms and reasonable."
            .into(),
        change_summary: "Wording of an article clarified.".into(),
    };
    eventually("revision announced", || {
        let mut consents = consents.clone();
        let request = consent_env.request(announcement.clone(), operator, Role::Operator);
        async move {
            match consents.announce_revision(request).await {
                Ok(_) => Some(()),
                // The document's read model may lag its publication briefly.
                Err(status) if status.code() == Code::NotFound => None,
                Err(status) => panic!("announcement refused: {status:?}"),
            }
        }
    })
    .await;

    // Every registered user is notified.
    for person in [&seeker, &second] {
        let notices = eventually("a notice for every registered user", || {
            let mut consents = consents.clone();
            let request = consent_env.request(
                consent::ListNoticesRequest {
                    job_seeker_id: person.clone(),
                    page_size: 10,
                    page_token: String::new(),
                },
                person,
                Role::JobSeeker,
            );
            async move {
                let notices = consents
                    .list_notices(request)
                    .await
                    .ok()?
                    .into_inner()
                    .notices;
                (!notices.is_empty()).then_some(notices)
            }
        })
        .await;
        assert_eq!(
            notices[0].new_terms.as_ref().expect("new terms").version,
            effective.to_string()
        );
        assert_eq!(
            notices[0].ground(),
            consent::RevisionGround::ReasonableChange
        );
    }

    // Before the effective date the consented version binds; after it the
    // revision does, without re-consent (Art. 13).
    let status_at = |day: NaiveDate| {
        consent_env.request(
            consent::GetConsentStatusRequest {
                job_seeker_id: seeker.clone(),
                at: Some(timestamp(day.and_hms_opt(12, 0, 0).unwrap().and_utc())),
            },
            &seeker,
            Role::JobSeeker,
        )
    };
    let before_effect = consents
        .get_consent_status(status_at(effective.checked_sub_days(Days::new(1)).unwrap()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        before_effect.bound_terms.expect("bound").version,
        "2023-12-18"
    );
    let after_effect = consents
        .get_consent_status(status_at(effective.checked_add_days(Days::new(1)).unwrap()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after_effect.status(), consent::ConsentStatus::Consented);
    assert_eq!(
        after_effect.binding_basis(),
        consent::BindingBasis::Art13Revision
    );
    assert_eq!(
        after_effect.bound_terms.expect("bound").version,
        effective.to_string()
    );
    assert!(
        after_effect.notified_at.is_some(),
        "the binding records when the person was notified"
    );

    // Both stop cleanly on SIGTERM.
    assert!(
        registration_process.terminate().await,
        "registration stopped cleanly:\n{}",
        registration_process.log_tail()
    );
    assert!(
        consent_process.terminate().await,
        "consent stopped cleanly:\n{}",
        consent_process.log_tail()
    );
}

async fn channel(process: &ServiceProcess) -> Channel {
    Channel::from_shared(process.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}
