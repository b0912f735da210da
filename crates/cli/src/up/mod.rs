//! `hellowork up`: the whole backend on one machine with one command. The
//! four services run as child processes against the configured PostgreSQL
//! and NATS, or, when those do not answer but are installed, against private
//! instances under the data folder, so a fresh machine needs no manual
//! set-up; the access log's witness runs as a fifth once the audit-log is
//! SERVING, with its own storage under the data folder. Ctrl-C (or SIGTERM,
//! SIGHUP) stops the witness and the services gracefully, then the private
//! instances.

mod config;
mod infra;
mod private;
mod process;
mod services;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::Args;
use hellowork_auth::DEV_KEY_FILE;
use hellowork_platform::{Environment, PlatformConfig, Service};
use hellowork_tls::dev_pki::{self, DevPki};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::{rpc, token::DevMinter, transport::ClientTransport};
use infra::Infra;
use services::{Binaries, Program, RunningService, Start};

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Where private PostgreSQL and NATS and the witness keep their data
    /// (kept between runs) and where every process writes its log.
    #[arg(long, default_value = crate::transport::UP_DATA_DIR)]
    data_dir: PathBuf,
    /// Fail when the configured PostgreSQL or NATS does not answer instead
    /// of starting a private one.
    #[arg(long)]
    no_private: bool,
}

/// Runs the stack until Ctrl-C; returns the closing line and exit code 0
/// when everything stopped cleanly, 1 when a service did not.
pub fn run(args: &UpArgs) -> Result<(String, ExitCode), String> {
    rpc::block_on(up(args))
}

async fn up(args: &UpArgs) -> Result<(String, ExitCode), String> {
    // Before anything starts, so a missing build costs nothing.
    let binaries = services::locate()?;
    let stop = stop_signals()?;
    let data_dir = std::path::absolute(&args.data_dir)
        .map_err(|e| format!("--data-dir {}: {e}", args.data_dir.display()))?;
    let logs = data_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    // With the environment named: the services have no default.
    let inherited = crate::environment::vars();
    let base = PlatformConfig::from_vars(Service::Registration, inherited.clone())
        .map_err(|e| e.to_string())?;
    // The services resolve the key folder against their working folder,
    // which is ours; an absolute path keeps that true for anyone reading
    // the summary elsewhere.
    let key_dir = std::path::absolute(&base.auth.dev_key_dir)
        .map_err(|e| format!("HELLOWORK_DEV_KEY_DIR: {e}"))?;
    // Generated now if missing, so the summary can name the key the
    // services trust; `None` in production, where tokens come from the
    // office's identity provider.
    let dev_key = match base.environment {
        Environment::Development => {
            DevMinter::from_env()?;
            Some(key_dir.join(DEV_KEY_FILE))
        }
        Environment::Production => None,
    };

    services::stop_leftovers(&logs).await;
    let pki = development_pki(&base, &inherited, &data_dir)?;
    // What `up` itself checks the services' health with, as `hellowork
    // demo` will call them.
    let probe = ClientTransport::discover(&data_dir, "cli")?;
    let infra = Infra::prepare(&base, &data_dir, !args.no_private).await?;
    let mut overrides = infra.overrides.clone();
    overrides.push((
        "HELLOWORK_DEV_KEY_DIR".to_owned(),
        key_dir.display().to_string(),
    ));
    let stack = Stack {
        binaries: &binaries,
        inherited: &inherited,
        overrides: &overrides,
        infra: &infra,
        logs: &logs,
        witness_state: &data_dir.join("witness"),
        dev_key: dev_key.as_deref(),
        pki: pki.as_ref(),
        probe: &probe,
    };
    let outcome = stack.run(&stop).await;
    if infra.has_private() {
        println!("stopping the private servers");
    }
    infra.stop().await;
    let clean = outcome?;
    if clean {
        Ok(("hellowork up: stopped".to_owned(), ExitCode::SUCCESS))
    } else {
        Ok((
            "hellowork up: stopped, but not every service cleanly".to_owned(),
            ExitCode::from(1),
        ))
    }
}

