//! Fixtures for domain tests: one job seeker, commands and the events they
//! cause, at a fixed instant.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use hellowork_eventstore::Aggregate;
use hellowork_proto::registration::v1 as proto;
use hellowork_registration::domain::*;
use uuid::Uuid;

pub fn at() -> DateTime<Utc> {
    "2026-11-25T01:00:00Z".parse().unwrap()
}

pub fn today() -> NaiveDate {
    tokyo_date(at())
}

pub fn id() -> JobSeekerId {
    JobSeekerId::new("0190f2c4-0000-8000-8000-000000000001").unwrap()
}

pub fn numbered(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub fn register(channel: Channel, provisional: bool) -> Command {
    Command::Register(RegisterJobSeeker {
        job_seeker_id: id(),
        channel,
        registrant: match channel {
            Channel::Online => Registrant::ThePerson,
            Channel::Counter => Registrant::Staff,
        },
        provisional,
        name: PersonName::parse("山田", "太郎", "やまだ", "たろう").unwrap(),
        date_of_birth: DateOfBirth::parse(1990, 4, 1, today()).unwrap(),
        contact: Contact::parse("taro@example.jp", "090-1234-5678").unwrap(),
    })
}

pub fn registered(channel: Channel, provisional: bool) -> Event {
    let (proto_channel, category) = match channel {
        Channel::Online => (
            proto::RegistrationChannel::Online,
            proto::RegistrantCategory::OnlineRegistrant,
        ),
        Channel::Counter => (
            proto::RegistrationChannel::Counter,
            proto::RegistrantCategory::HelloWorkUser,
        ),
    };
    let status = if provisional {
        proto::RegistrationStatus::Provisional
    } else {
        proto::RegistrationStatus::Complete
    };
    Event::Registered(Registered {
        job_seeker_id: id().to_string(),
        channel: proto_channel,
        category,
        status,
        personal: PersonalData::Known(Personal {
            name: proto::PersonName {
                family_name: "山田".into(),
                given_name: "太郎".into(),
                family_name_reading: "やまだ".into(),
                given_name_reading: "たろう".into(),
            },
            date_of_birth: proto::Date {
                year: 1990,
                month: 4,
                day: 1,
            },
            contact: proto::Contact {
                email: "taro@example.jp".into(),
                phone_number: "09012345678".into(),
            },
        }),
    })
}

/// Art. 8: a registration read after its person's data key was destroyed.
pub fn registered_with_key_gone() -> Event {
    let Event::Registered(registered) = registered(Channel::Online, false) else {
        unreachable!()
    };
    Event::Registered(Registered {
        personal: PersonalData::Erased,
        ..registered
    })
}

/// Art. 8: erase the person at the APPI's request, case `APPI-1`.
pub fn erase() -> Command {
    Command::Erase(EraseJobSeeker {
        job_seeker_id: id(),
        reason: ErasureReason::AppiRequest,
        reference: ErasureReference::parse("APPI-1").unwrap(),
        at: at(),
    })
}

pub fn erased() -> Event {
    Event::Erased(proto::JobSeekerErased {
        job_seeker_id: id().to_string(),
        reason: proto::ErasureReason::AppiRequest.into(),
        reference: "APPI-1".into(),
        erased_at: Some(prost_types::Timestamp {
            seconds: at().timestamp(),
            nanos: 0,
        }),
    })
}

pub fn completed() -> Event {
    Event::RegistrationCompleted(proto::JobSeekerRegistrationCompleted {
        job_seeker_id: id().to_string(),
        category: proto::RegistrantCategory::OnlineRegistrant.into(),
    })
}

pub const SHA: &str = "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000";

pub fn apply(n: u128) -> Command {
    Command::Apply(ApplyForOnlineServices {
        job_seeker_id: id(),
        application_id: numbered(100 + n),
        terms: TermsShown::parse("2023-12-18", SHA, "6.0", SHA, "ja").unwrap(),
    })
}

pub fn applied(n: u128) -> Event {
    Event::OnlineServicesApplied(proto::OnlineServicesApplied {
        application_id: numbered(100 + n).to_string(),
        job_seeker_id: id().to_string(),
        terms_version: "2023-12-18".into(),
        terms_sha256: SHA.into(),
        meeting_app_terms_version: "6.0".into(),
        meeting_app_terms_sha256: SHA.into(),
        language: "ja".into(),
    })
}

pub fn converted(n: u128) -> Event {
    Event::ConvertedToHelloWorkUser(proto::RegistrantConvertedToHelloWorkUser {
        job_seeker_id: id().to_string(),
        application_id: numbered(100 + n).to_string(),
        from_category: proto::RegistrantCategory::OnlineRegistrant.into(),
        to_category: proto::RegistrantCategory::HelloWorkUser.into(),
    })
}

pub fn device_command(
    n: u128,
    owned: bool,
    has_webcam: bool,
    can_prepare_meeting_app: bool,
) -> Command {
    Command::AttestDevice(AttestDevice {
        job_seeker_id: id(),
        device_attestation_id: numbered(200 + n),
        capability: DeviceCapability {
            kind: DeviceKind::Pc,
            owned,
            has_webcam,
            can_prepare_meeting_app,
        },
    })
}

/// A device that is capable, or not owned.
pub fn attest_device(n: u128, capable: bool) -> Command {
    device_command(n, capable, true, true)
}

pub fn device_attested(n: u128, capable: bool) -> Event {
    Event::DeviceCapabilityAttested(proto::DeviceCapabilityAttested {
        device_attestation_id: numbered(200 + n).to_string(),
        job_seeker_id: id().to_string(),
        device_kind: proto::DeviceKind::Pc.into(),
        owned: capable,
        has_webcam: true,
        can_prepare_meeting_app: true,
        capable,
        failures: if capable {
            vec![]
        } else {
            vec![proto::DeviceCapabilityFailure::NotOwned.into()]
        },
    })
}

pub fn policy() -> EnvironmentPolicy {
    EnvironmentPolicy {
        lifecycle: OsLifecycle::embedded(),
        file_sharing: FileSharingList::default(),
        pattern_max_age: Duration::days(7),
        validity: Duration::days(30),
    }
}

/// A report on which every item passes at [`at`].
pub fn good_report() -> EnvironmentReport {
    EnvironmentReport {
        compromise_detected: false,
        connection: ConnectionType::HomeBroadband,
        operating_system: OperatingSystemReport {
            name: "Windows".into(),
            version: "11 25H2".into(),
            latest_security_patches_applied: true,
        },
        firewall_enabled: true,
        firewall_minimal_allowed_services: true,
        installed_software: vec!["Microsoft Office".into()],
        antivirus: AntivirusReport {
            installed: true,
            grade: AntivirusGrade::PaidEquivalent,
            patterns_updated_at: Some(at() - Duration::hours(3)),
        },
        meeting_app_ready: true,
        connectivity_checked: true,
        browser_up_to_date: true,
    }
}

pub fn attest_environment(n: u128, device: u128, report: EnvironmentReport) -> Command {
    attest_environment_at(n, device, report, at())
}

pub fn attest_environment_at(
    n: u128,
    device: u128,
    report: EnvironmentReport,
    when: DateTime<Utc>,
) -> Command {
    Command::AttestEnvironment(AttestEnvironment {
        job_seeker_id: id(),
        environment_attestation_id: numbered(300 + n),
        device_attestation_id: numbered(200 + device),
        report,
        at: when,
        policy: Arc::new(policy()),
    })
}

pub fn fold(events: &[Event]) -> JobSeeker {
    events
        .iter()
        .fold(JobSeeker::default(), |state, event| state.apply(event))
}

/// The single event `command` causes after `given`.
pub fn decide_one(given: &[Event], command: Command) -> Event {
    let mut events = fold(given)
        .decide(&command)
        .expect("the command is accepted");
    assert_eq!(events.len(), 1, "{events:?}");
    events.remove(0)
}
