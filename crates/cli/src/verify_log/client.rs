//! The calls `verify-log` makes: the log's checkpoint, proofs and leaves,
//! and the witness's cosigned checkpoint. Answers are only material: every
//! one is checked on this side.

use hellowork_proto::{
    auditlog::v1::{self as proto, audit_log_service_client::AuditLogServiceClient},
    witness::v1::{GetWitnessedCheckpointRequest, witness_service_client::WitnessServiceClient},
};
use hellowork_transparency::{Hash, hash_from_bytes};
use tonic::{
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};

use crate::{rpc::describe, transport::ClientTransport};

/// How long one call to the log or the witness may take.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Leaves per page (the log's maximum).
const LEAF_PAGE: i32 = 10_000;

pub struct Log {
    client: AuditLogServiceClient<Channel>,
    bearer: MetadataValue<Ascii>,
}

fn hash(bytes: &[u8], what: &str) -> Result<Hash, String> {
    hash_from_bytes(bytes).map_err(|_| format!("the log served a malformed {what}"))
}

fn hashes(all: &[Vec<u8>], what: &str) -> Result<Vec<Hash>, String> {
    all.iter().map(|bytes| hash(bytes, what)).collect()
}

impl Log {
    pub fn connect(
        transport: &ClientTransport,
        endpoint: &str,
        bearer: MetadataValue<Ascii>,
    ) -> Result<Self, String> {
        let client = AuditLogServiceClient::new(transport.channel(endpoint, CALL_TIMEOUT)?);
        Ok(Self { client, bearer })
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", self.bearer.clone());
        request
    }

    /// The latest signed checkpoint's note.
    pub async fn checkpoint(&mut self) -> Result<Vec<u8>, String> {
        let request = self.request(proto::GetCheckpointRequest { witnessed: false });
        let response = self
            .client
            .get_checkpoint(request)
            .await
            .map_err(describe)?
            .into_inner();
        Ok(response
            .checkpoint
            .map(|checkpoint| checkpoint.signed_note)
            .unwrap_or_default())
    }

    pub async fn consistency(&mut self, old: u64, new: u64) -> Result<Vec<Hash>, String> {
        let request = self.request(proto::GetConsistencyProofRequest {
            first_tree_size: old,
            second_tree_size: new,
        });
        let response = self
            .client
            .get_consistency_proof(request)
            .await
            .map_err(describe)?
            .into_inner();
        hashes(&response.proof, "consistency proof")
    }

    /// The committed leaf of `sequence` and its audit path at `size`;
    /// `leaf_hash` is sent when the caller holds it (a job seeker must).
    pub async fn inclusion(
        &mut self,
        sequence: u64,
        size: u64,
        leaf_hash: Option<Hash>,
    ) -> Result<(Hash, Vec<Hash>), String> {
        let request = self.request(proto::GetInclusionProofRequest {
            sequence,
            tree_size: size,
            leaf_hash: leaf_hash.map(|h| h.0.to_vec()).unwrap_or_default(),
        });
        let response = self
            .client
            .get_inclusion_proof(request)
            .await
            .map_err(describe)?
            .into_inner();
        Ok((
            hash(&response.leaf_hash, "leaf hash")?,
            hashes(&response.proof, "inclusion proof")?,
        ))
    }

    /// The leaves of positions `1..=size` as the log computes them from its
    /// rows now; `None` where it has no row.
    pub async fn leaves(&mut self, size: u64) -> Result<Vec<Option<Hash>>, String> {
        let mut leaves = Vec::with_capacity(size as usize);
        while (leaves.len() as u64) < size {
            let request = self.request(proto::ListLogLeavesRequest {
                start_sequence: leaves.len() as u64 + 1,
                page_size: LEAF_PAGE,
                tree_size: size,
            });
            let page = self
                .client
                .list_log_leaves(request)
                .await
                .map_err(describe)?
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
        }
        Ok(leaves)
    }
}

/// The checkpoint the witness at `endpoint` accepted, with its cosignature.
pub async fn witnessed(transport: &ClientTransport, endpoint: &str) -> Result<Vec<u8>, String> {
    let mut client = WitnessServiceClient::new(transport.channel(endpoint, CALL_TIMEOUT)?);
    let response = client
        .get_witnessed_checkpoint(GetWitnessedCheckpointRequest {})
        .await
        .map_err(describe)?
        .into_inner();
    if response.cosigned_note.is_empty() {
        return Err(format!(
            "the witness at {endpoint} has not cosigned a checkpoint yet"
        ));
    }
    Ok(response.cosigned_note)
}
