//! Art. 7(2), 8: the end of retention. Hourly (and at start-up), the data
//! keys of key periods that ended `HELLOWORK_AUDITLOG_RETENTION` ago or
//! more are destroyed, so those usage records' identifying parts — job
//! seeker id and device identifiers — no longer open anywhere
//! (crypto-shredding), while their anonymized access-log entries still
//! count in the statistics. Each run that destroyed keys records a
//! `RetentionShredded` (the cutoff and how many keys; no personal data),
//! which becomes an access-log entry.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hellowork_eventstore::{
    AppendError, EventMetadata, EventStore, ExpectedVersion, NewEvent, StreamId,
};
use hellowork_proto::auditlog::v1 as proto;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    domain::{
        event::Event,
        time::{timestamp, to_micros},
    },
    keys::SubjectKeys,
    metrics,
};

/// How often retention runs: a key period is a month, so an hour late is
/// nothing, and a run that finds nothing costs one indexed DELETE.
const INTERVAL: Duration = Duration::from_secs(3600);

/// The actor retention's events are recorded under.
const ACTOR: &str = "hellowork-audit-log/retention";

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("the expired keys could not be destroyed")]
    Database(#[from] sqlx::Error),
    /// The keys are destroyed; only their record is missing, and the next
    /// run records them.
    #[error("the shredding could not be recorded")]
    Record(#[from] AppendError),
}

/// The retention job.
#[derive(Debug, Clone)]
pub struct Retention {
    keys: SubjectKeys,
    store: EventStore,
    retention: chrono::Duration,
    /// Keys destroyed whose record failed, carried to the next record.
    unrecorded: u64,
}

impl Retention {
    pub fn new(keys: SubjectKeys, store: EventStore, retention: chrono::Duration) -> Self {
        Self {
            keys,
            store,
            retention,
            unrecorded: 0,
        }
    }

    /// Runs at start-up and then every [`INTERVAL`] until `shutdown`.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut interval = tokio::time::interval(INTERVAL);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = interval.tick() => {}
            }
            if let Err(error) = self.run_once(Utc::now()).await {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "retention run failed"
                );
            }
        }
    }

    /// One run as of `now`: destroys the keys of periods that ended by
    /// `now - retention` and records it; returns how many it destroyed.
    pub async fn run_once(&mut self, now: DateTime<Utc>) -> Result<u64, RetentionError> {
        let before = to_micros(now - self.retention);
        let destroyed = self.keys.shred_ended_by(before).await?;
        metrics::keys_shredded("retention", destroyed);
        self.unrecorded += destroyed;
        if self.unrecorded == 0 {
            return Ok(0);
        }
        let event = Event::RetentionShredded(proto::RetentionShredded {
            before: Some(timestamp(before)),
            keys_destroyed: self.unrecorded,
        });
        let event_id = Uuid::now_v7();
        let stream =
            StreamId::new(format!("retention-{event_id}")).expect("a UUID makes a valid stream id");
        let new = NewEvent {
            event_id,
            ..NewEvent::of(&event, now, &EventMetadata::system(ACTOR, event_id))
        };
        self.store
            .append(&stream, ExpectedVersion::NoStream, vec![new])
            .await?;
        tracing::info!(
            keys_destroyed = self.unrecorded,
            %before,
            "retention shredded expired keys"
        );
        self.unrecorded = 0;
        Ok(destroyed)
    }
}
