//! The consent requests (Art. 6): recording a consent to the terms a
//! person agreed to (explicit, or deemed by an application), withdrawing
//! it, and reading a person's status at an instant.

use chrono::{DateTime, Duration, Utc};
use hellowork_platform::ServiceError;
use hellowork_proto::consent::v1 as proto;

use super::fields::{Violations, instant_or_now, language, present, uuid};
use crate::{
    commands::ConsentInput,
    deemed_consent::receipt_id_for,
    domain::{
        consent::{AgreedTerms, ConsentMethod, WithdrawConsent},
        values::{JobSeekerId, Sha256Hex, TIME_ZONE, TermsVersion, derived_id},
    },
};

/// Clock skew tolerated between a caller and this service.
const MAX_CLOCK_SKEW: Duration = Duration::minutes(1);

fn agreed_terms(
    v: &mut Violations,
    field: &str,
    value: Option<&proto::TermsReference>,
) -> Option<AgreedTerms> {
    let Some(value) = value else {
        v.check::<()>(field, Err("is required".into()));
        return None;
    };
    let id = v.check(
        &format!("{field}.terms_document_id"),
        uuid(&value.terms_document_id),
    );
    let version = v.check(
        &format!("{field}.version"),
        TermsVersion::new(&value.version),
    );
    let sha256 = v.check(&format!("{field}.sha256"), Sha256Hex::new(&value.sha256));
    Some(AgreedTerms {
        terms_document_id: Some(id?),
        version: version?.to_string(),
        sha256: sha256?.to_string(),
    })
}

/// `RecordConsent`.
pub fn record_consent(
    request: &proto::RecordConsentRequest,
    now: DateTime<Utc>,
) -> Result<ConsentInput, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&request.request_id));
    let job_seeker_id = v.check("job_seeker_id", JobSeekerId::new(&request.job_seeker_id));
    let terms = agreed_terms(&mut v, "terms", request.terms.as_ref());
    let meeting_app_terms = agreed_terms(
        &mut v,
        "meeting_app_terms",
        request.meeting_app_terms.as_ref(),
    );
    let method = v.check(
        "method",
        match request.method() {
            proto::ConsentMethod::Explicit => {
                if request.application_id.is_empty() {
                    Ok(ConsentMethod::Explicit)
                } else {
                    Err("EXPLICIT consent names no application_id".into())
                }
            }
            proto::ConsentMethod::DeemedByApplication => uuid(&request.application_id)
                .map(|application_id| ConsentMethod::DeemedByApplication { application_id })
                .map_err(|e| format!("DEEMED_BY_APPLICATION needs application_id: it {e}")),
            proto::ConsentMethod::Unspecified => {
                Err("must be EXPLICIT or DEEMED_BY_APPLICATION".into())
            }
        },
    );
    let consented_at = v.check(
        "consented_at",
        instant_or_now(request.consented_at.as_ref(), now).and_then(|at| {
            if at > now + MAX_CLOCK_SKEW {
                Err("must not be in the future".into())
            } else {
                Ok(at)
            }
        }),
    );
    v.check(
        "time_zone",
        if request.time_zone.is_empty() || request.time_zone == TIME_ZONE {
            Ok(())
        } else {
            Err(format!(
                "must be {TIME_ZONE}: the office's jurisdiction is Japan (Art. 14)"
            ))
        },
    );
    let language = v.check("language", language(&request.language));
    v.finish()?;
    let method = present(method)?;
    let receipt_id = match &method {
        // Art. 6: the same application is one consent, however it arrives.
        ConsentMethod::DeemedByApplication { application_id } => receipt_id_for(*application_id),
        ConsentMethod::Explicit => derived_id("consent-request", &present(request_id)?.to_string()),
    };
    Ok(ConsentInput {
        receipt_id,
        job_seeker_id: present(job_seeker_id)?,
        terms: present(terms)?,
        meeting_app_terms: present(meeting_app_terms)?,
        method,
        consented_at: present(consented_at)?,
        language: present(language)?,
    })
}

/// `WithdrawConsent`.
pub fn withdraw_consent(
    request: &proto::WithdrawConsentRequest,
    now: DateTime<Utc>,
) -> Result<WithdrawConsent, ServiceError> {
    let mut v = Violations::default();
    v.check("request_id", uuid(&request.request_id));
    let job_seeker_id = v.check("job_seeker_id", JobSeekerId::new(&request.job_seeker_id));
    let receipt_id = v.check("receipt_id", uuid(&request.receipt_id));
    v.finish()?;
    Ok(WithdrawConsent {
        job_seeker_id: present(job_seeker_id)?,
        receipt_id: present(receipt_id)?,
        withdrawn_at: now,
    })
}

/// `GetConsentStatus`.
pub fn consent_status(
    request: &proto::GetConsentStatusRequest,
    now: DateTime<Utc>,
) -> Result<(JobSeekerId, DateTime<Utc>), ServiceError> {
    let mut v = Violations::default();
    let job_seeker_id = v.check("job_seeker_id", JobSeekerId::new(&request.job_seeker_id));
    let at = v.check("at", instant_or_now(request.at.as_ref(), now));
    v.finish()?;
    Ok((present(job_seeker_id)?, present(at)?))
}
