//! Art. 7(2) proviso: legal requests for raw device records. A legal
//! officer files; a different person with the approver role approves or
//! denies (two-person rule); approval authorizes disclosure until an expiry
//! no later than the one requested; an approver may revoke. Disclosure goes
//! only to the named officer, only while approved and unexpired, and every
//! attempt, granted or refused, becomes an event.
//!
//! Pure: every instant is an input. [`LegalCase`] is the aggregate of one
//! request's stream; its state is the contract's `LegalRequest` message
//! without the envelope facts (who decided, when), which [`annotate`] adds
//! for the views.

use chrono::{DateTime, Utc};
use hellowork_eventstore::Aggregate;
use hellowork_proto::auditlog::v1::{
    self as proto, DisclosureRefusalReason, LegalRequest, LegalRequestState,
};

use super::{
    event::Event,
    time::{timestamp, to_datetime},
};

/// Why a command on a legal request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegalError {
    /// Art. 7(2): the two-person rule.
    #[error("Art. 7(2): the filer of a legal request can never decide it (two-person rule)")]
    OwnRequest,
    /// Art. 7(2): only a filed request can be approved or denied.
    #[error("Art. 7(2): the legal request is {0}, not awaiting a decision")]
    NotFiled(&'static str),
    /// Art. 7(2): only an approved, unexpired request can be revoked.
    #[error("Art. 7(2): the legal request is {0}, not approved")]
    NotApproved(&'static str),
    /// Art. 7(2): the authorization may not outlast the requested expiry.
    #[error("Art. 7(2): expires_at must not be after the requested expiry")]
    ExpiryTooLate,
    #[error("expires_at must be in the future")]
    ExpiryPassed,
    #[error("no such legal request")]
    Unknown,
    /// A request id is filed once; only its filer may repeat the filing.
    #[error("the legal request id is already filed by another officer")]
    FiledByAnother,
}

/// Art. 7(2): why a disclosure attempt is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownRequest,
    RoleNotAllowed,
    NotNamedOfficer,
    NotApproved,
    Denied,
    Expired,
    Revoked,
}

impl Refusal {
    /// Whether the refusal is about the caller (PERMISSION_DENIED) rather
    /// than the request's state (FAILED_PRECONDITION).
    pub fn is_about_caller(self) -> bool {
        matches!(self, Self::RoleNotAllowed | Self::NotNamedOfficer)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::UnknownRequest => "no such legal request",
            Self::RoleNotAllowed => "only a legal officer may receive raw device records",
            Self::NotNamedOfficer => {
                "only the legal officer named on the request may receive its records"
            }
            Self::NotApproved => "the legal request is not approved",
            Self::Denied => "the legal request was denied",
            Self::Expired => "the approval of the legal request has expired",
            Self::Revoked => "the approval of the legal request was revoked",
        }
    }

    /// The contract's name for it, recorded in the refusal event.
    pub fn reason(self) -> DisclosureRefusalReason {
        match self {
            Self::UnknownRequest => DisclosureRefusalReason::UnknownRequest,
            Self::RoleNotAllowed => DisclosureRefusalReason::RoleNotAllowed,
            Self::NotNamedOfficer => DisclosureRefusalReason::NotNamedOfficer,
            Self::NotApproved => DisclosureRefusalReason::NotApproved,
            Self::Denied => DisclosureRefusalReason::Denied,
            Self::Expired => DisclosureRefusalReason::Expired,
            Self::Revoked => DisclosureRefusalReason::Revoked,
        }
    }
}

/// A command on the legal request `legal_request_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub legal_request_id: String,
    pub action: Action,
}

/// What a command does; every instant and actor is an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Art. 7(2): file, validated at the edge; `filed_by` is the officer.
    File(proto::LegalRequestFiled),
    /// Art. 7(2): approve until `expires_at` (the requested expiry if unset).
    Approve {
        approver: String,
        now: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
        note: String,
    },
    Deny {
        approver: String,
        now: DateTime<Utc>,
        reason: String,
    },
    Revoke {
        approver: String,
        now: DateTime<Utc>,
        reason: String,
    },
    /// Art. 7(2) proviso: an attempt by `subject` to receive the records at
    /// `record_sequences`; records the disclosure if authorized, the refusal
    /// otherwise.
    Disclose {
        subject: String,
        is_legal_officer: bool,
        now: DateTime<Utc>,
        record_sequences: Vec<u64>,
    },
}

/// One legal request's stream folded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LegalCase {
    /// `None` until filed.
    pub request: Option<LegalRequest>,
}

