//! Art. 7(2) proviso: legal requests for raw device records, accountable.
//!
//! A legal officer files a request within the scope ceilings; it needs
//! `approvals_required` distinct approvers, told apart by personnel id,
//! none of them the filer under any subject (two-person rule). Every
//! approver's terms bound what they authorize: the request is authorized
//! until the earliest expiry, for at most the lowest disclosure limit, the
//! persons in scope told after the shortest deferral, each term within its
//! ceiling. An approver may deny a pending request or revoke an approved
//! one. Disclosure goes only to the named officer (subject and personnel
//! id), only while approved and unexpired, never beyond the limit in total,
//! and every attempt by a legal officer, granted or refused, becomes an
//! event; callers of other roles are turned away before (at the edge).
//!
//! Pure: every instant and ceiling is an input. [`LegalCase`] is the
//! aggregate of one request's stream; its state is the contract's
//! `LegalRequest` message without the envelope facts (who decided, when),
//! which [`annotate`] adds for the views.
//!
//! Events stored before Step 9 stay readable: a filing without a personnel
//! id or a required count needed one approval and is compared by subject
//! only; an approval without a personnel id counts as one approval and
//! limits nothing beyond the configured ceiling
//! ([`Ceilings::max_disclosure_limit`]).

use chrono::{DateTime, Duration, Utc};
use hellowork_eventstore::Aggregate;
use hellowork_proto::auditlog::v1::{
    self as proto, DisclosureRefusalReason, LegalApproval, LegalRequest, LegalRequestState,
};

use super::{
    event::Event,
    time::{timestamp, to_datetime},
};

/// Default of [`Ceilings::approvals_required`].
pub const DEFAULT_APPROVALS_REQUIRED: u32 = 1;
/// Default of [`Ceilings::max_validity`], in days.
pub const DEFAULT_MAX_VALIDITY_DAYS: i64 = 30;
/// Default of [`Ceilings::max_scope_entries`].
pub const DEFAULT_MAX_SCOPE_ENTRIES: u32 = 10;
/// Default of [`Ceilings::max_scope_span`], in days: a year, leap or not.
pub const DEFAULT_MAX_SCOPE_SPAN_DAYS: i64 = 366;
/// Default of [`Ceilings::max_disclosure_limit`], in records.
pub const DEFAULT_MAX_DISCLOSURE_LIMIT: u64 = 1000;
/// Default of [`Ceilings::max_deferral`], in days.
pub const DEFAULT_MAX_DEFERRAL_DAYS: i64 = 180;

/// Art. 7(2): how far a legal request and its approvals may reach, from
/// the settings (`HELLOWORK_AUDITLOG_*`, validated at start-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ceilings {
    /// Distinct approvers a request filed now needs; at least 1.
    pub approvals_required: u32,
    /// Latest expiry an approval may set, after the approval.
    pub max_validity: Duration,
    /// Most persons and device pseudonyms, together, in a scope.
    pub max_scope_entries: u32,
    /// Longest time range of a scope.
    pub max_scope_span: Duration,
    /// Highest disclosure limit an approval may set, and the limit of
    /// requests approved before limits existed.
    pub max_disclosure_limit: u64,
    /// Longest notification deferral an approval may set.
    pub max_deferral: Duration,
}

impl Default for Ceilings {
    fn default() -> Self {
        Self {
            approvals_required: DEFAULT_APPROVALS_REQUIRED,
            max_validity: Duration::days(DEFAULT_MAX_VALIDITY_DAYS),
            max_scope_entries: DEFAULT_MAX_SCOPE_ENTRIES,
            max_scope_span: Duration::days(DEFAULT_MAX_SCOPE_SPAN_DAYS),
            max_disclosure_limit: DEFAULT_MAX_DISCLOSURE_LIMIT,
            max_deferral: Duration::days(DEFAULT_MAX_DEFERRAL_DAYS),
        }
    }
}

/// A duration as a ceiling is told: whole days, hours or seconds.
pub fn describe_span(span: Duration) -> String {
    let seconds = span.num_seconds();
    if seconds % 86_400 == 0 {
        format!("{} days", seconds / 86_400)
    } else if seconds % 3_600 == 0 {
        format!("{} hours", seconds / 3_600)
    } else {
        format!("{seconds} seconds")
    }
}

/// Who acts: the token's subject and, for staff, the personnel id of the
/// person behind it. Two subjects with one personnel id are one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub subject: String,
    pub personnel_id: Option<String>,
}

impl Actor {
    pub fn new(subject: impl Into<String>, personnel_id: Option<&str>) -> Self {
        Self {
            subject: subject.into(),
            personnel_id: personnel_id.map(str::to_owned),
        }
    }
}

/// One approver's terms, parsed at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Terms {
    /// `None`: the earlier of the requested expiry and the ceiling.
    pub expires_at: Option<DateTime<Utc>>,
    /// 0: the ceiling.
    pub disclosure_limit: u64,
    /// `None` or zero: the persons in scope are not kept waiting.
    pub deferral: Option<Duration>,
    /// Why, when deferred.
    pub deferral_reason: String,
    pub note: String,
}

