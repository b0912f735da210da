//! `hellowork up`: the whole backend on one machine with one command. The
//! four services run as child processes against the configured PostgreSQL
//! and NATS, or, when those do not answer but are installed, against private
//! instances under the data folder, so a fresh machine needs no manual
//! set-up. Ctrl-C (or SIGTERM, SIGHUP) stops the services gracefully, then
//! the private instances.

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
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::{rpc, token::DevMinter};
use infra::Infra;
use services::{RunningService, Start};

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Where private PostgreSQL and NATS keep their data (kept between
    /// runs) and where every process writes its log.
    #[arg(long, default_value = ".data/up")]
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
    let inherited: Vec<(String, String)> = std::env::vars().collect();
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
        dev_key: dev_key.as_deref(),
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

/// Everything the services are started from.
struct Stack<'a> {
    binaries: &'a [(Service, PathBuf)],
    inherited: &'a [(String, String)],
    overrides: &'a [(String, String)],
    infra: &'a Infra,
    logs: &'a Path,
    dev_key: Option<&'a Path>,
}

impl Stack<'_> {
    /// Starts the services, reports them, and waits for a stop; then stops
    /// them. `Ok(clean)` after a requested stop; an error when a service
    /// failed on its own (after stopping the others).
    async fn run(&self, stop: &CancellationToken) -> Result<bool, String> {
        if stop.is_cancelled() {
            // Ctrl-C while PostgreSQL and NATS were being prepared.
            return Ok(true);
        }
        let mut planned = Vec::new();
        for (service, binary) in self.binaries {
            let (vars, config) = config::service_vars(*service, self.inherited, self.overrides)?;
            planned.push((*service, binary, vars, config));
        }
        let streams: Vec<_> = planned
            .iter()
            .map(|(_, _, _, config)| config.stream.clone())
            .collect();
        self.infra.ensure_streams(&streams).await?;
        let mut running = Vec::new();
        for (service, binary, vars, config) in &planned {
            let log = services::log_file(self.logs, *service);
            match RunningService::spawn(*service, binary, vars, config, log) {
                Ok(service) => running.push(service),
                Err(error) => {
                    services::stop_all(running).await;
                    return Err(error);
                }
            }
        }
        println!("starting the services (logs in {})", self.logs.display());
        let outcome = match services::wait_until_serving(&mut running, stop).await {
            Ok(Start::Serving) => {
                self.print_summary(&running);
                services::watch(&mut running, stop).await
            }
            Ok(Start::Stopped) => Ok(()),
            Err(error) => Err(error),
        };
        println!("stopping the services");
        let clean = services::stop_all(running).await;
        outcome.map(|()| clean)
    }

    /// What a person needs once everything is up.
    fn print_summary(&self, running: &[RunningService]) {
        println!("hellowork up: ready");
        println!("  PostgreSQL    {}", self.infra.database);
        println!("  NATS          {}", self.infra.nats);
        println!("  {:<14}{:<28}{:<34}log", "service", "gRPC", "metrics");
        for service in running {
            println!(
                "  {:<14}{:<28}{:<34}{}",
                service.service.name(),
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
