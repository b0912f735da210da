//! Contender: what the stack does with the same records and nothing of
//! ours in between — per batch, one multi-row `INSERT … SELECT FROM UNNEST`
//! into a plain table with the access log's keys and indexes, and every
//! record published to JetStream (async, `Nats-Msg-Id` = record id, the acks
//! awaited together), the two at once. No events, outbox, sealing, hash
//! chain or projection: the limit the service's ingest is held against.

use std::{
    ops::Range,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use async_nats::{HeaderMap, jetstream};
use chrono::{DateTime, Utc};
use hellowork_eventstore::{EventStreamConfig, connect, envelope};
use hellowork_proto::auditlog::v1::{DeviceIdentifiers, UsageRecord};
use prost::Message as _;
use sqlx::{PgPool, postgres::PgPoolOptions};
use tokio::task::JoinSet;

use super::{STREAMS, records::Records};
use crate::scratch::Scratch;

/// One timed ingest of the raw contender.
#[derive(Debug)]
pub struct RawRun {
    pub records: u64,
    /// First batch started to last batch done.
    pub elapsed: Duration,
    /// Each batch, insert and publish, ascending.
    pub batch_latencies: Vec<Duration>,
}

impl RawRun {
    pub fn per_s(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
}

#[derive(Debug)]
pub struct Raw {
    pool: PgPool,
    jetstream: jetstream::Context,
    stream: EventStreamConfig,
}

impl Raw {
    /// A schema with the plain table and a stream of its own.
    pub async fn setup(scratch: &mut Scratch) -> anyhow::Result<Self> {
        let schema = scratch.schema("raw_usage")?;
        let pool = connect(
            scratch.database().clone(),
            &schema,
            PgPoolOptions::new().max_connections(u32::try_from(STREAMS)?),
        )
        .await?;
        // The access log's primary key, unique record id and indexes, with
        // the record's own fields in place of the sealed and derived ones.
        for statement in [
            "CREATE TABLE raw_usage ( \
                 sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
                 record_id text NOT NULL UNIQUE, job_seeker_id text NOT NULL, \
                 occurred_at timestamptz NOT NULL, access_kind int NOT NULL, \
                 action text NOT NULL, method text NOT NULL, outcome int NOT NULL, \
                 offering int NOT NULL, booking_id text NOT NULL, source text NOT NULL, \
                 device_id text NOT NULL, ip_address text NOT NULL, user_agent text NOT NULL, \
                 os_name text NOT NULL, os_version text NOT NULL)",
            "CREATE INDEX raw_usage_occurred_at ON raw_usage (occurred_at)",
            "CREATE INDEX raw_usage_job_seeker ON raw_usage (job_seeker_id) \
                 WHERE job_seeker_id <> ''",
        ] {
            sqlx::query(statement)
                .execute(&pool)
                .await
                .context("creating the raw table")?;
        }
        Ok(Self {
            pool,
            jetstream: scratch.jetstream().clone(),
            stream: scratch.stream("raw_usage").await?,
        })
    }

    /// Writes `batches` of `records` with [`STREAMS`] concurrent writers.
    pub async fn ingest(&self, records: &Records, batches: Range<u64>) -> anyhow::Result<RawRun> {
        let next = Arc::new(AtomicU64::new(batches.start));
        let subject = envelope::subject(&self.stream.subject_prefix, "UsageRecorded");
        let started = Instant::now();
        let mut tasks = JoinSet::new();
        for _ in 0..STREAMS {
            let (next, end) = (Arc::clone(&next), batches.end);
            let (pool, jetstream) = (self.pool.clone(), self.jetstream.clone());
            let (records, subject) = (records.clone(), subject.clone());
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= end {
                        return anyhow::Ok(latencies);
                    }
                    let batch = records.batch(index);
                    let began = Instant::now();
                    tokio::try_join!(insert(&pool, &batch), publish(&jetstream, &subject, &batch))
                        .with_context(|| format!("raw batch {index}"))?;
                    latencies.push(began.elapsed());
                }
            });
        }
        let mut batch_latencies = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            batch_latencies.extend(joined??);
        }
        let elapsed = started.elapsed();
        batch_latencies.sort_unstable();
        Ok(RawRun {
            records: (batches.end - batches.start) * records.batch_size() as u64,
            elapsed,
            batch_latencies,
        })
    }

    /// Checks that the table and the stream each hold `records` records.
    pub async fn verify(&self, records: u64) -> anyhow::Result<()> {
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM raw_usage")
            .fetch_one(&self.pool)
            .await?;
        let messages = self
            .jetstream
            .get_stream(&self.stream.stream_name)
            .await?
            .info()
            .await?
            .state
            .messages;
        anyhow::ensure!(
            u64::try_from(rows)? == records && messages == records,
            "wrote {records} raw records but the table holds {rows} and the stream {messages}"
        );
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn insert(pool: &PgPool, batch: &[UsageRecord]) -> anyhow::Result<()> {
    let text = |field: fn(&UsageRecord) -> &str| -> Vec<&str> { batch.iter().map(field).collect() };
    let int = |field: fn(&UsageRecord) -> i32| -> Vec<i32> { batch.iter().map(field).collect() };
    let devices = batch
        .iter()
        .map(|record| record.device.as_ref().context("a record without a device"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let of_device = |field: fn(&DeviceIdentifiers) -> &str| -> Vec<&str> {
        devices.iter().map(|device| field(device)).collect()
    };
    let occurred_at: Vec<DateTime<Utc>> = batch
        .iter()
        .map(|record| {
            let at = record.occurred_at.unwrap_or_default();
            DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).unwrap_or(0))
                .unwrap_or_default()
        })
        .collect();
    sqlx::query(
        "INSERT INTO raw_usage (record_id, job_seeker_id, occurred_at, access_kind, action, \
             method, outcome, offering, booking_id, source, device_id, ip_address, user_agent, \
             os_name, os_version) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::int[], $5::text[], \
             $6::text[], $7::int[], $8::int[], $9::text[], $10::text[], $11::text[], $12::text[], \
             $13::text[], $14::text[], $15::text[])",
    )
    .bind(text(|r| &r.record_id))
    .bind(text(|r| &r.job_seeker_id))
    .bind(occurred_at)
    .bind(int(|r| r.access_kind))
    .bind(text(|r| &r.action))
    .bind(text(|r| &r.method))
    .bind(int(|r| r.outcome))
    .bind(int(|r| r.offering))
    .bind(text(|r| &r.booking_id))
    .bind(text(|r| &r.source))
    .bind(of_device(|d| &d.device_id))
    .bind(of_device(|d| &d.ip_address))
    .bind(of_device(|d| &d.user_agent))
    .bind(of_device(|d| &d.os_name))
    .bind(of_device(|d| &d.os_version))
    .execute(pool)
    .await
    .context("inserting a raw batch")?;
    Ok(())
}

async fn publish(
    jetstream: &jetstream::Context,
    subject: &str,
    batch: &[UsageRecord],
) -> anyhow::Result<()> {
    let mut acks = Vec::with_capacity(batch.len());
    for record in batch {
        let mut headers = HeaderMap::new();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            record.record_id.as_str(),
        );
        let ack = jetstream
            .publish_with_headers(subject.to_owned(), headers, record.encode_to_vec().into())
            .await
            .context("publishing a raw record")?;
        acks.push(ack);
    }
    for ack in acks {
        let ack = ack.await.context("jetstream ack")?;
        anyhow::ensure!(
            !ack.duplicate,
            "jetstream dropped message {} as a duplicate",
            ack.sequence
        );
    }
    Ok(())
}
