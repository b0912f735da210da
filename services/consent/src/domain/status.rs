//! A person's consent status at an instant: which terms version binds them,
//! by their own consent (Art. 2(1), 4, 6) or by an Art. 13 revision that took
//! effect after it without re-consent.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    consent::{PersonConsents, Receipt},
    terms::{InForce, Revision, TermsRef, TermsSeries},
    values::in_tokyo,
};

/// The overall state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Art. 2(1): never consented (by the instant asked about).
    None,
    /// Bound by the terms.
    Consented,
    /// Art. 2(1): the current consent was withdrawn.
    Withdrawn,
}

/// Why the bound version binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// The person consented to it.
    Consent,
    /// Art. 13: an announced revision took effect; no re-consent needed.
    Revision {
        revision_id: Uuid,
        /// When the person's notice was issued; `None` if the notice
        /// projection holds none for them (the public announcement still
        /// binds under Art. 13).
        notified_at: Option<DateTime<Utc>>,
    },
}

/// The answer to "what binds this person at this instant".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentStatus {
    pub standing: Standing,
    pub receipt: Option<Receipt>,
    /// Set when consented.
    pub bound: Option<(TermsRef, Binding, DateTime<Utc>)>,
    pub summary: String,
}

/// Art. 13: the revision that binds the person at `at` without their
/// re-consent, if one does: the only case in which the status needs to know
/// when the person was notified.
pub fn revision_binding(
    consents: &PersonConsents,
    series: &TermsSeries,
    at: DateTime<Utc>,
) -> Option<Uuid> {
    let receipt = consents.current_at(at)?;
    if receipt.withdrawn_by(at) {
        return None;
    }
    revised(receipt, series, at).map(|(_, revision)| revision.revision_id)
}

/// Art. 13: a revision effective after the consent binds without it.
fn revised<'a>(
    receipt: &Receipt,
    series: &'a TermsSeries,
    at: DateTime<Utc>,
) -> Option<(InForce<'a>, &'a Revision)> {
    series.in_force_at(at).and_then(|in_force| {
        let revision = in_force.revision?;
        (in_force.since > receipt.consented_at).then_some((in_force, revision))
    })
}

/// Art. 2(1), 13: the status at `at`. `series` is the terms of use in the
/// receipt's language; `notice_of` gives when the person was notified of a
/// revision.
pub fn status_at(
    consents: &PersonConsents,
    series: &TermsSeries,
    notice_of: impl Fn(Uuid) -> Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> ConsentStatus {
    let Some(receipt) = consents.current_at(at) else {
        return ConsentStatus {
            standing: Standing::None,
            receipt: None,
            bound: None,
            summary: "no consent to the terms of use (Art. 2(1))".into(),
        };
    };
    if receipt.withdrawn_by(at) {
        let withdrawn_at = receipt.withdrawn_at.map(in_tokyo).unwrap_or_default();
        return ConsentStatus {
            standing: Standing::Withdrawn,
            receipt: Some(receipt.clone()),
            bound: None,
            summary: format!("consent withdrawn at {withdrawn_at} (Art. 2(1))"),
        };
    }
    let (bound, summary) = match revised(receipt, series, at) {
        Some((in_force, revision)) => {
            let notified_at = notice_of(revision.revision_id);
            let notified = notified_at.map_or_else(
                || "no individual notice recorded".to_owned(),
                |t| format!("notified at {}", in_tokyo(t)),
            );
            let summary = format!(
                "bound by version {} under Art. 13 since {}, {notified}",
                in_force.document.version,
                in_tokyo(in_force.since),
            );
            let binding = Binding::Revision {
                revision_id: revision.revision_id,
                notified_at,
            };
            (
                (in_force.document.reference(), binding, in_force.since),
                summary,
            )
        }
        None => {
            let summary = format!(
                "bound by version {} by consent since {}",
                receipt.terms.version,
                in_tokyo(receipt.consented_at)
            );
            (
                (
                    receipt.terms.clone(),
                    Binding::Consent,
                    receipt.consented_at,
                ),
                summary,
            )
        }
    };
    ConsentStatus {
        standing: Standing::Consented,
        receipt: Some(receipt.clone()),
        bound: Some(bound),
        summary,
    }
}
