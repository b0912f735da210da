//! The access log's Merkle tree (RFC 9162 §2.1) kept as its stored hashes:
//! every leaf hash and every interior hash of a complete subtree, at the
//! indexes of `tlog_tiles::stored_hash_index` (Crosby and Wallach's dense
//! layout), so a tree of `n` leaves is `tlog_tiles::stored_hash_count(n)`
//! (under `2n`) rows that are only ever appended.
//!
//! The functions here are `tlog_tiles`' (`stored_hashes_for_record_hash`,
//! `tree_hash`, `prove_record`, `prove_tree`), run over a [`HashLookup`].
//! `tlog_tiles` reads through a synchronous reader, but which indexes it reads
//! depends only on the sizes, never on hash values; the [`indexes_for_root`]
//! family names them beforehand, so an async store (the audit-log's
//! PostgreSQL) fetches them in one query and then runs these functions on the
//! rows it got.

mod memory;
mod plan;
mod reader;

use std::collections::HashMap;
use std::hash::BuildHasher;

use crate::Hash;

pub use memory::MemoryTree;
pub use plan::{
    indexes_for_append, indexes_for_consistency, indexes_for_inclusion, indexes_for_root,
};

/// The stored-hash index of leaf `leaf`'s own hash (level 0), where the
/// tree keeps what it committed to for that leaf.
pub fn leaf_index(leaf: u64) -> u64 {
    tlog_tiles::stored_hash_index(0, leaf)
}

/// The largest tree size these functions take: the stored-hash indexes of a
/// larger tree would overflow `u64` (about twice the size). No log comes near.
pub const MAX_SIZE: u64 = 1 << 62;

/// Stored hashes by index.
pub trait HashLookup {
    /// The stored hash at `index`, if it is there.
    fn hash_at(&self, index: u64) -> Option<Hash>;
}

impl<S: BuildHasher> HashLookup for HashMap<u64, Hash, S> {
    fn hash_at(&self, index: u64) -> Option<Hash> {
        self.get(&index).copied()
    }
}

/// Why a tree operation could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The lookup lacks a hash the operation needs: the store is incomplete,
    /// or it was not given what the operation's plan names.
    #[error("stored hash {index} is missing")]
    MissingHash { index: u64 },
    /// The leaf is not in a tree of that size.
    #[error("leaf {index} is not in a tree of size {size}")]
    LeafOutOfRange { index: u64, size: u64 },
    /// No consistency proof exists between these sizes (the old tree must be
    /// non-empty and no larger than the new one).
    #[error("no consistency proof from size {old} to size {new}")]
    InvalidSizes { old: u64, new: u64 },
    /// A size beyond [`MAX_SIZE`], or beyond the tree at hand.
    #[error("tree size {size} is out of range")]
    SizeOutOfRange { size: u64 },
}

/// The stored hashes that appending the leaf hashes `leaves` as leaves
/// `first..first + leaves.len()` adds, as `(index, hash)` rows in index
/// order. `stored` must hold the tree of `first` leaves (at least the hashes
/// [`indexes_for_append`] names); the batch's own new hashes are answered
/// from the batch. `first` must be the stored tree's size: a store cannot
/// tell, so a wrong one is caught only when it lacks a hash.
pub fn append(
    first: u64,
    leaves: &[Hash],
    stored: &impl HashLookup,
) -> Result<Vec<(u64, Hash)>, TreeError> {
    append_all(first, leaves.iter().copied(), stored)
}

/// The root of the tree of `size` leaves.
pub fn root(size: u64, stored: &impl HashLookup) -> Result<Hash, TreeError> {
    check_size(size)?;
    reader::read_with(stored, |hashes| tlog_tiles::tree_hash(size, hashes))
}

/// The audit path (leaf to root) of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof(
    index: u64,
    size: u64,
    stored: &impl HashLookup,
) -> Result<Vec<Hash>, TreeError> {
    check_size(size)?;
    if index >= size {
        return Err(TreeError::LeafOutOfRange { index, size });
    }
    reader::read_with(stored, |hashes| {
        tlog_tiles::prove_record(size, index, hashes)
    })
}

/// The proof that the tree of `old` leaves is a prefix of the tree of `new`.
pub fn consistency_proof(
    old: u64,
    new: u64,
    stored: &impl HashLookup,
) -> Result<Vec<Hash>, TreeError> {
    check_size(new)?;
    if old == 0 || old > new {
        return Err(TreeError::InvalidSizes { old, new });
    }
    reader::read_with(stored, |hashes| tlog_tiles::prove_tree(new, old, hashes))
}

/// [`append`] over any exact-size run of leaves, so the plan can run it on
/// placeholder leaves without allocating them.
fn append_all<L: HashLookup + ?Sized>(
    first: u64,
    leaves: impl ExactSizeIterator<Item = Hash>,
    stored: &L,
) -> Result<Vec<(u64, Hash)>, TreeError> {
    let count = u64::try_from(leaves.len()).unwrap_or(u64::MAX);
    let end = first.saturating_add(count);
    check_size(end)?;
    let base = tlog_tiles::stored_hash_index(0, first);
    let mut added: Vec<Hash> = Vec::new();
    for (n, leaf) in (first..end).zip(leaves) {
        debug_assert_eq!(
            base + added.len() as u64,
            tlog_tiles::stored_hash_index(0, n),
            "a record's hashes follow the previous record's"
        );
        let batch = Batch {
            base,
            added: &added,
            stored,
        };
        let hashes = reader::read_with(&batch, |hashes| {
            tlog_tiles::stored_hashes_for_record_hash(n, leaf, hashes)
        })?;
        added.extend(hashes);
    }
    Ok((base..).zip(added).collect())
}

fn check_size(size: u64) -> Result<(), TreeError> {
    if size > MAX_SIZE {
        return Err(TreeError::SizeOutOfRange { size });
    }
    Ok(())
}

/// The stored hashes as they are during an append: indexes from `base` on
/// are the batch's, answered from what it has added so far; the rest are the
/// store's.
struct Batch<'a, L: ?Sized> {
    base: u64,
    added: &'a [Hash],
    stored: &'a L,
}

impl<L: HashLookup + ?Sized> HashLookup for Batch<'_, L> {
    fn hash_at(&self, index: u64) -> Option<Hash> {
        match index.checked_sub(self.base) {
            Some(offset) => usize::try_from(offset)
                .ok()
                .and_then(|offset| self.added.get(offset).copied()),
            None => self.stored.hash_at(index),
        }
    }
}