/// Why a command on a legal request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegalError {
    /// Art. 7(2): the two-person rule; by subject, and by personnel id.
    #[error("Art. 7(2): the filer of a legal request can never decide it (two-person rule)")]
    OwnRequest,
    /// Art. 7(2): a person is told apart by personnel id; without one, they
    /// may neither file nor approve.
    #[error(
        "Art. 7(2): the caller's token names no personnel id, so the two-person rule \
         cannot tell them apart"
    )]
    NoPersonnelId,
    /// Art. 7(2): each approver counts once, whatever subject they use.
    #[error("Art. 7(2): this person has already approved the legal request")]
    AlreadyApproved,
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
    /// Art. 7(2): a term or the scope reaches beyond its configured ceiling.
    #[error("Art. 7(2): {field} is over its ceiling of {ceiling}")]
    OverCeiling {
        field: &'static str,
        ceiling: String,
    },
    /// Art. 7(2): an earlier approver's expiry has passed; the request can
    /// no longer be authorized and must be filed again.
    #[error("Art. 7(2): an earlier approval of the legal request has expired")]
    ApprovalLapsed,
    #[error("no such legal request")]
    Unknown,
    /// A request id is filed once; only its filer may repeat the filing.
    #[error("the legal request id is already filed by another officer")]
    FiledByAnother,
}

impl LegalError {
    /// Whether the refusal is about who the caller is (PERMISSION_DENIED)
    /// rather than what they asked (FAILED_PRECONDITION or INVALID_ARGUMENT).
    pub fn is_about_caller(&self) -> bool {
        matches!(
            self,
            Self::OwnRequest | Self::NoPersonnelId | Self::AlreadyApproved
        )
    }
}

/// Art. 7(2): why a disclosure attempt is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownRequest,
    NotNamedOfficer,
    NotApproved,
    Denied,
    Expired,
    Revoked,
    LimitReached,
}

impl Refusal {
    /// Whether the refusal is about the caller (PERMISSION_DENIED) rather
    /// than the request's state (FAILED_PRECONDITION).
    pub fn is_about_caller(self) -> bool {
        self == Self::NotNamedOfficer
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::UnknownRequest => "no such legal request",
            Self::NotNamedOfficer => {
                "only the legal officer named on the request may receive its records"
            }
            Self::NotApproved => "the legal request is not approved",
            Self::Denied => "the legal request was denied",
            Self::Expired => "the approval of the legal request has expired",
            Self::Revoked => "the approval of the legal request was revoked",
            Self::LimitReached => "the disclosure limit of the legal request is reached",
        }
    }

    /// The contract's name for it, recorded in the refusal event.
    pub fn reason(self) -> DisclosureRefusalReason {
        match self {
            Self::UnknownRequest => DisclosureRefusalReason::UnknownRequest,
            Self::NotNamedOfficer => DisclosureRefusalReason::NotNamedOfficer,
            Self::NotApproved => DisclosureRefusalReason::NotApproved,
            Self::Denied => DisclosureRefusalReason::Denied,
            Self::Expired => DisclosureRefusalReason::Expired,
            Self::Revoked => DisclosureRefusalReason::Revoked,
            Self::LimitReached => DisclosureRefusalReason::LimitReached,
        }
    }

    /// The refusal a recorded reason names; `None` for reasons this service
    /// no longer records (a wrong role is turned away before anything is
    /// written).
    pub fn of(reason: DisclosureRefusalReason) -> Option<Self> {
        use DisclosureRefusalReason as R;
        Some(match reason {
            R::UnknownRequest => Self::UnknownRequest,
            R::NotNamedOfficer => Self::NotNamedOfficer,
            R::NotApproved => Self::NotApproved,
            R::Denied => Self::Denied,
            R::Expired => Self::Expired,
            R::Revoked => Self::Revoked,
            R::LimitReached => Self::LimitReached,
            R::RoleNotAllowed | R::Unspecified => return None,
        })
    }
}

/// A command on the legal request `legal_request_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub legal_request_id: String,
    pub action: Action,
}

/// What a command does; every instant, actor and ceiling is an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Art. 7(2): file `filing` (validated at the edge; the filer's fields
    /// and the approvals required are set here) as `filer`.
    File {
        filer: Actor,
        filing: proto::LegalRequestFiled,
        ceilings: Ceilings,
    },
    /// Art. 7(2): one approval on `terms`.
    Approve {
        approver: Actor,
        now: DateTime<Utc>,
        terms: Terms,
        ceilings: Ceilings,
    },
    Deny {
        approver: Actor,
        now: DateTime<Utc>,
        reason: String,
    },
    Revoke {
        approver: Actor,
        now: DateTime<Utc>,
        reason: String,
    },
    /// Art. 7(2) proviso: an attempt by a legal officer to receive the
    /// records at `record_sequences` (in log order); records the disclosure
    /// of as many as the limit leaves if authorized, the refusal otherwise.
    Disclose {
        officer: Actor,
        now: DateTime<Utc>,
        record_sequences: Vec<u64>,
        ceilings: Ceilings,
    },
}

/// One legal request's stream folded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LegalCase {
    /// `None` until filed.
    pub request: Option<LegalRequest>,
    /// The filer's personnel id; empty for requests filed before Step 9.
    pub filer_personnel_id: String,
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

/// The request as shown at `now` under `ceilings`: [`at`], and the limit
/// of a request approved before limits existed is the configured ceiling.
pub fn shown(request: LegalRequest, now: DateTime<Utc>, ceilings: &Ceilings) -> LegalRequest {
    let mut request = at(request, now);
    if authorized_by_all(&request) && request.disclosure_limit == 0 {
        request.disclosure_limit = ceilings.max_disclosure_limit;
    }
    request
}

