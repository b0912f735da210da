//! [`LegalCase`] as an event-sourced aggregate: a command decided into
//! events by the rules of [`super::decide`], and each event folded into
//! the request; once every approval is in, it is authorized on the
//! narrowest terms among them.

use chrono::Duration;
use hellowork_eventstore::Aggregate;
use hellowork_proto::auditlog::v1 as proto;

use super::{
    Action, Command, LegalCase, LegalError,
    case::{Approval, Filing, LegalRequest, RequestState},
    state_at,
};
use crate::domain::event::Event;

/// Art. 7(2): once every approval is in, the request is authorized on the
/// narrowest terms among them.
fn authorize(request: &mut LegalRequest) {
    let approvals = &request.approvals;
    let expires_at = approvals.iter().filter_map(|a| a.expires_at).min();
    let disclosure_limit = approvals
        .iter()
        .map(|a| a.disclosure_limit)
        .filter(|limit| *limit > 0)
        .min()
        .unwrap_or(0);
    let shortest = approvals.iter().min_by_key(|a| a.deferral);
    let deferral = shortest.map_or(Duration::zero(), |a| a.deferral);
    let deferral_reason = match shortest {
        Some(approval) if deferral > Duration::zero() => approval.deferral_reason.clone(),
        _ => String::new(),
    };
    let last = approvals.last();
    let notify_subjects_after = last.and_then(|a| a.approved_at).map(|at| at + deferral);
    let note = last.map(|a| a.note.clone()).unwrap_or_default();
    request.state = RequestState::Approved;
    request.expires_at = expires_at;
    request.disclosure_limit = disclosure_limit;
    request.notify_subjects_after = notify_subjects_after;
    request.deferral_reason = deferral_reason;
    request.decision_note = note;
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
                RequestState::Approved => Ok(vec![Event::LegalRequestRevoked(
                    proto::LegalRequestRevoked {
                        legal_request_id: id.clone(),
                        reason: reason.clone(),
                    },
                )]),
                other => Err(LegalError::NotApproved(other.name())),
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
                self.request = Some(LegalRequest::filed(
                    Filing::of(filed),
                    filed.filed_by.clone(),
                    filed.filed_by_personnel_id.clone(),
                    filed.approvals_required,
                ));
            }
            (Event::LegalRequestApproved(approved), Some(request)) => {
                request.approvals.push(Approval::of(approved));
                if request.authorized_by_all() {
                    authorize(request);
                }
            }
            (Event::LegalRequestDenied(denied), Some(request)) => {
                request.state = RequestState::Denied;
                request.decision_note = denied.reason.clone();
            }
            (Event::LegalRequestRevoked(_), Some(request)) => {
                request.state = RequestState::Revoked;
            }
            (Event::DeviceRecordsDisclosed(disclosed), Some(request)) => {
                request.disclosed_record_count += disclosed.record_count;
            }
            _ => {}
        }
        self
    }
}
