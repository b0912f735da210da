//! The bridge from a [`HashLookup`] to `tlog_tiles`' `HashReader`, which can
//! only fail with its own error type: the bridge remembers which index was
//! missing so the caller gets [`TreeError::MissingHash`] naming it.

use std::cell::Cell;

use tlog_tiles::HashReader;

use super::{HashLookup, TreeError};
use crate::Hash;

/// Runs a `tlog_tiles` function over `lookup`. Its arguments have been
/// checked by the caller, so a missing hash is the only way it can fail.
pub(super) fn read_with<L: HashLookup + ?Sized, T>(
    lookup: &L,
    run: impl FnOnce(&Reader<'_, L>) -> Result<T, tlog_tiles::Error>,
) -> Result<T, TreeError> {
    let reader = Reader {
        lookup,
        missing: Cell::new(None),
    };
    run(&reader).map_err(|error| match reader.missing.get() {
        Some(index) => TreeError::MissingHash { index },
        None => unreachable!("tlog_tiles refused arguments checked beforehand: {error}"),
    })
}

pub(super) struct Reader<'a, L: ?Sized> {
    lookup: &'a L,
    missing: Cell<Option<u64>>,
}

impl<L: HashLookup + ?Sized> HashReader for Reader<'_, L> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&index| {
                self.lookup.hash_at(index).ok_or_else(|| {
                    self.missing.set(Some(index));
                    tlog_tiles::Error::IndexesNotInTree
                })
            })
            .collect()
    }
}
