//! Rewriting what was already recorded, for a legal erasure or a privacy fix
//! of events stored before it: the payload of stored events, and the
//! messages a relay already published to a JetStream stream.
//!
//! Events are immutable everywhere else in this crate. Here the law outranks
//! that: personal data stored in clear that must be erased or sealed cannot
//! stay in the log because the log is append-only, and the established
//! stores take the same view (KurrentDB's scavenging removes deleted
//! streams' events from its files; Marten masks protected fields of stored
//! events in place). What is kept: an event's id, stream, version, type and
//! metadata; only its payload changes, and only as the caller decides.
//!
//! - [`rewrite_payloads`]: every stored event of a type, its payload
//!   replaced where the caller's closure returns a new one.
//! - [`rewrite_payload`]: one stored event by id, if it still holds what the
//!   caller read (compare and set).
//! - [`rewrite_stream_messages`]: every message of a subject on a stream,
//!   replaced by a republished message where the closure returns a new body,
//!   the original erased (overwritten in the server's storage).
//!
//! The outbox holds no payload (only the position of each event awaiting
//! publication; the relay reads the payload from `events` when it
//! publishes), so an event rewritten before it was published is published
//! rewritten: nothing to rewrite there.
//!
//! Not covered, and for the caller's runbook: PostgreSQL keeps an updated
//! row's old version until VACUUM reclaims it ([`rewrite_payloads`] runs a
//! plain `VACUUM events` after rewriting), and WAL archives and backups keep
//! it until they age out.

use std::future::Future;

use async_nats::{
    HeaderMap,
    jetstream::{
        self,
        context::{GetStreamError, PublishError},
        message::StreamMessage,
        stream::{DeleteMessageError, InfoError, RawMessageError, RawMessageErrorKind},
    },
};
use bytes::Bytes;
use chrono::Utc;
use hellowork_proto::events::v1::EventEnvelope;
use prost::Message as _;
use sqlx::Row;
use uuid::Uuid;

use crate::{
    error::StoreError,
    signing::EventSigner,
    store::{EventStore, decode_row, event_columns},
};

/// Events read per page while rewriting.
const PAGE: i64 = 256;

/// What a rewrite did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RewriteReport {
    /// Events (or messages) the closure was asked about.
    pub examined: u64,
    /// Those whose payload was replaced.
    pub rewritten: u64,
}

/// Why a rewrite of stored events stopped; what was rewritten stays.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError<E: std::error::Error + 'static> {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The closure failed on this event.
    #[error("the new payload of event {event_id} could not be made")]
    Decide {
        event_id: Uuid,
        #[source]
        source: E,
    },
    /// Another writer rewrote the event between our read and our write.
    #[error("event {0} was rewritten concurrently")]
    Concurrent(Uuid),
}

/// Rewrites the payload of every stored event of `event_type`, in store
/// order: `new_payload` gets each event as stored (not upcast) and returns
/// its new payload, or `None` to keep it. Each event is rewritten on its own
/// (compare and set, see [`rewrite_payload`]), so a run that stops midway
/// can simply run again; run it under a lock of the caller's so that two
/// processes do not rewrite the same events.
pub async fn rewrite_payloads<F, Fut, E>(
    store: &EventStore,
    event_type: &str,
    mut new_payload: F,
) -> Result<RewriteReport, RewriteError<E>>
where
    F: FnMut(crate::RecordedEvent) -> Fut,
    Fut: Future<Output = Result<Option<Vec<u8>>, E>>,
    E: std::error::Error + 'static,
{
    let mut report = RewriteReport::default();
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(&format!(
            "SELECT position, {} FROM events WHERE event_type = $1 AND position > $2 \
             ORDER BY position LIMIT $3",
            event_columns()
        ))
        .bind(event_type)
        .bind(after)
        .bind(PAGE)
        .fetch_all(store.pool())
        .await
        .map_err(StoreError::from)?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("position").map_err(StoreError::from)?;
        for row in &rows {
            let event = decode_row(row)?;
            let (event_id, old) = (event.event_id, event.payload.clone());
            report.examined += 1;
            let Some(new) = new_payload(event)
                .await
                .map_err(|source| RewriteError::Decide { event_id, source })?
            else {
                continue;
            };
            if !rewrite_payload(store, event_id, &old, &new).await? {
                return Err(RewriteError::Concurrent(event_id));
            }
            report.rewritten += 1;
        }
    }
    if report.rewritten > 0 {
        // Reclaims the replaced row versions, which still hold the old
        // payloads; plain VACUUM takes no lock that blocks appends or reads.
        sqlx::query("VACUUM events")
            .execute(store.pool())
            .await
            .map_err(StoreError::from)?;
    }
    Ok(report)
}

/// Replaces the payload of the stored event `event_id` with `new`, if it
/// still is `old`. `false` when it is not (rewritten meanwhile) or there is
/// no such event.
pub async fn rewrite_payload(
    store: &EventStore,
    event_id: Uuid,
    old: &[u8],
    new: &[u8],
) -> Result<bool, StoreError> {
    let updated =
        sqlx::query("UPDATE events SET payload = $3 WHERE event_id = $1 AND payload = $2")
            .bind(event_id)
            .bind(old)
            .bind(new)
            .execute(store.pool())
            .await?
            .rows_affected();
    Ok(updated == 1)
}

