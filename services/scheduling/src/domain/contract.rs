//! The domain's closed enumerations and their names in the contract
//! (`hellowork.scheduling.v1`), declared with
//! [`hellowork_values::contract_enum!`]. Commands and state hold these; an
//! event or an answer carries the contract's.

use hellowork_proto::scheduling::v1 as proto;
use hellowork_values::contract_enum;

contract_enum! {
    /// Art. 1: what a slot offers.
    Offering => proto::Offering {
        Counselling,
        JobReferral,
        /// The only offering with many participants.
        Seminar,
        Interview,
        ManagedSelection,
    }
}

contract_enum! {
    /// Where a booking is in its life.
    BookingState => proto::BookingState { Confirmed, InSession, Completed, Cancelled, Stopped }
}

contract_enum! {
    /// Art. 12(3): who attends beside the person.
    AttendantKind => proto::AttendantKind { Interpreter, Caregiver, Other }
}

contract_enum! {
    /// Art. 12(4), 5(5): one item of the pre-session checklist.
    ChecklistItem => proto::ChecklistItem {
        MeetingAppReady,
        ConnectionChecked,
        OsUpToDate,
        FirewallEnabled,
        BrowserUpToDate,
        UnneededSoftwareClosed,
    }
}

contract_enum! {
    /// Art. 3, 12(2)-(5): what a booking confirmation states.
    ConfirmationNotice => proto::ConfirmationNotice {
        FreeOfCharge,
        DeviceAndDataCostsBorneByUser,
        RecordingProhibited,
        PrivateRoomAndAttendants,
        PrepareBeforeSession,
    }
}

contract_enum! {
    /// Why a booking was cancelled.
    CancellationReason => proto::CancellationReason {
        ByJobSeeker,
        ByOffice,
        /// Art. 12(1).
        OnlineServicesRefused,
    }
}

contract_enum! {
    /// Art. 12(1), 12(2): the conduct a session is stopped or services are
    /// refused for.
    ConductReason => proto::ConductReason {
        Threat,
        AbusiveLanguage,
        NonJobPurpose,
        RecordingDetected,
        OtherObstruction,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_its_contract_name_and_back() {
        for &offering in Offering::ALL {
            assert_eq!(Offering::try_from(i32::from(offering)), Ok(offering));
        }
        for &item in ChecklistItem::ALL {
            assert_eq!(
                ChecklistItem::try_from(proto::ChecklistItem::from(item)),
                Ok(item)
            );
        }
        for &state in BookingState::ALL {
            assert_eq!(BookingState::try_from(i32::from(state)), Ok(state));
        }
        for &kind in AttendantKind::ALL {
            assert_eq!(AttendantKind::try_from(i32::from(kind)), Ok(kind));
        }
        for &notice in ConfirmationNotice::ALL {
            assert_eq!(ConfirmationNotice::try_from(i32::from(notice)), Ok(notice));
        }
        for &reason in CancellationReason::ALL {
            assert_eq!(CancellationReason::try_from(i32::from(reason)), Ok(reason));
        }
        for &reason in ConductReason::ALL {
            assert_eq!(ConductReason::try_from(i32::from(reason)), Ok(reason));
        }
        assert!(Offering::try_from(proto::Offering::Unspecified).is_err());
        assert!(ConductReason::try_from(99).is_err());
    }
}
