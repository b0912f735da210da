//! `hellowork verify-log`: has the audit-log service walk the hash chain of
//! the Art. 7 access log (`VerifyLog`), so an auditor learns whether entries
//! were edited, deleted, reordered or cut off without database access. The
//! verdict is also the exit code, so scripts and schedulers can act on it.

use std::process::ExitCode;

use chrono::DateTime;
use clap::Args;
use hellowork_auth::Role;
use hellowork_proto::auditlog::v1::{
    ChainFailure, VerifyLogRequest, VerifyLogResponse,
    audit_log_service_client::AuditLogServiceClient,
};

use crate::rpc::{self, describe};

#[derive(Debug, Args)]
pub struct VerifyLogArgs {
    /// First position to check; 0 means the first entry.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Last position to check; 0 means the head.
    #[arg(long, default_value_t = 0)]
    to: u64,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    json: bool,
    /// The audit-log service; the variable is the one services use to reach it.
    #[arg(
        long,
        env = "HELLOWORK_AUDITLOG_URL",
        default_value = "http://127.0.0.1:50054"
    )]
    endpoint: String,
    /// A bearer token with the auditor role; by default one is minted with
    /// the development key (development only).
    #[arg(long, env = "HELLOWORK_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// Verifies the requested range; returns the report and exit code 0 when
/// the chain is intact, 1 when it is broken. Not reaching a verdict (no
/// connection, refused token, invalid range) is an error.
pub fn run(args: &VerifyLogArgs) -> Result<(String, ExitCode), String> {
    let response = rpc::block_on(verify(args))?;
    let report = if args.json {
        json(&response)
    } else {
        summary(&response)
    };
    let code = if response.intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    Ok((report, code))
}

async fn verify(args: &VerifyLogArgs) -> Result<VerifyLogResponse, String> {
    let bearer = rpc::bearer(args.token.as_deref(), Role::Auditor)?;
    let mut client = AuditLogServiceClient::connect(args.endpoint.clone())
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", args.endpoint))?;
    let mut request = tonic::Request::new(VerifyLogRequest {
        from_sequence: args.from,
        to_sequence: args.to,
    });
    request.metadata_mut().insert("authorization", bearer);
    client
        .verify_log(request)
        .await
        .map(tonic::Response::into_inner)
        .map_err(describe)
}

/// The failure's name in the JSON report and what it means for the log.
fn failure(kind: ChainFailure) -> (&'static str, &'static str) {
    match kind {
        ChainFailure::HashMismatch => ("hash_mismatch", "an entry was edited"),
        ChainFailure::MissingEntry => ("missing_entry", "an entry was deleted"),
        ChainFailure::BrokenLink => ("broken_link", "entries were reordered"),
        ChainFailure::Truncated => ("truncated", "the log ends before its recorded head"),
        ChainFailure::Unspecified => ("unspecified", "the service named no cause"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn summary(response: &VerifyLogResponse) -> String {
    let verdict = if response.intact {
        "intact".to_owned()
    } else {
        let (name, meaning) = failure(response.failure());
        format!(
            "broken at sequence {}: {name} ({meaning})",
            response.first_bad_sequence
        )
    };
    format!(
        "{verdict}\nchecked {} entries from sequence {} to {}\nhead_hash {}",
        response.checked_count,
        response.from_sequence,
        response.to_sequence,
        hex(&response.head_hash)
    )
}

/// The response for scripts: `first_bad_sequence` and `failure` are null
/// when the chain is intact.
fn json(response: &VerifyLogResponse) -> String {
    let broken = !response.intact;
    serde_json::json!({
        "intact": response.intact,
        "from_sequence": response.from_sequence,
        "to_sequence": response.to_sequence,
        "checked_count": response.checked_count,
        "first_bad_sequence": broken.then_some(response.first_bad_sequence),
        "failure": broken.then(|| failure(response.failure()).0),
        "head_hash": hex(&response.head_hash),
        "verified_at": response.verified_at.as_ref()
            .and_then(|at| DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?))
            .map(|at| at.to_rfc3339()),
    })
    .to_string()
}
