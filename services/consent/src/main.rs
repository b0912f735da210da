//! `hellowork-consent`: the consent service as a process.

use std::process::ExitCode;

use hellowork_platform::{PlatformConfig, Service};

#[tokio::main]
async fn main() -> ExitCode {
    hellowork_platform::exit_with("hellowork-consent", run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = PlatformConfig::from_env(Service::Consent)?;
    let _telemetry = hellowork_telemetry::init(&config.telemetry_config())?;
    // Before anything records a metric: the event store and the service
    // register counters at zero while starting, which a recorder installed
    // later (by the metrics endpoint) would never see.
    hellowork_telemetry::install_metrics_recorder()?;
    let application = hellowork_consent::app::build(config).await?;
    application.run_until_stopped().await?;
    Ok(())
}
