//! `hellowork-scheduling`: the scheduling service binary.

use std::process::ExitCode;

use hellowork_platform::{PlatformConfig, Service};
use hellowork_scheduling::SchedulingSettings;

#[tokio::main]
async fn main() -> ExitCode {
    hellowork_platform::exit_with("hellowork-scheduling", run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = PlatformConfig::from_env(Service::Scheduling)?;
    // Checked before anything starts, so a bad variable is named plainly.
    let settings = SchedulingSettings::from_env(config.environment)?;
    let _telemetry = hellowork_telemetry::init(&config.telemetry_config())?;
    let application = hellowork_scheduling::build_with(config, settings).await?;
    application.run_until_stopped().await?;
    Ok(())
}
