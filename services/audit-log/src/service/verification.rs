//! Tamper evidence: an auditor's check of the access log's hash chain over
//! a range of positions. The verification is itself on record, as a
//! `LogVerified` event on a stream of its own, outside the chain it
//! checked, so checking the log never changes what was checked.

use hellowork_eventstore::{EventMetadata, ExpectedVersion, StreamId};
use hellowork_platform::ServiceError;
use hellowork_proto::auditlog::v1 as proto;
use uuid::Uuid;

use super::{AuditLog, database, new_event};
use crate::{
    domain::{chain, event::Event},
    metrics,
    store::{self, Verification},
};

impl AuditLog {
    /// Verifies the chain over positions `from` to `to` (the head if 0) in
    /// one snapshot, counts the outcome and records it with `metadata`.
    pub async fn verify_log(
        &self,
        metadata: &EventMetadata,
        from: u64,
        to: u64,
    ) -> Result<Verification, ServiceError> {
        let verification = store::verify(&self.pool, from, to)
            .await
            .map_err(database)?;
        if let Some((position, failure)) = verification.failure {
            tracing::warn!(position, ?failure, "access log chain verification failed");
        }
        let intact = verification.failure.is_none();
        metrics::record_verification(intact);
        let (first_bad_sequence, failure) = chain::reported(verification.failure);
        let verified = Event::LogVerified(proto::LogVerified {
            from_sequence: verification.from,
            to_sequence: verification.to,
            intact,
            first_bad_sequence,
            failure: failure as i32,
            head_hash: verification.head_hash.clone(),
        });
        let event_id = Uuid::now_v7();
        self.store
            .append(
                &StreamId::new(format!("verification-{event_id}"))
                    .expect("a UUID makes a valid stream id"),
                ExpectedVersion::NoStream,
                vec![new_event(event_id, &verified, metadata)],
            )
            .await
            .map_err(ServiceError::from)?;
        Ok(verification)
    }
}
