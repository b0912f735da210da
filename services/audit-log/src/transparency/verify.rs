//! The audit-log checks its own log on a schedule, so the verification
//! panel and alert have data between auditors' runs: every row against the
//! leaf the tree committed to, the tree against the checkpoints it signed,
//! and the hash chain end to end. A database writer can make all three
//! agree again (a consistent rewrite); that is what the witness and the
//! client-side verifiers, who keep their own copies, are for.

use hellowork_transparency::{checkpoint, leaf_hash};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::{
    log::{LogError, TransparencyLog, recent_checkpoints, tree_size},
    tree_store,
};
use crate::{metrics, store};

/// Rows compared per page.
const PAGE: u64 = 1000;
/// How many of the latest checkpoints are checked against the tree.
const CHECKPOINTS: i64 = 16;

/// What the self-verification found wrong first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeFailure {
    /// The row at this position no longer hashes to its committed leaf.
    LeafChanged(u64),
    /// No row at this position below the tree's size.
    MissingEntry(u64),
    /// A signed checkpoint is larger than the tree (rolled back).
    Rollback { checkpoint: u64, tree_size: u64 },
    /// The tree's root at a checkpoint's size is not the signed one.
    Fork { checkpoint: u64 },
    /// A stored checkpoint does not verify under the log's own key.
    BadCheckpoint { checkpoint: u64 },
    /// A hash the tree's shape needs is gone.
    TreeDamaged(String),
}

impl std::fmt::Display for TreeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::LeafChanged(at) => write!(f, "entry {at} no longer matches its leaf"),
            Self::MissingEntry(at) => write!(f, "entry {at} is missing"),
            Self::Rollback {
                checkpoint,
                tree_size,
            } => write!(
                f,
                "the tree holds {tree_size} entries but a checkpoint of {checkpoint} was signed"
            ),
            Self::Fork { checkpoint } => {
                write!(f, "the tree's root at {checkpoint} is not the signed one")
            }
            Self::BadCheckpoint { checkpoint } => {
                write!(f, "the stored checkpoint of {checkpoint} does not verify")
            }
            Self::TreeDamaged(detail) => write!(f, "the tree is damaged: {detail}"),
        }
    }
}

/// One pass: the first failure, if any.
pub async fn verify_tree(
    pool: &PgPool,
    log: &TransparencyLog,
) -> Result<Option<TreeFailure>, LogError> {
    let mut tx = store::snapshot(pool).await?;
    let size = tree_size(&mut tx).await?;
    let damaged = |error: tree_store::TreeStoreError| match error {
        tree_store::TreeStoreError::Database(error) => Err(LogError::Database(error)),
        other => Ok(Some(TreeFailure::TreeDamaged(other.to_string()))),
    };
    let mut first = 1;
    while first <= size {
        let last = size.min(first + PAGE - 1);
        let rows = store::range(&mut tx, first, last).await?;
        let committed = match tree_store::stored_leaves(&mut tx, first - 1, last - first + 1).await
        {
            Ok(leaves) => leaves,
            Err(error) => return damaged(error),
        };
        let mut rows = rows.into_iter().peekable();
        for (sequence, committed) in (first..=last).zip(committed) {
            let Some(row) = rows.next_if(|row| row.sequence as u64 == sequence) else {
                return Ok(Some(TreeFailure::MissingEntry(sequence)));
            };
            if leaf_hash(store::canonical(row.sequence, &row.entry).bytes()) != committed {
                return Ok(Some(TreeFailure::LeafChanged(sequence)));
            }
        }
        first = last + 1;
    }
    for signed in recent_checkpoints(&mut tx, CHECKPOINTS).await? {
        let verified = checkpoint::verify(&signed.note, log.origin(), &log.verifier_key(), &[]);
        if !verified.is_ok_and(|v| v.size == signed.tree_size && v.root == signed.root) {
            return Ok(Some(TreeFailure::BadCheckpoint {
                checkpoint: signed.tree_size,
            }));
        }
        if signed.tree_size > size {
            return Ok(Some(TreeFailure::Rollback {
                checkpoint: signed.tree_size,
                tree_size: size,
            }));
        }
        match tree_store::root(&mut tx, signed.tree_size).await {
            Ok(root) if root == signed.root => {}
            Ok(_) => {
                return Ok(Some(TreeFailure::Fork {
                    checkpoint: signed.tree_size,
                }));
            }
            Err(error) => return damaged(error),
        }
    }
    tx.commit().await?;
    Ok(None)
}

/// Signs checkpoints as the tree grows and verifies the log on schedule.
#[derive(Debug, Clone)]
pub struct Transparency {
    pub pool: PgPool,
    pub log: TransparencyLog,
    pub checkpoint_interval: std::time::Duration,
    pub verify_interval: std::time::Duration,
}

impl Transparency {
    /// Until `stop`: a checkpoint every `checkpoint_interval` if the tree
    /// grew; a verification at start and every `verify_interval`.
    pub async fn run(self, stop: CancellationToken) {
        let mut checkpoints = tokio::time::interval(self.checkpoint_interval);
        checkpoints.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut verifications = tokio::time::interval(self.verify_interval);
        verifications.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = checkpoints.tick() => match self.log.checkpoint_now().await {
                    Ok(Some(latest)) => metrics::checkpoint_signed(latest.tree_size),
                    Ok(None) => {}
                    Err(error) => tracing::warn!(%error, "no checkpoint signed this time"),
                },
                _ = verifications.tick() => self.verify_once().await,
            }
        }
    }

    async fn verify_once(&self) {
        let chain = store::verify(&self.pool, 0, 0).await;
        let tree = verify_tree(&self.pool, &self.log).await;
        match (chain, tree) {
            (Ok(chain), Ok(tree)) => {
                if let Some((position, failure)) = chain.failure {
                    tracing::warn!(
                        position,
                        ?failure,
                        "scheduled verification: the access log's hash chain is broken"
                    );
                }
                if let Some(failure) = &tree {
                    tracing::warn!(%failure, "scheduled verification: the access log's Merkle tree does not verify");
                }
                metrics::record_verification(chain.failure.is_none() && tree.is_none());
            }
            (Err(error), _) => {
                tracing::warn!(%error, "scheduled verification could not read the chain")
            }
            (_, Err(error)) => {
                tracing::warn!(%error, "scheduled verification could not read the tree")
            }
        }
    }
}
