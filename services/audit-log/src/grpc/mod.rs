//! The thin tonic adapter of `hellowork.auditlog.v1.AuditLogService`: who
//! may call (roles per RPC), request parsing, the pure rules of
//! [`crate::domain`], the event store, and errors mapped once through
//! `ServiceError`. Every usage record, legal filing, decision, disclosure
//! and refused disclosure is an event; the access log is their projection
//! (Art. 7).

pub mod parse;
mod statistics;
mod subjects;
mod transparency;
mod view;

use std::{collections::HashMap, sync::Arc};

use chrono::Utc;
use futures::StreamExt;
use hellowork_eventstore::{
    Aggregate, AppendError, DomainEvent, EventMetadata, EventStore, ExecuteError, ExpectedVersion,
    NewEvent, Repository, StreamId,
};
use hellowork_platform::{
    Article, Caller, CallingService, ERROR_DOMAIN, FieldViolation, Role, ServiceError, caller,
    correlation_id, event_metadata, require_any, require_service, require_service_or,
};
use hellowork_proto::auditlog::v1::{self as proto, audit_log_service_server::AuditLogService};
use prost::Message;
use sqlx::PgPool;
use tonic::{Request, Response, Status, Streaming};
use tonic_types::{ErrorDetails, StatusExt};
use uuid::Uuid;

use crate::{
    domain::{
        event::Event,
        legal::{self, Action, Actor, Command, LegalCase, LegalError, Refusal, annotate},
        subject::KeyPeriod,
        time::to_datetime,
    },
    ingest::{Ingestor, usage_event_id},
    keys::KeyError,
    metrics,
    settings::AuditLogSettings,
    store,
    transparency::TransparencyLog,
};

/// Art. 7(1): who reports usage records over the API: the front system,
/// which sees the page and API accesses happen. Scheduling's joins and
/// leaves arrive as its events, never through these RPCs, so no other
/// caller can put a (possibly backdated) access on anyone's record.
const USAGE_REPORTERS: [CallingService; 1] = [CallingService::Front];
/// Art. 7(2): the article every refusal of raw data names.
const ART_7_2: Article = Article::Art7_2;
/// Largest batch a `RecordUsageBatch` stream may carry.
const MAX_BATCH: usize = 10_000;
/// Rounds of dropping records a concurrent batch recorded first.
const RECORD_ATTEMPTS: usize = 5;

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct AuditLogApi {
    pool: PgPool,
    store: EventStore,
    requests: Repository<LegalCase>,
    ingestor: Ingestor,
    settings: Arc<AuditLogSettings>,
    log: TransparencyLog,
}

fn database(error: sqlx::Error) -> ServiceError {
    hellowork_eventstore::StoreError::Database(error).into()
}

/// A data key that could not be had: the database (retryable), a key
/// destroyed while it was made (a conflict: retry), or one that does not
/// unwrap (an operational fault, logged, never shown).
fn key_error(error: KeyError) -> ServiceError {
    match error {
        KeyError::Database(error) => database(error),
        KeyError::Destroyed => ServiceError::Conflict,
        other @ KeyError::Unwrap(_) => ServiceError::internal(other),
    }
}

/// PERMISSION_DENIED naming Art. 7(2) in `ErrorInfo`.
fn denied_7_2(message: &str) -> Status {
    let metadata = HashMap::from([
        ("article".to_owned(), ART_7_2.label()),
        ("articles".to_owned(), ART_7_2.label()),
    ]);
    Status::with_error_details(
        tonic::Code::PermissionDenied,
        message,
        ErrorDetails::with_error_info(ART_7_2.reason(), ERROR_DOMAIN, metadata),
    )
}

fn not_found(id: &str) -> Status {
    ServiceError::NotFound {
        resource_type: "legal request",
        resource_name: id.to_owned(),
    }
    .into()
}

