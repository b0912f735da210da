//! The thin tonic adapter of `hellowork.auditlog.v1.AuditLogService`: who
//! may call (roles per RPC), request parsing, the store and the pure rules of
//! [`crate::domain`], and errors mapped once through `ServiceError`. Every
//! legal filing, decision, disclosure and refused disclosure is appended to
//! the log in the same transaction as its effect (Art. 7(2)).

pub mod parse;
mod view;

use std::{collections::HashMap, sync::Arc};

use chrono::Utc;
use futures::StreamExt;
use hellowork_eventstore::StoreError;
use hellowork_platform::{
    Article, Caller, ERROR_DOMAIN, FieldViolation, Role, ServiceError, caller, require_any,
};
use hellowork_proto::auditlog::v1::{
    self as proto, EntryKind, LegalRequestState, audit_log_service_server::AuditLogService,
};
use prost::Message;
use sqlx::PgPool;
use tonic::{Request, Response, Status, Streaming};
use tonic_types::{ErrorDetails, StatusExt};

use crate::{
    domain::{
        legal::{self, LegalError, Refusal},
        time::{timestamp, to_datetime},
    },
    ingest::Ingestor,
    settings::AuditLogSettings,
    store::{self, Appended, Entry},
};

/// Art. 7(2): the article every refusal of raw data names.
const ART_7_2: Article = Article("7(2)");
/// Largest batch a `RecordUsageBatch` stream may carry.
const MAX_BATCH: usize = 10_000;

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct AuditLogApi {
    pool: PgPool,
    ingestor: Ingestor,
    settings: Arc<AuditLogSettings>,
}

fn database(error: sqlx::Error) -> ServiceError {
    StoreError::Database(error).into()
}

/// PERMISSION_DENIED naming Art. 7(2) in `ErrorInfo`.
fn denied_7_2(message: &str) -> Status {
    let metadata = HashMap::from([
        ("article".to_owned(), ART_7_2.0.to_owned()),
        ("articles".to_owned(), ART_7_2.0.to_owned()),
    ]);
    Status::with_error_details(
        tonic::Code::PermissionDenied,
        message,
        ErrorDetails::with_error_info(ART_7_2.reason(), ERROR_DOMAIN, metadata),
    )
}

fn legal_error(error: LegalError, id: &str) -> Status {
    match error {
        LegalError::OwnRequest => denied_7_2(&error.to_string()),
        LegalError::ExpiryTooLate | LegalError::ExpiryPassed => {
            ServiceError::invalid("expires_at", error.to_string()).into()
        }
        LegalError::NotFiled(_) | LegalError::NotApproved(_) => {
            ServiceError::forbidden(ART_7_2, id, error.to_string()).into()
        }
    }
}

fn invalid(violations: Vec<FieldViolation>) -> Result<(), Status> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::InvalidArgument(violations).into())
    }
}

fn legal_entry(kind: EntryKind, caller: &Caller, request_id: &str, count: i64) -> Entry {
    Entry {
        kind: kind as i32,
        occurred_at: Utc::now(),
        actor: caller.subject().to_owned(),
        legal_request_id: request_id.to_owned(),
        record_count: count,
        ..Entry::default()
    }
}

fn first_new(appended: &[Appended]) -> u64 {
    appended
        .iter()
        .find_map(|a| match a {
            Appended::New(s) => Some(*s),
            Appended::Duplicate(_) => None,
        })
        .unwrap_or(0)
}

impl AuditLogApi {
    pub fn new(pool: PgPool, settings: AuditLogSettings) -> Self {
        Self {
            pool,
            ingestor: Ingestor::new(&settings),
            settings: Arc::new(settings),
        }
    }

    async fn load_for_update(
        tx: &mut sqlx::PgConnection,
        id: &str,
    ) -> Result<Option<proto::LegalRequest>, ServiceError> {
        let body: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT body FROM legal_requests WHERE legal_request_id = $1 FOR UPDATE",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(database)?;
        body.map(|b| proto::LegalRequest::decode(b.as_slice()).map_err(ServiceError::internal))
            .transpose()
    }

    async fn save(
        tx: &mut sqlx::PgConnection,
        request: &proto::LegalRequest,
    ) -> Result<(), ServiceError> {
        sqlx::query("UPDATE legal_requests SET body = $2 WHERE legal_request_id = $1")
            .bind(&request.legal_request_id)
            .bind(request.encode_to_vec())
            .execute(&mut *tx)
            .await
            .map_err(database)?;
        Ok(())
    }

