//! The sealing keys (Art. 7(2)): `GetSealingKeys`, the public keys the
//! front system and scheduling seal device identifiers to where they
//! enter, from [`crate::service::AuditLog::sealing_keys`], and
//! `CheckSealedDevice`, scheduling's check of what a front system sealed
//! before it records a join or a leave with it. That check is parsing
//! alone: the identifiers are opened and checked by the parser
//! `RecordUsage` uses for sealed devices, and nothing is read or written.

use hellowork_platform::{
    CallingService, ServiceError, caller, require_service, require_service_or,
};
use hellowork_proto::auditlog::v1 as proto;
use tonic::{Request, Response, Status};

use super::{AuditLogApi, invalid, parse};

impl AuditLogApi {
    pub(super) async fn sealing_keys(
        &self,
        request: Request<proto::GetSealingKeysRequest>,
    ) -> Result<Response<proto::GetSealingKeysResponse>, Status> {
        // Public keys: any person may seal to them; of the services, those
        // that seal device identifiers where they enter (Art. 7(2)).
        require_service_or(
            caller(&request)?,
            "GetSealingKeys",
            &[CallingService::Scheduling, CallingService::Front],
            |_| Ok(()),
        )?;
        Ok(Response::new(proto::GetSealingKeysResponse {
            keys: self.service.sealing_keys().to_proto(),
        }))
    }

    pub(super) async fn check_sealed(
        &self,
        request: Request<proto::CheckSealedDeviceRequest>,
    ) -> Result<Response<proto::CheckSealedDeviceResponse>, Status> {
        // Scheduling checks what a front system sealed before it records
        // a join or a leave with it.
        require_service(
            caller(&request)?,
            "CheckSealedDevice",
            &[CallingService::Scheduling],
        )?;
        let request = request.into_inner();
        let Some(sealed) = request.sealed_device else {
            return Err(ServiceError::invalid("sealed_device", "is required").into());
        };
        if request.context_id.trim().is_empty() {
            return Err(ServiceError::invalid("context_id", "must not be empty").into());
        }
        let mut violations = Vec::new();
        parse::sealed_identifiers(
            &mut violations,
            "sealed_device",
            &self.ingestor,
            &sealed,
            &request.context_id,
        );
        invalid(violations)?;
        Ok(Response::new(proto::CheckSealedDeviceResponse {}))
    }
}
