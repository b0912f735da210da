//! Contender: our `Relay` draining a filled outbox into a fresh JetStream
//! stream, timed from its start until the outbox is empty (a row leaves the
//! outbox only once JetStream acknowledged it).

use sqlx::postgres::PgPoolOptions;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::HeaderMap;
use bytes::Bytes;
use hellowork_eventstore::{EventStore, Relay, RelayConfig, StreamId, connect, envelope, migrate};
use prost::Message as _;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::{
    measure::run_commands,
    ours::{self, AppendWriter},
    workload::Streams,
};
use crate::scratch::Scratch;

/// Writers filling the outbox; group commit makes this quick.
const FILL_WRITERS: usize = 64;
/// How often the outbox is checked (a cheap `EXISTS`): small against a
/// drain of about a second, rare enough not to compete with the relay.
const POLL: Duration = Duration::from_millis(10);
/// A relay slower than this is broken, not slow.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);

/// One message exactly as the relay publishes it, so that the raw publisher
/// sends the same bytes and headers.
#[derive(Debug, Clone)]
pub struct Message {
    pub body: Bytes,
    pub headers: HeaderMap,
}

#[derive(Debug)]
pub struct RelayRun {
    pub events_per_s: f64,
    pub message: Message,
}

pub async fn measure(scratch: &mut Scratch, events: usize) -> anyhow::Result<RelayRun> {
    let schema = scratch.schema("relay")?;
    let pool = connect(
        scratch.database().clone(),
        &schema,
        PgPoolOptions::new().max_connections(ours::POOL_CONNECTIONS),
    )
    .await?;
    let run = fill_and_drain(scratch, &pool, events).await;
    pool.close().await;
    run
}

async fn fill_and_drain(
    scratch: &mut Scratch,
    pool: &PgPool,
    events: usize,
) -> anyhow::Result<RelayRun> {
    migrate(pool)
        .await
        .context("migrating the relay's schema")?;
    let store = ours::store(pool.clone());
    let writers = (0..FILL_WRITERS)
        .map(|w| AppendWriter::new(store.clone(), Streams::new("relay", w)))
        .collect();
    run_commands(writers, events)
        .await
        .context("filling the outbox")?;
    let message = sample_message(&store).await?;
    let stream = scratch.stream("relay").await?;
    let jetstream = scratch.jetstream().clone();

    let shutdown = CancellationToken::new();
    // Stops the relay however this function ends.
    let _stop_relay = shutdown.clone().drop_guard();
    let started = Instant::now();
    let relay = tokio::spawn(
        Relay::new(
            store,
            jetstream.clone(),
            // The services' relays sign every envelope: so does this one.
            RelayConfig::new(
                stream.clone(),
                std::sync::Arc::new(hellowork_eventstore::EventSigner::development("bench")),
            ),
        )
        .run(shutdown.clone()),
    );
    loop {
        let drained: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM outbox)")
            .fetch_one(pool)
            .await?;
        if drained {
            break;
        }
        if started.elapsed() > DRAIN_TIMEOUT {
            let left: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
                .fetch_one(pool)
                .await?;
            anyhow::bail!(
                "the relay left {left} of {events} events in the outbox after {DRAIN_TIMEOUT:?}"
            );
        }
        tokio::time::sleep(POLL).await;
    }
    let elapsed = started.elapsed();
    shutdown.cancel();
    relay.await.context("the relay task failed")?;

    let published = jetstream
        .get_stream(&stream.stream_name)
        .await?
        .info()
        .await?
        .state
        .messages;
    anyhow::ensure!(
        published == u64::try_from(events)?,
        "the relay emptied the outbox of {events} events but the stream holds {published}"
    );
    Ok(RelayRun {
        events_per_s: events as f64 / elapsed.as_secs_f64(),
        message,
    })
}

/// The first event of the first stream, encoded as the relay encodes it.
/// (`read_stream`, not `read_all`: the latter waits for every older
/// transaction in the cluster, and others may be running tests.)
async fn sample_message(store: &EventStore) -> anyhow::Result<Message> {
    let (first_stream, _) = Streams::new("relay", 0).next();
    let event = store
        .read_stream(&StreamId::new(first_stream)?, 0)
        .await?
        .into_iter()
        .next()
        .context("the filled store has no events in its first stream")?;
    Ok(Message {
        body: envelope::to_envelope(store.service(), &event)
            .encode_to_vec()
            .into(),
        headers: envelope::headers(&event),
    })
}
