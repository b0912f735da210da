//! The legal requests (Art. 7(2) proviso): filing by a legal officer;
//! approving, denying and revoking by an approver; reading one or a page
//! for oversight. Each command runs the pure rules of
//! [`crate::domain::legal`] on the request's own stream; a request is shown
//! by folding that stream, a page read from the projected list.

use chrono::Utc;
use hellowork_eventstore::{Aggregate, DomainEvent};
use hellowork_platform::ServiceError;
use hellowork_proto::auditlog::v1 as proto;
use prost::Message;

use super::{AuditLog, Context, Error, actor, database, executed, not_found, stream_of};
use crate::{
    domain::{
        event::Event,
        legal::{
            self, Action, Command, Filing, LegalCase, LegalRequest, RequestState, Terms, annotate,
        },
    },
    metrics,
};

/// A page of a list: how many to skip, at most how many to show.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub offset: i64,
    pub size: i64,
}

impl AuditLog {
    /// The legal request `id` as its stream says now, with who decided
    /// when; `None` if it was never filed.
    pub async fn legal_request(&self, id: &str) -> Result<Option<LegalRequest>, Error> {
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

    /// The legal request `id` as shown now; NOT_FOUND if it was never filed.
    pub async fn found_legal_request(&self, id: &str) -> Result<LegalRequest, Error> {
        Ok(self.legal_request(id).await?.ok_or_else(|| not_found(id))?)
    }

    /// Runs `action` on the legal request `id` and returns its view.
    async fn execute(
        &self,
        cx: Context<'_>,
        id: &str,
        action: Action,
    ) -> Result<LegalRequest, Error> {
        let command = Command {
            legal_request_id: id.to_owned(),
            action,
        };
        let (events, _) = self
            .requests
            .execute(&stream_of(id), &command, cx.metadata)
            .await
            .map_err(|error| executed(error, id))?;
        metrics::record(&events);
        self.found_legal_request(id).await
    }

    /// Art. 7(2) proviso: the caller files `filing` within the ceilings.
    pub async fn file(&self, cx: Context<'_>, filing: Filing) -> Result<LegalRequest, Error> {
        let id = filing.legal_request_id.clone();
        let action = Action::File {
            filer: actor(cx.caller),
            filing,
            ceilings: self.settings.legal,
        };
        self.execute(cx, &id, action).await
    }

    /// Art. 7(2) proviso: the caller approves the legal request `id` on
    /// `terms` (two-person rule, each term within its ceiling).
    pub async fn approve(
        &self,
        cx: Context<'_>,
        id: &str,
        terms: Terms,
    ) -> Result<LegalRequest, Error> {
        let action = Action::Approve {
            approver: actor(cx.caller),
            now: Utc::now(),
            terms,
            ceilings: self.settings.legal,
        };
        self.execute(cx, id, action).await
    }

    /// Art. 7(2) proviso: the caller denies the pending legal request `id`.
    pub async fn deny(
        &self,
        cx: Context<'_>,
        id: &str,
        reason: String,
    ) -> Result<LegalRequest, Error> {
        let action = Action::Deny {
            approver: actor(cx.caller),
            now: Utc::now(),
            reason,
        };
        self.execute(cx, id, action).await
    }

    /// Art. 7(2) proviso: the caller revokes the approved legal request
    /// `id`.
    pub async fn revoke(
        &self,
        cx: Context<'_>,
        id: &str,
        reason: String,
    ) -> Result<LegalRequest, Error> {
        let action = Action::Revoke {
            approver: actor(cx.caller),
            now: Utc::now(),
            reason,
        };
        self.execute(cx, id, action).await
    }

    /// A page of the legal requests as shown now, newest filing first, of
    /// the `states` given (all if none), and the offset of the next page if
    /// more follow.
    pub async fn legal_requests(
        &self,
        states: &[RequestState],
        page: Page,
    ) -> Result<(Vec<LegalRequest>, Option<i64>), Error> {
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
            let message =
                proto::LegalRequest::decode(body.as_slice()).map_err(ServiceError::internal)?;
            let stored = LegalRequest::from_message(&message)
                .map_err(|reason| ServiceError::internal(std::io::Error::other(reason)))?;
            let found = legal::shown(stored, now, &self.settings.legal);
            if states.is_empty() || states.contains(&found.state) {
                all.push(found);
            }
        }
        let shown: Vec<_> = all
            .iter()
            .skip(page.offset as usize)
            .take(page.size as usize)
            .cloned()
            .collect();
        let next = page.offset + shown.len() as i64;
        Ok((shown, ((next as usize) < all.len()).then_some(next)))
    }
}