/// A refused legal command: who the caller is (the two-person rule, a
/// missing personnel id) is PERMISSION_DENIED, what the request or its
/// terms are (its state, a ceiling) FAILED_PRECONDITION, both naming Art.
/// 7(2) in `ErrorInfo`; a malformed expiry INVALID_ARGUMENT on its field.
/// Nothing is written for any of them.
fn legal_error(error: LegalError, id: &str) -> Status {
    match error {
        LegalError::OwnRequest | LegalError::NoPersonnelId | LegalError::AlreadyApproved => {
            denied_7_2(&error.to_string())
        }
        LegalError::ExpiryTooLate | LegalError::ExpiryPassed => {
            ServiceError::invalid("expires_at", error.to_string()).into()
        }
        LegalError::NotFiled(_)
        | LegalError::NotApproved(_)
        | LegalError::OverCeiling { .. }
        | LegalError::ApprovalLapsed => {
            ServiceError::forbidden(ART_7_2, id, error.to_string()).into()
        }
        LegalError::Unknown => not_found(id),
        LegalError::FiledByAnother => ServiceError::AlreadyExists {
            resource_type: "legal request",
            resource_name: id.to_owned(),
        }
        .into(),
    }
}

fn execute_error(error: ExecuteError<LegalError>, id: &str) -> Status {
    match error {
        ExecuteError::Domain(domain) => legal_error(domain, id),
        ExecuteError::Contention { .. } => ServiceError::Conflict.into(),
        ExecuteError::Append(append) => ServiceError::from(append).into(),
        ExecuteError::Store(store) => ServiceError::from(store).into(),
        decode @ ExecuteError::Decode { .. } => ServiceError::internal(decode).into(),
    }
}

fn invalid(violations: Vec<FieldViolation>) -> Result<(), Status> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::InvalidArgument(violations).into())
    }
}

/// A legal request id as given: a UUID, normalized.
fn request_id(field: &str, value: &str) -> Result<String, Status> {
    Uuid::parse_str(value)
        .map(|id| id.to_string())
        .map_err(|_| ServiceError::invalid(field, "must be a UUID").into())
}

/// The caller as the legal rules see them: subject and personnel id.
fn actor(caller: &Caller) -> Actor {
    Actor::new(caller.subject(), caller.personnel_id())
}

fn stream_of(id: &str) -> StreamId {
    StreamId::new(format!("legal-request-{id}")).expect("a UUID makes a valid stream id")
}

fn new_event(event_id: Uuid, event: &Event, metadata: &EventMetadata) -> NewEvent {
    NewEvent {
        event_id,
        event_type: event.event_type().to_owned(),
        schema_version: event.schema_version(),
        payload: event.encode(),
        occurred_at: Utc::now(),
        metadata: metadata.clone(),
    }
}

impl AuditLogApi {
    pub fn new(pool: PgPool, store: EventStore, settings: AuditLogSettings) -> Self {
        let ingestor = Ingestor::new(&settings, pool.clone());
        let log = TransparencyLog::new(pool.clone(), settings.transparency.clone());
        Self {
            log,
            pool,
            requests: Repository::new(store.clone()),
            store,
            ingestor,
            settings: Arc::new(settings),
        }
    }

    /// The legal request as its stream says now, with who decided when.
    async fn view(&self, id: &str) -> Result<Option<proto::LegalRequest>, Status> {
        let mut case = LegalCase::default();
        for recorded in self
            .store
            .read_stream(&stream_of(id), 0)
            .await
            .map_err(ServiceError::from)?
        {
            let event = Event::decode(&recorded.event_type, &recorded.payload)
                .map_err(|reason| ServiceError::internal(std::io::Error::other(reason)))?;
            case = case.apply(&event);
            if let Some(request) = case.request.as_mut() {
                annotate(
                    request,
                    &event,
                    &recorded.metadata.actor.subject,
                    recorded.occurred_at,
                );
            }
        }
        Ok(case
            .request
            .map(|request| legal::shown(request, Utc::now(), &self.settings.legal)))
    }

