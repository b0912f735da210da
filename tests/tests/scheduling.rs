//! Registration, consent and scheduling as separate processes against the
//! real PostgreSQL and NATS: a person registers, attests and applies; the
//! consent service records the deemed consent; a counsellor publishes a
//! slot; the person books counselling with an interpreter declared (Art.
//! 12(3)), scheduling asking registration and consent over gRPC as `system`
//! (Art. 2); the person completes the checklist (Art. 12(4)) and the
//! acknowledgements (Art. 12(2), 12(3)), joins and leaves; the bookings and
//! the Art. 7(1) usage records are on scheduling's NATS stream.
//!
//! The dependencies on the service crates exist so `cargo test` builds their
//! binaries, which the test starts as processes.

use std::{future::Future, time::Duration};

use chrono::{Datelike, NaiveDate, Utc};
use hellowork_auth::Role;
use hellowork_proto::{
    consent::v1::{self as consent, consent_service_client::ConsentServiceClient},
    registration::v1::{
        self as registration, registration_service_client::RegistrationServiceClient,
    },
    scheduling::v1::{self as scheduling, scheduling_service_client::SchedulingServiceClient},
};
use hellowork_testing::{ServiceEnv, ServiceProcess, TestDatabase, database_url, nats_url};
use tonic::transport::Channel;

const PATIENCE: Duration = Duration::from_secs(30);

fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn date(day: NaiveDate) -> consent::Date {
    consent::Date {
        year: day.year(),
        month: day.month() as i32,
        day: day.day() as i32,
    }
}

