//! What the infrastructure fault tests (`faults_nats`, `faults_postgres`)
//! share: the four service binaries wired together against a PostgreSQL
//! server and a NATS server of the test's choosing ([`FaultStack`]), a load
//! driver issuing cheap commands with bounded concurrency and recording
//! every answer ([`drive`]), and the exactly-once audit of every store,
//! consumer inbox and read model once the pipeline has caught up
//! ([`Audit`]).
//!
//! The commands are chosen so that each service's events reach the
//! projections of the others:
//!
//! | command | event | consumed by |
//! |---|---|---|
//! | registration `RegisterJobSeeker` | `JobSeekerRegistered` | consent (registered users), audit-log |
//! | consent `RecordConsent` (explicit) | `ConsentRecorded` | registration (consent status), consent (terms documents), audit-log |
//! | scheduling `PublishAvailability` (one slot) | `SlotPublished` | scheduling (read models), registration (refusals), audit-log |
//! | audit-log `RecordUsage` | `UsageRecorded` | the access log (tailing projection) |
//!
//! and audit-log turns every peer event into a `PeerEventObserved` (id:
//! UUIDv5 of the peer event id) of its own store, which the access log shows
//! as one `DOMAIN_EVENT` entry.
#![allow(dead_code)] // each test binary uses its own subset

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fmt,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Timelike, Utc};
use hellowork_auth::{MintRequest, Role, TokenIssuer};
use hellowork_proto::{
    auditlog::v1::{self as auditlog, audit_log_service_client::AuditLogServiceClient},
    consent::v1::{self as consent, consent_service_client::ConsentServiceClient},
    registration::v1::{
        self as registration, registration_service_client::RegistrationServiceClient,
    },
    scheduling::v1::{self as scheduling, scheduling_service_client::SchedulingServiceClient},
};
use hellowork_testing::{ServiceEnv, ServiceProcess, TestDatabase};
use sqlx::{PgPool, postgres::PgPoolOptions};
use tonic::{Code, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use uuid::Uuid;

/// Namespace of audit-log's `PeerEventObserved` ids (UUIDv5 of the peer
/// event id), as `services/audit-log/src/projections.rs` defines it.
const OBSERVED_NAMESPACE: Uuid = Uuid::from_u128(0x6865_6c6c_6f77_6f72_6b2e_6f62_7365_7201);

/// The access log's entry kinds (`EntryKind`) the audit counts.
const DOMAIN_EVENT: i32 = auditlog::EntryKind::DomainEvent as i32;
const USAGE: i32 = auditlog::EntryKind::Usage as i32;

/// One of the four services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Svc {
    Registration,
    Consent,
    Scheduling,
    AuditLog,
}

impl Svc {
    pub const ALL: [Self; 4] = [
        Self::Registration,
        Self::Consent,
        Self::Scheduling,
        Self::AuditLog,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Consent => "consent",
            Self::Scheduling => "scheduling",
            Self::AuditLog => "audit-log",
        }
    }

    /// The Postgres schema the service keeps its store and read models in
    /// (`HELLOWORK_DATABASE_SCHEMA`'s default).
    fn schema(self) -> &'static str {
        match self {
            Self::AuditLog => "auditlog",
            other => other.name(),
        }
    }

    fn binary(self) -> &'static str {
        match self {
            Self::Registration => "hellowork-registration",
            Self::Consent => "hellowork-consent",
            Self::Scheduling => "hellowork-scheduling",
            Self::AuditLog => "hellowork-audit-log",
        }
    }

    fn health_name(self) -> &'static str {
        match self {
            Self::Registration => hellowork_registration::SERVICE_NAME,
            Self::Consent => hellowork_consent::app::HEALTH_NAME,
            Self::Scheduling => hellowork_scheduling::SERVICE_NAME,
            Self::AuditLog => hellowork_audit_log::SERVICE_NAME,
        }
    }
}

