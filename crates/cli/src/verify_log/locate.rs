//! Finding the first entry whose row no longer matches what the log's tree
//! committed to, when the served leaves do not hash to a signed root but
//! the tree itself is intact (a row edited behind the service's back).
//!
//! The log's inclusion proof of a leaf carries the tree's own hashes of the
//! subtrees beside the leaf's path (RFC 9162 §2.1.3.1); the verifier
//! computes the same subtrees from the leaves it was served. Starting at
//! the first leaf, the lowest differing subtree to its right holds the
//! first changed entry; the search moves to that subtree's first leaf and
//! repeats, so it needs one proof per level, never one per entry.

use hellowork_transparency::{Hash, tree::MemoryTree};

/// The leaf ranges `[start, end)` of the subtrees an audit path of leaf
/// `index` in a tree of `size` leaves lists, bottom-up, as RFC 9162
/// §2.1.3.1 defines PATH(m, D[n]).
pub fn path_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let mut ranges = Vec::new();
    let (mut lo, mut hi, m) = (0, size, index);
    while hi - lo > 1 {
        // The largest power of two below the subtree's size.
        let k = (hi - lo).next_power_of_two() / 2;
        if m < lo + k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            lo += k;
        }
    }
    ranges.reverse();
    ranges
}

/// The RFC 9162 hash of the served leaves `[start, end)`.
pub fn subtree(served: &[Hash], start: u64, end: u64) -> Hash {
    let mut tree = MemoryTree::new();
    for leaf in &served[start as usize..end as usize] {
        tree.push(*leaf);
    }
    tree.root()
}

/// One step of the search from leaf `index`: `Ok(Some(next))` the first
/// leaf of the lowest subtree right of `index` whose committed hash
/// (`proof`) differs from the served one; `Ok(None)` none differs;
/// `Err(index)` the leaf itself differs from the `committed` one.
pub fn step(
    served: &[Hash],
    index: u64,
    committed: Hash,
    proof: &[Hash],
) -> Result<Option<u64>, u64> {
    if served[index as usize] != committed {
        return Err(index);
    }
    let size = served.len() as u64;
    let next = path_ranges(index, size)
        .into_iter()
        .zip(proof)
        .find(|((start, end), hash)| *start > index && subtree(served, *start, *end) != **hash)
        .map(|((start, _), _)| start);
    Ok(next)
}

#[cfg(test)]
mod tests {
    use hellowork_transparency::leaf_hash;

    use super::*;

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn path_ranges_line_up_with_the_audit_path_of_every_leaf() {
        for size in 1..40u32 {
            let all = leaves(size);
            let mut tree = MemoryTree::new();
            for leaf in &all {
                tree.push(*leaf);
            }
            for index in 0..u64::from(size) {
                let proof = tree.inclusion_proof(index, u64::from(size)).unwrap();
                let ranges = path_ranges(index, u64::from(size));
                assert_eq!(ranges.len(), proof.len(), "size {size} index {index}");
                for ((start, end), hash) in ranges.iter().zip(&proof) {
                    assert_eq!(subtree(&all, *start, *end), *hash);
                    assert!(index < *start || index >= *end);
                }
            }
        }
    }

    /// The search as the verifier runs it, over a committed tree and
    /// served leaves that differ at `changed`.
    fn search(committed: &[Hash], served: &[Hash]) -> Option<u64> {
        let mut tree = MemoryTree::new();
        for leaf in committed {
            tree.push(*leaf);
        }
        let size = committed.len() as u64;
        let mut index = 0;
        loop {
            let proof = tree.inclusion_proof(index, size).unwrap();
            match step(served, index, committed[index as usize], &proof) {
                Err(bad) => return Some(bad),
                Ok(Some(next)) => index = next,
                Ok(None) => return None,
            }
        }
    }

    #[test]
    fn the_search_finds_the_first_changed_leaf_wherever_it_is() {
        for size in 1..34u32 {
            let committed = leaves(size);
            assert_eq!(search(&committed, &committed), None);
            for changed in 0..size {
                let mut served = committed.clone();
                served[changed as usize] = leaf_hash(b"edited");
                if changed + 2 < size {
                    served[(changed + 2) as usize] = leaf_hash(b"edited too");
                }
                assert_eq!(search(&committed, &served), Some(u64::from(changed)));
            }
        }
    }
}
