//! Contender: the audit-log service's `RecordUsageBatch`, called the way a
//! front system would: [`STREAMS`] clients, each on its own connection,
//! each sending one batch at a time and waiting for its acknowledgement.
//! Counted when the service acknowledges (durably stored as events), when
//! the records are in the access log, where anyone can see them, and when
//! the relay has published their events; a run ends only once the service
//! is idle again, so that nothing it still does weighs on what runs next.

use std::{
    ops::Range,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use hellowork_proto::auditlog::v1::{
    EntryKind, RecordUsageBatchRequest, audit_log_service_client::AuditLogServiceClient,
};
use tokio::{sync::mpsc::UnboundedSender, task::JoinSet};
use tonic::transport::Channel;

use super::{
    STREAMS,
    lag::{self, DRAIN_TIMEOUT, Sample},
    records::Records,
    service::AuditLog,
};

/// How often the access log is counted and the outbox checked once every
/// sample is visible: small against a drain, cheap against the relay.
const SETTLE_POLL: Duration = Duration::from_millis(10);

/// One timed ingest through the service.
#[derive(Debug)]
pub struct OursRun {
    /// The batches sent, by index into the run's records.
    pub batches: Range<u64>,
    pub records: u64,
    /// First send to last acknowledgement.
    pub acked_in: Duration,
    /// First send to the last record visible in the access log.
    pub visible_in: Duration,
    /// First send to the outbox found empty (every event on JetStream).
    pub published_in: Duration,
    /// Send to acknowledgement of each batch, ascending.
    pub batch_latencies: Vec<Duration>,
    /// Acknowledgement to visible in the access log, one per batch, ascending.
    pub lags: Vec<Duration>,
}

impl OursRun {
    pub fn acked_per_s(&self) -> f64 {
        self.records as f64 / self.acked_in.as_secs_f64()
    }

    pub fn visible_per_s(&self) -> f64 {
        self.records as f64 / self.visible_in.as_secs_f64()
    }

    pub fn published_per_s(&self) -> f64 {
        self.records as f64 / self.published_in.as_secs_f64()
    }

    /// From the last acknowledgement until everything was visible.
    pub fn drain(&self) -> Duration {
        self.visible_in.saturating_sub(self.acked_in)
    }

    /// From the last acknowledgement until the relay had published all.
    pub fn relay_drain(&self) -> Duration {
        self.published_in.saturating_sub(self.acked_in)
    }
}

/// Sends batches from index `first` on, starting new ones for `sending`,
/// then waits until every record sent is in the access log and every event
/// is published.
pub async fn ingest(
    service: &AuditLog,
    records: &Records,
    first: u64,
    sending: Duration,
) -> anyhow::Result<OursRun> {
    let mut clients = Vec::with_capacity(STREAMS);
    for _ in 0..STREAMS {
        let channel = Channel::from_shared(format!("http://{}", service.addr))?
            .connect()
            .await
            .context("connecting to the audit-log service")?;
        clients.push(AuditLogServiceClient::new(channel));
    }
    let next = Arc::new(AtomicU64::new(first));
    let (samples, poller) = lag::watch(service.view.clone());
    let started = Instant::now();
    let closes = started + sending;
    let mut tasks = JoinSet::new();
    for client in clients {
        let stream = Stream {
            client,
            authorization: service.authorization.clone(),
            records: records.clone(),
            samples: samples.clone(),
        };
        tasks.spawn(stream.run(Arc::clone(&next), closes));
    }
    drop(samples);
    let mut batch_latencies = Vec::new();
    let mut last_ack = started;
    // The first failure ends the run; dropping the set aborts the rest.
    while let Some(joined) = tasks.join_next().await {
        let (latencies, last) = joined??;
        batch_latencies.extend(latencies);
        last_ack = last_ack.max(last.unwrap_or(started));
    }
    batch_latencies.sort_unstable();
    let lags = poller.await??;
    let end = next.load(Ordering::Relaxed);
    let expected = end * records.batch_size() as u64;
    let (last_visible, published) = settled(service, expected, lags.last_visible).await?;
    Ok(OursRun {
        batches: first..end,
        records: (end - first) * records.batch_size() as u64,
        acked_in: last_ack - started,
        visible_in: last_visible.max(last_ack) - started,
        published_in: published.max(last_ack) - started,
        batch_latencies,
        lags: lags.sorted,
    })
}

/// When the service was done with the first `expected` records: all in the
/// access log (at the last sample's poll if they already were, else when a
/// count shows it) and the outbox empty (stamped when seen, so at most one
/// poll late).
async fn settled(
    service: &AuditLog,
    expected: u64,
    last_sample: Option<Instant>,
) -> anyhow::Result<(Instant, Instant)> {
    let expected = i64::try_from(expected)?;
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    let (mut visible, mut published) = (None, None);
    let mut checked = last_sample.unwrap_or_else(Instant::now);
    loop {
        if visible.is_none() {
            let count: i64 = sqlx::query_scalar("SELECT count(*) FROM access_log WHERE kind = $1")
                .bind(EntryKind::Usage as i32)
                .fetch_one(&service.view)
                .await?;
            anyhow::ensure!(
                count <= expected,
                "the access log holds {count} usage entries, more than the {expected} records sent"
            );
            visible = (count == expected).then_some(checked);
        }
        if published.is_none() {
            let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM outbox)")
                .fetch_one(&service.view)
                .await?;
            published = empty.then(Instant::now);
        }
        if let (Some(visible), Some(published)) = (visible, published) {
            return Ok((visible, published));
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "after {DRAIN_TIMEOUT:?} the service had not settled: all {expected} records \
             visible: {}, all events published: {}",
            visible.is_some(),
            published.is_some()
        );
        tokio::time::sleep(SETTLE_POLL).await;
        checked = Instant::now();
    }
}

/// One client stream of batches.
#[derive(Debug)]
struct Stream {
    client: AuditLogServiceClient<Channel>,
    authorization: tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
    records: Records,
    samples: UnboundedSender<Sample>,
}

impl Stream {
    /// Sends batches until `closes`; returns each batch's latency and when
    /// the last one was acknowledged.
    async fn run(
        mut self,
        next: Arc<AtomicU64>,
        closes: Instant,
    ) -> anyhow::Result<(Vec<Duration>, Option<Instant>)> {
        let mut latencies = Vec::new();
        let mut last_ack = None;
        while Instant::now() < closes {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let batch = self.records.batch(index);
            let sample = batch.last().map(|record| record.record_id.clone());
            let count = batch.len() as u64;
            let mut request = tonic::Request::new(tokio_stream::once(RecordUsageBatchRequest {
                records: batch,
            }));
            request
                .metadata_mut()
                .insert("authorization", self.authorization.clone());
            let sent = Instant::now();
            let response = self
                .client
                .record_usage_batch(request)
                .await
                .with_context(|| format!("RecordUsageBatch of batch {index}"))?
                .into_inner();
            let acked = Instant::now();
            last_ack = Some(acked);
            anyhow::ensure!(
                response.recorded_count == count && response.duplicate_count == 0,
                "batch {index} of {count} records: {response:?}"
            );
            latencies.push(acked - sent);
            if let Some(record_id) = sample {
                // The poller outlives every stream, so it is still listening.
                let _ = self.samples.send(Sample { record_id, acked });
            }
        }
        Ok((latencies, last_ack))
    }
}
