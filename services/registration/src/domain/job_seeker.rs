//! The `JobSeeker` aggregate: one person's registration, applications for
//! online services and attestations (Art. 2, 5, 6, 12(4)), and their
//! erasure (Art. 8). Pure decide/apply.

use hellowork_eventstore::Aggregate;
use hellowork_proto::registration::v1::{
    DeviceCapabilityAttested, EnvironmentAttested, JobSeekerErased, JobSeekerRegistrationCompleted,
    OnlineServicesApplied, RegistrantConvertedToHelloWorkUser,
};
use hellowork_values::time::timestamp;
use uuid::Uuid;

use super::{
    command::{
        ApplyForOnlineServices, AttestDevice, AttestEnvironment, Command, EraseJobSeeker,
        RegisterJobSeeker,
    },
    contract::{Channel, RegistrantCategory, RegistrationStatus},
    environment::evaluate_environment,
    error::DomainError,
    event::{Event, Registered},
    personal::{PersonRecord, Personal, PersonalData},
    records::{Application, DeviceAttestation, EnvironmentAttestation, Erasure, Registration},
    registrant::Registrant,
};

/// One job seeker, folded from their stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobSeeker {
    registration: Option<Registration>,
    /// In order; the last is the latest.
    applications: Vec<Application>,
    devices: Vec<DeviceAttestation>,
    environments: Vec<EnvironmentAttestation>,
    erasure: Option<Erasure>,
}

impl JobSeeker {
    pub fn registration(&self) -> Option<&Registration> {
        self.registration.as_ref()
    }

    /// Every application, oldest first.
    pub fn applications(&self) -> &[Application] {
        &self.applications
    }

    pub fn latest_application(&self) -> Option<&Application> {
        self.applications.last()
    }

    pub fn application(&self, id: Uuid) -> Option<&Application> {
        self.applications.iter().find(|a| a.application_id == id)
    }

    pub fn device(&self, id: Uuid) -> Option<&DeviceAttestation> {
        self.devices.iter().find(|d| d.device_attestation_id == id)
    }

    pub fn environment(&self, id: Uuid) -> Option<&EnvironmentAttestation> {
        self.environments
            .iter()
            .find(|e| e.environment_attestation_id == id)
    }

    /// Art. 2(3): whether any attested device qualifies.
    pub fn has_capable_device(&self) -> bool {
        self.devices.iter().any(|d| d.capable)
    }

    /// Art. 5, 12(4): the latest environment attestation of a capable
    /// device: the one that speaks for the person's environment now.
    pub fn current_environment(&self) -> Option<&EnvironmentAttestation> {
        self.environments.iter().rev().find(|environment| {
            self.devices
                .iter()
                .any(|d| d.capable && d.device_attestation_id == environment.device_attestation_id)
        })
    }

    /// Art. 8: the recorded erasure, if the person was erased.
    pub fn erasure(&self) -> Option<&Erasure> {
        self.erasure.as_ref()
    }

    /// Art. 8: whether the person's personal data is gone: erased by
    /// `EraseJobSeeker`, or unreadable because their data key is.
    pub fn is_erased(&self) -> bool {
        self.erasure.is_some()
            || self
                .registration
                .as_ref()
                .is_some_and(|r| r.personal.is_erased())
    }

    /// The registration of a person who may still be acted on.
    fn registered(&self, id: super::JobSeekerId) -> Result<&Registration, DomainError> {
        let registration = self
            .registration
            .as_ref()
            .ok_or(DomainError::NotRegistered(id))?;
        // Art. 8: an erased person's record takes no further command.
        if self.is_erased() {
            return Err(DomainError::Erased);
        }
        Ok(registration)
    }

