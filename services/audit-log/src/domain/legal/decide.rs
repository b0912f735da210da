//! Art. 7(2): the rules a command is decided by: a filing within the scope
//! ceilings, the two-person rule told apart by personnel id, each
//! approver's terms within their ceilings and the requested expiry, and a
//! disclosure only to the named officer, while approved and unexpired,
//! never beyond the limit.

use chrono::{DateTime, Duration, Utc};
use hellowork_proto::auditlog::v1 as proto;

use super::{
    Actor, Ceilings, LegalCase, LegalError, Refusal, Terms,
    case::{Approval, Filing, LegalRequest, RequestState, Scope},
    describe_span, state_at,
};
use crate::domain::{event::Event, time::timestamp};

fn over(field: &'static str, ceiling: String) -> LegalError {
    LegalError::OverCeiling { field, ceiling }
}

/// Art. 7(2): a scope within the ceilings. Its shape (a range with start
/// before end, at least one person or pseudonym) is checked at the edge.
fn scope_within(scope: &Scope, ceilings: &Ceilings) -> Result<(), LegalError> {
    let entries = scope.job_seeker_ids.len() + scope.device_pseudonyms.len();
    if entries > ceilings.max_scope_entries as usize {
        return Err(over(
            "scope",
            format!(
                "{} persons or device pseudonyms",
                ceilings.max_scope_entries
            ),
        ));
    }
    if let Some((start, end)) = scope.time_range
        && end - start > ceilings.max_scope_span
    {
        return Err(over(
            "scope.time_range",
            describe_span(ceilings.max_scope_span),
        ));
    }
    Ok(())
}

impl LegalRequest {
    /// Whether `actor` is the filer: the same subject, or the same person
    /// under another subject.
    fn is_filer(&self, actor: &Actor) -> bool {
        self.filed_by == actor.subject
            || (!self.filer_personnel_id.is_empty()
                && actor.personnel_id.as_deref() == Some(self.filer_personnel_id.as_str()))
    }
}

impl LegalCase {
    pub(super) fn filed(&self) -> Result<&LegalRequest, LegalError> {
        self.request.as_ref().ok_or(LegalError::Unknown)
    }

    /// Art. 7(2): the two-person rule, and only a pending request is decided.
    pub(super) fn decidable(
        &self,
        approver: &Actor,
        now: DateTime<Utc>,
    ) -> Result<&LegalRequest, LegalError> {
        let request = self.filed()?;
        if request.is_filer(approver) {
            return Err(LegalError::OwnRequest);
        }
        match state_at(request, now) {
            RequestState::Filed => Ok(request),
            other => Err(LegalError::NotFiled(other.name())),
        }
    }

    pub(super) fn file(
        &self,
        filer: &Actor,
        filing: &Filing,
        ceilings: &Ceilings,
    ) -> Result<Vec<Event>, LegalError> {
        match &self.request {
            // A repeated filing by its filer changes nothing.
            Some(request) if request.filed_by == filer.subject => return Ok(vec![]),
            Some(_) => return Err(LegalError::FiledByAnother),
            None => {}
        }
        let personnel_id = filer
            .personnel_id
            .clone()
            .ok_or(LegalError::NoPersonnelId)?;
        scope_within(&filing.scope, ceilings)?;
        Ok(vec![Event::LegalRequestFiled(proto::LegalRequestFiled {
            filed_by: filer.subject.clone(),
            filed_by_personnel_id: personnel_id,
            approvals_required: ceilings.approvals_required.max(1),
            ..filing.message()
        })])
    }

