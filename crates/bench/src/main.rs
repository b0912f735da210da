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
//!
//! `hellowork-bench e2e [--users N] [--seconds N] [--think-ms N]
//! [--plaintext]`: the four release service binaries as child processes
//! (over mutual TLS, signing their envelopes, unless `--plaintext`), N
//! simulated people booking, preparing, joining and leaving sessions and
//! viewing pages for the measured seconds; writes `target/bench/e2e.json`
//! (`e2e-plaintext.json`).

// The table on stdout is this program's output; the workspace denies
// print_stdout so that libraries log through tracing instead.
#![allow(clippy::print_stdout)]

mod e2e;
mod eventstore;
mod ingest;
mod output;
mod scratch;
mod stats;

use std::{process::ExitCode, time::Duration};

use scratch::{Scratch, Settings};

const USAGE: &str = "\
usage: hellowork-bench <benchmark> [--seconds N] [--users N] [--think-ms N] [--plaintext]

benchmarks:
  eventstore   appends (ours, raw insert, cqrs-es) at 1, 8 and 64 writers;
               relay vs raw JetStream publish
  ingest       usage records through the audit-log service into its access
               log vs raw batched insert + JetStream publish; view lag
  e2e          the four service binaries (build them first: cargo build
               --release --bins -p hellowork-registration -p hellowork-consent
               -p hellowork-scheduling -p hellowork-audit-log) under N
               simulated users: latency per method, bookings/s, outbox
               backlog, projection lag, CPU and memory per service

options:
  --seconds N   measured seconds per measurement (default 5; e2e 10)
  --users N     e2e: concurrent simulated users (default 200)
  --think-ms N  e2e: mean pause of a user before each call (default 0:
                every user always has a call in flight)
  --plaintext   e2e: gRPC without TLS (default: mutual TLS, as production),
                to see what TLS costs

environment:
  HELLOWORK_BENCH_DATABASE_URL  default postgres://postgres@127.0.0.1:5432/test
  HELLOWORK_BENCH_NATS_URL      default nats://127.0.0.1:4222";

/// The benchmarks this program knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Benchmark {
    EventStore,
    Ingest,
    E2e,
}

impl Benchmark {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "eventstore" => Some(Self::EventStore),
            "ingest" => Some(Self::Ingest),
            "e2e" => Some(Self::E2e),
            _ => None,
        }
    }

    /// Measured seconds unless `--seconds` says otherwise: e2e's users
    /// need longer for their slowest calls to show in a p99.
    fn default_seconds(self) -> u64 {
        match self {
            Self::EventStore | Self::Ingest => 5,
            Self::E2e => 10,
        }
    }
}

#[derive(Debug)]
struct Args {
    benchmark: Benchmark,
    /// How long each measurement counts commands.
    measure: Duration,
    /// e2e only: concurrent simulated users.
    users: usize,
    /// e2e only: a user's mean pause before each call.
    think: Duration,
    /// e2e only: gRPC without TLS.
    plaintext: bool,
}

/// What the command line asked for: a benchmark to run, or the usage text.
#[derive(Debug)]
enum Request {
    Run(Args),
    Help,
}

/// The value after `flag`, a whole number of at least `min`.
fn number(flag: &str, value: Option<String>, min: u64) -> Result<u64, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse::<u64>()
        .ok()
        .filter(|&n| n >= min)
        .ok_or_else(|| format!("{flag} must be an integer of at least {min}: {value:?}"))
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Request, String> {
    let mut benchmark = None;
    let mut seconds = None;
    let (mut users, mut think_ms, mut plaintext) = (None, None, false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Request::Help),
            "--seconds" => seconds = Some(number(&arg, args.next(), 1)?),
            "--users" => users = Some(number(&arg, args.next(), 1)?),
            "--think-ms" => think_ms = Some(number(&arg, args.next(), 0)?),
            "--plaintext" => plaintext = true,
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
    let benchmark: Benchmark = benchmark.ok_or("no benchmark named")?;
    if benchmark != Benchmark::E2e && (users.is_some() || think_ms.is_some() || plaintext) {
        return Err("--users, --think-ms and --plaintext apply to e2e only".to_owned());
    }
    Ok(Request::Run(Args {
        benchmark,
        measure: Duration::from_secs(seconds.unwrap_or(benchmark.default_seconds())),
        users: users
            .map_or(Ok(e2e::TARGET_USERS), usize::try_from)
            .map_err(|_| "--users is too large")?,
        think: Duration::from_millis(think_ms.unwrap_or(0)),
        plaintext,
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
                // disintegrate's rollback after a failed commit draws a
                // notice from PostgreSQL per conflict: not a finding.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("warn,sqlx::postgres::notice=error")
                }),
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
        Benchmark::E2e => {
            let options = e2e::Options {
                users: args.users,
                measure: args.measure,
                think: args.think,
                tls: !args.plaintext,
            };
            e2e::run(scratch, options).await
        }
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

    #[test]
    fn e2e_takes_users_and_think_time_with_its_own_defaults() {
        let Ok(Request::Run(args)) = parse_words(&["e2e"]) else {
            panic!("expected an e2e run");
        };
        assert_eq!(args.benchmark, Benchmark::E2e);
        assert_eq!(args.measure, Duration::from_secs(10));
        assert_eq!(args.users, 200);
        assert_eq!(args.think, Duration::ZERO);
        assert!(!args.plaintext, "mutual TLS unless told otherwise");
        let Ok(Request::Run(args)) = parse_words(&[
            "--users",
            "50",
            "e2e",
            "--seconds",
            "3",
            "--think-ms",
            "250",
            "--plaintext",
        ]) else {
            panic!("expected an e2e run with options");
        };
        assert_eq!(args.users, 50);
        assert_eq!(args.measure, Duration::from_secs(3));
        assert_eq!(args.think, Duration::from_millis(250));
        assert!(args.plaintext);
    }

    #[test]
    fn e2e_options_are_checked() {
        assert!(parse_words(&["e2e", "--users", "0"]).is_err());
        assert!(parse_words(&["e2e", "--users", "many"]).is_err());
        assert!(parse_words(&["e2e", "--users"]).is_err());
        assert!(parse_words(&["e2e", "--think-ms", "-1"]).is_err());
        assert!(parse_words(&["ingest", "--users", "10"]).is_err());
        assert!(parse_words(&["eventstore", "--think-ms", "10"]).is_err());
        assert!(parse_words(&["ingest", "--plaintext"]).is_err());
    }
}
