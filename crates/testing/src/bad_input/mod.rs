//! Bad input for any service (issue "Step 7 — Bad input"): every RPC of a
//! service, enumerated from its contract (the descriptor set of
//! `hellowork-proto`), called with generated requests and a valid token of a
//! role its contract allows (the `Roles:` line of the RPC's comment), and
//! with bad tokens. Whatever arrives:
//!
//! - the service answers OK (some random requests are valid), or
//!   INVALID_ARGUMENT with a `BadRequest` listing field violations, or a
//!   refusal with details: FAILED_PRECONDITION (with `ErrorInfo` and
//!   `PreconditionFailure` naming the article, or a `PreconditionFailure`
//!   of type `STATE` for a state the request does not fit), NOT_FOUND /
//!   ALREADY_EXISTS with `ResourceInfo`, PERMISSION_DENIED with `ErrorInfo`;
//!   never INTERNAL, UNKNOWN or UNAVAILABLE, never a dropped connection;
//! - a call that is not OK writes nothing: the count of the service's
//!   events is the same after it;
//! - the service still answers health afterwards.
//!
//! Bytes that are not a protobuf message of the request type (prost refuses
//! them) are sent too. The codec of `hellowork-proto` answers those before
//! any handler runs, like any other invalid input: INVALID_ARGUMENT with a
//! field violation naming the field prost stopped in.
//!
//! The one answer without details is OUT_OF_RANGE for a message over the
//! size limit ([`Outcome::TooLarge`]): tonic checks the frame's length
//! prefix against the limit before any codec sees the bytes, so no code of
//! ours can answer it otherwise.
//!
//! Cases per RPC: 64, or `PROPTEST_CASES`. A failing case is shrunk by
//! proptest and reported with its request, decoded field by field.

mod dynamic;
mod generate;
mod judge;
mod raw;

use std::{
    collections::BTreeMap,
    fmt,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use hellowork_auth::{CallingService, Claims, MintRequest, Role, TokenIssuer};
use proptest::{
    collection::vec,
    prelude::*,
    sample::select,
    strategy::Union,
    test_runner::{Config, TestCaseError, TestError, TestRunner},
};
use tonic::{
    Status, codegen::http::uri::PathAndQuery, metadata::AsciiMetadataValue, transport::Channel,
};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use uuid::Uuid;

pub use dynamic::{Msg, Types};
pub use generate::{Generator, Hints, Payload};
pub use judge::{MAX_MESSAGE_BYTES, Outcome, judge};
pub use raw::RawCodec;

use crate::ServiceEnv;

/// Cases per RPC unless `PROPTEST_CASES` says otherwise.
pub const DEFAULT_CASES: u32 = 64;

/// How long one call may take before it counts as a hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long health may report NOT_SERVING before it counts as a failure.
const READINESS_GRACE: Duration = Duration::from_secs(2);

/// One RPC of a service, as its contract declares it.
#[derive(Debug, Clone)]
pub struct Rpc {
    pub method: String,
    /// `/pkg.Service/Method`.
    pub path: String,
    /// `.pkg.Request`.
    pub input_type: String,
    pub client_streaming: bool,
    /// The roles its comment's `Roles:` line names.
    pub roles: Vec<Role>,
}

/// Every RPC of `service` (`hellowork.registration.v1.RegistrationService`),
/// with the roles its comment allows. Panics if the service is unknown or an
/// RPC documents no roles.
pub fn rpcs(service: &str) -> Vec<Rpc> {
    let files = dynamic::descriptor_set();
    for file in &files.file {
        for (si, svc) in file.service.iter().enumerate() {
            if format!("{}.{}", file.package(), svc.name()) != service {
                continue;
            }
            return svc
                .method
                .iter()
                .enumerate()
                .map(|(mi, method)| {
                    let path = [6, si as i32, 2, mi as i32];
                    let comment = file
                        .source_code_info
                        .as_ref()
                        .and_then(|info| info.location.iter().find(|l| l.path == path))
                        .map(|l| l.leading_comments().to_owned())
                        .unwrap_or_default();
                    let roles = roles_in(&comment);
                    assert!(
                        !roles.is_empty(),
                        "{service}/{} documents no `Roles:` line",
                        method.name()
                    );
                    Rpc {
                        method: method.name().to_owned(),
                        path: format!("/{service}/{}", method.name()),
                        input_type: method.input_type().to_owned(),
                        client_streaming: method.client_streaming(),
                        roles,
                    }
                })
                .collect();
        }
    }
    panic!("no service {service} in the descriptor set")
}

/// The roles named on the `Roles:` line of an RPC comment.
fn roles_in(comment: &str) -> Vec<Role> {
    let Some(line) = comment
        .lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("Roles:"))
    else {
        return Vec::new();
    };
    let words: Vec<&str> = line
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    Role::ALL
        .into_iter()
        .filter(|role| words.contains(&role.as_str()))
        .collect()
}

