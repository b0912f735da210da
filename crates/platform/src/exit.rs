//! How a service process ends when it cannot start or run.

use std::process::ExitCode;

/// Success, or the error's whole cause chain on stderr (telemetry may not be
/// up yet: stderr is the one sure channel) and a failure exit code.
pub fn exit_with(binary: &str, result: Result<(), Box<dyn std::error::Error>>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{binary}: {}", crate::error::cause_chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}
