//! Given/when/then for the `JobSeeker` aggregate: every rule of the terms the
//! registration service enforces, its success and each violation, without a
//! database.

mod support;

use hellowork_platform::ServiceError;
use hellowork_proto::registration::v1 as proto;
use hellowork_registration::domain::{
    Channel, Command, DomainError, EligibilityReason, Event, JobSeeker, Registrant,
};
use hellowork_testing::Scenario;
use support::domain::*;

#[test]
fn an_online_registration_is_recorded_as_an_online_registrant() {
    let registered = registered(Channel::Online, false);
    Scenario::<JobSeeker>::given([])
        .when(register(Channel::Online, false))
        .then_events([registered.clone()]);
    let Event::Registered(event) = registered else {
        unreachable!()
    };
    assert_eq!(event.category, proto::RegistrantCategory::OnlineRegistrant);
    assert_eq!(event.status, proto::RegistrationStatus::Complete);
}

#[test]
fn art_2_2_a_counter_registration_makes_a_hello_work_user_registrant() {
    let Event::Registered(event) = registered(Channel::Counter, false) else {
        unreachable!()
    };
    assert_eq!(event.category, proto::RegistrantCategory::HelloWorkUser);
    assert_eq!(event.channel, proto::RegistrationChannel::Counter);
}

#[test]
fn registering_the_same_person_again_writes_nothing() {
    Scenario::<JobSeeker>::given([registered(Channel::Online, false)])
        .when(register(Channel::Counter, false))
        .then_events([]);
}

#[test]
fn only_an_online_registration_can_be_provisional() {
    let error = Scenario::<JobSeeker>::given([])
        .when(register(Channel::Counter, true))
        .then_error();
    assert_eq!(error, DomainError::ProvisionalAtCounter);
    assert!(
        matches!(ServiceError::from(error), ServiceError::InvalidArgument(v) if v[0].field == "provisional")
    );
}

#[test]
fn art_2_2_the_office_completes_a_provisional_registration_once() {
    Scenario::<JobSeeker>::given([registered(Channel::Online, true)])
        .when(Command::CompleteRegistration {
            job_seeker_id: id(),
        })
        .then_events([completed()]);
    Scenario::<JobSeeker>::given([registered(Channel::Online, true), completed()])
        .when(Command::CompleteRegistration {
            job_seeker_id: id(),
        })
        .then_events([]);
}

#[test]
fn commands_for_an_unregistered_person_are_not_found() {
    for command in [
        Command::CompleteRegistration {
            job_seeker_id: id(),
        },
        apply(1),
        attest_device(1, true),
        attest_environment(1, 1, good_report()),
    ] {
        let error = Scenario::<JobSeeker>::given([]).when(command).then_error();
        assert_eq!(error, DomainError::NotRegistered(id()));
        assert!(matches!(
            ServiceError::from(error),
            ServiceError::NotFound { .. }
        ));
    }
}

#[test]
fn art_2_1_6_applying_records_the_terms_and_art_2_2_converts_an_online_registrant() {
    Scenario::<JobSeeker>::given([registered(Channel::Online, false)])
        .when(apply(1))
        .then_events([applied(1), converted(1)]);
}

#[test]
fn art_2_2_a_hello_work_user_applies_without_conversion() {
    Scenario::<JobSeeker>::given([registered(Channel::Counter, false)])
        .when(apply(1))
        .then_events([applied(1)]);
    Scenario::<JobSeeker>::given([registered(Channel::Online, false), applied(1), converted(1)])
        .when(apply(2))
        .then_events([applied(2)]);
}

#[test]
fn art_2_2_a_provisional_registration_may_not_apply() {
    let error = Scenario::<JobSeeker>::given([registered(Channel::Online, true)])
        .when(apply(1))
        .then_error();
    assert_eq!(error, DomainError::RegistrationIncomplete);
    assert!(error.to_string().starts_with("Art. 2(2)"));
    let ServiceError::Forbidden(violations) = ServiceError::from(error) else {
        panic!("forbidden")
    };
    assert_eq!(violations[0].article.reason(), "ART_2_2");
}

#[test]
fn art_2_2_after_completion_the_person_may_apply() {
    Scenario::<JobSeeker>::given([registered(Channel::Online, true), completed()])
        .when(apply(1))
        .then_events([applied(1), converted(1)]);
}

#[test]
fn a_repeated_application_writes_nothing() {
    Scenario::<JobSeeker>::given([registered(Channel::Online, false), applied(1), converted(1)])
        .when(apply(1))
        .then_events([]);
}

#[test]
fn art_2_3_a_capable_device_is_recorded_as_capable() {
    Scenario::<JobSeeker>::given([registered(Channel::Online, false)])
        .when(attest_device(1, true))
        .then_events([device_attested(1, true)]);
}

