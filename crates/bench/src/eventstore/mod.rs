//! `eventstore`: what our event store's appends, relay and rebuild achieve
//! next to the limits of the stack (raw single-row inserts, raw JetStream
//! publish) and next to the peer crates (cqrs-es with postgres-es,
//! disintegrate with disintegrate-postgres), all in one run on the same
//! PostgreSQL and NATS. The targets it reports are Step 12's (`report.rs`).

mod cqrs_es;
mod disintegrate;
mod measure;
mod ours;
mod raw_insert;
mod raw_publish;
mod relay;
mod report;
mod workload;

use std::time::Duration;

use anyhow::Context as _;

use crate::{output, scratch::Scratch};
use cqrs_es::CqrsEs;
use disintegrate::Disintegrate;
use measure::Timing;
use ours::Ours;
use raw_insert::RawInsert;
use report::{AppendRow, CatchUps, Publishing, Report};

/// Concurrent writers, each measured for every appending contender.
const CONCURRENCY: [usize; 3] = [1, 8, 64];
/// Events the relay drains and the raw publisher sends: enough for the drain
/// to take about a second, so that starting the relay and polling for the
/// empty outbox do not weigh on the figure.
const RELAY_EVENTS: usize = 50_000;

pub async fn run(scratch: &mut Scratch, measured: Duration) -> anyhow::Result<()> {
    let timing = Timing {
        // Long enough to open the pools' connections and prepare statements,
        // short enough to keep the whole run within a few minutes.
        warm_up: (measured / 5).clamp(Duration::from_millis(200), Duration::from_secs(1)),
        measure: measured,
    };
    let ours = Ours::setup(scratch).await?;
    let raw_insert = RawInsert::setup(scratch).await?;
    let cqrs_es = CqrsEs::setup(scratch).await?;
    let disintegrate = Disintegrate::setup(scratch).await?;

    let mut appends = Vec::with_capacity(CONCURRENCY.len());
    for writers in CONCURRENCY {
        eprintln!("appending with {writers} writers");
        appends.push(AppendRow {
            writers,
            ours: ours.measure(writers, timing).await.context("ours")?,
            raw_insert: raw_insert
                .measure(writers, timing)
                .await
                .context("raw insert")?,
            cqrs_es: cqrs_es.measure(writers, timing).await.context("cqrs-es")?,
            disintegrate: disintegrate
                .measure(writers, timing)
                .await
                .context("disintegrate")?,
        });
    }

    // What each store holds now: every event appended above.
    eprintln!("applying every stored event to a fresh projection");
    let catch_ups = CatchUps {
        ours: ours.catch_up().await.context("our rebuild")?,
        disintegrate: disintegrate
            .catch_up()
            .await
            .context("disintegrate's listener")?,
    };

    eprintln!("relaying {RELAY_EVENTS} events");
    let relay = relay::measure(scratch, RELAY_EVENTS)
        .await
        .context("relay")?;
    eprintln!("publishing {RELAY_EVENTS} messages");
    let raw_publish_per_s = raw_publish::measure(scratch, &relay.message, RELAY_EVENTS)
        .await
        .context("raw jetstream publish")?;

    let report = Report {
        timing,
        appends,
        catch_ups,
        publishing: Publishing {
            events: RELAY_EVENTS,
            message_bytes: relay.message.body.len(),
            relay_events_per_s: relay.events_per_s,
            raw_publish_per_s,
        },
    };
    report.print();
    let path = output::write_json("eventstore", &report.to_json())?;
    println!("\nwrote {}", path.display());
    Ok(())
}
