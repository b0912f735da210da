//! One booking's own life (Art. 7, 12): what the person declares and
//! confirms before the session, joining and leaving it, and the office
//! stopping it. Each rule is decided on the booking alone (joining and
//! leaving also name its slot), so this is where a booking's own stream
//! will cut from the counsellor's schedule, which keeps the seats.

use chrono::{DateTime, Utc};
use hellowork_proto::scheduling::v1::{
    AttendantDeclared, BookingState, CancellationReason, ChecklistItem, NoRecordingAcknowledged,
    PreSessionChecklistCompleted, PrivateRoomAcknowledged, SessionJoined, SessionLeft,
    SessionStopped,
};

use super::{
    command::{CompleteChecklist, DeclareAttendant, Join, Leave, Stop},
    error::{DomainError, NotReady},
    event::Event,
    schedule::Slot,
};

/// Art. 12(4), 5(5): the items the pre-session checklist confirms, all of
/// them required.
pub const REQUIRED_CHECKLIST: [ChecklistItem; 6] = [
    ChecklistItem::MeetingAppReady,
    ChecklistItem::ConnectionChecked,
    ChecklistItem::OsUpToDate,
    ChecklistItem::FirewallEnabled,
    ChecklistItem::BrowserUpToDate,
    ChecklistItem::UnneededSoftwareClosed,
];

/// One person's seat.
#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    pub booking_id: String,
    pub slot_id: String,
    pub job_seeker_id: String,
    pub state: BookingState,
    pub attendant_cutoff: DateTime<Utc>,
    pub attendants: Vec<AttendantDeclared>,
    pub checklist_completed: bool,
    pub private_room_acknowledged: bool,
    pub no_recording_acknowledged: bool,
    pub cancellation_reason: Option<CancellationReason>,
    pub stop: Option<SessionStopped>,
}

impl Booking {
    /// Holds a seat: not cancelled.
    pub fn is_active(&self) -> bool {
        self.state != BookingState::Cancelled
    }

    /// The booking if it still waits for its session.
    pub(super) fn open(&self) -> Result<&Self, DomainError> {
        if self.state != BookingState::Confirmed {
            return Err(DomainError::BookingNotOpen(self.booking_id.clone()));
        }
        Ok(self)
    }

    /// Art. 12(3): an interpreter or caregiver is declared before the
    /// configured cut-off before the session; later additions are refused.
    pub(super) fn declare_attendant(
        &self,
        command: &DeclareAttendant,
    ) -> Result<Vec<Event>, DomainError> {
        let booking = self;
        if booking
            .attendants
            .iter()
            .any(|a| a.attendant_id == command.attendant_id)
        {
            return Ok(Vec::new());
        }
        let booking = self.open()?;
        if command.at > booking.attendant_cutoff {
            return Err(DomainError::AttendantCutoffPassed);
        }
        Ok(vec![Event::AttendantDeclared(AttendantDeclared {
            booking_id: booking.booking_id.clone(),
            attendant_id: command.attendant_id.clone(),
            kind: command.kind.into(),
        })])
    }

    /// Art. 12(4): the pre-session checklist confirms every item (app ready,
    /// connection checked, OS, firewall and browser up to date, unneeded
    /// software closed); a missing item is refused citing Art. 12(4).
    pub(super) fn complete_checklist(
        &self,
        command: &CompleteChecklist,
    ) -> Result<Vec<Event>, DomainError> {
        let booking = self.open()?;
        let missing: Vec<ChecklistItem> = REQUIRED_CHECKLIST
            .into_iter()
            .filter(|item| !command.confirmed.contains(item))
            .collect();
        if !missing.is_empty() {
            return Err(DomainError::ChecklistIncomplete(missing));
        }
        if booking.checklist_completed {
            return Ok(Vec::new());
        }
        Ok(vec![Event::ChecklistCompleted(
            PreSessionChecklistCompleted {
                booking_id: booking.booking_id.clone(),
                job_seeker_id: booking.job_seeker_id.clone(),
                confirmed_items: REQUIRED_CHECKLIST.into_iter().map(i32::from).collect(),
            },
        )])
    }

