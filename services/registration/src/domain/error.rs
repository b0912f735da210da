//! Why the domain refuses a command. Each refusal a rule of the terms causes
//! cites its article, in its message and in the gRPC error it becomes.

use hellowork_platform::{Article, FieldViolation, ServiceError};
use uuid::Uuid;

use super::identity::JobSeekerId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("job seeker {0} is not registered")]
    NotRegistered(JobSeekerId),
    /// Art. 2(2): only a person whose job-seeker registration is complete may
    /// apply for online services.
    #[error(
        "Art. 2(2): the job-seeker registration is not complete; the office must complete it before the person applies"
    )]
    RegistrationIncomplete,
    #[error("device attestation {0} not found for this job seeker")]
    UnknownDevice(Uuid),
    /// Art. 2(3): an environment is attested for a device that qualifies.
    #[error(
        "Art. 2(3): device attestation {0} is not of a capable device (owned, webcam, meeting app)"
    )]
    DeviceNotCapable(Uuid),
    /// Art. 8: an erased person's record takes no further command: what it
    /// would decide on is gone, and registering them again would undo the
    /// erasure.
    #[error(
        "Art. 8: the job seeker's personal data was erased; their record takes no further commands"
    )]
    Erased,
    /// Art. 8: a counsellor reads only the people they serve
    /// (`served::require_served`).
    #[error(
        "Art. 8: a counsellor reads only the people they serve (registered at the counter or booked with them)"
    )]
    NotServed,
    /// Only an online registration can be provisional.
    #[error("only an online registration can be provisional")]
    ProvisionalAtCounter,
}

impl From<DomainError> for ServiceError {
    fn from(error: DomainError) -> Self {
        let message = error.to_string();
        match error {
            DomainError::NotRegistered(id) => Self::NotFound {
                resource_type: "job seeker",
                resource_name: id.to_string(),
            },
            DomainError::RegistrationIncomplete => {
                Self::forbidden(Article::Art2_2, "registration.status", message)
            }
            DomainError::UnknownDevice(id) => Self::NotFound {
                resource_type: "device attestation",
                resource_name: id.to_string(),
            },
            DomainError::DeviceNotCapable(_) => {
                Self::forbidden(Article::Art2_3, "device_attestation_id", message)
            }
            DomainError::Erased => Self::forbidden(Article::Art8, "job_seeker_id", message),
            DomainError::NotServed => Self::PermissionDenied(message),
            DomainError::ProvisionalAtCounter => {
                Self::InvalidArgument(vec![FieldViolation::new("provisional", message)])
            }
        }
    }
}