impl fmt::Display for Svc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One service under test: its process (first, so it stops before its
/// database and stream are removed) and its environment.
pub struct Node {
    pub process: ServiceProcess,
    pub env: ServiceEnv,
    pub svc: Svc,
}

/// The four service binaries against the given PostgreSQL server (each in a
/// database of its own, cloned from an empty template, migrated by the
/// service) and NATS server (each on a stream of its own), wired as in
/// production: registration and consent follow each other's streams,
/// registration follows scheduling's, audit-log follows the other three;
/// scheduling calls registration and consent with a `system` token both
/// trust.
pub struct FaultStack {
    pub nodes: Vec<Node>,
    pub callers: Callers,
    _keys: tempfile::TempDir,
}

impl FaultStack {
    /// Starts the four services with `extra` variables on top of their own
    /// and waits until each is SERVING.
    pub async fn start(database_server: &str, nats_url: &str, extra: &[(&str, &str)]) -> Self {
        let mut envs = HashMap::new();
        for svc in Svc::ALL {
            let database =
                TestDatabase::from_template(database_server, "empty", "v1", |_| async {}).await;
            envs.insert(svc, ServiceEnv::new(svc.schema(), database, nats_url));
        }
        let keys = tempfile::tempdir().expect("a key dir");
        let scheduling_env = &envs[&Svc::Scheduling];
        let public = keys.path().join("scheduling.pem");
        std::fs::write(&public, scheduling_env.issuer().public_key().to_pem())
            .expect("write scheduling's public key");
        let token_file = keys.path().join("system.token");
        let bearer = scheduling_env.token("system:scheduling", &[Role::System]);
        std::fs::write(&token_file, bearer.trim_start_matches("Bearer "))
            .expect("write scheduling's system token");
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let vars_of = |svc: Svc, peers: &[Svc]| {
            let env = &envs[&svc];
            let mut vars = env.vars();
            if matches!(svc, Svc::Registration | Svc::Consent | Svc::AuditLog) {
                // Trust scheduling's `system` token as well as our own keys.
                let own = vars
                    .iter()
                    .find(|(k, _)| k == "HELLOWORK_JWT_PUBLIC_KEYS")
                    .map(|(_, v)| v.clone())
                    .expect("the service's own public key");
                vars.push((
                    "HELLOWORK_JWT_PUBLIC_KEYS".into(),
                    format!(
                        "{own},{}={}",
                        envs[&Svc::Scheduling].issuer().kid(),
                        public.display()
                    ),
                ));
            }
            for peer in peers {
                vars.extend(envs[peer].peer_vars());
            }
            vars.extend(extra.iter().cloned());
            vars
        };
        let registration_vars = vars_of(Svc::Registration, &[Svc::Consent, Svc::Scheduling]);
        let consent_vars = vars_of(Svc::Consent, &[Svc::Registration]);
        let audit_vars = vars_of(
            Svc::AuditLog,
            &[Svc::Registration, Svc::Consent, Svc::Scheduling],
        );
        let registration = ServiceProcess::spawn(Svc::Registration.binary(), &registration_vars);
        let consent = ServiceProcess::spawn(Svc::Consent.binary(), &consent_vars);
        let audit = ServiceProcess::spawn(Svc::AuditLog.binary(), &audit_vars);
        let mut scheduling_vars = vars_of(Svc::Scheduling, &[]);
        scheduling_vars.extend([
            (
                "HELLOWORK_SYSTEM_TOKEN_FILE".to_owned(),
                token_file.display().to_string(),
            ),
            ("HELLOWORK_REGISTRATION_URL".to_owned(), registration.url()),
            ("HELLOWORK_CONSENT_URL".to_owned(), consent.url()),
            // Art. 7(2): the keys device identifiers are sealed to.
            ("HELLOWORK_AUDITLOG_URL".to_owned(), audit.url()),
        ]);
        let scheduling = ServiceProcess::spawn(Svc::Scheduling.binary(), &scheduling_vars);

        let mut processes = HashMap::from([
            (Svc::Registration, registration),
            (Svc::Consent, consent),
            (Svc::Scheduling, scheduling),
            (Svc::AuditLog, audit),
        ]);
        let mut nodes = Vec::new();
        for svc in Svc::ALL {
            let mut process = processes.remove(&svc).expect("a process per service");
            process.wait_until_serving(svc.health_name()).await;
            let env = envs.remove(&svc).expect("an environment per service");
            nodes.push(Node { process, env, svc });
        }
        let callers = Callers::new(&nodes).await;
        Self {
            nodes,
            callers,
            _keys: keys,
        }
    }

    pub fn node(&self, svc: Svc) -> &Node {
        self.nodes
            .iter()
            .find(|n| n.svc == svc)
            .expect("every service runs")
    }

    /// Each service's gRPC health, as a load balancer sees it.
    pub async fn health(&self) -> Vec<(Svc, Option<ServingStatus>)> {
        let mut answers = Vec::new();
        for node in &self.nodes {
            answers.push((node.svc, health(&node.process, node.svc).await));
        }
        answers
    }

    /// Polls every service's health until each reports `wanted`; how long
    /// that took.
    pub async fn wait_for_health(&self, wanted: ServingStatus, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let health = self.health().await;
            if health.iter().all(|(_, status)| *status == Some(wanted)) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "services not {wanted:?} within {within:?}: {health:?}\n{}",
                self.log_tails()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Copies every service's whole log to a directory that outlives the
    /// test (the processes remove theirs when dropped); its path.
    pub fn keep_logs(&self) -> String {
        let dir =
            std::env::temp_dir().join(format!("hellowork-faults-{}", Uuid::new_v4().simple()));
        if std::fs::create_dir_all(&dir).is_err() {
            return "(nowhere)".into();
        }
        for node in &self.nodes {
            // The log's path shows only in the process's Debug form.
            let debug = format!("{:?}", node.process);
            let Some(path) = debug
                .split("log: \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
            else {
                continue;
            };
            let _ = std::fs::copy(path, dir.join(format!("{}.log", node.svc)));
        }
        dir.display().to_string()
    }

    /// The end of every service's log, for failure messages.
    pub fn log_tails(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("--- {} ---\n{}", n.svc, n.process.log_tail()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Stops the four services as an orchestrator would; each must exit
    /// cleanly.
    pub async fn terminate(&mut self) {
        for node in self.nodes.iter_mut().rev() {
            assert!(
                node.process.terminate().await,
                "{} did not stop cleanly",
                node.svc
            );
        }
    }
}

async fn health(process: &ServiceProcess, svc: Svc) -> Option<ServingStatus> {
    let channel = Channel::from_shared(process.url())
        .ok()?
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await
        .ok()?;
    let answer = tokio::time::timeout(
        Duration::from_secs(2),
        HealthClient::new(channel).check(HealthCheckRequest {
            service: svc.health_name().to_owned(),
        }),
    )
    .await
    .ok()?
    .ok()?;
    Some(answer.into_inner().status())
}

/// Mints tokens the way [`ServiceEnv::token`] does, from a task of its own
/// (an environment cannot be shared across tasks; its issuer can), and
/// keeps those of fixed callers (a front system, a supervisor): signing is
/// not what the load is about.
#[derive(Clone)]
struct Minter {
    issuer: TokenIssuer,
    jwt_issuer: String,
    audience: String,
    cache: Arc<Mutex<HashMap<(String, Role), Bearer>>>,
}

impl Minter {
    fn of(env: &ServiceEnv) -> Self {
        Self {
            issuer: env.issuer().clone(),
            jwt_issuer: env.jwt_issuer().to_owned(),
            audience: env.jwt_audience().to_owned(),
            cache: Arc::default(),
        }
    }

    fn bearer(&self, subject: &str, role: Role) -> Bearer {
        let key = (subject.to_owned(), role);
        if let Some(cached) = self.cache.lock().expect("token cache").get(&key) {
            return cached.clone();
        }
        let token = self
            .issuer
            .mint(&MintRequest {
                subject: subject.to_owned(),
                roles: vec![role],
                ttl: Duration::from_secs(1800),
                issuer: self.jwt_issuer.clone(),
                audience: self.audience.clone(),
                not_before: None,
                personnel_id: None,
            })
            .expect("mint a token");
        let bearer: Bearer = format!("Bearer {token}")
            .parse()
            .expect("a token is valid metadata");
        // A person's token serves one command; the fixed callers' are kept.
        if role != Role::JobSeeker || subject == FRONT_SYSTEM {
            self.cache
                .lock()
                .expect("token cache")
                .insert(key, bearer.clone());
        }
        bearer
    }

    fn request<T>(
        &self,
        message: T,
        subject: &str,
        role: Role,
        deadline: Duration,
    ) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", self.bearer(subject, role));
        request.set_timeout(deadline);
        request
    }
}

/// An `authorization` header value.
type Bearer = tonic::metadata::MetadataValue<tonic::metadata::Ascii>;

/// The front system people register through (as `job_seeker`).
const FRONT_SYSTEM: &str = "front-system";

/// The four services' clients and token minters; cheap to clone into the
/// load driver's tasks.
#[derive(Clone)]
pub struct Callers {
    registrations: RegistrationServiceClient<Channel>,
    consents: ConsentServiceClient<Channel>,
    schedule: SchedulingServiceClient<Channel>,
    audit: AuditLogServiceClient<Channel>,
    minters: HashMap<Svc, Minter>,
    /// The office's terms and the meeting app's terms, once published.
    terms: Option<(consent::TermsReference, consent::TermsReference)>,
    /// Where the load's slots are: far enough ahead, on the hour.
    slot_start: DateTime<Utc>,
    /// The deadline every command is sent with (`grpc-timeout`).
    deadline: Duration,
}

async fn channel_to(process: &ServiceProcess) -> Channel {
    // Lazily connected, reconnecting on its own: a client of a service
    // whose database comes and goes keeps its channel.
    Channel::from_shared(process.url())
        .expect("a service url")
        .connect_timeout(Duration::from_secs(2))
        .connect_lazy()
}

impl Callers {
    async fn new(nodes: &[Node]) -> Self {
        let process = |svc: Svc| &nodes.iter().find(|n| n.svc == svc).unwrap().process;
        let minters = nodes.iter().map(|n| (n.svc, Minter::of(&n.env))).collect();
        let start = Utc::now() + chrono::Duration::days(3);
        Self {
            registrations: RegistrationServiceClient::new(
                channel_to(process(Svc::Registration)).await,
            ),
            consents: ConsentServiceClient::new(channel_to(process(Svc::Consent)).await),
            schedule: SchedulingServiceClient::new(channel_to(process(Svc::Scheduling)).await),
            audit: AuditLogServiceClient::new(channel_to(process(Svc::AuditLog)).await),
            minters,
            terms: None,
            slot_start: start
                .with_minute(0)
                .and_then(|t| t.with_second(0))
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(start),
            deadline: Duration::from_secs(5),
        }
    }

    /// The deadline commands are sent with from now on.
    pub fn set_deadline(&mut self, deadline: Duration) {
        self.deadline = deadline;
    }

    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    fn request<T>(&self, svc: Svc, message: T, subject: &str, role: Role) -> tonic::Request<T> {
        self.minters[&svc].request(message, subject, role, self.deadline)
    }

    /// An operator publishes the office's terms and the meeting app's terms
    /// (two consent events), so that people can consent.
    pub async fn publish_terms(&mut self) {
        let effective = chrono::NaiveDate::from_ymd_opt(2023, 12, 18).expect("a date");
        let date = |d: chrono::NaiveDate| {
            use chrono::Datelike;
            consent::Date {
                year: d.year(),
                month: d.month() as i32,
                day: d.day() as i32,
            }
        };
        let reference = |document: Option<consent::TermsDocument>| {
            let document = document.expect("the published document");
            consent::TermsReference {
                terms_document_id: document.terms_document_id,
                version: document.version,
                sha256: document.sha256,
            }
        };
        let terms = self
            .consents
            .clone()
            .publish_terms_document(self.request(
                Svc::Consent,
                consent::PublishTermsDocumentRequest {
                    request_id: Uuid::now_v7().to_string(),
                    version: "2023-12-18".into(),
                    language: "ja".into(),
                    title: "オンラインを活用したサービス利用規約".into(),
                    full_text: "第1条 (test text standing in for the office's terms)".into(),
                    sha256: String::new(),
                    established_date: Some(date(
                        chrono::NaiveDate::from_ymd_opt(2021, 3, 1).expect("a date"),
                    )),
                    revised_date: Some(date(effective)),
                    effective_date: Some(date(effective)),
                },
                "operator-1",
                Role::Operator,
            ))
            .await
            .expect("terms published")
            .into_inner()
            .terms_document;
        let meeting_app = self
            .consents
            .clone()
            .publish_meeting_app_terms(self.request(
                Svc::Consent,
                consent::PublishMeetingAppTermsRequest {
                    request_id: Uuid::now_v7().to_string(),
                    meeting_app_name: "Designated meeting app".into(),
                    version: "2024-04-01".into(),
                    language: "ja".into(),
                    title: "Meeting app terms".into(),
                    full_text: "The meeting app's terms.".into(),
                    sha256: String::new(),
                    effective_date: Some(date(
                        chrono::NaiveDate::from_ymd_opt(2024, 4, 1).expect("a date"),
                    )),
                    source_uri: String::new(),
                },
                "operator-1",
                Role::Operator,
            ))
            .await
            .expect("meeting-app terms published")
            .into_inner()
            .terms_document;
        self.terms = Some((reference(terms), reference(meeting_app)));
    }

    /// Sends `command` once; what the service answered.
    pub async fn send(&self, command: &Command) -> Result<Ack, Failure> {
        let started = Instant::now();
        // The client's own patience: the deadline it sent, and a margin for
        // the answer to travel. Beyond it the call hung.
        let answer = tokio::time::timeout(self.deadline + Duration::from_secs(2), async {
            self.send_once(command).await
        })
        .await;
        match answer {
            Ok(Ok(ack)) => Ok(ack),
            Ok(Err(status)) => Err(Failure {
                code: status.code(),
                message: status.message().to_owned(),
                took: started.elapsed(),
            }),
            Err(_) => Err(Failure {
                code: Code::DeadlineExceeded,
                message: "no answer within the client's deadline (hung)".into(),
                took: started.elapsed(),
            }),
        }
    }

    async fn send_once(&self, command: &Command) -> Result<Ack, tonic::Status> {
        match command.kind {
            Kind::Register => {
                let answer = self
                    .registrations
                    .clone()
                    .register_job_seeker(self.request(
                        Svc::Registration,
                        registration::RegisterJobSeekerRequest {
                            request_id: command.request_id.to_string(),
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
                                email: format!("p{}@example.jp", command.person.simple()),
                                phone_number: String::new(),
                            }),
                            provisional: false,
                        },
                        FRONT_SYSTEM,
                        Role::JobSeeker,
                    ))
                    .await?
                    .into_inner();
                let id = answer
                    .job_seeker
                    .map(|j| j.job_seeker_id)
                    .unwrap_or_default();
                Ok(Ack::Registered {
                    job_seeker_id: Uuid::parse_str(&id).map_err(|e| {
                        tonic::Status::internal(format!("job seeker id {id:?}: {e}"))
                    })?,
                })
            }
            Kind::Consent => {
                let (terms, meeting_app) = self.terms.clone().expect("terms published first");
                let person = command.person.to_string();
                let answer = self
                    .consents
                    .clone()
                    .record_consent(self.request(
                        Svc::Consent,
                        consent::RecordConsentRequest {
                            request_id: command.request_id.to_string(),
                            job_seeker_id: person.clone(),
                            terms: Some(terms),
                            meeting_app_terms: Some(meeting_app),
                            method: consent::ConsentMethod::Explicit.into(),
                            application_id: String::new(),
                            consented_at: None,
                            time_zone: String::new(),
                            language: "ja".into(),
                        },
                        &person,
                        Role::JobSeeker,
                    ))
                    .await?
                    .into_inner();
                Ok(Ack::Consented {
                    receipt_id: answer.receipt.map(|r| r.receipt_id).unwrap_or_default(),
                })
            }
            Kind::Publish => {
                let timestamp = |at: DateTime<Utc>| prost_types::Timestamp {
                    seconds: at.timestamp(),
                    nanos: 0,
                };
                let answer = self
                    .schedule
                    .clone()
                    .publish_availability(self.request(
                        Svc::Scheduling,
                        scheduling::PublishAvailabilityRequest {
                            request_id: command.request_id.to_string(),
                            counsellor_id: format!("counsellor-{}", command.person.simple()),
                            offering: scheduling::Offering::Counselling.into(),
                            start_time: Some(timestamp(self.slot_start)),
                            end_time: Some(timestamp(self.slot_start + chrono::Duration::hours(1))),
                            slot_length: None,
                            capacity: 1,
                        },
                        "supervisor-1",
                        Role::Supervisor,
                    ))
                    .await?
                    .into_inner();
                Ok(Ack::Published {
                    slot_ids: answer.slots.into_iter().map(|s| s.slot_id).collect(),
                })
            }
            Kind::Usage => {
                let record_id = command.request_id.to_string();
                let answer = self
                    .audit
                    .clone()
                    .record_usage(
                        self.request(
                            Svc::AuditLog,
                            auditlog::RecordUsageRequest {
                                record: Some(auditlog::UsageRecord {
                                    record_id: record_id.clone(),
                                    job_seeker_id: command.person.to_string(),
                                    occurred_at: Some(prost_types::Timestamp {
                                        seconds: Utc::now().timestamp(),
                                        nanos: 0,
                                    }),
                                    usage_window: None,
                                    access_kind: auditlog::AccessKind::PageView.into(),
                                    action: "/bookings/{booking_id}".into(),
                                    method: "GET".into(),
                                    outcome: auditlog::AccessOutcome::Success.into(),
                                    offering: scheduling::Offering::Counselling.into(),
                                    booking_id: String::new(),
                                    device: Some(auditlog::DeviceIdentifiers {
                                        device_id: format!("device-{}", command.person.simple()),
                                        ip_address: "203.0.113.87".into(),
                                        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) \
                                                 Chrome/120.0.0.0 Safari/537.36"
                                            .into(),
                                        os_name: "Windows".into(),
                                        os_version: "10.0.19045".into(),
                                    }),
                                    source: "web".into(),
                                    sealed_device: None,
                                }),
                            },
                            "system:front",
                            Role::System,
                        ),
                    )
                    .await?
                    .into_inner();
                Ok(Ack::Recorded {
                    record_id,
                    duplicate: answer.duplicate,
                })
            }
        }
    }

    /// The whole access log through `ListAccessLog`, as an operator reads
    /// it (device-anonymized, without record ids): (sequence, kind, action)
    /// of every entry.
    pub async fn list_access_log(&self) -> Result<Vec<(u64, i32, String)>, tonic::Status> {
        let now = Utc::now();
        let timestamp = |at: DateTime<Utc>| prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: 0,
        };
        let range = auditlog::TimeRange {
            start_time: Some(timestamp(now - chrono::Duration::days(1))),
            end_time: Some(timestamp(now + chrono::Duration::days(1))),
        };
        let mut entries = Vec::new();
        let mut page_token = String::new();
        loop {
            let mut request = self.request(
                Svc::AuditLog,
                auditlog::ListAccessLogRequest {
                    time_range: Some(range),
                    kinds: Vec::new(),
                    page_size: 1000,
                    page_token,
                },
                "operator-1",
                Role::Operator,
            );
            request.set_timeout(Duration::from_secs(20));
            let page = self
                .audit
                .clone()
                .list_access_log(request)
                .await?
                .into_inner();
            entries.extend(
                page.entries
                    .into_iter()
                    .map(|e| (e.sequence, e.kind, e.action)),
            );
            if page.next_page_token.is_empty() {
                return Ok(entries);
            }
            page_token = page.next_page_token;
        }
    }

    /// The auditor's verdict on the access log's hash chain: (intact,
    /// entries checked).
    pub async fn verify_log(&self) -> (bool, u64) {
        let mut request = self.request(
            Svc::AuditLog,
            auditlog::VerifyLogRequest::default(),
            "auditor-1",
            Role::Auditor,
        );
        request.set_timeout(Duration::from_secs(30));
        let verdict = self
            .audit
            .clone()
            .verify_log(request)
            .await
            .expect("VerifyLog answers")
            .into_inner();
        (verdict.intact, verdict.checked_count)
    }
}

