//! The legal request's domain values to and from the contract's messages:
//! a filing and an approval as their events carry them, and the request as
//! the views show it and the listed view stores it (`legal_requests.body`,
//! whose format is the `LegalRequest` message, unchanged).

use chrono::Duration;
use hellowork_proto::auditlog::v1 as proto;

use super::case::{
    Approval, Decided, DevicePseudonym, Filing, LegalBasis, LegalRequest, RequestState, Scope,
};
use crate::domain::time::{timestamp, to_datetime};

fn duration(span: Duration) -> Option<prost_types::Duration> {
    (span > Duration::zero()).then(|| prost_types::Duration {
        seconds: span.num_seconds(),
        nanos: span.subsec_nanos(),
    })
}

fn span(duration: Option<&prost_types::Duration>) -> Duration {
    duration.map_or(Duration::zero(), |d| {
        Duration::seconds(d.seconds) + Duration::nanoseconds(i64::from(d.nanos))
    })
}

impl Scope {
    pub fn message(&self) -> proto::LegalRequestScope {
        proto::LegalRequestScope {
            job_seeker_ids: self.job_seeker_ids.clone(),
            device_pseudonyms: self
                .device_pseudonyms
                .iter()
                .map(|p| proto::DevicePseudonym {
                    device_pseudonym: p.device_pseudonym.clone(),
                    pseudonym_period: p.pseudonym_period.clone(),
                })
                .collect(),
            time_range: self.time_range.map(|(start, end)| proto::TimeRange {
                start_time: Some(timestamp(start)),
                end_time: Some(timestamp(end)),
            }),
        }
    }

    pub fn of(message: Option<&proto::LegalRequestScope>) -> Self {
        let Some(message) = message else {
            return Self::default();
        };
        let range = message.time_range.as_ref();
        let time_range = to_datetime(range.and_then(|r| r.start_time.as_ref()))
            .zip(to_datetime(range.and_then(|r| r.end_time.as_ref())));
        Self {
            job_seeker_ids: message.job_seeker_ids.clone(),
            device_pseudonyms: message
                .device_pseudonyms
                .iter()
                .map(|p| DevicePseudonym {
                    device_pseudonym: p.device_pseudonym.clone(),
                    pseudonym_period: p.pseudonym_period.clone(),
                })
                .collect(),
            time_range,
        }
    }
}

impl Filing {
    /// The filing as `LegalRequestFiled` carries it, the filer's fields
    /// unset.
    pub fn message(&self) -> proto::LegalRequestFiled {
        proto::LegalRequestFiled {
            legal_request_id: self.legal_request_id.clone(),
            agency: self.agency.clone(),
            legal_basis: self.legal_basis.map_or(0, i32::from),
            legal_basis_citation: self.legal_basis_citation.clone(),
            case_number: self.case_number.clone(),
            scope: Some(self.scope.message()),
            justification: self.justification.clone(),
            requested_expires_at: self.requested_expires_at.map(timestamp),
            ..proto::LegalRequestFiled::default()
        }
    }

    pub fn of(filed: &proto::LegalRequestFiled) -> Self {
        Self {
            legal_request_id: filed.legal_request_id.clone(),
            agency: filed.agency.clone(),
            legal_basis: LegalBasis::try_from(filed.legal_basis).ok(),
            legal_basis_citation: filed.legal_basis_citation.clone(),
            case_number: filed.case_number.clone(),
            scope: Scope::of(filed.scope.as_ref()),
            justification: filed.justification.clone(),
            requested_expires_at: to_datetime(filed.requested_expires_at.as_ref()),
        }
    }
}

impl Approval {
    /// The approval `approved` records. Stored before Step 9 it has no
    /// personnel id, no limit and no deferral: one approval, limited by
    /// the ceiling.
    pub fn of(approved: &proto::LegalRequestApproved) -> Self {
        Self {
            approver: approved.approver.clone(),
            personnel_id: approved.approver_personnel_id.clone(),
            approved_at: to_datetime(approved.approved_at.as_ref()),
            note: approved.note.clone(),
            expires_at: to_datetime(approved.expires_at.as_ref()),
            disclosure_limit: approved.disclosure_limit,
            deferral: span(approved.notification_deferral.as_ref()),
            deferral_reason: approved.deferral_reason.clone(),
        }
    }

