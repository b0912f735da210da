//! `VerifyLog` (tamper evidence): an auditor's check of the access log's
//! hash chain over a range of positions. The verification is itself on
//! record, as a `LogVerified` event outside the chain it checked.

use hellowork_eventstore::{ExpectedVersion, StreamId};
use hellowork_platform::{Role, ServiceError, caller, correlation_id, event_metadata, require_any};
use hellowork_proto::auditlog::v1 as proto;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{AuditLogApi, database, new_event, view};
use crate::{domain::event::Event, metrics, store};

impl AuditLogApi {
    pub(super) async fn verify(
        &self,
        request: Request<proto::VerifyLogRequest>,
    ) -> Result<Response<proto::VerifyLogResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::Auditor])?;
        let correlation = correlation_id(&request);
        let message = request.get_ref();
        let positions = i64::MAX as u64;
        for (field, value) in [
            ("from_sequence", message.from_sequence),
            ("to_sequence", message.to_sequence),
        ] {
            if value > positions {
                return Err(ServiceError::invalid(field, "is beyond any log position").into());
            }
        }
        if message.to_sequence != 0 && message.to_sequence < message.from_sequence {
            return Err(
                ServiceError::invalid("to_sequence", "must not be before from_sequence").into(),
            );
        }
        let verification = store::verify(&self.pool, message.from_sequence, message.to_sequence)
            .await
            .map_err(database)?;
        if let Some((position, failure)) = verification.failure {
            tracing::warn!(position, ?failure, "access log chain verification failed");
        }
        let response = view::verification(verification);
        metrics::record_verification(response.intact);
        // The verification itself is on record, outside the chain it checked.
        let verified = Event::LogVerified(proto::LogVerified {
            from_sequence: response.from_sequence,
            to_sequence: response.to_sequence,
            intact: response.intact,
            first_bad_sequence: response.first_bad_sequence,
            failure: response.failure,
            head_hash: response.head_hash.clone(),
        });
        let metadata = event_metadata(&caller, correlation);
        let event_id = Uuid::now_v7();
        self.store
            .append(
                &StreamId::new(format!("verification-{event_id}")).expect("a valid stream id"),
                ExpectedVersion::NoStream,
                vec![new_event(event_id, &verified, &metadata)],
            )
            .await
            .map_err(ServiceError::from)?;
        Ok(Response::new(response))
    }
}
