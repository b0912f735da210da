//! What the witness decides about a new checkpoint, purely: given the tree
//! it already accepted (rebuilt from its own copy of the leaves), the log's
//! new signed checkpoint, the leaves the log now serves beyond it and the
//! log's consistency proof, either the checkpoint extends what was accepted
//! or it is refused, naming how.
//!
//! Two independent checks must both pass to extend: the log's consistency
//! proof (RFC 9162 §2.1.4.2, what a C2SP witness checks) and the witness's
//! own tree grown by the served leaves, whose root must be the signed one.
//! The second also catches a log whose stored tree is intact but whose rows
//! were edited, since the served leaves are computed from the rows.

use hellowork_proto::witness::v1::Inconsistency;
use hellowork_transparency::{Hash, proof::verify_consistency, tree::MemoryTree};

/// A checkpoint whose signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    pub size: u64,
    pub root: Hash,
}

/// The witness's decision.
#[derive(Debug)]
pub enum Verdict {
    /// The same tree as accepted: nothing to cosign anew.
    Unchanged,
    /// A larger tree that extends the accepted one: this tree.
    Extends(MemoryTree),
    /// Refused, with how and where.
    Refused(Inconsistency, String),
}

/// Judges `signed` against `accepted`; `served` are the leaves of positions
/// `accepted.size() + 1 ..= signed.size` as the log serves them (`None`:
/// the log has no row there), `proof` the log's consistency proof from the
/// accepted size to `signed.size` (unused when nothing was accepted yet).
pub fn judge(
    accepted: &MemoryTree,
    signed: &Signed,
    served: &[Option<Hash>],
    proof: &[Hash],
) -> Verdict {
    let size = accepted.size();
    if signed.size < size {
        return Verdict::Refused(
            Inconsistency::Rollback,
            format!(
                "the log's tree holds {} entries; {size} were accepted",
                signed.size
            ),
        );
    }
    if signed.size == size {
        return if signed.root == accepted.root() {
            Verdict::Unchanged
        } else {
            Verdict::Refused(
                Inconsistency::Fork,
                format!("a second root for the accepted size {size}"),
            )
        };
    }
    if size > 0
        && verify_consistency(proof, size, accepted.root(), signed.size, signed.root).is_err()
    {
        return Verdict::Refused(
            Inconsistency::Fork,
            format!(
                "the checkpoint of {} entries is not consistent with the accepted one of {size}",
                signed.size
            ),
        );
    }
    if served.len() as u64 != signed.size - size {
        return Verdict::Refused(
            Inconsistency::Fork,
            format!(
                "the log served {} entries after {size}, its checkpoint says {}",
                served.len(),
                signed.size - size
            ),
        );
    }
    let mut grown = accepted.clone();
    for (offset, leaf) in served.iter().enumerate() {
        let Some(leaf) = leaf else {
            return Verdict::Refused(
                Inconsistency::Fork,
                format!("entry {} is missing", size + offset as u64 + 1),
            );
        };
        grown.push(*leaf);
    }
    if grown.root() != signed.root {
        return Verdict::Refused(
            Inconsistency::Fork,
            format!(
                "the entries {}..={} the log serves do not hash to its checkpoint's root",
                size + 1,
                signed.size
            ),
        );
    }
    Verdict::Extends(grown)
}

/// The full audit: the first accepted position whose leaf, as the log now
/// serves it from `start` (1-based), differs from the witness's copy.
pub fn first_changed(accepted: &MemoryTree, start: u64, served: &[Option<Hash>]) -> Option<u64> {
    served
        .iter()
        .zip(start..)
        .find(|(leaf, position)| accepted.leaf(position - 1) != **leaf)
        .map(|(_, position)| position)
}

#[cfg(test)]
mod tests {
    use hellowork_transparency::leaf_hash;

    use super::*;

    fn leaves(range: std::ops::Range<u32>) -> Vec<Hash> {
        range.map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    fn tree(leaves: &[Hash]) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for leaf in leaves {
            tree.push(*leaf);
        }
        tree
    }

    fn signed(tree: &MemoryTree) -> Signed {
        Signed {
            size: tree.size(),
            root: tree.root(),
        }
    }

    fn served(leaves: &[Hash]) -> Vec<Option<Hash>> {
        leaves.iter().copied().map(Some).collect()
    }