    /// The deferral as `LegalRequestApproved` carries it: unset when none.
    pub fn deferral_message(deferral: Duration) -> Option<prost_types::Duration> {
        duration(deferral)
    }

    fn message(&self) -> proto::LegalApproval {
        proto::LegalApproval {
            approver: self.approver.clone(),
            personnel_id: self.personnel_id.clone(),
            approved_at: self.approved_at.map(timestamp),
            note: self.note.clone(),
            expires_at: self.expires_at.map(timestamp),
            disclosure_limit: self.disclosure_limit,
            notification_deferral: duration(self.deferral),
            deferral_reason: self.deferral_reason.clone(),
        }
    }

    fn from_message(approval: &proto::LegalApproval) -> Self {
        Self {
            approver: approval.approver.clone(),
            personnel_id: approval.personnel_id.clone(),
            approved_at: to_datetime(approval.approved_at.as_ref()),
            note: approval.note.clone(),
            expires_at: to_datetime(approval.expires_at.as_ref()),
            disclosure_limit: approval.disclosure_limit,
            deferral: span(approval.notification_deferral.as_ref()),
            deferral_reason: approval.deferral_reason.clone(),
        }
    }
}

fn decided(by: &str, at: Option<&prost_types::Timestamp>) -> Option<Decided> {
    to_datetime(at).map(|at| Decided {
        by: by.to_owned(),
        at,
    })
}

impl LegalRequest {
    /// The request as the contract shows it; authorized while approved
    /// (a view at an instant first goes through [`super::at`]). The
    /// filer's personnel id is not shown.
    pub fn message(&self) -> proto::LegalRequest {
        let filing = &self.filing;
        proto::LegalRequest {
            legal_request_id: filing.legal_request_id.clone(),
            state: self.state.into(),
            agency: filing.agency.clone(),
            legal_basis: filing.legal_basis.map_or(0, i32::from),
            legal_basis_citation: filing.legal_basis_citation.clone(),
            case_number: filing.case_number.clone(),
            scope: Some(filing.scope.message()),
            justification: filing.justification.clone(),
            requested_expires_at: filing.requested_expires_at.map(timestamp),
            filed_by: self.filed_by.clone(),
            filed_at: self.filed_at.map(timestamp),
            decided_by: self
                .decided
                .as_ref()
                .map(|d| d.by.clone())
                .unwrap_or_default(),
            decided_at: self.decided.as_ref().map(|d| timestamp(d.at)),
            decision_note: self.decision_note.clone(),
            expires_at: self.expires_at.map(timestamp),
            authorized_legal_request: self.state == RequestState::Approved,
            revoked_by: self
                .revoked
                .as_ref()
                .map(|d| d.by.clone())
                .unwrap_or_default(),
            revoked_at: self.revoked.as_ref().map(|d| timestamp(d.at)),
            disclosed_record_count: self.disclosed_record_count,
            approvals: self.approvals.iter().map(Approval::message).collect(),
            approvals_required: self.approvals_required,
            disclosure_limit: self.disclosure_limit,
            notify_subjects_after: self.notify_subjects_after.map(timestamp),
            deferral_reason: self.deferral_reason.clone(),
        }
    }

