//! [`LegalCase`], one legal request's stream folded, and what a stored
//! request says: its state's name, the approvals it needs, its disclosure
//! limit and an approval's notification deferral.

use chrono::Duration;
use hellowork_proto::auditlog::v1::{LegalApproval, LegalRequest, LegalRequestState};

use super::Ceilings;

/// One legal request's stream folded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LegalCase {
    /// `None` until filed.
    pub request: Option<LegalRequest>,
    /// The filer's personnel id; empty for requests filed before Step 9.
    pub filer_personnel_id: String,
}

pub(super) fn name(state: LegalRequestState) -> &'static str {
    match state {
        LegalRequestState::Filed => "filed",
        LegalRequestState::Approved => "approved",
        LegalRequestState::Denied => "denied",
        LegalRequestState::Expired => "expired",
        LegalRequestState::Revoked => "revoked",
        LegalRequestState::Unspecified => "unknown",
    }
}

/// Approvals a request needs: those recorded at filing, one for a request
/// filed before Step 9 (none recorded).
pub(super) fn required(request: &LegalRequest) -> usize {
    request.approvals_required.max(1) as usize
}

/// Whether every approval the request needs is in.
pub(super) fn authorized_by_all(request: &LegalRequest) -> bool {
    request.approvals.len() >= required(request)
}

/// The most records the request may disclose in total.
pub(super) fn limit(request: &LegalRequest, ceilings: &Ceilings) -> u64 {
    match request.disclosure_limit {
        0 => ceilings.max_disclosure_limit,
        limit => limit,
    }
}

pub(super) fn deferral_of(approval: &LegalApproval) -> Duration {
    approval
        .notification_deferral
        .as_ref()
        .map_or(Duration::zero(), |d| {
            Duration::seconds(d.seconds) + Duration::nanoseconds(i64::from(d.nanos))
        })
}
