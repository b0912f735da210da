//! Benchmark programs for the Hello Work backend (not timed tests: they
//! measure throughput on the machine's real PostgreSQL and NATS and write a
//! report for the closing note of the issue that set the targets).
//!
//! `hellowork-bench eventstore [--seconds N]`: appends by the event store vs
//! raw single-row inserts vs cqrs-es/postgres-es at 1, 8 and 64 writers, and
//! the relay vs raw JetStream publishing; writes `target/bench/eventstore.json`.
//!
//! `hellowork-bench ingest [--seconds N]`: usage records through the
//! audit-log service's `RecordUsageBatch` into its access log vs the same
//! records inserted and published raw, and the append→view lag; writes
//! `target/bench/ingest.json`.

// The table on stdout is this program's output; the workspace denies
// print_stdout so that libraries log through tracing instead.
#![allow(clippy::print_stdout)]

mod eventstore;
mod ingest;
mod output;
mod scratch;
mod stats;

use std::{process::ExitCode, time::Duration};

use scratch::{Scratch, Settings};

const USAGE: &str = "\
usage: hellowork-bench <benchmark> [--seconds N]

benchmarks:
  eventstore   appends (ours, raw insert, cqrs-es) at 1, 8 and 64 writers;
               relay vs raw JetStream publish
  ingest       usage records through the audit-log service into its access
               log vs raw batched insert + JetStream publish; view lag

options:
  --seconds N  measured seconds per measurement (default 5)

environment:
  HELLOWORK_BENCH_DATABASE_URL  default postgres://postgres@127.0.0.1:5432/test
  HELLOWORK_BENCH_NATS_URL      default nats://127.0.0.1:4222";

/// The benchmarks this program knows; `e2e` joins here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Benchmark {
    EventStore,
    Ingest,
}

impl Benchmark {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "eventstore" => Some(Self::EventStore),
            "ingest" => Some(Self::Ingest),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Args {
    benchmark: Benchmark,
    /// How long each measurement counts commands.
    measure: Duration,
}

/// What the command line asked for: a benchmark to run, or the usage text.
#[derive(Debug)]
enum Request {
    Run(Args),
    Help,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Request, String> {
    let mut benchmark = None;
    let mut seconds = 5;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Request::Help),
            "--seconds" => {
                let value = args.next().ok_or("--seconds needs a value")?;
                seconds = value
                    .parse::<u64>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--seconds must be a positive integer: {value:?}"))?;
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag:?}")),
            name if benchmark.is_some() => return Err(format!("unexpected argument {name:?}")),
            name => {
                benchmark = Some(
                    Benchmark::from_name(name)
                        .ok_or_else(|| format!("unknown benchmark {name:?}"))?,
                );
            }
        }
    }
    let benchmark = benchmark.ok_or("no benchmark named")?;
    Ok(Request::Run(Args {
        benchmark,
        measure: Duration::from_secs(seconds),
    }))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Request::Run(args)) => args,
        Ok(Request::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // The kernel reports relay and writer trouble through tracing.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the benchmark, then removes its schemas and streams whether it
/// succeeded, failed or was interrupted.
async fn run(args: &Args) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let mut scratch = Scratch::open(settings).await?;
    let outcome = tokio::select! {
        outcome = run_benchmark(args, &mut scratch) => outcome,
        interrupted = tokio::signal::ctrl_c() => match interrupted {
            Ok(()) => Err(anyhow::anyhow!("interrupted")),
            Err(error) => Err(anyhow::Error::new(error).context("listening for ctrl-c")),
        },
    };
    scratch.clean_up().await;
    outcome
}

async fn run_benchmark(args: &Args, scratch: &mut Scratch) -> anyhow::Result<()> {
    match args.benchmark {
        Benchmark::EventStore => eventstore::run(scratch, args.measure).await,
        Benchmark::Ingest => ingest::run(scratch, args.measure).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Request, String> {
        parse(words.iter().map(|word| (*word).to_owned()))
    }

    #[test]
    fn a_benchmark_name_and_seconds_are_understood() {
        for (name, benchmark) in [
            ("eventstore", Benchmark::EventStore),
            ("ingest", Benchmark::Ingest),
        ] {
            let Ok(Request::Run(args)) = parse_words(&[name, "--seconds", "2"]) else {
                panic!("expected a run of {name}");
            };
            assert_eq!(args.benchmark, benchmark);
            assert_eq!(args.measure, Duration::from_secs(2));
        }
        let Ok(Request::Run(args)) = parse_words(&["--seconds", "3", "ingest"]) else {
            panic!("expected a run with the option first");
        };
        assert_eq!(args.benchmark, Benchmark::Ingest);
        assert_eq!(args.measure, Duration::from_secs(3));
        let Ok(Request::Run(args)) = parse_words(&["ingest"]) else {
            panic!("expected a run with the default seconds");
        };
        assert_eq!(args.measure, Duration::from_secs(5));
    }

    #[test]
    fn unknown_or_missing_benchmarks_are_refused() {
        assert!(parse_words(&["ingest2"]).is_err());
        assert!(parse_words(&[]).is_err());
        assert!(parse_words(&["eventstore", "--seconds", "0"]).is_err());
        assert!(parse_words(&["eventstore", "--fast"]).is_err());
        assert!(parse_words(&["ingest", "eventstore"]).is_err());
        assert!(parse_words(&["ingest", "--seconds"]).is_err());
    }
}
