//! What a job seeker's aggregate is asked to do. Every instant a rule needs
//! is part of the command; the domain never reads a clock.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    birth::DateOfBirth,
    contact::Contact,
    contract::{Channel, ErasureReason},
    device::DeviceCapability,
    environment::{EnvironmentPolicy, EnvironmentReport},
    erasure::ErasureReference,
    identity::JobSeekerId,
    name::PersonName,
    registrant::Registrant,
    terms::TermsShown,
};

/// A command for one job seeker's stream.
#[derive(Debug, Clone)]
pub enum Command {
    Register(RegisterJobSeeker),
    CompleteRegistration { job_seeker_id: JobSeekerId },
    Apply(ApplyForOnlineServices),
    AttestDevice(AttestDevice),
    AttestEnvironment(AttestEnvironment),
    Erase(EraseJobSeeker),
}

/// Register a job seeker (求職登録), online or at the counter.
#[derive(Debug, Clone)]
pub struct RegisterJobSeeker {
    /// Derived from the identity (see `identity::derived_id`).
    pub job_seeker_id: JobSeekerId,
    pub channel: Channel,
    /// Who registers: what they are told, and whether an erased identity
    /// is refused to them (Art. 8).
    pub registrant: Registrant,
    /// Online only: the office still has to complete it (Art. 2(2)).
    pub provisional: bool,
    pub name: PersonName,
    pub date_of_birth: DateOfBirth,
    pub contact: Contact,
}

/// Apply for online services (Art. 2(1), 6).
#[derive(Debug, Clone)]
pub struct ApplyForOnlineServices {
    pub job_seeker_id: JobSeekerId,
    /// Derived from the client's request id, so a retry is recognised.
    pub application_id: Uuid,
    pub terms: TermsShown,
}

/// Attest a device (Art. 2(3)).
#[derive(Debug, Clone)]
pub struct AttestDevice {
    pub job_seeker_id: JobSeekerId,
    pub device_attestation_id: Uuid,
    pub capability: DeviceCapability,
}

/// Attest the environment of a capable device (Art. 5(1)-(6), 12(4)).
#[derive(Debug, Clone)]
pub struct AttestEnvironment {
    pub job_seeker_id: JobSeekerId,
    pub environment_attestation_id: Uuid,
    pub device_attestation_id: Uuid,
    pub report: EnvironmentReport,
    /// When the attestation is made: the OS support date and pattern age are
    /// judged at this instant, and its expiry counts from it.
    pub at: DateTime<Utc>,
    pub policy: Arc<EnvironmentPolicy>,
}

/// Art. 8: erase a person's personal data.
#[derive(Debug, Clone)]
pub struct EraseJobSeeker {
    pub job_seeker_id: JobSeekerId,
    pub reason: ErasureReason,
    pub reference: Option<ErasureReference>,
    pub at: DateTime<Utc>,
}
