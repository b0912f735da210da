//! Domain state as the contract's messages.

use chrono::{DateTime, Utc};
use hellowork_proto::registration::v1 as proto;

use super::history::History;
use crate::domain::{Channel, JobSeekerId, RegistrationStatus};

fn timestamp(at: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    at.map(hellowork_values::time::timestamp)
}

/// Art. 8: a registration as an unidentified online registrant sees it,
/// whether or not it existed before: its id and nothing else.
pub fn id_only(id: JobSeekerId) -> proto::JobSeeker {
    proto::JobSeeker {
        job_seeker_id: id.to_string(),
        ..Default::default()
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
        job_seeker_id: registration.job_seeker_id.clone(),
        name: personal.map(|p| p.name.clone()),
        date_of_birth: personal.map(|p| p.date_of_birth),
        contact: personal.map(|p| p.contact.clone()),
        erased: history.state.is_erased(),
        channel: match registration.channel {
            Channel::Online => proto::RegistrationChannel::Online,
            Channel::Counter => proto::RegistrationChannel::Counter,
        }
        .into(),
        category: crate::domain::job_seeker_category(registration.category).into(),
        status: if complete {
            proto::RegistrationStatus::Complete
        } else {
            proto::RegistrationStatus::Provisional
        }
        .into(),
        registered_at: timestamp(history.registered_at),
        // A registration complete from the start was completed when made.
        completed_at: complete
            .then(|| timestamp(history.completed_at.or(history.registered_at)))
            .flatten(),
        application: history
            .state
            .latest_application()
            .map(|a| proto::OnlineServicesApplication {
                application_id: a.application_id.clone(),
                applied_at: timestamp(history.recorded_at.get(&a.application_id).copied()),
                terms_version: a.terms_version.clone(),
                terms_sha256: a.terms_sha256.clone(),
                meeting_app_terms_version: a.meeting_app_terms_version.clone(),
                meeting_app_terms_sha256: a.meeting_app_terms_sha256.clone(),
                language: a.language.clone(),
            }),
    })
}

pub fn device(history: &History, id: uuid::Uuid) -> Option<proto::DeviceAttestation> {
    let d = history.state.device(id)?;
    Some(proto::DeviceAttestation {
        device_attestation_id: d.device_attestation_id.clone(),
        job_seeker_id: d.job_seeker_id.clone(),
        device_kind: d.device_kind,
        owned: d.owned,
        has_webcam: d.has_webcam,
        can_prepare_meeting_app: d.can_prepare_meeting_app,
        capable: d.capable,
        failures: d.failures.clone(),
        attested_at: timestamp(history.recorded_at.get(&d.device_attestation_id).copied()),
    })
}

pub fn environment(history: &History, id: uuid::Uuid) -> Option<proto::EnvironmentAttestation> {
    let e = history.state.environment(id)?;
    Some(proto::EnvironmentAttestation {
        environment_attestation_id: e.environment_attestation_id.clone(),
        job_seeker_id: e.job_seeker_id.clone(),
        device_attestation_id: e.device_attestation_id.clone(),
        attested_at: timestamp(
            history
                .recorded_at
                .get(&e.environment_attestation_id)
                .copied(),
        ),
        expires_at: e.expires_at,
        passed: e.passed,
        items: e.items.clone(),
        os_support: e.os_support.clone(),
        file_sharing_software_found: e.file_sharing_software_found.clone(),
    })
}
