//! The transparency RPCs' adapter: roles, request checks, one call of the
//! [`crate::service::AuditLog`] service, and the log's answers as proto.
//! The log itself is `crate::transparency`.

use hellowork_platform::{
    CallingService, Role, ServiceError, caller, require_any, require_service, require_service_or,
};
use hellowork_proto::auditlog::v1 as proto;
use hellowork_transparency::{Hash, hash_from_bytes};
use tonic::{Request, Status};

use super::AuditLogApi;
use crate::transparency::{Inclusion, StoredCheckpoint};

/// Who may ask for a leaf they do not already hold.
const OVERSIGHT: [Role; 3] = [Role::LegalOfficer, Role::Approver, Role::Auditor];
/// Every person's role: checkpoints and consistency proofs name nobody.
const EVERY_PERSON: [Role; 7] = [
    Role::JobSeeker,
    Role::Counsellor,
    Role::Supervisor,
    Role::Operator,
    Role::LegalOfficer,
    Role::Approver,
    Role::Auditor,
];
/// The witness follows the log: its checkpoints, the leaves and proofs
/// between them, and it adds its cosignature. No other service reads the
/// log's structure.
const WITNESS: [CallingService; 1] = [CallingService::Witness];
const DEFAULT_LEAVES: u64 = 1000;
const MAX_LEAVES: u64 = 10_000;

fn positions(field: &'static str, value: u64) -> Result<u64, Status> {
    if value > i64::MAX as u64 {
        return Err(ServiceError::invalid(field, "is beyond any log position").into());
    }
    Ok(value)
}

fn hashes(hashes: &[Hash]) -> Vec<Vec<u8>> {
    hashes.iter().map(|hash| hash.0.to_vec()).collect()
}

pub(super) fn checkpoint(stored: StoredCheckpoint, origin: &str) -> proto::Checkpoint {
    proto::Checkpoint {
        signed_note: stored.note,
        origin: origin.to_owned(),
        tree_size: stored.tree_size,
        root_hash: stored.root.0.to_vec(),
        witnessed: stored.witnessed,
    }
}

pub(super) fn inclusion(found: Inclusion, origin: &str) -> proto::LogInclusion {
    proto::LogInclusion {
        sequence: found.sequence,
        leaf_hash: found.leaf.0.to_vec(),
        proof: hashes(&found.proof),
        checkpoint: Some(checkpoint(found.checkpoint, origin)),
    }
}

impl AuditLogApi {
    pub(super) async fn checkpoint_of(
        &self,
        request: Request<proto::GetCheckpointRequest>,
    ) -> Result<proto::GetCheckpointResponse, Status> {
        // Checkpoints and consistency proofs name nobody: every person.
        require_service_or(caller(&request)?, "GetCheckpoint", &WITNESS, |person| {
            require_any(person, &EVERY_PERSON)
        })?;
        let latest = self.service.checkpoint(request.get_ref().witnessed).await?;
        Ok(proto::GetCheckpointResponse {
            checkpoint: Some(checkpoint(latest, self.service.log_origin())),
            log_verifier_key: self.service.log_verifier_key(),
        })
    }

    pub(super) async fn inclusion_proof(
        &self,
        request: Request<proto::GetInclusionProofRequest>,
    ) -> Result<proto::GetInclusionProofResponse, Status> {
        let caller = caller(&request)?;
        // No service asks for inclusion: the witness checks consistency.
        require_service_or(caller, "GetInclusionProof", &[], |person| {
            require_any(
                person,
                &[
                    Role::JobSeeker,
                    Role::LegalOfficer,
                    Role::Approver,
                    Role::Auditor,
                ],
            )
        })?;
        let message = request.get_ref();
        let sequence = positions("sequence", message.sequence)?;
        let tree_size = positions("tree_size", message.tree_size)?;
        if sequence == 0 {
            return Err(ServiceError::invalid("sequence", "must be at least 1").into());
        }
        if tree_size != 0 && tree_size < sequence {
            return Err(ServiceError::invalid("tree_size", "must be at least sequence").into());
        }
        let held = match message.leaf_hash.as_slice() {
            [] if OVERSIGHT.iter().any(|role| caller.has_role(*role)) => None,
            [] => {
                return Err(ServiceError::invalid(
                    "leaf_hash",
                    "is required: name the leaf you hold (a disclosure item gives it)",
                )
                .into());
            }
            bytes => Some(
                hash_from_bytes(bytes)
                    .map_err(|_| ServiceError::invalid("leaf_hash", "must be 32 bytes"))?,
            ),
        };
        let (size, leaf, proof) = self.service.inclusion(sequence, tree_size, held).await?;
        Ok(proto::GetInclusionProofResponse {
            sequence,
            tree_size: size,
            leaf_hash: leaf.0.to_vec(),
            proof: hashes(&proof),
        })
    }

    pub(super) async fn consistency_proof(
        &self,
        request: Request<proto::GetConsistencyProofRequest>,
    ) -> Result<proto::GetConsistencyProofResponse, Status> {
        require_service_or(
            caller(&request)?,
            "GetConsistencyProof",
            &WITNESS,
            |person| require_any(person, &EVERY_PERSON),
        )?;
        let message = request.get_ref();
        let first = positions("first_tree_size", message.first_tree_size)?;
        let second = positions("second_tree_size", message.second_tree_size)?;
        if first == 0 {
            return Err(ServiceError::invalid("first_tree_size", "must be at least 1").into());
        }
        if second != 0 && second < first {
            return Err(ServiceError::invalid(
                "second_tree_size",
                "must not be smaller than first_tree_size",
            )
            .into());
        }
        let (second, proof) = self.service.consistency(first, second).await?;
        Ok(proto::GetConsistencyProofResponse {
            first_tree_size: first,
            second_tree_size: second,
            proof: hashes(&proof),
        })
    }

    pub(super) async fn log_leaves(
        &self,
        request: Request<proto::ListLogLeavesRequest>,
    ) -> Result<proto::ListLogLeavesResponse, Status> {
        require_service_or(caller(&request)?, "ListLogLeaves", &WITNESS, |person| {
            require_any(person, &[Role::Auditor])
        })?;
        let message = request.get_ref();
        let start = positions("start_sequence", message.start_sequence)?.max(1);
        let tree_size = positions("tree_size", message.tree_size)?;
        let count = match message.page_size {
            0 => DEFAULT_LEAVES,
            n if n < 0 || n as u64 > MAX_LEAVES => {
                return Err(ServiceError::invalid(
                    "page_size",
                    format!("must be between 0 and {MAX_LEAVES}"),
                )
                .into());
            }
            n => n as u64,
        };
        let (size, leaves) = self.service.leaves(start, count, tree_size).await?;
        Ok(proto::ListLogLeavesResponse {
            start_sequence: start,
            // A position whose row is gone gives an empty hash: the
            // verifier names it.
            leaf_hashes: leaves
                .into_iter()
                .map(|leaf| leaf.map(|hash| hash.0.to_vec()).unwrap_or_default())
                .collect(),
            tree_size: size,
        })
    }

    pub(super) async fn cosignature(
        &self,
        request: Request<proto::AddCosignatureRequest>,
    ) -> Result<proto::AddCosignatureResponse, Status> {
        require_service(caller(&request)?, "AddCosignature", &WITNESS)?;
        let note = &request.get_ref().signed_note;
        if note.is_empty() {
            return Err(ServiceError::invalid("signed_note", "is required").into());
        }
        let kept = self.service.add_cosignature(note).await?;
        Ok(proto::AddCosignatureResponse {
            checkpoint: Some(checkpoint(kept, self.service.log_origin())),
        })
    }
}