    /// The request a stored view holds; an error names what no fold ever
    /// writes (a state outside the contract).
    pub fn from_message(message: &proto::LegalRequest) -> Result<Self, String> {
        let state = RequestState::try_from(message.state)
            .map_err(|_| format!("legal request in unknown state {}", message.state))?;
        let filing = Filing {
            legal_request_id: message.legal_request_id.clone(),
            agency: message.agency.clone(),
            legal_basis: LegalBasis::try_from(message.legal_basis).ok(),
            legal_basis_citation: message.legal_basis_citation.clone(),
            case_number: message.case_number.clone(),
            scope: Scope::of(message.scope.as_ref()),
            justification: message.justification.clone(),
            requested_expires_at: to_datetime(message.requested_expires_at.as_ref()),
        };
        Ok(Self {
            state,
            approvals: message
                .approvals
                .iter()
                .map(Approval::from_message)
                .collect(),
            decision_note: message.decision_note.clone(),
            expires_at: to_datetime(message.expires_at.as_ref()),
            disclosure_limit: message.disclosure_limit,
            notify_subjects_after: to_datetime(message.notify_subjects_after.as_ref()),
            deferral_reason: message.deferral_reason.clone(),
            disclosed_record_count: message.disclosed_record_count,
            filed_at: to_datetime(message.filed_at.as_ref()),
            decided: decided(&message.decided_by, message.decided_at.as_ref()),
            revoked: decided(&message.revoked_by, message.revoked_at.as_ref()),
            ..Self::filed(
                filing,
                message.filed_by.clone(),
                String::new(),
                message.approvals_required,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn at(seconds: i64) -> Option<prost_types::Timestamp> {
        DateTime::<Utc>::from_timestamp(seconds, 123_000).map(timestamp)
    }

    /// A listed request as the view stored it before the domain had its
    /// own values: every field set, an approval deferred, one not.
    fn stored() -> proto::LegalRequest {
        proto::LegalRequest {
            legal_request_id: "0190c0de-0000-7000-8000-000000000001".into(),
            state: proto::LegalRequestState::Approved.into(),
            agency: "Kagawa Prefectural Police".into(),
            legal_basis: proto::LegalBasis::CourtWarrant.into(),
            legal_basis_citation: String::new(),
            case_number: "2026-17".into(),
            scope: Some(proto::LegalRequestScope {
                job_seeker_ids: vec!["0190c0de-0000-7000-8000-0000000000aa".into()],
                device_pseudonyms: vec![proto::DevicePseudonym {
                    device_pseudonym: "0".repeat(32),
                    pseudonym_period: "2026-11".into(),
                }],
                time_range: Some(proto::TimeRange {
                    start_time: at(1_700_000_000),
                    end_time: at(1_700_086_400),
                }),
            }),
            justification: "warrant 17".into(),
            requested_expires_at: at(1_800_000_000),
            filed_by: "officer-a".into(),
            filed_at: at(1_750_000_000),
            decided_by: "approver-c".into(),
            decided_at: at(1_750_000_600),
            decision_note: "second".into(),
            expires_at: at(1_760_000_000),
            authorized_legal_request: true,
            revoked_by: String::new(),
            revoked_at: None,
            disclosed_record_count: 4,
            approvals: vec![
                proto::LegalApproval {
                    approver: "approver-b".into(),
                    personnel_id: "P-200".into(),
                    approved_at: at(1_750_000_300),
                    note: "first".into(),
                    expires_at: at(1_760_000_000),
                    disclosure_limit: 20,
                    notification_deferral: Some(prost_types::Duration {
                        seconds: 86_400,
                        nanos: 0,
                    }),
                    deferral_reason: "the suspect would be warned".into(),
                },
                proto::LegalApproval {
                    approver: "approver-c".into(),
                    personnel_id: "P-300".into(),
                    approved_at: at(1_750_000_600),
                    note: "second".into(),
                    expires_at: at(1_770_000_000),
                    disclosure_limit: 0,
                    notification_deferral: None,
                    deferral_reason: String::new(),
                },
            ],
            approvals_required: 2,
            disclosure_limit: 20,
            notify_subjects_after: at(1_750_000_600),
            deferral_reason: String::new(),
        }
    }

    /// The stored format is unchanged: a listed request the earlier view
    /// wrote reads into domain values and is written back bit for bit.
    #[test]
    fn a_stored_listed_request_reads_and_is_written_back_unchanged() {
        let stored = stored();
        let request = LegalRequest::from_message(&stored).expect("a known state");
        assert_eq!(request.state, RequestState::Approved);
        assert_eq!(request.approvals[0].deferral, Duration::days(1));
        assert_eq!(
            request.decided.as_ref().map(|d| d.by.as_str()),
            Some("approver-c")
        );
        assert_eq!(request.message(), stored);
    }

    #[test]
    fn a_stored_request_in_no_known_state_is_an_error_not_a_guess() {
        let mut stored = stored();
        stored.state = proto::LegalRequestState::Unspecified.into();
        assert!(LegalRequest::from_message(&stored).is_err());
        stored.state = 99;
        assert!(LegalRequest::from_message(&stored).is_err());
    }

    #[test]
    fn a_filing_is_carried_by_its_event_unchanged() {
        let stored = stored();
        let filing = LegalRequest::from_message(&stored).unwrap().filing;
        let event = filing.message();
        assert_eq!(event.scope, stored.scope);
        assert_eq!(event.requested_expires_at, stored.requested_expires_at);
        assert_eq!(Filing::of(&event), filing);
    }
}
