//! The domain's closed enumerations and their names in the contract
//! (`hellowork.registration.v1`), declared with
//! [`hellowork_values::contract_enum!`]. The domain decides over its own
//! enums; an event or an answer carries the contract's.

use hellowork_proto::registration::v1 as proto;
pub use hellowork_values::Unspecified;
use hellowork_values::contract_enum;

contract_enum! {
    /// How the person registered.
    Channel => proto::RegistrationChannel {
        /// オンライン登録: by the person over the internet.
        Online,
        /// At the office counter, by staff.
        Counter,
    }
}

contract_enum! {
    /// Art. 2(2): the registrant category.
    RegistrantCategory => proto::RegistrantCategory {
        /// オンライン登録者.
        OnlineRegistrant,
        /// ハローワーク利用登録者.
        HelloWorkUser,
    }
}

contract_enum! {
    /// Art. 2(2): whether the registration is complete.
    RegistrationStatus => proto::RegistrationStatus { Provisional, Complete }
}

contract_enum! {
    /// Kind of device (Art. 2(3)).
    DeviceKind => proto::DeviceKind { Smartphone, Tablet, Pc }
}

contract_enum! {
    /// Art. 2(3): one reason a device does not qualify.
    DeviceFailure => proto::DeviceCapabilityFailure {
        /// The person does not own (保有) it.
        NotOwned,
        /// It cannot communicate by webcam.
        NoWebcam,
        /// The designated meeting app (Art. 4) cannot be prepared on it.
        MeetingAppUnavailable,
    }
}

contract_enum! {
    /// Art. 5(2): how the device reaches the internet.
    ConnectionType => proto::ConnectionType {
        None,
        HomeBroadband,
        MobileNetwork,
        ManagedNetwork,
        FreePublicWifi,
    }
}

contract_enum! {
    /// Art. 5(6): grade of the installed antivirus.
    AntivirusGrade => proto::AntivirusGrade { Free, PaidEquivalent }
}

contract_enum! {
    /// Art. 5(1)-(6), 12(4): one item of an environment attestation.
    EnvironmentItem => proto::EnvironmentItem {
        DeviceSecurity,
        InternetConnection,
        OperatingSystem,
        Firewall,
        FileSharingSoftware,
        Antivirus,
        MeetingApp,
        Connectivity,
        Browser,
    }
}

contract_enum! {
    /// Art. 5(1)-(6), 12(4): why an environment item fails.
    EnvironmentFailure => proto::EnvironmentFailureReason {
        CompromiseDetected,
        NotConnected,
        UnsafePublicNetwork,
        OsSupportEnded,
        OsUnknown,
        OsPatchesMissing,
        FirewallDisabled,
        FirewallNotMinimal,
        FileSharingSoftwarePresent,
        AntivirusMissing,
        AntivirusNotPaidGrade,
        AntivirusPatternsOutdated,
        MeetingAppNotReady,
        ConnectivityNotChecked,
        BrowserOutdated,
    }
}

contract_enum! {
    /// Art. 8: why a person's personal data is erased.
    ErasureReason => proto::ErasureReason {
        /// The person asked for it under the APPI.
        AppiRequest,
        /// The retention period ended.
        RetentionEnded,
    }
}

contract_enum! {
    /// Art. 2, 5, 6, 8, 12: which condition of eligibility is not met.
    EligibilityReason => proto::EligibilityReason {
        RegistrationIncomplete,
        NotApplied,
        ConsentMissing,
        ConsentWithdrawn,
        NoCapableDevice,
        EnvironmentNotAttested,
        EnvironmentItemFailed,
        EnvironmentAttestationExpired,
        Refused,
        Erased,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every domain value has a contract name and comes back from it, and
    /// every contract number is either a domain value or refused (only
    /// `UNSPECIFIED` and numbers the contract does not know), so neither
    /// side has a value the other cannot say.
    fn round_trips<D, P>(all: &[D])
    where
        D: Copy + PartialEq + std::fmt::Debug + TryFrom<i32, Error = Unspecified> + Into<i32>,
        P: TryFrom<i32>,
    {
        for value in all {
            let number: i32 = (*value).into();
            assert_ne!(number, 0, "{value:?} is named UNSPECIFIED");
            assert_eq!(D::try_from(number), Ok(*value));
        }
        for number in -1..64 {
            match D::try_from(number) {
                Ok(value) => assert!(all.contains(&value)),
                Err(Unspecified(n)) => {
                    assert_eq!(n, number);
                    let known = P::try_from(number).is_ok();
                    assert!(number == 0 || !known, "{number} has no domain value");
                }
            }
        }
    }

    #[test]
    fn every_enum_round_trips_through_the_contract() {
        round_trips::<Channel, proto::RegistrationChannel>(Channel::ALL);
        round_trips::<RegistrantCategory, proto::RegistrantCategory>(RegistrantCategory::ALL);
        round_trips::<RegistrationStatus, proto::RegistrationStatus>(RegistrationStatus::ALL);
        round_trips::<DeviceKind, proto::DeviceKind>(DeviceKind::ALL);
        round_trips::<DeviceFailure, proto::DeviceCapabilityFailure>(DeviceFailure::ALL);
        round_trips::<ConnectionType, proto::ConnectionType>(ConnectionType::ALL);
        round_trips::<AntivirusGrade, proto::AntivirusGrade>(AntivirusGrade::ALL);
        round_trips::<EnvironmentItem, proto::EnvironmentItem>(EnvironmentItem::ALL);
        round_trips::<EnvironmentFailure, proto::EnvironmentFailureReason>(EnvironmentFailure::ALL);
        round_trips::<ErasureReason, proto::ErasureReason>(ErasureReason::ALL);
        round_trips::<EligibilityReason, proto::EligibilityReason>(EligibilityReason::ALL);
    }

    #[test]
    fn unspecified_is_refused_by_name_and_number() {
        assert_eq!(
            DeviceKind::try_from(proto::DeviceKind::Unspecified),
            Err(Unspecified(0))
        );
        assert_eq!(Channel::try_from(0), Err(Unspecified(0)));
        assert_eq!(ErasureReason::try_from(99), Err(Unspecified(99)));
    }
}
