//! Art. 7(2), 8: the start-up reseal of what scheduling stored and
//! published in clear before Step 8: device identifiers in
//! `SessionJoined.device`/`SessionLeft.device`, and officers' notes in
//! `SessionStopped.note`, `OnlineServicesRefused.note` and
//! `RefusalLifted.note`.
//!
//! Each step, under an advisory lock (replicas starting together wait for
//! each other) and recorded in `completed_upgrades` once done, rewrites
//! every stored event holding clear values (in `events`; the outbox only
//! points at events, so what it still has to publish goes out sealed), then
//! replaces every message of those subjects on the service's stream holding
//! clear values by the envelope of the stored, sealed payload, the original
//! erased. Device identifiers are sealed as [`DeviceSealer`] seals them where
//! they enter: to the audit-log's current public key, the booking id as
//! associated data. A note is sealed with its person's data key; a note of a
//! person already erased is dropped.
//!
//! Rewriting recorded events is the exception `hellowork_eventstore::rewrite`
//! documents: the erasure and sealing the law requires (Art. 7(2), 8)
//! outrank the log's immutability, as KurrentDB's scavenging removes
//! deleted events from its files and Marten masks protected fields of
//! stored events in place. Ids, streams, versions, types and metadata stay;
//! the audit-log ingests both forms and dedupes by event id, so a replaced
//! message is not recorded twice.
//!
//! The audit-log may start after scheduling, so the upgrade runs in the
//! background and retries with backoff until it is done; the notes, which
//! need no peer, come first.

use std::{sync::Arc, time::Duration};

use async_nats::jetstream;
use bytes::Bytes;
use hellowork_eventstore::{
    DomainEvent, EventStore, EventStreamConfig, RecordedEvent, StoreError, StreamId, envelope,
    rewrite::{self, RewriteError, StreamRewriteError},
};
use hellowork_platform::ServiceError;
use hellowork_proto::{events::v1::EventEnvelope, scheduling::v1::DeviceIdentifiers};
use prost::Message;
use sqlx::{Connection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    codec::{self, CodecError},
    keys::{KeyError, PersonalKeys},
};
use crate::{
    domain::{BookingId, Event},
    metrics,
    sealing::{DeviceSealer, Presence},
};

/// The advisory lock of scheduling's start-up upgrades.
const LOCK: &str = "hellowork.scheduling.upgrade";
/// The first wait after a failed attempt, doubled up to [`LAST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// One reseal, recorded under its name once done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Art. 8: officers' notes about a person.
    Notes,
    /// Art. 7(2): device identifiers of joins and leaves.
    Devices,
}

impl Step {
    /// In order: the notes need no peer.
    pub const ALL: [Self; 2] = [Self::Notes, Self::Devices];

    pub fn name(self) -> &'static str {
        match self {
            Self::Notes => "reseal-notes-v1",
            Self::Devices => "reseal-devices-v1",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Notes => "notes",
            Self::Devices => "devices",
        }
    }

    fn event_types(self) -> &'static [&'static str] {
        match self {
            Self::Notes => &["SessionStopped", "OnlineServicesRefused", "RefusalLifted"],
            Self::Devices => &["SessionJoined", "SessionLeft"],
        }
    }

    /// Whether `event` holds in clear what this step seals.
    fn holds_clear(self, event: &Event) -> bool {
        match self {
            Self::Notes => codec::note_owner(event).is_some(),
            Self::Devices => clear_device(event).is_some(),
        }
    }
}

/// The clear identifiers of a join or leave stored before sealing.
fn clear_device(event: &Event) -> Option<&DeviceIdentifiers> {
    match event {
        Event::SessionJoined(e) => e.device.as_ref(),
        Event::SessionLeft(e) => e.device.as_ref(),
        _ => None,
    }
}

