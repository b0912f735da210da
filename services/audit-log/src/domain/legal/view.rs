//! The legal request as the views show it: its state at an instant (an
//! approval past its expiry is expired), the configured limit of a request
//! approved before limits existed, and the envelope facts (who decided,
//! when) that the decisions do not need.

use chrono::{DateTime, Utc};
use hellowork_proto::auditlog::v1::{LegalRequest, LegalRequestState};

use super::{Ceilings, case::authorized_by_all};
use crate::domain::{
    event::Event,
    time::{timestamp, to_datetime},
};

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