    pub(super) fn approve(
        &self,
        approver: &Actor,
        now: DateTime<Utc>,
        terms: &Terms,
        ceilings: &Ceilings,
    ) -> Result<Vec<Event>, LegalError> {
        let request = self.filed()?;
        if request.filed_by == approver.subject {
            return Err(LegalError::OwnRequest);
        }
        let personnel_id = approver
            .personnel_id
            .as_deref()
            .ok_or(LegalError::NoPersonnelId)?;
        let request = self.decidable(approver, now)?;
        if request
            .approvals
            .iter()
            .any(|a| a.personnel_id == personnel_id || a.approver == approver.subject)
        {
            return Err(LegalError::AlreadyApproved);
        }
        let expires_at = expiry(request, now, terms.expires_at, ceilings)?;
        let earlier = request.approvals.iter().filter_map(|a| a.expires_at).min();
        if earlier.is_some_and(|at| at <= now) {
            return Err(LegalError::ApprovalLapsed);
        }
        let disclosure_limit = match terms.disclosure_limit {
            0 => ceilings.max_disclosure_limit,
            limit if limit > ceilings.max_disclosure_limit => {
                return Err(over(
                    "disclosure_limit",
                    format!("{} records", ceilings.max_disclosure_limit),
                ));
            }
            limit => limit,
        };
        let deferral = terms.deferral.filter(|d| *d > Duration::zero());
        if deferral.is_some_and(|d| d > ceilings.max_deferral) {
            return Err(over(
                "notification_deferral",
                describe_span(ceilings.max_deferral),
            ));
        }
        Ok(vec![Event::LegalRequestApproved(
            proto::LegalRequestApproved {
                legal_request_id: request.id().to_owned(),
                expires_at: Some(timestamp(expires_at)),
                note: terms.note.clone(),
                approver: approver.subject.clone(),
                approver_personnel_id: personnel_id.to_owned(),
                approved_at: Some(timestamp(now)),
                disclosure_limit,
                notification_deferral: deferral.and_then(Approval::deferral_message),
                deferral_reason: if deferral.is_some() {
                    terms.deferral_reason.clone()
                } else {
                    String::new()
                },
            },
        )])
    }

    /// Art. 7(2) proviso: how many more records `officer` may receive at
    /// `now`, or why none.
    pub fn authorize_disclosure(
        &self,
        officer: &Actor,
        now: DateTime<Utc>,
        ceilings: &Ceilings,
    ) -> Result<u64, Refusal> {
        let request = self.request.as_ref().ok_or(Refusal::UnknownRequest)?;
        let same_person = request.filer_personnel_id.is_empty()
            || officer.personnel_id.as_deref() == Some(request.filer_personnel_id.as_str());
        if request.filed_by != officer.subject || !same_person {
            return Err(Refusal::NotNamedOfficer);
        }
        match state_at(request, now) {
            RequestState::Approved => {}
            RequestState::Denied => return Err(Refusal::Denied),
            RequestState::Expired => return Err(Refusal::Expired),
            RequestState::Revoked => return Err(Refusal::Revoked),
            RequestState::Filed => return Err(Refusal::NotApproved),
        }
        match request
            .limit(ceilings)
            .saturating_sub(request.disclosed_record_count)
        {
            0 => Err(Refusal::LimitReached),
            left => Ok(left),
        }
    }

    pub(super) fn disclose(
        &self,
        officer: &Actor,
        now: DateTime<Utc>,
        record_sequences: &[u64],
        ceilings: &Ceilings,
        id: String,
    ) -> Vec<Event> {
        match self.authorize_disclosure(officer, now, ceilings) {
            Ok(left) => {
                // Art. 7(2): never beyond the limit; the page is cut.
                let count = record_sequences
                    .len()
                    .min(usize::try_from(left).unwrap_or(usize::MAX));
                vec![Event::DeviceRecordsDisclosed(
                    proto::DeviceRecordsDisclosed {
                        legal_request_id: id,
                        record_count: count as u64,
                        record_sequences: record_sequences[..count].to_vec(),
                    },
                )]
            }
            Err(refusal) => vec![Event::DeviceDisclosureRefused(
                proto::DeviceDisclosureRefused {
                    legal_request_id: id,
                    reason: refusal.reason() as i32,
                },
            )],
        }
    }
}

/// Art. 7(2): the expiry one approval sets: no later than the requested
/// expiry nor than the ceiling after `now`; unset, the earlier of the two.
fn expiry(
    request: &LegalRequest,
    now: DateTime<Utc>,
    asked: Option<DateTime<Utc>>,
    ceilings: &Ceilings,
) -> Result<DateTime<Utc>, LegalError> {
    let requested = request.filing.requested_expires_at;
    let ceiling = now + ceilings.max_validity;
    let expires_at = match (asked, requested) {
        (Some(at), Some(requested)) if at > requested => return Err(LegalError::ExpiryTooLate),
        (Some(at), _) if at > ceiling => {
            return Err(over(
                "expires_at",
                format!(
                    "{} after the approval",
                    describe_span(ceilings.max_validity)
                ),
            ));
        }
        (Some(at), _) => at,
        (None, Some(requested)) => requested.min(ceiling),
        (None, None) => return Err(LegalError::ExpiryPassed),
    };
    if expires_at <= now {
        return Err(LegalError::ExpiryPassed);
    }
    Ok(expires_at)
}