/// Why an attempt of the upgrade failed; it is tried again.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("the upgrade's database work failed")]
    Database(#[from] sqlx::Error),
    #[error("cannot reseal the stored events")]
    Store(#[from] RewriteError<ResealError>),
    #[error("cannot reseal the published events")]
    Stream(#[from] StreamRewriteError<ResealError>),
}

/// Why one event or message could not be resealed.
#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The audit-log's keys could not be had (it may not be up yet).
    #[error("cannot seal device identifiers to the audit-log")]
    Seal(#[source] ServiceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a stored event cannot be decoded: {0}")]
    Decode(String),
    #[error("the message is not an event envelope: {0}")]
    Envelope(#[from] prost::DecodeError),
    /// Published but not in the store, or still clear there: the stream
    /// would be left holding the only (clear) copy.
    #[error("published event {0} has no sealed payload in the store")]
    NotResealed(String),
}

/// The start-up upgrade, with what it needs.
#[derive(Debug, Clone)]
pub struct Upgrade {
    pub pool: PgPool,
    pub store: EventStore,
    pub jetstream: jetstream::Context,
    /// The service's own stream.
    pub stream: EventStreamConfig,
    /// Signs the republished envelopes, as the relay signs the others.
    pub signer: Arc<hellowork_eventstore::EventSigner>,
    pub keys: PersonalKeys,
    pub sealer: Arc<DeviceSealer>,
}

impl Upgrade {
    /// Runs until every step is done (or the service stops), retrying a
    /// failed attempt with backoff; each failure is logged and counted.
    pub async fn run(self, stop: CancellationToken) {
        let mut delay = FIRST_RETRY;
        loop {
            match self.once().await {
                Ok(()) => return,
                Err(error) => {
                    metrics::record_upgrade_failure();
                    tracing::warn!(
                        error = %error,
                        cause = %error_chain(&error),
                        retry_in = ?delay,
                        "scheduling's start-up reseal failed; retrying"
                    );
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(LAST_RETRY);
        }
    }

    /// One attempt: every step not yet done, under the advisory lock.
    pub async fn once(&self) -> Result<(), UpgradeError> {
        // A connection of its own: closing it releases the lock whatever happens.
        let mut lock = self.pool.acquire().await?.detach();
        sqlx::query("SELECT pg_advisory_lock(hashtextextended($1::text || current_schema(), 0))")
            .bind(LOCK)
            .execute(&mut lock)
            .await?;
        let upgraded = self.steps().await;
        let _ = lock.close().await;
        upgraded
    }

    async fn steps(&self) -> Result<(), UpgradeError> {
        for step in Step::ALL {
            let done: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM completed_upgrades WHERE name = $1)",
            )
            .bind(step.name())
            .fetch_one(&self.pool)
            .await?;
            if done {
                continue;
            }
            let (mut stored, mut published) = (0, 0);
            for event_type in step.event_types() {
                stored += rewrite::rewrite_payloads(&self.store, event_type, |event| {
                    self.resealed(step, event)
                })
                .await?
                .rewritten;
                published += rewrite::rewrite_stream_messages(
                    &self.jetstream,
                    &self.stream.stream_name,
                    &envelope::subject(&self.stream.subject_prefix, event_type),
                    &self.signer,
                    |message| self.republished(step, message.payload.clone()),
                )
                .await?
                .rewritten;
            }
            sqlx::query("INSERT INTO completed_upgrades (name) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(step.name())
                .execute(&self.pool)
                .await?;
            metrics::record_resealed(step.label(), stored, published);
            tracing::info!(
                step = step.name(),
                stored,
                published,
                "scheduling's events stored and published in clear resealed"
            );
        }
        Ok(())
    }

    /// The stored event's new payload, if it holds clear values.
    async fn resealed(
        &self,
        step: Step,
        recorded: RecordedEvent,
    ) -> Result<Option<Vec<u8>>, ResealError> {
        let event =
            Event::decode(&recorded.event_type, &recorded.payload).map_err(ResealError::Decode)?;
        if !step.holds_clear(&event) {
            return Ok(None);
        }
        let resealed = match step {
            Step::Notes => self.note_resealed(event).await?,
            Step::Devices => self.device_resealed(event).await?,
        };
        debug_assert!(!step.holds_clear(&resealed));
        Ok(Some(resealed.encode()))
    }

    async fn note_resealed(&self, event: Event) -> Result<Event, ResealError> {
        let Some(owner) = codec::note_owner(&event).map(str::to_owned) else {
            return Ok(event);
        };
        match self.keys.find_or_create(&owner).await {
            Ok(key) => Ok(codec::sealed(event, Some(&key))?),
            Err(KeyError::Erased) => Ok(codec::forgotten(event)),
            Err(error) => Err(error.into()),
        }
    }

    async fn device_resealed(&self, mut event: Event) -> Result<Event, ResealError> {
        let (booking_id, device, sealed) = match &mut event {
            Event::SessionJoined(e) => (&e.booking_id, &mut e.device, &mut e.sealed_device),
            Event::SessionLeft(e) => (&e.booking_id, &mut e.device, &mut e.sealed_device),
            _ => return Ok(event),
        };
        let Some(clear) = device.take() else {
            return Ok(event);
        };
        // Sealed by the front system as well (never written so): the
        // sealed copy is the one kept.
        if sealed.is_none() {
            let sealing = self
                .sealer
                .sealed(BookingId::stored(booking_id), Presence::Clear(clear));
            *sealed = Some(sealing.await.map_err(ResealError::Seal)?);
        }
        Ok(event)
    }

    /// A published message holding clear values, as the envelope of the
    /// stored (by now sealed) payload: the same ciphertext as the store's.
    async fn republished(&self, step: Step, body: Bytes) -> Result<Option<Bytes>, ResealError> {
        let mut envelope = EventEnvelope::decode(body)?;
        let event =
            Event::decode(&envelope.event_type, &envelope.payload).map_err(ResealError::Decode)?;
        if !step.holds_clear(&event) {
            return Ok(None);
        }
        let not_resealed = || ResealError::NotResealed(envelope.event_id.clone());
        let event_id = Uuid::parse_str(&envelope.event_id).map_err(|_| not_resealed())?;
        let stream = StreamId::new(envelope.stream_id.clone()).map_err(|_| not_resealed())?;
        let stored = self
            .store
            .read_stream(&stream, envelope.stream_version.saturating_sub(1))
            .await?
            .into_iter()
            .find(|stored| stored.event_id == event_id)
            .ok_or_else(not_resealed)?;
        let stored_event =
            Event::decode(&stored.event_type, &stored.payload).map_err(ResealError::Decode)?;
        if step.holds_clear(&stored_event) {
            return Err(not_resealed());
        }
        envelope.payload = stored.payload;
        Ok(Some(envelope.encode_to_vec().into()))
    }
}

/// The causes of `error`, for the log (never a payload: none is in them).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut chain = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    chain.join(": ")
}
