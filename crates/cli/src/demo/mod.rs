//! `hellowork demo`: drives a realistic scenario through the public gRPC
//! APIs of a running stack (`hellowork up`) and prints what an operator
//! would see afterwards. A dozen job seekers register, attest their device
//! and environment, apply, book counselling (one with an interpreter) and
//! a seminar, join and leave; a revision of the terms is announced
//! (Art. 13); a legal request is filed, approved and used (Art. 7(2)
//! proviso). The operator then sees the device-anonymized access log, the
//! k-anonymous statistics (Art. 7(2)) and the verdict on the hash chain.
//!
//! Every person, device and counsellor of a run is new, so the demo can run
//! again against the same stack. Tokens are minted with the development key
//! for each role, as `hellowork token` would.

mod clients;
mod journey;
mod legal;
mod people;
mod report;
mod scenario;
mod slots;
mod terms_of_use;
mod views;

use std::{future::Future, path::PathBuf, process::ExitCode, time::Duration};

use chrono::{DateTime, FixedOffset, Utc};
use clap::Args;

use hellowork_values::time::timestamp;

use crate::rpc;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The terms of use, published if no version is in force yet [default:
    /// the office's text at ../shared/seed/terms-of-use-hellowork-takamatsu.ja.txt
    /// if present (it is the office's and never part of this repository),
    /// else the stand-in written for this project]
    #[arg(long, value_name = "FILE")]
    terms: Option<PathBuf>,
    /// The folder `hellowork up --data-dir` used: the demo trusts the
    /// development CA it made there and speaks TLS when it did.
    #[arg(long, default_value = crate::transport::UP_DATA_DIR)]
    data_dir: PathBuf,
}

/// Runs the scenario and renders the operator's view; exit code 1 if the
/// log did not verify.
pub fn run(args: &DemoArgs) -> Result<(String, ExitCode), String> {
    let report = rpc::block_on(scenario::run(args.terms.as_deref(), &args.data_dir))?;
    let code = if report.verification.intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    Ok((report::render(&report), code))
}

/// Who publishes the terms and reads the views.
const OPERATOR: &str = "operator-1";

/// Asia/Tokyo, where the office's dates are (Art. 14): UTC+9 all year,
/// Japan keeps no daylight saving time.
const TOKYO: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+9 is a valid offset"),
};

/// An instant from the contracts; the epoch if unset.
fn time(at: Option<&prost_types::Timestamp>) -> DateTime<Utc> {
    at.and_then(|t| DateTime::from_timestamp(t.seconds, 0))
        .unwrap_or_default()
}

/// A refusal as a person reads it; an unknown token key most likely means
/// the demo runs with another development key than the stack.
fn explain(status: tonic::Status) -> String {
    let hint = if status.code() == tonic::Code::Unauthenticated {
        " (the services trust the development key of the folder `hellowork up` runs in: \
         run the demo there, or set HELLOWORK_DEV_KEY_DIR to that key's folder)"
    } else {
        ""
    };
    format!("{}{hint}", crate::rpc::describe(status))
}

/// Progress for the person waiting, on stderr so stdout is the report alone.
fn progress(step: &str) {
    eprintln!("· {step}");
}

/// Why an attempt of [`eventually`] did not succeed yet, or never will.
#[derive(Debug)]
enum Pending {
    /// Worth asking again (a read model catching up, eligibility not yet
    /// heard of); the reason is shown if patience runs out.
    Retry(String),
    /// A real failure: stop at once.
    Fail(String),
}

/// Asks until `attempt` succeeds: the services are eventually consistent
/// (events reach other services and read models moments after a call
/// returns), so a client polls with a deadline rather than sleeping.
async fn eventually<T, F, Fut>(what: &str, patience: Duration, mut attempt: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Pending>>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Pending::Fail(error)) => return Err(format!("{what}: {error}")),
            Err(Pending::Retry(reason)) if tokio::time::Instant::now() >= deadline => {
                return Err(format!(
                    "{what}: still not done after {}s ({reason})",
                    patience.as_secs()
                ));
            }
            Err(Pending::Retry(_)) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
