//! Tampering with the audit-log's database by direct SQL, as a DBA or an
//! intruder could, is caught by the two verifiers that keep their own
//! copies: the witness (its check and its full audit) and `hellowork
//! verify-log` (its trusted checkpoint and leaves from an earlier run).
//! Each case names what it must be caught as, and where: single-row edits,
//! deletions, swaps and truncations by the first bad position; consistent
//! rewrites (every hash recomputed and the checkpoints the log signed
//! before deleted), a consistent deletion, a rewound truncation and a
//! rebuild from edited events by the inconsistent checkpoints; a forged
//! checkpoint by its signature.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use chrono::Utc;
use hellowork_platform::{PlatformConfig, Role, Service, SystemCredentials};
use hellowork_proto::{
    auditlog::v1::{self as proto, audit_log_service_client::AuditLogServiceClient},
    witness::v1::Inconsistency,
};
use hellowork_testing::{ServiceEnv, TestDatabase, TestStream, database_url, eventually, nats_url};
use hellowork_witness::{
    WitnessConfig,
    observe::{Outcome, Witness},
};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// The audit-log service started in-process, empty test streams standing
/// in for the services it listens to.
struct AuditLog {
    env: ServiceEnv,
    vars: Vec<(String, String)>,
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

async fn start() -> AuditLog {
    let database = TestDatabase::from_template(&database_url(), "empty", "v1", |_| async {}).await;
    let env = ServiceEnv::new("auditlog", database, &nats_url());
    let vars = env.vars();
    let mut service = vars.clone();
    service.push((
        "HELLOWORK_AUDITLOG_CHECKPOINT_INTERVAL".into(),
        "100ms".into(),
    ));
    let mut peers = Vec::new();
    for peer in ["scheduling", "registration", "consent"] {
        let stream = TestStream::create(peer).await;
        let upper = peer.to_uppercase();
        service.push((
            format!("HELLOWORK_{upper}_NATS_STREAM"),
            stream.config.stream_name.clone(),
        ));
        service.push((
            format!("HELLOWORK_{upper}_NATS_SUBJECT_PREFIX"),
            stream.config.subject_prefix.clone(),
        ));
        peers.push(stream);
    }
    let config = PlatformConfig::from_vars(Service::AuditLog, service.clone()).unwrap();
    let settings =
        hellowork_audit_log::AuditLogSettings::from_vars(config.environment, service).unwrap();
    let app = hellowork_audit_log::build_with(config, settings)
        .await
        .unwrap();
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
    let options: sqlx::postgres::PgConnectOptions = env.database.url.parse().unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.options([("search_path", "auditlog")]))
        .await
        .unwrap();
    AuditLog {
        env,
        vars,
        url,
        client: AuditLogServiceClient::new(channel),
        pool,
        _peers: peers,
        shutdown,
    }
}

impl AuditLog {
    /// Records `count` usage records and waits until a checkpoint covers
    /// `total` entries.
    async fn usage(&mut self, count: usize, total: u64) {
        let now = Utc::now();
        let records = (0..count)
            .map(|i| proto::UsageRecord {
                record_id: uuid::Uuid::new_v4().to_string(),
                job_seeker_id: uuid::Uuid::from_u128(i as u128 % 3 + 1).to_string(),
                occurred_at: Some(prost_types::Timestamp {
                    seconds: now.timestamp(),
                    nanos: 0,
                }),
                access_kind: proto::AccessKind::PageView as i32,
                action: "/bookings".to_owned(),
                method: "GET".to_owned(),
                outcome: proto::AccessOutcome::Success as i32,
                device: Some(proto::DeviceIdentifiers {
                    device_id: format!("device-{i}"),
                    ip_address: "198.51.100.7".to_owned(),
                    user_agent: "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0".to_owned(),
                    os_name: "Windows".to_owned(),
                    os_version: "10".to_owned(),
                }),
                source: "web".to_owned(),
                ..Default::default()
            })
            .collect();
        let request = self.env.request(
            futures::stream::iter(vec![proto::RecordUsageBatchRequest { records }]),
            "system:front",
            Role::System,
        );
        self.client.record_usage_batch(request).await.unwrap();
        self.checkpoint_of(total).await;
    }

