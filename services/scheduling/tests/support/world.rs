//! Four services in one test process: scheduling, the registration and
//! consent it asks about eligibility, and the audit-log it seals device
//! identifiers to (and which ingests its joins and leaves).

use chrono::{Datelike, NaiveDate, Utc};
use hellowork_platform::{Environment, PlatformConfig, Role, Service};
use hellowork_proto::{
    auditlog::v1::audit_log_service_client::AuditLogServiceClient,
    consent::v1::{self as consent, consent_service_client::ConsentServiceClient},
    registration::v1::{
        self as registration, registration_service_client::RegistrationServiceClient,
    },
    scheduling::v1::{self as proto, scheduling_service_client::SchedulingServiceClient},
};
use hellowork_registration::RegistrationSettings;
use hellowork_scheduling::SchedulingSettings;
use hellowork_testing::{ServiceEnv, TestDatabase, database_url, nats_url};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

pub use hellowork_testing::eventually;

pub fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn environment(service: &str) -> ServiceEnv {
    // Each service migrates its own empty database at start, as in production.
    let database = TestDatabase::from_template(&database_url(), "empty", "v1", |_| async {}).await;
    ServiceEnv::new(service, database, &nats_url())
}

/// A running in-process service.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub shutdown: CancellationToken,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn wait_until_serving(addr: std::net::SocketAddr, name: &str) {
    eventually("SERVING", || async move {
        let channel = Channel::from_shared(format!("http://{addr}"))
            .ok()?
            .connect()
            .await
            .ok()?;
        let status = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: name.into(),
            })
            .await
            .ok()?
            .into_inner()
            .status();
        (status == ServingStatus::Serving).then_some(())
    })
    .await;
}

async fn run(app: hellowork_platform::Application, name: &str) -> Running {
    let addr = app.grpc_addr();
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run_until_stopped());
    wait_until_serving(addr, name).await;
    Running { addr, shutdown }
}

/// Registration, consent, the audit-log and scheduling.
pub struct World {
    pub registration_env: ServiceEnv,
    pub consent_env: ServiceEnv,
    pub auditlog_env: ServiceEnv,
    pub env: ServiceEnv,
    pub registration: Option<Running>,
    pub consent: Option<Running>,
    pub auditlog: Option<Running>,
    pub scheduling: Running,
    keys: tempfile::TempDir,
    terms: Option<(consent::TermsDocument, consent::TermsDocument)>,
}

impl World {
    /// All three services; `cutoff` is scheduling's attendant cut-off.
    pub async fn start(cutoff: &str) -> Self {
        let registration_env = environment("registration").await;
        let consent_env = environment("consent").await;
        let auditlog_env = environment("auditlog").await;
        let env = environment("scheduling").await;
        // Scheduling's `system` token, trusted by registration and consent.
        let keys = tempfile::tempdir().unwrap();
        let public = keys.path().join("scheduling.pem");
        std::fs::write(&public, env.issuer().public_key().to_pem()).unwrap();
        let token_file = keys.path().join("system.token");
        let bearer = env.token("system:scheduling", &[Role::System]);
        std::fs::write(&token_file, bearer.trim_start_matches("Bearer ")).unwrap();
        let trust = |vars: &mut Vec<(String, String)>| {
            let own = vars
                .iter()
                .find(|(k, _)| k == "HELLOWORK_JWT_PUBLIC_KEYS")
                .map(|(_, v)| v.clone())
                .unwrap();
            vars.push((
                "HELLOWORK_JWT_PUBLIC_KEYS".into(),
                format!("{own},{}={}", env.issuer().kid(), public.display()),
            ));
        };
        let mut registration_vars = registration_env.vars();
        registration_vars.extend(consent_env.peer_vars());
        registration_vars.extend(env.peer_vars());
        trust(&mut registration_vars);
        let mut consent_vars = consent_env.vars();
        consent_vars.extend(registration_env.peer_vars());
        consent_vars.extend(env.peer_vars());
        trust(&mut consent_vars);
        let mut auditlog_vars = auditlog_env.vars();
        auditlog_vars.extend(registration_env.peer_vars());
        auditlog_vars.extend(consent_env.peer_vars());
        auditlog_vars.extend(env.peer_vars());
        trust(&mut auditlog_vars);

        let consent_app = hellowork_consent::app::build(
            PlatformConfig::from_vars(Service::Consent, consent_vars).unwrap(),
        )
        .await
        .unwrap();
        let consent = run(consent_app, hellowork_consent::app::HEALTH_NAME).await;
        let registration_app = hellowork_registration::build_with(
            PlatformConfig::from_vars(Service::Registration, registration_vars).unwrap(),
            RegistrationSettings::from_vars(Environment::Development, Vec::new()).unwrap(),
        )
        .await
        .unwrap();
        let registration = run(registration_app, hellowork_registration::SERVICE_NAME).await;
        let auditlog_app = hellowork_audit_log::build_with(
            PlatformConfig::from_vars(Service::AuditLog, auditlog_vars).unwrap(),
            hellowork_audit_log::AuditLogSettings::from_vars(Environment::Development, Vec::new())
                .unwrap(),
        )
        .await
        .unwrap();
        let auditlog = run(auditlog_app, hellowork_audit_log::SERVICE_NAME).await;
        let mut world = Self {
            registration_env,
            consent_env,
            auditlog_env,
            scheduling: Running {
                addr: ([127, 0, 0, 1], 0).into(),
                shutdown: CancellationToken::new(),
            },
            env,
            registration: Some(registration),
            consent: Some(consent),
            auditlog: Some(auditlog),
            keys,
            terms: None,
        };
        let registration_url = world.url_of(world.registration.as_ref());
        let consent_url = world.url_of(world.consent.as_ref());
        world.scheduling = world
            .start_scheduling(cutoff, &registration_url, &consent_url)
            .await;
        world
    }

