//! `hellowork`: the command a person runs against this backend.
// A command-line program: its output is the point.
#![allow(clippy::print_stdout)]

mod articles;
mod demo;
mod dev_secrets;
mod environment;
mod log_key;
mod rpc;
mod terms;
mod token;
mod transport;
mod up;
mod verify_log;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "hellowork",
    version,
    about = "Hello Work Takamatsu online-services backend"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the whole backend on this machine: the four services as child
    /// processes against the configured PostgreSQL and NATS, or private
    /// ones under --data-dir when those do not answer. Prints every
    /// endpoint once all are SERVING; Ctrl-C stops everything.
    Up(up::UpArgs),
    /// Drives a scenario through the running stack's public APIs (a dozen
    /// job seekers, a terms revision, a legal request) and prints what an
    /// operator sees: the anonymized access log, k-anonymous statistics and
    /// the log verification. Exit status 1 if the log does not verify.
    Demo(demo::DemoArgs),
    /// Writes a development CA with a certificate per process, and the NATS
    /// users with the project's NATS configuration, into --dir (docker
    /// compose's set-up job; `up` makes its own). Development only.
    DevSecrets(dev_secrets::DevSecretsArgs),
    /// Mints a bearer token signed with the local development key, which the
    /// services trust in development (refused when HELLOWORK_ENVIRONMENT is
    /// production).
    Token(token::TokenArgs),
    /// Generates an Ed25519 key pair for the access log's checkpoints (or,
    /// with --witness, a witness's cosignatures): the private key into
    /// --out (mode 0600), the verifier key to pin printed.
    LogKey(log_key::LogKeyArgs),
    /// Publishes terms texts to the consent service.
    #[command(subcommand)]
    Terms(terms::TermsCommand),
    /// Verifies the audit-log's access log on this side: the signed
    /// checkpoint under the pinned key, its consistency with the trusted one
    /// (kept from the last run, a file, or the witness's), and every entry
    /// rebuilt into the tree, or with --entry one inclusion proof. Exit
    /// status: 0 intact, 1 tampered (the first bad position or the
    /// inconsistent sizes printed), 2 no verdict.
    VerifyLog(verify_log::VerifyLogArgs),
    /// Lists each clause of the terms with the rules (reasons), tests and
    /// metrics that enforce it, found in this build's own sources, or why
    /// software cannot enforce it. Exit status 1 if an enforceable clause
    /// has no rule or no test.
    Articles(articles::ArticlesArgs),
}

/// Exit status 2 means the command could not do its work (as for clap's
/// usage errors); 1 is left to commands whose check found a problem, which
/// still print their report.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => up::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::DevSecrets(args) => {
            dev_secrets::run(&args).map(|output| (output, ExitCode::SUCCESS))
        }
        Command::Token(args) => token::run(&args).map(|output| (output, ExitCode::SUCCESS)),
        Command::LogKey(args) => log_key::run(&args).map(|output| (output, ExitCode::SUCCESS)),
        Command::Terms(command) => terms::run(&command).map(|output| (output, ExitCode::SUCCESS)),
        Command::VerifyLog(args) => verify_log::run(&args),
        Command::Articles(args) => articles::run(&args),
    };
    match result {
        Ok((output, code)) => {
            println!("{output}");
            code
        }
        Err(error) => {
            eprintln!("hellowork: {error}");
            ExitCode::from(2)
        }
    }
}
