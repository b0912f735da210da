//! Art. 7(2), 8: the start-up upgrade of usage records stored before
//! Step 8, when `UsageRecorded` carried the job seeker id in clear and the
//! device sealed under the ring key (record id as associated data). Under
//! an advisory lock (replicas starting together wait for each other),
//! before the ingest, the projections or the API start, once per database
//! (`completed_upgrades`):
//!
//! 1. every stored `UsageRecorded` in the old form is resealed: its job
//!    seeker id and device sealed with the data key of the person and key
//!    period, its lookup tag set, the old fields cleared — in `events` (the
//!    outbox only points at events, so what it still has to publish is
//!    published resealed);
//! 2. every message of that subject on the service's stream in the old form
//!    is replaced by the envelope of the resealed payload, the original
//!    erased;
//! 3. the access log is rebuilt from the resealed events (its rows held the
//!    clear id, and their hashes covered the old columns) and vacuumed, so
//!    the live log equals a rebuild and no old row version keeps the id.
//!
//! Rewriting recorded events is the exception `hellowork_eventstore::rewrite`
//! documents: the erasure and minimisation the law requires outrank the
//! log's immutability, as KurrentDB's scavenging and Marten's masking of
//! stored events hold too. What changes is only how identifying parts are
//! held; every fact, id, position and time stays.

use bytes::Bytes;
use hellowork_eventstore::{
    ConsumerError, RecordedEvent, envelope, rebuild,
    rewrite::{self, RewriteError, RewriteReport, StreamRewriteError},
};
use hellowork_platform::Platform;
use hellowork_proto::{auditlog::v1 as proto, events::v1::EventEnvelope};
use hellowork_sealing::ring::RingKey;
use prost::Message;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    domain::{
        legacy::{self, SealError, Sealed},
        time::to_datetime,
    },
    ingest::{Identifying, Ingestor},
    keys::KeyError,
    projections::AccessLogProjection,
};

/// The name the upgrade is recorded under once done.
const RESEAL: &str = "reseal-usage-records-v1";
/// The advisory lock of the audit-log's start-up upgrades.
const LOCK: &str = "hellowork.auditlog.upgrade";
const USAGE: &str = "UsageRecorded";

