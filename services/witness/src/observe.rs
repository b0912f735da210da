//! The witness at work: on a schedule, fetch the log's latest checkpoint,
//! check its signature under the pinned key, fetch the entries' leaves
//! beyond what was accepted and the log's consistency proof, judge
//! ([`crate::check`]), and cosign only what extends the accepted tree: the
//! cosigned checkpoint is stored here first, then handed back to the log.
//! Less often, every accepted leaf is fetched again and compared with the
//! witness's copy, which catches an edited row whose tree was left alone.
//!
//! A fork, rollback or changed leaf is kept: the witness never cosigns for
//! that log again until an operator has looked (and moved the state away).

use std::sync::{Arc, RwLock};

use hellowork_platform::SystemAuth;
use hellowork_proto::{
    auditlog::v1::{self as proto, audit_log_service_client::AuditLogServiceClient},
    witness::v1::Inconsistency,
};
use hellowork_transparency::{Hash, checkpoint, hash_from_bytes, tree::MemoryTree};
use tokio_util::sync::CancellationToken;
use tonic::{Status, service::interceptor::InterceptedService, transport::Channel};

use crate::{
    check::{self, Signed, Verdict},
    config::WitnessConfig,
    metrics,
    state::{Accepted, Refusal, StateError, Store},
};

/// Leaves per `ListLogLeaves` page (the log's maximum).
const LEAF_PAGE: i32 = 10_000;

type Client = AuditLogServiceClient<InterceptedService<Channel, SystemAuth>>;

/// What one check found, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Cosigned(u64),
    Unchanged(u64),
    Refused(Inconsistency, String),
    /// The witness already refuses the log: nothing is checked.
    Refusing,
}

#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error("the log did not answer: {0}")]
    Log(#[from] Status),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("the log served a malformed {0}")]
    Malformed(&'static str),
    #[error("cosigning failed: {0}")]
    Cosign(hellowork_transparency::CheckpointError),
}

/// What the gRPC service shows: the accepted state.
pub type Shared = Arc<RwLock<Accepted>>;

/// The witness of one log.
pub struct Witness {
    config: WitnessConfig,
    client: Client,
    store: Store,
    accepted: Shared,
    tree: MemoryTree,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("log_url", &self.config.log_url)
            .field("tree_size", &self.tree.size())
            .finish_non_exhaustive()
    }
}

fn hash(bytes: &[u8], what: &'static str) -> Result<Hash, ObserveError> {
    hash_from_bytes(bytes).map_err(|_| ObserveError::Malformed(what))
}

impl Witness {
    /// Opens the witness's own storage; calls go to the log over `channel`.
    pub fn open(
        config: WitnessConfig,
        channel: Channel,
        auth: SystemAuth,
    ) -> Result<Self, StateError> {
        let (store, accepted, tree) = Store::open(&config.state_dir)?;
        metrics::register(
            accepted.tree_size,
            accepted.cosigned_at,
            accepted.refusal.is_some(),
        );
        Ok(Self {
            client: AuditLogServiceClient::with_interceptor(channel, auth),
            config,
            store,
            accepted: Arc::new(RwLock::new(accepted)),
            tree,
        })
    }

    pub fn shared(&self) -> Shared {
        self.accepted.clone()
    }

    fn snapshot(&self) -> Accepted {
        self.accepted
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Until `stop`: a check every interval, a full audit every audit
    /// interval (the first at start).
    pub async fn run(mut self, stop: CancellationToken) {
        let mut checks = tokio::time::interval(self.config.interval);
        checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut audits = tokio::time::interval(self.config.audit_interval);
        audits.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let result = tokio::select! {
                () = stop.cancelled() => return,
                _ = checks.tick() => self.check().await,
                _ = audits.tick() => self.audit().await,
            };
            match result {
                Ok(Outcome::Refused(kind, detail)) => {
                    tracing::error!(kind = kind.as_str_name(), %detail, "witness: the log is inconsistent; refusing to cosign");
                }
                Ok(outcome) => tracing::debug!(?outcome, "witness check"),
                Err(error) => {
                    metrics::check("unreachable");
                    tracing::warn!(%error, "witness: the check did not complete");
                }
            }
        }
    }

    /// Checks the log's latest checkpoint once.
    pub async fn check(&mut self) -> Result<Outcome, ObserveError> {
        if self.snapshot().refusal.is_some() {
            return Ok(Outcome::Refusing);
        }
        let response = self
            .client
            .get_checkpoint(proto::GetCheckpointRequest { witnessed: false })
            .await?
            .into_inner();
        let note = response
            .checkpoint
            .ok_or(ObserveError::Malformed("checkpoint"))?
            .signed_note;
        let verified =
            match checkpoint::verify(&note, &self.config.origin, &self.config.log_key, &[]) {
                Ok(verified) => verified,
                Err(error) => {
                    // Not kept: a bad signature proves nothing about the log's
                    // history (it may not come from the log), but it is alerted.
                    metrics::inconsistency(Inconsistency::BadSignature, false);
                    metrics::check("refused");
                    return Ok(Outcome::Refused(
                        Inconsistency::BadSignature,
                        error.to_string(),
                    ));
                }
            };
        let signed = Signed {
            size: verified.size,
            root: verified.root,
        };
        let accepted_size = self.tree.size();
        let (served, proof) = if signed.size > accepted_size {
            let served = self.leaves(accepted_size + 1, signed.size).await?;
            let proof = if accepted_size == 0 {
                Vec::new()
            } else {
                self.consistency(accepted_size, signed.size).await?
            };
            (served, proof)
        } else {
            (Vec::new(), Vec::new())
        };
        match check::judge(&self.tree, &signed, &served, &proof) {
            Verdict::Unchanged => {
                metrics::check("unchanged");
                Ok(Outcome::Unchanged(signed.size))
            }
            Verdict::Refused(kind, detail) => self.refuse(kind, detail),
            Verdict::Extends(grown) => self.accept(&note, grown, &served).await,
        }
    }

