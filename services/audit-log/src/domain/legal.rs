//! Art. 7(2) proviso: legal requests for raw device records. A legal
//! officer files; a different person with the approver role approves or
//! denies (two-person rule); approval authorizes disclosure until an expiry
//! no later than the one requested; an approver may revoke. Disclosure goes
//! only to the named officer, only while approved and unexpired.
//!
//! Pure: every instant is an input. The request is the contract's
//! `LegalRequest` message, stored as one row per request and changed only
//! through these functions under a row lock.

use chrono::{DateTime, Utc};
use hellowork_proto::auditlog::v1::{LegalRequest, LegalRequestState};

use super::time::{timestamp, to_datetime};

/// Why a decision on a legal request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegalError {
    /// Art. 7(2): the two-person rule.
    #[error("the filer of a legal request can never decide it (two-person rule)")]
    OwnRequest,
    /// Art. 7(2): only a filed request can be approved or denied.
    #[error("the legal request is {0}, not awaiting a decision")]
    NotFiled(&'static str),
    /// Art. 7(2): only an approved, unexpired request can be revoked.
    #[error("the legal request is {0}, not approved")]
    NotApproved(&'static str),
    /// Art. 7(2): the authorization may not outlast the requested expiry.
    #[error("expires_at must not be after the requested expiry")]
    ExpiryTooLate,
    #[error("expires_at must be in the future")]
    ExpiryPassed,
}

/// Art. 7(2): why a disclosure attempt is refused (mirrors
/// `DisclosureRefusalReason`).
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

/// Art. 7(2): `approver` approves, until `expires_at` (the requested expiry
/// if unset).
pub fn approve(
    request: &LegalRequest,
    approver: &str,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    note: &str,
) -> Result<LegalRequest, LegalError> {
    decidable(request, approver, now)?;
    let requested = to_datetime(request.requested_expires_at.as_ref());
    let expires_at = match (expires_at, requested) {
        (Some(at), Some(requested)) if at > requested => return Err(LegalError::ExpiryTooLate),
        (Some(at), _) => at,
        (None, Some(requested)) => requested,
        (None, None) => return Err(LegalError::ExpiryPassed),
    };
    if expires_at <= now {
        return Err(LegalError::ExpiryPassed);
    }
    let mut approved = request.clone();
    approved.set_state(LegalRequestState::Approved);
    approved.decided_by = approver.to_owned();
    approved.decided_at = Some(timestamp(now));
    approved.decision_note = note.to_owned();
    approved.expires_at = Some(timestamp(expires_at));
    approved.authorized_legal_request = true;
    Ok(approved)
}

/// Art. 7(2): `approver` denies.
pub fn deny(
    request: &LegalRequest,
    approver: &str,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<LegalRequest, LegalError> {
    decidable(request, approver, now)?;
    let mut denied = request.clone();
    denied.set_state(LegalRequestState::Denied);
    denied.decided_by = approver.to_owned();
    denied.decided_at = Some(timestamp(now));
    denied.decision_note = reason.to_owned();
    denied.authorized_legal_request = false;
    Ok(denied)
}

fn decidable(request: &LegalRequest, approver: &str, now: DateTime<Utc>) -> Result<(), LegalError> {
    if request.filed_by == approver {
        return Err(LegalError::OwnRequest);
    }
    match state_at(request, now) {
        LegalRequestState::Filed => Ok(()),
        other => Err(LegalError::NotFiled(name(other))),
    }
}

/// Art. 7(2): `approver` revokes an approved, unexpired request.
pub fn revoke(
    request: &LegalRequest,
    approver: &str,
    now: DateTime<Utc>,
) -> Result<LegalRequest, LegalError> {
    match state_at(request, now) {
        LegalRequestState::Approved => {}
        other => return Err(LegalError::NotApproved(name(other))),
    }
    let mut revoked = request.clone();
    revoked.set_state(LegalRequestState::Revoked);
    revoked.revoked_by = approver.to_owned();
    revoked.revoked_at = Some(timestamp(now));
    revoked.authorized_legal_request = false;
    Ok(revoked)
}

/// Art. 7(2) proviso: whether `subject` (a legal officer or not) may
/// receive the request's records at `now`.
pub fn authorize_disclosure(
    request: &LegalRequest,
    subject: &str,
    is_legal_officer: bool,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if !is_legal_officer {
        return Err(Refusal::RoleNotAllowed);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn filed(now: DateTime<Utc>) -> LegalRequest {
        let mut request = LegalRequest {
            legal_request_id: "r".into(),
            filed_by: "officer-a".into(),
            requested_expires_at: Some(timestamp(now + Duration::days(7))),
            ..Default::default()
        };
        request.set_state(LegalRequestState::Filed);
        request
    }

    #[test]
    fn the_filer_can_never_decide_their_own_request() {
        let now = Utc::now();
        let request = filed(now);
        assert_eq!(
            approve(&request, "officer-a", now, None, ""),
            Err(LegalError::OwnRequest)
        );
        assert_eq!(
            deny(&request, "officer-a", now, "no"),
            Err(LegalError::OwnRequest)
        );
    }

    #[test]
    fn approval_authorizes_until_expiry_then_expires_and_revocation_ends_it() {
        let now = Utc::now();
        let request = filed(now);
        assert_eq!(
            approve(
                &request,
                "approver-b",
                now,
                Some(now + Duration::days(8)),
                ""
            ),
            Err(LegalError::ExpiryTooLate)
        );
        let approved = approve(
            &request,
            "approver-b",
            now,
            Some(now + Duration::days(1)),
            "ok",
        )
        .unwrap();
        assert!(authorize_disclosure(&approved, "officer-a", true, now).is_ok());
        assert_eq!(
            authorize_disclosure(&approved, "officer-c", true, now),
            Err(Refusal::NotNamedOfficer)
        );
        assert_eq!(
            authorize_disclosure(&approved, "officer-a", false, now),
            Err(Refusal::RoleNotAllowed)
        );
        let later = now + Duration::days(2);
        assert_eq!(state_at(&approved, later), LegalRequestState::Expired);
        assert_eq!(
            authorize_disclosure(&approved, "officer-a", true, later),
            Err(Refusal::Expired)
        );
        let revoked = revoke(&approved, "approver-b", now).unwrap();
        assert_eq!(
            authorize_disclosure(&revoked, "officer-a", true, now),
            Err(Refusal::Revoked)
        );
        assert!(matches!(
            approve(&revoked, "approver-b", now, None, ""),
            Err(LegalError::NotFiled("revoked"))
        ));
    }
}
