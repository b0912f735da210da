//! `hellowork verify-log` against a running audit-log service: intact while
//! the log is untouched, broken at the edited position once a row is changed
//! behind the service's back.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use chrono::Utc;
use hellowork_platform::{PlatformConfig, Role, Service};
use hellowork_proto::auditlog::v1::{
    self as proto, audit_log_service_client::AuditLogServiceClient,
};
use hellowork_testing::{ServiceEnv, TestDatabase, TestStream, database_url, nats_url};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// The audit-log service started as its own tests start it, with empty test
/// streams standing in for the services it listens to.
struct AuditLog {
    env: ServiceEnv,
    url: String,
    client: AuditLogServiceClient<Channel>,
    pool: sqlx::PgPool,
    _peers: Vec<TestStream>,
    shutdown: CancellationToken,
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Polls `attempt` until it yields a value (no fixed sleeps for readiness).
async fn eventually<T, Fut>(what: &str, mut attempt: impl FnMut() -> Fut) -> T
where
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn start() -> AuditLog {
    let database = TestDatabase::from_template(&database_url(), "empty", "v1", |_| async {}).await;
    let env = ServiceEnv::new("auditlog", database, &nats_url());
    let mut vars = env.vars();
    let mut peers = Vec::new();
    for service in ["scheduling", "registration", "consent"] {
        let stream = TestStream::create(service).await;
        let upper = service.to_uppercase();
        vars.push((
            format!("HELLOWORK_{upper}_NATS_STREAM"),
            stream.config.stream_name.clone(),
        ));
        vars.push((
            format!("HELLOWORK_{upper}_NATS_SUBJECT_PREFIX"),
            stream.config.subject_prefix.clone(),
        ));
        peers.push(stream);
    }
    let config = PlatformConfig::from_vars(Service::AuditLog, vars).unwrap();
    let app = hellowork_audit_log::build(config).await.unwrap();
    let url = format!("http://{}", app.grpc_addr());
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run_until_stopped());
    let channel = eventually("SERVING", || {
        let url = url.clone();
        async move {
            let channel = Channel::from_shared(url).ok()?.connect().await.ok()?;
            let status = HealthClient::new(channel.clone())
                .check(HealthCheckRequest {
                    service: hellowork_audit_log::SERVICE_NAME.into(),
                })
                .await
                .ok()?
                .into_inner()
                .status();
            (status == ServingStatus::Serving).then_some(channel)
        }
    })
    .await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::Executor::execute(conn, "SET search_path TO auditlog").await?;
                Ok(())
            })
        })
        .connect(&env.database.url)
        .await
        .unwrap();
    AuditLog {
        env,
        url,
        client: AuditLogServiceClient::new(channel),
        pool,
        _peers: peers,
        shutdown,
    }
}

fn timestamp(at: chrono::DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// Files a legal request, which the service puts on its log.
async fn file_legal_request(log: &mut AuditLog) {
    let now = Utc::now();
    let request = log.env.request(
        proto::FileLegalRequestRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            agency: "香川県警察本部".into(),
            legal_basis: proto::LegalBasis::CriminalInvestigationInquiry as i32,
            legal_basis_citation: "刑事訴訟法第197条第2項".into(),
            case_number: "R6-1234".into(),
            scope: Some(proto::LegalRequestScope {
                job_seeker_ids: vec!["js-1".into()],
                device_pseudonyms: vec![],
                time_range: Some(proto::TimeRange {
                    start_time: Some(timestamp(now - chrono::Duration::days(1))),
                    end_time: Some(timestamp(now + chrono::Duration::days(1))),
                }),
            }),
            justification: "investigation of unauthorized access".into(),
            requested_expires_at: Some(timestamp(now + chrono::Duration::days(7))),
        },
        "officer-1",
        Role::LegalOfficer,
    );
    log.client.file_legal_request(request).await.unwrap();
}

/// Runs the built command with `args`, the endpoint given by the variable
/// the services use.
async fn hellowork(log: &AuditLog, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hellowork"));
    command
        .arg("verify-log")
        .args(args)
        .env("HELLOWORK_AUDITLOG_URL", &log.url)
        .env_remove("HELLOWORK_TOKEN");
    tokio::task::spawn_blocking(move || command.output().expect("run hellowork"))
        .await
        .unwrap()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untouched_log_is_intact_and_an_edited_row_is_named() {
    let mut log = start().await;
    file_legal_request(&mut log).await;
    file_legal_request(&mut log).await;
    // The entries reach the log asynchronously, after the calls return.
    eventually("two log entries", || async {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM access_log")
            .fetch_one(&log.pool)
            .await
            .ok()?;
        (count >= 2).then_some(())
    })
    .await;
    let auditor = log.env.token("auditor-1", &[Role::Auditor]);

    let intact = hellowork(&log, &["--token", &auditor]).await;
    assert_eq!(
        intact.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(
        stdout(&intact).starts_with("intact\n"),
        "{}",
        stdout(&intact)
    );

    let json = hellowork(&log, &["--token", &auditor, "--json"]).await;
    assert_eq!(json.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["intact"], true);
    assert!(report["checked_count"].as_u64().unwrap() >= 2, "{report}");
    assert!(report["first_bad_sequence"].is_null() && report["failure"].is_null());
    assert_eq!(report["head_hash"].as_str().unwrap().len(), 64, "{report}");

    let officer = log.env.token("officer-1", &[Role::LegalOfficer]);
    let refused = hellowork(&log, &["--token", &officer]).await;
    assert_eq!(refused.status.code(), Some(2), "only auditors verify");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("PermissionDenied"));

    sqlx::query("UPDATE access_log SET action = 'x' WHERE sequence = 1")
        .execute(&log.pool)
        .await
        .unwrap();

    let broken = hellowork(&log, &["--token", &auditor]).await;
    assert_eq!(broken.status.code(), Some(1), "{}", stdout(&broken));
    assert!(
        stdout(&broken).starts_with("broken at sequence 1: hash_mismatch"),
        "{}",
        stdout(&broken)
    );

    let json = hellowork(&log, &["--token", &auditor, "--json"]).await;
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["intact"], false);
    assert_eq!(report["first_bad_sequence"], 1);
    assert_eq!(report["failure"], "hash_mismatch");

    // A range after the edited row links to its stored hash, so it still
    // verifies: --from reaches the service.
    let after = hellowork(&log, &["--token", &auditor, "--from", "2", "--json"]).await;
    assert_eq!(after.status.code(), Some(0), "{}", stdout(&after));
    let report: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(report["from_sequence"], 2);
}