    fn register(&self, command: &RegisterJobSeeker) -> Result<Vec<Event>, DomainError> {
        if command.provisional && command.channel == Channel::Counter {
            return Err(DomainError::ProvisionalAtCounter);
        }
        // Art. 8: the same person registering after their erasure would
        // undo it under the same id; refused, but silently to an
        // unidentified registrant, who must not learn that the identity was
        // ever registered (`Registrant::Unidentified`).
        if self.is_erased() {
            return match command.registrant {
                Registrant::Unidentified => Ok(Vec::new()),
                Registrant::Staff | Registrant::ThePerson => Err(DomainError::Erased),
            };
        }
        // The same person (same derived id) registering again gets the
        // existing registration: nothing is written.
        if self.registration.is_some() {
            return Ok(Vec::new());
        }
        // Art. 2(2): registering at the counter makes a Hello Work user
        // registrant directly.
        let category = match command.channel {
            Channel::Online => RegistrantCategory::OnlineRegistrant,
            Channel::Counter => RegistrantCategory::HelloWorkUser,
        };
        let status = if command.provisional {
            RegistrationStatus::Provisional
        } else {
            RegistrationStatus::Complete
        };
        Ok(vec![Event::Registered(Registered {
            job_seeker_id: command.job_seeker_id.to_string(),
            channel: command.channel.into(),
            category: category.into(),
            status: status.into(),
            personal: PersonalData::Known(Personal::of(
                &command.name,
                command.date_of_birth.date(),
                &command.contact,
            )),
        })])
    }

    fn complete(&self, id: super::JobSeekerId) -> Result<Vec<Event>, DomainError> {
        let registration = self.registered(id)?;
        if registration.status == RegistrationStatus::Complete {
            return Ok(Vec::new());
        }
        Ok(vec![Event::RegistrationCompleted(
            JobSeekerRegistrationCompleted {
                job_seeker_id: id.to_string(),
                category: registration.category.into(),
            },
        )])
    }

    /// Art. 2(1), 2(2), 6: applying needs a complete registration; it records
    /// the terms shown (deemed consent, recorded by the consent service) and
    /// converts an online registrant into a Hello Work user registrant.
    fn apply_for_online_services(
        &self,
        command: &ApplyForOnlineServices,
    ) -> Result<Vec<Event>, DomainError> {
        let registration = self.registered(command.job_seeker_id)?;
        // Art. 2(2): only a complete job-seeker registration may apply.
        if registration.status != RegistrationStatus::Complete {
            return Err(DomainError::RegistrationIncomplete);
        }
        if self.application(command.application_id).is_some() {
            return Ok(Vec::new());
        }
        let application_id = command.application_id.to_string();
        let job_seeker_id = command.job_seeker_id.to_string();
        let terms = &command.terms;
        let mut events = vec![Event::OnlineServicesApplied(OnlineServicesApplied {
            application_id: application_id.clone(),
            job_seeker_id: job_seeker_id.clone(),
            terms_version: terms.terms_version.as_str().to_owned(),
            terms_sha256: terms.terms_sha256.as_str().to_owned(),
            meeting_app_terms_version: terms.meeting_app_terms_version.as_str().to_owned(),
            meeting_app_terms_sha256: terms.meeting_app_terms_sha256.as_str().to_owned(),
            language: terms.language.as_str().to_owned(),
        })];
        // Art. 2(2): an online registrant becomes a Hello Work user
        // registrant by applying, as an explicit event.
        if registration.category == RegistrantCategory::OnlineRegistrant {
            events.push(Event::ConvertedToHelloWorkUser(
                RegistrantConvertedToHelloWorkUser {
                    job_seeker_id,
                    application_id,
                    from_category: RegistrantCategory::OnlineRegistrant.into(),
                    to_category: RegistrantCategory::HelloWorkUser.into(),
                },
            ));
        }
        Ok(events)
    }

    /// Art. 2(3): records the device and every reason it does not qualify.
    fn attest_device(&self, command: &AttestDevice) -> Result<Vec<Event>, DomainError> {
        self.registered(command.job_seeker_id)?;
        if self.device(command.device_attestation_id).is_some() {
            return Ok(Vec::new());
        }
        let capability = command.capability;
        let failures = capability.failures();
        Ok(vec![Event::DeviceCapabilityAttested(
            DeviceCapabilityAttested {
                device_attestation_id: command.device_attestation_id.to_string(),
                job_seeker_id: command.job_seeker_id.to_string(),
                device_kind: capability.kind.into(),
                owned: capability.owned,
                has_webcam: capability.has_webcam,
                can_prepare_meeting_app: capability.can_prepare_meeting_app,
                capable: failures.is_empty(),
                failures: failures.into_iter().map(i32::from).collect(),
            },
        )])
    }

