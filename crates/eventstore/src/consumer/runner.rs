//! [`ProjectionRunner`]: a projection consumed from its durable JetStream
//! consumer until shutdown, re-attached after NATS outages from its
//! checkpoint; each message read and trusted (a forgery or a replayed copy
//! refused and counted), applied once and acked only after its commit.

use std::sync::Arc;

use async_nats::jetstream::{
    self, AckKind,
    consumer::{AckPolicy, DeliverPolicy, pull},
};
use chrono::DateTime;
use futures::StreamExt;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::{
    ConsumerConfig, ConsumerError, Delivered, Outcome, Projection, ProjectionError,
    ProjectionRunner, ack, batch, inbox::apply_once,
};
use crate::{
    envelope::{self, EnvelopeError},
    metrics as m,
    upcast::Upcasters,
};

impl<P: Projection> ProjectionRunner<P> {
    pub fn new(
        projection: Arc<P>,
        pool: PgPool,
        jetstream: jetstream::Context,
        config: ConsumerConfig,
        upcasters: Upcasters,
    ) -> Self {
        Self {
            projection,
            pool,
            jetstream,
            config,
            upcasters,
        }
    }

    /// Consumes until `shutdown`, re-attaching after NATS outages.
    pub async fn run(self, shutdown: CancellationToken) {
        m::register_projection(self.projection.name(), true);
        while !shutdown.is_cancelled() {
            if let Err(error) = self.consume(&shutdown).await {
                tracing::warn!(
                    consumer = self.projection.name(),
                    error = &error as &dyn std::error::Error,
                    "consumer interrupted; re-attaching"
                );
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(self.config.retry_delay) => {}
                }
            }
        }
    }

    async fn consume(&self, shutdown: &CancellationToken) -> Result<(), ConsumerError> {
        let consumer = self.attach().await?;
        // Under load, the messages delivered while a transaction was
        // committing are applied together in the next one.
        let mut batches = consumer
            .messages()
            .await
            .map_err(|e| ConsumerError::JetStream(e.to_string()))?
            .ready_chunks(batch::MAX_BATCH);
        loop {
            let batch = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                next = batches.next() => match next {
                    Some(batch) => batch,
                    None => return Err(ConsumerError::JetStream("message stream ended".into())),
                },
            };
            let mut delivered = Vec::with_capacity(batch.len());
            let mut failed = None;
            for message in batch {
                match message {
                    Ok(message) => delivered.push(message),
                    Err(error) => failed = Some(ConsumerError::JetStream(error.to_string())),
                }
            }
            // What arrived before a failure is applied before re-attaching.
            self.handle_all(&delivered).await;
            if let Some(error) = failed {
                return Err(error);
            }
        }
    }

    /// The durable consumer; if JetStream lost it, it is re-created from the
    /// checkpoint rather than from the beginning.
    async fn attach(&self) -> Result<jetstream::consumer::PullConsumer, ConsumerError> {
        let name = self.projection.name();
        let stream = self
            .jetstream
            .get_stream(&self.config.stream_name)
            .await
            .map_err(|e| ConsumerError::JetStream(e.to_string()))?;
        let checkpoint: Option<i64> = sqlx::query_scalar(
            "SELECT stream_sequence FROM consumer_checkpoints WHERE consumer = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let deliver_policy = match checkpoint {
            Some(sequence) if sequence > 0 => DeliverPolicy::ByStartSequence {
                start_sequence: sequence.unsigned_abs() + 1,
            },
            _ => DeliverPolicy::All,
        };
        let consumer: jetstream::consumer::PullConsumer = stream
            .get_or_create_consumer(
                name,
                pull::Config {
                    durable_name: Some(name.to_owned()),
                    filter_subject: self.config.filter_subject.clone(),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: self.config.ack_wait,
                    deliver_policy,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| ConsumerError::JetStream(e.to_string()))?;
        // The lag as of attaching (the info JetStream just answered with);
        // each message updates it from then on.
        let pending = consumer.cached_info().num_pending;
        metrics::gauge!(m::CONSUMER_LAG, "consumer" => name.to_owned()).set(pending as f64);
        Ok(consumer)
    }

    /// The event a message carries, with its stream sequence, signature and
    /// the span that continues the producer's trace; `None` (the message
    /// settled) when it can never be read or is not trusted.
    pub(super) async fn read(&self, message: &jetstream::Message) -> Option<Delivered> {
        let name = self.projection.name();
        let (sequence, delivered, pending, stored_at) = match message.info() {
            Ok(info) => (
                info.stream_sequence,
                info.delivered,
                info.pending,
                DateTime::from_timestamp_nanos(
                    i64::try_from(info.published.unix_timestamp_nanos()).unwrap_or(i64::MAX),
                ),
            ),
            Err(error) => {
                tracing::warn!(consumer = name, %error, "message without jetstream info");
                return None;
            }
        };
        metrics::gauge!(m::CONSUMER_LAG, "consumer" => name.to_owned()).set(pending as f64);
        if delivered > 1 {
            metrics::counter!(m::CONSUMER_REDELIVERIES, "consumer" => name.to_owned()).increment(1);
        }
        let decoded = envelope::decode_trusted(
            &message.payload,
            message.subject.as_str(),
            stored_at,
            &self.config.producers,
        );
        let trusted = match decoded {
            Ok((event, signature)) => self
                .upcasters
                .upcast(event)
                .map(|event| (event, signature))
                .map_err(|e| e.to_string()),
            Err(EnvelopeError::Untrusted(refusal)) => {
                // A forgery (or a replayed copy) is settled for good: it is
                // never applied, whoever had the credentials to publish it.
                tracing::error!(consumer = name, sequence, %refusal, "untrusted envelope refused");
                self.refuse(name, refusal.reason(), message).await;
                return None;
            }
            Err(error) => Err(error.to_string()),
        };
        let (event, signature) = match trusted {
            Ok(trusted) => trusted,
            Err(reason) => {
                // A message that can never be read must not block the ones behind it.
                tracing::error!(consumer = name, sequence, %reason, "undecodable event dropped");
                self.count(name, "undecodable");
                ack(message, AckKind::Term).await;
                return None;
            }
        };
        // The consumer's span continues the trace of the request that
        // produced the event (W3C context from the NATS headers).
        let span = tracing::info_span!("eventstore.consume", consumer = name, event_type = %event.event_type);
        hellowork_telemetry::set_parent_from_nats_headers(&span, message.headers.as_ref());
        Some(Delivered {
            event,
            sequence,
            signature,
            span,
        })
    }

    /// Settles an untrusted message: terminated, counted by `reason`.
    pub(super) async fn refuse(
        &self,
        consumer: &str,
        reason: &'static str,
        message: &jetstream::Message,
    ) {
        metrics::counter!(m::CONSUMER_REFUSED, "consumer" => consumer.to_owned(), "reason" => reason)
            .increment(1);
        self.count(consumer, "refused");
        ack(message, AckKind::Term).await;
    }

    pub(super) async fn apply_and_ack(&self, message: &jetstream::Message, delivered: &Delivered) {
        let name = self.projection.name();
        match apply_once(&self.pool, self.projection.as_ref(), delivered).await {
            Ok(Outcome::Applied) => {
                self.count(name, "applied");
                ack(message, AckKind::Ack).await;
            }
            Ok(Outcome::Duplicate) => {
                self.count(name, "duplicate");
                ack(message, AckKind::Ack).await;
            }
            Ok(Outcome::Replayed) => {
                tracing::error!(
                    consumer = name,
                    sequence = delivered.sequence,
                    "replayed envelope refused"
                );
                self.refuse(name, "replayed", message).await;
            }
            Err(ConsumerError::Projection(error @ ProjectionError::Rejected { .. })) => {
                tracing::error!(
                    consumer = name,
                    error = &error as &dyn std::error::Error,
                    "event rejected by projection"
                );
                self.count(name, "rejected");
                ack(message, AckKind::Term).await;
            }
            Err(error) => {
                tracing::warn!(
                    consumer = name,
                    error = &error as &dyn std::error::Error,
                    "event not applied; will retry"
                );
                self.count(name, "retry");
                ack(message, AckKind::Nak(Some(self.config.retry_delay))).await;
            }
        }
    }

    pub(super) fn count(&self, consumer: &str, outcome: &'static str) {
        metrics::counter!(m::CONSUMER_HANDLED, "consumer" => consumer.to_owned(), "outcome" => outcome)
            .increment(1);
    }
}