    /// Fetches every accepted leaf again and compares it with the copy.
    pub async fn audit(&mut self) -> Result<Outcome, ObserveError> {
        if self.snapshot().refusal.is_some() {
            return Ok(Outcome::Refusing);
        }
        let size = self.tree.size();
        if size == 0 {
            return Ok(Outcome::Unchanged(0));
        }
        let served = self.leaves(1, size).await?;
        match check::first_changed(&self.tree, 1, &served) {
            Some(position) => self.refuse(
                Inconsistency::LeafChanged,
                format!("entry {position} no longer hashes to the leaf accepted for it"),
            ),
            None if served.len() as u64 != size => self.refuse(
                Inconsistency::LeafChanged,
                format!(
                    "the log serves {} of the {size} accepted entries",
                    served.len()
                ),
            ),
            None => Ok(Outcome::Unchanged(size)),
        }
    }

    fn refuse(&mut self, kind: Inconsistency, detail: String) -> Result<Outcome, ObserveError> {
        let mut accepted = self.snapshot();
        accepted.refusal = Some(Refusal {
            kind: kind.as_str_name().to_owned(),
            detail: detail.clone(),
            at: chrono::Utc::now().timestamp(),
        });
        self.store.save(&accepted)?;
        *self
            .accepted
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = accepted;
        metrics::inconsistency(kind, true);
        metrics::check("refused");
        Ok(Outcome::Refused(kind, detail))
    }

    async fn accept(
        &mut self,
        note: &[u8],
        grown: MemoryTree,
        served: &[Option<Hash>],
    ) -> Result<Outcome, ObserveError> {
        let now = chrono::Utc::now().timestamp();
        let cosigned = self
            .config
            .key
            .cosign(note, now as u64)
            .map_err(ObserveError::Cosign)?;
        let leaves: Vec<Hash> = served.iter().flatten().copied().collect();
        self.store.append_leaves(&leaves)?;
        let accepted = Accepted {
            tree_size: grown.size(),
            cosigned_note: String::from_utf8_lossy(&cosigned).into_owned(),
            cosigned_at: now,
            ..self.snapshot()
        };
        self.store.save(&accepted)?;
        self.tree = grown;
        *self
            .accepted
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = accepted;
        metrics::accepted(self.tree.size(), now);
        metrics::check("cosigned");
        // Handing the cosignature back is a courtesy to the log's readers;
        // the witness's own record is already kept.
        if let Err(status) = self
            .client
            .add_cosignature(proto::AddCosignatureRequest {
                signed_note: cosigned,
            })
            .await
        {
            tracing::warn!(code = ?status.code(), message = status.message(), "witness: the log did not take the cosignature");
        }
        Ok(Outcome::Cosigned(self.tree.size()))
    }

    /// The leaves of positions `first..=last` as the log serves them at
    /// tree size `last`.
    async fn leaves(&mut self, first: u64, last: u64) -> Result<Vec<Option<Hash>>, ObserveError> {
        let mut leaves = Vec::with_capacity((last - first + 1) as usize);
        let mut next = first;
        while next <= last {
            let page = self
                .client
                .list_log_leaves(proto::ListLogLeavesRequest {
                    start_sequence: next,
                    page_size: LEAF_PAGE,
                    tree_size: last,
                })
                .await?
                .into_inner();
            if page.leaf_hashes.is_empty() {
                break;
            }
            for bytes in &page.leaf_hashes {
                leaves.push(if bytes.is_empty() {
                    None
                } else {
                    Some(hash(bytes, "leaf hash")?)
                });
            }
            next += page.leaf_hashes.len() as u64;
        }
        Ok(leaves)
    }

    async fn consistency(&mut self, old: u64, new: u64) -> Result<Vec<Hash>, ObserveError> {
        let response = self
            .client
            .get_consistency_proof(proto::GetConsistencyProofRequest {
                first_tree_size: old,
                second_tree_size: new,
            })
            .await;
        match response {
            Ok(response) => response
                .into_inner()
                .proof
                .iter()
                .map(|bytes| hash(bytes, "consistency proof"))
                .collect(),
            // A log that cannot prove consistency (a size beyond its tree:
            // rolled back under the checkpoint) gets judged on an empty
            // proof, which fails.
            Err(status) if status.code() == tonic::Code::InvalidArgument => Ok(Vec::new()),
            Err(status) => Err(status.into()),
        }
    }
}
