//! What the end-to-end tests share: registration, consent and scheduling
//! started as separate processes against the real PostgreSQL and NATS, wired
//! to each other as in production ([`Stack`]), and a person's whole journey
//! through their public gRPC APIs ([`Stack::journey`]); the audit-log
//! service following the three's streams ([`AuditLog`]).
#![allow(dead_code)] // each test binary uses its own subset

use chrono::{Datelike, NaiveDate, Utc};
use hellowork_auth::Role;
use hellowork_journey::{JourneyClient, Person};
use hellowork_proto::{
    auditlog::v1::audit_log_service_client::AuditLogServiceClient,
    consent::v1::{self as consent, consent_service_client::ConsentServiceClient},
    registration::v1::{
        self as registration, registration_service_client::RegistrationServiceClient,
    },
    scheduling::v1::{self as scheduling, scheduling_service_client::SchedulingServiceClient},
};
use hellowork_testing::{
    ServiceEnv, ServiceProcess, TestDatabase, database_url, nats_url,
    passing_environment as good_environment,
};
use hellowork_tls::dev_pki::DevPki;
use tonic::transport::Channel;

pub fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn date(day: NaiveDate) -> consent::Date {
    consent::Date {
        year: day.year(),
        month: day.month() as i32,
        day: day.day() as i32,
    }
}

pub use hellowork_testing::eventually;
pub use hellowork_values::time::timestamp;

/// A service's environment with a database of its own, which the service
/// migrates at start, as in production.
pub async fn environment(service: &str) -> ServiceEnv {
    let database = TestDatabase::from_template(&database_url(), "empty", "v1", |_| async {}).await;
    ServiceEnv::new(service, database, &nats_url())
}

pub async fn channel(process: &ServiceProcess) -> Channel {
    process.channel()
}

/// The four services running as their own processes: scheduling asks
/// registration and consent over gRPC with its `system` token, and the
/// audit-log for the keys device identifiers are sealed to (Art. 7(2)); all
/// three trust that token. Registration and consent follow each other's
/// streams, registration follows scheduling's, and the audit-log follows
/// all three.
pub struct Stack {
    // Processes first: fields drop in order, so they stop before their
    // databases and streams are removed.
    /// Until a test takes it ([`Stack::take_audit_log`]).
    audit: Option<AuditLog>,
    pub registration: ServiceProcess,
    pub consent: ServiceProcess,
    pub scheduling: ServiceProcess,
    pub registration_env: ServiceEnv,
    pub consent_env: ServiceEnv,
    pub scheduling_env: ServiceEnv,
    pub registrations: RegistrationServiceClient<Channel>,
    pub consents: ConsentServiceClient<Channel>,
    pub schedule: SchedulingServiceClient<Channel>,
    /// A person's steps through registration and scheduling.
    pub journey: JourneyClient,
    /// Scheduling's public key and `system` token (re-read for rotation).
    _keys: tempfile::TempDir,
}

/// What a [`Stack::journey`] left behind.
#[derive(Debug, Clone)]
pub struct Journey {
    pub job_seeker_id: String,
    pub booking_id: String,
}

impl Stack {
    /// Starts the four services and waits until each is SERVING.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// The same with `extra` variables given to every service (e.g. where
    /// to export traces, a log filter).
    pub async fn start_with(extra: &[(String, String)]) -> Self {
        Self::start_configured(extra, None).await
    }

    /// The four over mutual TLS, each with its certificate from `pki`
    /// (issued to `registration`, `consent`, `scheduling`, `auditlog`).
    pub async fn start_tls(pki: &DevPki) -> Self {
        Self::start_configured(&[], Some(pki)).await
    }

