//! What the fault tests share: the four services as processes that can be
//! SIGKILLed (or frozen) and restarted with the same configuration, each
//! behind a TCP forwarder of the test's own so that its address never
//! changes (scheduling calls registration and consent there, and the test's
//! clients keep one channel across restarts); calls retried while a service
//! is down; a person's way up to booking; and the database checks (event
//! counts, projection snapshots, rebuilds from scratch).
#![allow(dead_code)] // each test binary uses its own subset

use std::{
    collections::BTreeMap,
    future::Future,
    net::SocketAddr,
    str::FromStr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{NaiveDate, Utc};
use hellowork_auth::Role;
use hellowork_eventstore::{
    EventStore, Projection, RebuildReport, SchemaName, StoreConfig, Upcasters, rebuild,
};
use hellowork_proto::{
    auditlog::v1::audit_log_service_client::AuditLogServiceClient,
    consent::v1::{self as consent, consent_service_client::ConsentServiceClient},
    registration::v1::{
        self as registration, registration_service_client::RegistrationServiceClient,
    },
    scheduling::v1::{self as scheduling, scheduling_service_client::SchedulingServiceClient},
};
use hellowork_testing::{ServiceEnv, ServiceProcess, passing_environment};
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::{
    net::{TcpListener, TcpStream},
    task::AbortHandle,
};
use tonic::{Code, Status, transport::Channel};

use crate::common::{date, environment, request_id, timestamp};

/// How long scheduling may take to connect to registration and consent
/// (its calls to them get what is left of the booking's deadline).
pub const PEER_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a call is retried while its service is down or catching up.
const RETRY_PATIENCE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// A stable address in front of a process that comes and goes.

/// Forwards every TCP connection made to `addr` to the current target (a
/// service process's gRPC port). While the target is down, connections are
/// accepted and closed at once, which a gRPC client sees as UNAVAILABLE.
#[derive(Debug)]
pub struct Forwarder {
    pub addr: SocketAddr,
    target: Arc<Mutex<Option<SocketAddr>>>,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Forwarder {
    pub async fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        let target: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let tasks: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (accept_target, accept_tasks) = (target.clone(), tasks.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let upstream = *accept_target.lock().unwrap();
                let connection = tokio::spawn(async move {
                    let Some(upstream) = upstream else { return };
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
                let mut tasks = accept_tasks.lock().unwrap();
                tasks.retain(|t| !t.is_finished());
                tasks.push(connection.abort_handle());
            }
        });
        tasks.lock().unwrap().push(accept.abort_handle());
        Self {
            addr,
            target,
            tasks,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn point_at(&self, upstream: SocketAddr) {
        *self.target.lock().unwrap() = Some(upstream);
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

// ---------------------------------------------------------------------------
// Signals to a service process.

/// The pid of `process`: the child of this test process started with its
/// gRPC address (`ServiceProcess` does not expose its child).
fn pid_of(process: &ServiceProcess) -> u32 {
    let needle = format!("HELLOWORK_GRPC_ADDR={}", process.grpc_addr);
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|ppid| ppid.parse::<u32>().ok());
        if ppid != Some(me) {
            continue;
        }
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if environ
            .split(|b| *b == 0)
            .any(|var| var == needle.as_bytes())
        {
            return pid;
        }
    }
    panic!("no child process listens on {}", process.grpc_addr);
}

fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Whether `pid` has exited (gone, or a zombie not yet reaped).
fn exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_none_or(|state| state == "Z" || state == "X")
    })
}

// ---------------------------------------------------------------------------
// The services.

/// One service: its environment (database, stream, keys), the exact
/// variables it is started with, the running process and the forwarder in
/// front of it. Killed and restarted through `&self`, while load runs.
#[derive(Debug)]
pub struct Service {
    // The process first: fields drop in order, so it stops before its
    // database and stream are removed.
    process: tokio::sync::Mutex<ServiceProcess>,
    forwarder: Forwarder,
    pub env: ServiceEnv,
    pub name: &'static str,
    binary: &'static str,
    health: &'static str,
    vars: Vec<(String, String)>,
    /// Lines the earlier (killed) processes wrote last, for failure reports.
    earlier_logs: Mutex<Vec<String>>,
    /// A channel through the forwarder: it outlives restarts.
    pub channel: Channel,
}