/// Why the start-up upgrade failed; the service does not start.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("the upgrade's database work failed")]
    Database(#[from] sqlx::Error),
    #[error("cannot reseal the stored usage records")]
    Store(#[from] RewriteError<ResealError>),
    #[error("cannot reseal the published usage records")]
    Stream(#[from] StreamRewriteError<ResealError>),
    #[error("cannot rebuild the access log")]
    Rebuild(#[from] ConsumerError),
}

/// Why one event or message could not be resealed.
#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error("not a usage record or envelope")]
    Decode(#[from] prost::DecodeError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Altered, or sealed under a key of the same id but other bytes: not
    /// read as an erasure.
    #[error("the old sealed device does not open")]
    Corrupt,
    /// Published but not resealed in the store: the stream would be left
    /// holding the only clear copy.
    #[error("published event {0} has no resealed payload in the store")]
    NotResealed(String),
}

/// What the upgrade did; `None` when it had been done before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpgradeReport {
    pub stored: Option<RewriteReport>,
    pub published: Option<RewriteReport>,
}

/// Runs the start-up upgrade (see the module's documentation).
pub async fn run(
    platform: &Platform,
    ingestor: &Ingestor,
    ring: &[RingKey],
) -> Result<UpgradeReport, UpgradeError> {
    // A connection of its own: closing it releases the lock whatever happens.
    let mut lock = platform.pool.acquire().await?.detach();
    sqlx::query("SELECT pg_advisory_lock(hashtextextended($1::text || current_schema(), 0))")
        .bind(LOCK)
        .execute(&mut lock)
        .await?;
    let upgraded = upgrade(platform, ingestor, ring).await;
    let _ = sqlx::Connection::close(lock).await;
    upgraded
}

async fn upgrade(
    platform: &Platform,
    ingestor: &Ingestor,
    ring: &[RingKey],
) -> Result<UpgradeReport, UpgradeError> {
    let done: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM completed_upgrades WHERE name = $1)")
            .bind(RESEAL)
            .fetch_one(&platform.pool)
            .await?;
    if done {
        return Ok(UpgradeReport::default());
    }
    let store = &platform.store;
    let stored =
        rewrite::rewrite_payloads(store, USAGE, |event| reseal_stored(ingestor, ring, event))
            .await?;
    let stream = &platform.config.stream;
    let published = rewrite::rewrite_stream_messages(
        &platform.jetstream,
        &stream.stream_name,
        &envelope::subject(&stream.subject_prefix, USAGE),
        &platform.config.bus.signer,
        |message| reseal_published(&platform.pool, message.payload.clone()),
    )
    .await?;
    rebuild(store, &AccessLogProjection).await?;
    // Reclaims the replaced rows, which held the clear ids.
    sqlx::query("VACUUM access_log")
        .execute(&platform.pool)
        .await?;
    sqlx::query("INSERT INTO completed_upgrades (name) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(RESEAL)
        .execute(&platform.pool)
        .await?;
    Ok(UpgradeReport {
        stored: Some(stored),
        published: Some(published),
    })
}

/// Whether a stored usage record is in the old form.
fn is_legacy(usage: &proto::UsageRecorded) -> bool {
    !usage.legacy_job_seeker_id.is_empty() || usage.legacy_sealed_device.is_some()
}

/// The old sealed device opened; `None` when its ring key was deleted
/// (the old scheme's erasure, kept erased).
fn legacy_device(
    ring: &[RingKey],
    sealed: proto::SealedDeviceIdentifiers,
    record_id: &str,
) -> Result<Option<proto::DeviceIdentifiers>, ResealError> {
    let sealed = Sealed {
        key_id: sealed.key_id,
        nonce: sealed.nonce,
        ciphertext: sealed.ciphertext,
    };
    match legacy::open(ring, &sealed, record_id.as_bytes()) {
        Ok(plaintext) => Ok(Some(proto::DeviceIdentifiers::decode(
            plaintext.as_slice(),
        )?)),
        Err(SealError::UnknownKey(_)) => Ok(None),
        Err(SealError::Corrupt) => Err(ResealError::Corrupt),
    }
}

/// The stored record resealed per person and period, if in the old form.
async fn reseal_stored(
    ingestor: &Ingestor,
    ring: &[RingKey],
    event: RecordedEvent,
) -> Result<Option<Vec<u8>>, ResealError> {
    let mut usage = proto::UsageRecorded::decode(event.payload.as_slice())?;
    if !is_legacy(&usage) {
        return Ok(None);
    }
    let record_id = usage.record_id.clone();
    let job_seeker_id = zeroize::Zeroizing::new(std::mem::take(&mut usage.legacy_job_seeker_id));
    let device = match usage.legacy_sealed_device.take() {
        Some(sealed) => legacy_device(ring, sealed, &record_id)?,
        None => None,
    };
    let parts = Identifying {
        record_id: &record_id,
        // As the access log dates the entry.
        at: to_datetime(usage.occurred_at.as_ref()).unwrap_or(event.occurred_at),
        job_seeker_id: &job_seeker_id,
        device: device.as_ref(),
    };
    let keys = ingestor.keys_for(&[parts]).await?;
    ingestor.seal_into(&mut usage, &parts, &keys)?;
    Ok(Some(usage.encode_to_vec()))
}

/// A published record in the old form, as the envelope of the stored (by
/// now resealed) payload: the same ciphertext as the store's.
async fn reseal_published(pool: &PgPool, body: Bytes) -> Result<Option<Bytes>, ResealError> {
    let mut envelope = EventEnvelope::decode(body)?;
    if envelope.event_type != USAGE
        || !is_legacy(&proto::UsageRecorded::decode(envelope.payload.as_slice())?)
    {
        return Ok(None);
    }
    let not_resealed = || ResealError::NotResealed(envelope.event_id.clone());
    let event_id = Uuid::parse_str(&envelope.event_id).map_err(|_| not_resealed())?;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT payload FROM events WHERE event_id = $1")
        .bind(event_id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(not_resealed)?;
    if is_legacy(&proto::UsageRecorded::decode(stored.as_slice())?) {
        return Err(not_resealed());
    }
    envelope.payload = stored;
    Ok(Some(envelope.encode_to_vec().into()))
}
