//! The whole tree in memory, for the witness and `hellowork verify-log`, which
//! rebuild it from the leaf hashes they download and compare its roots with
//! the log's checkpoints.

use std::fmt;

use super::{HashLookup, TreeError};
use crate::Hash;

/// Every stored hash of a tree (under `2n` hashes for `n` leaves), in
/// `tlog_tiles::stored_hash_index` order.
#[derive(Clone, Default)]
pub struct MemoryTree {
    hashes: Vec<Hash>,
    size: u64,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash; returns its leaf index.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        let index = self.size;
        let added = super::append(index, &[leaf], &*self)
            .expect("an in-memory tree holds every hash an append reads");
        self.hashes.extend(added.into_iter().map(|(_, hash)| hash));
        self.size += 1;
        index
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        super::root(self.size, self).expect("an in-memory tree holds every hash of its root")
    }

    /// The root of the tree of its first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, TreeError> {
        self.check_size(size)?;
        super::root(size, self)
    }

    /// The hash of leaf `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        if index >= self.size {
            return None;
        }
        self.hash_at(tlog_tiles::stored_hash_index(0, index))
    }

    /// The audit path of leaf `index` in the tree of its first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(size)?;
        super::inclusion_proof(index, size, self)
    }

    /// The proof that its first `old` leaves are a prefix of its first `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(new)?;
        super::consistency_proof(old, new, self)
    }

    fn check_size(&self, size: u64) -> Result<(), TreeError> {
        if size > self.size {
            return Err(TreeError::SizeOutOfRange { size });
        }
        Ok(())
    }
}

impl HashLookup for MemoryTree {
    fn hash_at(&self, index: u64) -> Option<Hash> {
        usize::try_from(index)
            .ok()
            .and_then(|index| self.hashes.get(index).copied())
    }
}

/// The size only: a tree of a million leaves is not a log line.
impl fmt::Debug for MemoryTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTree")
            .field("size", &self.size)
            .finish()
    }
}
