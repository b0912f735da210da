//! What the service is asked, as domain values: every field already checked
//! by the transport (see `grpc::parse`), every id a UUID or a
//! [`JobSeekerId`].

use uuid::Uuid;

use crate::domain::{
    Channel, Contact, DateOfBirth, DeviceCapability, EnvironmentReport, ErasureReason,
    ErasureReference, JobSeekerId, PersonName, TermsShown,
};

/// A person to register (求職登録), online or at the counter.
#[derive(Debug)]
pub struct NewRegistration {
    pub channel: Channel,
    /// Online only: the office still has to complete it (Art. 2(2)).
    pub provisional: bool,
    pub name: PersonName,
    pub date_of_birth: DateOfBirth,
    pub contact: Contact,
}

/// Art. 2(1), 6: an application; the same `request_id` always names the
/// same application.
#[derive(Debug)]
pub struct NewApplication {
    pub request_id: Uuid,
    pub job_seeker_id: JobSeekerId,
    pub terms: TermsShown,
}

/// Art. 2(3): a device to attest; the same `request_id` always names the
/// same attestation.
#[derive(Debug)]
pub struct DeviceReport {
    pub request_id: Uuid,
    pub job_seeker_id: JobSeekerId,
    pub capability: DeviceCapability,
}

/// Art. 5, 12(4): the environment of an attested device; the same
/// `request_id` always names the same attestation.
#[derive(Debug)]
pub struct EnvironmentAttestationRequest {
    pub request_id: Uuid,
    pub job_seeker_id: JobSeekerId,
    pub device_attestation_id: Uuid,
    pub report: EnvironmentReport,
}

/// Art. 8: a person's personal data to erase.
#[derive(Debug)]
pub struct ErasureRequest {
    pub job_seeker_id: JobSeekerId,
    pub reason: ErasureReason,
    pub reference: Option<ErasureReference>,
}