#[test]
fn art_2_3_every_reason_a_device_does_not_qualify_is_recorded() {
    let events = [registered(Channel::Online, false)];
    for (owned, webcam, app, failure) in [
        (false, true, true, proto::DeviceCapabilityFailure::NotOwned),
        (true, false, true, proto::DeviceCapabilityFailure::NoWebcam),
        (
            true,
            true,
            false,
            proto::DeviceCapabilityFailure::MeetingAppUnavailable,
        ),
    ] {
        let Event::DeviceCapabilityAttested(event) =
            decide_one(&events, device_command(1, owned, webcam, app))
        else {
            panic!("a device attestation")
        };
        assert!(!event.capable);
        assert_eq!(event.failures, vec![i32::from(failure)]);
    }
    let Event::DeviceCapabilityAttested(event) =
        decide_one(&events, device_command(2, false, false, false))
    else {
        panic!("a device attestation")
    };
    assert_eq!(event.failures.len(), 3);
}

#[test]
fn art_5_a_passing_environment_is_recorded_for_a_capable_device() {
    let given = [registered(Channel::Online, false), device_attested(1, true)];
    let Event::EnvironmentAttested(event) =
        decide_one(&given, attest_environment(1, 1, good_report()))
    else {
        panic!("an environment attestation")
    };
    assert!(event.passed);
    assert_eq!(event.items.len(), 9);
    assert_eq!(
        event.expires_at.unwrap().seconds,
        (at() + chrono::Duration::days(30)).timestamp()
    );
    assert_eq!(
        event.os_support.unwrap().lifecycle_table_version,
        "2026-11-25"
    );
}

/// The stored form of an environment attestation, field by field, as the
/// contract has it: the domain's own item and failure values become the
/// contract's numbers and each item's article its citation.
#[test]
fn art_5_an_environment_attestation_is_stored_in_the_contract_form() {
    let given = [registered(Channel::Online, false), device_attested(1, true)];
    let mut report = good_report();
    report.firewall_enabled = false;
    let event = decide_one(&given, attest_environment(1, 1, report));
    let passing = |item: proto::EnvironmentItem, article: &str| proto::EnvironmentItemResult {
        item: item.into(),
        passed: true,
        failures: vec![],
        article: article.into(),
    };
    let expected = proto::EnvironmentAttested {
        environment_attestation_id: numbered(301).to_string(),
        job_seeker_id: id().to_string(),
        device_attestation_id: numbered(201).to_string(),
        expires_at: Some(prost_types::Timestamp {
            seconds: (at() + chrono::Duration::days(30)).timestamp(),
            nanos: 0,
        }),
        passed: false,
        items: vec![
            passing(proto::EnvironmentItem::DeviceSecurity, "Art. 5(1)"),
            passing(proto::EnvironmentItem::InternetConnection, "Art. 5(2)"),
            passing(proto::EnvironmentItem::OperatingSystem, "Art. 5(3)"),
            proto::EnvironmentItemResult {
                item: proto::EnvironmentItem::Firewall.into(),
                passed: false,
                failures: vec![proto::EnvironmentFailureReason::FirewallDisabled.into()],
                article: "Art. 5(4)".into(),
            },
            passing(proto::EnvironmentItem::FileSharingSoftware, "Art. 5(5)"),
            passing(proto::EnvironmentItem::Antivirus, "Art. 5(6)"),
            passing(proto::EnvironmentItem::MeetingApp, "Art. 12(4)"),
            passing(proto::EnvironmentItem::Connectivity, "Art. 12(4)"),
            passing(proto::EnvironmentItem::Browser, "Art. 12(4)"),
        ],
        os_support: Some(proto::OsSupportStatus {
            os_name: "Windows".into(),
            os_version: "11 25H2".into(),
            support_ends_on: Some(proto::Date {
                year: 2027,
                month: 10,
                day: 12,
            }),
            lifecycle_table_version: "2026-11-25".into(),
            lifecycle_source:
                "https://learn.microsoft.com/lifecycle/products/windows-11-home-and-pro".into(),
        }),
        file_sharing_software_found: vec![],
    };
    assert_eq!(event, Event::EnvironmentAttested(expected));
}

#[test]
fn art_5_failing_items_are_recorded_with_their_clause_not_refused() {
    let given = [registered(Channel::Online, false), device_attested(1, true)];
    let mut report = good_report();
    report.operating_system.version = "10 22H2".into();
    report.installed_software.push("Winny".into());
    let Event::EnvironmentAttested(event) = decide_one(&given, attest_environment(1, 1, report))
    else {
        panic!("an environment attestation")
    };
    assert!(!event.passed);
    let failed: Vec<&str> = event
        .items
        .iter()
        .filter(|i| !i.passed)
        .map(|i| i.article.as_str())
        .collect();
    assert_eq!(failed, ["Art. 5(3)", "Art. 5(5)"]);
    assert_eq!(event.file_sharing_software_found, ["Winny"]);
}