/// The running service under test.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Full protobuf name, e.g. `hellowork.consent.v1.ConsentService`.
    pub service: &'a str,
    /// The name it reports on gRPC health.
    pub health: &'a str,
    /// Its Postgres schema, whose `events` table must not grow on refusals.
    pub schema: &'a str,
    pub addr: SocketAddr,
    /// Mints its tokens.
    pub env: &'a ServiceEnv,
    /// RPCs whose refusals of an authenticated caller are on record by
    /// design, with the one event type each refusal writes (Art. 7(2): a
    /// refused disclosure). Invalid requests and bad tokens of these RPCs
    /// still write nothing.
    pub recorded_refusals: &'a [(&'a str, &'a str)],
}

/// A multi-threaded runtime for a bad-input test: the service runs on its
/// workers while proptest drives cases from the test thread with
/// `block_on`.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// A connection to the service under test and to its database.
struct Session<'a> {
    target: Target<'a>,
    channel: Channel,
    pool: sqlx::PgPool,
}

impl<'a> Session<'a> {
    async fn open(target: Target<'a>) -> Self {
        let channel = Channel::from_shared(format!("http://{}", target.addr))
            .expect("a valid address")
            .connect()
            .await
            .expect("connect to the service under test");
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&target.env.database.url)
            .await
            .expect("connect to the service's database");
        Self {
            target,
            channel,
            pool,
        }
    }

    async fn events(&self) -> i64 {
        sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {}.events",
            self.target.schema
        ))
        .fetch_one(&self.pool)
        .await
        .expect("count the service's events")
    }

    /// Waits until the event count holds still for a moment (2 s at most).
    async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut count = self.events().await;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
            let now = self.events().await;
            if now == count {
                return;
            }
            count = now;
        }
    }

    /// The last `n` events: type and correlation id, for a report.
    async fn last_events(&self, n: i64) -> Vec<(String, String)> {
        sqlx::query_as(&format!(
            "SELECT event_type, correlation_id::text FROM {}.events ORDER BY position DESC LIMIT $1",
            self.target.schema
        ))
        .bind(n)
        .fetch_all(&self.pool)
        .await
        .expect("read the service's events")
    }

    /// Health answers, and SERVING within [`READINESS_GRACE`]: readiness
    /// probes PostgreSQL every 100 ms in tests and reports NOT_SERVING for
    /// one probe slower than that, which a loaded machine (two test worlds
    /// in parallel) sometimes takes; a service broken by bad input stays
    /// down or stops answering.
    async fn healthy(&self) -> Result<(), String> {
        let deadline = Instant::now() + READINESS_GRACE;
        loop {
            let answer = tokio::time::timeout(
                CALL_TIMEOUT,
                HealthClient::new(self.channel.clone()).check(HealthCheckRequest {
                    service: self.target.health.to_owned(),
                }),
            )
            .await
            .map_err(|_| "health check timed out".to_owned())?
            .map_err(|s| format!("health check failed: {s:?}"))?;
            match answer.into_inner().status() {
                ServingStatus::Serving => return Ok(()),
                other if Instant::now() >= deadline => {
                    return Err(format!("health is {other:?} for {READINESS_GRACE:?}"));
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Calls `rpc` with `messages` (one for a unary RPC) as they are.
    async fn call(
        &self,
        rpc: &Rpc,
        messages: Vec<Vec<u8>>,
        authorization: Option<AsciiMetadataValue>,
        correlation: Uuid,
    ) -> Result<Vec<u8>, Status> {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready()
            .await
            .map_err(|e| Status::unknown(format!("channel not ready: {e}")))?;
        let path = PathAndQuery::try_from(rpc.path.as_str()).expect("a valid path");
        let decorate = |metadata: &mut tonic::metadata::MetadataMap| {
            if let Some(value) = authorization.clone() {
                metadata.insert("authorization", value);
            }
            metadata.insert(
                "x-correlation-id",
                correlation
                    .to_string()
                    .parse()
                    .expect("a UUID is valid metadata"),
            );
        };
        let call = async {
            if rpc.client_streaming {
                let mut request = tonic::Request::new(tokio_stream::iter(messages));
                decorate(request.metadata_mut());
                grpc.client_streaming(request, path, RawCodec).await
            } else {
                let message = messages.into_iter().next().unwrap_or_default();
                let mut request = tonic::Request::new(message);
                decorate(request.metadata_mut());
                grpc.unary(request, path, RawCodec).await
            }
        };
        match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Ok(result) => result.map(tonic::Response::into_inner),
            Err(_) => Err(Status::deadline_exceeded("the call did not finish in 10 s")),
        }
    }

    /// One call, judged: its outcome, checked to have written nothing
    /// unless OK, with the service healthy afterwards.
    async fn check(
        &self,
        rpc: &Rpc,
        messages: Vec<Vec<u8>>,
        authorization: Option<AsciiMetadataValue>,
    ) -> Result<Outcome, String> {
        let before = self.events().await;
        let correlation = Uuid::now_v7();
        let largest = messages.iter().map(Vec::len).max().unwrap_or(0);
        let result = self.call(rpc, messages, authorization, correlation).await;
        let outcome = judge(&result, largest);
        if matches!(outcome, Ok(Outcome::Ok)) {
            // What an accepted call's events set off (process managers)
            // settles before the next call counts events.
            if self.events().await != before {
                self.settle().await;
            }
        } else {
            let after = self.events().await;
            let recorded = self
                .target
                .recorded_refusals
                .iter()
                .find(|(method, _)| *method == rpc.method)
                .map(|(_, event_type)| *event_type);
            let written = if after == before {
                Vec::new()
            } else {
                self.last_events(after - before).await
            };
            let on_record = |written: &[(String, String)]| {
                matches!(written, [(event_type, id)]
                    if Some(event_type.as_str()) == recorded && *id == correlation.to_string())
            };
            let may_record = matches!(
                outcome,
                Ok(Outcome::Refused
                    | Outcome::State
                    | Outcome::NotFound
                    | Outcome::PermissionDenied)
            );
            if after != before && !(may_record && on_record(&written)) {
                return Err(format!(
                    "{} answered {:?} but {} event(s) were written (type, correlation id): {written:?}; this call's correlation id is {correlation}",
                    rpc.method,
                    result.err().map(|s| (s.code(), s.message().to_owned())),
                    after - before
                ));
            }
        }
        self.healthy()
            .await
            .map_err(|e| format!("after {}: {e}", rpc.method))?;
        outcome
    }
}

/// Outcomes per RPC.
#[derive(Debug, Default)]
pub struct Report {
    pub counts: BTreeMap<String, BTreeMap<Outcome, u32>>,
    /// Time spent per RPC.
    pub times: BTreeMap<String, Duration>,
    /// Of the cases per RPC, how many were the one-field sweep of its seeds.
    pub swept: BTreeMap<String, u32>,
    pub failures: Vec<String>,
    pub elapsed: Duration,
}

impl Report {
    /// Cases run in all.
    pub fn total(&self) -> u32 {
        self.counts.values().flat_map(|c| c.values()).sum()
    }

    /// Panics with every failure, if any.
    pub fn assert_passed(&self) {
        assert!(
            self.failures.is_empty(),
            "{} RPC(s) failed on bad input:\n\n{}",
            self.failures.len(),
            self.failures.join("\n\n")
        );
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels = [
            Outcome::Ok,
            Outcome::Invalid,
            Outcome::Refused,
            Outcome::State,
            Outcome::NotFound,
            Outcome::AlreadyExists,
            Outcome::PermissionDenied,
            Outcome::Unauthenticated,
            Outcome::TooLarge,
        ];
        write!(
            f,
            "{:<30} {:>6} {:>6} {:>6}",
            "rpc", "secs", "cases", "sweep"
        )?;
        for label in &labels {
            write!(f, " {:>11}", label.label())?;
        }
        writeln!(f)?;
        for (method, counts) in &self.counts {
            let secs = self.times.get(method).map_or(0.0, Duration::as_secs_f64);
            let swept = self.swept.get(method).copied().unwrap_or(0);
            write!(
                f,
                "{method:<30} {secs:>6.1} {:>6} {swept:>6}",
                counts.values().sum::<u32>()
            )?;
            for label in &labels {
                write!(f, " {:>11}", counts.get(label).copied().unwrap_or(0))?;
            }
            writeln!(f)?;
        }
        write!(
            f,
            "{} cases in {:.1} s, {} failure(s)",
            self.total(),
            self.elapsed.as_secs_f64(),
            self.failures.len()
        )
    }
}

/// One generated call: who calls and what they send.
#[derive(Clone)]
struct Case {
    role: Role,
    subject: String,
    payloads: Vec<Payload>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "as {} {:?}: {:?}",
            self.role, self.subject, self.payloads
        )
    }
}

