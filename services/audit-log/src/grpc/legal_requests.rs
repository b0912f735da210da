//! The legal requests (Art. 7(2) proviso): `FileLegalRequest` by a legal
//! officer; `ApproveLegalRequest`, `DenyLegalRequest` and
//! `RevokeLegalRequest` by an approver; `GetLegalRequest` and
//! `ListLegalRequests` for oversight. Each handler checks the roles,
//! parses, makes one call of the [`crate::service::AuditLog`] service and
//! converts its answer; refusals are mapped in `legal_errors`.

use chrono::Utc;
use hellowork_platform::{
    FieldViolation, Role, ServiceError, caller, correlation_id, event_metadata, require_any,
};
use hellowork_proto::auditlog::v1 as proto;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{AuditLogApi, invalid, legal_errors::status, parse};
use crate::{
    domain::legal::{LegalRequest, RequestState},
    service::{Context, Page},
};

/// A legal request id as given: a UUID, normalized.
pub(super) fn request_id(field: &str, value: &str) -> Result<String, Status> {
    Uuid::parse_str(value)
        .map(|id| id.to_string())
        .map_err(|_| ServiceError::invalid(field, "must be a UUID").into())
}

/// A decision's reason: required.
fn reason(reason: String) -> Result<String, Status> {
    if reason.trim().is_empty() {
        return Err(ServiceError::invalid("reason", "must not be empty").into());
    }
    Ok(reason)
}

/// The states a list is filtered by, each one the contract names.
fn states(violations: &mut Vec<FieldViolation>, states: &[i32]) -> Vec<RequestState> {
    let mut known = Vec::with_capacity(states.len());
    for (i, state) in states.iter().enumerate() {
        match RequestState::try_from(*state) {
            Ok(state) => known.push(state),
            Err(_) => violations.push(FieldViolation::new(
                format!("states[{i}]"),
                "must be a legal request state",
            )),
        }
    }
    known
}

/// Who may read legal requests: the officers, the approvers, oversight.
const READERS: [Role; 3] = [Role::LegalOfficer, Role::Approver, Role::Auditor];

impl AuditLogApi {
    pub(super) async fn file(
        &self,
        request: Request<proto::FileLegalRequestRequest>,
    ) -> Result<Response<proto::FileLegalRequestResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::LegalOfficer])?;
        let metadata = event_metadata(&caller, correlation_id(&request));
        let mut violations = Vec::new();
        let filing = parse::filing(&mut violations, request.into_inner(), Utc::now());
        invalid(violations)?;
        let filing = filing.expect("checked");
        let cx = Context {
            caller: &caller,
            metadata: &metadata,
        };
        let legal_request = self.service.file(cx, filing).await.map_err(status)?;
        Ok(Response::new(proto::FileLegalRequestResponse {
            legal_request: Some(legal_request.message()),
        }))
    }

    pub(super) async fn approve(
        &self,
        request: Request<proto::ApproveLegalRequestRequest>,
    ) -> Result<Response<proto::ApproveLegalRequestResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::Approver])?;
        let metadata = event_metadata(&caller, correlation_id(&request));
        let message = request.into_inner();
        let id = request_id("legal_request_id", &message.legal_request_id)?;
        let mut violations = Vec::new();
        let terms = parse::terms(&mut violations, message);
        invalid(violations)?;
        let cx = Context {
            caller: &caller,
            metadata: &metadata,
        };
        let decided = self.service.approve(cx, &id, terms).await.map_err(status)?;
        Ok(Response::new(proto::ApproveLegalRequestResponse {
            legal_request: Some(decided.message()),
        }))
    }

    pub(super) async fn deny(
        &self,
        request: Request<proto::DenyLegalRequestRequest>,
    ) -> Result<Response<proto::DenyLegalRequestResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::Approver])?;
        let metadata = event_metadata(&caller, correlation_id(&request));
        let message = request.into_inner();
        let id = request_id("legal_request_id", &message.legal_request_id)?;
        let reason = reason(message.reason)?;
        let cx = Context {
            caller: &caller,
            metadata: &metadata,
        };
        let decided = self.service.deny(cx, &id, reason).await.map_err(status)?;
        Ok(Response::new(proto::DenyLegalRequestResponse {
            legal_request: Some(decided.message()),
        }))
    }

    pub(super) async fn revoke(
        &self,
        request: Request<proto::RevokeLegalRequestRequest>,
    ) -> Result<Response<proto::RevokeLegalRequestResponse>, Status> {
        let caller = caller(&request)?.clone();
        require_any(&caller, &[Role::Approver])?;
        let metadata = event_metadata(&caller, correlation_id(&request));
        let message = request.into_inner();
        let id = request_id("legal_request_id", &message.legal_request_id)?;
        let reason = reason(message.reason)?;
        let cx = Context {
            caller: &caller,
            metadata: &metadata,
        };
        let decided = self.service.revoke(cx, &id, reason).await.map_err(status)?;
        Ok(Response::new(proto::RevokeLegalRequestResponse {
            legal_request: Some(decided.message()),
        }))
    }

    pub(super) async fn legal_request(
        &self,
        request: Request<proto::GetLegalRequestRequest>,
    ) -> Result<Response<proto::GetLegalRequestResponse>, Status> {
        require_any(caller(&request)?, &READERS)?;
        let id = request_id("legal_request_id", &request.get_ref().legal_request_id)?;
        let found = self
            .service
            .found_legal_request(&id)
            .await
            .map_err(status)?;
        Ok(Response::new(proto::GetLegalRequestResponse {
            legal_request: Some(found.message()),
        }))
    }

    pub(super) async fn legal_requests(
        &self,
        request: Request<proto::ListLegalRequestsRequest>,
    ) -> Result<Response<proto::ListLegalRequestsResponse>, Status> {
        require_any(caller(&request)?, &READERS)?;
        let message = request.get_ref();
        let mut violations = Vec::new();
        let size = parse::page_size(&mut violations, message.page_size, 50, 500);
        let offset = parse::page_token(&mut violations, &message.page_token);
        let states = states(&mut violations, &message.states);
        invalid(violations)?;
        let (legal_requests, next) = self
            .service
            .legal_requests(&states, Page { offset, size })
            .await
            .map_err(status)?;
        Ok(Response::new(proto::ListLegalRequestsResponse {
            legal_requests: legal_requests.iter().map(LegalRequest::message).collect(),
            next_page_token: next.map(|n| n.to_string()).unwrap_or_default(),
        }))
    }
}
