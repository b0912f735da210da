//! Art. 7(2) proviso: disclosing the raw device records in the scope of an
//! authorized legal request, only to the legal officer named on it, a page
//! at a time and never past its disclosure limit. Every attempt, granted or
//! refused, is decided again on the request's stream and recorded there
//! before anything is opened; the disclosure's own log entry comes with its
//! inclusion proof.

use chrono::Utc;
use hellowork_platform::ServiceError;
use hellowork_proto::auditlog::v1 as proto;
use tokio::time::{Duration, Instant};
use uuid::Uuid;

use super::{
    AuditLog, Context, Error, actor, database, executed, key_error, log_error, opened, stream_of,
};
use crate::{
    domain::{
        event::Event,
        legal::{Action, Command, LegalRequest, Refusal},
        subject::KeyPeriod,
    },
    metrics, store,
    transparency::Inclusion,
};

/// How long a disclosure waits for its own entry: the access log is a
/// projection of the service's events, a few milliseconds behind.
const ENTRY_PATIENCE: Duration = Duration::from_secs(10);
const ENTRY_POLL: Duration = Duration::from_millis(20);

/// A disclosure made (Art. 7(2) proviso).
#[derive(Debug)]
pub struct Disclosure {
    /// The id of the disclosure's event, the record its log entry names.
    pub disclosure_id: Uuid,
    /// The records disclosed, identifiers opened; an erased one without.
    pub records: Vec<proto::DisclosedDeviceRecord>,
    /// Whether more records follow (in scope, or cut by the limit).
    pub more: bool,
    /// The disclosure's log entry with its inclusion proof, `None` if it
    /// was not in the log in time ([`ENTRY_PATIENCE`]).
    pub inclusion: Option<Inclusion>,
}

impl AuditLog {
    /// Art. 7(2) proviso: discloses to the caller at most `size` of the
    /// records in the scope of the legal request `id` after the log position
    /// `after`; a refusal is on record before it is answered
    /// ([`Error::Refused`]).
    pub async fn disclose(
        &self,
        cx: Context<'_>,
        id: &str,
        after: i64,
        size: i64,
    ) -> Result<Disclosure, Error> {
        let case = self
            .requests
            .load(&stream_of(id))
            .await
            .map_err(|error| executed(error, id))?
            .state;
        let authorized =
            case.authorize_disclosure(&actor(cx.caller), Utc::now(), &self.settings.legal);
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
        let (disclosure_id, disclosed) = self.attempt(cx, id, sequences).await?;
        if disclosed < rows.len() {
            rows.truncate(disclosed);
            more = true;
        }
        let records = opened::disclosed(&rows, &self.ingestor.keys)
            .await
            .map_err(key_error)?;
        let inclusion = self
            .disclosure_inclusion(&disclosure_id.to_string())
            .await?;
        Ok(Disclosure {
            disclosure_id,
            records,
            more,
            inclusion,
        })
    }

    /// Art. 7(2): records a legal officer's disclosure attempt for `id`; of
    /// the records at `sequences` (log order), how many the decision
    /// disclosed — a prefix, cut at the disclosure limit — with the
    /// disclosure's id, or the refusal.
    async fn attempt(
        &self,
        cx: Context<'_>,
        id: &str,
        sequences: Vec<u64>,
    ) -> Result<(Uuid, usize), Error> {
        let command = Command {
            legal_request_id: id.to_owned(),
            action: Action::Disclose {
                officer: actor(cx.caller),
                now: Utc::now(),
                record_sequences: sequences,
                ceilings: self.settings.legal,
            },
        };
        let (events, outcome) = self
            .requests
            .execute(&stream_of(id), &command, cx.metadata)
            .await
            .map_err(|error| executed(error, id))?;
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
                Ok((event_id, disclosed.record_sequences.len()))
            }
            [Event::DeviceDisclosureRefused(refused)] => match Refusal::of(refused.reason()) {
                Some(refusal) => Err(Error::Refused {
                    refusal,
                    id: id.to_owned(),
                }),
                None => Err(unexpected().into()),
            },
            _ => Err(unexpected().into()),
        }
    }

    /// The usage entries in the scope of `legal_request` after position
    /// `after`: a page of at most `size`, and whether more follow.
    async fn in_scope(
        &self,
        legal_request: &LegalRequest,
        after: i64,
        size: i64,
    ) -> Result<(Vec<store::Stored>, bool), ServiceError> {
        let scope = &legal_request.filing.scope;
        let Some((start, end)) = scope.time_range else {
            return Err(ServiceError::internal(std::io::Error::other(
                "stored scope without a time range",
            )));
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

    /// Art. 7(2) proviso: a disclosure's own entry with its inclusion proof,
    /// once the projection has appended it and a checkpoint covers it.
    /// `None` if that takes longer than [`ENTRY_PATIENCE`]: the records were
    /// disclosed on the record (the event is committed), so they are not
    /// withheld for a late proof, which `GetInclusionProof` gives later.
    async fn disclosure_inclusion(
        &self,
        disclosure_id: &str,
    ) -> Result<Option<Inclusion>, ServiceError> {
        let deadline = Instant::now() + ENTRY_PATIENCE;
        loop {
            if let Some(found) = self
                .log
                .inclusion_of_record(disclosure_id)
                .await
                .map_err(|e| log_error(e, "legal_request_id"))?
            {
                return Ok(Some(found));
            }
            if Instant::now() >= deadline {
                tracing::warn!(%disclosure_id, "a disclosure's entry was not in the access log in time for its proof");
                return Ok(None);
            }
            tokio::time::sleep(ENTRY_POLL).await;
        }
    }
}