    #[test]
    fn an_honest_extension_is_accepted_and_grows_the_tree() {
        let all = leaves(0..13);
        let accepted = tree(&all[..5]);
        let full = tree(&all);
        let proof = full.consistency_proof(5, 13).unwrap();
        match judge(&accepted, &signed(&full), &served(&all[5..]), &proof) {
            Verdict::Extends(grown) => assert_eq!(grown.root(), full.root()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_first_checkpoint_needs_no_proof_but_its_leaves_must_hash_to_it() {
        let all = leaves(0..4);
        let full = tree(&all);
        assert!(matches!(
            judge(&MemoryTree::new(), &signed(&full), &served(&all), &[]),
            Verdict::Extends(_)
        ));
        let mut edited = all.clone();
        edited[2] = leaf_hash(b"edited");
        assert!(matches!(
            judge(&MemoryTree::new(), &signed(&full), &served(&edited), &[]),
            Verdict::Refused(Inconsistency::Fork, _)
        ));
    }

    #[test]
    fn the_same_size_with_the_same_root_is_unchanged_and_with_another_a_fork() {
        let all = leaves(0..6);
        let accepted = tree(&all);
        assert!(matches!(
            judge(&accepted, &signed(&accepted), &[], &[]),
            Verdict::Unchanged
        ));
        let mut other = all.clone();
        other[0] = leaf_hash(b"rewritten");
        let rewritten = tree(&other);
        assert!(matches!(
            judge(&accepted, &signed(&rewritten), &[], &[]),
            Verdict::Refused(Inconsistency::Fork, _)
        ));
    }

    #[test]
    fn a_smaller_tree_is_a_rollback() {
        let all = leaves(0..9);
        let accepted = tree(&all);
        let rewound = tree(&all[..7]);
        assert!(matches!(
            judge(&accepted, &signed(&rewound), &[], &[]),
            Verdict::Refused(Inconsistency::Rollback, _)
        ));
    }

    #[test]
    fn a_consistent_rewrite_of_history_is_a_fork_whatever_the_log_serves() {
        let all = leaves(0..10);
        let accepted = tree(&all[..6]);
        // The writer edits entry 3, recomputes everything and appends more:
        // its own proof is consistent with its own rewritten past only.
        let mut history = all.clone();
        history[2] = leaf_hash(b"edited");
        let rewritten = tree(&history);
        let proof = rewritten.consistency_proof(6, 10).unwrap();
        assert!(matches!(
            judge(
                &accepted,
                &signed(&rewritten),
                &served(&history[6..]),
                &proof
            ),
            Verdict::Refused(Inconsistency::Fork, _)
        ));
    }

    #[test]
    fn served_leaves_that_disagree_with_an_honest_proof_are_refused() {
        let all = leaves(0..8);
        let accepted = tree(&all[..4]);
        let full = tree(&all);
        let proof = full.consistency_proof(4, 8).unwrap();
        let mut rows = served(&all[4..]);
        rows[1] = Some(leaf_hash(b"row edited after the checkpoint"));
        assert!(matches!(
            judge(&accepted, &signed(&full), &rows, &proof),
            Verdict::Refused(Inconsistency::Fork, _)
        ));
        rows[1] = None;
        assert!(matches!(
            judge(&accepted, &signed(&full), &rows, &proof),
            Verdict::Refused(Inconsistency::Fork, detail) if detail.contains("entry 6")
        ));
        assert!(matches!(
            judge(&accepted, &signed(&full), &served(&all[4..7]), &proof),
            Verdict::Refused(Inconsistency::Fork, _)
        ));
    }

    #[test]
    fn every_flipped_bit_of_the_proof_or_root_is_refused() {
        let all = leaves(0..11);
        let accepted = tree(&all[..7]);
        let full = tree(&all);
        let proof = full.consistency_proof(7, 11).unwrap();
        for index in 0..proof.len() {
            for bit in 0..256 {
                let mut bad = proof.clone();
                bad[index].0[bit / 8] ^= 1 << (bit % 8);
                assert!(matches!(
                    judge(&accepted, &signed(&full), &served(&all[7..]), &bad),
                    Verdict::Refused(Inconsistency::Fork, _)
                ));
            }
        }
        for bit in 0..256 {
            let mut root = full.root();
            root.0[bit / 8] ^= 1 << (bit % 8);
            let bad = Signed { size: 11, root };
            assert!(matches!(
                judge(&accepted, &bad, &served(&all[7..]), &proof),
                Verdict::Refused(Inconsistency::Fork, _)
            ));
        }
    }

    #[test]
    fn the_audit_names_the_first_changed_leaf() {
        let all = leaves(0..20);
        let accepted = tree(&all);
        assert_eq!(first_changed(&accepted, 1, &served(&all)), None);
        let mut rows = served(&all);
        rows[11] = Some(leaf_hash(b"edited"));
        rows[15] = None;
        assert_eq!(first_changed(&accepted, 1, &rows), Some(12));
        assert_eq!(first_changed(&accepted, 14, &rows[13..]), Some(16));
    }
}