/// Which command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Register,
    Consent,
    Publish,
    Usage,
}

impl Kind {
    pub const ALL: [Self; 4] = [Self::Register, Self::Consent, Self::Publish, Self::Usage];

    pub fn rpc(self) -> &'static str {
        match self {
            Self::Register => "RegisterJobSeeker",
            Self::Consent => "RecordConsent",
            Self::Publish => "PublishAvailability",
            Self::Usage => "RecordUsage",
        }
    }
}

/// One command: its kind and the ids that make it unique (and the same
/// when it is sent again).
#[derive(Debug, Clone)]
pub struct Command {
    pub index: usize,
    pub kind: Kind,
    /// The request id (for `RecordUsage`, the record id).
    pub request_id: Uuid,
    /// The person (e-mail, consent subject, usage subject) or counsellor.
    pub person: Uuid,
}

impl Command {
    /// The `index`-th command of a load: the four kinds in turn.
    pub fn nth(index: usize) -> Self {
        Self {
            index,
            kind: Kind::ALL[index % Kind::ALL.len()],
            request_id: Uuid::now_v7(),
            person: Uuid::new_v4(),
        }
    }
}

/// What an acknowledged command answered.
#[derive(Debug, Clone)]
pub enum Ack {
    /// An online registration by the front system, which is not the
    /// person, is never told whether it created the record (Art. 8: no
    /// answer tells whether someone is registered), so it says only the id.
    Registered {
        job_seeker_id: Uuid,
    },
    Consented {
        receipt_id: String,
    },
    Published {
        slot_ids: Vec<String>,
    },
    Recorded {
        record_id: String,
        duplicate: bool,
    },
}

