//! The access log as a transparency log: signed checkpoints, proofs against
//! them, leaves recomputed from the rows, witnesses' cosignatures.
//!
//! Every read of the tree runs in one repeatable-read snapshot, so a proof
//! and the size it is for come from the same commit.

use chrono::{DateTime, Utc};
use hellowork_transparency::{Hash, checkpoint, hash_from_bytes, leaf_hash};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::{settings::TransparencySettings, tree_store};
use crate::store;

/// Why the log cannot answer.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Tree(#[from] tree_store::TreeStoreError),
    #[error("signing the checkpoint failed: {0}")]
    Sign(checkpoint::CheckpointError),
    /// No checkpoint has been signed yet.
    #[error("the log has no checkpoint yet")]
    NoCheckpoint,
    /// A size beyond the tree.
    #[error("the tree holds {tree_size} entries, not {asked}")]
    BeyondTree { asked: u64, tree_size: u64 },
    /// A cosignature that does not verify, or for a checkpoint never signed.
    #[error("the cosigned checkpoint is refused: {0}")]
    Cosignature(String),
}

/// A checkpoint the log signed, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckpoint {
    pub tree_size: u64,
    pub root: Hash,
    /// The signed note: cosigned when `witnessed`.
    pub note: Vec<u8>,
    pub witnessed: bool,
    pub signed_at: DateTime<Utc>,
}

/// An entry's leaf with its audit path to a checkpoint.
#[derive(Debug, Clone)]
pub struct Inclusion {
    pub sequence: u64,
    pub leaf: Hash,
    pub proof: Vec<Hash>,
    pub checkpoint: StoredCheckpoint,
}

/// The log over the service's database and its signing key.
#[derive(Debug, Clone)]
pub struct TransparencyLog {
    pool: PgPool,
    settings: TransparencySettings,
}

impl TransparencyLog {
    pub fn new(pool: PgPool, settings: TransparencySettings) -> Self {
        Self { pool, settings }
    }

    pub fn origin(&self) -> &str {
        &self.settings.origin
    }

    /// The log's key as a C2SP verifier key, to be pinned out of band.
    pub fn verifier_key(&self) -> String {
        self.settings.key.verifier_key()
    }

    pub fn witnesses(&self) -> &[String] {
        &self.settings.witnesses
    }

    async fn snapshot(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        store::snapshot(&self.pool).await
    }

    /// Signs a checkpoint of the tree as it is now, unless the latest one
    /// already has its size; returns the latest either way (`None` while
    /// the log is empty).
    pub async fn checkpoint_now(&self) -> Result<Option<StoredCheckpoint>, LogError> {
        let mut tx = self.snapshot().await?;
        let size = tree_size(&mut tx).await?;
        let newest = latest(&mut tx, false).await?;
        if size == 0 || newest.as_ref().is_some_and(|c| c.tree_size == size) {
            return Ok(newest);
        }
        let root = tree_store::root(&mut tx, size).await?;
        tx.commit().await?;
        let signed = self
            .settings
            .key
            .sign(&self.settings.origin, size, root)
            .map_err(LogError::Sign)?;
        let signed_at = crate::domain::time::to_micros(Utc::now());
        sqlx::query(
            "INSERT INTO log_checkpoints (tree_size, root_hash, note, signed_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tree_size) DO NOTHING",
        )
        .bind(size as i64)
        .bind(root.0.to_vec())
        .bind(&signed.note)
        .bind(signed_at)
        .execute(&self.pool)
        .await?;
        let mut conn = self.pool.acquire().await?;
        latest(&mut conn, false).await
    }

    /// The latest checkpoint, or the latest a witness cosigned.
    pub async fn latest(&self, witnessed: bool) -> Result<StoredCheckpoint, LogError> {
        let mut conn = self.pool.acquire().await?;
        latest(&mut conn, witnessed)
            .await?
            .ok_or(LogError::NoCheckpoint)
    }

