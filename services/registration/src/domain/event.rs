//! The registration service's events: the prost messages of
//! `hellowork/registration/v1/events.proto`, stored and published as
//! protobuf, typed by their message name.

use hellowork_eventstore::DomainEvent;
use hellowork_proto::registration::v1::{
    DeviceCapabilityAttested, EnvironmentAttested, JobSeekerRegistered,
    JobSeekerRegistrationCompleted, OnlineServicesApplied, RegistrantConvertedToHelloWorkUser,
};
use prost::Message;

/// One fact about a job seeker, past tense.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Registered(JobSeekerRegistered),
    RegistrationCompleted(JobSeekerRegistrationCompleted),
    OnlineServicesApplied(OnlineServicesApplied),
    ConvertedToHelloWorkUser(RegistrantConvertedToHelloWorkUser),
    DeviceCapabilityAttested(DeviceCapabilityAttested),
    EnvironmentAttested(EnvironmentAttested),
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Self::Registered(_) => "JobSeekerRegistered",
            Self::RegistrationCompleted(_) => "JobSeekerRegistrationCompleted",
            Self::OnlineServicesApplied(_) => "OnlineServicesApplied",
            Self::ConvertedToHelloWorkUser(_) => "RegistrantConvertedToHelloWorkUser",
            Self::DeviceCapabilityAttested(_) => "DeviceCapabilityAttested",
            Self::EnvironmentAttested(_) => "EnvironmentAttested",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn encode(&self) -> Vec<u8> {
        match self {
            Self::Registered(event) => event.encode_to_vec(),
            Self::RegistrationCompleted(event) => event.encode_to_vec(),
            Self::OnlineServicesApplied(event) => event.encode_to_vec(),
            Self::ConvertedToHelloWorkUser(event) => event.encode_to_vec(),
            Self::DeviceCapabilityAttested(event) => event.encode_to_vec(),
            Self::EnvironmentAttested(event) => event.encode_to_vec(),
        }
    }

    fn decode(event_type: &str, payload: &[u8]) -> Result<Self, String> {
        fn decode<M: Message + Default>(payload: &[u8]) -> Result<M, String> {
            M::decode(payload).map_err(|error| error.to_string())
        }
        Ok(match event_type {
            "JobSeekerRegistered" => Self::Registered(decode(payload)?),
            "JobSeekerRegistrationCompleted" => Self::RegistrationCompleted(decode(payload)?),
            "OnlineServicesApplied" => Self::OnlineServicesApplied(decode(payload)?),
            "RegistrantConvertedToHelloWorkUser" => {
                Self::ConvertedToHelloWorkUser(decode(payload)?)
            }
            "DeviceCapabilityAttested" => Self::DeviceCapabilityAttested(decode(payload)?),
            "EnvironmentAttested" => Self::EnvironmentAttested(decode(payload)?),
            other => return Err(format!("unknown registration event type {other}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
