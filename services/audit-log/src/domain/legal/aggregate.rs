//! [`LegalCase`] as an event-sourced aggregate: a command decided into
//! events by the rules of [`super::decide`], and each event folded into
//! the request; once every approval is in, it is authorized on the
//! narrowest terms among them.

use chrono::Duration;
use hellowork_eventstore::Aggregate;
use hellowork_proto::auditlog::v1::{
    self as proto, LegalApproval, LegalRequest, LegalRequestState,
};

use super::{
    Action, Command, LegalCase, LegalError,
    case::{authorized_by_all, deferral_of, name},
    state_at,
};
use crate::domain::{
    event::Event,
    time::{timestamp, to_datetime},
};

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
