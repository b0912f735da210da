//! `hellowork-audit-log`: the audit-log service binary.

use std::process::ExitCode;

use hellowork_audit_log::AuditLogSettings;
use hellowork_platform::{PlatformConfig, Service};

#[tokio::main]
async fn main() -> ExitCode {
    hellowork_platform::exit_with("hellowork-audit-log", run().await)
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
