//! The legal-request list (`legal_requests`), projected beside the access
//! log: each legal event folded into the listed request by the rules of
//! [`crate::domain::legal`], with who decided when.

use hellowork_eventstore::{Aggregate, ProjectionError, RecordedEvent};
use hellowork_proto::auditlog::v1 as proto;
use prost::Message;
use sqlx::PgConnection;

use crate::domain::{
    event::Event,
    legal::{LegalCase, LegalRequest, annotate},
    time::to_micros,
};

/// The legal request an event concerns, if it is a legal event.
pub(super) fn legal_request_id(event: &Event) -> Option<&str> {
    match event {
        Event::LegalRequestFiled(e) => Some(&e.legal_request_id),
        Event::LegalRequestApproved(e) => Some(&e.legal_request_id),
        Event::LegalRequestDenied(e) => Some(&e.legal_request_id),
        Event::LegalRequestRevoked(e) => Some(&e.legal_request_id),
        Event::DeviceRecordsDisclosed(e) => Some(&e.legal_request_id),
        _ => None,
    }
}

/// Folds a legal event into the listed request.
pub(super) async fn list_legal(
    tx: &mut PgConnection,
    id: &str,
    recorded: &RecordedEvent,
    event: &Event,
) -> Result<(), ProjectionError> {
    let body: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT body FROM legal_requests WHERE legal_request_id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let rejected = |reason: String| ProjectionError::Rejected {
        event_id: recorded.event_id,
        event_type: recorded.event_type.clone(),
        reason,
    };
    let request = body
        .map(|body| {
            let message = proto::LegalRequest::decode(body.as_slice())
                .map_err(|error| rejected(error.to_string()))?;
            LegalRequest::from_message(&message).map_err(rejected)
        })
        .transpose()?;
    // The listed request is the view; the filer's personnel id, which only
    // decisions need, is not kept in it.
    let case = LegalCase { request }.apply(event);
    let Some(mut request) = case.request else {
        return Ok(());
    };
    annotate(
        &mut request,
        event,
        &recorded.metadata.actor.subject,
        to_micros(recorded.occurred_at),
    );
    let filed_at = request.filed_at.unwrap_or(recorded.occurred_at);
    sqlx::query(
        "INSERT INTO legal_requests (legal_request_id, filed_at, body) VALUES ($1, $2, $3) \
         ON CONFLICT (legal_request_id) DO UPDATE SET body = EXCLUDED.body",
    )
    .bind(id)
    .bind(filed_at)
    .bind(request.message().encode_to_vec())
    .execute(&mut *tx)
    .await?;
    Ok(())
}