    /// Loads, decides with `decide`, saves and appends `kind` to the log, in
    /// one transaction.
    async fn decide(
        &self,
        caller: &Caller,
        id: &str,
        kind: EntryKind,
        decide: impl FnOnce(&proto::LegalRequest) -> Result<proto::LegalRequest, LegalError>,
    ) -> Result<proto::LegalRequest, Status> {
        let mut tx = self.pool.begin().await.map_err(database)?;
        let request =
            Self::load_for_update(&mut tx, id)
                .await?
                .ok_or_else(|| ServiceError::NotFound {
                    resource_type: "legal request",
                    resource_name: id.to_owned(),
                })?;
        let decided = decide(&request).map_err(|e| legal_error(e, id))?;
        Self::save(&mut tx, &decided).await?;
        store::append(&mut tx, vec![legal_entry(kind, caller, id, 0)])
            .await
            .map_err(database)?;
        tx.commit().await.map_err(database)?;
        Ok(legal::at(decided, Utc::now()))
    }

    /// Art. 7(2): records a refused disclosure, then refuses.
    async fn refuse(&self, caller: &Caller, id: &str, refusal: Refusal) -> Status {
        let mut entry = legal_entry(EntryKind::DeviceDisclosureRefused, caller, id, 0);
        entry.action = format!("{refusal:?}");
        let recorded = async {
            let mut tx = self.pool.begin().await?;
            store::append(&mut tx, vec![entry]).await?;
            tx.commit().await
        }
        .await;
        if let Err(error) = recorded {
            return database(error).into();
        }
        if refusal.is_about_caller() {
            denied_7_2(refusal.describe())
        } else if refusal == Refusal::UnknownRequest {
            ServiceError::NotFound {
                resource_type: "legal request",
                resource_name: id.to_owned(),
            }
            .into()
        } else {
            ServiceError::forbidden(ART_7_2, id, refusal.describe()).into()
        }
    }

    async fn record(
        &self,
        caller: &Caller,
        records: Vec<proto::UsageRecord>,
    ) -> Result<Vec<Appended>, Status> {
        let now = Utc::now();
        let mut violations = Vec::new();
        let mut entries = Vec::with_capacity(records.len());
        for (index, record) in records.iter().enumerate() {
            if let Some(usage) =
                parse::usage(&mut violations, &format!("records[{index}]"), record, now)
            {
                entries.push(self.ingestor.entry(&usage, caller.subject()));
            }
        }
        invalid(violations)?;
        let mut tx = self.pool.begin().await.map_err(database)?;
        let appended = store::append(&mut tx, entries).await.map_err(database)?;
        tx.commit().await.map_err(database)?;
        Ok(appended)
    }
}

