//! `hellowork-consent`: the consent service as a process.

use std::process::ExitCode;

use hellowork_platform::{PlatformConfig, Service};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hellowork-consent: {}", cause_chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = PlatformConfig::from_env(Service::Consent)?;
    let _telemetry = hellowork_telemetry::init(&config.telemetry_config())?;
    let application = hellowork_consent::app::build(config).await?;
    application.run_until_stopped().await?;
    Ok(())
}

/// `outer: inner: innermost`.
fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}
