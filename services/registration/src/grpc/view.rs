//! Domain state as the contract's messages.

use chrono::{DateTime, Utc};
use hellowork_proto::registration::v1 as proto;
use hellowork_values::time::timestamp;
use uuid::Uuid;

use crate::{
    domain::{
        DeviceAttestation, EnvironmentAttestation, JobSeekerId, PersonRecord, RegistrationStatus,
        UnmetCondition, date_message,
    },
    service::{Eligibility, History},
};

fn instant(at: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    at.map(timestamp)
}

/// Art. 8: a registration as an unidentified online registrant sees it,
/// whether or not it existed before: its id and nothing else.
pub fn id_only(id: JobSeekerId) -> proto::JobSeeker {
    proto::JobSeeker {
        job_seeker_id: id.to_string(),
        ..Default::default()
    }
}

fn name(person: &PersonRecord) -> proto::PersonName {
    proto::PersonName {
        family_name: person.family_name.clone(),
        given_name: person.given_name.clone(),
        family_name_reading: person.family_name_reading.clone(),
        given_name_reading: person.given_name_reading.clone(),
    }
}

fn contact(person: &PersonRecord) -> proto::Contact {
    proto::Contact {
        email: person.email.clone(),
        phone_number: person.phone_number.clone(),
    }
}

/// The registration; `None` when the person is not registered.
pub fn job_seeker(history: &History) -> Option<proto::JobSeeker> {
    let registration = history.state.registration()?;
    let complete = registration.status == RegistrationStatus::Complete;
    // Art. 8: once erased, the person's data is shown as gone, not empty.
    let personal = registration
        .personal
        .known()
        .filter(|_| !history.state.is_erased());
    Some(proto::JobSeeker {
        job_seeker_id: history.job_seeker_id.to_string(),
        name: personal.map(name),
        date_of_birth: personal.and_then(|p| p.date_of_birth).map(date_message),
        contact: personal.map(contact),
        erased: history.state.is_erased(),
        channel: registration.channel.into(),
        category: registration.category.into(),
        status: registration.status.into(),
        registered_at: instant(history.registered_at),
        // A registration complete from the start was completed when made.
        completed_at: complete
            .then(|| instant(history.completed_at.or(history.registered_at)))
            .flatten(),
        application: history
            .state
            .latest_application()
            .map(|a| proto::OnlineServicesApplication {
                application_id: a.application_id.to_string(),
                applied_at: instant(history.recorded_at.get(&a.application_id).copied()),
                terms_version: a.terms.terms_version.clone(),
                terms_sha256: a.terms.terms_sha256.clone(),
                meeting_app_terms_version: a.terms.meeting_app_terms_version.clone(),
                meeting_app_terms_sha256: a.terms.meeting_app_terms_sha256.clone(),
                language: a.terms.language.clone(),
            }),
    })
}

pub fn device(history: &History, id: Uuid) -> Option<proto::DeviceAttestation> {
    let d: &DeviceAttestation = history.state.device(id)?;
    Some(proto::DeviceAttestation {
        device_attestation_id: d.device_attestation_id.to_string(),
        job_seeker_id: history.job_seeker_id.to_string(),
        device_kind: d.kind.map_or(0, i32::from),
        owned: d.owned,
        has_webcam: d.has_webcam,
        can_prepare_meeting_app: d.can_prepare_meeting_app,
        capable: d.capable,
        failures: d.failures.iter().copied().map(i32::from).collect(),
        attested_at: instant(history.recorded_at.get(&d.device_attestation_id).copied()),
    })
}

pub fn environment(history: &History, id: Uuid) -> Option<proto::EnvironmentAttestation> {
    let e: &EnvironmentAttestation = history.state.environment(id)?;
    Some(proto::EnvironmentAttestation {
        environment_attestation_id: e.environment_attestation_id.to_string(),
        job_seeker_id: history.job_seeker_id.to_string(),
        device_attestation_id: e.device_attestation_id.to_string(),
        attested_at: instant(
            history
                .recorded_at
                .get(&e.environment_attestation_id)
                .copied(),
        ),
        expires_at: instant(e.expires_at),
        passed: e.passed,
        items: e.items.iter().map(|item| item.message()).collect(),
        os_support: e.os_support.as_ref().map(|os| os.message()),
        file_sharing_software_found: e.file_sharing_found.clone(),
    })
}

/// One unmet condition with its citation, and the failing item if any.
pub fn condition(condition: &UnmetCondition) -> proto::UnmetCondition {
    let (item, failure) = match condition.environment {
        Some((item, failure)) => (i32::from(item), i32::from(failure)),
        None => (
            proto::EnvironmentItem::Unspecified.into(),
            proto::EnvironmentFailureReason::Unspecified.into(),
        ),
    };
    proto::UnmetCondition {
        reason: condition.reason.into(),
        article: condition.article(),
        environment_item: item,
        environment_failure: failure,
    }
}

pub fn eligibility(eligibility: &Eligibility) -> proto::CheckEligibilityResponse {
    proto::CheckEligibilityResponse {
        job_seeker_id: eligibility.job_seeker_id.to_string(),
        eligible: eligibility.unmet.is_empty(),
        unmet_conditions: eligibility.unmet.iter().map(condition).collect(),
        evaluated_at: Some(timestamp(eligibility.at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EligibilityReason, EnvironmentFailure, EnvironmentItem};
    use hellowork_values::Article;

    #[test]
    fn a_condition_names_its_item_only_when_an_item_failed() {
        let failed = UnmetCondition {
            reason: EligibilityReason::EnvironmentItemFailed,
            articles: vec![Article::Art5_3],
            environment: Some((
                EnvironmentItem::OperatingSystem,
                EnvironmentFailure::OsSupportEnded,
            )),
        };
        let message = condition(&failed);
        assert_eq!(message.article, "Art. 5(3)");
        assert_eq!(
            message.environment_item(),
            proto::EnvironmentItem::OperatingSystem
        );
        assert_eq!(
            message.environment_failure(),
            proto::EnvironmentFailureReason::OsSupportEnded
        );
        let missing = condition(&UnmetCondition {
            reason: EligibilityReason::NotApplied,
            articles: vec![Article::Art2_1, Article::Art6],
            environment: None,
        });
        assert_eq!(missing.reason(), proto::EligibilityReason::NotApplied);
        assert_eq!(missing.article, "Art. 2(1), 6");
        assert_eq!(
            missing.environment_item(),
            proto::EnvironmentItem::Unspecified
        );
    }
}