    async fn start_configured(extra: &[(String, String)], pki: Option<&DevPki>) -> Self {
        let tls = |name: &str| -> Vec<(String, String)> {
            let Some(pki) = pki else { return Vec::new() };
            [
                ("HELLOWORK_TLS_CERT_FILE", pki.cert(name)),
                ("HELLOWORK_TLS_KEY_FILE", pki.key(name)),
                ("HELLOWORK_TLS_CA_FILE", pki.ca()),
            ]
            .map(|(k, v)| (k.to_owned(), v.display().to_string()))
            .to_vec()
        };
        let registration_env = environment("registration").await;
        let consent_env = environment("consent").await;
        let scheduling_env = environment("scheduling").await;
        let audit_env = environment("auditlog").await;

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
            vars.extend(extra.iter().cloned());
            vars
        };
        let mut registration_vars = trusting(&registration_env);
        registration_vars.extend(consent_env.peer_vars());
        registration_vars.extend(tls("registration"));
        let mut consent_vars = trusting(&consent_env);
        consent_vars.extend(registration_env.peer_vars());
        consent_vars.extend(tls("consent"));
        let mut audit_vars = trusting(&audit_env);
        audit_vars.extend(registration_env.peer_vars());
        audit_vars.extend(consent_env.peer_vars());
        audit_vars.extend(tls("auditlog"));

