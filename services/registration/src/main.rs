//! `hellowork-registration`: the registration service binary.

use std::process::ExitCode;

use hellowork_platform::{PlatformConfig, Service};
use hellowork_registration::RegistrationSettings;

#[tokio::main]
async fn main() -> ExitCode {
    hellowork_platform::exit_with("hellowork-registration", run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = PlatformConfig::from_env(Service::Registration)?;
    // Checked before anything starts, so a bad variable is named plainly.
    let settings = RegistrationSettings::from_env(config.environment)?;
    let _telemetry = hellowork_telemetry::init(&config.telemetry_config())?;
    let application = hellowork_registration::build_with(config, settings).await?;
    application.run_until_stopped().await?;
    Ok(())
}
