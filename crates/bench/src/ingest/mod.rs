//! `ingest`: what the audit-log service's Art. 7(1) ingest achieves end to
//! end — usage records streamed through `RecordUsageBatch` until they are in
//! the access log — next to the same records written straight to
//! PostgreSQL and JetStream, in one run on the same servers. Serves the
//! issue's target: records visible per second >= 0.5x raw, with the
//! append→view lag reported beside it.

mod lag;
mod ours;
mod raw;
mod records;
mod report;
mod service;

use std::time::Duration;

use anyhow::Context as _;

use crate::{output, scratch::Scratch};
use raw::Raw;
use records::Records;
use report::Report;

/// Concurrent client streams, as several front systems would send.
const STREAMS: usize = 4;
/// Records per `RecordUsageBatch` call: enough that per-call costs (a round
/// trip, a token check, a commit) are shared, well under the service's
/// limit of 10 000.
const BATCH_SIZE: usize = 500;
/// The target for ours / raw.
const TARGET: f64 = 0.5;

pub async fn run(scratch: &mut Scratch, sending: Duration) -> anyhow::Result<()> {
    // As the eventstore benchmark: long enough to open connections, prepare
    // statements and create the consumers' state, short against the run.
    let warm_up = (sending / 5).clamp(Duration::from_millis(200), Duration::from_secs(1));
    let records = Records::new(BATCH_SIZE);
    let service = service::start(scratch).await?;
    let raw = Raw::setup(scratch).await?;

    eprintln!("warming up the audit-log service");
    let warmed = ours::ingest(&service, &records, 0, warm_up)
        .await
        .context("warming up the service")?;
    eprintln!("streaming usage records through RecordUsageBatch");
    let ours = ours::ingest(&service, &records, warmed.batches.end, sending)
        .await
        .context("ours")?;
    eprintln!("writing the same records raw");
    raw.ingest(&records, warmed.batches.clone())
        .await
        .context("warming up raw")?;
    let raw_run = raw
        .ingest(&records, ours.batches.clone())
        .await
        .context("raw")?;
    raw.verify(warmed.records + raw_run.records).await?;
    raw.close().await;
    service.view.close().await;

    let report = Report {
        warm_up,
        sending,
        batch_size: BATCH_SIZE,
        ours,
        raw: raw_run,
    };
    report.print();
    let path = output::write_json("ingest", &report.to_json())?;
    println!("\nwrote {}", path.display());
    Ok(())
}
