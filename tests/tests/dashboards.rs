//! The Grafana dashboards and Prometheus alerts of `deploy/` against the
//! real thing: the four service binaries run a scenario that touches every
//! metric (see `dashboards/scenario.rs`), watched by the access log's
//! witness, while a real Prometheus scrapes them all with the checked-in
//! configuration; then every PromQL expression of
//! every dashboard panel must be valid and return series, every alert rule
//! must load and evaluate, and no label may carry an id or a device
//! identifier of the scenario (Art. 7(2), 8). `promtool` checks the
//! configuration and rules and runs their unit tests first.
//!
//! Needs Debian's `prometheus` package (`.ci/run` installs it): without
//! it the test fails under `CI=true` and is skipped, loudly, elsewhere.

mod common;
#[path = "dashboards/grafana.rs"]
mod grafana;
#[path = "dashboards/prometheus.rs"]
mod prometheus;
#[path = "dashboards/scenario.rs"]
mod scenario;

use std::time::{Duration, Instant};

use common::{AuditLog, Stack};
use hellowork_auth::Role;
use hellowork_witness::WitnessConfig;
use prometheus::{Binaries, Prometheus};

/// How long metrics may take to reach Prometheus: a scrape a second, and the
/// gauges read from the database every five seconds.
const PATIENCE: Duration = Duration::from_secs(60);

/// The domain counters the scenario must have moved, from each service's
/// `metrics` module.
const EXERCISED: &[&str] = &[
    hellowork_registration::metrics::REGISTRATIONS,
    hellowork_registration::metrics::APPLICATIONS,
    hellowork_registration::metrics::CONVERSIONS,
    hellowork_registration::metrics::DEVICE_ATTESTATIONS,
    hellowork_registration::metrics::ENVIRONMENT_ATTESTATIONS,
    hellowork_registration::metrics::ENVIRONMENT_FAILURES,
    hellowork_registration::metrics::ELIGIBILITY_ANSWERS,
    hellowork_registration::metrics::UNMET_CONDITIONS,
    hellowork_consent::metrics::CONSENTS,
    hellowork_consent::metrics::WITHDRAWALS,
    hellowork_consent::metrics::TERMS_PUBLISHED,
    hellowork_consent::metrics::REVISIONS,
    hellowork_consent::metrics::STATUS_ANSWERS,
    hellowork_consent::metrics::TERMS_IN_FORCE,
    hellowork_scheduling::metrics::SLOTS_PUBLISHED,
    hellowork_scheduling::metrics::BOOKINGS,
    hellowork_scheduling::metrics::ELIGIBILITY_REFUSALS,
    hellowork_scheduling::metrics::CANCELLATIONS,
    hellowork_scheduling::metrics::RESCHEDULES,
    hellowork_scheduling::metrics::ATTENDANTS,
    hellowork_scheduling::metrics::JOINS,
    hellowork_scheduling::metrics::LEAVES,
    hellowork_scheduling::metrics::STOPS,
    hellowork_scheduling::metrics::REFUSALS,
    hellowork_scheduling::metrics::REFUSALS_LIFTED,
    hellowork_audit_log::metrics::USAGE_RECORDS,
    hellowork_audit_log::metrics::PEER_EVENTS,
    hellowork_audit_log::metrics::LEGAL_FILED,
    hellowork_audit_log::metrics::LEGAL_DECISIONS,
    hellowork_audit_log::metrics::DISCLOSURES,
    hellowork_audit_log::metrics::DISCLOSED_RECORDS,
    hellowork_audit_log::metrics::REFUSED_DISCLOSURES,
    hellowork_audit_log::metrics::LEGAL_REQUESTS,
    hellowork_audit_log::metrics::VERIFICATIONS,
    hellowork_audit_log::metrics::CHECKPOINT_SIZE,
    hellowork_audit_log::metrics::CHECKPOINT_SIGNED_AT,
    hellowork_witness::metrics::WITNESSED_SIZE,
    hellowork_witness::metrics::COSIGNED_AT,
    hellowork_witness::metrics::CHECKS,
];