/// Why a rewrite of a stream's messages stopped; what was replaced stays.
#[derive(Debug, thiserror::Error)]
pub enum StreamRewriteError<E: std::error::Error + 'static> {
    #[error("cannot open the stream")]
    Stream(#[from] GetStreamError),
    #[error("cannot read the stream's state")]
    Info(#[from] InfoError),
    #[error("cannot read a message")]
    Read(#[from] RawMessageError),
    #[error("the new body of message {sequence} could not be made")]
    Decide {
        sequence: u64,
        #[source]
        source: E,
    },
    #[error("the new body of message {sequence} is not an event envelope")]
    NotAnEnvelope { sequence: u64 },
    #[error("cannot republish message {sequence}")]
    Publish {
        sequence: u64,
        #[source]
        source: PublishError,
    },
    #[error("cannot erase message {sequence}")]
    Erase {
        sequence: u64,
        #[source]
        source: DeleteMessageError,
    },
}

/// Rewrites the messages of `subject` on the stream `stream_name` that were
/// there when it began: `new_body` gets each message and returns the body of
/// its replacement, or `None` to keep it. The replacement is an envelope
/// signed anew by `signer` (the stream's producer): its consumers trust
/// nothing else ([`crate::signing`]).
///
/// A replacement is published first, on the same subject with the same
/// headers, and the original erased after it is acknowledged, so a crash in
/// between leaves both (consumers de-duplicate events by their id), never
/// neither. The replacement lands at the stream's end, with the
/// `Nats-Msg-Id` `<original id>.rewritten.<original sequence>`: the original
/// id alone would be dropped as a duplicate within the stream's duplicate
/// window, while a rerun after a crash publishes the same id again and is
/// dropped. The original is erased, not just deleted: async-nats 0.51's
/// `Stream::delete_message` sends no `no_erase`, so the server overwrites the
/// message in its storage before removing it.
pub async fn rewrite_stream_messages<F, Fut, E>(
    jetstream: &jetstream::Context,
    stream_name: &str,
    subject: &str,
    signer: &EventSigner,
    mut new_body: F,
) -> Result<RewriteReport, StreamRewriteError<E>>
where
    F: FnMut(&StreamMessage) -> Fut,
    Fut: Future<Output = Result<Option<Bytes>, E>>,
    E: std::error::Error + 'static,
{
    let mut stream = jetstream.get_stream(stream_name).await?;
    let last = stream.info().await?.state.last_sequence;
    let mut report = RewriteReport::default();
    let mut next = 1;
    while next <= last {
        let message = match stream.get_first_raw_message_by_subject(subject, next).await {
            Ok(message) if message.sequence <= last => message,
            Ok(_) => break,
            Err(error) if matches!(error.kind(), RawMessageErrorKind::NoMessageFound) => break,
            Err(error) => return Err(error.into()),
        };
        let sequence = message.sequence;
        next = sequence + 1;
        report.examined += 1;
        let Some(body) = new_body(&message)
            .await
            .map_err(|source| StreamRewriteError::Decide { sequence, source })?
        else {
            continue;
        };
        let mut envelope = EventEnvelope::decode(body)
            .map_err(|_| StreamRewriteError::NotAnEnvelope { sequence })?;
        signer.sign(&mut envelope, message.subject.as_str(), Utc::now());
        let body = Bytes::from(envelope.encode_to_vec());
        let headers = replacement_headers(&message.headers, sequence);
        let publish = |source| StreamRewriteError::Publish { sequence, source };
        jetstream
            .publish_with_headers(message.subject.clone(), headers, body)
            .await
            .map_err(publish)?
            .await
            .map_err(publish)?;
        stream
            .delete_message(sequence)
            .await
            .map_err(|source| StreamRewriteError::Erase { sequence, source })?;
        report.rewritten += 1;
    }
    Ok(report)
}

/// The original's headers with a `Nats-Msg-Id` of the replacement's own.
fn replacement_headers(original: &HeaderMap, sequence: u64) -> HeaderMap {
    let id = original
        .get(async_nats::header::NATS_MESSAGE_ID)
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default();
    let mut headers = original.clone();
    headers.insert(
        async_nats::header::NATS_MESSAGE_ID,
        format!("{id}.rewritten.{sequence}").as_str(),
    );
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_keeps_the_headers_under_an_id_of_its_own() {
        let mut original = HeaderMap::new();
        original.insert(async_nats::header::NATS_MESSAGE_ID, "e1");
        original.insert("traceparent", "00-abc-def-01");
        let headers = replacement_headers(&original, 7);
        assert_eq!(
            headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .map(|v| v.as_str()),
            Some("e1.rewritten.7")
        );
        assert_eq!(
            headers.get("traceparent").map(|v| v.as_str()),
            Some("00-abc-def-01")
        );
    }
}