/// Approvals a request needs: those recorded at filing, one for a request
/// filed before Step 9 (none recorded).
fn required(request: &LegalRequest) -> usize {
    request.approvals_required.max(1) as usize
}

/// Whether every approval the request needs is in.
fn authorized_by_all(request: &LegalRequest) -> bool {
    request.approvals.len() >= required(request)
}

/// The most records the request may disclose in total.
fn limit(request: &LegalRequest, ceilings: &Ceilings) -> u64 {
    match request.disclosure_limit {
        0 => ceilings.max_disclosure_limit,
        limit => limit,
    }
}

fn deferral_of(approval: &LegalApproval) -> Duration {
    approval
        .notification_deferral
        .as_ref()
        .map_or(Duration::zero(), |d| {
            Duration::seconds(d.seconds) + Duration::nanoseconds(i64::from(d.nanos))
        })
}

fn over(field: &'static str, ceiling: String) -> LegalError {
    LegalError::OverCeiling { field, ceiling }
}

/// Art. 7(2): a scope within the ceilings. Its shape (a range with start
/// before end, at least one person or pseudonym) is checked at the edge.
fn scope_within(
    scope: Option<&proto::LegalRequestScope>,
    ceilings: &Ceilings,
) -> Result<(), LegalError> {
    let Some(scope) = scope else {
        return Ok(());
    };
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
    let range = scope.time_range.as_ref();
    if let (Some(start), Some(end)) = (
        to_datetime(range.and_then(|r| r.start_time.as_ref())),
        to_datetime(range.and_then(|r| r.end_time.as_ref())),
    ) && end - start > ceilings.max_scope_span
    {
        return Err(over(
            "scope.time_range",
            describe_span(ceilings.max_scope_span),
        ));
    }
    Ok(())
}

impl LegalCase {
    fn filed(&self) -> Result<&LegalRequest, LegalError> {
        self.request.as_ref().ok_or(LegalError::Unknown)
    }

    /// Whether `actor` is the filer: the same subject, or the same person
    /// under another subject.
    fn is_filer(&self, request: &LegalRequest, actor: &Actor) -> bool {
        request.filed_by == actor.subject
            || (!self.filer_personnel_id.is_empty()
                && actor.personnel_id.as_deref() == Some(self.filer_personnel_id.as_str()))
    }

    /// Art. 7(2): the two-person rule, and only a pending request is decided.
    fn decidable(&self, approver: &Actor, now: DateTime<Utc>) -> Result<&LegalRequest, LegalError> {
        let request = self.filed()?;
        if self.is_filer(request, approver) {
            return Err(LegalError::OwnRequest);
        }
        match state_at(request, now) {
            LegalRequestState::Filed => Ok(request),
            other => Err(LegalError::NotFiled(name(other))),
        }
    }

    fn file(
        &self,
        filer: &Actor,
        filing: &proto::LegalRequestFiled,
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
        scope_within(filing.scope.as_ref(), ceilings)?;
        Ok(vec![Event::LegalRequestFiled(proto::LegalRequestFiled {
            filed_by: filer.subject.clone(),
            filed_by_personnel_id: personnel_id,
            approvals_required: ceilings.approvals_required.max(1),
            ..filing.clone()
        })])
    }

    fn approve(
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
        let earlier = request
            .approvals
            .iter()
            .filter_map(|a| to_datetime(a.expires_at.as_ref()))
            .min();
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
                legal_request_id: request.legal_request_id.clone(),
                expires_at: Some(timestamp(expires_at)),
                note: terms.note.clone(),
                approver: approver.subject.clone(),
                approver_personnel_id: personnel_id.to_owned(),
                approved_at: Some(timestamp(now)),
                disclosure_limit,
                notification_deferral: deferral.map(|d| prost_types::Duration {
                    seconds: d.num_seconds(),
                    nanos: d.subsec_nanos(),
                }),
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
        let same_person = self.filer_personnel_id.is_empty()
            || officer.personnel_id.as_deref() == Some(self.filer_personnel_id.as_str());
        if request.filed_by != officer.subject || !same_person {
            return Err(Refusal::NotNamedOfficer);
        }
        match state_at(request, now) {
            LegalRequestState::Approved => {}
            LegalRequestState::Denied => return Err(Refusal::Denied),
            LegalRequestState::Expired => return Err(Refusal::Expired),
            LegalRequestState::Revoked => return Err(Refusal::Revoked),
            LegalRequestState::Filed | LegalRequestState::Unspecified => {
                return Err(Refusal::NotApproved);
            }
        }
        match limit(request, ceilings).saturating_sub(request.disclosed_record_count) {
            0 => Err(Refusal::LimitReached),
            left => Ok(left),
        }
    }

