//! Domain values into `hellowork.consent.v1` messages.

use hellowork_proto::consent::v1 as proto;

use crate::{
    domain::{
        consent::Receipt,
        event::{date_message, timestamp},
        status::{Binding, ConsentStatus, Standing},
        terms::{Revision, TermsDocument},
        values::{JobSeekerId, TermsKind},
    },
    projections::notices::Notice,
};

pub fn document(document: &TermsDocument) -> proto::TermsDocument {
    proto::TermsDocument {
        terms_document_id: document.terms_document_id.clone(),
        kind: match document.kind {
            TermsKind::OnlineServices => proto::TermsKind::OnlineServices,
            TermsKind::MeetingApp => proto::TermsKind::MeetingApp,
        }
        .into(),
        version: document.version.clone(),
        language: document.language.clone(),
        title: document.title.clone(),
        full_text: document.full_text.clone(),
        sha256: document.sha256.clone(),
        established_date: document.established_date.map(date_message),
        revised_date: document.revised_date.map(date_message),
        effective_date: Some(date_message(document.effective_date)),
        published_at: Some(timestamp(document.published_at)),
        meeting_app_name: document.meeting_app_name.clone(),
        source_uri: document.source_uri.clone(),
    }
}

pub fn receipt(receipt: &Receipt) -> proto::ConsentReceipt {
    let (method, application_id) = receipt.method.message();
    proto::ConsentReceipt {
        receipt_id: receipt.receipt_id.to_string(),
        job_seeker_id: receipt.job_seeker_id.to_string(),
        terms: Some(receipt.terms.message()),
        meeting_app_terms: Some(receipt.meeting_app_terms.message()),
        method: method.into(),
        application_id,
        consented_at: Some(timestamp(receipt.consented_at)),
        time_zone: receipt.time_zone.clone(),
        jurisdiction: receipt.jurisdiction.clone(),
        language: receipt.language.clone(),
        controller: receipt.controller.clone(),
        state: if receipt.withdrawn_at.is_some() {
            proto::ConsentState::Withdrawn
        } else {
            proto::ConsentState::Active
        }
        .into(),
        withdrawn_at: receipt.withdrawn_at.map(timestamp),
    }
}

pub fn revision(revision: &Revision) -> proto::TermsRevision {
    proto::TermsRevision {
        revision_id: revision.revision_id.to_string(),
        new_terms: Some(revision.new_terms.message()),
        previous_terms: Some(revision.previous_terms.message()),
        ground: revision.ground.message().into(),
        reasons: revision.reasons.clone(),
        change_summary: revision.change_summary.clone(),
        announced_at: Some(timestamp(revision.announced_at)),
        effective_date: Some(date_message(revision.effective_date)),
        effective_at: Some(timestamp(revision.effective_at)),
    }
}

pub fn notice(notice: &Notice) -> proto::Notice {
    proto::Notice {
        notice_id: notice.notice_id.to_string(),
        job_seeker_id: notice.job_seeker_id.to_string(),
        revision_id: notice.revision_id.to_string(),
        new_terms: Some(notice.new_terms.clone()),
        ground: notice.ground,
        change_summary: notice.change_summary.clone(),
        effective_date: Some(date_message(notice.effective_date)),
        notified_at: Some(timestamp(notice.notified_at)),
    }
}

pub fn status(
    job_seeker_id: JobSeekerId,
    status: &ConsentStatus,
) -> proto::GetConsentStatusResponse {
    let mut response = proto::GetConsentStatusResponse {
        job_seeker_id: job_seeker_id.to_string(),
        status: match status.standing {
            Standing::None => proto::ConsentStatus::None,
            Standing::Consented => proto::ConsentStatus::Consented,
            Standing::Withdrawn => proto::ConsentStatus::Withdrawn,
        }
        .into(),
        receipt: status.receipt.as_ref().map(receipt),
        meeting_app_terms: status
            .receipt
            .as_ref()
            .map(|r| r.meeting_app_terms.message()),
        summary: status.summary.clone(),
        ..Default::default()
    };
    if let Some((terms, binding, since)) = &status.bound {
        response.bound_terms = Some(terms.message());
        response.bound_since = Some(timestamp(*since));
        match binding {
            Binding::Consent => {
                response.binding_basis = proto::BindingBasis::Consent.into();
            }
            Binding::Revision {
                revision_id,
                notified_at,
            } => {
                response.binding_basis = proto::BindingBasis::Art13Revision.into();
                response.revision_id = revision_id.to_string();
                response.notified_at = notified_at.map(timestamp);
            }
        }
    }
    response
}