        let mut consent = ServiceProcess::spawn("hellowork-consent", &consent_vars);
        let mut registration = ServiceProcess::spawn("hellowork-registration", &registration_vars);
        let mut audit_process = ServiceProcess::spawn("hellowork-audit-log", &audit_vars);
        let mut scheduling_vars = scheduling_env.vars();
        scheduling_vars.extend([
            (
                "HELLOWORK_SYSTEM_TOKEN_FILE".to_owned(),
                token_file.display().to_string(),
            ),
            ("HELLOWORK_REGISTRATION_URL".to_owned(), registration.url()),
            ("HELLOWORK_CONSENT_URL".to_owned(), consent.url()),
            ("HELLOWORK_AUDITLOG_URL".to_owned(), audit_process.url()),
            ("HELLOWORK_ATTENDANT_CUTOFF".to_owned(), "24h".to_owned()),
        ]);
        scheduling_vars.extend(extra.iter().cloned());
        scheduling_vars.extend(tls("scheduling"));
        let mut scheduling = ServiceProcess::spawn("hellowork-scheduling", &scheduling_vars);
        consent
            .wait_until_serving(hellowork_consent::app::HEALTH_NAME)
            .await;
        registration
            .wait_until_serving(hellowork_registration::SERVICE_NAME)
            .await;
        scheduling
            .wait_until_serving(hellowork_scheduling::SERVICE_NAME)
            .await;
        audit_process
            .wait_until_serving(hellowork_audit_log::SERVICE_NAME)
            .await;
        let audit = AuditLog {
            client: AuditLogServiceClient::new(channel(&audit_process).await),
            process: audit_process,
            env: audit_env,
            vars: audit_vars,
        };
        let consents = ConsentServiceClient::new(channel(&consent).await);
        let registrations = RegistrationServiceClient::new(channel(&registration).await);
        let schedule = SchedulingServiceClient::new(channel(&scheduling).await);
        let journey = JourneyClient::new(
            registrations.clone(),
            schedule.clone(),
            registration_env.mint(),
            scheduling_env.mint(),
        );
        Self {
            audit: Some(audit),
            registration,
            consent,
            scheduling,
            registration_env,
            consent_env,
            scheduling_env,
            registrations,
            consents,
            schedule,
            journey,
            _keys: keys,
        }
    }

    /// The audit-log, while the stack holds it.
    pub fn audit_log(&self) -> &AuditLog {
        self.audit.as_ref().expect("the audit-log was not taken")
    }

    /// The audit-log, for a test that checks it (and stops it itself).
    pub fn take_audit_log(&mut self) -> AuditLog {
        self.audit.take().expect("the audit-log is taken once")
    }

    /// Stops the services as an orchestrator would, each exiting cleanly
    /// (the audit-log too unless a test took it).
    pub async fn terminate(&mut self) {
        if let Some(audit) = &mut self.audit {
            assert!(audit.process.terminate().await, "audit-log stopped");
        }
        assert!(self.scheduling.terminate().await, "scheduling stopped");
        assert!(self.registration.terminate().await, "registration stopped");
        assert!(self.consent.terminate().await, "consent stopped");
    }

    /// The office's terms and the meeting app's terms, published by an
    /// operator, once in force: `[online services, meeting app]`.
    pub async fn publish_terms(&self) -> Vec<consent::TermsDocument> {
        self.publish_terms_of_use("第1条 (test text standing in for the office's terms)")
            .await
    }

    /// An operator publishes `full_text` as `version` of the office's terms
    /// (established 2021-03-01), revised and effective on `effective`. The
    /// first version is in force from then; a later one only through an
    /// announced revision (Art. 13).
    pub async fn publish_terms_version(
        &self,
        full_text: &str,
        version: &str,
        effective: NaiveDate,
    ) -> consent::TermsDocument {
        let env = &self.consent_env;
        self.consents
            .clone()
            .publish_terms_document(env.request(
                consent::PublishTermsDocumentRequest {
                    request_id: request_id(),
                    version: version.into(),
                    language: "ja".into(),
                    title: "オンラインを活用したサービス利用規約".into(),
                    full_text: full_text.into(),
                    sha256: String::new(),
                    established_date: Some(date(NaiveDate::from_ymd_opt(2021, 3, 1).unwrap())),
                    revised_date: Some(date(effective)),
                    effective_date: Some(date(effective)),
                },
                "operator-1",
                Role::Operator,
            ))
            .await
            .expect("terms published")
            .into_inner()
            .terms_document
            .unwrap()
    }

    /// [`Stack::publish_terms`] with `full_text` as the office's terms
    /// (version 2023-12-18), e.g. [`hellowork_testing::terms::terms_of_use`].
    pub async fn publish_terms_of_use(&self, full_text: &str) -> Vec<consent::TermsDocument> {
        let env = &self.consent_env;
        let effective = NaiveDate::from_ymd_opt(2023, 12, 18).unwrap();
        self.publish_terms_version(full_text, "2023-12-18", effective)
            .await;
        self.consents
            .clone()
            .publish_meeting_app_terms(env.request(
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
                    let mut consents = self.consents.clone();
                    let request = env.request(
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
        in_force
    }

    /// Registers a job seeker online through a front system; their id.
    pub async fn register(&self, email: &str) -> String {
        self.journey
            .register(&Person::invented(email))
            .await
            .expect("registered")
    }

    /// The person attests their device and environment, then applies for
    /// the online services under the terms `in_force`.
    pub async fn attest_and_apply(&self, seeker: &str, in_force: &[consent::TermsDocument]) {
        let device = self.attest_device(seeker, true).await;
        self.attest_environment(seeker, &device.device_attestation_id, good_environment())
            .await
            .expect("environment attested");
        self.apply(seeker, in_force).await;
    }

    /// The person attests owning a PC that can prepare the meeting app,
    /// with or without a webcam (Art. 2(3)); the attestation as recorded.
    pub async fn attest_device(
        &self,
        seeker: &str,
        has_webcam: bool,
    ) -> registration::DeviceAttestation {
        self.journey
            .attest_device(seeker, registration::DeviceKind::Pc, has_webcam)
            .await
            .expect("device attested")
    }

    /// The person attests `report` as the environment of the device
    /// attested as `device_attestation_id` (Art. 5, 12(4)): the attestation
    /// as recorded, or the refusal.
    pub async fn attest_environment(
        &self,
        seeker: &str,
        device_attestation_id: &str,
        report: registration::EnvironmentReport,
    ) -> Result<registration::EnvironmentAttestation, tonic::Status> {
        self.journey
            .attest_environment(seeker, device_attestation_id, report)
            .await
    }

    /// The person applies for the online services under the terms
    /// `in_force` (Art. 6): the answer.
    pub async fn apply(
        &self,
        seeker: &str,
        in_force: &[consent::TermsDocument],
    ) -> registration::ApplyForOnlineServicesResponse {
        self.journey
            .apply(seeker, &in_force[0], &in_force[1])
            .await
            .expect("applied")
    }

    /// A counsellor publishes a counselling slot in two days; the person
    /// books it with an interpreter (Art. 12(3)) once the deemed consent has
    /// reached registration, and is told it is free of charge (Art. 3).
    /// The booking's id.
    pub async fn book_with_an_interpreter(&self, seeker: &str) -> String {
        let start = Utc::now() + chrono::Duration::days(2);
        let slot = self
            .publish_slot("counsellor-1", scheduling::Offering::Counselling, start, 1)
            .await;
        let booked = self
            .book_once_eligible(
                seeker,
                &slot.slot_id,
                &[scheduling::AttendantKind::Interpreter],
            )
            .await;
        assert!(
            booked
                .notices
                .contains(&(scheduling::ConfirmationNotice::FreeOfCharge as i32))
        );
        let booking = booked.booking.unwrap();
        assert_eq!(booking.attendants.len(), 1);
        booking.booking_id
    }

    /// `counsellor` publishes one slot of `offering` from `start` for an
    /// hour, with `capacity` seats (above 1 only for a seminar, Art. 1).
    pub async fn publish_slot(
        &self,
        counsellor: &str,
        offering: scheduling::Offering,
        start: chrono::DateTime<Utc>,
        capacity: u32,
    ) -> scheduling::Slot {
        let env = &self.scheduling_env;
        self.schedule
            .clone()
            .publish_availability(env.request(
                scheduling::PublishAvailabilityRequest {
                    request_id: request_id(),
                    counsellor_id: counsellor.into(),
                    offering: offering.into(),
                    start_time: Some(timestamp(start)),
                    end_time: Some(timestamp(start + chrono::Duration::hours(1))),
                    slot_length: None,
                    capacity,
                },
                counsellor,
                Role::Counsellor,
            ))
            .await
            .expect("published")
            .into_inner()
            .slots
            .remove(0)
    }

    /// The person books `slot_id` with `attendants` declared (Art. 12(3)),
    /// retried until eligible: registration and consent hear of the
    /// application and the deemed consent moments after it is made.
    pub async fn book_once_eligible(
        &self,
        seeker: &str,
        slot_id: &str,
        attendants: &[scheduling::AttendantKind],
    ) -> scheduling::BookSessionResponse {
        eventually("booked once eligible", || async {
            self.journey.book(seeker, slot_id, attendants).await.ok()
        })
        .await
    }

    /// The person completes the checklist (Art. 12(4)) and the
    /// acknowledgements (Art. 12(2), 12(3)), joins from `device` and leaves;
    /// the booking is then completed.
    pub async fn prepare_join_leave(
        &self,
        seeker: &str,
        booking_id: &str,
        device: &scheduling::DeviceIdentifiers,
    ) {
        self.prepare(seeker, booking_id).await;
        let (_, left) = self.join_and_leave(seeker, booking_id, device).await;
        assert_eq!(left.state(), scheduling::BookingState::Completed);
    }

    /// The person completes the whole checklist (Art. 12(4)) and both
    /// acknowledgements (Art. 12(2), 12(3)); the booking as it then stands.
    pub async fn prepare(&self, seeker: &str, booking_id: &str) -> scheduling::Booking {
        self.journey
            .prepare(seeker, booking_id)
            .await
            .expect("prepared")
    }

    /// The person joins from `device` and leaves (each an Art. 7(1) usage
    /// record): the booking as joined, and as left.
    pub async fn join_and_leave(
        &self,
        seeker: &str,
        booking_id: &str,
        device: &scheduling::DeviceIdentifiers,
    ) -> (scheduling::Booking, scheduling::Booking) {
        let joined = self
            .journey
            .join(seeker, booking_id, device)
            .await
            .expect("joined");
        let left = self
            .journey
            .leave(seeker, booking_id, device)
            .await
            .expect("left");
        (joined, left)
    }

    /// A person's whole way through the public APIs: the terms are
    /// published; the person registers, attests and applies (consent records
    /// the deemed consent); books counselling with an interpreter; prepares,
    /// joins from `device` and leaves.
    pub async fn journey(&self, device: &scheduling::DeviceIdentifiers) -> Journey {
        let in_force = self.publish_terms().await;
        let job_seeker_id = self.register("hanako@example.jp").await;
        self.attest_and_apply(&job_seeker_id, &in_force).await;
        let booking_id = self.book_with_an_interpreter(&job_seeker_id).await;
        self.prepare_join_leave(&job_seeker_id, &booking_id, device)
            .await;
        Journey {
            job_seeker_id,
            booking_id,
        }
    }
}

/// The stack's audit-log process, following the streams the other three
/// publish to, as in production; its configuration (to restart it) and a
/// client.
#[derive(Debug)]
pub struct AuditLog {
    // The process first: it stops before its database is removed.
    pub process: ServiceProcess,
    pub env: ServiceEnv,
    pub vars: Vec<(String, String)>,
    pub client: AuditLogServiceClient<Channel>,
}

impl AuditLog {
    /// `message` sent to the audit log by `subject` acting as `role`.
    pub fn request<T>(&self, message: T, subject: &str, role: Role) -> tonic::Request<T> {
        self.env.request(message, subject, role)
    }
}