/// The subjects of every service: a system token names one of them or is
/// refused before any RPC sees it.
fn service_subjects() -> Vec<String> {
    CallingService::ALL.iter().map(|s| s.subject()).collect()
}

/// Who calls: an allowed role, and a subject the test named for that role
/// (3 times in 4) or a random one (for `system`, any service's).
fn callers(roles: &[Role], hints: &Hints) -> BoxedStrategy<(Role, String)> {
    let arms: Vec<BoxedStrategy<(Role, String)>> = roles
        .iter()
        .map(|&role| {
            let random = if role == Role::System {
                select(service_subjects())
                    .prop_map(move |s| (role, s))
                    .boxed()
            } else {
                "[a-z0-9:-]{1,24}".prop_map(move |s| (role, s)).boxed()
            };
            match hints.subjects.get(&role) {
                Some(known) if !known.is_empty() => prop_oneof![
                    3 => select(known.clone()).prop_map(move |s| (role, s)),
                    1 => random,
                ]
                .boxed(),
                _ => random,
            }
        })
        .collect();
    Union::new(arms).boxed()
}

/// Runs `cases` generated requests against every RPC of the target (valid
/// tokens of allowed roles) and returns what it answered; failures are in
/// the report, each with its shrunk case.
pub fn every_rpc(runtime: &tokio::runtime::Runtime, target: Target<'_>, hints: Hints) -> Report {
    let started = Instant::now();
    let session = runtime.block_on(Session::open(target));
    let types = Arc::new(Types::new(&dynamic::descriptor_set()));
    let hints = Arc::new(hints);
    let generator = Generator::new(types.clone(), hints.clone());
    let mut report = Report::default();
    for rpc in rpcs(target.service) {
        let rpc_started = Instant::now();
        let payload = generator.payload(&rpc.method, &rpc.input_type);
        let payloads = if rpc.client_streaming {
            vec(payload, 0..4).boxed()
        } else {
            payload.prop_map(|p| vec![p]).boxed()
        };
        let strategy =
            (callers(&rpc.roles, &hints), payloads).prop_map(|((role, subject), payloads)| Case {
                role,
                subject,
                payloads,
            });
        let counts = Mutex::new(BTreeMap::<Outcome, u32>::new());
        let swept = sweep(
            runtime,
            &session,
            &rpc,
            &types,
            &hints,
            &counts,
            &mut report.failures,
        );
        report.swept.insert(rpc.method.clone(), swept);
        let mut runner = TestRunner::new(Config {
            cases: cases(),
            failure_persistence: None,
            max_shrink_iters: 200,
            ..Config::default()
        });
        let result = runner.run(&strategy, |case| {
            let token = target.env.token(&case.subject, &[case.role]);
            let authorization = token.parse().map_err(|e| {
                TestCaseError::fail(format!("a minted token is not header text: {e}"))
            })?;
            let messages = case.payloads.iter().map(Payload::bytes).collect();
            let outcome = runtime
                .block_on(session.check(&rpc, messages, Some(authorization)))
                .map_err(TestCaseError::fail)?;
            *counts.lock().unwrap().entry(outcome).or_default() += 1;
            Ok(())
        });
        if let Err(error) = result {
            report.failures.push(match error {
                TestError::Fail(reason, case) => {
                    format!("{}: {reason}\n  minimal case: {case:?}", rpc.method)
                }
                TestError::Abort(reason) => format!("{}: aborted: {reason}", rpc.method),
            });
        }
        report
            .counts
            .insert(rpc.method.clone(), counts.into_inner().unwrap());
        report
            .times
            .insert(rpc.method.clone(), rpc_started.elapsed());
    }
    if let Err(e) = runtime.block_on(session.healthy()) {
        report.failures.push(format!("after all cases: {e}"));
    }
    report.elapsed = started.elapsed();
    report
}