fn timestamp(at: chrono::DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// Polls `attempt` until it yields a value.
async fn eventually<T, F, Fut>(what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn environment(service: &str) -> ServiceEnv {
    let database = TestDatabase::from_template(&database_url(), "empty", "v1", |_| async {}).await;
    ServiceEnv::new(service, database, &nats_url())
}

async fn channel(process: &ServiceProcess) -> Channel {
    Channel::from_shared(process.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

use hellowork_testing::passing_environment as good_environment;

#[tokio::test]
async fn register_apply_book_with_an_interpreter_prepare_join_leave_events_on_nats() {
    let registration_env = environment("registration").await;
    let consent_env = environment("consent").await;
    let scheduling_env = environment("scheduling").await;

    // Scheduling's `system` token, and registration and consent trusting it.
    let keys = tempfile::tempdir().unwrap();
    let public = keys.path().join("scheduling.pem");
    std::fs::write(&public, scheduling_env.issuer().public_key().to_pem()).unwrap();
    let token_file = keys.path().join("system.token");
    let bearer = scheduling_env.token("system:scheduling", &[Role::System]);
    std::fs::write(&token_file, bearer.trim_start_matches("Bearer ")).unwrap();
    let trusting = |env: &ServiceEnv| {
        let mut vars = env.vars();
        let own = vars
            .iter()
            .find(|(k, _)| k == "HELLOWORK_JWT_PUBLIC_KEYS")
            .map(|(_, v)| v.clone())
            .unwrap();
        vars.push((
            "HELLOWORK_JWT_PUBLIC_KEYS".into(),
            format!(
                "{own},{}={}",
                scheduling_env.issuer().kid(),
                public.display()
            ),
        ));
        vars.extend(scheduling_env.peer_vars());
        vars
    };
    let mut registration_vars = trusting(&registration_env);
    registration_vars.extend(consent_env.peer_vars());
    let mut consent_vars = trusting(&consent_env);
    consent_vars.extend(registration_env.peer_vars());

    let mut consent_process = ServiceProcess::spawn("hellowork-consent", &consent_vars);
    let mut registration_process =
        ServiceProcess::spawn("hellowork-registration", &registration_vars);
    let mut scheduling_vars = scheduling_env.vars();
    scheduling_vars.extend([
        (
            "HELLOWORK_SYSTEM_TOKEN_FILE".to_owned(),
            token_file.display().to_string(),
        ),
        (
            "HELLOWORK_REGISTRATION_URL".to_owned(),
            registration_process.url(),
        ),
        ("HELLOWORK_CONSENT_URL".to_owned(), consent_process.url()),
        ("HELLOWORK_ATTENDANT_CUTOFF".to_owned(), "24h".to_owned()),
    ]);
    let mut scheduling_process = ServiceProcess::spawn("hellowork-scheduling", &scheduling_vars);
    consent_process
        .wait_until_serving(hellowork_consent::app::HEALTH_NAME)
        .await;
    registration_process
        .wait_until_serving(hellowork_registration::SERVICE_NAME)
        .await;
    scheduling_process
        .wait_until_serving(hellowork_scheduling::SERVICE_NAME)
        .await;
    let mut consents = ConsentServiceClient::new(channel(&consent_process).await);
    let mut registrations = RegistrationServiceClient::new(channel(&registration_process).await);
    let mut schedule = SchedulingServiceClient::new(channel(&scheduling_process).await);

    // The office's terms and the meeting app's terms.
    let operator = |m| consent_env.request(m, "operator-1", Role::Operator);
    let effective = NaiveDate::from_ymd_opt(2023, 12, 18).unwrap();
    consents
        .publish_terms_document(operator(consent::PublishTermsDocumentRequest {
            request_id: request_id(),
            version: "2023-12-18".into(),
            language: "ja".into(),
            title: "オンラインを活用したサービス利用規約".into(),
            full_text: "第1条 (test text standing in for the office's terms)".into(),
            sha256: String::new(),
            established_date: Some(date(NaiveDate::from_ymd_opt(2021, 3, 1).unwrap())),
            revised_date: Some(date(effective)),
            effective_date: Some(date(effective)),
        }))
        .await
        .expect("terms published");
    consents
        .publish_meeting_app_terms(consent_env.request(
            consent::PublishMeetingAppTermsRequest {
                request_id: request_id(),
                meeting_app_name: "Designated meeting app".into(),
                version: "2024-04-01".into(),
                language: "ja".into(),
                title: "Meeting app terms".into(),
                full_text: "The meeting app's terms.".into(),
                sha256: String::new(),
                effective_date: Some(date(NaiveDate::from_ymd_opt(2024, 4, 1).unwrap())),
                source_uri: String::new(),
            },
            "operator-1",
            Role::Operator,
        ))
        .await
        .expect("meeting-app terms published");
    let mut in_force = Vec::new();
    for kind in [
        consent::TermsKind::OnlineServices,
        consent::TermsKind::MeetingApp,
    ] {
        in_force.push(
            eventually("terms in force", || {
                let mut consents = consents.clone();
                let request = consent_env.request(
                    consent::GetTermsInForceRequest {
                        kind: kind.into(),
                        language: "ja".into(),
                        at: None,
                    },
                    "operator-1",
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
            .await,
        );
    }

    // Register → attest → apply.
    let seeker = registrations
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
        .into_inner()
        .job_seeker
        .unwrap()
        .job_seeker_id;
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
        .unwrap();
    registrations
        .attest_environment(registration_env.request(
            registration::AttestEnvironmentRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                device_attestation_id: device.device_attestation_id,
                report: Some(good_environment()),
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("environment attested");
    registrations
        .apply_for_online_services(registration_env.request(
            registration::ApplyForOnlineServicesRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                terms_version: in_force[0].version.clone(),
                terms_sha256: in_force[0].sha256.clone(),
                meeting_app_terms_version: in_force[1].version.clone(),
                meeting_app_terms_sha256: in_force[1].sha256.clone(),
                language: "ja".into(),
            },
            &seeker,
            Role::JobSeeker,
        ))
        .await
        .expect("applied");

    // A counsellor publishes a counselling slot in two days.
    let start = Utc::now() + chrono::Duration::days(2);
    let slot = schedule
        .publish_availability(scheduling_env.request(
            scheduling::PublishAvailabilityRequest {
                request_id: request_id(),
                counsellor_id: "counsellor-1".into(),
                offering: scheduling::Offering::Counselling.into(),
                start_time: Some(timestamp(start)),
                end_time: Some(timestamp(start + chrono::Duration::hours(1))),
                slot_length: None,
                capacity: 1,
            },
            "counsellor-1",
            Role::Counsellor,
        ))
        .await
        .expect("published")
        .into_inner()
        .slots
        .remove(0);

    // Booking with an interpreter, once the consent has reached registration.
    let booked = eventually("booked once eligible", || {
        let mut schedule = schedule.clone();
        let request = scheduling_env.request(
            scheduling::BookSessionRequest {
                request_id: request_id(),
                slot_id: slot.slot_id.clone(),
                job_seeker_id: seeker.clone(),
                attendants: vec![scheduling::AttendantKind::Interpreter.into()],
            },
            &seeker,
            Role::JobSeeker,
        );
        async move { schedule.book_session(request).await.ok() }
    })
    .await
    .into_inner();
    assert!(
        booked
            .notices
            .contains(&(scheduling::ConfirmationNotice::FreeOfCharge as i32))
    );
    let booking = booked.booking.unwrap();
    assert_eq!(booking.attendants.len(), 1);
    let id = booking.booking_id;
    let own = |subject: &str| (subject.to_owned(), Role::JobSeeker);
    let (subject, role) = own(&seeker);
    schedule
        .complete_pre_session_checklist(scheduling_env.request(
            scheduling::CompletePreSessionChecklistRequest {
                booking_id: id.clone(),
                confirmed_items: (1..=6).collect(),
            },
            &subject,
            role,
        ))
        .await
        .expect("checklist");
    schedule
        .acknowledge_private_room(scheduling_env.request(
            scheduling::AcknowledgePrivateRoomRequest {
                booking_id: id.clone(),
            },
            &subject,
            role,
        ))
        .await
        .expect("private room");
    schedule
        .acknowledge_no_recording(scheduling_env.request(
            scheduling::AcknowledgeNoRecordingRequest {
                booking_id: id.clone(),
            },
            &subject,
            role,
        ))
        .await
        .expect("no recording");
    let device = scheduling::DeviceIdentifiers {
        device_id: "front-device-1".into(),
        ip_address: "203.0.113.9".into(),
        user_agent: "Mozilla/5.0".into(),
        os_name: "Windows".into(),
        os_version: "11".into(),
    };
    schedule
        .join_session(scheduling_env.request(
            scheduling::JoinSessionRequest {
                booking_id: id.clone(),
                device: Some(device.clone()),
            },
            &subject,
            role,
        ))
        .await
        .expect("joined");
    let left = schedule
        .leave_session(scheduling_env.request(
            scheduling::LeaveSessionRequest {
                booking_id: id.clone(),
                device: Some(device),
            },
            &subject,
            role,
        ))
        .await
        .expect("left")
        .into_inner()
        .booking
        .unwrap();
    assert_eq!(left.state(), scheduling::BookingState::Completed);

    // The events on scheduling's NATS stream.
    let jetstream = async_nats::jetstream::new(async_nats::connect(nats_url()).await.unwrap());
    let subjects = eventually("SessionLeft on NATS", || {
        let jetstream = jetstream.clone();
        let stream_name = scheduling_env.stream_name.clone();
        async move {
            let stream = jetstream.get_stream(&stream_name).await.ok()?;
            let last = stream.get_info().await.ok()?.state.last_sequence;
            let mut subjects = Vec::new();
            for sequence in 1..=last {
                subjects.push(
                    stream
                        .get_raw_message(sequence)
                        .await
                        .ok()?
                        .subject
                        .to_string(),
                );
            }
            subjects
                .iter()
                .any(|s| s.ends_with(".SessionLeft"))
                .then_some(subjects)
        }
    })
    .await;
    for event in [
        "SessionBooked",
        "AttendantDeclared",
        "SessionJoined",
        "SessionLeft",
    ] {
        let subject = format!("{}.{event}", scheduling_env.subject_prefix);
        assert!(subjects.contains(&subject), "{subject} in {subjects:?}");
    }
    assert!(scheduling_process.terminate().await);
    assert!(registration_process.terminate().await);
    assert!(consent_process.terminate().await);
}
