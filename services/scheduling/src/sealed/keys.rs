//! Art. 8: each person's scheduling data key, wrapped by the current
//! key-encryption key (KEK) of the configuration, in scheduling's own
//! `person_data_keys` table: never in an event, a message or a log.
//! Destroying it (on registration's `JobSeekerErased`) is the erasure: every
//! sealed note about the person, in the store, on the bus and in any backup
//! of either, stops opening at once. The row stays as a tombstone so that no
//! new key is made for an erased person.

use hellowork_eventstore::StoreError;
use hellowork_platform::{Article, ArticleViolation, ServiceError};
use hellowork_sealing::personal::{DataKey, KeyEncryptionKeys, PersonalError, WrappedDataKey};
use sqlx::{PgExecutor, PgPool};

/// Why a data key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A stored key that does not unwrap (its KEK left the ring, or the row
    /// was altered) is an operational fault, never read as an erasure.
    #[error("a stored data key does not unwrap: {0}")]
    Unwrap(#[from] PersonalError),
    /// Art. 8: the person was erased; nothing personal about them is
    /// recorded any more.
    #[error("the person's personal data was erased; no note about them is recorded")]
    Erased,
}

impl From<KeyError> for ServiceError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Database(error) => StoreError::Database(error).into(),
            KeyError::Erased => Self::Forbidden(vec![ArticleViolation {
                article: Article::Art8,
                subject: "note".to_owned(),
                description: error.to_string(),
            }]),
            other @ KeyError::Unwrap(_) => Self::internal(other),
        }
    }
}

/// A person's data key as the table holds it.
#[derive(Debug, Clone)]
pub enum PersonKey {
    Held(DataKey),
    /// Never made: nothing about the person was sealed yet.
    None,
    /// Art. 8: destroyed by the person's erasure.
    Erased,
}

/// The id a person's data key travels under in every sealed note.
pub fn data_key_id(job_seeker_id: &str) -> String {
    format!("scheduling/{job_seeker_id}/1")
}

/// The data keys of scheduling's people.
#[derive(Debug, Clone)]
pub struct PersonalKeys {
    pool: PgPool,
    keks: KeyEncryptionKeys,
}

type Row = (
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

impl PersonalKeys {
    pub fn new(pool: PgPool, keks: KeyEncryptionKeys) -> Self {
        Self { pool, keks }
    }

    /// The person's data key, if held.
    pub async fn find(&self, job_seeker_id: &str) -> Result<PersonKey, KeyError> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT data_key_id, kek_id, nonce, wrapped_key FROM person_data_keys \
             WHERE job_seeker_id = $1",
        )
        .bind(job_seeker_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map_or(Ok(PersonKey::None), |row| self.unwrapped(row))
    }

    /// The person's data key, made and stored (wrapped under the current
    /// KEK) if there is none; [`KeyError::Erased`] for an erased person.
    /// One statement, so two commands about the same person that race both
    /// seal with the key stored first.
    pub async fn find_or_create(&self, job_seeker_id: &str) -> Result<DataKey, KeyError> {
        let key = DataKey::generate(data_key_id(job_seeker_id));
        let wrapped = self.keks.wrap(&key);
        let row: Row = sqlx::query_as(
            "INSERT INTO person_data_keys (job_seeker_id, data_key_id, kek_id, nonce, wrapped_key) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (job_seeker_id) DO UPDATE SET job_seeker_id = EXCLUDED.job_seeker_id \
             RETURNING data_key_id, kek_id, nonce, wrapped_key",
        )
        .bind(job_seeker_id)
        .bind(key.id())
        .bind(&wrapped.kek_id)
        .bind(&wrapped.nonce)
        .bind(&wrapped.ciphertext)
        .fetch_one(&self.pool)
        .await?;
        match self.unwrapped(row)? {
            PersonKey::Held(key) => Ok(key),
            PersonKey::None | PersonKey::Erased => Err(KeyError::Erased),
        }
    }

    fn unwrapped(&self, row: Row) -> Result<PersonKey, KeyError> {
        let (Some(data_key_id), Some(kek_id), Some(nonce), Some(ciphertext)) = row else {
            // The table's check allows no other shape than the tombstone.
            return Ok(PersonKey::Erased);
        };
        let wrapped = WrappedDataKey {
            kek_id,
            nonce,
            ciphertext,
        };
        Ok(PersonKey::Held(self.keks.unwrap(&data_key_id, &wrapped)?))
    }
}

/// Art. 8: destroys the person's data key, leaving the tombstone (also for
/// a person scheduling never sealed anything of). Idempotent; returns
/// whether a key was destroyed now.
pub async fn destroy<'e>(
    db: impl PgExecutor<'e>,
    job_seeker_id: &str,
) -> Result<bool, sqlx::Error> {
    let destroyed: Option<bool> = sqlx::query_scalar(
        "INSERT INTO person_data_keys (job_seeker_id, destroyed_at) VALUES ($1, now()) \
         ON CONFLICT (job_seeker_id) DO UPDATE SET data_key_id = NULL, kek_id = NULL, \
             nonce = NULL, wrapped_key = NULL, destroyed_at = now() \
         WHERE person_data_keys.destroyed_at IS NULL \
         RETURNING xmax <> 0",
    )
    .bind(job_seeker_id)
    .fetch_optional(db)
    .await?;
    // `xmax <> 0`: the row existed and its key was just cleared.
    Ok(destroyed.unwrap_or(false))
}
