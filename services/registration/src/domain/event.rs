//! The registration service's events: the prost messages of
//! `hellowork/registration/v1/events.proto`, stored and published as
//! protobuf, typed by their message name. A registration is the exception:
//! the domain holds its personal data in clear ([`Registered`]), and only
//! the adapter's codec (`crate::sealed::codec`) turns it into the sealed
//! message (Art. 8).

use hellowork_eventstore::DomainEvent;
use hellowork_proto::registration::v1::{
    self as proto, DeviceCapabilityAttested, EnvironmentAttested, JobSeekerErased,
    JobSeekerRegistered, JobSeekerRegistrationCompleted, OnlineServicesApplied,
    RegistrantConvertedToHelloWorkUser,
};
use prost::Message;

use super::personal::PersonalData;

/// One fact about a job seeker, past tense.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Registered(Registered),
    RegistrationCompleted(JobSeekerRegistrationCompleted),
    OnlineServicesApplied(OnlineServicesApplied),
    ConvertedToHelloWorkUser(RegistrantConvertedToHelloWorkUser),
    DeviceCapabilityAttested(DeviceCapabilityAttested),
    EnvironmentAttested(EnvironmentAttested),
    Erased(JobSeekerErased),
}

/// A `JobSeekerRegistered` as the domain sees it: its facts and, Art. 8,
/// the person's data in clear or erased.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    pub job_seeker_id: String,
    pub channel: proto::RegistrationChannel,
    pub category: proto::RegistrantCategory,
    pub status: proto::RegistrationStatus,
    pub personal: PersonalData,
}

impl Registered {
    /// Art. 8: the message without any personal field; the codec adds them
    /// sealed.
    pub fn facts(&self) -> JobSeekerRegistered {
        JobSeekerRegistered {
            job_seeker_id: self.job_seeker_id.clone(),
            channel: self.channel.into(),
            category: self.category.into(),
            status: self.status.into(),
            ..Default::default()
        }
    }

    /// The facts of `message` with `personal` as opened by the codec.
    pub fn from_facts(message: &JobSeekerRegistered, personal: PersonalData) -> Self {
        Self {
            job_seeker_id: message.job_seeker_id.clone(),
            channel: message.channel(),
            category: message.category(),
            status: message.status(),
            personal,
        }
    }
}

const REGISTERED: &str = "JobSeekerRegistered";

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Self::Registered(_) => REGISTERED,
            Self::RegistrationCompleted(_) => "JobSeekerRegistrationCompleted",
            Self::OnlineServicesApplied(_) => "OnlineServicesApplied",
            Self::ConvertedToHelloWorkUser(_) => "RegistrantConvertedToHelloWorkUser",
            Self::DeviceCapabilityAttested(_) => "DeviceCapabilityAttested",
            Self::EnvironmentAttested(_) => "EnvironmentAttested",
            Self::Erased(_) => "JobSeekerErased",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }

    /// Art. 8: a registration is encoded without its personal data, so this
    /// kernel form can never carry it in clear; registration stores events
    /// through `crate::sealed::codec`, which adds the sealed fields.
    fn encode(&self) -> Vec<u8> {
        match self {
            Self::Registered(event) => event.facts().encode_to_vec(),
            Self::RegistrationCompleted(event) => event.encode_to_vec(),
            Self::OnlineServicesApplied(event) => event.encode_to_vec(),
            Self::ConvertedToHelloWorkUser(event) => event.encode_to_vec(),
            Self::DeviceCapabilityAttested(event) => event.encode_to_vec(),
            Self::EnvironmentAttested(event) => event.encode_to_vec(),
            Self::Erased(event) => event.encode_to_vec(),
        }
    }

    /// Art. 8: a registration is refused: its personal data opens only with
    /// the person's data key, through `crate::sealed::codec`.
    fn decode(event_type: &str, payload: &[u8]) -> Result<Self, String> {
        fn decode<M: Message + Default>(payload: &[u8]) -> Result<M, String> {
            M::decode(payload).map_err(|error| error.to_string())
        }
        Ok(match event_type {
            REGISTERED => {
                return Err(
                    "JobSeekerRegistered holds sealed personal data; decode it with the person's data key"
                        .to_owned(),
                );
            }
            "JobSeekerRegistrationCompleted" => Self::RegistrationCompleted(decode(payload)?),
            "OnlineServicesApplied" => Self::OnlineServicesApplied(decode(payload)?),
            "RegistrantConvertedToHelloWorkUser" => {
                Self::ConvertedToHelloWorkUser(decode(payload)?)
            }
            "DeviceCapabilityAttested" => Self::DeviceCapabilityAttested(decode(payload)?),
            "EnvironmentAttested" => Self::EnvironmentAttested(decode(payload)?),
            "JobSeekerErased" => Self::Erased(decode(payload)?),
            other => return Err(format!("unknown registration event type {other}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::personal::Personal;

    #[test]
    fn events_round_trip_under_their_message_names() {
        let event = Event::OnlineServicesApplied(OnlineServicesApplied {
            application_id: "a".into(),
            job_seeker_id: "j".into(),
            ..Default::default()
        });
        assert_eq!(event.event_type(), "OnlineServicesApplied");
        assert_eq!(
            Event::decode(event.event_type(), &event.encode()).unwrap(),
            event
        );
        assert!(Event::decode("Nope", &[]).is_err());
    }

    #[test]
    fn art_8_the_kernel_form_of_a_registration_never_holds_personal_data() {
        let event = Event::Registered(Registered {
            job_seeker_id: "j".into(),
            channel: proto::RegistrationChannel::Online,
            category: proto::RegistrantCategory::OnlineRegistrant,
            status: proto::RegistrationStatus::Complete,
            personal: PersonalData::Known(Personal {
                name: proto::PersonName {
                    family_name: "Yamada".into(),
                    ..Default::default()
                },
                date_of_birth: proto::Date::default(),
                contact: proto::Contact {
                    email: "taro@example.jp".into(),
                    ..Default::default()
                },
            }),
        });
        let bytes = event.encode();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("Yamada") && !text.contains("taro@"));
        assert!(Event::decode(REGISTERED, &bytes).is_err());
    }
}
