//! The tree over a database-like store: a `HashMap` filled by `tree::append`
//! in random batches must give the roots of RFC 9162's definition and of the
//! in-memory tree, proofs that verify, and read exactly the indexes its plans
//! name, so a store that fetched only those can answer.

use std::cell::RefCell;
use std::collections::HashMap;

use hellowork_transparency::tree::{self, HashLookup, MemoryTree, TreeError};
use hellowork_transparency::{Hash, leaf_hash, proof};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const MAX_LEAVES: u64 = 70;

/// A store that records every index read.
struct Recording<'a> {
    store: &'a HashMap<u64, Hash>,
    reads: RefCell<Vec<u64>>,
}

impl<'a> Recording<'a> {
    fn new(store: &'a HashMap<u64, Hash>) -> Self {
        Self {
            store,
            reads: RefCell::new(Vec::new()),
        }
    }

    fn take(&self) -> Vec<u64> {
        self.reads.take()
    }
}

impl HashLookup for Recording<'_> {
    fn hash_at(&self, index: u64) -> Option<Hash> {
        self.reads.borrow_mut().push(index);
        self.store.hash_at(index)
    }
}

/// RFC 9162 §2.1.1's MTH, straight from its definition: the oracle.
fn reference_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash(Sha256::digest(b"").into()),
        1 => leaves[0],
        n => {
            // The largest power of two below n.
            let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
            let mut hasher = Sha256::new();
            hasher.update([0x01]);
            hasher.update(reference_root(&leaves[..k]).0);
            hasher.update(reference_root(&leaves[k..]).0);
            Hash(hasher.finalize().into())
        }
    }
}

fn leaves(count: u64) -> Vec<Hash> {
    (0..count)
        .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
        .collect()
}

/// Only the rows of `store` at `indexes`, as a database query for a plan
/// returns them.
fn fetched(store: &HashMap<u64, Hash>, indexes: &[u64]) -> HashMap<u64, Hash> {
    indexes.iter().map(|&i| (i, store[&i])).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_store_filled_in_batches_is_the_tree(batches in prop::collection::vec(1u64..9, 1..40)) {
        let leaves = leaves(MAX_LEAVES);
        let mut store: HashMap<u64, Hash> = HashMap::new();
        let mut memory = MemoryTree::new();
        let mut size = 0;
        for batch in batches {
            let count = batch.min(MAX_LEAVES - size);
            if count == 0 {
                break;
            }
            let batch = &leaves[size as usize..(size + count) as usize];
            let plan = tree::indexes_for_append(size, count);
            let recording = Recording::new(&store);
            let rows = tree::append(size, batch, &recording).unwrap();
            let mut read = recording.take();
            read.sort_unstable();
            read.dedup();
            prop_assert_eq!(&read, &plan, "append({}, {}) reads", size, count);
            prop_assert_eq!(tree::append(size, batch, &fetched(&store, &plan)).unwrap(), rows.clone());
            prop_assert_eq!(rows.first().map(|row| row.0), Some(tlog_tiles::stored_hash_index(0, size)));
            for (index, hash) in rows {
                prop_assert!(store.insert(index, hash).is_none(), "index {} written twice", index);
            }
            for &leaf in batch {
                memory.push(leaf);
            }
            size += count;
            prop_assert_eq!(store.len() as u64, tlog_tiles::stored_hash_count(size));
        }

        for n in 0..=size {
            let root = tree::root(n, &store).unwrap();
            prop_assert_eq!(root, reference_root(&leaves[..n as usize]), "root of {}", n);
            prop_assert_eq!(memory.root_at(n), Ok(root));
            let plan = tree::indexes_for_root(n);
            let recording = Recording::new(&store);
            tree::root(n, &recording).unwrap();
            prop_assert_eq!(recording.take(), plan.clone());
            prop_assert_eq!(tree::root(n, &fetched(&store, &plan)), Ok(root));
        }
    }
}

