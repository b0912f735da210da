//! The four service binaries as children of the bench, wired as
//! `hellowork up` wires them (every service told where the others listen
//! and where their streams are) but on the run's own schemas, streams,
//! ports and development key, so the run shares nothing with anything else
//! on the machine. Unless the run is `--plaintext`, every service serves
//! TLS and calls the others over mutual TLS, as in production, with
//! certificates from a development CA of the run's own. They are the release binaries found beside the bench's
//! own: cargo builds only the bench for `cargo run -p hellowork-bench`, so
//! a missing one is reported with the command that builds it.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use hellowork_auth::DevKey;
use hellowork_eventstore::SchemaName;
use hellowork_platform::{PlatformConfig, Service};
use hellowork_testing::Port;
use hellowork_tls::{
    ClientTls,
    dev_pki::{self, DevPki},
};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;
use tonic::transport::Endpoint;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use super::clients::Minter;
use crate::scratch::Scratch;

/// The first start migrates four schemas.
const START_PATIENCE: Duration = Duration::from_secs(60);
/// In-flight requests get this long after SIGTERM (`HELLOWORK_SHUTDOWN_GRACE`).
const SHUTDOWN_GRACE: &str = "5s";
/// Then the process is killed: shorter than the time the run's clean-up
/// waits before dropping the schemas anyway.
const STOP_PATIENCE: Duration = Duration::from_secs(8);

/// How cargo names a service's binary.
fn binary(service: Service) -> &'static str {
    match service {
        Service::Registration => "hellowork-registration",
        Service::Consent => "hellowork-consent",
        Service::Scheduling => "hellowork-scheduling",
        Service::AuditLog => "hellowork-audit-log",
    }
}

/// One service process.
#[derive(Debug)]
pub struct Running {
    pub service: Service,
    pub url: String,
    pub metrics_addr: SocketAddr,
    pub pid: u32,
    log: PathBuf,
}

/// The running stack, the development key every service trusts, and the
/// schemas of the two services whose read models the bench watches.
#[derive(Debug)]
pub struct Stack {
    pub services: Vec<Running>,
    pub minter: Minter,
    pub scheduling_schema: SchemaName,
    pub auditlog_schema: SchemaName,
    /// Cancelled when a service exits on its own; `death` says which.
    died: CancellationToken,
    death: Arc<Mutex<String>>,
    /// Held while the services listen on them.
    _ports: Vec<Port>,
    /// The run's development CA and certificates, unless `--plaintext`.
    pki: Option<DevPki>,
}

impl Stack {
    /// The TLS of a client presenting the certificate issued to
    /// `identity` (`front`, `scheduling`, …); `None` for a plaintext run.
    pub fn client_tls(&self, identity: &str) -> anyhow::Result<Option<Arc<ClientTls>>> {
        let Some(pki) = &self.pki else {
            return Ok(None);
        };
        let (cert, key) = (pki.cert(identity), pki.key(identity));
        Ok(Some(ClientTls::load(&pki.ca(), Some((&cert, &key)))?))
    }

    pub fn get(&self, service: Service) -> &Running {
        self.services
            .iter()
            .find(|running| running.service == service)
            .unwrap_or_else(|| unreachable!("every service is started"))
    }

    /// Resolves once a service has exited on its own: the run is then
    /// measuring something else, so it ends with the end of that log.
    pub async fn died(&self) -> anyhow::Error {
        self.died.cancelled().await;
        let death = self
            .death
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        anyhow::anyhow!("{death}")
    }
}

/// The binaries beside the running bench, or the command that builds them.
fn locate() -> anyhow::Result<Vec<(Service, PathBuf)>> {
    let exe = std::env::current_exe().context("locating the bench binary")?;
    let dir = exe.parent().context("the bench binary is in no folder")?;
    let found: Vec<_> = Service::ALL
        .iter()
        .map(|&service| (service, dir.join(binary(service))))
        .collect();
    let missing: Vec<&str> = found
        .iter()
        .filter(|(_, path)| !path.is_file())
        .map(|(service, _)| binary(*service))
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "{} not built in {}; build the services first:\n  \
         cargo build --release --bins -p hellowork-registration -p hellowork-consent \
         -p hellowork-scheduling -p hellowork-audit-log",
        missing.join(", "),
        dir.display()
    );
    Ok(found)
}

