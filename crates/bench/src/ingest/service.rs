//! The audit-log service as it runs in production, started in-process on
//! the run's own resources: its schema, its stream, its peers' (empty)
//! streams and a signing key in a directory of the run, all removed when
//! the run ends, and the service stopped before that.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use hellowork_audit_log::AuditLogSettings;
use hellowork_auth::{DevKey, MintRequest, Role};
use hellowork_eventstore::{SchemaName, connect};
use hellowork_platform::{Environment, PlatformConfig, Service};
use sqlx::{PgPool, postgres::PgPoolOptions};
use tonic::{metadata::MetadataValue, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::scratch::Scratch;

/// A service that is not SERVING by then failed to start.
const STARTUP: Duration = Duration::from_secs(30);
/// The bench's token outlives any run.
const TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The running service: where to call it, as whom, and its schema to read
/// the access log from.
#[derive(Debug)]
pub struct AuditLog {
    pub addr: SocketAddr,
    /// `Bearer …` for a `system` caller, as RecordUsage requires.
    pub authorization: MetadataValue<tonic::metadata::Ascii>,
    /// A small pool in the service's schema, for the lag poller.
    pub view: PgPool,
}

pub async fn start(scratch: &mut Scratch) -> anyhow::Result<AuditLog> {
    let schema = scratch.schema("auditlog")?;
    let keys = scratch.directory("keys")?;
    let mut vars = vec![
        ("ENVIRONMENT", "development".to_owned()),
        ("DATABASE_URL", scratch.database_url().to_owned()),
        ("DATABASE_SCHEMA", schema.as_str().to_owned()),
        ("NATS_URL", scratch.nats_url().to_owned()),
        ("GRPC_ADDR", "127.0.0.1:0".to_owned()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ("DEV_KEY_DIR", keys.display().to_string()),
        ("SHUTDOWN_GRACE", "5s".to_owned()),
        ("READINESS_INTERVAL", "100ms".to_owned()),
    ];
    let own = scratch.stream("auditlog").await?;
    vars.push(("NATS_STREAM", own.stream_name));
    vars.push(("NATS_SUBJECT_PREFIX", own.subject_prefix));
    let mut peers = Vec::new();
    for peer in ["registration", "consent", "scheduling"] {
        let stream = scratch.stream(peer).await?;
        let upper = peer.to_uppercase();
        peers.push((format!("{upper}_NATS_STREAM"), stream.stream_name));
        peers.push((
            format!("{upper}_NATS_SUBJECT_PREFIX"),
            stream.subject_prefix,
        ));
    }
    let vars = vars
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .chain(peers)
        .map(|(name, value)| (format!("HELLOWORK_{name}"), value));
    let config = PlatformConfig::from_vars(Service::AuditLog, vars)?;
    let issuer = config.auth.issuer.clone();
    let audience = config.auth.audience.clone();
    // The development settings: the bench measures the service, not key handling.
    let settings = AuditLogSettings::from_vars(Environment::Development, std::iter::empty())?;
    let app = hellowork_audit_log::build_with(config, settings)
        .await
        .context("starting the audit-log service")?;
    let addr = app.grpc_addr();
    let shutdown = app.shutdown_token();
    let task = tokio::spawn(async move {
        if let Err(error) = app.run_until_stopped().await {
            eprintln!("error: the audit-log service stopped: {error}");
        }
    });
    scratch.service(shutdown, task);
    serving(addr).await?;

    // The service generated the key in this directory when it started.
    let token = DevKey::load_or_generate(&keys, "development")?.mint(&MintRequest {
        subject: "system:front".to_owned(),
        roles: vec![Role::System],
        ttl: TOKEN_TTL,
        issuer,
        audience,
        not_before: None,
        personnel_id: None,
    })?;
    Ok(AuditLog {
        addr,
        authorization: format!("Bearer {token}").parse()?,
        view: view_pool(scratch, &schema).await?,
    })
}

async fn view_pool(scratch: &Scratch, schema: &SchemaName) -> anyhow::Result<PgPool> {
    Ok(connect(
        scratch.database().clone(),
        schema,
        PgPoolOptions::new().max_connections(2),
    )
    .await?)
}

/// Polls the service's health until it reports SERVING.
async fn serving(addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + STARTUP;
    loop {
        if health(addr).await == Some(ServingStatus::Serving) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the audit-log service was not SERVING within {STARTUP:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn health(addr: SocketAddr) -> Option<ServingStatus> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .ok()?
        .connect()
        .await
        .ok()?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: hellowork_audit_log::SERVICE_NAME.to_owned(),
        })
        .await
        .ok()?;
    Some(response.into_inner().status())
}
