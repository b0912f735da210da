//! The statement a batch is written with: in one round trip, it reads the
//! heads of the batch's streams and where its event ids are stored, and
//! inserts the events and their outbox rows only if that is the state the
//! batch was planned on.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::AppendPart;
use crate::{plan::StoredAt, store::to_i64};

/// What the store holds for a batch's streams and event ids: each stream's
/// head version (0 = no stream) and where any of the ids is stored.
#[derive(Debug, Default)]
pub(super) struct CurrentState {
    pub heads: HashMap<String, u64>,
    pub stored: HashMap<Uuid, StoredAt>,
}

/// What the checked insert found.
pub(super) enum Checked {
    /// The heads were as assumed and no written id was stored: every row
    /// was written.
    Written { recorded_at: DateTime<Utc> },
    /// Something differed (or there was nothing to write); nothing was
    /// written. What the store holds, to plan again on.
    Differs(CurrentState),
}

/// The whole statement, its parameters `$1` the batch's streams, `$2` the
/// heads the batch was planned on (one per stream), `$3` every event id of
/// the batch, `$4`..`$16` the column arrays of the rows to write.
///
/// - `state` holds a row per stream (its head, 0 for none, beside the head
///   assumed) and one per stored id.
/// - `inserted` writes the rows in array order (so a stream's versions
///   ascend with position too) with their outbox rows: all of them, and
///   only if every head is the one assumed and none of the rows' ids (`$4`)
///   is stored.
/// - The result is `state`'s rows and then one row with the number of
///   events written and the transaction's time (the same for every row).
const CHECKED_INSERT: &str = "WITH state AS ( \
         SELECT a.stream_id, coalesce(h.stream_version, 0) AS stream_version, \
             NULL::uuid AS event_id, a.head AS assumed \
         FROM unnest($1::text[], $2::bigint[]) AS a(stream_id, head) \
         LEFT JOIN LATERAL ( \
             SELECT stream_version FROM events e \
             WHERE e.stream_id = a.stream_id ORDER BY stream_version DESC LIMIT 1 \
         ) AS h ON true \
         UNION ALL \
         SELECT stream_id, stream_version, event_id, NULL FROM events WHERE event_id = ANY($3) \
     ), inserted AS ( \
         INSERT INTO events (event_id, stream_id, stream_version, event_type, \
             schema_version, payload, occurred_at, correlation_id, causation_id, \
             actor_subject, actor_role, traceparent, tracestate) \
         SELECT event_id, stream_id, stream_version, event_type, schema_version, \
             payload, occurred_at, correlation_id, causation_id, actor_subject, \
             actor_role, traceparent, tracestate \
         FROM unnest($4::uuid[], $5::text[], $6::bigint[], $7::text[], $8::int[], \
             $9::bytea[], $10::timestamptz[], $11::uuid[], $12::uuid[], $13::text[], \
             $14::text[], $15::text[], $16::text[]) WITH ORDINALITY \
             AS r(event_id, stream_id, stream_version, event_type, schema_version, \
             payload, occurred_at, correlation_id, causation_id, actor_subject, \
             actor_role, traceparent, tracestate, ord) \
         WHERE NOT EXISTS ( \
                 SELECT 1 FROM state WHERE assumed IS NOT NULL AND stream_version <> assumed) \
           AND NOT EXISTS (SELECT 1 FROM state WHERE event_id = ANY($4)) \
         ORDER BY ord \
         RETURNING position, transaction_id \
     ), outboxed AS ( \
         INSERT INTO outbox (position, transaction_id) \
         SELECT position, transaction_id FROM inserted \
     ) \
     SELECT stream_id, stream_version, event_id, NULL::timestamptz AS recorded_at FROM state \
     UNION ALL SELECT NULL, (SELECT count(*) FROM inserted), NULL, now()";

impl CurrentState {
    fn add(&mut self, row: &sqlx::postgres::PgRow) -> Result<(), sqlx::Error> {
        let stream: String = row.try_get("stream_id")?;
        let version = row.try_get::<i64, _>("stream_version")?.unsigned_abs();
        match row.try_get::<Option<Uuid>, _>("event_id")? {
            Some(event_id) => {
                self.stored.insert(event_id, StoredAt { stream, version });
            }
            None => {
                self.heads.insert(stream, version);
            }
        }
        Ok(())
    }
}

/// Column arrays for one multi-row insert.
#[derive(Default)]
pub(super) struct EventRows {
    event_id: Vec<Uuid>,
    stream_id: Vec<String>,
    stream_version: Vec<i64>,
    event_type: Vec<String>,
    schema_version: Vec<i32>,
    payload: Vec<Vec<u8>>,
    occurred_at: Vec<DateTime<Utc>>,
    correlation_id: Vec<Uuid>,
    causation_id: Vec<Option<Uuid>>,
    actor_subject: Vec<String>,
    actor_role: Vec<String>,
    traceparent: Vec<Option<String>>,
    tracestate: Vec<Option<String>>,
}

impl EventRows {
    pub(super) fn is_empty(&self) -> bool {
        self.event_id.is_empty()
    }

    pub(super) fn push(&mut self, part: &AppendPart, first_version: u64) {
        for (offset, event) in part.events.iter().enumerate() {
            let meta = &event.metadata;
            self.event_id.push(event.event_id);
            self.stream_id.push(part.stream.as_str().to_owned());
            self.stream_version
                .push(to_i64(first_version + offset as u64));
            self.event_type.push(event.event_type.clone());
            self.schema_version
                .push(i32::try_from(event.schema_version).unwrap_or(i32::MAX));
            self.payload.push(event.payload.clone());
            self.occurred_at.push(event.occurred_at);
            self.correlation_id.push(meta.correlation_id);
            self.causation_id.push(meta.causation_id);
            self.actor_subject.push(meta.actor.subject.clone());
            self.actor_role
                .push(meta.actor.role.as_str_name().to_owned());
            self.traceparent.push(meta.traceparent.clone());
            self.tracestate.push(meta.tracestate.clone());
        }
    }

    /// In one statement (so one round trip and one atomic commit): reads
    /// the state of `streams` and `event_ids` (every id of the batch) and
    /// writes the rows only if every stream's head is the one assumed for
    /// it and none of the rows' ids is stored — exactly when the batch
    /// planned on those heads is the batch planned on what the store holds.
    pub(super) async fn insert_if_unchanged(
        self,
        conn: &mut PgConnection,
        streams: &[&str],
        assumed_heads: &[i64],
        event_ids: &[Uuid],
    ) -> Result<Checked, sqlx::Error> {
        let rows = sqlx::query(CHECKED_INSERT)
            .bind(streams)
            .bind(assumed_heads)
            .bind(event_ids)
            .bind(self.event_id)
            .bind(self.stream_id)
            .bind(self.stream_version)
            .bind(self.event_type)
            .bind(self.schema_version)
            .bind(self.payload)
            .bind(self.occurred_at)
            .bind(self.correlation_id)
            .bind(self.causation_id)
            .bind(self.actor_subject)
            .bind(self.actor_role)
            .bind(self.traceparent)
            .bind(self.tracestate)
            .fetch_all(conn)
            .await?;
        let mut state = CurrentState::default();
        let mut written = None;
        for row in &rows {
            match row.try_get::<Option<DateTime<Utc>>, _>("recorded_at")? {
                Some(at) => written = Some((row.try_get::<i64, _>("stream_version")?, at)),
                None => state.add(row)?,
            }
        }
        match written {
            Some((count, recorded_at)) if count > 0 => Ok(Checked::Written { recorded_at }),
            _ => Ok(Checked::Differs(state)),
        }
    }
}
