//! The legal requests (Art. 7(2) proviso): `FileLegalRequest` by a legal
//! officer; `ApproveLegalRequest`, `DenyLegalRequest` and
//! `RevokeLegalRequest` by an approver; `GetLegalRequest` and
//! `ListLegalRequests` for oversight. Each command runs the pure rules of
//! [`crate::domain::legal`] on the request's own stream; the views fold
//! that stream, or read the projected list.

use chrono::Utc;
use hellowork_eventstore::{Aggregate, DomainEvent, StreamId};
use hellowork_platform::{
    Caller, Role, ServiceError, caller, correlation_id, event_metadata, require_any,
};
use hellowork_proto::auditlog::v1 as proto;
use prost::Message;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    AuditLogApi, database, invalid,
    legal_errors::{execute_error, not_found},
    parse,
};
use crate::{
    domain::{
        event::Event,
        legal::{self, Action, Actor, Command, LegalCase, annotate},
    },
    metrics,
};

/// A legal request id as given: a UUID, normalized.
pub(super) fn request_id(field: &str, value: &str) -> Result<String, Status> {
    Uuid::parse_str(value)
        .map(|id| id.to_string())
        .map_err(|_| ServiceError::invalid(field, "must be a UUID").into())
}

/// The caller as the legal rules see them: subject and personnel id.
pub(super) fn actor(caller: &Caller) -> Actor {
    Actor::new(caller.subject(), caller.personnel_id())
}

pub(super) fn stream_of(id: &str) -> StreamId {
    StreamId::new(format!("legal-request-{id}")).expect("a UUID makes a valid stream id")
}

impl AuditLogApi {
    /// The legal request as its stream says now, with who decided when.
    pub(super) async fn view(&self, id: &str) -> Result<Option<proto::LegalRequest>, Status> {
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

    pub(super) async fn file(
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

    pub(super) async fn approve(
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

    pub(super) async fn deny(
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

    pub(super) async fn revoke(
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

    pub(super) async fn legal_request(
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

    pub(super) async fn legal_requests(
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
}
