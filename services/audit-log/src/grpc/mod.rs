//! The thin tonic adapter of `hellowork.auditlog.v1.AuditLogService`: who
//! may call (roles per RPC), request parsing, one call of the
//! [`AuditLog`] service, its answer converted, and errors mapped once
//! through `ServiceError` (`legal_errors` for the Art. 7(2) refusals).
//! Every usage record, legal filing, decision, disclosure and refused
//! disclosure is an event; the access log is their projection (Art. 7).
//! No handler touches the store or the database: each checks roles,
//! parses, calls the service once and converts. `CheckSealedDevice` is
//! parsing alone (the sealed identifiers opened by the parser
//! `RecordUsage` shares), so it calls nothing.
//!
//! One file per group of RPCs, each holding its handlers' roles, parsing
//! and calls; the trait below only routes to them:
//!
//! - `usage`: `RecordUsage`, `RecordUsageBatch` (Art. 7(1)).
//! - `access_log`: `ListAccessLog`; `statistics`: `GetUsageStatistics`.
//! - `legal_requests`: filing, deciding and reading legal requests, with
//!   their refusals mapped in `legal_errors`.
//! - `disclosure`: `DiscloseDeviceRecords` (Art. 7(2) proviso).
//! - `sealing`: `GetSealingKeys`, `CheckSealedDevice`.
//! - `verification`: `VerifyLog`; `transparency`: checkpoints, proofs,
//!   leaves and cosignatures.
//! - `subjects`: `ListMyDisclosures`, the data subject's view.
//! - [`parse`] and `view`: requests into domain values, rows into messages.

mod access_log;
mod disclosure;
mod legal_errors;
mod legal_requests;
pub mod parse;
mod sealing;
mod statistics;
mod subjects;
mod transparency;
mod usage;
mod verification;
mod view;

use std::sync::Arc;

use hellowork_eventstore::EventStore;
use hellowork_platform::{FieldViolation, ServiceError};
use hellowork_proto::auditlog::v1::{self as proto, audit_log_service_server::AuditLogService};
use sqlx::PgPool;
use tonic::{Request, Response, Status, Streaming};

use crate::{
    ingest::Ingestor, service::AuditLog, settings::AuditLogSettings, transparency::TransparencyLog,
};

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct AuditLogApi {
    /// Opens sealed device identifiers while requests are parsed.
    ingestor: Ingestor,
    settings: Arc<AuditLogSettings>,
    service: AuditLog,
}

fn invalid(violations: Vec<FieldViolation>) -> Result<(), Status> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::InvalidArgument(violations).into())
    }
}

impl AuditLogApi {
    pub fn new(pool: PgPool, store: EventStore, settings: AuditLogSettings) -> Self {
        let ingestor = Ingestor::new(&settings, pool.clone());
        let log = TransparencyLog::new(pool.clone(), settings.transparency.clone());
        let settings = Arc::new(settings);
        Self {
            service: AuditLog::new(pool, store, ingestor.clone(), log, settings.clone()),
            ingestor,
            settings,
        }
    }
}

#[tonic::async_trait]
impl AuditLogService for AuditLogApi {
    async fn record_usage(
        &self,
        request: Request<proto::RecordUsageRequest>,
    ) -> Result<Response<proto::RecordUsageResponse>, Status> {
        self.record_one(request).await
    }

    async fn record_usage_batch(
        &self,
        request: Request<Streaming<proto::RecordUsageBatchRequest>>,
    ) -> Result<Response<proto::RecordUsageBatchResponse>, Status> {
        self.record_batch(request).await
    }

    async fn list_access_log(
        &self,
        request: Request<proto::ListAccessLogRequest>,
    ) -> Result<Response<proto::ListAccessLogResponse>, Status> {
        self.access_log(request).await
    }

    async fn get_usage_statistics(
        &self,
        request: Request<proto::GetUsageStatisticsRequest>,
    ) -> Result<Response<proto::GetUsageStatisticsResponse>, Status> {
        self.usage_statistics(request).await
    }

    async fn file_legal_request(
        &self,
        request: Request<proto::FileLegalRequestRequest>,
    ) -> Result<Response<proto::FileLegalRequestResponse>, Status> {
        self.file(request).await
    }

    async fn approve_legal_request(
        &self,
        request: Request<proto::ApproveLegalRequestRequest>,
    ) -> Result<Response<proto::ApproveLegalRequestResponse>, Status> {
        self.approve(request).await
    }

    async fn deny_legal_request(
        &self,
        request: Request<proto::DenyLegalRequestRequest>,
    ) -> Result<Response<proto::DenyLegalRequestResponse>, Status> {
        self.deny(request).await
    }

    async fn revoke_legal_request(
        &self,
        request: Request<proto::RevokeLegalRequestRequest>,
    ) -> Result<Response<proto::RevokeLegalRequestResponse>, Status> {
        self.revoke(request).await
    }

    async fn get_legal_request(
        &self,
        request: Request<proto::GetLegalRequestRequest>,
    ) -> Result<Response<proto::GetLegalRequestResponse>, Status> {
        self.legal_request(request).await
    }

    async fn list_legal_requests(
        &self,
        request: Request<proto::ListLegalRequestsRequest>,
    ) -> Result<Response<proto::ListLegalRequestsResponse>, Status> {
        self.legal_requests(request).await
    }

    async fn disclose_device_records(
        &self,
        request: Request<proto::DiscloseDeviceRecordsRequest>,
    ) -> Result<Response<proto::DiscloseDeviceRecordsResponse>, Status> {
        self.disclose(request).await
    }

    async fn get_sealing_keys(
        &self,
        request: Request<proto::GetSealingKeysRequest>,
    ) -> Result<Response<proto::GetSealingKeysResponse>, Status> {
        self.sealing_keys(request).await
    }

    async fn check_sealed_device(
        &self,
        request: Request<proto::CheckSealedDeviceRequest>,
    ) -> Result<Response<proto::CheckSealedDeviceResponse>, Status> {
        self.check_sealed(request).await
    }

    async fn verify_log(
        &self,
        request: Request<proto::VerifyLogRequest>,
    ) -> Result<Response<proto::VerifyLogResponse>, Status> {
        self.verify(request).await
    }

    async fn get_checkpoint(
        &self,
        request: Request<proto::GetCheckpointRequest>,
    ) -> Result<Response<proto::GetCheckpointResponse>, Status> {
        self.checkpoint_of(request).await.map(Response::new)
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<proto::GetInclusionProofRequest>,
    ) -> Result<Response<proto::GetInclusionProofResponse>, Status> {
        self.inclusion_proof(request).await.map(Response::new)
    }

    async fn get_consistency_proof(
        &self,
        request: Request<proto::GetConsistencyProofRequest>,
    ) -> Result<Response<proto::GetConsistencyProofResponse>, Status> {
        self.consistency_proof(request).await.map(Response::new)
    }

    async fn list_log_leaves(
        &self,
        request: Request<proto::ListLogLeavesRequest>,
    ) -> Result<Response<proto::ListLogLeavesResponse>, Status> {
        self.log_leaves(request).await.map(Response::new)
    }

    async fn add_cosignature(
        &self,
        request: Request<proto::AddCosignatureRequest>,
    ) -> Result<Response<proto::AddCosignatureResponse>, Status> {
        self.cosignature(request).await.map(Response::new)
    }

    async fn list_my_disclosures(
        &self,
        request: Request<proto::ListMyDisclosuresRequest>,
    ) -> Result<Response<proto::ListMyDisclosuresResponse>, Status> {
        self.my_disclosures(request).await.map(Response::new)
    }
}
