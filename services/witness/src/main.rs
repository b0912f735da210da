//! `hellowork-witness`: the access log's independent witness.

use std::process::ExitCode;

use hellowork_witness::WitnessConfig;

#[tokio::main]
async fn main() -> ExitCode {
    hellowork_platform::exit_with("hellowork-witness", run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = WitnessConfig::from_env()?;
    let _telemetry = hellowork_telemetry::init(&config.telemetry_config())?;
    let running = hellowork_witness::start(config).await?;
    running.until_stopped().await;
    Ok(())
}