    pub fn url_of(&self, running: Option<&Running>) -> String {
        format!("http://{}", running.expect("running").addr)
    }

    /// Another scheduling instance on the same database and stream, e.g.
    /// pointed at a peer that is down.
    pub async fn start_scheduling(
        &self,
        cutoff: &str,
        registration_url: &str,
        consent_url: &str,
    ) -> Running {
        self.start_scheduling_with(cutoff, registration_url, consent_url, &[])
            .await
    }

    /// The same with `extra` settings (`HELLOWORK_…`) on top.
    pub async fn start_scheduling_with(
        &self,
        cutoff: &str,
        registration_url: &str,
        consent_url: &str,
        extra: &[(&str, &str)],
    ) -> Running {
        let mut vars = self.env.vars();
        // Art. 8: registration's stream, whose erasures scheduling consumes.
        vars.extend(self.registration_env.peer_vars());
        vars.extend([
            (
                "HELLOWORK_SYSTEM_TOKEN_FILE".to_owned(),
                self.keys.path().join("system.token").display().to_string(),
            ),
            (
                "HELLOWORK_REGISTRATION_URL".to_owned(),
                registration_url.to_owned(),
            ),
            ("HELLOWORK_CONSENT_URL".to_owned(), consent_url.to_owned()),
            (
                "HELLOWORK_AUDITLOG_URL".to_owned(),
                self.url_of(self.auditlog.as_ref()),
            ),
        ]);
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let settings = SchedulingSettings::from_vars(
            Environment::Development,
            vec![("HELLOWORK_ATTENDANT_CUTOFF".to_owned(), cutoff.to_owned())],
        )
        .unwrap();
        let app = hellowork_scheduling::build_with(
            PlatformConfig::from_vars(Service::Scheduling, vars).unwrap(),
            settings,
        )
        .await
        .unwrap();
        run(app, hellowork_scheduling::SERVICE_NAME).await
    }

    pub async fn client_at(&self, running: &Running) -> SchedulingServiceClient<Channel> {
        SchedulingServiceClient::connect(format!("http://{}", running.addr))
            .await
            .unwrap()
    }

    pub async fn client(&self) -> SchedulingServiceClient<Channel> {
        self.client_at(&self.scheduling).await
    }

    pub async fn registrations(&self) -> RegistrationServiceClient<Channel> {
        RegistrationServiceClient::connect(self.url_of(self.registration.as_ref()))
            .await
            .unwrap()
    }

    pub async fn auditlog(&self) -> AuditLogServiceClient<Channel> {
        AuditLogServiceClient::connect(self.url_of(self.auditlog.as_ref()))
            .await
            .unwrap()
    }

    pub async fn consents(&self) -> ConsentServiceClient<Channel> {
        ConsentServiceClient::connect(self.url_of(self.consent.as_ref()))
            .await
            .unwrap()
    }

    pub fn request<T>(&self, message: T, subject: &str, role: Role) -> tonic::Request<T> {
        self.env.request(message, subject, role)
    }