fn name(state: LegalRequestState) -> &'static str {
    match state {
        LegalRequestState::Filed => "filed",
        LegalRequestState::Approved => "approved",
        LegalRequestState::Denied => "denied",
        LegalRequestState::Expired => "expired",
        LegalRequestState::Revoked => "revoked",
        LegalRequestState::Unspecified => "unknown",
    }
}

/// The request's state at `now`: an approval past its expiry is `Expired`.
pub fn state_at(request: &LegalRequest, now: DateTime<Utc>) -> LegalRequestState {
    let stored = request.state();
    if stored == LegalRequestState::Approved {
        let expired = to_datetime(request.expires_at.as_ref()).is_none_or(|at| at <= now);
        if expired {
            return LegalRequestState::Expired;
        }
    }
    stored
}

/// The request as shown at `now`: state and authorized flag current.
pub fn at(mut request: LegalRequest, now: DateTime<Utc>) -> LegalRequest {
    let state = state_at(&request, now);
    request.set_state(state);
    request.authorized_legal_request = state == LegalRequestState::Approved;
    request
}

/// Art. 7(2) proviso: whether `subject` (a legal officer or not) may
/// receive the request's records at `now`.
pub fn authorize_disclosure(
    request: Option<&LegalRequest>,
    subject: &str,
    is_legal_officer: bool,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if !is_legal_officer {
        return Err(Refusal::RoleNotAllowed);
    }
    let request = request.ok_or(Refusal::UnknownRequest)?;
    if request.filed_by != subject {
        return Err(Refusal::NotNamedOfficer);
    }
    match state_at(request, now) {
        LegalRequestState::Approved => Ok(()),
        LegalRequestState::Denied => Err(Refusal::Denied),
        LegalRequestState::Expired => Err(Refusal::Expired),
        LegalRequestState::Revoked => Err(Refusal::Revoked),
        LegalRequestState::Filed | LegalRequestState::Unspecified => Err(Refusal::NotApproved),
    }
}

impl LegalCase {
    fn filed(&self) -> Result<&LegalRequest, LegalError> {
        self.request.as_ref().ok_or(LegalError::Unknown)
    }

    /// Art. 7(2): the two-person rule, and only a pending request is decided.
    fn decidable(&self, approver: &str, now: DateTime<Utc>) -> Result<&LegalRequest, LegalError> {
        let request = self.filed()?;
        if request.filed_by == approver {
            return Err(LegalError::OwnRequest);
        }
        match state_at(request, now) {
            LegalRequestState::Filed => Ok(request),
            other => Err(LegalError::NotFiled(name(other))),
        }
    }

    fn approve(
        &self,
        approver: &str,
        now: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
        note: &str,
    ) -> Result<Vec<Event>, LegalError> {
        let request = self.decidable(approver, now)?;
        let requested = to_datetime(request.requested_expires_at.as_ref());
        let expires_at = match (expires_at, requested) {
            (Some(at), Some(requested)) if at > requested => {
                return Err(LegalError::ExpiryTooLate);
            }
            (Some(at), _) => at,
            (None, Some(requested)) => requested,
            (None, None) => return Err(LegalError::ExpiryPassed),
        };
        if expires_at <= now {
            return Err(LegalError::ExpiryPassed);
        }
        Ok(vec![Event::LegalRequestApproved(
            proto::LegalRequestApproved {
                legal_request_id: request.legal_request_id.clone(),
                expires_at: Some(timestamp(expires_at)),
                note: note.to_owned(),
            },
        )])
    }

    fn disclose(
        &self,
        subject: &str,
        is_legal_officer: bool,
        now: DateTime<Utc>,
        record_sequences: &[u64],
        id: String,
    ) -> Vec<Event> {
        match authorize_disclosure(self.request.as_ref(), subject, is_legal_officer, now) {
            Ok(()) => vec![Event::DeviceRecordsDisclosed(
                proto::DeviceRecordsDisclosed {
                    legal_request_id: id,
                    record_count: record_sequences.len() as u64,
                    record_sequences: record_sequences.to_vec(),
                },
            )],
            Err(refusal) => vec![Event::DeviceDisclosureRefused(
                proto::DeviceDisclosureRefused {
                    legal_request_id: id,
                    reason: refusal.reason() as i32,
                },
            )],
        }
    }
}