/// A command that was not acknowledged.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: Code,
    pub message: String,
    pub took: Duration,
}

/// One call: which command, when it was sent and answered (since the load
/// began), and the answer.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub command: Command,
    pub sent: Duration,
    pub answered: Duration,
    pub result: Result<Ack, Failure>,
}

/// Live counters of a running load, for the test to time its faults by.
#[derive(Debug, Default)]
pub struct Progress {
    pub acked: AtomicUsize,
    pub failed: AtomicUsize,
    claimed: AtomicUsize,
    next: AtomicUsize,
    outcomes: Mutex<Vec<Outcome>>,
}

impl Progress {
    pub fn acked(&self) -> usize {
        self.acked.load(Ordering::SeqCst)
    }

    pub fn failed(&self) -> usize {
        self.failed.load(Ordering::SeqCst)
    }
}

/// Issues new commands (the kinds in turn) with `concurrency` in flight
/// until `target` are acknowledged; a command that fails is recorded and
/// replaced by a new one after `backoff`, as a client would. Every call's
/// outcome is kept, in the order answered.
pub async fn drive(
    callers: Callers,
    target: usize,
    concurrency: usize,
    backoff: Duration,
    progress: Arc<Progress>,
    epoch: Instant,
) -> Vec<Outcome> {
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let callers = callers.clone();
        let progress = Arc::clone(&progress);
        workers.spawn(async move {
            while progress.acked() < target {
                // A slot for one more acknowledgement; freed again on failure.
                if progress.claimed.fetch_add(1, Ordering::SeqCst) >= target {
                    progress.claimed.fetch_sub(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                let command = Command::nth(progress.next.fetch_add(1, Ordering::SeqCst));
                let sent = epoch.elapsed();
                let result = callers.send(&command).await;
                let failed = result.is_err();
                if failed {
                    progress.claimed.fetch_sub(1, Ordering::SeqCst);
                    progress.failed.fetch_add(1, Ordering::SeqCst);
                } else {
                    progress.acked.fetch_add(1, Ordering::SeqCst);
                }
                let outcome = Outcome {
                    command,
                    sent,
                    answered: epoch.elapsed(),
                    result,
                };
                progress.outcomes.lock().expect("outcomes").push(outcome);
                if failed {
                    tokio::time::sleep(backoff).await;
                }
            }
        });
    }
    while let Some(joined) = workers.join_next().await {
        joined.expect("a load worker panicked");
    }
    std::mem::take(&mut *progress.outcomes.lock().expect("outcomes"))
}

/// Sends each of `commands` again (same ids) until it is acknowledged, as a
/// client retries what failed; gives up after `within`.
pub async fn retry_until_acked(
    callers: &Callers,
    commands: Vec<Command>,
    concurrency: usize,
    within: Duration,
    epoch: Instant,
) -> Vec<Outcome> {
    let queue = Arc::new(Mutex::new(commands));
    let deadline = Instant::now() + within;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let callers = callers.clone();
        let queue = Arc::clone(&queue);
        workers.spawn(async move {
            let mut acked = Vec::new();
            loop {
                let Some(command) = queue.lock().expect("queue").pop() else {
                    return acked;
                };
                loop {
                    let sent = epoch.elapsed();
                    let result = callers.send(&command).await;
                    if result.is_ok() {
                        acked.push(Outcome {
                            command,
                            sent,
                            answered: epoch.elapsed(),
                            result,
                        });
                        break;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "command {command:?} still failing on retry: {result:?}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        });
    }
    let mut outcomes = Vec::new();
    while let Some(joined) = workers.join_next().await {
        outcomes.extend(joined.expect("a retry worker panicked"));
    }
    outcomes
}

/// Whether an acknowledgement says the command had been carried out
/// before (a usage record a duplicate): a retry of a command whose first
/// attempt committed although its answer was lost. (`RegisterJobSeeker`
/// online, `RecordConsent` and `PublishAvailability` answer the same either
/// way; the ledger's per-id counts catch a registration stored twice.)
pub fn already_done(outcome: &Outcome) -> bool {
    matches!(
        outcome.result,
        Ok(Ack::Recorded {
            duplicate: true,
            ..
        })
    )
}

/// What the acknowledged commands say must be stored: per kind, the ids
/// the answers named.
#[derive(Debug, Default)]
pub struct Ledger {
    pub job_seekers: Vec<Uuid>,
    pub receipts: Vec<String>,
    pub slots: Vec<String>,
    pub records: Vec<String>,
    pub by_kind: BTreeMap<Kind, usize>,
}

impl Ledger {
    /// The ledger of every acknowledged outcome. A command acknowledged
    /// twice (sent again after an ambiguous failure) counts once, by its
    /// answer's ids.
    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Self {
        let mut ledger = Self::default();
        let mut seen = HashSet::new();
        for outcome in outcomes {
            let Ok(ack) = &outcome.result else { continue };
            if !seen.insert(outcome.command.request_id) {
                continue;
            }
            *ledger.by_kind.entry(outcome.command.kind).or_default() += 1;
            match ack {
                Ack::Registered { job_seeker_id, .. } => ledger.job_seekers.push(*job_seeker_id),
                Ack::Consented { receipt_id } => ledger.receipts.push(receipt_id.clone()),
                Ack::Published { slot_ids } => ledger.slots.extend(slot_ids.iter().cloned()),
                Ack::Recorded { record_id, .. } => ledger.records.push(record_id.clone()),
            }
        }
        ledger
    }

    pub fn commands(&self) -> usize {
        self.by_kind.values().sum()
    }
}

/// One projection's intake: where its inbox is, whose events it reads, and
/// which of them (`None`: all). A durable JetStream consumer or a
/// projection tailing its own store (scheduling's read models); both record
/// every event they take in their inbox.
struct Feed {
    at: Svc,
    consumer: String,
    from: Svc,
    /// The event types it handles (its subject filter or `handles`), if
    /// not every one.
    event_types: Option<&'static [&'static str]>,
}

fn feeds() -> Vec<Feed> {
    use hellowork_consent::{deemed_consent, projections::notices, projections::terms_documents};
    use hellowork_registration::projections::{CONSENT_STATUS_CONSUMER, REFUSALS_CONSUMER};
    let feed = |at, consumer: &str, from, event_types| Feed {
        at,
        consumer: consumer.to_owned(),
        from,
        event_types,
    };
    vec![
        feed(
            Svc::Registration,
            CONSENT_STATUS_CONSUMER,
            Svc::Consent,
            None,
        ),
        feed(
            Svc::Registration,
            REFUSALS_CONSUMER,
            Svc::Scheduling,
            Some(&["OnlineServicesRefused", "RefusalLifted"]),
        ),
        feed(Svc::Consent, terms_documents::NAME, Svc::Consent, None),
        feed(
            Svc::Consent,
            notices::REVISIONS,
            Svc::Consent,
            Some(&["TermsRevisionAnnounced"]),
        ),
        feed(
            Svc::Consent,
            notices::REGISTRATIONS,
            Svc::Registration,
            Some(&["JobSeekerRegistered"]),
        ),
        feed(
            Svc::Consent,
            deemed_consent::NAME,
            Svc::Registration,
            Some(&["OnlineServicesApplied"]),
        ),
        feed(
            Svc::Scheduling,
            hellowork_scheduling::projections::SCHEDULE_CONSUMER,
            Svc::Scheduling,
            None,
        ),
        feed(
            Svc::AuditLog,
            "auditlog-registration",
            Svc::Registration,
            None,
        ),
        feed(Svc::AuditLog, "auditlog-consent", Svc::Consent, None),
        feed(Svc::AuditLog, "auditlog-scheduling", Svc::Scheduling, None),
    ]
}

/// A stored event: id, stream, type.
type Stored = (Uuid, String, String);

/// Read access to the four services' databases, straight to their tables,
/// and to their JetStream streams.
pub struct Audit {
    pools: HashMap<Svc, PgPool>,
    nats_url: String,
    streams: HashMap<Svc, String>,
}

/// How one check came out: how many ids were expected, how many rows were
/// found, how many of the expected ids were missing (lost), how many rows
/// repeated an id (duplicated) and how many were not expected at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub what: String,
    pub expected: usize,
    pub found: usize,
    pub lost: usize,
    pub duplicated: usize,
    pub unexpected: usize,
}

impl Tally {
    fn of<T: std::hash::Hash + Eq + Clone + fmt::Debug>(
        what: impl Into<String>,
        expected: &[T],
        found: &[T],
    ) -> Self {
        let expected_set: HashSet<&T> = expected.iter().collect();
        let mut counts: HashMap<&T, usize> = HashMap::new();
        for id in found {
            *counts.entry(id).or_default() += 1;
        }
        Self {
            what: what.into(),
            expected: expected_set.len(),
            found: found.len(),
            lost: expected_set
                .iter()
                .filter(|id| !counts.contains_key(*id))
                .count(),
            duplicated: counts.values().map(|n| n - 1).sum(),
            unexpected: counts
                .keys()
                .filter(|id| !expected_set.contains(*id))
                .count(),
        }
    }

    /// A check of numbers alone (the ids are not comparable).
    fn count(what: impl Into<String>, expected: usize, found: usize) -> Self {
        Self {
            what: what.into(),
            expected,
            found,
            lost: expected.saturating_sub(found),
            duplicated: found.saturating_sub(expected),
            unexpected: 0,
        }
    }

    pub fn exact(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.unexpected == 0
            && self.found == self.expected
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<58} {:>6} expected {:>6} found {:>3} lost {:>3} duplicated {:>3} unexpected",
            self.what, self.expected, self.found, self.lost, self.duplicated, self.unexpected
        )
    }
}

impl Audit {
    pub async fn connect(stack: &FaultStack, nats_url: &str) -> Self {
        let mut pools = HashMap::new();
        for node in &stack.nodes {
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(Duration::from_secs(10))
                .connect_lazy(&node.env.database.url)
                .expect("a database url");
            pools.insert(node.svc, pool);
        }
        let streams = stack
            .nodes
            .iter()
            .map(|n| (n.svc, n.env.stream_name.clone()))
            .collect();
        Self {
            pools,
            nats_url: nats_url.to_owned(),
            streams,
        }
    }

    async fn events(&self, svc: Svc) -> Result<Vec<Stored>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT event_id, stream_id, event_type FROM {}.events",
            svc.schema()
        ))
        .fetch_all(&self.pools[&svc])
        .await
    }

    async fn scalar(&self, svc: Svc, sql: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(&sql.replace("{schema}", svc.schema()))
            .fetch_one(&self.pools[&svc])
            .await
    }

    async fn column<T>(&self, svc: Svc, sql: &str) -> Result<Vec<T>, sqlx::Error>
    where
        T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        sqlx::query_scalar(&sql.replace("{schema}", svc.schema()))
            .fetch_all(&self.pools[&svc])
            .await
    }

    /// Whether everything committed has travelled everywhere: every outbox
    /// empty, every consumer's inbox as large as its share of the producer's
    /// store, and the access log one entry per audit-log event.
    pub async fn caught_up(&self) -> Result<bool, sqlx::Error> {
        let mut totals = HashMap::new();
        for svc in Svc::ALL {
            if self
                .scalar(svc, "SELECT count(*) FROM {schema}.outbox")
                .await?
                > 0
            {
                return Ok(false);
            }
            let events = self.events(svc).await?;
            totals.insert(svc, events);
        }
        for feed in feeds() {
            let wanted = totals[&feed.from]
                .iter()
                .filter(|(_, _, t)| {
                    feed.event_types
                        .is_none_or(|types| types.contains(&t.as_str()))
                })
                .count() as i64;
            let have = sqlx::query_scalar::<_, i64>(&format!(
                "SELECT count(*) FROM {}.consumer_inbox WHERE consumer = $1",
                feed.at.schema()
            ))
            .bind(&feed.consumer)
            .fetch_one(&self.pools[&feed.at])
            .await?;
            if have < wanted {
                return Ok(false);
            }
        }
        let peers: usize = [Svc::Registration, Svc::Consent, Svc::Scheduling]
            .iter()
            .map(|s| totals[s].len())
            .sum();
        let observed = totals[&Svc::AuditLog]
            .iter()
            .filter(|(_, _, t)| t == "PeerEventObserved")
            .count();
        let logged = self
            .scalar(Svc::AuditLog, "SELECT count(*) FROM {schema}.access_log")
            .await?;
        Ok(observed >= peers && logged as usize >= totals[&Svc::AuditLog].len())
    }

    /// Polls [`Audit::caught_up`] until it holds; how long that took.
    pub async fn wait_caught_up(&self, stack: &FaultStack, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            if matches!(self.caught_up().await, Ok(true)) {
                return started.elapsed();
            }
            if started.elapsed() >= within {
                let backlog = self.backlog().await;
                let consumers = self.consumers().await;
                let kept = stack.keep_logs();
                panic!(
                    "the projections did not catch up within {within:?}:\n{backlog}\n\
                     JetStream consumers:\n{consumers}\nservice logs kept in {kept}\n{}",
                    stack.log_tails()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Each durable consumer as JetStream and its checkpoint see it, for a
    /// failure message.
    async fn consumers(&self) -> String {
        let Ok(client) = async_nats::connect(&self.nats_url).await else {
            return "(NATS does not answer)".into();
        };
        let jetstream = async_nats::jetstream::new(client);
        let mut lines = Vec::new();
        for feed in feeds() {
            let checkpoint: Result<Option<(i64, Option<Uuid>)>, _> = sqlx::query_as(&format!(
                "SELECT stream_sequence, last_event_id FROM {}.consumer_checkpoints \
                 WHERE consumer = $1",
                feed.at.schema()
            ))
            .bind(&feed.consumer)
            .fetch_optional(&self.pools[&feed.at])
            .await;
            let info = match jetstream.get_stream(&self.streams[&feed.from]).await {
                Ok(stream) => match stream
                    .get_consumer::<async_nats::jetstream::consumer::pull::Config>(&feed.consumer)
                    .await
                {
                    Ok(mut consumer) => match consumer.info().await {
                        Ok(i) => format!(
                            "delivered {}/{}, ack floor {}/{}, ack pending {}, redelivered {}, \
                             pending {}, waiting pulls {}",
                            i.delivered.consumer_sequence,
                            i.delivered.stream_sequence,
                            i.ack_floor.consumer_sequence,
                            i.ack_floor.stream_sequence,
                            i.num_ack_pending,
                            i.num_redelivered,
                            i.num_pending,
                            i.num_waiting
                        ),
                        Err(e) => format!("info: {e}"),
                    },
                    Err(e) => format!("consumer: {e}"),
                },
                Err(e) => format!("stream: {e}"),
            };
            lines.push(format!(
                "{} on {}: {info}; checkpoint {checkpoint:?}",
                feed.consumer, feed.from
            ));
        }
        lines.join("\n")
    }

    /// Where things stand, for a failure message.
    async fn backlog(&self) -> String {
        let mut lines = Vec::new();
        for svc in Svc::ALL {
            let outbox = self
                .scalar(svc, "SELECT count(*) FROM {schema}.outbox")
                .await;
            let events = self
                .scalar(svc, "SELECT count(*) FROM {schema}.events")
                .await;
            lines.push(format!("{svc}: events {events:?}, outbox {outbox:?}"));
        }
        for feed in feeds() {
            let have = sqlx::query_scalar::<_, i64>(&format!(
                "SELECT count(*) FROM {}.consumer_inbox WHERE consumer = $1",
                feed.at.schema()
            ))
            .bind(&feed.consumer)
            .fetch_one(&self.pools[&feed.at])
            .await;
            lines.push(format!("{} inbox: {have:?}", feed.consumer));
        }
        let logged = self
            .scalar(Svc::AuditLog, "SELECT count(*) FROM {schema}.access_log")
            .await;
        lines.push(format!("access_log rows: {logged:?}"));
        lines.join("\n")
    }

    /// Every check of exactly-once, from the acknowledged commands to the
    /// last read model:
    ///
    /// - each store holds exactly the events the acknowledged commands imply
    ///   (one per command; consent also its two terms documents);
    /// - each consumer's inbox holds exactly the ids of its share of the
    ///   producer's store, and each read model one row per event;
    /// - audit-log's store holds one `PeerEventObserved` per peer event (id
    ///   UUIDv5 of the peer's) and one `UsageRecorded` per record, and its
    ///   access log one entry per audit-log event, by record id.
    pub async fn tally(&self, ledger: &Ledger) -> Vec<Tally> {
        let mut tallies = Vec::new();
        let mut stores = HashMap::new();
        for svc in Svc::ALL {
            stores.insert(svc, self.events(svc).await.expect("read the store"));
        }
        let of_type = |svc: Svc, event_type: &str| -> Vec<Stored> {
            stores[&svc]
                .iter()
                .filter(|(_, _, t)| t == event_type)
                .cloned()
                .collect()
        };
        let ids = |events: &[Stored]| events.iter().map(|(id, _, _)| *id).collect::<Vec<_>>();

        // The stores, against the acknowledgements.
        let registered = of_type(Svc::Registration, "JobSeekerRegistered");
        let expected_streams: Vec<String> = ledger
            .job_seekers
            .iter()
            .map(|id| format!("registration-{id}"))
            .collect();
        let streams: Vec<String> = registered.iter().map(|(_, s, _)| s.clone()).collect();
        tallies.push(Tally::of(
            "registration store: JobSeekerRegistered per registration",
            &expected_streams,
            &streams,
        ));
        tallies.push(Tally::of(
            "registration store: no other event",
            &ids(&registered),
            &ids(&stores[&Svc::Registration]),
        ));
        let consented = of_type(Svc::Consent, "ConsentRecorded");
        tallies.push(Tally::count(
            "consent store: ConsentRecorded per consent",
            ledger.receipts.len(),
            consented.len(),
        ));
        tallies.push(Tally::count(
            "consent store: no other event than those and the 2 terms",
            ledger.receipts.len() + 2,
            stores[&Svc::Consent].len(),
        ));
        let published = of_type(Svc::Scheduling, "SlotPublished");
        tallies.push(Tally::count(
            "scheduling store: SlotPublished per slot",
            ledger.slots.len(),
            published.len(),
        ));
        tallies.push(Tally::of(
            "scheduling store: no other event",
            &ids(&published),
            &ids(&stores[&Svc::Scheduling]),
        ));
        let usage = of_type(Svc::AuditLog, "UsageRecorded");
        let expected_usage: Vec<Uuid> = ledger
            .records
            .iter()
            .map(|r| hellowork_audit_log::ingest::usage_event_id(r))
            .collect();
        tallies.push(Tally::of(
            "audit-log store: UsageRecorded per RecordUsage",
            &expected_usage,
            &ids(&usage),
        ));
        let peer_events: Vec<Uuid> = [Svc::Registration, Svc::Consent, Svc::Scheduling]
            .iter()
            .flat_map(|s| ids(&stores[s]))
            .collect();
        let expected_observed: Vec<Uuid> = peer_events
            .iter()
            .map(|id| Uuid::new_v5(&OBSERVED_NAMESPACE, id.as_bytes()))
            .collect();
        tallies.push(Tally::of(
            "audit-log store: PeerEventObserved per peer event",
            &expected_observed,
            &ids(&of_type(Svc::AuditLog, "PeerEventObserved")),
        ));

        // Every consumer's inbox, against its share of the producer's store.
        for feed in feeds() {
            let wanted: Vec<Uuid> = stores[&feed.from]
                .iter()
                .filter(|(_, _, t)| {
                    feed.event_types
                        .is_none_or(|types| types.contains(&t.as_str()))
                })
                .map(|(id, _, _)| *id)
                .collect();
            let inbox: Vec<Uuid> = sqlx::query_scalar(&format!(
                "SELECT event_id FROM {}.consumer_inbox WHERE consumer = $1",
                feed.at.schema()
            ))
            .bind(&feed.consumer)
            .fetch_all(&self.pools[&feed.at])
            .await
            .expect("read the inbox");
            tallies.push(Tally::of(
                format!("{} inbox <- {} store", feed.consumer, feed.from),
                &wanted,
                &inbox,
            ));
        }

        // The read models, row by row.
        let registered_users: Vec<Uuid> = self
            .column(
                Svc::Consent,
                "SELECT job_seeker_id FROM {schema}.registered_job_seekers",
            )
            .await
            .expect("read registered users");
        tallies.push(Tally::of(
            "consent read model: registered_job_seekers",
            &ledger.job_seekers,
            &registered_users,
        ));
        let receipts: Vec<String> = self
            .column(
                Svc::Registration,
                "SELECT receipt_id FROM {schema}.consent_receipts",
            )
            .await
            .expect("read consent receipts");
        tallies.push(Tally::of(
            "registration read model: consent_receipts",
            &ledger.receipts,
            &receipts,
        ));
        let slots: Vec<String> = self
            .column(Svc::Scheduling, "SELECT slot_id FROM {schema}.slots")
            .await
            .expect("read slots");
        tallies.push(Tally::of(
            "scheduling read model: slots",
            &ledger.slots,
            &slots,
        ));
        let entries: Vec<(i32, Option<String>)> = sqlx::query_as(&format!(
            "SELECT kind, record_id FROM {}.access_log",
            Svc::AuditLog.schema()
        ))
        .fetch_all(&self.pools[&Svc::AuditLog])
        .await
        .expect("read the access log");
        let of_kind = |kind: i32| -> Vec<String> {
            entries
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, r)| r.clone().unwrap_or_default())
                .collect()
        };
        let expected_domain: Vec<String> = expected_observed.iter().map(Uuid::to_string).collect();
        tallies.push(Tally::of(
            "audit-log access_log: DOMAIN_EVENT per peer event",
            &expected_domain,
            &of_kind(DOMAIN_EVENT),
        ));
        tallies.push(Tally::of(
            "audit-log access_log: USAGE per RecordUsage",
            &ledger.records,
            &of_kind(USAGE),
        ));
        tallies.push(Tally::count(
            "audit-log access_log: one entry per audit-log event",
            stores[&Svc::AuditLog].len(),
            entries.len(),
        ));
        tallies
    }

    /// How many events wait in each outbox for JetStream.
    pub async fn outbox_counts(&self) -> BTreeMap<Svc, i64> {
        let mut counts = BTreeMap::new();
        for svc in Svc::ALL {
            let count = self
                .scalar(svc, "SELECT count(*) FROM {schema}.outbox")
                .await
                .unwrap_or(-1);
            counts.insert(svc, count);
        }
        counts
    }

    /// How many events each store holds.
    pub async fn store_counts(&self) -> BTreeMap<Svc, usize> {
        let mut counts = BTreeMap::new();
        for svc in Svc::ALL {
            counts.insert(svc, self.events(svc).await.expect("read the store").len());
        }
        counts
    }

    /// How many messages each service's JetStream stream holds.
    pub async fn stream_counts(stack: &FaultStack, nats_url: &str) -> BTreeMap<Svc, u64> {
        let client = async_nats::connect(nats_url)
            .await
            .expect("connect to nats");
        let jetstream = async_nats::jetstream::new(client);
        let mut counts = BTreeMap::new();
        for node in &stack.nodes {
            let mut stream = jetstream
                .get_stream(&node.env.stream_name)
                .await
                .expect("the service's stream");
            counts.insert(
                node.svc,
                stream.info().await.expect("stream info").state.messages,
            );
        }
        counts
    }
}