    fn disclose(
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
    let requested = to_datetime(request.requested_expires_at.as_ref());
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

/// Art. 7(2): once every approval is in, the request is authorized on the
/// narrowest terms among them.
fn authorize(request: &mut LegalRequest) {
    let approvals = &request.approvals;
    let expires_at = approvals
        .iter()
        .filter_map(|a| a.expires_at.as_ref())
        .min_by_key(|at| (at.seconds, at.nanos))
        .copied();
    let disclosure_limit = approvals
        .iter()
        .map(|a| a.disclosure_limit)
        .filter(|limit| *limit > 0)
        .min()
        .unwrap_or(0);
    let shortest = approvals.iter().min_by_key(|a| deferral_of(a));
    let deferral = shortest.map_or(Duration::zero(), deferral_of);
    let deferral_reason = match shortest {
        Some(approval) if deferral > Duration::zero() => approval.deferral_reason.clone(),
        _ => String::new(),
    };
    let last = approvals.last();
    let notify_subjects_after = last
        .and_then(|a| to_datetime(a.approved_at.as_ref()))
        .map(|at| timestamp(at + deferral));
    let note = last.map(|a| a.note.clone()).unwrap_or_default();
    request.set_state(LegalRequestState::Approved);
    request.expires_at = expires_at;
    request.disclosure_limit = disclosure_limit;
    request.notify_subjects_after = notify_subjects_after;
    request.deferral_reason = deferral_reason;
    request.decision_note = note;
    request.authorized_legal_request = true;
}

impl Aggregate for LegalCase {
    type Command = Command;
    type Event = Event;
    type Error = LegalError;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, LegalError> {
        let id = &command.legal_request_id;
        match &command.action {
            Action::File {
                filer,
                filing,
                ceilings,
            } => self.file(filer, filing, ceilings),
            Action::Approve {
                approver,
                now,
                terms,
                ceilings,
            } => self.approve(approver, *now, terms, ceilings),
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
                officer,
                now,
                record_sequences,
                ceilings,
            } => Ok(self.disclose(officer, *now, record_sequences, ceilings, id.clone())),
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
                    // Filed before Step 9: one approval was needed.
                    approvals_required: filed.approvals_required.max(1),
                    ..LegalRequest::default()
                };
                request.set_state(LegalRequestState::Filed);
                self.request = Some(request);
                self.filer_personnel_id = filed.filed_by_personnel_id.clone();
            }
            (Event::LegalRequestApproved(approved), Some(request)) => {
                // Stored before Step 9, an approval has no personnel id, no
                // limit and no deferral: one approval, limited by the ceiling.
                request.approvals.push(LegalApproval {
                    approver: approved.approver.clone(),
                    personnel_id: approved.approver_personnel_id.clone(),
                    approved_at: approved.approved_at,
                    note: approved.note.clone(),
                    expires_at: approved.expires_at,
                    disclosure_limit: approved.disclosure_limit,
                    notification_deferral: approved.notification_deferral,
                    deferral_reason: approved.deferral_reason.clone(),
                });
                if authorized_by_all(request) {
                    authorize(request);
                }
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
/// views show and the decisions do not need. Call it right after applying
/// `event`: an approval's facts go to the approval last applied.
pub fn annotate(request: &mut LegalRequest, event: &Event, actor: &str, at: DateTime<Utc>) {
    let when = Some(timestamp(at));
    match event {
        Event::LegalRequestFiled(_) => request.filed_at = when,
        Event::LegalRequestApproved(_) => {
            // An approval stored before Step 9 names neither its approver
            // nor its time: the envelope's.
            if let Some(approval) = request.approvals.last_mut() {
                if approval.approver.is_empty() {
                    approval.approver = actor.to_owned();
                }
                if approval.approved_at.is_none() {
                    approval.approved_at = when;
                }
            }
            // The approval that completed the request decided it.
            if request.state() == LegalRequestState::Approved && request.decided_at.is_none() {
                request.decided_by = actor.to_owned();
                request.decided_at = when;
                if request.notify_subjects_after.is_none() {
                    request.notify_subjects_after = when;
                }
            }
        }
        Event::LegalRequestDenied(_) => {
            request.decided_by = actor.to_owned();
            request.decided_at = when;
        }
        Event::LegalRequestRevoked(_) => {
            request.revoked_by = actor.to_owned();
            request.revoked_at = when;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use hellowork_eventstore::DomainEvent;
    use prost::Message;

    use super::*;

    const ID: &str = "0190c0de-0000-7000-8000-000000000001";

    fn command(action: Action) -> Command {
        Command {
            legal_request_id: ID.into(),
            action,
        }
    }

    fn officer() -> Actor {
        Actor::new("officer-a", Some("P-100"))
    }

    fn approver(subject: &str, personnel_id: &str) -> Actor {
        Actor::new(subject, Some(personnel_id))
    }

    fn ceilings(required: u32) -> Ceilings {
        Ceilings {
            approvals_required: required,
            ..Ceilings::default()
        }
    }

    fn filing(now: DateTime<Utc>) -> proto::LegalRequestFiled {
        proto::LegalRequestFiled {
            legal_request_id: ID.into(),
            scope: Some(proto::LegalRequestScope {
                job_seeker_ids: vec!["js-1".into()],
                device_pseudonyms: vec![],
                time_range: Some(proto::TimeRange {
                    start_time: Some(timestamp(now - Duration::days(2))),
                    end_time: Some(timestamp(now)),
                }),
            }),
            requested_expires_at: Some(timestamp(now + Duration::days(7))),
            ..Default::default()
        }
    }

    fn file(now: DateTime<Utc>, required: u32) -> Action {
        Action::File {
            filer: officer(),
            filing: filing(now),
            ceilings: ceilings(required),
        }
    }

    fn filed_needing(now: DateTime<Utc>, required: u32) -> LegalCase {
        decided(LegalCase::default(), file(now, required))
    }

    fn filed(now: DateTime<Utc>) -> LegalCase {
        filed_needing(now, 1)
    }

    fn decided(case: LegalCase, action: Action) -> LegalCase {
        let events = case.decide(&command(action)).expect("allowed");
        events.iter().fold(case, |case, event| case.apply(event))
    }

    fn approve_on(who: Actor, now: DateTime<Utc>, terms: Terms) -> Action {
        Action::Approve {
            approver: who,
            now,
            terms,
            ceilings: Ceilings::default(),
        }
    }

    fn approve(who: Actor, now: DateTime<Utc>, days: Option<i64>) -> Action {
        approve_on(
            who,
            now,
            Terms {
                expires_at: days.map(|d| now + Duration::days(d)),
                ..Terms::default()
            },
        )
    }

    fn disclose_as(who: Actor, now: DateTime<Utc>, sequences: Vec<u64>) -> Action {
        Action::Disclose {
            officer: who,
            now,
            record_sequences: sequences,
            ceilings: Ceilings::default(),
        }
    }

    fn disclose(who: Actor, now: DateTime<Utc>) -> Action {
        disclose_as(who, now, vec![4, 9])
    }

    /// The refusal a disclosure attempt records, if any.
    fn refusal(case: &LegalCase, action: Action) -> Option<DisclosureRefusalReason> {
        match case.decide(&command(action)).unwrap().as_slice() {
            [Event::DeviceRecordsDisclosed(_)] => None,
            [Event::DeviceDisclosureRefused(r)] => Some(r.reason()),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn over_ceiling(field: &'static str) -> impl Fn(&Result<Vec<Event>, LegalError>) -> bool {
        move |result| matches!(result, Err(LegalError::OverCeiling { field: f, .. }) if *f == field)
    }

    #[test]
    fn art_7_2_a_filing_records_its_filer_and_the_approvals_it_needs() {
        let now = Utc::now();
        let events = LegalCase::default().decide(&command(file(now, 3))).unwrap();
        let [Event::LegalRequestFiled(filed)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!(filed.filed_by, "officer-a");
        assert_eq!(filed.filed_by_personnel_id, "P-100");
        assert_eq!(filed.approvals_required, 3);
        let request = filed_needing(now, 3).request.unwrap();
        assert_eq!(request.approvals_required, 3);
        assert_eq!(request.state(), LegalRequestState::Filed);
    }

    #[test]
    fn art_7_2_an_officer_without_a_personnel_id_cannot_file() {
        let now = Utc::now();
        let action = Action::File {
            filer: Actor::new("officer-a", None),
            filing: filing(now),
            ceilings: Ceilings::default(),
        };
        assert_eq!(
            LegalCase::default().decide(&command(action)),
            Err(LegalError::NoPersonnelId)
        );
    }

    #[test]
    fn art_7_2_a_scope_over_its_ceilings_is_refused_at_filing() {
        let now = Utc::now();
        let tight = Ceilings {
            max_scope_entries: 2,
            max_scope_span: Duration::days(1),
            ..Ceilings::default()
        };
        let mut wide = filing(now);
        let scope = wide.scope.as_mut().unwrap();
        scope.job_seeker_ids = vec!["a".into(), "b".into()];
        scope.device_pseudonyms = vec![proto::DevicePseudonym::default()];
        scope.time_range = Some(proto::TimeRange {
            start_time: Some(timestamp(now - Duration::hours(1))),
            end_time: Some(timestamp(now)),
        });
        let result = LegalCase::default().decide(&command(Action::File {
            filer: officer(),
            filing: wide.clone(),
            ceilings: tight,
        }));
        assert!(over_ceiling("scope")(&result), "{result:?}");
        // Two entries over more than a day: the span is over.
        wide.scope.as_mut().unwrap().device_pseudonyms.clear();
        let mut long = wide.clone();
        long.scope.as_mut().unwrap().time_range = Some(proto::TimeRange {
            start_time: Some(timestamp(now - Duration::days(1) - Duration::seconds(1))),
            end_time: Some(timestamp(now)),
        });
        let result = LegalCase::default().decide(&command(Action::File {
            filer: officer(),
            filing: long,
            ceilings: tight,
        }));
        assert!(over_ceiling("scope.time_range")(&result), "{result:?}");
        // At the ceilings exactly: filed.
        let mut exact = wide;
        exact.scope.as_mut().unwrap().time_range = Some(proto::TimeRange {
            start_time: Some(timestamp(now - Duration::days(1))),
            end_time: Some(timestamp(now)),
        });
        let events = LegalCase::default()
            .decide(&command(Action::File {
                filer: officer(),
                filing: exact,
                ceilings: tight,
            }))
            .unwrap();
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn a_repeated_filing_changes_nothing_and_another_officer_cannot_take_the_id() {
        let now = Utc::now();
        let case = filed(now);
        assert_eq!(case.decide(&command(file(now, 1))), Ok(vec![]));
        let other = Action::File {
            filer: Actor::new("officer-z", Some("P-900")),
            filing: filing(now),
            ceilings: Ceilings::default(),
        };
        assert_eq!(
            case.decide(&command(other)),
            Err(LegalError::FiledByAnother)
        );
        assert_eq!(
            LegalCase::default().decide(&command(approve(
                approver("approver-b", "P-200"),
                now,
                None
            ))),
            Err(LegalError::Unknown)
        );
    }

    #[test]
    fn art_7_2_the_filer_can_never_decide_their_own_request_under_any_subject() {
        let now = Utc::now();
        let case = filed(now);
        for filer in [
            Actor::new("officer-a", None),
            Actor::new("officer-a", Some("P-100")),
            // The same person with another token.
            Actor::new("officer-a-approver", Some("P-100")),
        ] {
            assert_eq!(
                case.decide(&command(approve(filer.clone(), now, None))),
                Err(LegalError::OwnRequest),
                "{filer:?}"
            );
            let deny = Action::Deny {
                approver: filer,
                now,
                reason: "no".into(),
            };
            assert_eq!(case.decide(&command(deny)), Err(LegalError::OwnRequest));
        }
    }

    #[test]
    fn art_7_2_an_approver_without_a_personnel_id_cannot_approve() {
        let now = Utc::now();
        assert_eq!(
            filed(now).decide(&command(approve(Actor::new("approver-b", None), now, None))),
            Err(LegalError::NoPersonnelId)
        );
    }

    #[test]
    fn art_7_2_n_distinct_approvers_are_needed_and_one_person_counts_once() {
        let now = Utc::now();
        let case = filed_needing(now, 2);
        let once = decided(case, approve(approver("approver-b", "P-200"), now, None));
        let pending = once.request.clone().unwrap();
        assert_eq!(pending.state(), LegalRequestState::Filed);
        assert!(!pending.authorized_legal_request);
        assert_eq!(pending.approvals.len(), 1);
        assert_eq!(pending.approvals[0].personnel_id, "P-200");
        assert_eq!(pending.expires_at, None);
        // N-1 approvals disclose nothing.
        assert_eq!(
            refusal(&once, disclose(officer(), now)),
            Some(DisclosureRefusalReason::NotApproved)
        );
        // The same person again, under the same or another subject.
        for again in [
            approver("approver-b", "P-200"),
            approver("approver-b-2", "P-200"),
            approver("approver-b", "P-201"),
        ] {
            assert_eq!(
                once.decide(&command(approve(again.clone(), now, None))),
                Err(LegalError::AlreadyApproved),
                "{again:?}"
            );
        }
        let twice = decided(once, approve(approver("approver-c", "P-300"), now, None));
        let request = twice.request.clone().unwrap();
        assert_eq!(request.state(), LegalRequestState::Approved);
        assert!(request.authorized_legal_request);
        assert_eq!(request.approvals.len(), 2);
        assert_eq!(refusal(&twice, disclose(officer(), now)), None);
        // Approved: no third approval.
        assert_eq!(
            twice.decide(&command(approve(
                approver("approver-d", "P-400"),
                now,
                None
            ))),
            Err(LegalError::NotFiled("approved"))
        );
    }

    #[test]
    fn art_7_2_every_approvers_terms_bound_the_authorization() {
        let now = Utc::now();
        let later = now + Duration::hours(1);
        let first = approve_on(
            approver("approver-b", "P-200"),
            now,
            Terms {
                expires_at: Some(now + Duration::days(2)),
                disclosure_limit: 50,
                deferral: Some(Duration::days(30)),
                deferral_reason: "the suspect would be warned".into(),
                note: "first".into(),
            },
        );
        let second = approve_on(
            approver("approver-c", "P-300"),
            later,
            Terms {
                expires_at: Some(now + Duration::days(5)),
                disclosure_limit: 20,
                deferral: Some(Duration::days(60)),
                deferral_reason: "longer".into(),
                note: "second".into(),
            },
        );
        let case = decided(decided(filed_needing(now, 2), first), second);
        let request = case.request.unwrap();
        assert_eq!(request.expires_at, Some(timestamp(now + Duration::days(2))));
        assert_eq!(request.disclosure_limit, 20);
        assert_eq!(request.deferral_reason, "the suspect would be warned");
        assert_eq!(
            request.notify_subjects_after,
            Some(timestamp(later + Duration::days(30)))
        );
        assert_eq!(request.decision_note, "second");
        // An approver who defers nothing: the persons are told at once.
        let third = approve_on(approver("approver-c", "P-300"), later, Terms::default());
        let first = approve_on(
            approver("approver-b", "P-200"),
            now,
            Terms {
                deferral: Some(Duration::days(30)),
                deferral_reason: "x".into(),
                ..Terms::default()
            },
        );
        let request = decided(decided(filed_needing(now, 2), first), third)
            .request
            .unwrap();
        assert_eq!(request.notify_subjects_after, Some(timestamp(later)));
        assert_eq!(request.deferral_reason, "");
        // Unset limits are the ceiling; unset expiry the requested one (7
        // days, under the 30-day ceiling).
        assert_eq!(request.disclosure_limit, DEFAULT_MAX_DISCLOSURE_LIMIT);
        assert_eq!(request.expires_at, request.requested_expires_at);
    }

    #[test]
    fn art_7_2_approval_terms_over_their_ceilings_are_refused() {
        let now = Utc::now();
        let tight = Ceilings {
            max_validity: Duration::days(3),
            max_disclosure_limit: 10,
            max_deferral: Duration::days(5),
            ..Ceilings::default()
        };
        let case = filed(now);
        let with = |terms: Terms| Action::Approve {
            approver: approver("approver-b", "P-200"),
            now,
            terms,
            ceilings: tight,
        };
        for (terms, field) in [
            (
                Terms {
                    expires_at: Some(now + Duration::days(4)),
                    ..Terms::default()
                },
                "expires_at",
            ),
            (
                Terms {
                    disclosure_limit: 11,
                    ..Terms::default()
                },
                "disclosure_limit",
            ),
            (
                Terms {
                    deferral: Some(Duration::days(5) + Duration::seconds(1)),
                    deferral_reason: "x".into(),
                    ..Terms::default()
                },
                "notification_deferral",
            ),
        ] {
            let result = case.decide(&command(with(terms)));
            assert!(over_ceiling(field)(&result), "{field}: {result:?}");
        }
        // Unset: the requested 7 days are cut to the 3-day ceiling, the
        // limit is the ceiling.
        let request = decided(case.clone(), with(Terms::default()))
            .request
            .unwrap();
        assert_eq!(request.expires_at, Some(timestamp(now + Duration::days(3))));
        assert_eq!(request.disclosure_limit, 10);
        // At the ceilings exactly: approved.
        let exact = Terms {
            expires_at: Some(now + Duration::days(3)),
            disclosure_limit: 10,
            deferral: Some(Duration::days(5)),
            deferral_reason: "x".into(),
            note: String::new(),
        };
        assert!(case.decide(&command(with(exact))).is_ok());
    }

    #[test]
    fn art_7_2_approval_may_not_outlast_the_requested_expiry() {
        let now = Utc::now();
        let b = || approver("approver-b", "P-200");
        assert_eq!(
            filed(now).decide(&command(approve(b(), now, Some(8)))),
            Err(LegalError::ExpiryTooLate)
        );
        let past = approve_on(
            b(),
            now,
            Terms {
                expires_at: Some(now - Duration::minutes(1)),
                ..Terms::default()
            },
        );
        assert_eq!(
            filed(now).decide(&command(past)),
            Err(LegalError::ExpiryPassed)
        );
        let approved = decided(filed(now), approve(b(), now, None));
        let request = approved.request.unwrap();
        assert_eq!(request.expires_at, request.requested_expires_at);
    }

    #[test]
    fn art_7_2_an_earlier_approval_that_expired_cannot_be_completed() {
        let now = Utc::now();
        let once = decided(
            filed_needing(now, 2),
            approve_on(
                approver("approver-b", "P-200"),
                now,
                Terms {
                    expires_at: Some(now + Duration::hours(1)),
                    ..Terms::default()
                },
            ),
        );
        let later = now + Duration::hours(2);
        assert_eq!(
            once.decide(&command(approve(
                approver("approver-c", "P-300"),
                later,
                None
            ))),
            Err(LegalError::ApprovalLapsed)
        );
    }

    #[test]
    fn art_7_2_disclosure_only_to_the_named_officer_while_approved_and_unexpired() {
        let now = Utc::now();
        let case = filed(now);
        assert_eq!(
            refusal(&case, disclose(officer(), now)),
            Some(DisclosureRefusalReason::NotApproved)
        );
        let approved = decided(case, approve(approver("approver-b", "P-200"), now, Some(1)));
        assert_eq!(refusal(&approved, disclose(officer(), now)), None);
        for other in [
            Actor::new("officer-c", Some("P-100")),
            Actor::new("officer-a", Some("P-999")),
            Actor::new("officer-a", None),
        ] {
            assert_eq!(
                refusal(&approved, disclose(other.clone(), now)),
                Some(DisclosureRefusalReason::NotNamedOfficer),
                "{other:?}"
            );
        }
        let later = now + Duration::days(2);
        assert_eq!(
            state_at(approved.request.as_ref().unwrap(), later),
            LegalRequestState::Expired
        );
        assert_eq!(
            refusal(&approved, disclose(officer(), later)),
            Some(DisclosureRefusalReason::Expired)
        );
        assert_eq!(
            refusal(&LegalCase::default(), disclose(officer(), now)),
            Some(DisclosureRefusalReason::UnknownRequest)
        );
    }

    #[test]
    fn art_7_2_revocation_ends_the_authorization_and_denial_never_grants_it() {
        let now = Utc::now();
        let b = || approver("approver-b", "P-200");
        let approved = decided(filed(now), approve(b(), now, Some(1)));
        let revoke = Action::Revoke {
            approver: b(),
            now,
            reason: "case closed".into(),
        };
        let revoked = decided(approved, revoke.clone());
        assert_eq!(
            refusal(&revoked, disclose(officer(), now)),
            Some(DisclosureRefusalReason::Revoked)
        );
        assert_eq!(
            revoked.decide(&command(approve(
                approver("approver-c", "P-300"),
                now,
                None
            ))),
            Err(LegalError::NotFiled("revoked"))
        );
        assert_eq!(
            revoked.decide(&command(revoke)),
            Err(LegalError::NotApproved("revoked"))
        );
        let deny = Action::Deny {
            approver: b(),
            now,
            reason: "no basis".into(),
        };
        let denied = decided(filed(now), deny);
        assert_eq!(
            refusal(&denied, disclose(officer(), now)),
            Some(DisclosureRefusalReason::Denied)
        );
    }

    #[test]
    fn art_7_2_disclosures_never_exceed_the_limit_in_total() {
        let now = Utc::now();
        let approved = decided(
            filed(now),
            approve_on(
                approver("approver-b", "P-200"),
                now,
                Terms {
                    disclosure_limit: 3,
                    ..Terms::default()
                },
            ),
        );
        let first = decided(approved, disclose(officer(), now));
        assert_eq!(first.request.as_ref().unwrap().disclosed_record_count, 2);
        // The next page of two is cut to the one record left.
        let events = first
            .decide(&command(disclose_as(officer(), now, vec![11, 12])))
            .unwrap();
        let [Event::DeviceRecordsDisclosed(cut)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!(
            (cut.record_count, cut.record_sequences.clone()),
            (1, vec![11])
        );
        let full = events.iter().fold(first, |case, e| case.apply(e));
        assert_eq!(full.request.as_ref().unwrap().disclosed_record_count, 3);
        assert_eq!(
            full.authorize_disclosure(&officer(), now, &Ceilings::default()),
            Err(Refusal::LimitReached)
        );
        assert_eq!(
            refusal(&full, disclose(officer(), now)),
            Some(DisclosureRefusalReason::LimitReached)
        );
    }

    /// `LegalRequestFiled` and `LegalRequestApproved` as the service stored
    /// them before Step 9 (their fields then, nothing else).
    #[derive(Clone, PartialEq, prost::Message)]
    struct FiledBeforeStep9 {
        #[prost(string, tag = "1")]
        legal_request_id: String,
        #[prost(message, optional, tag = "8")]
        requested_expires_at: Option<prost_types::Timestamp>,
        #[prost(string, tag = "9")]
        filed_by: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    struct ApprovedBeforeStep9 {
        #[prost(string, tag = "1")]
        legal_request_id: String,
        #[prost(message, optional, tag = "2")]
        expires_at: Option<prost_types::Timestamp>,
        #[prost(string, tag = "3")]
        note: String,
    }

    #[test]
    fn events_stored_before_step_9_load_as_one_approval_of_a_request_that_needed_one() {
        let now = Utc::now();
        let filed = FiledBeforeStep9 {
            legal_request_id: ID.into(),
            requested_expires_at: Some(timestamp(now + Duration::days(7))),
            filed_by: "officer-a".into(),
        };
        let approved = ApprovedBeforeStep9 {
            legal_request_id: ID.into(),
            expires_at: Some(timestamp(now + Duration::days(5))),
            note: "granted".into(),
        };
        let events = [
            Event::decode("LegalRequestFiled", &filed.encode_to_vec()).unwrap(),
            Event::decode("LegalRequestApproved", &approved.encode_to_vec()).unwrap(),
        ];
        let mut case = LegalCase::default();
        for (event, actor) in events.iter().zip(["officer-a", "approver-b"]) {
            case = case.apply(event);
            annotate(case.request.as_mut().unwrap(), event, actor, now);
        }
        assert_eq!(case.filer_personnel_id, "");
        let request = case.request.clone().unwrap();
        assert_eq!(request.state(), LegalRequestState::Approved);
        assert_eq!(request.approvals_required, 1);
        assert_eq!(request.approvals.len(), 1);
        let approval = &request.approvals[0];
        assert_eq!(approval.approver, "approver-b");
        assert_eq!(approval.personnel_id, "");
        assert_eq!(approval.approved_at, Some(timestamp(now)));
        assert_eq!(request.expires_at, Some(timestamp(now + Duration::days(5))));
        assert_eq!(request.decided_by, "approver-b");
        assert_eq!(request.notify_subjects_after, Some(timestamp(now)));
        // No limit of its own: the configured ceiling.
        assert_eq!(request.disclosure_limit, 0);
        let tight = Ceilings {
            max_disclosure_limit: 1,
            ..Ceilings::default()
        };
        assert_eq!(shown(request, now, &tight).disclosure_limit, 1);
        // The named officer (by subject, no personnel id recorded) receives
        // up to the ceiling, then no more.
        let by_subject = Actor::new("officer-a", Some("P-100"));
        assert_eq!(case.authorize_disclosure(&by_subject, now, &tight), Ok(1));
        let events = case
            .decide(&command(Action::Disclose {
                officer: by_subject.clone(),
                now,
                record_sequences: vec![1, 2],
                ceilings: tight,
            }))
            .unwrap();
        let case = events.iter().fold(case, |case, e| case.apply(e));
        assert_eq!(
            case.authorize_disclosure(&by_subject, now, &tight),
            Err(Refusal::LimitReached)
        );
        // New events written today decode to the same types.
        let event = Event::LegalRequestApproved(proto::LegalRequestApproved::default());
        assert!(Event::decode(event.event_type(), &event.encode()).is_ok());
    }

    #[test]
    fn a_pending_request_filed_before_step_9_is_decided_by_subject() {
        let now = Utc::now();
        let filed = FiledBeforeStep9 {
            legal_request_id: ID.into(),
            requested_expires_at: Some(timestamp(now + Duration::days(7))),
            filed_by: "officer-a".into(),
        };
        let event = Event::decode("LegalRequestFiled", &filed.encode_to_vec()).unwrap();
        let case = LegalCase::default().apply(&event);
        assert_eq!(
            case.decide(&command(approve(
                Actor::new("officer-a", Some("P-1")),
                now,
                None
            ))),
            Err(LegalError::OwnRequest)
        );
        let approved = decided(case, approve(approver("approver-b", "P-200"), now, None));
        assert_eq!(
            approved.request.unwrap().state(),
            LegalRequestState::Approved
        );
    }

    #[test]
    fn ceilings_are_told_in_whole_units() {
        assert_eq!(describe_span(Duration::days(30)), "30 days");
        assert_eq!(describe_span(Duration::hours(5)), "5 hours");
        assert_eq!(describe_span(Duration::seconds(90)), "90 seconds");
    }
}