    /// `0` as a size means the latest checkpoint's.
    async fn size_or_latest(&self, conn: &mut PgConnection, asked: u64) -> Result<u64, LogError> {
        let tree_size = tree_size(conn).await?;
        let size = match asked {
            0 => {
                latest(conn, false)
                    .await?
                    .ok_or(LogError::NoCheckpoint)?
                    .tree_size
            }
            asked => asked,
        };
        if size > tree_size {
            return Err(LogError::BeyondTree { asked, tree_size });
        }
        Ok(size)
    }

    /// The leaf of the entry at `sequence` and its audit path in the tree of
    /// `tree_size` leaves (0: the latest checkpoint's), with the latest
    /// checkpoint of that size if one was signed.
    pub async fn inclusion(
        &self,
        sequence: u64,
        tree_size: u64,
    ) -> Result<(u64, Hash, Vec<Hash>), LogError> {
        let mut tx = self.snapshot().await?;
        let size = self.size_or_latest(&mut tx, tree_size).await?;
        if sequence == 0 || sequence > size {
            return Err(LogError::BeyondTree {
                asked: sequence,
                tree_size: size,
            });
        }
        let leaf = tree_store::stored_leaves(&mut tx, sequence - 1, 1).await?[0];
        let proof = tree_store::inclusion_proof(&mut tx, sequence - 1, size).await?;
        tx.commit().await?;
        Ok((size, leaf, proof))
    }

    /// The proof that the tree of `old` leaves is a prefix of the one of
    /// `new` (0: the latest checkpoint's).
    pub async fn consistency(&self, old: u64, new: u64) -> Result<(u64, Vec<Hash>), LogError> {
        let mut tx = self.snapshot().await?;
        let new = self.size_or_latest(&mut tx, new).await?;
        if old == 0 || old > new {
            return Err(LogError::BeyondTree {
                asked: old,
                tree_size: new,
            });
        }
        let proof = tree_store::consistency_proof(&mut tx, old, new).await?;
        tx.commit().await?;
        Ok((new, proof))
    }

    /// Leaf hashes computed afresh from the rows at `start..` (1-based),
    /// at most `count`, not beyond `tree_size` (0: the latest checkpoint's).
    /// A position without a row gives `None`.
    pub async fn leaves(
        &self,
        start: u64,
        count: u64,
        tree_size: u64,
    ) -> Result<(u64, Vec<Option<Hash>>), LogError> {
        let mut tx = self.snapshot().await?;
        let size = self.size_or_latest(&mut tx, tree_size).await?;
        let end = size.min(start.saturating_add(count).saturating_sub(1));
        let rows = store::range(&mut tx, start, end).await?;
        tx.commit().await?;
        let mut rows = rows.into_iter().peekable();
        let leaves = (start..=end)
            .map(|sequence| {
                let row = rows.next_if(|row| row.sequence as u64 == sequence)?;
                Some(leaf_hash(
                    store::canonical(row.sequence, &row.entry).bytes(),
                ))
            })
            .collect();
        Ok((size, leaves))
    }

