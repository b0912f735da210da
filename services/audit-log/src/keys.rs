//! Art. 7(2), 8: the per person and period data keys, wrapped by a
//! key-encryption key of `HELLOWORK_AUDITLOG_KEYS`, in the audit-log's own
//! `subject_keys` table, found by their keyed lookup tag, never by a clear
//! job seeker id; never in an event, a message or a log. Deleting a row is
//! crypto-shredding: every sealed copy of its records' identifying parts, in
//! the store, on the bus and in any backup, stops opening at once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hellowork_sealing::personal::{DataKey, KeyEncryptionKeys, PersonalError, WrappedDataKey};
use sqlx::PgPool;

use crate::domain::subject::{KeyPeriod, SubjectTag};

/// Why a data key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the subject keys could not be read or written")]
    Database(#[from] sqlx::Error),
    /// A stored key that does not unwrap (its KEK left the ring, or the row
    /// was altered) is an operational fault, never read as an erasure.
    #[error("a stored data key does not unwrap")]
    Unwrap(#[from] PersonalError),
    /// The key was destroyed while it was being made: an erasure won; a
    /// retry makes a new one.
    #[error("the data key was destroyed concurrently")]
    Destroyed,
}

/// The data keys of the audit-log's subjects.
#[derive(Debug, Clone)]
pub struct SubjectKeys {
    pool: PgPool,
    keks: KeyEncryptionKeys,
}

type Row = (Vec<u8>, String, String, Vec<u8>, Vec<u8>);

impl SubjectKeys {
    pub fn new(pool: PgPool, keks: KeyEncryptionKeys) -> Self {
        Self { pool, keks }
    }

    fn unwrap_row(&self, (_, id, kek_id, nonce, ciphertext): Row) -> Result<DataKey, KeyError> {
        let wrapped = WrappedDataKey {
            kek_id,
            nonce,
            ciphertext,
        };
        Ok(self.keks.unwrap(&id, &wrapped)?)
    }

    async fn stored(&self, tags: &[Vec<u8>]) -> Result<HashMap<SubjectTag, DataKey>, KeyError> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT subject_tag, data_key_id, kek_id, nonce, wrapped_key FROM subject_keys \
             WHERE subject_tag = ANY($1)",
        )
        .bind(tags)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .filter_map(|row| SubjectTag::from_slice(&row.0).map(|tag| (tag, row)))
            .map(|(tag, row)| Ok((tag, self.unwrap_row(row)?)))
            .collect()
    }

    /// The data keys of `wanted` (tag and its period), made and stored
    /// (wrapped under the current KEK) where there is none. Safe when two
    /// writers race: both seal with the key stored first.
    pub async fn for_sealing(
        &self,
        wanted: &[(SubjectTag, KeyPeriod)],
    ) -> Result<HashMap<SubjectTag, DataKey>, KeyError> {
        let tags: Vec<Vec<u8>> = wanted.iter().map(|(tag, _)| tag.0.to_vec()).collect();
        let mut keys = self.stored(&tags).await?;
        let mut missing: Vec<(SubjectTag, KeyPeriod)> = wanted
            .iter()
            .filter(|(tag, _)| !keys.contains_key(tag))
            .copied()
            .collect();
        missing.sort();
        missing.dedup_by_key(|(tag, _)| *tag);
        if missing.is_empty() {
            return Ok(keys);
        }
        let made: Vec<(SubjectTag, KeyPeriod, DataKey)> = missing
            .into_iter()
            .map(|(tag, period)| {
                let id = format!("auditlog/{}/{}", period.label(), uuid::Uuid::new_v4());
                (tag, period, DataKey::generate(id))
            })
            .collect();
        let wrapped: Vec<WrappedDataKey> =
            made.iter().map(|(_, _, key)| self.keks.wrap(key)).collect();
        sqlx::query(
            "INSERT INTO subject_keys \
             (subject_tag, period_start, period_end, data_key_id, kek_id, nonce, wrapped_key) \
             SELECT * FROM unnest($1::bytea[], $2::timestamptz[], $3::timestamptz[], $4::text[], \
                                  $5::text[], $6::bytea[], $7::bytea[]) \
             ON CONFLICT (subject_tag) DO NOTHING",
        )
        .bind(
            made.iter()
                .map(|(tag, _, _)| tag.0.to_vec())
                .collect::<Vec<_>>(),
        )
        .bind(made.iter().map(|(_, p, _)| p.start()).collect::<Vec<_>>())
        .bind(made.iter().map(|(_, p, _)| p.end()).collect::<Vec<_>>())
        .bind(
            made.iter()
                .map(|(_, _, k)| k.id().to_owned())
                .collect::<Vec<_>>(),
        )
        .bind(wrapped.iter().map(|w| w.kek_id.clone()).collect::<Vec<_>>())
        .bind(wrapped.iter().map(|w| w.nonce.clone()).collect::<Vec<_>>())
        .bind(
            wrapped
                .iter()
                .map(|w| w.ciphertext.clone())
                .collect::<Vec<_>>(),
        )
        .execute(&self.pool)
        .await?;
        let made: Vec<Vec<u8>> = made.iter().map(|(tag, _, _)| tag.0.to_vec()).collect();
        keys.extend(self.stored(&made).await?);
        Ok(keys)
    }

    /// The stored data keys named `ids`; a missing one was destroyed.
    pub async fn by_ids(&self, ids: &[String]) -> Result<HashMap<String, DataKey>, KeyError> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT subject_tag, data_key_id, kek_id, nonce, wrapped_key FROM subject_keys \
             WHERE data_key_id = ANY($1)",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let id = row.1.clone();
                Ok((id, self.unwrap_row(row)?))
            })
            .collect()
    }

    /// Art. 8: the periods from the oldest key still held to the newest,
    /// every one between included: where an erasure must look.
    pub async fn held_periods(&self) -> Result<Vec<KeyPeriod>, sqlx::Error> {
        let (oldest, newest): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
            sqlx::query_as("SELECT min(period_start), max(period_end) FROM subject_keys")
                .fetch_one(&self.pool)
                .await?;
        Ok(match (oldest, newest) {
            (Some(oldest), Some(newest)) => KeyPeriod::overlapping(oldest, newest),
            _ => Vec::new(),
        })
    }

    /// Art. 8: destroys the keys of `tags`; returns how many there were.
    /// Idempotent.
    pub async fn destroy(&self, tags: &[SubjectTag]) -> Result<u64, sqlx::Error> {
        let tags: Vec<Vec<u8>> = tags.iter().map(|tag| tag.0.to_vec()).collect();
        Ok(
            sqlx::query("DELETE FROM subject_keys WHERE subject_tag = ANY($1)")
                .bind(&tags)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Art. 7(2), 8: destroys the keys of periods that ended at or before
    /// `before`; returns how many.
    pub async fn shred_ended_by(&self, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
        Ok(
            sqlx::query("DELETE FROM subject_keys WHERE period_end <= $1")
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}