    /// Runs `action` on the legal request `id` and returns its view.
    async fn execute(
        &self,
        caller: &Caller,
        correlation: Option<Uuid>,
        id: &str,
        action: Action,
    ) -> Result<(Vec<Event>, proto::LegalRequest), Status> {
        let command = Command {
            legal_request_id: id.to_owned(),
            action,
        };
        let (events, _) = self
            .requests
            .execute(
                &stream_of(id),
                &command,
                &event_metadata(caller, correlation),
            )
            .await
            .map_err(|error| execute_error(error, id))?;
        metrics::record(&events);
        let view = self.view(id).await?.ok_or_else(|| not_found(id))?;
        Ok((events, view))
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

    /// Art. 7(2): records a legal officer's disclosure attempt for `id`; of
    /// the records at `sequences` (log order), those the decision disclosed
    /// — a prefix, cut at the disclosure limit — with the disclosure's id,
    /// or the refusal.
    async fn attempt(
        &self,
        caller: &Caller,
        correlation: Option<Uuid>,
        id: &str,
        sequences: Vec<u64>,
    ) -> Result<Result<(Uuid, usize), Refusal>, Status> {
        let command = Command {
            legal_request_id: id.to_owned(),
            action: Action::Disclose {
                officer: actor(caller),
                now: Utc::now(),
                record_sequences: sequences,
                ceilings: self.settings.legal,
            },
        };
        let (events, outcome) = self
            .requests
            .execute(
                &stream_of(id),
                &command,
                &event_metadata(caller, correlation),
            )
            .await
            .map_err(|error| execute_error(error, id))?;
        metrics::record(&events);
        let recorded = self
            .store
            .read_stream(&stream_of(id), outcome.stream_version.saturating_sub(1))
            .await
            .map_err(ServiceError::from)?;
        let event_id = recorded.last().map(|e| e.event_id).ok_or_else(|| {
            ServiceError::internal(std::io::Error::other("disclosure not stored"))
        })?;
        let unexpected = || ServiceError::internal(std::io::Error::other("unexpected decision"));
        match events.as_slice() {
            [Event::DeviceRecordsDisclosed(disclosed)] => {
                Ok(Ok((event_id, disclosed.record_sequences.len())))
            }
            [Event::DeviceDisclosureRefused(refused)] => Refusal::of(refused.reason())
                .map(Err)
                .ok_or_else(|| unexpected().into()),
            _ => Err(unexpected().into()),
        }
    }
}

impl AuditLogApi {
    /// The usage entries in the scope of `legal_request` after position
    /// `after`: a page of at most `size`, and whether more follow.
    async fn in_scope(
        &self,
        legal_request: &proto::LegalRequest,
        after: i64,
        size: i64,
    ) -> Result<(Vec<store::Stored>, bool), Status> {
        let scope = legal_request.scope.clone().unwrap_or_default();
        let range = scope.time_range.as_ref();
        let (Some(start), Some(end)) = (
            to_datetime(range.and_then(|r| r.start_time.as_ref())),
            to_datetime(range.and_then(|r| r.end_time.as_ref())),
        ) else {
            return Err(ServiceError::internal(std::io::Error::other(
                "stored scope without a time range",
            ))
            .into());
        };
        // Art. 7(2): the persons are found by their lookup tag of each key
        // period the range touches, never by a clear id.
        let periods = KeyPeriod::overlapping(start, end);
        let tags: Vec<Vec<u8>> = scope
            .job_seeker_ids
            .iter()
            .flat_map(|person| {
                periods
                    .iter()
                    .map(|period| self.ingestor.subjects.tag(*period, person).0.to_vec())
            })
            .collect();
        let pseudonyms: Vec<String> = scope
            .device_pseudonyms
            .iter()
            .map(|p| format!("{}@{}", p.device_pseudonym, p.pseudonym_period))
            .collect();
        let mut rows = store::in_scope(
            &self.pool,
            proto::EntryKind::Usage as i32,
            start,
            end,
            &tags,
            &pseudonyms,
            after,
            size + 1,
        )
        .await
        .map_err(database)?;
        let more = rows.len() as i64 > size;
        rows.truncate(usize::try_from(size).unwrap_or(0));
        Ok((rows, more))
    }
}

/// The status a refused disclosure answers with (Art. 7(2)).
fn refused(refusal: Refusal, id: &str) -> Status {
    if refusal.is_about_caller() {
        denied_7_2(refusal.describe())
    } else if refusal == Refusal::UnknownRequest {
        not_found(id)
    } else {
        ServiceError::forbidden(ART_7_2, id, refusal.describe()).into()
    }
}

#[tonic::async_trait]
impl AuditLogService for AuditLogApi {
    async fn record_usage(
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

    async fn record_usage_batch(
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

    async fn list_access_log(
        &self,
        request: Request<proto::ListAccessLogRequest>,
    ) -> Result<Response<proto::ListAccessLogResponse>, Status> {
        let caller = caller(&request)?;
        require_any(
            caller,
            &[
                Role::Operator,
                Role::Counsellor,
                Role::Supervisor,
                Role::Auditor,
                Role::LegalOfficer,
            ],
        )?;
        let message = request.get_ref();
        let mut violations = Vec::new();
        let range = parse::range(&mut violations, "time_range", message.time_range.as_ref());
        let size = parse::page_size(&mut violations, message.page_size, 100, 1000);
        let after = parse::page_token(&mut violations, &message.page_token);
        invalid(violations)?;
        let (start, end) = range.expect("checked");
        let rows = store::list(&self.pool, start, end, &message.kinds, after, size + 1)
            .await
            .map_err(database)?;
        let more = rows.len() as i64 > size;
        let slot = self.settings.slot.num_seconds();
        let entries: Vec<_> = rows
            .iter()
            .take(size as usize)
            .map(|row| view::entry(row, slot))
            .collect();
        let next_page_token = if more {
            entries
                .last()
                .map(|e| e.sequence.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(proto::ListAccessLogResponse {
            entries,
            next_page_token,
            slot_length: Some(view::duration(slot)),
        }))
    }

    async fn get_usage_statistics(
        &self,
        request: Request<proto::GetUsageStatisticsRequest>,
    ) -> Result<Response<proto::GetUsageStatisticsResponse>, Status> {
        let caller = caller(&request)?;
        require_any(
            caller,
            &[
                Role::Operator,
                Role::Counsellor,
                Role::Supervisor,
                Role::Auditor,
            ],
        )?;
        statistics::get(&self.pool, &self.settings, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn file_legal_request(
        &self,
        request: Request<proto::FileLegalRequestRequest>,
    ) -> Result<Response<proto::FileLegalRequestResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::LegalOfficer])?;
        let correlation = correlation_id(&request);
        let mut violations = Vec::new();
        let filing = parse::filing(&mut violations, request.into_inner(), Utc::now());
        invalid(violations)?;
        let filing = filing.expect("checked");
        let id = filing.legal_request_id.clone();
        let action = Action::File {
            filer: actor(&caller),
            filing,
            ceilings: self.settings.legal,
        };
        let (_, legal_request) = self.execute(&caller, correlation, &id, action).await?;
        Ok(Response::new(proto::FileLegalRequestResponse {
            legal_request: Some(legal_request),
        }))
    }

    async fn approve_legal_request(
        &self,
        request: Request<proto::ApproveLegalRequestRequest>,
    ) -> Result<Response<proto::ApproveLegalRequestResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::Approver])?;
        let correlation = correlation_id(&request);
        let message = request.into_inner();
        let id = request_id("legal_request_id", &message.legal_request_id)?;
        let mut violations = Vec::new();
        let terms = parse::terms(&mut violations, message);
        invalid(violations)?;
        let action = Action::Approve {
            approver: actor(&caller),
            now: Utc::now(),
            terms,
            ceilings: self.settings.legal,
        };
        let (_, decided) = self.execute(&caller, correlation, &id, action).await?;
        Ok(Response::new(proto::ApproveLegalRequestResponse {
            legal_request: Some(decided),
        }))
    }

