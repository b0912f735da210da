//! The four service binaries and the witness as children of `hellowork
//! up`: found next to the `hellowork` binary, started with their
//! environment, watched through gRPC health, stopped with SIGTERM (their
//! graceful shutdown).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitStatus,
    time::{Duration, Instant},
};

use hellowork_platform::Service;
use tokio::process::Child;
use tokio_util::sync::CancellationToken;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use super::process::{self, logged, tail, wait_or_kill};
use crate::transport::ClientTransport;

/// How long the services may take to become SERVING (the first start
/// migrates four schemas).
const START_PATIENCE: Duration = Duration::from_secs(90);

/// How long a service may take to stop after SIGTERM: its grace period for
/// in-flight requests (`HELLOWORK_SHUTDOWN_GRACE`, default 20 s) and 10 s for
/// its background tasks, with a margin.
const STOP_PATIENCE: Duration = Duration::from_secs(35);

/// A program `up` runs: one of the four services, or the access log's
/// witness, which is no service of the platform (no database, no stream)
/// but is run and watched the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    Service(Service),
    Witness,
}

impl Program {
    /// Every program, in the order they start: the witness last, once the
    /// audit-log it watches is SERVING.
    pub fn all() -> impl Iterator<Item = Self> {
        Service::ALL
            .into_iter()
            .map(Self::Service)
            .chain([Self::Witness])
    }

    /// The name of its binary, as cargo builds it.
    pub fn binary(self) -> &'static str {
        match self {
            Self::Service(Service::Registration) => "hellowork-registration",
            Self::Service(Service::Consent) => "hellowork-consent",
            Self::Service(Service::Scheduling) => "hellowork-scheduling",
            Self::Service(Service::AuditLog) => "hellowork-audit-log",
            Self::Witness => "hellowork-witness",
        }
    }

    /// Its name in the summary and of its log file.
    pub fn name(self) -> &'static str {
        match self {
            Self::Service(service) => service.name(),
            Self::Witness => "witness",
        }
    }
}

/// The binaries `up` runs.
#[derive(Debug)]
pub struct Binaries {
    pub services: Vec<(Service, PathBuf)>,
    pub witness: PathBuf,
}

/// The binaries in the folder of the running `hellowork`, where `cargo
/// build --workspace` puts every binary of the workspace.
pub fn locate() -> Result<Binaries, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot tell where the hellowork binary is: {e}"))?;
    let dir = exe
        .parent()
        .ok_or("the hellowork binary is in no folder")?
        .to_path_buf();
    let missing: Vec<&str> = Program::all()
        .map(Program::binary)
        .filter(|binary| !dir.join(binary).is_file())
        .collect();
    if missing.is_empty() {
        return Ok(Binaries {
            services: Service::ALL
                .iter()
                .map(|&service| (service, dir.join(Program::Service(service).binary())))
                .collect(),
            witness: dir.join(Program::Witness.binary()),
        });
    }
    Err(format!(
        "{} not built in {}: build the whole workspace first \
         (`cargo build --workspace`), then run `cargo run -p hellowork-cli -- up` again",
        missing.join(", "),
        dir.display()
    ))
}

/// Where a program's log is; its pid file is beside it.
pub fn log_file(logs: &Path, program: Program) -> PathBuf {
    logs.join(format!("{}.log", program.name()))
}

/// Stops the programs an `up` that was killed left running (they outlive
/// it in process groups of their own and would hold their ports), before
/// anything new starts.
pub async fn stop_leftovers(logs: &Path) {
    for program in Program::all() {
        let pid_file = log_file(logs, program).with_extension("pid");
        process::stop_leftover(&pid_file, program.binary(), STOP_PATIENCE).await;
    }
}

/// One service (or the witness) running as a child process.
#[derive(Debug)]
pub struct RunningService {
    pub program: Program,
    pub grpc_url: String,
    pub metrics_addr: SocketAddr,
    pub log: PathBuf,
    /// How its health is checked (over TLS where it serves TLS).
    probe: ClientTransport,
    child: Child,
}

