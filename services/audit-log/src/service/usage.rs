//! Art. 7(1): the front system's usage records, sealed (Art. 7(2), 8) and
//! appended as `UsageRecorded` events, all of a batch or none. A record id
//! recorded before is counted as a duplicate, never recorded twice. The
//! access log is read back a page at a time (Art. 7(2)).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use hellowork_eventstore::{AppendError, EventMetadata, ExpectedVersion, NewEvent, StreamId};
use hellowork_platform::ServiceError;
use uuid::Uuid;

use super::{AuditLog, database, key_error, new_event};
use crate::{
    domain::{event::Event, usage::Usage},
    ingest::usage_event_id,
    metrics, store,
};

/// Rounds of dropping records a concurrent batch recorded first.
const RECORD_ATTEMPTS: usize = 5;

/// What a batch of usage records came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// Records new to the log.
    pub recorded: u64,
    /// Records recorded before (or repeated within the batch).
    pub duplicates: u64,
}

impl AuditLog {
    /// Art. 7(1): records `usages` atomically (all new ones or none), with
    /// `metadata`; a record id repeated within them is recorded once.
    pub async fn record_usage(
        &self,
        metadata: &EventMetadata,
        usages: Vec<Usage>,
    ) -> Result<Recorded, ServiceError> {
        let total = usages.len() as u64;
        // The access kind of each event, to count what is stored.
        let mut kinds = HashMap::with_capacity(usages.len());
        let mut unique = Vec::with_capacity(usages.len());
        for usage in usages {
            let event_id = usage_event_id(&usage.record_id);
            if kinds.insert(event_id, usage.access_kind).is_none() {
                unique.push(usage);
            }
        }
        let sealed = self
            .ingestor
            .recorded_all(&unique)
            .await
            .map_err(key_error)?;
        let events: Vec<NewEvent> = sealed
            .into_iter()
            .map(|recorded| {
                let event_id = usage_event_id(&recorded.record_id);
                new_event(
                    event_id,
                    &Event::UsageRecorded(Box::new(recorded)),
                    metadata,
                )
            })
            .collect();
        let all: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let none_new = Recorded {
            recorded: 0,
            duplicates: total,
        };
        for _ in 0..RECORD_ATTEMPTS {
            let stored = self
                .store
                .stored_event_ids(&all)
                .await
                .map_err(ServiceError::from)?;
            let fresh: Vec<NewEvent> = events
                .iter()
                .filter(|e| !stored.contains(&e.event_id))
                .cloned()
                .collect();
            let Some(first) = fresh.first() else {
                return Ok(none_new);
            };
            let count = fresh.len() as u64;
            let mut per_kind: HashMap<i32, u64> = HashMap::new();
            for event in &fresh {
                *per_kind.entry(kinds[&event.event_id]).or_default() += 1;
            }
            // One stream per batch: its events commit together or not at all.
            let stream = StreamId::new(format!("usage-{}", first.event_id))
                .expect("a UUID makes a valid stream id");
            match self
                .store
                .append(&stream, ExpectedVersion::NoStream, fresh)
                .await
            {
                Ok(outcome) if outcome.already_recorded => return Ok(none_new),
                Ok(_) => {
                    for (kind, records) in per_kind {
                        metrics::record_usage("api", kind, records);
                    }
                    return Ok(Recorded {
                        recorded: count,
                        duplicates: total - count,
                    });
                }
                // A concurrent batch recorded some of these first: drop them.
                Err(
                    AppendError::WrongExpectedVersion { .. } | AppendError::EventIdReused { .. },
                ) => {
                    continue;
                }
                Err(error) => return Err(ServiceError::from(error)),
            }
        }
        Err(ServiceError::Conflict)
    }
}

impl AuditLog {
    /// Art. 7(2): at most `size` entries of the access log between `start`
    /// and `end` of the `kinds` given (all if none) after the log position
    /// `after`, and whether more follow. The rows hold the sealed parts;
    /// only their anonymized view may leave (`grpc::view::entry`).
    pub async fn access_log(
        &self,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        kinds: &[i32],
        after: i64,
        size: i64,
    ) -> Result<(Vec<store::Stored>, bool), ServiceError> {
        let mut rows = store::list(&self.pool, start, end, kinds, after, size + 1)
            .await
            .map_err(database)?;
        let more = rows.len() as i64 > size;
        rows.truncate(usize::try_from(size).unwrap_or(0));
        Ok((rows, more))
    }
}