/// Prints the tallies and fails unless every one is exact.
pub fn assert_exactly_once(tallies: &[Tally]) {
    for tally in tallies {
        eprintln!("  {tally}");
    }
    let inexact: Vec<&Tally> = tallies.iter().filter(|t| !t.exact()).collect();
    assert!(inexact.is_empty(), "not exactly once: {inexact:#?}");
}

/// Sums of the tallies: (lost, duplicated).
pub fn losses(tallies: &[Tally]) -> (usize, usize) {
    tallies.iter().fold((0, 0), |(l, d), t| {
        (l + t.lost, d + t.duplicated + t.unexpected)
    })
}

/// Calls answered per gRPC code.
pub fn codes<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> BTreeMap<String, usize> {
    let mut codes = BTreeMap::new();
    for outcome in outcomes {
        let code = match &outcome.result {
            Ok(_) => "OK".to_owned(),
            Err(failure) => format!("{:?}", failure.code),
        };
        *codes.entry(code).or_default() += 1;
    }
    codes
}

/// Per kind of command: how many were acknowledged, and their latency
/// (median, 99th percentile, max), for the report.
pub fn latencies<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> String {
    let mut by_kind: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    for outcome in outcomes {
        if outcome.result.is_ok() {
            by_kind
                .entry(outcome.command.kind)
                .or_default()
                .push(outcome.answered.saturating_sub(outcome.sent));
        }
    }
    by_kind
        .into_iter()
        .map(|(kind, mut took)| {
            took.sort();
            let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize];
            format!(
                "{} {}× p50 {:.0?} p99 {:.0?} max {:.0?}",
                kind.rpc(),
                took.len(),
                at(0.5),
                at(0.99),
                at(1.0)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the kernel's metrics say the pipeline did, summed over the four
/// services (for the report; the assertions rest on the tables): the
/// relays' publishes by outcome (`duplicate`: JetStream already had the
/// event), their interruptions, the consumers' events by outcome
/// (`duplicate`: the inbox absorbed a redelivery; `retry`: not applied for
/// now) and JetStream's redeliveries.
pub async fn pipeline_metrics(stack: &FaultStack) -> BTreeMap<String, f64> {
    let mut sums = BTreeMap::new();
    for node in &stack.nodes {
        let Some(text) = scrape(node.process.metrics_addr).await else {
            continue;
        };
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let name = series.split('{').next().unwrap_or(series);
            let key = match name {
                "eventstore_relay_published_total" | "eventstore_consumer_events_total" => {
                    let outcome = series
                        .split("outcome=\"")
                        .nth(1)
                        .and_then(|rest| rest.split('"').next())
                        .unwrap_or("");
                    format!("{name}{{outcome={outcome}}}")
                }
                "eventstore_relay_publish_failures_total"
                | "eventstore_consumer_redeliveries_total" => name.to_owned(),
                _ => continue,
            };
            *sums.entry(key).or_default() += value.parse::<f64>().unwrap_or(0.0);
        }
    }
    sums
}

/// `GET /metrics` over plain HTTP/1.0.
async fn scrape(addr: std::net::SocketAddr) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await
        .ok()?;
    let mut body = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut body))
        .await
        .ok()?
        .ok()?;
    body.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())
}
