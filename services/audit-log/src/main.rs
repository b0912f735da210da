//! `hellowork-audit-log`: the audit-log service binary.

use std::process::ExitCode;

use hellowork_audit_log::AuditLogSettings;
use hellowork_platform::{PlatformConfig, Service};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Telemetry may not be up yet: stderr is the one sure channel.
            eprintln!("hellowork-audit-log: {}", cause_chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = PlatformConfig::from_env(Service::AuditLog)?;
    // Checked before anything starts, so a bad variable is named plainly.
    let settings = AuditLogSettings::from_env(config.environment)?;
    let _telemetry = hellowork_telemetry::init(&config.telemetry_config())?;
    let application = hellowork_audit_log::build_with(config, settings).await?;
    application.run_until_stopped().await?;
    Ok(())
}

/// `outer: inner: innermost`.
fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}