impl Service {
    fn start(
        name: &'static str,
        binary: &'static str,
        health: &'static str,
        env: ServiceEnv,
        forwarder: Forwarder,
        vars: Vec<(String, String)>,
    ) -> Self {
        let process = ServiceProcess::spawn(binary, &vars);
        forwarder.point_at(process.grpc_addr);
        let channel = Channel::from_shared(forwarder.url())
            .unwrap()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .connect_lazy();
        Self {
            process: tokio::sync::Mutex::new(process),
            forwarder,
            env,
            name,
            binary,
            health,
            vars,
            earlier_logs: Mutex::default(),
            channel,
        }
    }

    pub async fn wait_until_serving(&self) {
        self.process
            .lock()
            .await
            .wait_until_serving(self.health)
            .await;
    }

    /// SIGKILL: no drain, no clean-up; returns once the process is gone.
    pub async fn kill(&self) {
        let pid = pid_of(&*self.process.lock().await);
        signal(pid, "KILL");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !exited(pid) {
            assert!(Instant::now() < deadline, "{} survived SIGKILL", self.name);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// SIGTERM, the graceful stop; whether it exited cleanly.
    pub async fn terminate(&self) -> bool {
        self.process.lock().await.terminate().await
    }

    /// SIGSTOP: the process keeps its sockets (the kernel still accepts
    /// connections) but answers nothing until [`Service::unfreeze`].
    pub async fn freeze(&self) {
        signal(pid_of(&*self.process.lock().await), "STOP");
    }

    pub async fn unfreeze(&self) {
        signal(pid_of(&*self.process.lock().await), "CONT");
    }

    /// The same binary with the same variables (same database, stream and
    /// durable consumers), behind the same address, until SERVING.
    pub async fn restart(&self) {
        let mut process = self.process.lock().await;
        let fresh = ServiceProcess::spawn(self.binary, &self.vars);
        self.forwarder.point_at(fresh.grpc_addr);
        let old = std::mem::replace(&mut *process, fresh);
        self.earlier_logs.lock().unwrap().push(old.log_tail());
        drop(old); // reaps the killed child
        process.wait_until_serving(self.health).await;
    }

    /// The end of the current process's log and of the killed ones'.
    pub async fn logs(&self) -> String {
        let mut text = String::new();
        for (i, earlier) in self.earlier_logs.lock().unwrap().iter().enumerate() {
            text.push_str(&format!(
                "\n--- {} (process {}, killed) ---\n{earlier}\n",
                self.name,
                i + 1
            ));
        }
        text.push_str(&format!(
            "\n--- {} (current) ---\n{}\n",
            self.name,
            self.process.lock().await.log_tail()
        ));
        text
    }

    /// A request carrying a token this service trusts.
    pub fn request<T>(&self, message: T, subject: &str, role: Role) -> tonic::Request<T> {
        self.env.request(message, subject, role)
    }
}

/// Registration, consent, scheduling and audit-log as their own processes,
/// wired as in production (see `common::Stack`), each behind a forwarder.
#[derive(Debug)]
pub struct FaultStack {
    pub registration: Service,
    pub consent: Service,
    pub scheduling: Service,
    pub audit: Service,
    _keys: tempfile::TempDir,
}

impl FaultStack {
    pub async fn start() -> Self {
        let registration_env = environment("registration").await;
        let consent_env = environment("consent").await;
        let scheduling_env = environment("scheduling").await;
        let audit_env = environment("auditlog").await;
        let forwarders = [
            Forwarder::bind().await,
            Forwarder::bind().await,
            Forwarder::bind().await,
            Forwarder::bind().await,
        ];

        // Scheduling's `system` token, and registration and consent trusting it.
        let keys = tempfile::tempdir().unwrap();
        let public = keys.path().join("scheduling.pem");
        std::fs::write(&public, scheduling_env.issuer().public_key().to_pem()).unwrap();
        let token_file = keys.path().join("system.token");
        let bearer = scheduling_env.token("system:scheduling", &[Role::System]);
        std::fs::write(&token_file, bearer.trim_start_matches("Bearer ")).unwrap();
        let peer_timeout = (
            "HELLOWORK_PEER_TIMEOUT".to_owned(),
            format!("{}ms", PEER_TIMEOUT.as_millis()),
        );
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
            vars.push(peer_timeout.clone());
            vars
        };
        let mut registration_vars = trusting(&registration_env);
        registration_vars.extend(consent_env.peer_vars());
        let mut consent_vars = trusting(&consent_env);
        consent_vars.extend(registration_env.peer_vars());
        let mut scheduling_vars = scheduling_env.vars();
        scheduling_vars.extend([
            (
                "HELLOWORK_SYSTEM_TOKEN_FILE".to_owned(),
                token_file.display().to_string(),
            ),
            ("HELLOWORK_REGISTRATION_URL".to_owned(), forwarders[0].url()),
            ("HELLOWORK_CONSENT_URL".to_owned(), forwarders[1].url()),
            // Art. 7(2): the keys device identifiers are sealed to.
            ("HELLOWORK_AUDITLOG_URL".to_owned(), forwarders[3].url()),
            ("HELLOWORK_ATTENDANT_CUTOFF".to_owned(), "24h".to_owned()),
            peer_timeout.clone(),
        ]);
        // The audit-log trusts scheduling's token too (its sealing keys).
        let mut audit_vars = trusting(&audit_env);
        audit_vars.extend(registration_env.peer_vars());
        audit_vars.extend(consent_env.peer_vars());

        let [f_registration, f_consent, f_scheduling, f_audit] = forwarders;
        let stack = Self {
            consent: Service::start(
                "consent",
                "hellowork-consent",
                hellowork_consent::app::HEALTH_NAME,
                consent_env,
                f_consent,
                consent_vars,
            ),
            registration: Service::start(
                "registration",
                "hellowork-registration",
                hellowork_registration::SERVICE_NAME,
                registration_env,
                f_registration,
                registration_vars,
            ),
            scheduling: Service::start(
                "scheduling",
                "hellowork-scheduling",
                hellowork_scheduling::SERVICE_NAME,
                scheduling_env,
                f_scheduling,
                scheduling_vars,
            ),
            audit: Service::start(
                "auditlog",
                "hellowork-audit-log",
                hellowork_audit_log::SERVICE_NAME,
                audit_env,
                f_audit,
                audit_vars,
            ),
            _keys: keys,
        };
        for service in stack.services() {
            service.wait_until_serving().await;
        }
        stack
    }

    pub fn services(&self) -> [&Service; 4] {
        [
            &self.registration,
            &self.consent,
            &self.scheduling,
            &self.audit,
        ]
    }

    pub fn registrations(&self) -> RegistrationServiceClient<Channel> {
        RegistrationServiceClient::new(self.registration.channel.clone())
    }

    pub fn consents(&self) -> ConsentServiceClient<Channel> {
        ConsentServiceClient::new(self.consent.channel.clone())
    }

    pub fn schedule(&self) -> SchedulingServiceClient<Channel> {
        SchedulingServiceClient::new(self.scheduling.channel.clone())
    }

    pub fn audit_log(&self) -> AuditLogServiceClient<Channel> {
        AuditLogServiceClient::new(self.audit.channel.clone())
    }

    /// The end of every service's log, the killed processes' included.
    pub async fn logs(&self) -> String {
        let mut text = String::new();
        for service in self.services() {
            text.push_str(&service.logs().await);
        }
        text
    }

    /// Stops every service gracefully, each exiting cleanly.
    pub async fn terminate(&self) {
        for service in self.services() {
            assert!(
                service.terminate().await,
                "{} stopped cleanly",
                service.name
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Calls that ride out a service's restart.

/// Codes a call gets while its service is down, restarting or cut off mid-call.
pub fn transient(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::Unknown | Code::Cancelled | Code::DeadlineExceeded
    )
}

/// How often calls were retried, by call and code: `faults` while a
/// service was down or cut off (evidence that the faults hit the load),
/// `waits` while something was still catching up.
#[derive(Debug, Default)]
pub struct Retries {
    faults: Mutex<BTreeMap<String, u64>>,
    waits: Mutex<BTreeMap<String, u64>>,
}

impl Retries {
    fn count(&self, what: &str, status: &Status) {
        let map = if transient(status) {
            &self.faults
        } else {
            &self.waits
        };
        *map.lock()
            .unwrap()
            .entry(format!("{what} {:?}", status.code()))
            .or_default() += 1;
    }

    /// Retries because a service was down or a call was cut off.
    pub fn fault_total(&self) -> u64 {
        self.faults.lock().unwrap().values().sum()
    }

    pub fn faults(&self) -> BTreeMap<String, u64> {
        self.faults.lock().unwrap().clone()
    }

    pub fn waits(&self) -> BTreeMap<String, u64> {
        self.waits.lock().unwrap().clone()
    }
}

/// What a retried call came to.
#[derive(Debug)]
pub enum Outcome<T> {
    /// The call answered OK.
    Done(T),
    /// A retry was refused with `status` after an earlier attempt was cut off:
    /// that attempt took effect (e.g. lifting a refusal twice).
    DoneEarlier(Status),
}

/// Calls `call` until it answers; retries transient failures (the service
/// is down or restarting) and, while `also_retry` holds, other refusals (a
/// projection still catching up). Idempotent commands only: a retry repeats
/// the request id. Panics on any other error or after [`RETRY_PATIENCE`].
pub async fn retry<T, F, Fut>(
    retries: &Retries,
    what: &str,
    also_retry: impl Fn(&Status) -> bool,
    mut call: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    match retry_outcome(retries, what, also_retry, |_| false, &mut call).await {
        Outcome::Done(value) => value,
        Outcome::DoneEarlier(status) => unreachable!("{what}: {status:?}"),
    }
}

/// [`retry`], but a refusal for which `done_earlier` holds, after an earlier
/// attempt was cut off, counts as that attempt having succeeded (commands
/// that are idempotent by state only answer so when repeated).
pub async fn retry_outcome<T, F, Fut>(
    retries: &Retries,
    what: &str,
    also_retry: impl Fn(&Status) -> bool,
    done_earlier: impl Fn(&Status) -> bool,
    call: &mut F,
) -> Outcome<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let deadline = Instant::now() + RETRY_PATIENCE;
    let mut cut_off = false;
    loop {
        match call().await {
            Ok(response) => return Outcome::Done(response.into_inner()),
            Err(status) if cut_off && done_earlier(&status) => {
                return Outcome::DoneEarlier(status);
            }
            Err(status) if transient(&status) || also_retry(&status) => {
                cut_off |= transient(&status);
                retries.count(what, &status);
                assert!(
                    Instant::now() < deadline,
                    "{what} still failing after {RETRY_PATIENCE:?}: {status:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("{what} failed: {status:?}"),
        }
    }
}

pub fn never(_: &Status) -> bool {
    false
}

/// Refused because eligibility is not met yet: the deemed consent is still
/// on its way to registration's projection.
pub fn not_yet_eligible(status: &Status) -> bool {
    status.code() == Code::FailedPrecondition || status.code() == Code::PermissionDenied
}

// ---------------------------------------------------------------------------
// A person's way to a booking, each call retried.

/// The office's terms and the meeting app's terms, once in force.
#[derive(Debug, Clone)]
pub struct Terms {
    pub online_services: consent::TermsDocument,
    pub meeting_app: consent::TermsDocument,
}

pub async fn publish_terms(stack: &FaultStack, retries: &Retries) -> Terms {
    let consent = &stack.consent;
    let effective = NaiveDate::from_ymd_opt(2023, 12, 18).unwrap();
    let terms = consent::PublishTermsDocumentRequest {
        request_id: request_id(),
        version: "2023-12-18".into(),
        language: "ja".into(),
        title: "オンラインを活用したサービス利用規約".into(),
        full_text: "第1条 (test text standing in for the office's terms)".into(),
        sha256: String::new(),
        established_date: Some(date(NaiveDate::from_ymd_opt(2021, 3, 1).unwrap())),
        revised_date: Some(date(effective)),
        effective_date: Some(date(effective)),
    };
    let online_services = retry(retries, "PublishTermsDocument", never, || {
        let mut client = stack.consents();
        let request = consent.request(terms.clone(), "operator-1", Role::Operator);
        async move { client.publish_terms_document(request).await }
    })
    .await
    .terms_document
    .unwrap();
    let app = consent::PublishMeetingAppTermsRequest {
        request_id: request_id(),
        meeting_app_name: "Designated meeting app".into(),
        version: "2024-04-01".into(),
        language: "ja".into(),
        title: "Meeting app terms".into(),
        full_text: "The meeting app's terms.".into(),
        sha256: String::new(),
        effective_date: Some(date(NaiveDate::from_ymd_opt(2024, 4, 1).unwrap())),
        source_uri: String::new(),
    };
    let meeting_app = retry(retries, "PublishMeetingAppTerms", never, || {
        let mut client = stack.consents();
        let request = consent.request(app.clone(), "operator-1", Role::Operator);
        async move { client.publish_meeting_app_terms(request).await }
    })
    .await
    .terms_document
    .unwrap();
    Terms {
        online_services,
        meeting_app,
    }
}

/// A person registered online, their device and environment attested, and
/// their application for online services made (consent then records the
/// deemed consent on its own). Their job-seeker id.
pub async fn register_and_apply(
    stack: &FaultStack,
    retries: &Retries,
    email: &str,
    terms: &Terms,
) -> String {
    let service = &stack.registration;
    let register = registration::RegisterJobSeekerRequest {
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
            email: email.into(),
            phone_number: String::new(),
        }),
        provisional: false,
    };
    let seeker = retry(retries, "RegisterJobSeeker", never, || {
        let mut client = stack.registrations();
        let request = service.request(register.clone(), "front-system", Role::JobSeeker);
        async move { client.register_job_seeker(request).await }
    })
    .await
    .job_seeker
    .unwrap()
    .job_seeker_id;

    let device = registration::AttestDeviceRequest {
        request_id: request_id(),
        job_seeker_id: seeker.clone(),
        device_kind: registration::DeviceKind::Pc.into(),
        owned: true,
        has_webcam: true,
        can_prepare_meeting_app: true,
    };
    let device = retry(retries, "AttestDevice", never, || {
        let mut client = stack.registrations();
        let request = service.request(device.clone(), &seeker, Role::JobSeeker);
        async move { client.attest_device(request).await }
    })
    .await
    .device_attestation
    .unwrap();

    let environment = registration::AttestEnvironmentRequest {
        request_id: request_id(),
        job_seeker_id: seeker.clone(),
        device_attestation_id: device.device_attestation_id,
        report: Some(passing_environment()),
    };
    retry(retries, "AttestEnvironment", never, || {
        let mut client = stack.registrations();
        let request = service.request(environment.clone(), &seeker, Role::JobSeeker);
        async move { client.attest_environment(request).await }
    })
    .await;

    let apply = registration::ApplyForOnlineServicesRequest {
        request_id: request_id(),
        job_seeker_id: seeker.clone(),
        terms_version: terms.online_services.version.clone(),
        terms_sha256: terms.online_services.sha256.clone(),
        meeting_app_terms_version: terms.meeting_app.version.clone(),
        meeting_app_terms_sha256: terms.meeting_app.sha256.clone(),
        language: "ja".into(),
    };
    retry(retries, "ApplyForOnlineServices", never, || {
        let mut client = stack.registrations();
        let request = service.request(apply.clone(), &seeker, Role::JobSeeker);
        async move { client.apply_for_online_services(request).await }
    })
    .await;
    seeker
}

/// A counsellor's one-seat counselling slot `[start, start + length)`.
pub async fn publish_slot(
    stack: &FaultStack,
    retries: &Retries,
    counsellor: &str,
    start: chrono::DateTime<Utc>,
    length: chrono::Duration,
) -> scheduling::Slot {
    let publish = scheduling::PublishAvailabilityRequest {
        request_id: request_id(),
        counsellor_id: counsellor.into(),
        offering: scheduling::Offering::Counselling.into(),
        start_time: Some(timestamp(start)),
        end_time: Some(timestamp(start + length)),
        slot_length: None,
        capacity: 1,
    };
    retry(retries, "PublishAvailability", never, || {
        let mut client = stack.schedule();
        let request = stack
            .scheduling
            .request(publish.clone(), counsellor, Role::Counsellor);
        async move { client.publish_availability(request).await }
    })
    .await
    .slots
    .remove(0)
}

/// Waits until the person may book: registration answers eligible, the
/// deemed consent having reached its projection of consent's events.
pub async fn wait_until_eligible(stack: &FaultStack, retries: &Retries, seeker: &str) {
    let deadline = Instant::now() + RETRY_PATIENCE;
    loop {
        let check = registration::CheckEligibilityRequest {
            job_seeker_id: seeker.to_owned(),
            at: None,
        };
        let answer = retry(retries, "CheckEligibility", never, || {
            let mut client = stack.registrations();
            let request =
                stack
                    .registration
                    .request(check.clone(), "system:scheduling", Role::System);
            async move { client.check_eligibility(request).await }
        })
        .await;
        if answer.eligible {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{seeker} never became eligible: {:?}",
            answer.unmet_conditions
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A booking request of `seeker` for `slot`.
pub fn booking_request(seeker: &str, slot: &scheduling::Slot) -> scheduling::BookSessionRequest {
    scheduling::BookSessionRequest {
        request_id: request_id(),
        slot_id: slot.slot_id.clone(),
        job_seeker_id: seeker.to_owned(),
        attendants: Vec::new(),
    }
}

/// Books `slot` for `seeker`, waiting while they are not eligible yet; the
/// booking's id.
pub async fn book(
    stack: &FaultStack,
    retries: &Retries,
    seeker: &str,
    slot: &scheduling::Slot,
) -> String {
    let book = booking_request(seeker, slot);
    retry(retries, "BookSession", not_yet_eligible, || {
        let mut client = stack.schedule();
        let request = stack
            .scheduling
            .request(book.clone(), seeker, Role::JobSeeker);
        async move { client.book_session(request).await }
    })
    .await
    .booking
    .expect("a booking")
    .booking_id
}

/// The device a person joins from.
pub fn device_of(seeker: &str) -> scheduling::DeviceIdentifiers {
    scheduling::DeviceIdentifiers {
        device_id: format!("device-{seeker}"),
        ip_address: "203.0.113.9".into(),
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0".into(),
        os_name: "Windows".into(),
        os_version: "11".into(),
    }
}

/// The checklist (Art. 12(4)) and both acknowledgements (Art. 12(2),
/// 12(3)): idempotent by the booking's state, so a repeat after a cut-off
/// call writes nothing.
pub async fn prepare_to_join(stack: &FaultStack, retries: &Retries, seeker: &str, booking: &str) {
    let service = &stack.scheduling;
    let checklist = scheduling::CompletePreSessionChecklistRequest {
        booking_id: booking.to_owned(),
        confirmed_items: (1..=6).collect(),
    };
    retry(retries, "CompletePreSessionChecklist", never, || {
        let mut client = stack.schedule();
        let request = service.request(checklist.clone(), seeker, Role::JobSeeker);
        async move { client.complete_pre_session_checklist(request).await }
    })
    .await;
    let room = scheduling::AcknowledgePrivateRoomRequest {
        booking_id: booking.to_owned(),
    };
    retry(retries, "AcknowledgePrivateRoom", never, || {
        let mut client = stack.schedule();
        let request = service.request(room.clone(), seeker, Role::JobSeeker);
        async move { client.acknowledge_private_room(request).await }
    })
    .await;
    let recording = scheduling::AcknowledgeNoRecordingRequest {
        booking_id: booking.to_owned(),
    };
    retry(retries, "AcknowledgeNoRecording", never, || {
        let mut client = stack.schedule();
        let request = service.request(recording.clone(), seeker, Role::JobSeeker);
        async move { client.acknowledge_no_recording(request).await }
    })
    .await;
}

/// The person joins (idempotent by state); the booking's state after.
pub async fn join(
    stack: &FaultStack,
    retries: &Retries,
    seeker: &str,
    booking: &str,
) -> scheduling::BookingState {
    let join = scheduling::JoinSessionRequest {
        booking_id: booking.to_owned(),
        device: Some(device_of(seeker)),
        sealed_device: None,
    };
    retry(retries, "JoinSession", never, || {
        let mut client = stack.schedule();
        let request = stack
            .scheduling
            .request(join.clone(), seeker, Role::JobSeeker);
        async move { client.join_session(request).await }
    })
    .await
    .booking
    .expect("the booking")
    .state()
}

/// The person leaves (idempotent by state); the booking's state after.
pub async fn leave(
    stack: &FaultStack,
    retries: &Retries,
    seeker: &str,
    booking: &str,
) -> scheduling::BookingState {
    let leave = scheduling::LeaveSessionRequest {
        booking_id: booking.to_owned(),
        device: Some(device_of(seeker)),
        sealed_device: None,
    };
    retry(retries, "LeaveSession", never, || {
        let mut client = stack.schedule();
        let request = stack
            .scheduling
            .request(leave.clone(), seeker, Role::JobSeeker);
        async move { client.leave_session(request).await }
    })
    .await
    .booking
    .expect("the booking")
    .state()
}

// ---------------------------------------------------------------------------
// The databases.

/// Runs a read query, retrying for a while if the database refuses (the
/// shared server can run short of connections while other tests run).
async fn patiently<T, F, Fut>(what: &str, mut query: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match query().await {
            Ok(value) => return value,
            Err(error) if Instant::now() < deadline => {
                eprintln!("{what}: {error}; trying again");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(error) => panic!("{what}: {error}"),
        }
    }
}

/// A connection pool to one service's schema in its database, and where it is.
#[derive(Debug, Clone)]
pub struct ServiceDb {
    pub pool: PgPool,
    pub schema: String,
    url: String,
}

impl ServiceDb {
    pub async fn connect(service: &Service) -> Self {
        let schema = service.name.to_owned();
        let url = service.env.database.url.clone();
        let pool = hellowork_eventstore::connect(
            PgConnectOptions::from_str(&url).unwrap(),
            &SchemaName::new(schema.clone()).unwrap(),
            PgPoolOptions::new().max_connections(4),
        )
        .await
        .expect("connect to the service's schema");
        Self { pool, schema, url }
    }

    /// How many events of each type the store holds.
    pub async fn event_counts(&self) -> BTreeMap<String, i64> {
        patiently("count events", || {
            sqlx::query_as::<_, (String, i64)>(
                "SELECT event_type, count(*) FROM events GROUP BY event_type",
            )
            .fetch_all(&self.pool)
        })
        .await
        .into_iter()
        .collect()
    }

    pub async fn event_total(&self) -> i64 {
        patiently("count events", || {
            sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&self.pool)
        })
        .await
    }

    /// Events not yet acknowledged by JetStream.
    pub async fn outbox(&self) -> i64 {
        patiently("count the outbox", || {
            sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&self.pool)
        })
        .await
    }

    /// Event ids `consumer` has applied.
    pub async fn inbox(&self, consumer: &str) -> i64 {
        patiently("count an inbox", || {
            sqlx::query_scalar("SELECT count(*) FROM consumer_inbox WHERE consumer = $1")
                .bind(consumer)
                .fetch_one(&self.pool)
        })
        .await
    }

    /// Every row of each table as JSON, sorted: equal snapshots mean equal
    /// tables, column for column.
    pub async fn snapshot(&self, tables: &[&str]) -> BTreeMap<String, Vec<String>> {
        let mut snapshot = BTreeMap::new();
        for table in tables {
            let query = format!("SELECT row_to_json(t)::text AS row FROM {table} t ORDER BY 1");
            let rows: Vec<String> = patiently(&format!("snapshot {}.{table}", self.schema), || {
                sqlx::query_scalar(&query).fetch_all(&self.pool)
            })
            .await;
            snapshot.insert((*table).to_owned(), rows);
        }
        snapshot
    }

    /// The store as the service constructs it.
    pub fn store(&self) -> EventStore {
        EventStore::new(
            self.pool.clone(),
            StoreConfig::new(self.schema.clone()),
            Upcasters::new(),
        )
    }

    /// A store that reads `source`'s events but whose every other table is
    /// this service's: for rebuilding a projection of another service's
    /// events. Each service has a database of its own, so `source`'s events
    /// are copied, as they are now, into a schema `replay_<source>` of this
    /// database that holds nothing but `events`; the store's connections
    /// search it first and this service's schema second.
    pub async fn store_of_events_of(&self, source: &ServiceDb) -> EventStore {
        let events: String =
            sqlx::query_scalar("SELECT coalesce(json_agg(e), '[]')::text FROM events e")
                .fetch_one(&source.pool)
                .await
                .unwrap();
        let replay = format!("replay_{}", source.schema);
        for statement in [
            format!("CREATE SCHEMA IF NOT EXISTS {replay}"),
            format!("DROP TABLE IF EXISTS {replay}.events"),
            format!("CREATE TABLE {replay}.events (LIKE {}.events)", self.schema),
        ] {
            sqlx::query(&statement)
                .execute(&self.pool)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        sqlx::query(&format!(
            "INSERT INTO {replay}.events \
             SELECT * FROM json_populate_recordset(NULL::{replay}.events, $1::json)"
        ))
        .bind(events)
        .execute(&self.pool)
        .await
        .unwrap();
        let search_path = format!("{replay},{}", self.schema);
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(
                PgConnectOptions::from_str(&self.url)
                    .unwrap()
                    .options([("search_path", search_path.as_str())]),
            )
            .await
            .unwrap();
        EventStore::new(
            pool,
            StoreConfig::new(source.schema.clone()),
            Upcasters::new(),
        )
    }

    /// Events `consumer` (in `self`) applied after an event that `source`
    /// committed later: a message redelivered after later ones (a consumer
    /// killed before acknowledging it gets it back only after JetStream's ack
    /// wait). Their types, in the order they were applied. Read before any
    /// rebuild, which rewrites the inbox.
    pub async fn applied_out_of_order(&self, consumer: &str, source: &ServiceDb) -> Vec<String> {
        let committed: Vec<(String, String)> = sqlx::query_as(
            "SELECT event_id::text, event_type FROM events ORDER BY transaction_id, position",
        )
        .fetch_all(&source.pool)
        .await
        .unwrap();
        let order: BTreeMap<String, (usize, String)> = committed
            .into_iter()
            .enumerate()
            .map(|(i, (id, event_type))| (id, (i, event_type)))
            .collect();
        let applied: Vec<String> = sqlx::query_scalar(
            "SELECT event_id::text FROM consumer_inbox WHERE consumer = $1 \
             ORDER BY processed_at, event_id",
        )
        .bind(consumer)
        .fetch_all(&self.pool)
        .await
        .unwrap();
        let mut latest = None;
        let mut late = Vec::new();
        for id in applied {
            let Some((index, event_type)) = order.get(&id) else {
                continue;
            };
            if latest.is_some_and(|latest| *index < latest) {
                late.push(event_type.clone());
            }
            latest = latest.max(Some(*index));
        }
        late
    }
}

/// What rebuilding one projection from scratch found.
#[derive(Debug)]
pub struct RebuildCheck {
    pub projection: String,
    pub report: RebuildReport,
    /// Per table: rows only live, rows only rebuilt.
    pub differences: BTreeMap<String, (Vec<String>, Vec<String>)>,
}

/// Rebuilds `projection` from `store` and compares its `tables` with `live`
/// (the snapshot taken before any rebuild).
pub async fn rebuild_and_compare<P: Projection>(
    db: &ServiceDb,
    store: &EventStore,
    projection: &P,
    tables: &[&str],
    live: &BTreeMap<String, Vec<String>>,
) -> RebuildCheck {
    let report = rebuild(store, projection)
        .await
        .unwrap_or_else(|e| panic!("rebuild {}: {e:?}", projection.name()));
    let rebuilt = db.snapshot(tables).await;
    let mut differences = BTreeMap::new();
    for table in tables {
        let live_rows = &live[*table];
        let rebuilt_rows = &rebuilt[*table];
        if live_rows != rebuilt_rows {
            let only_live = live_rows
                .iter()
                .filter(|r| !rebuilt_rows.contains(r))
                .cloned()
                .collect();
            let only_rebuilt = rebuilt_rows
                .iter()
                .filter(|r| !live_rows.contains(r))
                .cloned()
                .collect();
            differences.insert((*table).to_owned(), (only_live, only_rebuilt));
        }
    }
    RebuildCheck {
        projection: format!("{}.{}", db.schema, projection.name()),
        report,
        differences,
    }
}

/// Polls `check` until it holds, or panics with what it last said.
pub async fn poll_until<F, Fut>(what: &str, patience: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + patience;
    loop {
        match check().await {
            Ok(()) => return,
            Err(state) => assert!(
                Instant::now() < deadline,
                "{what} not reached within {patience:?}: {state}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
