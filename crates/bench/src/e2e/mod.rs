//! `e2e`: the four real service binaries under load from N simulated
//! people at once, each looping through booking, preparing, joining and
//! leaving a counselling session and a page view, for a fixed time. Serves
//! the target — p99 `BookSession` latency under 50 ms at 200
//! concurrent users on the 2-core development machine — with throughput,
//! per-method latency, outbox backlog, event→projection lag and each
//! process's CPU and memory beside it, so a miss says what limits it.

mod clients;
mod lag;
mod metrics;
mod monitor;
mod record;
mod report;
mod setup;
mod slots;
mod stack;
mod user;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use hellowork_auth::Role;
use hellowork_eventstore::{SchemaName, connect};
use sqlx::{PgPool, postgres::PgPoolOptions};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::{output, scratch::Scratch};
use clients::Connections;
use lag::Probe;
use monitor::Target;
use record::{Recorder, Window};
use report::Report;
use slots::{Counsellors, Pool};
use stack::Stack;
use user::{LagSamples, User};

/// The target: p99 `BookSession` latency below this many ms…
pub const TARGET_P99_MS: f64 = 50.0;
/// …at this many concurrent users.
pub const TARGET_USERS: usize = 200;
/// People per counsellor: sets how many users contend for one schedule
/// stream (a counsellor's slots and bookings are one aggregate).
const USERS_PER_COUNSELLOR: usize = 4;

/// What the command line chose.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub users: usize,
    pub measure: Duration,
    /// Mean pause before each call; zero keeps every user always calling.
    pub think: Duration,
    /// gRPC over mutual TLS, as in production (`--plaintext` turns it off
    /// to measure what it costs).
    pub tls: bool,
}

pub async fn run(scratch: &mut Scratch, options: Options) -> anyhow::Result<()> {
    // Long enough for connections, statement caches and the first burst of
    // every user starting at once to pass.
    let warm_up = (options.measure / 5).clamp(Duration::from_secs(1), Duration::from_secs(3));
    eprintln!("starting the four services");
    let stack = stack::start(scratch, options.tls).await?;
    let views = (
        view_pool(scratch, &stack.scheduling_schema).await?,
        view_pool(scratch, &stack.auditlog_schema).await?,
    );
    let report = tokio::select! {
        report = measure(&stack, views, options, warm_up) => report?,
        error = stack.died() => return Err(error),
    };
    report.print();
    // A run with think time is another question (people pausing, not a
    // saturated machine), so it does not overwrite the saturation figures.
    let mut name = if options.think.is_zero() {
        "e2e".to_owned()
    } else {
        format!("e2e-think-{}ms", options.think.as_millis())
    };
    if !options.tls {
        name.push_str("-plaintext");
    }
    let path = output::write_json(&name, &report.to_json())?;
    println!("\nwrote {}", path.display());
    Ok(())
}

/// One connection into a service's schema, for a lag poller.
async fn view_pool(scratch: &Scratch, schema: &SchemaName) -> anyhow::Result<PgPool> {
    Ok(connect(
        scratch.database().clone(),
        schema,
        PgPoolOptions::new().max_connections(1),
    )
    .await?)
}

async fn measure(
    stack: &Stack,
    (scheduling_view, auditlog_view): (PgPool, PgPool),
    options: Options,
    warm_up: Duration,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let connections = Connections::open(stack, "front").await?;
    let as_scheduling = Connections::open(stack, "scheduling").await?;
    eprintln!("enrolling {} people", options.users);
    let people = setup::people(stack, &connections, &as_scheduling, options.users).await?;
    let counsellor_count = options.users.div_ceil(USERS_PER_COUNSELLOR);
    eprintln!("publishing the slots of {counsellor_count} counsellors");
    let mut counsellors = Counsellors::new(&stack.minter, connections.get(0), counsellor_count)?;
    let pool = Arc::new(Pool::new(options.users));
    counsellors.publish_all(&pool).await?;
    let targets: Vec<Target> = stack
        .services
        .iter()
        .map(|running| Target {
            service: running.service,
            pid: running.pid,
            metrics_addr: running.metrics_addr,
        })
        .collect();
    eprintln!("waiting for the services to finish the set-up's events");
    let endpoints: Vec<_> = targets.iter().map(|target| target.metrics_addr).collect();
    metrics::settle(&endpoints).await?;
    let setup = started.elapsed();

    let (left, completed) = lag::watch(Probe::Completed, scheduling_view);
    let (joined, joined_lags) = lag::watch(Probe::Joined, auditlog_view);
    let opens = Instant::now() + warm_up;
    let window = Window {
        opens,
        closes: opens + options.measure,
    };
    let monitor = tokio::spawn(monitor::watch(targets, window));
    eprintln!(
        "{} users: {:.1} s warm-up, then {:.1} s measured",
        options.users,
        warm_up.as_secs_f64(),
        options.measure.as_secs_f64()
    );
    let front = stack.minter.bearer("system:front", Role::System)?;
    let mut users = JoinSet::new();
    for person in people {
        let user = User {
            clients: connections.get(person.index),
            person,
            front: front.clone(),
            think: options.think,
        };
        let lags = LagSamples {
            left: left.clone(),
            joined: joined.clone(),
        };
        users.spawn(user.run(Arc::clone(&pool), window, lags));
    }
    // The users hold the only senders now: the pollers end after them.
    drop((left, joined));
    let stop = CancellationToken::new();
    let replenishing = counsellors.replenish(&pool, window, stop.clone());
    tokio::pin!(replenishing);
    let all_users = async {
        let mut calls = Recorder::default();
        while let Some(user) = users.join_next().await {
            calls.merge(user?);
        }
        anyhow::Ok(calls)
    };
    let mut calls = tokio::select! {
        calls = all_users => calls?,
        // Users waiting for slots would wait forever.
        failed = &mut replenishing => {
            return Err(failed.err().unwrap_or_else(|| anyhow::anyhow!("publishing stopped")));
        }
    };
    stop.cancel();
    calls.merge(replenishing.await?);
    eprintln!("waiting for the projections to show every sampled call");
    Ok(Report {
        users: options.users,
        counsellors: counsellor_count,
        think: options.think,
        setup,
        warm_up,
        window: window.length(),
        calls: calls.sorted(),
        completed_lags: completed.await??,
        joined_lags: joined_lags.await??,
        usage: monitor.await??,
    })
}
