//! `RecordUsage` and `RecordUsageBatch` (Art. 7(1)): the front system's
//! usage records, checked and parsed here, then recorded by one call of
//! [`crate::service::AuditLog::record_usage`] (sealed, all of a batch or
//! none, a record id recorded before counted as a duplicate).

use chrono::Utc;
use futures::StreamExt;
use hellowork_platform::{
    CallingService, FieldViolation, ServiceError, caller, correlation_id, event_metadata,
    require_service,
};
use hellowork_proto::auditlog::v1 as proto;
use tonic::{Request, Response, Status, Streaming};
use tonic_types::StatusExt;

use super::{AuditLogApi, invalid, parse};
use crate::domain::usage::Usage;

/// Art. 7(1): who reports usage records over the API: the front system,
/// which sees the page and API accesses happen. Scheduling's joins and
/// leaves arrive as its events, never through these RPCs, so no other
/// caller can put a (possibly backdated) access on anyone's record.
const USAGE_REPORTERS: [CallingService; 1] = [CallingService::Front];
/// Largest batch a `RecordUsageBatch` stream may carry.
const MAX_BATCH: usize = 10_000;

impl AuditLogApi {
    pub(super) async fn record_one(
        &self,
        request: Request<proto::RecordUsageRequest>,
    ) -> Result<Response<proto::RecordUsageResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_service(&caller, "RecordUsage", &USAGE_REPORTERS)?;
        let metadata = event_metadata(&caller, correlation_id(&request));
        let Some(record) = request.into_inner().record else {
            return Err(ServiceError::invalid("record", "is required").into());
        };
        // A single record's violations name `record.…`, not `records[0].…`.
        let usages = self.usages(&[record]).map_err(rename_single)?;
        let recorded = self.service.record_usage(&metadata, usages).await?;
        Ok(Response::new(proto::RecordUsageResponse {
            duplicate: recorded.recorded == 0,
        }))
    }

    pub(super) async fn record_batch(
        &self,
        request: Request<Streaming<proto::RecordUsageBatchRequest>>,
    ) -> Result<Response<proto::RecordUsageBatchResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_service(&caller, "RecordUsageBatch", &USAGE_REPORTERS)?;
        let metadata = event_metadata(&caller, correlation_id(&request));
        let mut stream = request.into_inner();
        let mut records = Vec::new();
        while let Some(chunk) = stream.next().await {
            records.extend(chunk?.records);
            if records.len() > MAX_BATCH {
                return Err(ServiceError::invalid(
                    "records",
                    format!("at most {MAX_BATCH} records per batch"),
                )
                .into());
            }
        }
        let usages = self.usages(&records)?;
        let recorded = self.service.record_usage(&metadata, usages).await?;
        Ok(Response::new(proto::RecordUsageBatchResponse {
            recorded_count: recorded.recorded,
            duplicate_count: recorded.duplicates,
        }))
    }

    /// Art. 7(1): `records` parsed, every problem reported under
    /// `records[i]`; identifiers sealed by the front system opened.
    fn usages(&self, records: &[proto::UsageRecord]) -> Result<Vec<Usage>, Status> {
        let now = Utc::now();
        let mut violations = Vec::new();
        let usages = records
            .iter()
            .enumerate()
            .filter_map(|(index, record)| {
                parse::usage(
                    &mut violations,
                    &format!("records[{index}]"),
                    record,
                    now,
                    &self.ingestor,
                )
            })
            .collect();
        invalid(violations)?;
        Ok(usages)
    }
}

/// `records[0].x` → `record.x` for the unary call.
fn rename_single(status: Status) -> Status {
    if status.code() != tonic::Code::InvalidArgument {
        return status;
    }
    let details = status.get_error_details();
    let Some(bad) = details.bad_request() else {
        return status;
    };
    let violations = bad
        .field_violations
        .iter()
        .map(|v| {
            FieldViolation::new(
                v.field.replacen("records[0]", "record", 1),
                v.description.clone(),
            )
        })
        .collect();
    ServiceError::InvalidArgument(violations).into()
}
