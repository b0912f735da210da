//! Messages published before envelopes were signed (Step 10): consumers
//! trust only signed envelopes, so a consumer created later (a new
//! projection reading its stream from the beginning) would refuse every
//! event published before. [`sign_unsigned_messages`] republishes each of
//! them signed by the producer, through [`rewrite_stream_messages`] (the
//! replacement first, then the original erased), once per stream.
//!
//! While it runs, a consumer that reaches an original before it is erased
//! refuses it as `unsigned` and applies its signed replacement when that
//! arrives: the upgrade may show as a burst of refusals, and loses nothing.

use std::convert::Infallible;

use async_nats::jetstream::{self, message::StreamMessage};
use bytes::Bytes;
use prost::Message as _;
use sqlx::{Connection, PgPool};

use hellowork_proto::events::v1::EventEnvelope;

use crate::{
    jetstream::EventStreamConfig,
    rewrite::{RewriteReport, StreamRewriteError, rewrite_stream_messages},
    signing::EventSigner,
};

#[derive(Debug, thiserror::Error)]
pub enum SignUnsignedError {
    #[error("cannot record the stream's signing")]
    Database(#[from] sqlx::Error),
    #[error("cannot re-sign the stream's messages")]
    Stream(#[from] StreamRewriteError<Infallible>),
}

/// Re-signs the messages of `stream` that carry no signature, unless that
/// was done before; returns what it did (`None` when it had been done).
/// Replicas starting together wait for each other (an advisory lock).
pub async fn sign_unsigned_messages(
    pool: &PgPool,
    jetstream: &jetstream::Context,
    stream: &EventStreamConfig,
    signer: &EventSigner,
) -> Result<Option<RewriteReport>, SignUnsignedError> {
    let mut lock = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
        .bind(format!("hellowork.sign-unsigned.{}", stream.stream_name))
        .execute(&mut *lock)
        .await?;
    let result = async {
        let done: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM signed_streams WHERE stream_name = $1)",
        )
        .bind(&stream.stream_name)
        .fetch_one(pool)
        .await?;
        if done {
            return Ok(None);
        }
        let report = rewrite_stream_messages(
            jetstream,
            &stream.stream_name,
            &stream.all_subjects(),
            signer,
            |message: &StreamMessage| {
                let unsigned = EventEnvelope::decode(message.payload.clone())
                    .is_ok_and(|envelope| envelope.signature.is_empty());
                let body = message.payload.clone();
                async move { Ok::<Option<Bytes>, Infallible>(unsigned.then_some(body)) }
            },
        )
        .await?;
        sqlx::query(
            "INSERT INTO signed_streams (stream_name, examined, signed) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&stream.stream_name)
        .bind(i64::try_from(report.examined).unwrap_or(i64::MAX))
        .bind(i64::try_from(report.rewritten).unwrap_or(i64::MAX))
        .execute(pool)
        .await?;
        Ok(Some(report))
    }
    .await;
    // Closing the session releases the lock even if unlocking fails.
    let _ = lock.detach().close().await;
    result
}