impl Aggregate for LegalCase {
    type Command = Command;
    type Event = Event;
    type Error = LegalError;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, LegalError> {
        let id = &command.legal_request_id;
        match &command.action {
            Action::File(filed) => match &self.request {
                // A repeated filing by its filer changes nothing.
                Some(request) if request.filed_by == filed.filed_by => Ok(vec![]),
                Some(_) => Err(LegalError::FiledByAnother),
                None => Ok(vec![Event::LegalRequestFiled(filed.clone())]),
            },
            Action::Approve {
                approver,
                now,
                expires_at,
                note,
            } => self.approve(approver, *now, *expires_at, note),
            Action::Deny {
                approver,
                now,
                reason,
            } => {
                self.decidable(approver, *now)?;
                Ok(vec![Event::LegalRequestDenied(proto::LegalRequestDenied {
                    legal_request_id: id.clone(),
                    reason: reason.clone(),
                })])
            }
            Action::Revoke {
                approver: _,
                now,
                reason,
            } => match state_at(self.filed()?, *now) {
                LegalRequestState::Approved => Ok(vec![Event::LegalRequestRevoked(
                    proto::LegalRequestRevoked {
                        legal_request_id: id.clone(),
                        reason: reason.clone(),
                    },
                )]),
                other => Err(LegalError::NotApproved(name(other))),
            },
            Action::Disclose {
                subject,
                is_legal_officer,
                now,
                record_sequences,
            } => Ok(self.disclose(
                subject,
                *is_legal_officer,
                *now,
                record_sequences,
                id.clone(),
            )),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match (event, self.request.as_mut()) {
            (Event::LegalRequestFiled(filed), None) => {
                let mut request = LegalRequest {
                    legal_request_id: filed.legal_request_id.clone(),
                    agency: filed.agency.clone(),
                    legal_basis: filed.legal_basis,
                    legal_basis_citation: filed.legal_basis_citation.clone(),
                    case_number: filed.case_number.clone(),
                    scope: filed.scope.clone(),
                    justification: filed.justification.clone(),
                    requested_expires_at: filed.requested_expires_at,
                    filed_by: filed.filed_by.clone(),
                    ..LegalRequest::default()
                };
                request.set_state(LegalRequestState::Filed);
                self.request = Some(request);
            }
            (Event::LegalRequestApproved(approved), Some(request)) => {
                request.set_state(LegalRequestState::Approved);
                request.expires_at = approved.expires_at;
                request.decision_note = approved.note.clone();
                request.authorized_legal_request = true;
            }
            (Event::LegalRequestDenied(denied), Some(request)) => {
                request.set_state(LegalRequestState::Denied);
                request.decision_note = denied.reason.clone();
            }
            (Event::LegalRequestRevoked(_), Some(request)) => {
                request.set_state(LegalRequestState::Revoked);
                request.authorized_legal_request = false;
            }
            (Event::DeviceRecordsDisclosed(disclosed), Some(request)) => {
                request.disclosed_record_count += disclosed.record_count;
            }
            _ => {}
        }
        self
    }
}

/// Adds to `request` the envelope facts of `event` (who, when) that the
/// views show and the decisions do not need.
pub fn annotate(request: &mut LegalRequest, event: &Event, actor: &str, at: DateTime<Utc>) {
    let at = Some(timestamp(at));
    match event {
        Event::LegalRequestFiled(_) => request.filed_at = at,
        Event::LegalRequestApproved(_) | Event::LegalRequestDenied(_) => {
            request.decided_by = actor.to_owned();
            request.decided_at = at;
        }
        Event::LegalRequestRevoked(_) => {
            request.revoked_by = actor.to_owned();
            request.revoked_at = at;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    const ID: &str = "0190c0de-0000-7000-8000-000000000001";

    fn command(action: Action) -> Command {
        Command {
            legal_request_id: ID.into(),
            action,
        }
    }

    fn filing(now: DateTime<Utc>) -> proto::LegalRequestFiled {
        proto::LegalRequestFiled {
            legal_request_id: ID.into(),
            filed_by: "officer-a".into(),
            requested_expires_at: Some(timestamp(now + Duration::days(7))),
            ..Default::default()
        }
    }

    fn filed(now: DateTime<Utc>) -> LegalCase {
        LegalCase::default().apply(&Event::LegalRequestFiled(filing(now)))
    }

    fn decided(case: LegalCase, action: Action) -> LegalCase {
        let events = case.decide(&command(action)).expect("allowed");
        events.iter().fold(case, |case, event| case.apply(event))
    }

    fn approve(approver: &str, now: DateTime<Utc>, days: Option<i64>) -> Action {
        Action::Approve {
            approver: approver.into(),
            now,
            expires_at: days.map(|d| now + Duration::days(d)),
            note: String::new(),
        }
    }

    fn disclose(subject: &str, officer: bool, now: DateTime<Utc>) -> Action {
        Action::Disclose {
            subject: subject.into(),
            is_legal_officer: officer,
            now,
            record_sequences: vec![4, 9],
        }
    }

    /// The refusal a disclosure attempt records, if any.
    fn refusal(case: &LegalCase, action: Action) -> Option<DisclosureRefusalReason> {
        match case.decide(&command(action)).unwrap().as_slice() {
            [Event::DeviceRecordsDisclosed(d)] => {
                assert_eq!(d.record_count, 2);
                None
            }
            [Event::DeviceDisclosureRefused(r)] => Some(r.reason()),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn art_7_2_the_filer_can_never_decide_their_own_request() {
        let now = Utc::now();
        let case = filed(now);
        assert_eq!(
            case.decide(&command(approve("officer-a", now, None))),
            Err(LegalError::OwnRequest)
        );
        let deny = Action::Deny {
            approver: "officer-a".into(),
            now,
            reason: "no".into(),
        };
        assert_eq!(case.decide(&command(deny)), Err(LegalError::OwnRequest));
    }

    #[test]
    fn a_repeated_filing_changes_nothing_and_another_officer_cannot_take_the_id() {
        let now = Utc::now();
        let case = filed(now);
        assert_eq!(case.decide(&command(Action::File(filing(now)))), Ok(vec![]));
        let mut other = filing(now);
        other.filed_by = "officer-z".into();
        assert_eq!(
            case.decide(&command(Action::File(other))),
            Err(LegalError::FiledByAnother)
        );
        assert_eq!(
            LegalCase::default().decide(&command(approve("approver-b", now, None))),
            Err(LegalError::Unknown)
        );
    }

    #[test]
    fn art_7_2_approval_may_not_outlast_the_requested_expiry() {
        let now = Utc::now();
        assert_eq!(
            filed(now).decide(&command(approve("approver-b", now, Some(8)))),
            Err(LegalError::ExpiryTooLate)
        );
        let past = Action::Approve {
            approver: "approver-b".into(),
            now,
            expires_at: Some(now - Duration::minutes(1)),
            note: String::new(),
        };
        assert_eq!(
            filed(now).decide(&command(past)),
            Err(LegalError::ExpiryPassed)
        );
        let approved = decided(filed(now), approve("approver-b", now, None));
        let request = approved.request.unwrap();
        assert_eq!(request.expires_at, request.requested_expires_at);
    }

    #[test]
    fn art_7_2_disclosure_only_to_the_named_officer_while_approved_and_unexpired() {
        let now = Utc::now();
        let case = filed(now);
        assert_eq!(
            refusal(&case, disclose("officer-a", true, now)),
            Some(DisclosureRefusalReason::NotApproved)
        );
        let approved = decided(case, approve("approver-b", now, Some(1)));
        assert_eq!(refusal(&approved, disclose("officer-a", true, now)), None);
        assert_eq!(
            refusal(&approved, disclose("officer-c", true, now)),
            Some(DisclosureRefusalReason::NotNamedOfficer)
        );
        assert_eq!(
            refusal(&approved, disclose("officer-a", false, now)),
            Some(DisclosureRefusalReason::RoleNotAllowed)
        );
        let later = now + Duration::days(2);
        assert_eq!(
            state_at(approved.request.as_ref().unwrap(), later),
            LegalRequestState::Expired
        );
        assert_eq!(
            refusal(&approved, disclose("officer-a", true, later)),
            Some(DisclosureRefusalReason::Expired)
        );
        assert_eq!(
            refusal(&LegalCase::default(), disclose("officer-a", true, now)),
            Some(DisclosureRefusalReason::UnknownRequest)
        );
    }

    #[test]
    fn art_7_2_revocation_ends_the_authorization_and_denial_never_grants_it() {
        let now = Utc::now();
        let approved = decided(filed(now), approve("approver-b", now, Some(1)));
        let revoke = Action::Revoke {
            approver: "approver-b".into(),
            now,
            reason: "case closed".into(),
        };
        let revoked = decided(approved, revoke.clone());
        assert_eq!(
            refusal(&revoked, disclose("officer-a", true, now)),
            Some(DisclosureRefusalReason::Revoked)
        );
        assert_eq!(
            revoked.decide(&command(approve("approver-b", now, None))),
            Err(LegalError::NotFiled("revoked"))
        );
        assert_eq!(
            revoked.decide(&command(revoke)),
            Err(LegalError::NotApproved("revoked"))
        );
        let deny = Action::Deny {
            approver: "approver-b".into(),
            now,
            reason: "no basis".into(),
        };
        let denied = decided(filed(now), deny);
        assert_eq!(
            refusal(&denied, disclose("officer-a", true, now)),
            Some(DisclosureRefusalReason::Denied)
        );
    }

    #[test]
    fn disclosures_count_into_the_request() {
        let now = Utc::now();
        let approved = decided(filed(now), approve("approver-b", now, Some(1)));
        let twice = decided(
            decided(approved, disclose("officer-a", true, now)),
            disclose("officer-a", true, now),
        );
        assert_eq!(twice.request.unwrap().disclosed_record_count, 4);
    }
}
