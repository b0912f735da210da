//! Proof verification (RFC 9162 §2.1.3.2 inclusion, §2.1.4.2 consistency), as
//! a client or the witness runs it on what the log hands out: by
//! `tlog_tiles::check_record` and `check_tree`, behind typed arguments.

use crate::Hash;

/// No proof for a tree of fewer than 2^64 leaves has more hashes than that
/// tree has levels (plus one, for consistency); a longer one is refused before
/// any hashing, so a hostile proof costs nothing.
const MAX_PROOF_HASHES: usize = 2 * 64;

/// Why a proof or a hash was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A hash that is not 32 bytes long.
    #[error("hash is {0} bytes long, expected 32")]
    HashLength(usize),
    /// The leaf is not in a tree of that size.
    #[error("leaf {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// No consistency proof exists between these sizes (the old tree must be
    /// non-empty and no larger than the new one).
    #[error("no consistency proof from size {old} to size {new}")]
    InvalidSizes { old: u64, new: u64 },
    /// The proof does not lead to the root(s).
    #[error("proof does not verify")]
    Mismatch,
}

/// Verifies that `leaf` is the leaf at `index` of the tree of `size` leaves
/// whose root is `root`, by the audit path `proof` (leaf to root).
pub fn verify_inclusion(
    proof: &[Hash],
    index: u64,
    size: u64,
    leaf: Hash,
    root: Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::Mismatch);
    }
    tlog_tiles::check_record(&proof.to_vec(), size, root, index, leaf)
        .map_err(|_| ProofError::Mismatch)
}

/// Verifies that the tree of `old_size` leaves with root `old_root` is a
/// prefix of the tree of `new_size` leaves with root `new_root`. Equal sizes
/// need an empty proof and equal roots.
pub fn verify_consistency(
    proof: &[Hash],
    old_size: u64,
    old_root: Hash,
    new_size: u64,
    new_root: Hash,
) -> Result<(), ProofError> {
    if old_size == 0 || old_size > new_size {
        return Err(ProofError::InvalidSizes {
            old: old_size,
            new: new_size,
        });
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(ProofError::Mismatch);
    }
    tlog_tiles::check_tree(&proof.to_vec(), new_size, new_root, old_size, old_root)
        .map_err(|_| ProofError::Mismatch)
}