/// A port below the kernel's ephemeral range, held for the run: a port 0
/// picked and released races with the run's own connections, and once cost
/// a run its audit-log ("Address already in use").
fn reserve_port(held: &mut Vec<Port>) -> SocketAddr {
    let port = Port::reserve();
    let addr = SocketAddr::from(([127, 0, 0, 1], port.number()));
    held.push(port);
    addr
}

/// Starts the four services on the run's resources and waits until each
/// is SERVING. Each is registered with `scratch`, which stops it (SIGTERM,
/// then a kill) before removing what it works on.
pub async fn start(scratch: &mut Scratch, tls: bool) -> anyhow::Result<Stack> {
    let binaries = locate()?;
    let keys = scratch.directory("keys")?;
    let logs = scratch.directory("logs")?;
    let pki = if tls {
        Some(DevPki::ensure(&scratch.directory("pki")?, &dev_pki::NAMES)?)
    } else {
        None
    };
    let scheme = if tls { "https" } else { "http" };
    // Generated now, so four processes do not race to create it.
    let key = DevKey::load_or_generate(&keys, "development")?;
    let mut shared = vec![
        // The development key above: the services are told so, as they
        // have no default environment.
        ("ENVIRONMENT".to_owned(), "development".to_owned()),
        ("DATABASE_URL".to_owned(), scratch.database_url().to_owned()),
        ("NATS_URL".to_owned(), scratch.nats_url().to_owned()),
        ("DEV_KEY_DIR".to_owned(), keys.display().to_string()),
        ("SHUTDOWN_GRACE".to_owned(), SHUTDOWN_GRACE.to_owned()),
    ];
    // Each service's own variables, in `Service::ALL` order.
    let mut own = Vec::new();
    let mut schemas = Vec::new();
    let mut ports = Vec::new();
    for service in Service::ALL {
        let name = service.name();
        let upper = name.to_uppercase();
        let schema = scratch.schema(name)?;
        let stream = scratch.stream(name).await?;
        let (grpc, metrics) = (reserve_port(&mut ports), reserve_port(&mut ports));
        shared.push((format!("{upper}_URL"), format!("{scheme}://{grpc}")));
        shared.push((format!("{upper}_NATS_STREAM"), stream.stream_name.clone()));
        shared.push((
            format!("{upper}_NATS_SUBJECT_PREFIX"),
            stream.subject_prefix.clone(),
        ));
        own.push(vec![
            ("DATABASE_SCHEMA".to_owned(), schema.as_str().to_owned()),
            ("NATS_STREAM".to_owned(), stream.stream_name),
            ("NATS_SUBJECT_PREFIX".to_owned(), stream.subject_prefix),
            ("GRPC_ADDR".to_owned(), grpc.to_string()),
            ("METRICS_ADDR".to_owned(), metrics.to_string()),
        ]);
        if let Some(pki) = &pki {
            own.last_mut().expect("just pushed").extend(
                [
                    ("TLS_CERT_FILE", pki.cert(name)),
                    ("TLS_KEY_FILE", pki.key(name)),
                    ("TLS_CA_FILE", pki.ca()),
                ]
                .map(|(variable, path)| (variable.to_owned(), path.display().to_string())),
            );
        }
        schemas.push((service, schema));
    }
    let died = CancellationToken::new();
    let death = Arc::new(Mutex::new(String::new()));
    let mut services = Vec::new();
    let mut auth = None;
    for ((service, path), vars) in binaries.iter().zip(own) {
        let vars: Vec<(String, String)> = inherited()
            .chain(
                shared
                    .iter()
                    .chain(&vars)
                    .map(|(name, value)| (format!("HELLOWORK_{name}"), value.clone())),
            )
            .collect();
        let config = PlatformConfig::from_vars(*service, vars.clone())?;
        auth.get_or_insert((config.auth.issuer.clone(), config.auth.audience.clone()));
        let log = logs.join(format!("{}.log", service.name()));
        let child = spawn(path, &vars, &log)?;
        let pid = child.id().context("the service exited at once")?;
        let shutdown = CancellationToken::new();
        let watch = Watch {
            name: binary(*service),
            log: log.clone(),
            died: died.clone(),
            death: Arc::clone(&death),
        };
        scratch.service(
            shutdown.clone(),
            tokio::spawn(supervise(child, pid, shutdown, watch)),
        );
        services.push(Running {
            service: *service,
            url: config.endpoint_of(*service).to_owned(),
            metrics_addr: config.metrics_addr,
            pid,
            log,
        });
    }
    let schema_of = |wanted: Service| {
        schemas
            .iter()
            .find(|(service, _)| *service == wanted)
            .map(|(_, schema)| schema.clone())
            .unwrap_or_else(|| unreachable!("every service has a schema"))
    };
    let (issuer, audience) = auth.unwrap_or_default();
    let stack = Stack {
        services,
        minter: Minter {
            key,
            issuer,
            audience,
        },
        scheduling_schema: schema_of(Service::Scheduling),
        auditlog_schema: schema_of(Service::AuditLog),
        died,
        death,
        _ports: ports,
        pki,
    };
    tokio::select! {
        serving = all_serving(&stack) => serving?,
        error = stack.died() => return Err(error),
    }
    Ok(stack)
}