    async fn checkpoint_of(&self, size: u64) {
        eventually(&format!("a checkpoint of {size} entries"), || {
            let mut client = self.client.clone();
            let request =
                self.env
                    .request(proto::GetCheckpointRequest::default(), "a", Role::Auditor);
            async move {
                let checkpoint = client
                    .get_checkpoint(request)
                    .await
                    .ok()?
                    .into_inner()
                    .checkpoint?;
                (checkpoint.tree_size == size).then_some(())
            }
        })
        .await;
    }

    async fn sql(&self, statements: &[&str]) {
        for statement in statements {
            sqlx::query(statement).execute(&self.pool).await.unwrap();
        }
    }

    /// What a writer who knows the code does after changing rows: the tree
    /// recomputed from them, and the checkpoints that named the old roots
    /// removed, so the log agrees with itself again.
    async fn recompute_tree(&self) {
        self.sql(&[
            "DELETE FROM log_hashes",
            "UPDATE chain_head SET tree_size = 0",
            "DELETE FROM log_checkpoints",
        ])
        .await;
        hellowork_audit_log::store::catch_up(&self.pool)
            .await
            .unwrap();
    }

    /// The identity provider's token for the witness, where the
    /// environment says the system token is.
    fn issue_witness_token(&self) {
        let (_, file) = self
            .vars
            .iter()
            .find(|(name, _)| name == "HELLOWORK_SYSTEM_TOKEN_FILE")
            .expect("a system token file");
        let token = self.env.token("system:witness", &[Role::System]);
        std::fs::write(file, token.trim_start_matches("Bearer ")).unwrap();
    }

    fn witness(&self, dir: &std::path::Path) -> Witness {
        self.issue_witness_token();
        let mut vars = self.vars.clone();
        vars.extend([
            ("HELLOWORK_WITNESS_LOG_URL".to_owned(), self.url.clone()),
            (
                "HELLOWORK_WITNESS_STATE_DIR".to_owned(),
                dir.display().to_string(),
            ),
        ]);
        let config = WitnessConfig::from_vars(vars).unwrap();
        let credentials = std::sync::Arc::new(
            SystemCredentials::for_subject(
                "system:witness",
                config.environment,
                &config.auth,
                Duration::from_secs(10),
            )
            .unwrap(),
        );
        let channel = Endpoint::from_shared(self.url.clone())
            .unwrap()
            .connect_lazy();
        Witness::open(config, channel, credentials.interceptor()).unwrap()
    }

    /// `hellowork verify-log --json` with this verifier's state directory.
    async fn verify_log(&self, state: &std::path::Path) -> (Option<i32>, serde_json::Value) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hellowork"));
        command
            .arg("verify-log")
            .arg("--json")
            .arg("--state")
            .arg(state)
            .arg("--token")
            .arg(self.env.token("auditor-1", &[Role::Auditor]))
            .env("HELLOWORK_AUDITLOG_URL", &self.url)
            .env_remove("HELLOWORK_TOKEN")
            .env_remove("HELLOWORK_WITNESS_URL");
        let output = tokio::task::spawn_blocking(move || command.output().expect("run hellowork"))
            .await
            .unwrap();
        let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            panic!(
                "no report: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code(), report)
    }
}

/// How the witness and verify-log must each name a tampering.
struct Expected {
    witness: Inconsistency,
    /// verify-log's `finding`.
    finding: &'static str,
    first_bad: Option<u64>,
}