    /// Art. 12(3), 8(2): the person will be in a private room or with no one
    /// nearby.
    pub(super) fn acknowledge_private_room(&self) -> Result<Vec<Event>, DomainError> {
        let booking = self.open()?;
        if booking.private_room_acknowledged {
            return Ok(Vec::new());
        }
        Ok(vec![Event::PrivateRoomAcknowledged(
            PrivateRoomAcknowledged {
                booking_id: booking.booking_id.clone(),
                job_seeker_id: booking.job_seeker_id.clone(),
            },
        )])
    }

    /// Art. 12(2): the person acknowledges that recording is prohibited.
    pub(super) fn acknowledge_no_recording(&self) -> Result<Vec<Event>, DomainError> {
        let booking = self.open()?;
        if booking.no_recording_acknowledged {
            return Ok(Vec::new());
        }
        Ok(vec![Event::NoRecordingAcknowledged(
            NoRecordingAcknowledged {
                booking_id: booking.booking_id.clone(),
                job_seeker_id: booking.job_seeker_id.clone(),
            },
        )])
    }

    /// Art. 12(1)-(4): joining needs the checklist (12(4)), the private-room
    /// (12(3)) and no-recording (12(2)) acknowledgements, and no refusal
    /// (12(1)); every missing one is listed. The join is an Art. 7(1) usage
    /// record carrying the device identifiers, sealed to the audit-log.
    pub(super) fn join(&self, slot: &Slot, command: &Join) -> Result<Vec<Event>, DomainError> {
        let booking = self;
        if booking.state == BookingState::InSession {
            return Ok(Vec::new());
        }
        let booking = self.open()?;
        let mut missing = Vec::new();
        if command.refused {
            missing.push(NotReady::Refused);
        }
        if !booking.checklist_completed {
            missing.push(NotReady::Checklist);
        }
        if !booking.private_room_acknowledged {
            missing.push(NotReady::PrivateRoom);
        }
        if !booking.no_recording_acknowledged {
            missing.push(NotReady::NoRecording);
        }
        if !missing.is_empty() {
            return Err(DomainError::NotReadyToJoin(missing));
        }
        Ok(vec![Event::SessionJoined(SessionJoined {
            booking_id: booking.booking_id.clone(),
            slot_id: slot.slot_id.clone(),
            job_seeker_id: booking.job_seeker_id.clone(),
            offering: slot.offering.into(),
            device: None,
            sealed_device: Some(command.device.clone()),
        })])
    }

    /// Art. 7(1): leaving is a usage record carrying the device identifiers,
    /// sealed to the audit-log.
    pub(super) fn leave(&self, slot: &Slot, command: &Leave) -> Result<Vec<Event>, DomainError> {
        let booking = self;
        if booking.state == BookingState::Completed {
            return Ok(Vec::new());
        }
        if booking.state != BookingState::InSession {
            return Err(DomainError::NotInSession(booking.booking_id.clone()));
        }
        Ok(vec![Event::SessionLeft(SessionLeft {
            booking_id: booking.booking_id.clone(),
            slot_id: slot.slot_id.clone(),
            job_seeker_id: booking.job_seeker_id.clone(),
            offering: slot.offering.into(),
            device: None,
            sealed_device: Some(command.device.clone()),
        })])
    }

    /// Art. 12(1), 12(2): the office stops a session in progress for threats,
    /// abusive language, a purpose other than finding work, recording, or
    /// another obstruction.
    pub(super) fn stop(&self, command: &Stop) -> Result<Vec<Event>, DomainError> {
        let booking = self;
        if booking.state == BookingState::Stopped {
            return Ok(Vec::new());
        }
        if booking.state != BookingState::InSession {
            return Err(DomainError::NotInSession(booking.booking_id.clone()));
        }
        Ok(vec![Event::SessionStopped(SessionStopped {
            booking_id: booking.booking_id.clone(),
            slot_id: booking.slot_id.clone(),
            job_seeker_id: booking.job_seeker_id.clone(),
            reason: command.reason.into(),
            // Art. 8: sealed by the adapter before it is stored.
            note: command.note.clone(),
            sealed_note: None,
        })])
    }
}