    pub fn request_as<T>(&self, subject: &str, role: Role, message: T) -> tonic::Request<T> {
        self.env.request(message, subject, role)
    }

    /// Events in the scheduling store.
    pub async fn stored_events(&self) -> Vec<String> {
        let pool = sqlx::PgPool::connect(&self.env.database.url).await.unwrap();
        let types =
            sqlx::query_scalar("SELECT event_type FROM scheduling.events ORDER BY position")
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        types
    }

    /// Publishes the terms of use and the meeting app's terms (once).
    async fn terms(&mut self) -> (consent::TermsDocument, consent::TermsDocument) {
        if let Some(terms) = &self.terms {
            return terms.clone();
        }
        let mut consents = self.consents().await;
        let date = |d: NaiveDate| consent::Date {
            year: d.year(),
            month: i32::try_from(d.month()).unwrap(),
            day: i32::try_from(d.day()).unwrap(),
        };
        let effective = NaiveDate::from_ymd_opt(2023, 12, 18).unwrap();
        let operator = |m| self.consent_env.request(m, "operator-1", Role::Operator);
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
            .publish_meeting_app_terms(self.consent_env.request(
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
        let mut found = Vec::new();
        for kind in [
            consent::TermsKind::OnlineServices,
            consent::TermsKind::MeetingApp,
        ] {
            let document = eventually("terms in force", || {
                let mut consents = consents.clone();
                let request = self.consent_env.request(
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
            .await;
            found.push(document);
        }
        let terms = (found[0].clone(), found[1].clone());
        self.terms = Some(terms.clone());
        terms
    }

    /// A person made eligible through the real services: registered,
    /// device and environment attested, applied, consent recorded.
    pub async fn eligible_person(&mut self, n: u32) -> String {
        let (terms, meeting) = self.terms().await;
        let mut registrations = self.registrations().await;
        let seeker = registrations
            .register_job_seeker(self.registration_env.request(
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
                        email: format!("hanako{n}@example.jp"),
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
        let own = |m| self.registration_env.request(m, &seeker, Role::JobSeeker);
        let device = registrations
            .attest_device(own(registration::AttestDeviceRequest {
                request_id: request_id(),
                job_seeker_id: seeker.clone(),
                device_kind: registration::DeviceKind::Pc.into(),
                owned: true,
                has_webcam: true,
                can_prepare_meeting_app: true,
            }))
            .await
            .expect("device attested")
            .into_inner()
            .device_attestation
            .unwrap();
        registrations
            .attest_environment(self.registration_env.request(
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
            .apply_for_online_services(self.registration_env.request(
                registration::ApplyForOnlineServicesRequest {
                    request_id: request_id(),
                    job_seeker_id: seeker.clone(),
                    terms_version: terms.version.clone(),
                    terms_sha256: terms.sha256.clone(),
                    meeting_app_terms_version: meeting.version.clone(),
                    meeting_app_terms_sha256: meeting.sha256.clone(),
                    language: "ja".into(),
                },
                &seeker,
                Role::JobSeeker,
            ))
            .await
            .expect("applied");
        eventually("eligible", || {
            let mut registrations = registrations.clone();
            let request = self.registration_env.request(
                registration::CheckEligibilityRequest {
                    job_seeker_id: seeker.clone(),
                    at: None,
                },
                "system:scheduling",
                Role::System,
            );
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
        seeker
    }

    /// A counsellor's slot of `offering` starting `hours` from now.
    pub async fn publish(
        &self,
        counsellor: &str,
        offering: proto::Offering,
        hours: i64,
        capacity: u32,
    ) -> proto::Slot {
        let start = Utc::now() + chrono::Duration::hours(hours);
        let start =
            start - chrono::Duration::nanoseconds(i64::from(start.timestamp_subsec_nanos()));
        self.client()
            .await
            .publish_availability(self.request(
                proto::PublishAvailabilityRequest {
                    request_id: request_id(),
                    counsellor_id: counsellor.into(),
                    offering: offering.into(),
                    start_time: Some(hellowork_scheduling::domain::timestamp(start)),
                    end_time: Some(hellowork_scheduling::domain::timestamp(
                        start + chrono::Duration::hours(1),
                    )),
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

    /// A booking of person `n` ready to join: checklist done, private room
    /// and no recording acknowledged. Returns the person and the booking id.
    pub async fn ready_booking(&mut self, n: u32, counsellor: &str) -> (String, String) {
        let seeker = self.eligible_person(n).await;
        let slot = self
            .publish(counsellor, proto::Offering::Counselling, 48, 1)
            .await;
        let mut client = self.client().await;
        let booking = client
            .book_session(self.booking_request(&slot, &seeker))
            .await
            .expect("booked")
            .into_inner()
            .booking
            .unwrap()
            .booking_id;
        let ask = |m| self.request_as(&seeker, Role::JobSeeker, m);
        client
            .complete_pre_session_checklist(ask(proto::CompletePreSessionChecklistRequest {
                booking_id: booking.clone(),
                confirmed_items: (1..=6).collect(),
            }))
            .await
            .expect("checklist");
        let ask = |m| self.request_as(&seeker, Role::JobSeeker, m);
        client
            .acknowledge_private_room(ask(proto::AcknowledgePrivateRoomRequest {
                booking_id: booking.clone(),
            }))
            .await
            .expect("private room");
        let ask = |m| self.request_as(&seeker, Role::JobSeeker, m);
        client
            .acknowledge_no_recording(ask(proto::AcknowledgeNoRecordingRequest {
                booking_id: booking.clone(),
            }))
            .await
            .expect("no recording");
        (seeker, booking)
    }

    /// Every text-like and bytea value of every table in the `scheduling`
    /// schema, as `(table.column, bytes)`.
    pub async fn schema_values(&self) -> Vec<(String, Vec<u8>)> {
        let pool = sqlx::PgPool::connect(&self.env.database.url).await.unwrap();
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text \
             FROM information_schema.columns WHERE table_schema = 'scheduling' \
             AND data_type IN ('text', 'bytea', 'character varying', 'character', 'json', 'jsonb')",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut values = Vec::new();
        for (table, column, data_type) in columns {
            let expression = if data_type == "bytea" {
                format!("\"{column}\"")
            } else {
                format!("convert_to(\"{column}\"::text, 'UTF8')")
            };
            let rows: Vec<Option<Vec<u8>>> =
                sqlx::query_scalar(&format!("SELECT {expression} FROM scheduling.\"{table}\""))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            for value in rows.into_iter().flatten() {
                values.push((format!("{table}.{column}"), value));
            }
        }
        pool.close().await;
        values
    }

    /// Every message on scheduling's stream, as `(sequence, body)`; erased
    /// sequences are gaps.
    pub async fn published(&self) -> Vec<(u64, Vec<u8>)> {
        let nats = async_nats::connect(nats_url()).await.unwrap();
        let mut stream = async_nats::jetstream::new(nats)
            .get_stream(&self.env.stream_name)
            .await
            .unwrap();
        let last = stream.info().await.unwrap().state.last_sequence;
        let mut messages = Vec::new();
        for sequence in 1..=last {
            if let Ok(message) = stream.get_raw_message(sequence).await {
                messages.push((sequence, message.payload.to_vec()));
            }
        }
        messages
    }

    /// `what: needle` for each needle found in a table of scheduling's or a
    /// message on its stream.
    pub async fn in_clear(&self, needles: &[super::privacy::Needle]) -> Vec<String> {
        let values = self.schema_values().await;
        let published = self.published().await;
        super::privacy::findings(
            values
                .iter()
                .map(|(place, v)| (place.clone(), v.as_slice()))
                .chain(
                    published
                        .iter()
                        .map(|(seq, body)| (format!("message {seq}"), body.as_slice())),
                ),
            needles,
        )
    }

    /// The payloads of the scheduling store's events of `event_type`.
    pub async fn stored_payloads(&self, event_type: &str) -> Vec<Vec<u8>> {
        let pool = sqlx::PgPool::connect(&self.env.database.url).await.unwrap();
        let payloads = sqlx::query_scalar(
            "SELECT payload FROM scheduling.events WHERE event_type = $1 ORDER BY position",
        )
        .bind(event_type)
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        payloads
    }

    pub fn booking_request(
        &self,
        slot: &proto::Slot,
        seeker: &str,
    ) -> tonic::Request<proto::BookSessionRequest> {
        self.request(
            proto::BookSessionRequest {
                request_id: request_id(),
                slot_id: slot.slot_id.clone(),
                job_seeker_id: seeker.into(),
                attendants: Vec::new(),
            },
            seeker,
            Role::JobSeeker,
        )
    }
}

pub use hellowork_testing::passing_environment as good_environment;
