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
    let application = hellowork_consent::app::build(config).await?;
    application.run_until_stopped().await?;
    Ok(())
}