#[tonic::async_trait]
impl AuditLogService for AuditLogApi {
    async fn record_usage(
        &self,
        request: Request<proto::RecordUsageRequest>,
    ) -> Result<Response<proto::RecordUsageResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::System])?;
        let Some(record) = request.into_inner().record else {
            return Err(ServiceError::invalid("record", "is required").into());
        };
        let appended = self.record(&caller, vec![record]).await.map_err(|status| {
            // A single record's violations name `record.…`, not `records[0].…`.
            rename_single(status)
        })?;
        let (sequence, duplicate) = match appended.first() {
            Some(Appended::New(s)) => (*s, false),
            Some(Appended::Duplicate(s)) => (*s, true),
            None => (0, false),
        };
        Ok(Response::new(proto::RecordUsageResponse {
            sequence,
            duplicate,
        }))
    }

    async fn record_usage_batch(
        &self,
        request: Request<Streaming<proto::RecordUsageBatchRequest>>,
    ) -> Result<Response<proto::RecordUsageBatchResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::System])?;
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
        let appended = self.record(&caller, records).await?;
        let new: Vec<u64> = appended
            .iter()
            .filter_map(|a| match a {
                Appended::New(s) => Some(*s),
                Appended::Duplicate(_) => None,
            })
            .collect();
        Ok(Response::new(proto::RecordUsageBatchResponse {
            recorded_count: new.len() as u64,
            duplicate_count: (appended.len() - new.len()) as u64,
            first_sequence: new.first().copied().unwrap_or(0),
            last_sequence: new.last().copied().unwrap_or(0),
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
        let message = request.get_ref();
        let mut violations = Vec::new();
        let range = parse::range(&mut violations, "time_range", message.time_range.as_ref());
        let slot = match &message.slot_length {
            None => self.settings.slot.num_seconds(),
            Some(d) if d.seconds >= 60 && d.seconds <= 86_400 * 31 && d.nanos == 0 => d.seconds,
            Some(_) => {
                violations.push(FieldViolation::new(
                    "slot_length",
                    "must be whole seconds between 1min and 31days",
                ));
                0
            }
        };
        if let Some((start, end)) = range
            && (end - start).num_seconds() / slot.max(1) > 2000
        {
            violations.push(FieldViolation::new(
                "time_range",
                "covers more than 2000 slots",
            ));
        }
        invalid(violations)?;
        let (start, end) = range.expect("checked");
        let cells = view::statistics(&self.pool, start, end, slot, self.settings.k)
            .await
            .map_err(database)?;
        Ok(Response::new(proto::GetUsageStatisticsResponse {
            k: self.settings.k,
            slot_length: Some(view::duration(slot)),
            cells,
        }))
    }

    async fn file_legal_request(
        &self,
        request: Request<proto::FileLegalRequestRequest>,
    ) -> Result<Response<proto::FileLegalRequestResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::LegalOfficer])?;
        let message = request.into_inner();
        let now = Utc::now();
        let mut violations = Vec::new();
        let id = uuid::Uuid::parse_str(&message.request_id).map(|u| u.to_string());
        if id.is_err() {
            violations.push(FieldViolation::new("request_id", "must be a UUID"));
        }
        for (field, value) in [
            ("agency", &message.agency),
            ("case_number", &message.case_number),
            ("justification", &message.justification),
        ] {
            if value.trim().is_empty() {
                violations.push(FieldViolation::new(field, "must not be empty"));
            } else if value.len() > 2000 {
                violations.push(FieldViolation::new(field, "must be at most 2000 bytes"));
            }
        }
        let basis = proto::LegalBasis::try_from(message.legal_basis).unwrap_or_default();
        if basis == proto::LegalBasis::Unspecified {
            violations.push(FieldViolation::new(
                "legal_basis",
                "must be a known legal basis",
            ));
        }
        if basis == proto::LegalBasis::OtherStatute
            && message.legal_basis_citation.trim().is_empty()
        {
            violations.push(FieldViolation::new(
                "legal_basis_citation",
                "must name the statute",
            ));
        }
        match &message.scope {
            None => violations.push(FieldViolation::new("scope", "is required")),
            Some(scope) => {
                parse::range(
                    &mut violations,
                    "scope.time_range",
                    scope.time_range.as_ref(),
                );
                if scope.job_seeker_ids.is_empty() && scope.device_pseudonyms.is_empty() {
                    violations.push(FieldViolation::new(
                        "scope",
                        "must name at least one person or device pseudonym",
                    ));
                }
                for (i, p) in scope.job_seeker_ids.iter().enumerate() {
                    if p.trim().is_empty() {
                        violations.push(FieldViolation::new(
                            format!("scope.job_seeker_ids[{i}]"),
                            "must not be empty",
                        ));
                    }
                }
                for (i, p) in scope.device_pseudonyms.iter().enumerate() {
                    if p.device_pseudonym.len() != 32 || p.pseudonym_period.len() != 7 {
                        violations.push(FieldViolation::new(
                            format!("scope.device_pseudonyms[{i}]"),
                            "must be a pseudonym with its period",
                        ));
                    }
                }
            }
        }
        match to_datetime(message.requested_expires_at.as_ref()) {
            Some(at) if at > now => {}
            _ => violations.push(FieldViolation::new(
                "requested_expires_at",
                "must be in the future",
            )),
        }
        invalid(violations)?;
        let id = id.expect("checked");
        let mut filed = proto::LegalRequest {
            legal_request_id: id.clone(),
            agency: message.agency,
            legal_basis: message.legal_basis,
            legal_basis_citation: message.legal_basis_citation,
            case_number: message.case_number,
            scope: message.scope,
            justification: message.justification,
            requested_expires_at: message.requested_expires_at,
            filed_by: caller.subject().to_owned(),
            filed_at: Some(timestamp(now)),
            ..Default::default()
        };
        filed.set_state(LegalRequestState::Filed);
        let mut tx = self.pool.begin().await.map_err(database)?;
        let inserted = sqlx::query(
            "INSERT INTO legal_requests (legal_request_id, filed_at, body) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(now)
        .bind(filed.encode_to_vec())
        .execute(&mut *tx)
        .await
        .map_err(database)?;
        if inserted.rows_affected() == 0 {
            // A repeated request id returns the first result, to its filer only.
            let existing = Self::load_for_update(&mut tx, &id)
                .await?
                .ok_or(ServiceError::Conflict)?;
            if existing.filed_by != caller.subject() {
                return Err(ServiceError::AlreadyExists {
                    resource_type: "legal request",
                    resource_name: id,
                }
                .into());
            }
            return Ok(Response::new(proto::FileLegalRequestResponse {
                legal_request: Some(legal::at(existing, now)),
            }));
        }
        store::append(
            &mut tx,
            vec![legal_entry(EntryKind::LegalRequestFiled, &caller, &id, 0)],
        )
        .await
        .map_err(database)?;
        tx.commit().await.map_err(database)?;
        Ok(Response::new(proto::FileLegalRequestResponse {
            legal_request: Some(legal::at(filed, now)),
        }))
    }

    async fn approve_legal_request(
        &self,
        request: Request<proto::ApproveLegalRequestRequest>,
    ) -> Result<Response<proto::ApproveLegalRequestResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::Approver])?;
        let message = request.into_inner();
        let expires_at = to_datetime(message.expires_at.as_ref());
        if message.expires_at.is_some() && expires_at.is_none() {
            return Err(ServiceError::invalid("expires_at", "is not a valid time").into());
        }
        let approver = caller.subject().to_owned();
        let decided = self
            .decide(
                &caller,
                &message.legal_request_id,
                EntryKind::LegalRequestApproved,
                |r| legal::approve(r, &approver, Utc::now(), expires_at, &message.note),
            )
            .await?;
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
        let message = request.into_inner();
        if message.reason.trim().is_empty() {
            return Err(ServiceError::invalid("reason", "must not be empty").into());
        }
        let approver = caller.subject().to_owned();
        let decided = self
            .decide(
                &caller,
                &message.legal_request_id,
                EntryKind::LegalRequestDenied,
                |r| legal::deny(r, &approver, Utc::now(), &message.reason),
            )
            .await?;
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
        let message = request.into_inner();
        if message.reason.trim().is_empty() {
            return Err(ServiceError::invalid("reason", "must not be empty").into());
        }
        let approver = caller.subject().to_owned();
        let decided = self
            .decide(
                &caller,
                &message.legal_request_id,
                EntryKind::LegalRequestRevoked,
                |r| legal::revoke(r, &approver, Utc::now()),
            )
            .await?;
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
        let id = &request.get_ref().legal_request_id;
        let body: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT body FROM legal_requests WHERE legal_request_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(database)?;
        let body = body.ok_or_else(|| ServiceError::NotFound {
            resource_type: "legal request",
            resource_name: id.clone(),
        })?;
        let found = proto::LegalRequest::decode(body.as_slice()).map_err(ServiceError::internal)?;
        Ok(Response::new(proto::GetLegalRequestResponse {
            legal_request: Some(legal::at(found, Utc::now())),
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
            let found = legal::at(
                proto::LegalRequest::decode(body.as_slice()).map_err(ServiceError::internal)?,
                now,
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
        let message = request.into_inner();
        let id = message.legal_request_id.clone();
        let mut violations = Vec::new();
        let size = parse::page_size(&mut violations, message.page_size, 100, 1000);
        let after = parse::page_token(&mut violations, &message.page_token);
        invalid(violations)?;
        let now = Utc::now();
        let mut tx = self.pool.begin().await.map_err(database)?;
        let Some(legal_request) = Self::load_for_update(&mut tx, &id).await? else {
            drop(tx);
            let refusal = if caller.has_role(Role::LegalOfficer) {
                Refusal::UnknownRequest
            } else {
                Refusal::RoleNotAllowed
            };
            return Err(self.refuse(&caller, &id, refusal).await);
        };
        if let Err(refusal) = legal::authorize_disclosure(
            &legal_request,
            caller.subject(),
            caller.has_role(Role::LegalOfficer),
            now,
        ) {
            drop(tx);
            return Err(self.refuse(&caller, &id, refusal).await);
        }
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
        let pseudonyms: Vec<String> = scope
            .device_pseudonyms
            .iter()
            .map(|p| format!("{}@{}", p.device_pseudonym, p.pseudonym_period))
            .collect();
        let rows = store::in_scope(
            &self.pool,
            EntryKind::Usage as i32,
            start,
            end,
            &scope.job_seeker_ids,
            &pseudonyms,
            after,
            size + 1,
        )
        .await
        .map_err(database)?;
        let more = rows.len() as i64 > size;
        let mut records = Vec::new();
        for row in rows.iter().take(size as usize) {
            records.push(
                view::disclosed(row, &self.ingestor.keyring).map_err(ServiceError::internal)?,
            );
        }
        let count = records.len() as i64;
        let appended = store::append(
            &mut tx,
            vec![legal_entry(
                EntryKind::DeviceRecordsDisclosed,
                &caller,
                &id,
                count,
            )],
        )
        .await
        .map_err(database)?;
        let mut updated = legal_request.clone();
        updated.disclosed_record_count += count as u64;
        Self::save(&mut tx, &updated).await?;
        tx.commit().await.map_err(database)?;
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
            disclosure_sequence: first_new(&appended),
        }))
    }

    async fn verify_log(
        &self,
        request: Request<proto::VerifyLogRequest>,
    ) -> Result<Response<proto::VerifyLogResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::Auditor])?;
        let message = request.get_ref();
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
        Ok(Response::new(view::verification(verification)))
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