/// Strings every text field of a valid request is set to, one field at a
/// time: empty, with NUL (which PostgreSQL text refuses), control and
/// bidi-override characters, and 10 000 characters of kana.
fn nasty_strings() -> Vec<String> {
    vec![
        String::new(),
        "x\0y".to_owned(),
        "\u{202e}\u{0301}\u{feff}\u{7}".to_owned(),
        "あ".repeat(10_000),
    ]
}

/// Copies of `msg` with one string, at any depth, replaced by `with`.
fn one_string_replaced(msg: &Msg, with: &str) -> Vec<Msg> {
    let mut copies = Vec::new();
    for (f, field) in msg.fields.iter().enumerate() {
        for (v, value) in field.values.iter().enumerate() {
            let replacements = match value {
                dynamic::Value::Str(_) => vec![dynamic::Value::Str(with.to_owned())],
                dynamic::Value::Message(nested) => one_string_replaced(nested, with)
                    .into_iter()
                    .map(dynamic::Value::Message)
                    .collect(),
                _ => Vec::new(),
            };
            for replacement in replacements {
                let mut copy = msg.clone();
                copy.fields[f].values[v] = replacement;
                copies.push(copy);
            }
        }
    }
    copies
}

/// The caller a seed is sent as: the first role (with a subject the test
/// named for it, else a made-up one) that is not refused outright.
fn seed_caller(
    runtime: &tokio::runtime::Runtime,
    session: &Session<'_>,
    rpc: &Rpc,
    hints: &Hints,
    seed: &[u8],
) -> Option<(Role, String)> {
    let candidates = rpc.roles.iter().flat_map(|&role| {
        let known = hints.subjects.get(&role).cloned().unwrap_or_default();
        let fallback = if role == Role::System {
            service_subjects()
        } else {
            vec![format!("{role}-sweep")]
        };
        known
            .into_iter()
            .chain(fallback)
            .map(move |subject| (role, subject))
    });
    for (role, subject) in candidates {
        let authorization = session.target.env.token(&subject, &[role]).parse().ok();
        let outcome = runtime.block_on(session.check(rpc, vec![seed.to_vec()], authorization));
        if !matches!(
            outcome,
            Ok(Outcome::PermissionDenied | Outcome::Unauthenticated)
        ) {
            return Some((role, subject));
        }
    }
    None
}

