//! `RecordUsage` and `RecordUsageBatch` (Art. 7(1)): the front system's
//! usage records, parsed, sealed and appended as `UsageRecorded` events,
//! all of a batch or none. A record id recorded before is counted as a
//! duplicate, never recorded twice.

use std::collections::HashMap;

use chrono::Utc;
use futures::StreamExt;
use hellowork_eventstore::{AppendError, ExpectedVersion, NewEvent, StreamId};
use hellowork_platform::{
    Caller, CallingService, FieldViolation, ServiceError, caller, correlation_id, event_metadata,
    require_service,
};
use hellowork_proto::auditlog::v1 as proto;
use tonic::{Request, Response, Status, Streaming};
use tonic_types::StatusExt;
use uuid::Uuid;

use super::{AuditLogApi, invalid, key_error, new_event, parse};
use crate::{domain::event::Event, ingest::usage_event_id, metrics};

/// Art. 7(1): who reports usage records over the API: the front system,
/// which sees the page and API accesses happen. Scheduling's joins and
/// leaves arrive as its events, never through these RPCs, so no other
/// caller can put a (possibly backdated) access on anyone's record.
const USAGE_REPORTERS: [CallingService; 1] = [CallingService::Front];
/// Largest batch a `RecordUsageBatch` stream may carry.
const MAX_BATCH: usize = 10_000;
/// Rounds of dropping records a concurrent batch recorded first.
const RECORD_ATTEMPTS: usize = 5;

impl AuditLogApi {
    pub(super) async fn record_one(
        &self,
        request: Request<proto::RecordUsageRequest>,
    ) -> Result<Response<proto::RecordUsageResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_service(&caller, "RecordUsage", &USAGE_REPORTERS)?;
        let correlation = correlation_id(&request);
        let Some(record) = request.into_inner().record else {
            return Err(ServiceError::invalid("record", "is required").into());
        };
        let (recorded, _) = self
            .record(&caller, correlation, vec![record])
            .await
            // A single record's violations name `record.…`, not `records[0].…`.
            .map_err(rename_single)?;
        Ok(Response::new(proto::RecordUsageResponse {
            duplicate: recorded == 0,
        }))
    }

    pub(super) async fn record_batch(
        &self,
        request: Request<Streaming<proto::RecordUsageBatchRequest>>,
    ) -> Result<Response<proto::RecordUsageBatchResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_service(&caller, "RecordUsageBatch", &USAGE_REPORTERS)?;
        let correlation = correlation_id(&request);
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
        let (recorded_count, duplicate_count) = self.record(&caller, correlation, records).await?;
        Ok(Response::new(proto::RecordUsageBatchResponse {
            recorded_count,
            duplicate_count,
        }))
    }

    /// Art. 7(1): records `records` atomically (all new ones or none);
    /// returns how many were new and how many recorded before.
    async fn record(
        &self,
        caller: &Caller,
        correlation: Option<Uuid>,
        records: Vec<proto::UsageRecord>,
    ) -> Result<(u64, u64), Status> {
        let now = Utc::now();
        let mut violations = Vec::new();
        let metadata = event_metadata(caller, correlation);
        let mut events: Vec<NewEvent> = Vec::with_capacity(records.len());
        // The access kind of each event, to count what is stored.
        let mut kinds = HashMap::with_capacity(records.len());
        let mut usages = Vec::with_capacity(records.len());
        for (index, record) in records.iter().enumerate() {
            if let Some(usage) = parse::usage(
                &mut violations,
                &format!("records[{index}]"),
                record,
                now,
                &self.ingestor,
            ) {
                let event_id = usage_event_id(&usage.record_id);
                // A record id repeated within the batch is recorded once.
                if kinds.insert(event_id, usage.access_kind).is_none() {
                    usages.push(usage);
                }
            }
        }
        invalid(violations)?;
        let recorded = self
            .ingestor
            .recorded_all(&usages)
            .await
            .map_err(key_error)?;
        for recorded in recorded {
            let event_id = usage_event_id(&recorded.record_id);
            events.push(new_event(
                event_id,
                &Event::UsageRecorded(Box::new(recorded)),
                &metadata,
            ));
        }
        let total = records.len() as u64;
        let all: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        for _ in 0..RECORD_ATTEMPTS {
            let stored = self
                .store
                .stored_event_ids(&all)
                .await
                .map_err(ServiceError::from)?;
            let fresh: Vec<NewEvent> = events
                .iter()
                .filter(|e| !stored.contains(&e.event_id))
                .cloned()
                .collect();
            let Some(first) = fresh.first() else {
                return Ok((0, total));
            };
            let count = fresh.len() as u64;
            let mut per_kind: HashMap<i32, u64> = HashMap::new();
            for event in &fresh {
                *per_kind.entry(kinds[&event.event_id]).or_default() += 1;
            }
            // One stream per batch: its events commit together or not at all.
            let stream = StreamId::new(format!("usage-{}", first.event_id))
                .expect("a UUID makes a valid stream id");
            match self
                .store
                .append(&stream, ExpectedVersion::NoStream, fresh)
                .await
            {
                Ok(outcome) if outcome.already_recorded => return Ok((0, total)),
                Ok(_) => {
                    for (kind, records) in per_kind {
                        metrics::record_usage("api", kind, records);
                    }
                    return Ok((count, total - count));
                }
                // A concurrent batch recorded some of these first: drop them.
                Err(
                    AppendError::WrongExpectedVersion { .. } | AppendError::EventIdReused { .. },
                ) => {
                    continue;
                }
                Err(error) => return Err(ServiceError::from(error).into()),
            }
        }
        Err(ServiceError::Conflict.into())
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