/// Eight entries witnessed and verified, `tamper` applied, then the
/// witness's check (and, if that sees nothing, its audit) and verify-log.
async fn case(name: &str, expected: Expected, tamper: impl AsyncFnOnce(&mut AuditLog)) {
    let mut log = start().await;
    log.usage(8, 8).await;
    let witness_dir = tempfile::tempdir().unwrap();
    let verifier_dir = tempfile::tempdir().unwrap();
    let mut witness = log.witness(witness_dir.path());
    assert_eq!(
        witness.check().await.unwrap(),
        Outcome::Cosigned(8),
        "{name}"
    );
    let (code, report) = log.verify_log(verifier_dir.path()).await;
    assert_eq!(
        (code, report["intact"].as_bool()),
        (Some(0), Some(true)),
        "{name}: {report}"
    );

    tamper(&mut log).await;

    let outcome = match witness.check().await.unwrap() {
        Outcome::Unchanged(_) | Outcome::Cosigned(_) => witness.audit().await.unwrap(),
        refused => refused,
    };
    let Outcome::Refused(kind, detail) = outcome else {
        panic!("{name}: the witness saw nothing: {outcome:?}");
    };
    assert_eq!(kind, expected.witness, "{name}: {detail}");
    if let Some(position) = expected.first_bad {
        assert!(
            detail.contains(&format!("entry {position}")),
            "{name}: {detail}"
        );
    }
    // Refused for good: nothing is cosigned for this log again (a bad
    // signature proves nothing about the log's history, so it is alerted
    // on but not kept).
    if kind != Inconsistency::BadSignature {
        assert_eq!(witness.check().await.unwrap(), Outcome::Refusing, "{name}");
    }

    let (code, report) = log.verify_log(verifier_dir.path()).await;
    assert_eq!(code, Some(1), "{name}: {report}");
    assert_eq!(report["finding"], expected.finding, "{name}: {report}");
    assert_eq!(
        report["first_bad_sequence"].as_u64(),
        expected.first_bad,
        "{name}: {report}"
    );
    if expected.first_bad.is_some() {
        // A verifier with no copy of its own finds the same position: from
        // the tree's own audit paths (one per level), not from memory.
        let fresh = tempfile::tempdir().unwrap();
        let (code, again) = log.verify_log(fresh.path()).await;
        assert_eq!(code, Some(1), "{name}: {again}");
        assert_eq!(
            again["first_bad_sequence"], report["first_bad_sequence"],
            "{name}: {again}"
        );
    }
    eprintln!(
        "{name}: witness {} ({detail}); verify-log {}",
        kind.as_str_name(),
        report["detail"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn single_row_tampering_is_named_by_its_first_bad_position() {
    case(
        "edited row",
        Expected {
            witness: Inconsistency::LeafChanged,
            finding: "leaf_changed",
            first_bad: Some(3),
        },
        async |log| {
            log.sql(&["UPDATE access_log SET action = 'edited' WHERE sequence = 3"])
                .await
        },
    )
    .await;
    case(
        "deleted row",
        Expected {
            witness: Inconsistency::LeafChanged,
            finding: "missing_entry",
            first_bad: Some(4),
        },
        async |log| {
            log.sql(&["DELETE FROM access_log WHERE sequence = 4"])
                .await
        },
    )
    .await;
    case(
        "swapped rows",
        Expected {
            witness: Inconsistency::LeafChanged,
            finding: "leaf_changed",
            first_bad: Some(2),
        },
        async |log| {
            log.sql(&[
                "UPDATE access_log SET sequence = -2 WHERE sequence = 2",
                "UPDATE access_log SET sequence = 2 WHERE sequence = 5",
                "UPDATE access_log SET sequence = 5 WHERE sequence = -2",
            ])
            .await;
        },
    )
    .await;
    case(
        "truncated tail",
        Expected {
            witness: Inconsistency::LeafChanged,
            finding: "missing_entry",
            first_bad: Some(6),
        },
        async |log| {
            log.sql(&["DELETE FROM access_log WHERE sequence > 5"])
                .await
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn consistent_rewrites_are_named_by_the_inconsistent_checkpoints() {
    case(
        "consistent edit",
        Expected {
            witness: Inconsistency::Fork,
            finding: "inconsistent",
            first_bad: None,
        },
        async |log| {
            log.sql(&["UPDATE access_log SET action = 'edited' WHERE sequence = 3"])
                .await;
            log.recompute_tree().await;
            log.usage(2, 10).await;
        },
    )
    .await;
    case(
        "consistent deletion",
        Expected {
            witness: Inconsistency::Fork,
            finding: "inconsistent",
            first_bad: None,
        },
        async |log| {
            log.sql(&[
                "DELETE FROM access_log WHERE sequence = 3",
                "UPDATE access_log SET sequence = -(sequence - 1) WHERE sequence > 3",
                "UPDATE access_log SET sequence = -sequence WHERE sequence < 0",
                "UPDATE chain_head SET sequence = 7",
            ])
            .await;
            log.recompute_tree().await;
            log.usage(2, 9).await;
        },
    )
    .await;
    case(
        "rewound truncation",
        Expected {
            witness: Inconsistency::Rollback,
            finding: "rollback",
            first_bad: None,
        },
        async |log| {
            log.sql(&[
                "DELETE FROM access_log WHERE sequence > 5",
                "UPDATE chain_head SET sequence = 5",
            ])
            .await;
            log.recompute_tree().await;
            log.checkpoint_of(5).await;
        },
    )
    .await;
    case(
        "rebuild from edited events",
        Expected { witness: Inconsistency::Fork, finding: "inconsistent", first_bad: None },
        async |log| {
            // One usage record's event removed from the store, then the log
            // rebuilt from what is left, as a rebuild would.
            log.sql(&[
                "DELETE FROM events WHERE position = (SELECT position FROM events WHERE event_type LIKE '%UsageRecorded' ORDER BY position OFFSET 2 LIMIT 1)",
                "DELETE FROM log_checkpoints",
            ])
            .await;
            let store = hellowork_eventstore::EventStore::new(
                log.pool.clone(),
                hellowork_eventstore::StoreConfig::new("auditlog"),
                hellowork_eventstore::Upcasters::new(),
            );
            hellowork_eventstore::rebuild(&store, &hellowork_audit_log::projections::AccessLogProjection)
                .await
                .unwrap();
            log.usage(3, 10).await;
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_checkpoint_fails_its_signature() {
    case(
        "forged checkpoint",
        Expected { witness: Inconsistency::BadSignature, finding: "bad_signature", first_bad: None },
        async |log| {
            // A checkpoint of a larger tree, its root edited, under the
            // log's signature line: no key in the database can re-sign it.
            log.usage(1, 9).await;
            log.sql(&[
                "UPDATE log_checkpoints SET note = overlay(note placing 'x'::bytea from 40 for 1) WHERE tree_size = 9",
            ])
            .await;
        },
    )
    .await;
}

/// The witness as it runs: it cosigns what the log signs and hands the
/// cosignature back, `verify-log --witness` trusts that, a job seeker checks
/// one entry with `--entry`, and a consistent rewrite is refused within the
/// witness's interval (the detection delay is printed).
#[tokio::test(flavor = "multi_thread")]
async fn the_running_witness_cosigns_and_refuses_a_rewrite_within_its_interval() {
    let mut log = start().await;
    log.usage(6, 6).await;
    let state = tempfile::tempdir().unwrap();
    log.issue_witness_token();
    let mut vars = log.vars.clone();
    vars.extend(
        [
            ("HELLOWORK_WITNESS_LOG_URL", log.url.clone()),
            (
                "HELLOWORK_WITNESS_STATE_DIR",
                state.path().display().to_string(),
            ),
            ("HELLOWORK_WITNESS_INTERVAL", "200ms".to_owned()),
            ("HELLOWORK_WITNESS_AUDIT_INTERVAL", "1s".to_owned()),
            ("HELLOWORK_WITNESS_GRPC_ADDR", "127.0.0.1:0".to_owned()),
            ("HELLOWORK_WITNESS_METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ]
        .map(|(name, value)| (name.to_owned(), value)),
    );
    let running = hellowork_witness::start(WitnessConfig::from_vars(vars).unwrap())
        .await
        .unwrap();
    let witness_url = format!("http://{}", running.grpc_addr);
    // The log keeps the witness's cosignature.
    let witnessed = eventually("a witnessed checkpoint of 6", || {
        let mut client = log.client.clone();
        let request = log.env.request(
            proto::GetCheckpointRequest { witnessed: true },
            "js",
            Role::JobSeeker,
        );
        async move {
            let checkpoint = client
                .get_checkpoint(request)
                .await
                .ok()?
                .into_inner()
                .checkpoint?;
            (checkpoint.tree_size == 6 && checkpoint.witnessed).then_some(checkpoint)
        }
    })
    .await;
    let verifier = tempfile::tempdir().unwrap();
    let auditor = log.env.token("auditor-1", &[Role::Auditor]);
    let log_url = log.url.clone();
    let run = move |args: Vec<String>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hellowork"));
        command
            .arg("verify-log")
            .arg("--json")
            .args(args)
            .env("HELLOWORK_AUDITLOG_URL", &log_url)
            .env_remove("HELLOWORK_TOKEN")
            .env_remove("HELLOWORK_WITNESS_URL");
        async move {
            let output = tokio::task::spawn_blocking(move || command.output().unwrap())
                .await
                .unwrap();
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stdout).into_owned(),
            )
        }
    };
    let state_arg = verifier.path().display().to_string();
    let (code, report) = run(vec![
        "--state".into(),
        state_arg.clone(),
        "--token".into(),
        auditor.clone(),
        "--witness".into(),
        witness_url.clone(),
    ])
    .await;
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("\"trusted_tree_size\":6"), "{report}");

    // A job seeker checks entry 2 with the leaf hash they hold.
    let mut client = log.client.clone();
    let leaf = client
        .get_inclusion_proof(log.env.request(
            proto::GetInclusionProofRequest {
                sequence: 2,
                tree_size: witnessed.tree_size,
                leaf_hash: vec![],
            },
            "auditor-1",
            Role::Auditor,
        ))
        .await
        .unwrap()
        .into_inner()
        .leaf_hash;
    let hex: String = leaf.iter().map(|b| format!("{b:02x}")).collect();
    let citizen = log.env.token("js-1", &[Role::JobSeeker]);
    let fresh = tempfile::tempdir().unwrap();
    let fresh_arg = fresh.path().display().to_string();
    let (code, report) = run(vec![
        "--state".into(),
        fresh_arg.clone(),
        "--token".into(),
        citizen.clone(),
        "--entry".into(),
        "2".into(),
        "--leaf-hash".into(),
        hex.clone(),
        "--witness".into(),
        witness_url.clone(),
    ])
    .await;
    assert_eq!(code, Some(0), "{report}");
    let mut wrong = hex.into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let (code, report) = run(vec![
        "--state".into(),
        fresh_arg,
        "--token".into(),
        citizen,
        "--entry".into(),
        "2".into(),
        "--leaf-hash".into(),
        String::from_utf8(wrong).unwrap(),
    ])
    .await;
    assert_ne!(code, Some(0), "a leaf the log never committed to: {report}");

    // A consistent rewrite: the witness refuses it on its next check.
    log.sql(&["UPDATE access_log SET action = 'edited' WHERE sequence = 2"])
        .await;
    log.recompute_tree().await;
    let tampered = Instant::now();
    log.usage(1, 7).await;
    let witness =
        hellowork_proto::witness::v1::witness_service_client::WitnessServiceClient::connect(
            witness_url.clone(),
        )
        .await
        .unwrap();
    let refusal = eventually("the witness to refuse", || {
        let mut witness = witness.clone();
        async move {
            let state = witness
                .get_witnessed_checkpoint(
                    hellowork_proto::witness::v1::GetWitnessedCheckpointRequest {},
                )
                .await
                .ok()?
                .into_inner();
            (state.refusing != 0).then_some(state)
        }
    })
    .await;
    eprintln!(
        "witness detection delay: {} ms after the rewrite",
        tampered.elapsed().as_millis()
    );
    assert_eq!(
        refusal.refusing(),
        Inconsistency::Fork,
        "{}",
        refusal.refusal_detail
    );
    assert_eq!(refusal.tree_size, 6, "the witness keeps what it accepted");
    // The recorder is the process's: the other tests' witnesses count in
    // it too (and reset the refusing gauge as they open), so at least this
    // one's fork is there.
    let metrics = reqwest_metrics(running.metrics_addr).await;
    let forks: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("witness_inconsistencies_total{kind=\"fork\"} "))
        .and_then(|count| count.parse().ok())
        .unwrap_or(0);
    assert!(forks >= 1, "{metrics}");
    let (code, report) = run(vec![
        "--state".into(),
        state_arg,
        "--token".into(),
        auditor,
        "--witness".into(),
        witness_url,
    ])
    .await;
    assert_eq!(code, Some(1), "{report}");
    running.stop().await;
}

/// The witness's /metrics text.
async fn reqwest_metrics(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: witness\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).await.unwrap();
    body
}