/// Every valid request of `rpc` with each text field set, one at a time, to
/// each of [`nasty_strings`]: answers judged like the random cases, counted
/// into `counts`. Returns how many calls it made.
fn sweep(
    runtime: &tokio::runtime::Runtime,
    session: &Session<'_>,
    rpc: &Rpc,
    types: &Types,
    hints: &Hints,
    counts: &Mutex<BTreeMap<Outcome, u32>>,
    failures: &mut Vec<String>,
) -> u32 {
    let mut calls = 0;
    for seed in hints.seeds.get(&rpc.method).into_iter().flatten() {
        let Some((role, subject)) = seed_caller(runtime, session, rpc, hints, seed) else {
            continue;
        };
        let msg = dynamic::decode(types, &rpc.input_type, seed).expect("seeds decode");
        for nasty in nasty_strings() {
            for variant in one_string_replaced(&msg, &nasty) {
                let authorization = session.target.env.token(&subject, &[role]).parse().ok();
                calls += 1;
                let outcome =
                    runtime.block_on(session.check(rpc, vec![variant.encode()], authorization));
                match outcome {
                    Ok(outcome) => *counts.lock().unwrap().entry(outcome).or_default() += 1,
                    Err(reason) => failures.push(format!(
                        "{} (one text field of a valid request changed): {reason}\n  case: as {role} {subject:?}: {variant:?}",
                        rpc.method
                    )),
                }
            }
        }
    }
    calls
}

