//! Contender: the relay's messages published straight to JetStream, the
//! way the relay publishes but without the outbox: async publish with
//! `Nats-Msg-Id`, a bounded window of pending acks awaited in order.

use std::{collections::VecDeque, time::Instant};

use anyhow::Context as _;
use async_nats::jetstream::context::PublishAckFuture;
use hellowork_eventstore::{RelayConfig, envelope};
use uuid::Uuid;

use super::relay::Message;
use crate::scratch::Scratch;

/// Pending acks at once: the relay's default `max_in_flight`.
const WINDOW: usize = RelayConfig::DEFAULT_MAX_IN_FLIGHT;

/// Publishes `messages` copies of `message` (each with its own
/// `Nats-Msg-Id`) to a fresh stream; returns messages per second.
pub async fn measure(
    scratch: &mut Scratch,
    message: &Message,
    messages: usize,
) -> anyhow::Result<f64> {
    let stream = scratch.stream("raw").await?;
    let jetstream = scratch.jetstream().clone();
    let subject = envelope::subject(&stream.subject_prefix, "Deposited");
    let started = Instant::now();
    let mut pending = VecDeque::with_capacity(WINDOW);
    for _ in 0..messages {
        if pending.len() == WINDOW
            && let Some(oldest) = pending.pop_front()
        {
            acknowledged(oldest).await?;
        }
        let mut headers = message.headers.clone();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            Uuid::now_v7().to_string().as_str(),
        );
        let ack = jetstream
            .publish_with_headers(subject.clone(), headers, message.body.clone())
            .await
            .context("publishing to jetstream")?;
        pending.push_back(ack);
    }
    while let Some(oldest) = pending.pop_front() {
        acknowledged(oldest).await?;
    }
    let elapsed = started.elapsed();

    let stored = jetstream
        .get_stream(&stream.stream_name)
        .await?
        .info()
        .await?
        .state
        .messages;
    anyhow::ensure!(
        stored == u64::try_from(messages)?,
        "published {messages} messages but the stream holds {stored}"
    );
    Ok(messages as f64 / elapsed.as_secs_f64())
}

async fn acknowledged(ack: PublishAckFuture) -> anyhow::Result<()> {
    let ack = ack.await.context("jetstream ack")?;
    anyhow::ensure!(
        !ack.duplicate,
        "jetstream dropped message {} as a duplicate",
        ack.sequence
    );
    Ok(())
}