#[test]
fn art_2_3_an_environment_needs_a_capable_attested_device() {
    let error = Scenario::<JobSeeker>::given([
        registered(Channel::Online, false),
        device_attested(1, false),
    ])
    .when(attest_environment(1, 1, good_report()))
    .then_error();
    assert!(matches!(error, DomainError::DeviceNotCapable(_)));
    let ServiceError::Forbidden(violations) = ServiceError::from(error) else {
        panic!("forbidden")
    };
    assert_eq!(violations[0].article.reason(), "ART_2_3");

    let error = Scenario::<JobSeeker>::given([registered(Channel::Online, false)])
        .when(attest_environment(1, 1, good_report()))
        .then_error();
    assert!(matches!(error, DomainError::UnknownDevice(_)));
}

#[test]
fn repeated_attestations_write_nothing() {
    let given = [registered(Channel::Online, false), device_attested(1, true)];
    Scenario::<JobSeeker>::given(given.clone())
        .when(attest_device(1, true))
        .then_events([]);
    let environment = decide_one(&given, attest_environment(1, 1, good_report()));
    Scenario::<JobSeeker>::given(given.into_iter().chain([environment]))
        .when(attest_environment(1, 1, good_report()))
        .then_events([]);
}

#[test]
fn art_8_erasing_records_the_erasure_once() {
    Scenario::<JobSeeker>::given([registered(Channel::Online, false)])
        .when(erase())
        .then_events([erased()]);
    Scenario::<JobSeeker>::given([registered(Channel::Online, false), erased()])
        .when(erase())
        .then_events([]);
}

#[test]
fn art_8_erasing_someone_never_registered_is_not_found() {
    let error = Scenario::<JobSeeker>::given([]).when(erase()).then_error();
    assert_eq!(error, DomainError::NotRegistered(id()));
    assert!(matches!(
        ServiceError::from(error),
        ServiceError::NotFound { .. }
    ));
}

#[test]
fn art_8_an_erased_person_shows_no_personal_data() {
    let state = fold(&[registered(Channel::Online, false), erased()]);
    assert!(state.is_erased());
    assert_eq!(
        state.registration().unwrap().personal,
        hellowork_registration::domain::PersonalData::Erased
    );
    assert_eq!(
        state.erasure().unwrap().reason,
        Some(hellowork_registration::domain::ErasureReason::AppiRequest)
    );
    assert!(!fold(&[registered(Channel::Online, false)]).is_erased());
}

/// Art. 8: every command but the erasure itself is refused on an erased
/// person, citing Art. 8; also when only the key is gone.
#[test]
fn art_8_an_erased_person_takes_no_further_command() {
    let commands = || {
        [
            register(Channel::Online, false),
            Command::CompleteRegistration {
                job_seeker_id: id(),
            },
            apply(1),
            attest_device(1, true),
            attest_environment(1, 1, good_report()),
        ]
    };
    let histories = [
        vec![
            registered(Channel::Online, false),
            device_attested(1, true),
            erased(),
        ],
        vec![registered_with_key_gone(), device_attested(1, true)],
    ];
    for history in histories {
        for command in commands() {
            let error = Scenario::<JobSeeker>::given(history.clone())
                .when(command.clone())
                .then_error();
            assert_eq!(error, DomainError::Erased, "{command:?}");
            let ServiceError::Forbidden(violations) = ServiceError::from(error) else {
                panic!("not FAILED_PRECONDITION");
            };
            assert_eq!(violations[0].article.to_string(), "Art. 8");
        }
    }
    // A person whose key is gone without a recorded erasure gets one.
    Scenario::<JobSeeker>::given([registered_with_key_gone()])
        .when(erase())
        .then_events([erased()]);
}

/// Art. 8: an unidentified online registrant typing an erased person's
/// identity is refused nothing and told nothing: no events, no error, as
/// for a person registered before.
#[test]
fn art_8_an_erased_identity_registered_by_someone_unidentified_writes_nothing_silently() {
    let Command::Register(mut command) = register(Channel::Online, false) else {
        unreachable!("register makes a registration")
    };
    command.registrant = Registrant::Unidentified;
    for history in [
        vec![registered(Channel::Online, false), erased()],
        vec![registered_with_key_gone()],
        vec![registered(Channel::Counter, false)],
    ] {
        Scenario::<JobSeeker>::given(history)
            .when(Command::Register(command.clone()))
            .then_events([]);
    }
}

#[test]
fn art_8_an_erased_person_is_not_eligible() {
    let history = fold(&[registered(Channel::Online, false), erased()]);
    let unmet = hellowork_registration::domain::eligibility(&history, &[], &[], at());
    assert!(
        unmet
            .iter()
            .any(|c| c.reason == EligibilityReason::Erased && c.article() == "Art. 8")
    );
    let live = fold(&[registered(Channel::Online, false)]);
    assert!(
        hellowork_registration::domain::eligibility(&live, &[], &[], at())
            .iter()
            .all(|c| c.reason != EligibilityReason::Erased)
    );
}
