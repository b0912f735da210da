//! `DiscloseDeviceRecords` (Art. 7(2) proviso): the raw device records in
//! the scope of an authorized legal request, only to the legal officer
//! named on it, a page at a time and never past its disclosure limit.
//! Every attempt, granted or refused, is decided again on the request's
//! stream and recorded there before anything is opened; the answer carries
//! the inclusion proof of the disclosure's own log entry.

use chrono::Utc;
use hellowork_platform::{
    Caller, Role, ServiceError, caller, correlation_id, event_metadata, require_any,
};
use hellowork_proto::auditlog::v1 as proto;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    AuditLogApi, database, invalid, key_error,
    legal_errors::{execute_error, refused},
    legal_requests::request_id,
    parse, view,
};
use crate::{
    domain::{
        event::Event,
        legal::{Action, Command, Refusal},
        subject::KeyPeriod,
        time::to_datetime,
    },
    metrics,
    service::{actor, stream_of},
    store,
};

impl AuditLogApi {
    pub(super) async fn disclose(
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
