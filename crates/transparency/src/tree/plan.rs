//! Which stored hashes each tree operation reads, before it runs: the
//! operation itself, run over a lookup that records every index asked for
//! and answers a placeholder. The indexes `tlog_tiles` reads depend only on
//! the sizes, so the plan is exact by construction, and cannot drift from
//! the operation. Arguments the operation refuses plan no reads.

use std::cell::RefCell;

use super::HashLookup;
use crate::Hash;

/// The indexes [`super::root`]`(size, ..)` reads, in the order it reads them.
pub fn indexes_for_root(size: u64) -> Vec<u64> {
    record(|lookup| super::root(size, lookup).map(drop))
}

/// The indexes [`super::inclusion_proof`]`(index, size, ..)` reads, in order.
pub fn indexes_for_inclusion(index: u64, size: u64) -> Vec<u64> {
    record(|lookup| super::inclusion_proof(index, size, lookup).map(drop))
}

/// The indexes [`super::consistency_proof`]`(old, new, ..)` reads, in order.
pub fn indexes_for_consistency(old: u64, new: u64) -> Vec<u64> {
    record(|lookup| super::consistency_proof(old, new, lookup).map(drop))
}

/// The already stored indexes [`super::append`]`(first, leaves, ..)` reads
/// for `count` leaves, ascending and each once. Costs what the append does.
pub fn indexes_for_append(first: u64, count: u64) -> Vec<u64> {
    let Ok(count) = usize::try_from(count) else {
        return Vec::new();
    };
    let placeholders = std::iter::repeat_n(Hash::default(), count);
    let mut indexes = record(|lookup| super::append_all(first, placeholders, lookup).map(drop));
    indexes.sort_unstable();
    indexes.dedup();
    indexes
}

fn record(run: impl FnOnce(&Recorder) -> Result<(), super::TreeError>) -> Vec<u64> {
    let recorder = Recorder::default();
    // The recorder answers every read, so an error is the operation refusing
    // its arguments before reading anything: the plan is then empty.
    let _refused = run(&recorder);
    recorder.reads.into_inner()
}

#[derive(Default)]
struct Recorder {
    reads: RefCell<Vec<u64>>,
}

impl HashLookup for Recorder {
    fn hash_at(&self, index: u64) -> Option<Hash> {
        self.reads.borrow_mut().push(index);
        Some(Hash::default())
    }
}
