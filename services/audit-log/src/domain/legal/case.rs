//! [`LegalCase`], one legal request's stream folded, as domain values: the
//! filing, each approval, the state and the terms it was authorized on,
//! instants as `DateTime<Utc>`, and what a request says: the approvals it
//! needs and its disclosure limit.

use chrono::{DateTime, Duration, Utc};
use hellowork_proto::auditlog::v1 as proto;
use hellowork_values::contract_enum;

use super::Ceilings;

contract_enum! {
    /// Art. 7(2): where a legal request stands.
    RequestState => proto::LegalRequestState { Filed, Approved, Denied, Expired, Revoked }
}

impl RequestState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Filed => "filed",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

contract_enum! {
    /// Art. 7(2): the law a legal request rests on.
    LegalBasis => proto::LegalBasis {
        CriminalInvestigationInquiry, CourtWarrant, CourtOrder, OtherStatute
    }
}

/// A device pseudonym in a scope, with the period it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePseudonym {
    pub device_pseudonym: String,
    pub pseudonym_period: String,
}

/// Art. 7(2): whose records, from when to when.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// Canonical job seeker ids.
    pub job_seeker_ids: Vec<String>,
    pub device_pseudonyms: Vec<DevicePseudonym>,
    /// `[start, end)`; `None` only in a corrupt store (the edge requires it).
    pub time_range: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Art. 7(2): a legal request as its officer files it, checked at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filing {
    pub legal_request_id: String,
    pub agency: String,
    /// `None` only in a corrupt store (the edge requires a known basis).
    pub legal_basis: Option<LegalBasis>,
    pub legal_basis_citation: String,
    pub case_number: String,
    pub scope: Scope,
    pub justification: String,
    pub requested_expires_at: Option<DateTime<Utc>>,
}

/// One approver's approval, on their terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The approver's subject.
    pub approver: String,
    /// Empty for an approval stored before Step 9.
    pub personnel_id: String,
    /// `None` for an approval stored before Step 9 (the envelope's time
    /// is shown, see [`super::annotate`]).
    pub approved_at: Option<DateTime<Utc>>,
    pub note: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// 0: the ceiling.
    pub disclosure_limit: u64,
    /// Zero: not deferred.
    pub deferral: Duration,
    pub deferral_reason: String,
}

/// Who decided, and when: envelope facts the views show and the decisions
/// do not need, set by [`super::annotate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub by: String,
    pub at: DateTime<Utc>,
}

/// One filed legal request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalRequest {
    pub filing: Filing,
    /// The filing officer's subject: the named officer.
    pub filed_by: String,
    /// The filer's personnel id; empty for requests filed before Step 9,
    /// and in the listed view (only decisions need it).
    pub filer_personnel_id: String,
    /// Distinct approvals needed, at least 1.
    pub approvals_required: u32,
    /// As stored; [`super::state_at`] tells an expired approval.
    pub state: RequestState,
    pub approvals: Vec<Approval>,
    /// The last approval's note, or the denial's reason.
    pub decision_note: String,
    /// Set once authorized: the earliest expiry among the approvals.
    pub expires_at: Option<DateTime<Utc>>,
    /// Set once authorized: the lowest limit among the approvals; 0 for a
    /// request approved before limits existed (the ceiling applies).
    pub disclosure_limit: u64,
    /// Set once authorized: when the persons in scope may be told.
    pub notify_subjects_after: Option<DateTime<Utc>>,
    pub deferral_reason: String,
    pub disclosed_record_count: u64,
    pub filed_at: Option<DateTime<Utc>>,
    pub decided: Option<Decided>,
    pub revoked: Option<Decided>,
}

impl LegalRequest {
    /// The request as filed, before any decision.
    pub fn filed(
        filing: Filing,
        filed_by: String,
        filer_personnel_id: String,
        approvals_required: u32,
    ) -> Self {
        Self {
            filing,
            filed_by,
            filer_personnel_id,
            // Filed before Step 9: one approval was needed.
            approvals_required: approvals_required.max(1),
            state: RequestState::Filed,
            approvals: Vec::new(),
            decision_note: String::new(),
            expires_at: None,
            disclosure_limit: 0,
            notify_subjects_after: None,
            deferral_reason: String::new(),
            disclosed_record_count: 0,
            filed_at: None,
            decided: None,
            revoked: None,
        }
    }

    pub fn id(&self) -> &str {
        &self.filing.legal_request_id
    }

    /// Whether every approval the request needs is in.
    pub(super) fn authorized_by_all(&self) -> bool {
        self.approvals.len() >= self.approvals_required.max(1) as usize
    }

    /// The most records the request may disclose in total.
    pub(super) fn limit(&self, ceilings: &Ceilings) -> u64 {
        match self.disclosure_limit {
            0 => ceilings.max_disclosure_limit,
            limit => limit,
        }
    }
}

/// One legal request's stream folded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegalCase {
    /// `None` until filed.
    pub request: Option<LegalRequest>,
}
