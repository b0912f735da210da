//! Art. 8: the start-up reseal of registrations stored before Step 8, when
//! `JobSeekerRegistered` carried name, date of birth and contact in clear.
//! Under an advisory lock (replicas starting together wait for each other),
//! before the relay or the API start:
//!
//! 1. Keys of people whose erasure is recorded are destroyed (an erasure
//!    interrupted between its event and its key's deletion is finished).
//! 2. Once per database (`completed_upgrades`): every stored registration
//!    holding clear fields gets a data key and is rewritten sealed, in
//!    `events` (the outbox only points at events, so what it still has to
//!    publish is published sealed), and every message of that subject on
//!    the service's stream holding clear fields is replaced by the resealed
//!    envelope, the original erased. Rewriting recorded events is the
//!    exception `hellowork_eventstore::rewrite` documents: the erasure the
//!    law requires outranks the log's immutability.

use bytes::Bytes;
use hellowork_eventstore::{
    EventStore, RecordedEvent, StoreError, envelope,
    rewrite::{self, RewriteError, RewriteReport, StreamRewriteError},
};
use hellowork_platform::Platform;
use hellowork_proto::events::v1::EventEnvelope;
use prost::Message;
use sqlx::Connection;
use uuid::Uuid;

use super::{
    codec::{self, CodecError, REGISTERED},
    keys::{KeyError, PersonalKeys},
};
use crate::domain::JobSeekerId;

/// The name the reseal is recorded under once done.
const RESEAL: &str = "reseal-registrations-v1";
/// The advisory lock of registration's start-up upgrades.
const LOCK: &str = "hellowork.registration.upgrade";

/// Why the start-up upgrade failed; the service does not start.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("the upgrade's database work failed")]
    Database(#[from] sqlx::Error),
    #[error("cannot destroy the keys of erased people")]
    Keys(#[from] KeyError),
    #[error("cannot reseal the stored registrations")]
    Store(#[from] RewriteError<ResealError>),
    #[error("cannot reseal the published registrations")]
    Stream(#[from] StreamRewriteError<ResealError>),
}

/// Why one event or message could not be resealed.
#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the registration names no valid job seeker id")]
    NotAJobSeeker,
    #[error("the message is not an event envelope: {0}")]
    Envelope(#[from] prost::DecodeError),
    /// Published but not in the store, or still clear there: the stream
    /// would be left holding the only (clear) copy.
    #[error("published event {0} has no sealed payload in the store")]
    NotResealed(String),
}

/// What the upgrade did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpgradeReport {
    pub keys_destroyed: u64,
    /// `None` when the reseal had already been done.
    pub stored: Option<RewriteReport>,
    pub published: Option<RewriteReport>,
}

/// Runs the start-up upgrade (see the module's documentation).
pub async fn run(platform: &Platform, keys: &PersonalKeys) -> Result<UpgradeReport, UpgradeError> {
    // A connection of its own: closing it releases the lock whatever happens.
    let mut lock = platform.pool.acquire().await?.detach();
    sqlx::query("SELECT pg_advisory_lock(hashtextextended($1::text || current_schema(), 0))")
        .bind(LOCK)
        .execute(&mut lock)
        .await?;
    let upgraded = upgrade(platform, keys).await;
    let _ = lock.close().await;
    upgraded
}

async fn upgrade(platform: &Platform, keys: &PersonalKeys) -> Result<UpgradeReport, UpgradeError> {
    let mut report = UpgradeReport {
        keys_destroyed: keys.destroy_erased().await?,
        ..UpgradeReport::default()
    };
    let done: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM completed_upgrades WHERE name = $1)")
            .bind(RESEAL)
            .fetch_one(&platform.pool)
            .await?;
    if done {
        return Ok(report);
    }
    let store = &platform.store;
    report.stored = Some(
        rewrite::rewrite_payloads(store, REGISTERED, |event| reseal_stored(keys, event)).await?,
    );
    let stream = &platform.config.stream;
    report.published = Some(
        rewrite::rewrite_stream_messages(
            &platform.jetstream,
            &stream.stream_name,
            &envelope::subject(&stream.subject_prefix, REGISTERED),
            &platform.config.bus.signer,
            |message| reseal_published(store, message.payload.clone()),
        )
        .await?,
    );
    sqlx::query("INSERT INTO completed_upgrades (name) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(RESEAL)
        .execute(&platform.pool)
        .await?;
    Ok(report)
}

/// The stored registration sealed with its owner's (new) data key, if it
/// holds clear fields.
async fn reseal_stored(
    keys: &PersonalKeys,
    event: RecordedEvent,
) -> Result<Option<Vec<u8>>, ResealError> {
    let Some(owner) = codec::legacy_owner(&event.payload)? else {
        return Ok(None);
    };
    let id = JobSeekerId::new(&owner).map_err(|_| ResealError::NotAJobSeeker)?;
    let key = keys.find_or_create(id).await?;
    Ok(codec::reseal(&event.payload, &key)?)
}

/// A published registration holding clear fields, as the envelope of the
/// stored (by now sealed) payload: the same ciphertext as the store's.
async fn reseal_published(store: &EventStore, body: Bytes) -> Result<Option<Bytes>, ResealError> {
    let mut envelope = EventEnvelope::decode(body)?;
    if envelope.event_type != REGISTERED || codec::legacy_owner(&envelope.payload)?.is_none() {
        return Ok(None);
    }
    let not_resealed = || ResealError::NotResealed(envelope.event_id.clone());
    let event_id = Uuid::parse_str(&envelope.event_id).map_err(|_| not_resealed())?;
    let stream = hellowork_eventstore::StreamId::new(envelope.stream_id.clone())
        .map_err(|_| not_resealed())?;
    let stored = store
        .read_stream(&stream, envelope.stream_version.saturating_sub(1))
        .await?
        .into_iter()
        .find(|event| event.event_id == event_id)
        .ok_or_else(not_resealed)?;
    if codec::legacy_owner(&stored.payload)?.is_some() {
        return Err(not_resealed());
    }
    envelope.payload = stored.payload;
    Ok(Some(envelope.encode_to_vec().into()))
}