    /// Art. 5(1)-(6), 12(4): evaluates and records the environment of a
    /// capable device (Art. 2(3)); failing items are recorded, not refused.
    fn attest_environment(&self, command: &AttestEnvironment) -> Result<Vec<Event>, DomainError> {
        self.registered(command.job_seeker_id)?;
        if self
            .environment(command.environment_attestation_id)
            .is_some()
        {
            return Ok(Vec::new());
        }
        let device = self
            .device(command.device_attestation_id)
            .ok_or(DomainError::UnknownDevice(command.device_attestation_id))?;
        // Art. 2(3): an environment belongs to a device that qualifies.
        if !device.capable {
            return Err(DomainError::DeviceNotCapable(command.device_attestation_id));
        }
        let evaluation = evaluate_environment(&command.report, &command.policy, command.at);
        Ok(vec![Event::EnvironmentAttested(EnvironmentAttested {
            environment_attestation_id: command.environment_attestation_id.to_string(),
            job_seeker_id: command.job_seeker_id.to_string(),
            device_attestation_id: command.device_attestation_id.to_string(),
            expires_at: Some(timestamp(evaluation.expires_at)),
            passed: evaluation.passed,
            items: evaluation.items.iter().map(|item| item.message()).collect(),
            os_support: Some(evaluation.os_support.message()),
            file_sharing_software_found: evaluation.file_sharing_found,
        })])
    }

    /// Art. 8: records the erasure once; the service then destroys the data
    /// key (`crate::service`).
    /// Erasing again writes nothing.
    fn erase(&self, command: &EraseJobSeeker) -> Result<Vec<Event>, DomainError> {
        if self.registration.is_none() {
            return Err(DomainError::NotRegistered(command.job_seeker_id));
        }
        if self.erasure.is_some() {
            return Ok(Vec::new());
        }
        Ok(vec![Event::Erased(JobSeekerErased {
            job_seeker_id: command.job_seeker_id.to_string(),
            reason: command.reason.into(),
            reference: command
                .reference
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            erased_at: Some(timestamp(command.at)),
        })])
    }
}

impl Aggregate for JobSeeker {
    type Command = Command;
    type Event = Event;
    type Error = DomainError;

    fn decide(&self, command: &Command) -> Result<Vec<Event>, DomainError> {
        match command {
            Command::Register(command) => self.register(command),
            Command::CompleteRegistration { job_seeker_id } => self.complete(*job_seeker_id),
            Command::Apply(command) => self.apply_for_online_services(command),
            Command::AttestDevice(command) => self.attest_device(command),
            Command::AttestEnvironment(command) => self.attest_environment(command),
            Command::Erase(command) => self.erase(command),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Registered(event) => {
                // What no registration writes (UNSPECIFIED) reads as before
                // this aggregate kept domain values: online, provisional.
                self.registration = Some(Registration {
                    channel: Channel::try_from(event.channel).unwrap_or(Channel::Online),
                    category: category(event.category),
                    status: RegistrationStatus::try_from(event.status)
                        .unwrap_or(RegistrationStatus::Provisional),
                    personal: event.personal.map(PersonRecord::of),
                });
            }
            Event::RegistrationCompleted(event) => {
                if let Some(registration) = self.registration.as_mut() {
                    registration.status = RegistrationStatus::Complete;
                    registration.category = category(event.category());
                }
            }
            Event::OnlineServicesApplied(event) => {
                self.applications.push(Application::of(event));
            }
            Event::ConvertedToHelloWorkUser(event) => {
                if let Some(registration) = self.registration.as_mut() {
                    registration.category = category(event.to_category());
                }
            }
            Event::DeviceCapabilityAttested(event) => {
                self.devices.push(DeviceAttestation::of(event));
            }
            Event::EnvironmentAttested(event) => {
                self.environments.push(EnvironmentAttestation::of(event));
            }
            Event::Erased(event) => {
                if let Some(registration) = self.registration.as_mut() {
                    registration.personal = PersonalData::Erased;
                }
                self.erasure = Some(Erasure::of(event));
            }
        }
        self
    }
}

/// A recorded category; what no event writes reads as an online registrant.
fn category(category: impl Into<i32>) -> RegistrantCategory {
    RegistrantCategory::try_from(category.into()).unwrap_or(RegistrantCategory::OnlineRegistrant)
}
