//! The transparency log's answers (tamper evidence of the Art. 7 access
//! log): the latest checkpoint, inclusion and consistency proofs, the
//! leaves, and a witness's cosignature, each a [`ServiceError`] when the
//! log cannot give it. The log itself is [`crate::transparency`].

use hellowork_platform::ServiceError;
use hellowork_transparency::Hash;

use super::{AuditLog, log_error};
use crate::transparency::StoredCheckpoint;

impl AuditLog {
    /// The log's origin line, which its checkpoints name.
    pub fn log_origin(&self) -> &str {
        self.log.origin()
    }

    /// The key the log's checkpoints verify under.
    pub fn log_verifier_key(&self) -> String {
        self.log.verifier_key()
    }

    /// The latest checkpoint, or the latest a witness cosigned.
    pub async fn checkpoint(&self, witnessed: bool) -> Result<StoredCheckpoint, ServiceError> {
        self.log
            .latest(witnessed)
            .await
            .map_err(|e| log_error(e, "witnessed"))
    }

    /// The leaf at `sequence` with its inclusion proof in the tree of
    /// `tree_size` (the latest if 0): the tree's size, the leaf and the
    /// proof. NOT_FOUND when the caller names the leaf they hold (`held`)
    /// and it is not that one.
    pub async fn inclusion(
        &self,
        sequence: u64,
        tree_size: u64,
        held: Option<Hash>,
    ) -> Result<(u64, Hash, Vec<Hash>), ServiceError> {
        let (size, leaf, proof) = self.log.inclusion(sequence, tree_size).await.map_err(|e| {
            log_error(
                e,
                if tree_size == 0 {
                    "sequence"
                } else {
                    "tree_size"
                },
            )
        })?;
        if held.is_some_and(|held| held != leaf) {
            return Err(ServiceError::NotFound {
                resource_type: "log leaf",
                resource_name: format!("{sequence} with that hash"),
            });
        }
        Ok((size, leaf, proof))
    }

    /// The consistency proof from the tree of `first` leaves to that of
    /// `second` (the latest if 0), with the second's size.
    pub async fn consistency(
        &self,
        first: u64,
        second: u64,
    ) -> Result<(u64, Vec<Hash>), ServiceError> {
        self.log.consistency(first, second).await.map_err(|e| {
            log_error(
                e,
                if second == 0 {
                    "first_tree_size"
                } else {
                    "second_tree_size"
                },
            )
        })
    }

    /// At most `count` leaves from `start` in the tree of `tree_size` (the
    /// latest if 0), with its size; a position whose row is gone is `None`.
    pub async fn leaves(
        &self,
        start: u64,
        count: u64,
        tree_size: u64,
    ) -> Result<(u64, Vec<Option<Hash>>), ServiceError> {
        self.log
            .leaves(start, count, tree_size)
            .await
            .map_err(|e| log_error(e, "tree_size"))
    }

    /// A witness's cosignature on a checkpoint, kept if it is consistent;
    /// the checkpoint with every cosignature kept.
    pub async fn add_cosignature(&self, note: &[u8]) -> Result<StoredCheckpoint, ServiceError> {
        self.log
            .add_cosignature(note)
            .await
            .map_err(|e| log_error(e, "signed_note"))
    }
}
