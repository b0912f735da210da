//! `VerifyLog` (tamper evidence): an auditor's check of the access log's
//! hash chain over a range of positions, checked here and made, counted
//! and put on record by one call of
//! [`crate::service::AuditLog::verify_log`].

use hellowork_platform::{Role, ServiceError, caller, correlation_id, event_metadata, require_any};
use hellowork_proto::auditlog::v1 as proto;
use tonic::{Request, Response, Status};

use super::{AuditLogApi, view};

impl AuditLogApi {
    pub(super) async fn verify(
        &self,
        request: Request<proto::VerifyLogRequest>,
    ) -> Result<Response<proto::VerifyLogResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::Auditor])?;
        let metadata = event_metadata(&caller, correlation_id(&request));
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
        let verification = self
            .service
            .verify_log(&metadata, message.from_sequence, message.to_sequence)
            .await?;
        Ok(Response::new(view::verification(verification)))
    }
}