/// The bench's own `HELLOWORK_*` settings (`HELLOWORK_LOG`,
/// `HELLOWORK_DATABASE_MAX_CONNECTIONS`, …) reach all four, as with
/// `hellowork up`; the run's own values come after them and win.
fn inherited() -> impl Iterator<Item = (String, String)> {
    std::env::vars()
        .filter(|(name, _)| name.starts_with("HELLOWORK_") && !name.starts_with("HELLOWORK_BENCH_"))
}

/// Exactly `vars` as its environment, output to `log`, in a process group
/// of its own so that Ctrl-C reaches only the bench, which stops the
/// services before removing their schemas.
fn spawn(path: &Path, vars: &[(String, String)], log: &Path) -> anyhow::Result<Child> {
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    Command::new(path)
        .env_clear()
        .envs(vars.iter().map(|(name, value)| (name, value)))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", path.display()))
}

/// Where a service's unexpected exit is reported.
#[derive(Debug)]
struct Watch {
    name: &'static str,
    log: PathBuf,
    died: CancellationToken,
    death: Arc<Mutex<String>>,
}

/// Waits for `shutdown`, then stops the child gracefully; reports an exit
/// that comes first.
async fn supervise(mut child: Child, pid: u32, shutdown: CancellationToken, watch: Watch) {
    tokio::select! {
        () = shutdown.cancelled() => {}
        status = child.wait() => {
            let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
            *watch.death.lock().unwrap_or_else(PoisonError::into_inner) = format!(
                "{} exited on its own ({status}); the end of its log:\n{}",
                watch.name,
                tail(&watch.log)
            );
            watch.died.cancel();
            return;
        }
    }
    // `kill` rather than libc: the workspace forbids unsafe code.
    let _ = Command::new("kill")
        .args(["-s", "TERM", &pid.to_string()])
        .status()
        .await;
    if tokio::time::timeout(STOP_PATIENCE, child.wait())
        .await
        .is_err()
    {
        eprintln!("warning: {} did not stop after SIGTERM; killed", watch.name);
        let _ = child.kill().await;
    }
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

async fn all_serving(stack: &Stack) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_PATIENCE;
    let tls = stack.client_tls("cli")?;
    for running in &stack.services {
        while !serving(&running.url, tls.clone()).await {
            anyhow::ensure!(
                Instant::now() < deadline,
                "{} was not SERVING within {START_PATIENCE:?}; the end of its log:\n{}",
                binary(running.service),
                tail(&running.log)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// Whether the server as a whole reports SERVING (it does once its
/// database and NATS answer).
async fn serving(url: &str, tls: Option<Arc<ClientTls>>) -> bool {
    let check = async {
        let endpoint = Endpoint::from_shared(url.to_owned()).ok()?;
        let channel = match tls {
            Some(tls) => hellowork_tls::channel(endpoint, tls),
            None => endpoint.connect().await.ok()?,
        };
        let response = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .ok()?;
        Some(response.into_inner().status() == ServingStatus::Serving)
    };
    tokio::time::timeout(Duration::from_secs(2), check)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}