/// Everything the services and the witness are started from.
struct Stack<'a> {
    binaries: &'a Binaries,
    inherited: &'a [(String, String)],
    overrides: &'a [(String, String)],
    infra: &'a Infra,
    logs: &'a Path,
    /// The witness's own storage (unless `HELLOWORK_WITNESS_STATE_DIR`
    /// names another).
    witness_state: &'a Path,
    dev_key: Option<&'a Path>,
    /// The development PKI each process gets its certificate from, unless
    /// `HELLOWORK_TLS_*` were given.
    pki: Option<&'a DevPki>,
    probe: &'a ClientTransport,
}

/// In development without `HELLOWORK_TLS_*` configured, a CA and a
/// certificate for every process under `<data dir>/pki` (kept between
/// runs while valid), so the stack speaks TLS as production does.
fn development_pki(
    base: &PlatformConfig,
    inherited: &[(String, String)],
    data_dir: &Path,
) -> Result<Option<DevPki>, String> {
    let configured = inherited
        .iter()
        .any(|(name, value)| name.starts_with("HELLOWORK_TLS_") && !value.trim().is_empty());
    if configured || base.environment == Environment::Production {
        return Ok(None);
    }
    DevPki::ensure(&data_dir.join("pki"), &dev_pki::NAMES)
        .map(Some)
        .map_err(|e| format!("cannot create the development certificates: {e}"))
}

/// The `HELLOWORK_TLS_*` variables of the process named `name`.
fn tls_vars(pki: Option<&DevPki>, name: &str) -> Vec<(String, String)> {
    let Some(pki) = pki else {
        return Vec::new();
    };
    [
        ("HELLOWORK_TLS_CERT_FILE", pki.cert(name)),
        ("HELLOWORK_TLS_KEY_FILE", pki.key(name)),
        ("HELLOWORK_TLS_CA_FILE", pki.ca()),
    ]
    .into_iter()
    .map(|(variable, path)| (variable.to_owned(), path.display().to_string()))
    .collect()
}