    async fn deny_legal_request(
        &self,
        request: Request<proto::DenyLegalRequestRequest>,
    ) -> Result<Response<proto::DenyLegalRequestResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::Approver])?;
        let correlation = correlation_id(&request);
        let message = request.into_inner();
        let id = request_id("legal_request_id", &message.legal_request_id)?;
        if message.reason.trim().is_empty() {
            return Err(ServiceError::invalid("reason", "must not be empty").into());
        }
        let action = Action::Deny {
            approver: actor(&caller),
            now: Utc::now(),
            reason: message.reason,
        };
        let (_, decided) = self.execute(&caller, correlation, &id, action).await?;
        Ok(Response::new(proto::DenyLegalRequestResponse {
            legal_request: Some(decided),
        }))
    }

    async fn revoke_legal_request(
        &self,
        request: Request<proto::RevokeLegalRequestRequest>,
    ) -> Result<Response<proto::RevokeLegalRequestResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::Approver])?;
        let correlation = correlation_id(&request);
        let message = request.into_inner();
        let id = request_id("legal_request_id", &message.legal_request_id)?;
        if message.reason.trim().is_empty() {
            return Err(ServiceError::invalid("reason", "must not be empty").into());
        }
        let action = Action::Revoke {
            approver: actor(&caller),
            now: Utc::now(),
            reason: message.reason,
        };
        let (_, decided) = self.execute(&caller, correlation, &id, action).await?;
        Ok(Response::new(proto::RevokeLegalRequestResponse {
            legal_request: Some(decided),
        }))
    }

    async fn get_legal_request(
        &self,
        request: Request<proto::GetLegalRequestRequest>,
    ) -> Result<Response<proto::GetLegalRequestResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::LegalOfficer, Role::Approver, Role::Auditor])?;
        let id = request_id("legal_request_id", &request.get_ref().legal_request_id)?;
        let found = self.view(&id).await?.ok_or_else(|| not_found(&id))?;
        Ok(Response::new(proto::GetLegalRequestResponse {
            legal_request: Some(found),
        }))
    }

    async fn list_legal_requests(
        &self,
        request: Request<proto::ListLegalRequestsRequest>,
    ) -> Result<Response<proto::ListLegalRequestsResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::LegalOfficer, Role::Approver, Role::Auditor])?;
        let message = request.get_ref();
        let mut violations = Vec::new();
        let size = parse::page_size(&mut violations, message.page_size, 50, 500);
        let offset = parse::page_token(&mut violations, &message.page_token);
        invalid(violations)?;
        let now = Utc::now();
        // Few requests exist; states depend on the clock, so filter here.
        let bodies: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT body FROM legal_requests ORDER BY filed_at DESC, legal_request_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(database)?;
        let mut all = Vec::new();
        for body in bodies {
            let found = legal::shown(
                proto::LegalRequest::decode(body.as_slice()).map_err(ServiceError::internal)?,
                now,
                &self.settings.legal,
            );
            if message.states.is_empty() || message.states.contains(&found.state) {
                all.push(found);
            }
        }
        let page: Vec<_> = all
            .iter()
            .skip(offset as usize)
            .take(size as usize)
            .cloned()
            .collect();
        let next = offset + page.len() as i64;
        Ok(Response::new(proto::ListLegalRequestsResponse {
            legal_requests: page,
            next_page_token: if (next as usize) < all.len() {
                next.to_string()
            } else {
                String::new()
            },
        }))
    }

    async fn disclose_device_records(
        &self,
        request: Request<proto::DiscloseDeviceRecordsRequest>,
    ) -> Result<Response<proto::DiscloseDeviceRecordsResponse>, Status> {
        let caller = caller(&request)?.clone();
        // Art. 7(2): only a legal officer's attempt is on record; anyone else
        // is turned away here and writes nothing, so no caller can fill the
        // log with refusals by holding the wrong role.
        require_any(&caller, &[Role::LegalOfficer])?;
        let correlation = correlation_id(&request);
        let message = request.into_inner();
        let id = request_id("legal_request_id", &message.legal_request_id)?;
        let mut violations = Vec::new();
        let size = parse::page_size(&mut violations, message.page_size, 100, 1000);
        let after = parse::page_token(&mut violations, &message.page_token);
        invalid(violations)?;
        let case = self
            .requests
            .load(&stream_of(&id))
            .await
            .map_err(|error| execute_error(error, &id))?
            .state;
        let authorized =
            case.authorize_disclosure(&actor(&caller), Utc::now(), &self.settings.legal);
        let (mut rows, mut more) = match (authorized, case.request.as_ref()) {
            // Art. 7(2): a page never reaches past the disclosure limit.
            (Ok(left), Some(legal_request)) => {
                let size = size.min(i64::try_from(left).unwrap_or(i64::MAX));
                self.in_scope(legal_request, after, size).await?
            }
            // Refused: recorded below with no records.
            _ => (Vec::new(), false),
        };
        let sequences = rows.iter().map(|row| row.sequence as u64).collect();
        // Decided again on the stream as it is now: a revocation or another
        // page disclosed in between wins, and the page is cut to what the
        // limit still allows.
        let (disclosure_id, disclosed) =
            match self.attempt(&caller, correlation, &id, sequences).await? {
                Ok(decision) => decision,
                Err(refusal) => return Err(refused(refusal, &id)),
            };
        if disclosed < rows.len() {
            rows.truncate(disclosed);
            more = true;
        }
        let records = view::disclosed(&rows, &self.ingestor.keys)
            .await
            .map_err(key_error)?;
        let next_page_token = if more {
            records
                .last()
                .map(|r| r.sequence.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(proto::DiscloseDeviceRecordsResponse {
            legal_request_id: id,
            records,
            next_page_token,
            inclusion: self
                .disclosure_inclusion(&disclosure_id.to_string())
                .await?,
            disclosure_id: disclosure_id.to_string(),
        }))
    }

    async fn get_sealing_keys(
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
            keys: self.ingestor.sealing.public_keys().to_proto(),
        }))
    }

    async fn check_sealed_device(
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

    async fn verify_log(
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