impl RunningService {
    /// Starts `binary` with exactly `vars` as its environment (so a
    /// variable meant for one service cannot leak in from ours), output to
    /// `log`.
    pub fn spawn(
        program: Program,
        binary: &Path,
        vars: &[(String, String)],
        grpc_url: String,
        metrics_addr: SocketAddr,
        log: PathBuf,
        probe: &ClientTransport,
    ) -> Result<Self, String> {
        let child = logged(binary, &log)?
            .env_clear()
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            // Their output goes to a file: no terminal colour codes in it.
            .env("NO_COLOR", "1")
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        if let Some(pid) = child.id() {
            // For the next `up`, should this one be killed and leave it.
            let _ = std::fs::write(log.with_extension("pid"), pid.to_string());
        }
        Ok(Self {
            program,
            grpc_url,
            metrics_addr,
            log,
            probe: probe.clone(),
            child,
        })
    }

    pub fn name(&self) -> &'static str {
        self.program.binary()
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The end of its log, for a person to see why it failed.
    pub fn tail(&self) -> String {
        tail(&self.log, 40)
    }

    /// Whether the server as a whole reports SERVING (it does only while
    /// PostgreSQL answers and NATS is connected).
    async fn serving(&self) -> bool {
        let Ok(channel) = self.probe.channel(&self.grpc_url, Duration::from_secs(1)) else {
            return false;
        };
        let check = async {
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

    /// SIGTERM, then waits for the graceful shutdown; kills it if it takes
    /// too long. `None` when it had to be killed.
    pub async fn terminate(mut self) -> (Self, Option<ExitStatus>) {
        if let Some(pid) = self.child.id() {
            process::signal(pid, "TERM").await;
        }
        let status = wait_or_kill(&mut self.child, STOP_PATIENCE).await;
        (self, status)
    }
}

/// How waiting for the services ended.
#[derive(Debug)]
pub enum Start {
    Serving,
    /// A stop was asked for (Ctrl-C) before all were SERVING.
    Stopped,
}

/// Waits until every service is SERVING. A service that exits or does not
/// become SERVING in time is an error carrying the end of its log.
pub async fn wait_until_serving(
    services: &mut [RunningService],
    stop: &CancellationToken,
) -> Result<Start, String> {
    let deadline = Instant::now() + START_PATIENCE;
    let mut serving = vec![false; services.len()];
    loop {
        for (service, ready) in services.iter_mut().zip(serving.iter_mut()) {
            if let Some(status) = service.exited() {
                return Err(failed(service, &format!("exited with {status}")));
            }
            if !*ready {
                *ready = service.serving().await;
            }
        }
        if serving.iter().all(|ready| *ready) {
            return Ok(Start::Serving);
        }
        if Instant::now() > deadline {
            let slow = services
                .iter()
                .zip(&serving)
                .find(|(_, ready)| !**ready)
                .map(|(service, _)| service);
            if let Some(service) = slow {
                return Err(failed(
                    service,
                    &format!("was not SERVING after {}s", START_PATIENCE.as_secs()),
                ));
            }
        }
        tokio::select! {
            () = stop.cancelled() => return Ok(Start::Stopped),
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
}

/// Waits until a stop is asked for (`Ok`) or a service exits on its own
/// (an error carrying the end of its log).
pub async fn watch(
    services: &mut [RunningService],
    stop: &CancellationToken,
) -> Result<(), String> {
    loop {
        for service in services.iter_mut() {
            if let Some(status) = service.exited() {
                return Err(failed(service, &format!("exited with {status}")));
            }
        }
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
}

fn failed(service: &RunningService, what: &str) -> String {
    format!(
        "{} {what}; the end of {}:\n{}",
        service.name(),
        service.log.display(),
        service.tail()
    )
}

/// Stops every service that is still running, all at once; returns whether
/// each stopped cleanly (exit status 0 within its patience).
pub async fn stop_all(services: Vec<RunningService>) -> bool {
    let results = futures::future::join_all(services.into_iter().map(|mut service| async move {
        if let Some(status) = service.exited() {
            return (service, Some(status), false);
        }
        let (service, status) = service.terminate().await;
        (service, status, true)
    }))
    .await;
    let mut clean = true;
    for (service, status, stopped_now) in results {
        let _ = std::fs::remove_file(service.log.with_extension("pid"));
        let name = service.name();
        let log = service.log.display();
        match status {
            Some(status) if status.success() && stopped_now => println!("  {name} stopped"),
            Some(status) if stopped_now => {
                clean = false;
                println!("  {name} stopped with {status}; see {log}");
            }
            Some(status) => {
                clean = false;
                println!("  {name} had exited with {status}; see {log}");
            }
            None => {
                clean = false;
                println!(
                    "  {name} did not stop within {}s and was killed; see {log}",
                    STOP_PATIENCE.as_secs()
                );
            }
        }
    }
    clean
}
