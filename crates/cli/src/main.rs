//! `hellowork`: the command a person runs against this backend.
// A command-line program: its output is the point.
#![allow(clippy::print_stdout)]

mod terms;
mod token;

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
    /// Mints a bearer token signed with the local development key, which the
    /// services trust in development (refused when HELLOWORK_ENVIRONMENT is
    /// production).
    Token(token::TokenArgs),
    /// Publishes terms texts to the consent service.
    #[command(subcommand)]
    Terms(terms::TermsCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Token(args) => token::run(&args),
        Command::Terms(command) => terms::run(&command),
    };
    match result {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("hellowork: {error}");
            ExitCode::from(2)
        }
    }
}