impl Stack<'_> {
    /// Starts the services, then the witness once they are SERVING,
    /// reports them, and waits for a stop; then stops the witness and the
    /// services. `Ok(clean)` after a requested stop; an error when a
    /// program failed on its own (after stopping the others).
    async fn run(&self, stop: &CancellationToken) -> Result<bool, String> {
        if stop.is_cancelled() {
            // Ctrl-C while PostgreSQL and NATS were being prepared.
            return Ok(true);
        }
        // Every configuration is checked before anything starts.
        let mut planned = Vec::new();
        for (service, binary) in &self.binaries.services {
            let overrides = [self.overrides, &tls_vars(self.pki, service.name())].concat();
            let (mut vars, config) = config::service_vars(*service, self.inherited, &overrides)?;
            vars.extend(self.infra.nats_vars(*service));
            planned.push((*service, binary, vars, config));
        }
        let audit_log_url = planned
            .iter()
            .find(|(service, ..)| *service == Service::AuditLog)
            .map(|(_, _, _, config)| config.endpoint_of(Service::AuditLog).to_owned())
            .ok_or("the audit-log is not among the services")?;
        let (witness_vars, witness_config) = config::witness_vars(
            self.inherited,
            &[self.overrides, &tls_vars(self.pki, "witness")].concat(),
            &audit_log_url,
            self.witness_state,
        )?;
        let streams: Vec<_> = planned
            .iter()
            .map(|(_, _, _, config)| config.stream.clone())
            .collect();
        self.infra.ensure_streams(&streams).await?;
        let mut running = Vec::new();
        for (service, binary, vars, config) in &planned {
            let program = Program::Service(*service);
            let log = services::log_file(self.logs, program);
            let spawned = RunningService::spawn(
                program,
                binary,
                vars,
                config.endpoint_of(*service).to_owned(),
                config.metrics_addr,
                log,
                self.probe,
            );
            match spawned {
                Ok(service) => running.push(service),
                Err(error) => {
                    services::stop_all(running).await;
                    return Err(error);
                }
            }
        }
        println!("starting the services (logs in {})", self.logs.display());
        let mut witness = Vec::new();
        let outcome = match services::wait_until_serving(&mut running, stop).await {
            // The witness's first check needs the audit-log SERVING.
            Ok(Start::Serving) => {
                let program = Program::Witness;
                match RunningService::spawn(
                    program,
                    &self.binaries.witness,
                    &witness_vars,
                    format!(
                        "{}://{}",
                        if witness_config.tls.is_some() {
                            "https"
                        } else {
                            "http"
                        },
                        witness_config.grpc_addr
                    ),
                    witness_config.metrics_addr,
                    services::log_file(self.logs, program),
                    self.probe,
                ) {
                    Ok(spawned) => {
                        witness.push(spawned);
                        services::wait_until_serving(&mut witness, stop).await
                    }
                    Err(error) => Err(error),
                }
            }
            other => other,
        };
        let outcome = match outcome {
            Ok(Start::Serving) => {
                self.print_summary(&running, &witness);
                // Whichever exits first stops everything.
                tokio::select! {
                    outcome = services::watch(&mut running, stop) => outcome,
                    outcome = services::watch(&mut witness, stop) => outcome,
                }
            }
            Ok(Start::Stopped) => Ok(()),
            Err(error) => Err(error),
        };
        println!("stopping the services");
        // The witness first: it would only find the audit-log unreachable.
        let witness_clean = services::stop_all(witness).await;
        let clean = services::stop_all(running).await;
        outcome.map(|()| clean && witness_clean)
    }

    /// What a person needs once everything is up.
    fn print_summary(&self, running: &[RunningService], witness: &[RunningService]) {
        println!("hellowork up: ready");
        println!("  PostgreSQL    {}", self.infra.database);
        println!("  NATS          {}", self.infra.nats);
        match self.pki {
            Some(pki) => println!(
                "  gRPC TLS      development CA {} (clients: HELLOWORK_TLS_CA_FILE; the \
                 hellowork command finds it here)",
                pki.ca().display()
            ),
            None if self.probe.is_tls() => {
                println!("  gRPC TLS      as HELLOWORK_TLS_* configure it")
            }
            None => println!("  gRPC TLS      NONE: plaintext (HELLOWORK_TLS_* unset)"),
        }
        println!("  {:<14}{:<28}{:<34}log", "service", "gRPC", "metrics");
        for service in running.iter().chain(witness) {
            println!(
                "  {:<14}{:<28}{:<34}{}",
                service.program.name(),
                service.grpc_url,
                format!("http://{}/metrics", service.metrics_addr),
                service.log.display()
            );
        }
        match self.dev_key {
            Some(key) => {
                println!(
                    "Development tokens, signed with {} (trusted by the services), from this folder \
                     (elsewhere, set HELLOWORK_DEV_KEY_DIR={}):",
                    key.display(),
                    key.parent().unwrap_or(key).display()
                );
                println!(
                    "  cargo run -q -p hellowork-cli -- token --subject counsellor-1 --role counsellor"
                );
                println!("The operator view of a scenario, from another terminal in this folder:");
                println!("  cargo run -q -p hellowork-cli -- demo");
                if let Some(witness) = witness.first() {
                    println!("The access log checked against the witness's cosigned checkpoint:");
                    println!(
                        "  cargo run -q -p hellowork-cli -- verify-log --witness {}",
                        witness.grpc_url
                    );
                }
            }
            None => println!(
                "Production: tokens come from the identity provider (HELLOWORK_JWT_PUBLIC_KEYS)"
            ),
        }
        println!("Ctrl-C stops everything.");
    }
}

/// A token cancelled by the first SIGINT (Ctrl-C), SIGTERM or SIGHUP (the
/// terminal closed): `up` then stops its children in order instead of
/// dying and leaving them behind.
fn stop_signals() -> Result<CancellationToken, String> {
    let listen =
        |kind: SignalKind| signal(kind).map_err(|e| format!("cannot listen for signals: {e}"));
    let (mut interrupt, mut terminate, mut hangup) = (
        listen(SignalKind::interrupt())?,
        listen(SignalKind::terminate())?,
        listen(SignalKind::hangup())?,
    );
    let stop = CancellationToken::new();
    let cancel = stop.clone();
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
            _ = hangup.recv() => "SIGHUP",
        };
        println!("{name} received: stopping");
        cancel.cancel();
    });
    Ok(stop)
}