    /// Keeps a witness's cosignature of a checkpoint the log signed.
    pub async fn add_cosignature(&self, note: &[u8]) -> Result<StoredCheckpoint, LogError> {
        let verified = checkpoint::verify(
            note,
            &self.settings.origin,
            &self.verifier_key(),
            &self.settings.witnesses,
        )
        .map_err(|e| LogError::Cosignature(e.to_string()))?;
        if verified.cosigned_by.is_empty() {
            return Err(LogError::Cosignature(
                "no cosignature by a configured witness".to_owned(),
            ));
        }
        let updated = sqlx::query(
            "UPDATE log_checkpoints SET cosigned_note = $3, cosigned_at = $4 \
             WHERE tree_size = $1 AND root_hash = $2",
        )
        .bind(verified.size as i64)
        .bind(verified.root.0.to_vec())
        .bind(note)
        .bind(crate::domain::time::to_micros(Utc::now()))
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(LogError::Cosignature(format!(
                "the log signed no checkpoint of size {} with that root",
                verified.size
            )));
        }
        let mut conn = self.pool.acquire().await?;
        checkpoint_of(&mut conn, verified.size, true)
            .await?
            .ok_or(LogError::NoCheckpoint)
    }

    /// The entry recording `record_id` with its audit path to the latest
    /// witnessed checkpoint covering it, else to a checkpoint signed now;
    /// `None` while the entry is not in the log yet.
    pub async fn inclusion_of_record(
        &self,
        record_id: &str,
    ) -> Result<Option<Inclusion>, LogError> {
        let mut conn = self.pool.acquire().await?;
        let Some(sequence) = store::sequence_of(&mut conn, record_id).await? else {
            return Ok(None);
        };
        let sequence = sequence as u64;
        drop(conn);
        let checkpoint = match self.latest(true).await {
            Ok(witnessed) if witnessed.tree_size >= sequence => witnessed,
            Ok(_) | Err(LogError::NoCheckpoint) => match self.checkpoint_now().await? {
                Some(latest) if latest.tree_size >= sequence => latest,
                _ => return Ok(None),
            },
            Err(other) => return Err(other),
        };
        let (_, leaf, proof) = self.inclusion(sequence, checkpoint.tree_size).await?;
        Ok(Some(Inclusion {
            sequence,
            leaf,
            proof,
            checkpoint,
        }))
    }
}

/// The tree's size as recorded with the head.
pub async fn tree_size(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    let size: i64 = sqlx::query_scalar("SELECT tree_size FROM chain_head WHERE id")
        .fetch_one(conn)
        .await?;
    Ok(size as u64)
}

type CheckpointRow = (i64, Vec<u8>, Vec<u8>, Option<Vec<u8>>, DateTime<Utc>);

fn stored(row: CheckpointRow, witnessed: bool) -> Result<StoredCheckpoint, LogError> {
    let (size, root, note, cosigned, signed_at) = row;
    let root =
        hash_from_bytes(&root).map_err(|_| tree_store::TreeStoreError::Malformed(size as u64))?;
    Ok(StoredCheckpoint {
        tree_size: size as u64,
        root,
        note: if witnessed {
            cosigned.unwrap_or(note)
        } else {
            note
        },
        witnessed,
        signed_at,
    })
}

async fn latest(
    conn: &mut PgConnection,
    witnessed: bool,
) -> Result<Option<StoredCheckpoint>, LogError> {
    let row: Option<CheckpointRow> = sqlx::query_as(
        "SELECT tree_size, root_hash, note, cosigned_note, signed_at FROM log_checkpoints \
         WHERE NOT $1 OR cosigned_note IS NOT NULL ORDER BY tree_size DESC LIMIT 1",
    )
    .bind(witnessed)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        let cosigned = row.3.is_some();
        stored(row, witnessed && cosigned)
    })
    .transpose()
}

async fn checkpoint_of(
    conn: &mut PgConnection,
    size: u64,
    witnessed: bool,
) -> Result<Option<StoredCheckpoint>, LogError> {
    let row: Option<CheckpointRow> = sqlx::query_as(
        "SELECT tree_size, root_hash, note, cosigned_note, signed_at FROM log_checkpoints \
         WHERE tree_size = $1",
    )
    .bind(size as i64)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        let cosigned = row.3.is_some();
        stored(row, witnessed && cosigned)
    })
    .transpose()
}

/// The latest checkpoints, newest first, for the self-verification.
pub async fn recent_checkpoints(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<StoredCheckpoint>, LogError> {
    let rows: Vec<CheckpointRow> = sqlx::query_as(
        "SELECT tree_size, root_hash, note, cosigned_note, signed_at FROM log_checkpoints \
         ORDER BY tree_size DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(|row| stored(row, false)).collect()
}
