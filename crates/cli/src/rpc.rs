//! What every subcommand that calls a service shares: a runtime for its one
//! call, the bearer token it sends, and errors worded for a person.

use std::time::Duration;

use hellowork_auth::Role;
use tonic::metadata::{Ascii, MetadataValue};

/// Runs a subcommand's call on a single-threaded runtime: the command makes
/// one call and exits, so a thread pool would only add start-up time.
pub fn block_on<T>(call: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?
        .block_on(call)
}

/// The `authorization` header value: the given token (with or without its
/// `Bearer ` prefix), or a short-lived token for `role` minted with the
/// development key, as `hellowork token` would (refused in production), so
/// a developer needs no token to try a command locally.
pub fn bearer(token: Option<&str>, role: Role) -> Result<MetadataValue<Ascii>, String> {
    let token = match token {
        Some(token) => token.to_owned(),
        None => crate::token::mint("hellowork-cli", vec![role], Duration::from_secs(300))?,
    };
    format!("Bearer {}", token.trim_start_matches("Bearer ").trim())
        .parse()
        .map_err(|_| "the token is not valid header text".to_owned())
}

/// The status as a person reads it: code and message.
pub fn describe(status: tonic::Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}