/// Bad credentials: a label and the `authorization` value (`None`: no header).
fn bad_credentials(env: &ServiceEnv) -> Vec<(&'static str, Option<String>)> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let claims = |subject: &str, roles: Vec<Role>| Claims {
        iss: crate::service_env::ISSUER.to_owned(),
        aud: crate::service_env::AUDIENCE.to_owned(),
        sub: subject.to_owned(),
        roles,
        exp: now + 600,
        nbf: now - 1,
        iat: now - 1,
        jti: Uuid::new_v4().to_string(),
        personnel_id: None,
    };
    let sign = |claims: &Claims| {
        format!(
            "Bearer {}",
            env.issuer().sign(claims).expect("sign test claims")
        )
    };
    let stranger = TokenIssuer::generate(env.issuer().kid()).expect("generate a key");
    let unknown_kid = TokenIssuer::generate("no-such-key").expect("generate a key");
    let mint = |issuer: &TokenIssuer| {
        let token = issuer
            .mint(&MintRequest {
                subject: "operator-1".into(),
                roles: people(),
                ttl: Duration::from_secs(600),
                issuer: crate::service_env::ISSUER.into(),
                audience: crate::service_env::AUDIENCE.into(),
                not_before: None,
                personnel_id: None,
            })
            .expect("mint");
        format!("Bearer {token}")
    };
    let valid = env.token("operator-1", &people());
    let mut tampered = valid.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    vec![
        ("no authorization header", None),
        ("empty", Some(String::new())),
        ("scheme only", Some("Bearer".into())),
        ("scheme and space", Some("Bearer ".into())),
        ("basic", Some("Basic dXNlcjpwYXNz".into())),
        ("not a jwt", Some("Bearer not.a.jwt".into())),
        ("token without scheme", Some(valid.trim_start_matches("Bearer ").into())),
        ("scheme twice", Some(format!("Bearer {valid}"))),
        (
            "alg none",
            Some("Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJvcGVyYXRvci0xIiwicm9sZXMiOlsib3BlcmF0b3IiXX0.".into()),
        ),
        ("tampered signature", Some(String::from_utf8(tampered).expect("ascii"))),
        ("signed by an untrusted key with a trusted kid", Some(mint(&stranger))),
        ("signed by an unknown kid", Some(mint(&unknown_kid))),
        ("expired", Some(sign(&Claims { exp: now - 3600, nbf: now - 7200, iat: now - 7200, ..claims("operator-1", people()) }))),
        ("not yet valid", Some(sign(&Claims { nbf: now + 3600, exp: now + 7200, ..claims("operator-1", people()) }))),
        ("wrong issuer", Some(sign(&Claims { iss: "someone-else".into(), ..claims("operator-1", people()) }))),
        ("wrong audience", Some(sign(&Claims { aud: "another-service".into(), ..claims("operator-1", people()) }))),
        ("no roles", Some(sign(&claims("operator-1", Vec::new())))),
        ("empty subject", Some(sign(&claims("", people())))),
        ("system token of no known service", Some(sign(&claims("web", vec![Role::System])))),
        ("system token with a person's role", Some(sign(&claims("system:front", vec![Role::System, Role::Operator])))),
        ("oversized", Some(format!("Bearer {}", "a".repeat(9000)))),
    ]
}