/// Metrics a dashboard must show though an honest scenario leaves them at
/// zero: the witness's findings.
const WATCHED: &[&str] = &[
    hellowork_witness::metrics::INCONSISTENCIES,
    hellowork_witness::metrics::REFUSING,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_dashboard_query_and_alert_answers_from_the_running_services() {
    let binaries = match Binaries::find() {
        Ok(binaries) => binaries,
        Err(missing) if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("{missing} is not installed: `apt-get install prometheus` (.ci/run does)")
        }
        Err(missing) => {
            eprintln!(
                "\n*** SKIPPED dashboards test: {missing} is not installed \
                 (`apt-get install prometheus`, or run .ci/run) ***\n"
            );
            return;
        }
    };
    promtool_passes(&binaries);
    let dashboards = grafana::dashboards();
    let problems = grafana::problems(&dashboards, &grafana::datasource_uid());
    assert!(problems.is_empty(), "dashboards:\n{}", problems.join("\n"));
    let queries = grafana::queries(&dashboards);
    every_metric_on_a_dashboard(&queries);

    let mut stack = Stack::start().await;
    let mut audit = stack.take_audit_log();
    let witness_dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let witness = start_witness(&audit, witness_dirs[0].path(), witness_dirs[1].path()).await;
    let prometheus = Prometheus::start(
        &binaries.prometheus,
        &[
            ("registration", stack.registration.metrics_addr),
            ("consent", stack.consent.metrics_addr),
            ("scheduling", stack.scheduling.metrics_addr),
            ("auditlog", audit.process.metrics_addr),
            ("witness", witness.metrics_addr),
        ],
    )
    .await;
    let trail = scenario::run(&stack, &audit).await;

    scenario_reached_prometheus(&prometheus).await;
    let evaluated = every_query_returns_series(&prometheus, &queries).await;
    let rules = every_rule_evaluates(&prometheus).await;
    no_label_identifies_anyone(&prometheus, &trail).await;
    eprintln!(
        "{evaluated} dashboard expressions in {} dashboards and {rules} alert rules evaluated",
        dashboards.len()
    );

    witness.stop().await;
    assert!(audit.process.terminate().await, "audit-log stopped");
    stack.terminate().await;
}