/// Every proof of every tree up to `MAX_LEAVES` leaves, from a store filled
/// one batch at a time, verifies, and reads what its plan says.
#[test]
fn every_proof_verifies_and_reads_its_plan() {
    let leaves = leaves(MAX_LEAVES);
    let store: HashMap<u64, Hash> = tree::append(0, &leaves, &HashMap::new())
        .unwrap()
        .into_iter()
        .collect();
    let memory = {
        let mut memory = MemoryTree::new();
        leaves.iter().for_each(|&leaf| {
            memory.push(leaf);
        });
        memory
    };
    let roots: Vec<Hash> = (0..=MAX_LEAVES)
        .map(|n| tree::root(n, &store).unwrap())
        .collect();
    for size in 1..=MAX_LEAVES {
        for index in 0..size {
            let proof = tree::inclusion_proof(index, size, &store).unwrap();
            let leaf = leaves[index as usize];
            proof::verify_inclusion(&proof, index, size, leaf, roots[size as usize]).unwrap();
            assert_eq!(memory.inclusion_proof(index, size), Ok(proof.clone()));
            let plan = tree::indexes_for_inclusion(index, size);
            let recording = Recording::new(&store);
            tree::inclusion_proof(index, size, &recording).unwrap();
            assert_eq!(
                recording.take(),
                plan,
                "inclusion_proof({index}, {size}) reads"
            );
            assert_eq!(
                tree::inclusion_proof(index, size, &fetched(&store, &plan)),
                Ok(proof)
            );
        }
        for old in 1..=size {
            let proof = tree::consistency_proof(old, size, &store).unwrap();
            proof::verify_consistency(&proof, old, roots[old as usize], size, roots[size as usize])
                .unwrap();
            assert_eq!(memory.consistency_proof(old, size), Ok(proof.clone()));
            let plan = tree::indexes_for_consistency(old, size);
            let recording = Recording::new(&store);
            tree::consistency_proof(old, size, &recording).unwrap();
            assert_eq!(
                recording.take(),
                plan,
                "consistency_proof({old}, {size}) reads"
            );
            assert_eq!(
                tree::consistency_proof(old, size, &fetched(&store, &plan)),
                Ok(proof)
            );
        }
    }
}

#[test]
fn refused_arguments_plan_nothing_and_say_why() {
    let store: HashMap<u64, Hash> = tree::append(0, &leaves(5), &HashMap::new())
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        tree::inclusion_proof(5, 5, &store),
        Err(TreeError::LeafOutOfRange { index: 5, size: 5 })
    );
    assert!(tree::indexes_for_inclusion(5, 5).is_empty());
    assert_eq!(
        tree::consistency_proof(0, 5, &store),
        Err(TreeError::InvalidSizes { old: 0, new: 5 })
    );
    assert_eq!(
        tree::consistency_proof(6, 5, &store),
        Err(TreeError::InvalidSizes { old: 6, new: 5 })
    );
    assert!(tree::indexes_for_consistency(6, 5).is_empty());
    let too_large = tree::MAX_SIZE + 1;
    assert_eq!(
        tree::root(too_large, &store),
        Err(TreeError::SizeOutOfRange { size: too_large })
    );
    assert!(tree::indexes_for_root(too_large).is_empty());
    assert!(tree::indexes_for_append(tree::MAX_SIZE, 1).is_empty());
    // The fourth leaf completes the subtrees of leaves 2..4 and 0..4: it
    // reads leaf 2 (index 3) and the node over leaves 0..2 (index 2).
    assert_eq!(tree::indexes_for_append(3, 1), [2, 3]);
    assert_eq!(tree::indexes_for_append(4, 0), Vec::<u64>::new());

    // A root of a tree larger than the store: the first missing hash is named.
    let missing = tree::indexes_for_root(6)
        .into_iter()
        .find(|index| !store.contains_key(index))
        .unwrap();
    assert_eq!(
        tree::root(6, &store),
        Err(TreeError::MissingHash { index: missing })
    );
    // An append that does not start at the stored size lacks a hash too.
    assert!(matches!(
        tree::append(7, &leaves(1), &store),
        Err(TreeError::MissingHash { .. })
    ));

    let memory = MemoryTree::new();
    assert_eq!(
        memory.root_at(1),
        Err(TreeError::SizeOutOfRange { size: 1 })
    );
    assert_eq!(memory.leaf(0), None);
}
