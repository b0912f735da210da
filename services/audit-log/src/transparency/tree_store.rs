//! The Merkle tree's hashes in Postgres (`log_hashes`, tlog's stored-hash
//! layout). tlog's functions read hashes synchronously, but which hashes
//! they read depends only on the sizes involved: each operation asks
//! `hellowork_transparency::tree` for its plan, fetches exactly those rows,
//! then runs over the fetched map.

use std::collections::HashMap;

use hellowork_transparency::{Hash, hash_from_bytes, tree};
use sqlx::PgConnection;

/// Rows per INSERT of new hashes (two bind arrays, so no parameter limit;
/// the chunk bounds one statement's size).
const INSERT_CHUNK: usize = 5000;

/// Why the stored tree cannot answer.
#[derive(Debug, thiserror::Error)]
pub enum TreeStoreError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A hash the tree's shape says is stored is not: the table was edited.
    #[error("the tree's stored hash {0} is missing")]
    Missing(u64),
    #[error("the tree's stored hash {0} is not 32 bytes")]
    Malformed(u64),
    /// The log has no entry at a position below its head.
    #[error("the access log has no entry at position {0}")]
    MissingEntry(u64),
    #[error(transparent)]
    Tree(#[from] tree::TreeError),
}

impl From<TreeStoreError> for sqlx::Error {
    /// Appends run inside projections, whose errors are the database's: a
    /// tree that cannot be extended is stored data that does not decode.
    fn from(error: TreeStoreError) -> Self {
        match error {
            TreeStoreError::Database(error) => error,
            other => sqlx::Error::Decode(Box::new(other)),
        }
    }
}

/// The stored hashes at `indexes`, every one of them.
pub async fn hashes(
    conn: &mut PgConnection,
    indexes: &[u64],
) -> Result<HashMap<u64, Hash>, TreeStoreError> {
    let wanted: Vec<i64> = indexes.iter().map(|index| *index as i64).collect();
    let rows: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT hash_index, hash FROM log_hashes WHERE hash_index = ANY($1)")
            .bind(&wanted)
            .fetch_all(&mut *conn)
            .await?;
    let mut found = HashMap::with_capacity(rows.len());
    for (index, bytes) in rows {
        let index = index as u64;
        let hash = hash_from_bytes(&bytes).map_err(|_| TreeStoreError::Malformed(index))?;
        found.insert(index, hash);
    }
    match indexes.iter().find(|index| !found.contains_key(index)) {
        Some(missing) => Err(TreeStoreError::Missing(*missing)),
        None => Ok(found),
    }
}

/// Appends `leaves` as leaves `first, first + 1, …` inside the caller's
/// transaction (which holds the head's row lock), storing the hashes they
/// complete.
pub async fn append(
    conn: &mut PgConnection,
    first: u64,
    leaves: &[Hash],
) -> Result<(), TreeStoreError> {
    if leaves.is_empty() {
        return Ok(());
    }
    let stored = hashes(conn, &tree::indexes_for_append(first, leaves.len() as u64)).await?;
    let new = tree::append(first, leaves, &stored)?;
    for chunk in new.chunks(INSERT_CHUNK) {
        let indexes: Vec<i64> = chunk.iter().map(|(index, _)| *index as i64).collect();
        let hashes: Vec<Vec<u8>> = chunk.iter().map(|(_, hash)| hash.0.to_vec()).collect();
        sqlx::query("INSERT INTO log_hashes (hash_index, hash) SELECT * FROM UNNEST($1::bigint[], $2::bytea[])")
            .bind(&indexes)
            .bind(&hashes)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The root of the first `size` leaves.
pub async fn root(conn: &mut PgConnection, size: u64) -> Result<Hash, TreeStoreError> {
    let stored = hashes(conn, &tree::indexes_for_root(size)).await?;
    Ok(tree::root(size, &stored)?)
}

/// The audit path of leaf `index` in the tree of `size` leaves.
pub async fn inclusion_proof(
    conn: &mut PgConnection,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TreeStoreError> {
    let stored = hashes(conn, &tree::indexes_for_inclusion(index, size)).await?;
    Ok(tree::inclusion_proof(index, size, &stored)?)
}

/// The proof that the tree of `old` leaves is a prefix of that of `new`.
pub async fn consistency_proof(
    conn: &mut PgConnection,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, TreeStoreError> {
    let stored = hashes(conn, &tree::indexes_for_consistency(old, new)).await?;
    Ok(tree::consistency_proof(old, new, &stored)?)
}

/// The stored leaf hash of leaf `index` (what the tree committed to).
pub async fn stored_leaves(
    conn: &mut PgConnection,
    first: u64,
    count: u64,
) -> Result<Vec<Hash>, TreeStoreError> {
    let indexes: Vec<u64> = (first..first + count).map(tree::leaf_index).collect();
    let stored = hashes(conn, &indexes).await?;
    Ok(indexes.iter().map(|index| stored[index]).collect())
}

/// Empties the tree, inside a rebuild's transaction.
pub async fn reset(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM log_hashes")
        .execute(&mut *conn)
        .await?;
    Ok(())
}