/// Every role a person may hold: all but `system`, which a token holds
/// alone, as a service.
fn people() -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| *role != Role::System)
        .collect()
}

/// A valid token of `roles`: a person's with the people's roles among
/// them, else (`system` only) a service's.
fn control_token(env: &ServiceEnv, roles: &[Role]) -> String {
    let people: Vec<Role> = roles
        .iter()
        .copied()
        .filter(|role| *role != Role::System)
        .collect();
    if people.is_empty() {
        env.system_token(CallingService::Front)
    } else {
        env.token("control-subject", &people)
    }
}

/// Every RPC of the target with bad credentials: the valid seed request (or
/// an empty one) with each of a fixed list of bad tokens, then `cases`
/// random `authorization` values over random RPCs. Each must be
/// UNAUTHENTICATED with a message, write nothing and leave the service
/// healthy. As a control, the same request with a valid token is never
/// UNAUTHENTICATED.
pub fn bad_tokens(runtime: &tokio::runtime::Runtime, target: Target<'_>, hints: &Hints) -> Report {
    let started = Instant::now();
    let session = runtime.block_on(Session::open(target));
    let rpcs = rpcs(target.service);
    let credentials = bad_credentials(target.env);
    let mut report = Report::default();
    let request = |rpc: &Rpc| -> Vec<u8> {
        hints
            .seeds
            .get(&rpc.method)
            .and_then(|seeds| seeds.first())
            .cloned()
            .unwrap_or_default()
    };
    let expect_unauthenticated = |rpc: &Rpc, authorization: Option<AsciiMetadataValue>| {
        let outcome = runtime.block_on(session.check(rpc, vec![request(rpc)], authorization));
        match outcome {
            Ok(Outcome::Unauthenticated) => Ok(()),
            Ok(other) => Err(format!("answered {other:?}, not UNAUTHENTICATED")),
            Err(e) => Err(e),
        }
    };
    for rpc in &rpcs {
        let mut counts = BTreeMap::new();
        for (label, value) in &credentials {
            let authorization = match value {
                None => None,
                Some(v) => match v.parse() {
                    Ok(v) => Some(v),
                    Err(e) => panic!("{label}: not header text: {e}"),
                },
            };
            match expect_unauthenticated(rpc, authorization) {
                Ok(()) => *counts.entry(Outcome::Unauthenticated).or_default() += 1,
                Err(e) => report
                    .failures
                    .push(format!("{} with a token that is {label}: {e}", rpc.method)),
            }
        }
        // Control: a valid token of an allowed role passes authentication.
        let valid = control_token(target.env, &rpc.roles).parse().ok();
        let control = runtime.block_on(session.check(rpc, vec![request(rpc)], valid));
        if matches!(control, Ok(Outcome::Unauthenticated)) {
            report
                .failures
                .push(format!("{}: a valid token was refused", rpc.method));
        }
        report.counts.insert(rpc.method.clone(), counts);
    }
    // Random header values over random RPCs.
    let counts = Mutex::new(BTreeMap::<Outcome, u32>::new());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let values = prop_oneof![
        "[ -~]{0,64}",
        "Bearer [ -~]{0,200}",
        "(Bearer|bearer|BEARER) [A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,120}\\.[A-Za-z0-9_-]{0,90}",
    ];
    let result = runner.run(&(select(rpcs.clone()), values), |(rpc, value)| {
        let Ok(authorization) = value.parse::<AsciiMetadataValue>() else {
            return Ok(());
        };
        expect_unauthenticated(&rpc, Some(authorization)).map_err(TestCaseError::fail)?;
        *counts
            .lock()
            .unwrap()
            .entry(Outcome::Unauthenticated)
            .or_default() += 1;
        Ok(())
    });
    if let Err(error) = result {
        report
            .failures
            .push(format!("random authorization: {error}"));
    }
    report.counts.insert(
        "(random authorization)".into(),
        counts.into_inner().unwrap(),
    );
    report.elapsed = started.elapsed();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_the_roles_line() {
        assert_eq!(
            roles_in(
                " Registers.\n Roles: job_seeker (channel ONLINE), counsellor, operator (channel COUNTER).\n"
            ),
            vec![Role::JobSeeker, Role::Counsellor, Role::Operator]
        );
        assert_eq!(
            roles_in(" Roles: system (front systems and services).\n"),
            vec![Role::System]
        );
        assert!(roles_in(" No roles here.\n").is_empty());
    }

    #[test]
    fn every_rpc_of_every_service_documents_its_roles() {
        for service in [
            "hellowork.registration.v1.RegistrationService",
            "hellowork.consent.v1.ConsentService",
            "hellowork.scheduling.v1.SchedulingService",
            "hellowork.auditlog.v1.AuditLogService",
        ] {
            assert!(!rpcs(service).is_empty(), "{service}");
        }
    }

    static TYPES: std::sync::LazyLock<Arc<Types>> =
        std::sync::LazyLock::new(|| Arc::new(Types::new(&dynamic::descriptor_set())));

    fn usage_seed() -> Hints {
        let mut hints = Hints::default();
        hints.seed(
            "RecordUsage",
            &hellowork_proto::auditlog::v1::RecordUsageRequest {
                record: Some(hellowork_proto::auditlog::v1::UsageRecord {
                    record_id: Uuid::new_v4().to_string(),
                    job_seeker_id: "seeker-1".into(),
                    occurred_at: Some(prost_types::Timestamp {
                        seconds: 1_765_000_000,
                        nanos: 0,
                    }),
                    action: "/bookings".into(),
                    access_kind: 1,
                    device: Some(hellowork_proto::auditlog::v1::DeviceIdentifiers {
                        device_id: "device-1".into(),
                        ip_address: "203.0.113.7".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            },
        );
        hints
    }

    proptest! {
        #![proptest_config(Config::with_cases(64))]

        /// What the generator builds is a message prost decodes, and the
        /// strict decoder reads prost's re-encoding back.
        #[test]
        fn generated_messages_decode_with_prost(
            msg in Generator::new(TYPES.clone(), Arc::new(Hints::default()))
                .message(".hellowork.registration.v1.AttestEnvironmentRequest", 0)
        ) {
            use prost::Message as _;
            let bytes = msg.encode();
            let typed = hellowork_proto::registration::v1::AttestEnvironmentRequest::decode(bytes.as_slice());
            prop_assert!(typed.is_ok(), "{msg:?}");
            let again = dynamic::decode(&TYPES, &msg.type_name, &typed.unwrap().encode_to_vec());
            prop_assert!(again.is_ok());
        }

        /// Raw payloads (random, or a valid request changed) that the
        /// strict decoder accepts, prost accepts too: a case reported
        /// field by field is one the service's codec decodes as well.
        #[test]
        fn the_strict_decoder_accepts_only_what_prost_accepts(
            payload in Generator::new(TYPES.clone(), Arc::new(usage_seed()))
                .payload("RecordUsage", ".hellowork.auditlog.v1.RecordUsageRequest")
        ) {
            use prost::Message as _;
            let bytes = payload.bytes();
            let prost = hellowork_proto::auditlog::v1::RecordUsageRequest::decode(bytes.as_slice());
            if payload.decodes() {
                prop_assert!(prost.is_ok(), "{payload:?}");
            }
        }
    }
}
