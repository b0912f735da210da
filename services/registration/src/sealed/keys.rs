//! Art. 8: each person's data key, wrapped by the current key-encryption key
//! (KEK) of the configuration, in registration's own `person_data_keys`
//! table: never in an event, a message or a log. Deleting a row is the
//! erasure: every sealed copy of that person's fields, in the store, on the
//! bus and in any backup of either, stops opening at once.

use hellowork_eventstore::StoreError;
use hellowork_platform::ServiceError;
use hellowork_sealing::personal::{DataKey, KeyEncryptionKeys, PersonalError, WrappedDataKey};
use sqlx::PgPool;

use crate::domain::JobSeekerId;

/// Why a data key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A stored key that does not unwrap (its KEK left the ring, or the row
    /// was altered) is an operational fault, never read as an erasure.
    #[error("a stored data key does not unwrap: {0}")]
    Unwrap(#[from] PersonalError),
    /// The key was destroyed while it was being created: an erasure won.
    #[error("the data key was destroyed concurrently")]
    Destroyed,
}

impl From<KeyError> for ServiceError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Database(error) => StoreError::Database(error).into(),
            KeyError::Destroyed => Self::Conflict,
            other @ KeyError::Unwrap(_) => Self::internal(other),
        }
    }
}

/// The id a person's data key travels under in every sealed field.
pub fn data_key_id(id: JobSeekerId) -> String {
    format!("registration/{id}/1")
}

/// The data keys of registration's people.
#[derive(Debug, Clone)]
pub struct PersonalKeys {
    pool: PgPool,
    keks: KeyEncryptionKeys,
}

impl PersonalKeys {
    pub fn new(pool: PgPool, keks: KeyEncryptionKeys) -> Self {
        Self { pool, keks }
    }

    /// The person's data key; `None` once it was destroyed (or never made).
    pub async fn find(&self, id: JobSeekerId) -> Result<Option<DataKey>, KeyError> {
        let row: Option<(String, String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT data_key_id, kek_id, nonce, wrapped_key FROM person_data_keys \
             WHERE job_seeker_id = $1",
        )
        .bind(id.uuid())
        .fetch_optional(&self.pool)
        .await?;
        let Some((data_key_id, kek_id, nonce, ciphertext)) = row else {
            return Ok(None);
        };
        let wrapped = WrappedDataKey {
            kek_id,
            nonce,
            ciphertext,
        };
        Ok(Some(self.keks.unwrap(&data_key_id, &wrapped)?))
    }

    /// The person's data key, made and stored (wrapped under the current
    /// KEK) if there is none. Idempotent, and safe when two registrations of
    /// the same person race: both seal with the key stored first.
    pub async fn find_or_create(&self, id: JobSeekerId) -> Result<DataKey, KeyError> {
        let key = DataKey::generate(data_key_id(id));
        let wrapped = self.keks.wrap(&key);
        let inserted = sqlx::query(
            "INSERT INTO person_data_keys (job_seeker_id, data_key_id, kek_id, nonce, wrapped_key) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_seeker_id) DO NOTHING",
        )
        .bind(id.uuid())
        .bind(key.id())
        .bind(&wrapped.kek_id)
        .bind(&wrapped.nonce)
        .bind(&wrapped.ciphertext)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(key);
        }
        self.find(id).await?.ok_or(KeyError::Destroyed)
    }

    /// Art. 8: destroys the person's data key. Idempotent.
    pub async fn destroy(&self, id: JobSeekerId) -> Result<(), KeyError> {
        sqlx::query("DELETE FROM person_data_keys WHERE job_seeker_id = $1")
            .bind(id.uuid())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Art. 8: destroys the data key of every person whose erasure is
    /// recorded, finishing an erasure interrupted between its event and the
    /// key's deletion. Returns how many keys it destroyed.
    pub async fn destroy_erased(&self) -> Result<u64, KeyError> {
        let destroyed = sqlx::query(
            "DELETE FROM person_data_keys k WHERE EXISTS ( \
                 SELECT 1 FROM events e WHERE e.event_type = 'JobSeekerErased' \
                 AND e.stream_id = 'registration-' || k.job_seeker_id::text)",
        )
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(destroyed)
    }
}
