//! `hellowork.witness.v1.WitnessService`: what the witness accepted and
//! whether it refuses the log. Public and read-only: nothing here names a
//! person, and a verifier fetches its trusted checkpoint from here.

use hellowork_proto::witness::v1::{
    self as proto, Inconsistency, witness_service_server::WitnessService,
};
use tonic::{Request, Response, Status};

use crate::observe::Shared;

#[derive(Debug, Clone)]
pub struct WitnessApi {
    accepted: Shared,
    verifier_key: String,
}

impl WitnessApi {
    pub fn new(accepted: Shared, verifier_key: String) -> Self {
        Self {
            accepted,
            verifier_key,
        }
    }
}

#[tonic::async_trait]
impl WitnessService for WitnessApi {
    async fn get_witnessed_checkpoint(
        &self,
        _request: Request<proto::GetWitnessedCheckpointRequest>,
    ) -> Result<Response<proto::GetWitnessedCheckpointResponse>, Status> {
        let accepted = self
            .accepted
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let (refusing, refusal_detail) = match accepted.refusal {
            Some(refusal) => (
                Inconsistency::from_str_name(&refusal.kind).unwrap_or(Inconsistency::Fork),
                refusal.detail,
            ),
            None => (Inconsistency::Unspecified, String::new()),
        };
        Ok(Response::new(proto::GetWitnessedCheckpointResponse {
            cosigned_note: accepted.cosigned_note.into_bytes(),
            tree_size: accepted.tree_size,
            cosigned_at: (accepted.cosigned_at > 0).then_some(prost_types::Timestamp {
                seconds: accepted.cosigned_at,
                nanos: 0,
            }),
            witness_verifier_key: self.verifier_key.clone(),
            refusing: refusing.into(),
            refusal_detail,
        }))
    }
}
