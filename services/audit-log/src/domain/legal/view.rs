//! The legal request as the views show it: its state at an instant (an
//! approval past its expiry is expired), the configured limit of a request
//! approved before limits existed, and the envelope facts (who decided,
//! when) that the decisions do not need.

use chrono::{DateTime, Utc};

use super::{
    Ceilings,
    case::{Decided, LegalRequest, RequestState},
};
use crate::domain::event::Event;

/// The request's state at `now`: an approval past its expiry is `Expired`.
pub fn state_at(request: &LegalRequest, now: DateTime<Utc>) -> RequestState {
    match request.state {
        RequestState::Approved if request.expires_at.is_none_or(|at| at <= now) => {
            RequestState::Expired
        }
        stored => stored,
    }
}

/// The request as shown at `now`: its state current.
pub fn at(mut request: LegalRequest, now: DateTime<Utc>) -> LegalRequest {
    request.state = state_at(&request, now);
    request
}

/// The request as shown at `now` under `ceilings`: [`at`], and the limit
/// of a request approved before limits existed is the configured ceiling.
pub fn shown(request: LegalRequest, now: DateTime<Utc>, ceilings: &Ceilings) -> LegalRequest {
    let mut request = at(request, now);
    if request.authorized_by_all() && request.disclosure_limit == 0 {
        request.disclosure_limit = ceilings.max_disclosure_limit;
    }
    request
}

/// Adds to `request` the envelope facts of `event` (who, when) that the
/// views show and the decisions do not need. Call it right after applying
/// `event`: an approval's facts go to the approval last applied.
pub fn annotate(request: &mut LegalRequest, event: &Event, actor: &str, at: DateTime<Utc>) {
    let decided = || {
        Some(Decided {
            by: actor.to_owned(),
            at,
        })
    };
    match event {
        Event::LegalRequestFiled(_) => request.filed_at = Some(at),
        Event::LegalRequestApproved(_) => {
            // An approval stored before Step 9 names neither its approver
            // nor its time: the envelope's.
            if let Some(approval) = request.approvals.last_mut() {
                if approval.approver.is_empty() {
                    actor.clone_into(&mut approval.approver);
                }
                approval.approved_at.get_or_insert(at);
            }
            // The approval that completed the request decided it.
            if request.state == RequestState::Approved && request.decided.is_none() {
                request.decided = decided();
                request.notify_subjects_after.get_or_insert(at);
            }
        }
        Event::LegalRequestDenied(_) => request.decided = decided(),
        Event::LegalRequestRevoked(_) => request.revoked = decided(),
        _ => {}
    }
}