/// The access log's witness, in this process, watching the stack's
/// audit-log with a `system` token the audit-log trusts, its storage in
/// `state` (and its token file in `keys`), checking every 500 ms.
async fn start_witness(
    audit: &AuditLog,
    state: &std::path::Path,
    keys: &std::path::Path,
) -> hellowork_witness::Running {
    let token_file = keys.join("witness.token");
    let token = audit.env.token("system:witness", &[Role::System]);
    std::fs::write(&token_file, token.trim_start_matches("Bearer ")).unwrap();
    let mut vars = audit.vars.clone();
    vars.extend(
        [
            (
                "HELLOWORK_SYSTEM_TOKEN_FILE",
                token_file.display().to_string(),
            ),
            ("HELLOWORK_WITNESS_LOG_URL", audit.process.url()),
            ("HELLOWORK_WITNESS_STATE_DIR", state.display().to_string()),
            ("HELLOWORK_WITNESS_INTERVAL", "500ms".to_owned()),
            ("HELLOWORK_WITNESS_GRPC_ADDR", "127.0.0.1:0".to_owned()),
            ("HELLOWORK_WITNESS_METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ]
        .map(|(name, value)| (name.to_owned(), value)),
    );
    let config = WitnessConfig::from_vars(vars).expect("the witness's configuration");
    hellowork_witness::start(config)
        .await
        .expect("the witness starts")
}

/// `promtool` accepts the checked-in configuration and rules, and the
/// rules' unit tests pass.
fn promtool_passes(binaries: &Binaries) {
    for args in [
        &["check", "config", "prometheus.yml"][..],
        &["check", "rules", "alerts.yml"],
        &["test", "rules", "alerts.test.yml"],
    ] {
        let output = binaries.promtool(args);
        assert!(
            output.status.success(),
            "promtool {}:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Every domain metric has a panel: a metric no dashboard shows is one
/// nobody watches.
fn every_metric_on_a_dashboard(queries: &[grafana::Query]) {
    let names = |expr: &str| -> Vec<String> {
        expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map(str::to_owned)
            .collect()
    };
    let shown: std::collections::HashSet<String> =
        queries.iter().flat_map(|q| names(&q.expr)).collect();
    let unshown: Vec<_> = EXERCISED
        .iter()
        .chain(WATCHED)
        .filter(|metric| !shown.contains(**metric))
        .collect();
    assert!(unshown.is_empty(), "on no dashboard: {unshown:?}");
}

/// Polls `check` on every item until all pass or [`PATIENCE`] runs out;
/// the failures left, one line each.
async fn until_all_pass<T>(
    items: &[T],
    mut check: impl AsyncFnMut(&T) -> Result<(), String>,
) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    let mut pending: Vec<&T> = items.iter().collect();
    loop {
        let mut failures = Vec::new();
        let mut still = Vec::new();
        for item in pending {
            if let Err(failure) = check(item).await {
                failures.push(failure);
                still.push(item);
            }
        }
        if still.is_empty() || Instant::now() > deadline {
            return failures;
        }
        pending = still;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Every domain metric has moved (counters above zero, the terms version
/// in force and the legal requests by state reported).
async fn scenario_reached_prometheus(prometheus: &Prometheus) {
    let failures = until_all_pass(EXERCISED, async |metric| {
        match prometheus.query(&format!("sum({metric}) > 0")).await {
            Ok(series) if !series.is_empty() => Ok(()),
            Ok(_) => Err(format!("{metric}: no series above zero")),
            Err(error) => Err(format!("{metric}: {error}")),
        }
    })
    .await;
    assert!(
        failures.is_empty(),
        "the scenario's metrics did not reach Prometheus:\n{}\n{}",
        failures.join("\n"),
        prometheus.log()
    );
}

/// Every dashboard expression is valid PromQL and returns series; all
/// failures are reported at once. Returns how many were evaluated.
async fn every_query_returns_series(prometheus: &Prometheus, queries: &[grafana::Query]) -> usize {
    let failures = until_all_pass(queries, async |query| {
        match prometheus.query(&query.expr).await {
            Ok(series) if !series.is_empty() => Ok(()),
            Ok(_) => Err(format!("{}: no series for {}", query.place, query.expr)),
            Err(error) => Err(format!("{}: {error} in {}", query.place, query.expr)),
        }
    })
    .await;
    assert!(
        failures.is_empty(),
        "{} of {} dashboard expressions failed:\n{}",
        failures.len(),
        queries.len(),
        failures.join("\n")
    );
    queries.len()
}

/// Every rule of the checked-in rule files is loaded and has evaluated
/// without error, and every alert expression is valid as a query. Returns
/// how many rules there are.
async fn every_rule_evaluates(prometheus: &Prometheus) -> usize {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let data = prometheus
            .api("GET", "/api/v1/rules", "")
            .await
            .expect("the rules");
        let rules: Vec<serde_json::Value> = data["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|group| group["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        assert!(!rules.is_empty(), "no rules loaded:\n{}", prometheus.log());
        let unhealthy: Vec<String> = rules
            .iter()
            .filter(|rule| rule["health"] != "ok")
            .map(|rule| format!("{}: {} {}", rule["name"], rule["health"], rule["lastError"]))
            .collect();
        if unhealthy.is_empty() {
            for rule in &rules {
                let expr = rule["query"].as_str().expect("a rule's query");
                if let Err(error) = prometheus.query(expr).await {
                    panic!("alert {}: {error} in {expr}", rule["name"]);
                }
            }
            return rules.len();
        }
        assert!(
            Instant::now() < deadline,
            "rules not evaluated cleanly:\n{}",
            unhealthy.join("\n")
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// No series of the services carries an id the scenario created or a
/// device identifier it used in any label (Art. 7(2), 8).
async fn no_label_identifies_anyone(prometheus: &Prometheus, trail: &scenario::Trail) {
    let series = prometheus
        .query(r#"{job=~"registration|consent|scheduling|auditlog|witness"}"#)
        .await
        .expect("every series");
    assert!(series.len() > 100, "the services' series");
    let secrets: Vec<&str> = trail
        .people
        .iter()
        .chain(&trail.bookings)
        .chain(&trail.legal_requests)
        .map(String::as_str)
        .chain([scenario::DEVICE_ID, scenario::IP_ADDRESS, "officer-a"])
        .collect();
    for one in &series {
        let labels = one["metric"].to_string();
        for secret in &secrets {
            assert!(!labels.contains(secret), "{secret:?} in a label: {labels}");
        }
    }
}
