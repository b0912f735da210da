//! The `Booking` aggregate: one booking's own life on its stream
//! `scheduling-booking-<id>` (Art. 7, 12): what the person declares and
//! confirms before the session, joining and leaving it, and the office
//! stopping it, each decided on the booking alone. Taking, moving and
//! freeing its seat are decided with the counsellor's schedule
//! ([`super::placement`]).

use chrono::{DateTime, Utc};
use hellowork_eventstore::{Aggregate, DomainEvent};
use hellowork_proto::scheduling::v1::{
    AttendantDeclared, NoRecordingAcknowledged, PreSessionChecklistCompleted,
    PrivateRoomAcknowledged, SessionJoined, SessionLeft, SessionStopped,
};

use super::{
    command::{BookingCommand, CompleteChecklist, DeclareAttendant, Join, Leave, Stop},
    contract::{
        AttendantKind, BookingState, CancellationReason, ChecklistItem, ConductReason, Offering,
    },
    error::{DomainError, NotReady},
    event::Event,
    ids::{AttendantId, BookingId, CounsellorId, JobSeekerId, SlotId},
    note::StoredNote,
    to_datetime,
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

/// One person's booking of a seat, as its stream tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingRecord {
    pub booking_id: BookingId,
    pub slot_id: SlotId,
    pub job_seeker_id: JobSeekerId,
    pub counsellor_id: CounsellorId,
    pub offering: Offering,
    /// The session's time (of the slot it holds now).
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub state: BookingState,
    pub attendant_cutoff: DateTime<Utc>,
    pub attendants: Vec<Attendant>,
    pub checklist_completed: bool,
    pub private_room_acknowledged: bool,
    pub no_recording_acknowledged: bool,
    pub cancellation_reason: Option<CancellationReason>,
    pub stop: Option<StopRecord>,
}

/// Art. 12(1), 12(2): why the office stopped the session, and its note.
#[derive(Debug, Clone, PartialEq)]
pub struct StopRecord {
    pub reason: ConductReason,
    pub note: StoredNote,
}

/// Art. 12(3): someone declared to attend beside the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendant {
    pub attendant_id: AttendantId,
    pub kind: AttendantKind,
}

/// One booking's stream, folded: nothing until it is booked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Booking {
    record: Option<BookingRecord>,
}

impl Booking {
    /// The booking, once booked.
    pub fn record(&self) -> Option<&BookingRecord> {
        self.record.as_ref()
    }

    pub(super) fn found(&self, booking_id: BookingId) -> Result<&BookingRecord, DomainError> {
        self.record
            .as_ref()
            .ok_or(DomainError::BookingNotFound(booking_id))
    }

    fn record_mut(&mut self) -> Option<&mut BookingRecord> {
        self.record.as_mut()
    }
}

impl BookingRecord {
    /// The booking if it still waits for its session.
    pub(super) fn open(&self) -> Result<&Self, DomainError> {
        if self.state != BookingState::Confirmed {
            return Err(DomainError::BookingNotOpen(self.booking_id));
        }
        Ok(self)
    }

    /// Art. 12(3): an interpreter or caregiver is declared before the
    /// configured cut-off before the session; later additions are refused.
    fn declare_attendant(&self, command: &DeclareAttendant) -> Result<Vec<Event>, DomainError> {
        if self
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
            booking_id: booking.booking_id.to_string(),
            attendant_id: command.attendant_id.to_string(),
            kind: command.kind.into(),
        })])
    }

    /// Art. 12(4): the pre-session checklist confirms every item (app ready,
    /// connection checked, OS, firewall and browser up to date, unneeded
    /// software closed); a missing item is refused citing Art. 12(4).
    fn complete_checklist(&self, command: &CompleteChecklist) -> Result<Vec<Event>, DomainError> {
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
                booking_id: booking.booking_id.to_string(),
                job_seeker_id: booking.job_seeker_id.to_string(),
                confirmed_items: REQUIRED_CHECKLIST.into_iter().map(i32::from).collect(),
            },
        )])
    }

    /// Art. 12(3), 8(2): the person will be in a private room or with no one
    /// nearby.
    fn acknowledge_private_room(&self) -> Result<Vec<Event>, DomainError> {
        let booking = self.open()?;
        if booking.private_room_acknowledged {
            return Ok(Vec::new());
        }
        Ok(vec![Event::PrivateRoomAcknowledged(
            PrivateRoomAcknowledged {
                booking_id: booking.booking_id.to_string(),
                job_seeker_id: booking.job_seeker_id.to_string(),
            },
        )])
    }

    /// Art. 12(2): the person acknowledges that recording is prohibited.
    fn acknowledge_no_recording(&self) -> Result<Vec<Event>, DomainError> {
        let booking = self.open()?;
        if booking.no_recording_acknowledged {
            return Ok(Vec::new());
        }
        Ok(vec![Event::NoRecordingAcknowledged(
            NoRecordingAcknowledged {
                booking_id: booking.booking_id.to_string(),
                job_seeker_id: booking.job_seeker_id.to_string(),
            },
        )])
    }

    /// Art. 12(1)-(4): joining needs the checklist (12(4)), the private-room
    /// (12(3)) and no-recording (12(2)) acknowledgements, and no refusal
    /// (12(1)); every missing one is listed. The join is an Art. 7(1) usage
    /// record carrying the device identifiers, sealed to the audit-log.
    fn join(&self, command: &Join) -> Result<Vec<Event>, DomainError> {
        if self.state == BookingState::InSession {
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
            booking_id: booking.booking_id.to_string(),
            slot_id: booking.slot_id.to_string(),
            job_seeker_id: booking.job_seeker_id.to_string(),
            offering: booking.offering.into(),
            device: None,
            sealed_device: Some(command.device.clone()),
        })])
    }

    /// Art. 7(1): leaving is a usage record carrying the device identifiers,
    /// sealed to the audit-log.
    fn leave(&self, command: &Leave) -> Result<Vec<Event>, DomainError> {
        if self.state == BookingState::Completed {
            return Ok(Vec::new());
        }
        if self.state != BookingState::InSession {
            return Err(DomainError::NotInSession(self.booking_id));
        }
        Ok(vec![Event::SessionLeft(SessionLeft {
            booking_id: self.booking_id.to_string(),
            slot_id: self.slot_id.to_string(),
            job_seeker_id: self.job_seeker_id.to_string(),
            offering: self.offering.into(),
            device: None,
            sealed_device: Some(command.device.clone()),
        })])
    }

    /// Art. 12(1), 12(2): the office stops a session in progress for threats,
    /// abusive language, a purpose other than finding work, recording, or
    /// another obstruction.
    fn stop(&self, command: &Stop) -> Result<Vec<Event>, DomainError> {
        if self.state == BookingState::Stopped {
            return Ok(Vec::new());
        }
        if self.state != BookingState::InSession {
            return Err(DomainError::NotInSession(self.booking_id));
        }
        Ok(vec![Event::SessionStopped(SessionStopped {
            booking_id: self.booking_id.to_string(),
            slot_id: self.slot_id.to_string(),
            job_seeker_id: self.job_seeker_id.to_string(),
            reason: command.reason.into(),
            // Art. 8: sealed by the adapter before it is stored.
            note: command.note.clone(),
            sealed_note: None,
        })])
    }
}

impl Aggregate for Booking {
    type Command = BookingCommand;
    type Event = Event;
    type Error = DomainError;

    fn decide(&self, command: &BookingCommand) -> Result<Vec<Event>, DomainError> {
        let booking = self.found(command.booking_id())?;
        match command {
            BookingCommand::DeclareAttendant(c) => booking.declare_attendant(c),
            BookingCommand::CompleteChecklist(c) => booking.complete_checklist(c),
            BookingCommand::AcknowledgePrivateRoom { .. } => booking.acknowledge_private_room(),
            BookingCommand::AcknowledgeNoRecording { .. } => booking.acknowledge_no_recording(),
            BookingCommand::Join(c) => booking.join(c),
            BookingCommand::Leave(c) => booking.leave(c),
            BookingCommand::Stop(c) => booking.stop(c),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        match event {
            Event::SessionBooked(e) => {
                self.record = Some(BookingRecord {
                    booking_id: BookingId::stored(&e.booking_id),
                    slot_id: SlotId::stored(&e.slot_id),
                    job_seeker_id: JobSeekerId::stored(&e.job_seeker_id),
                    counsellor_id: CounsellorId::stored(&e.counsellor_id),
                    // As the slot's (see `Schedule`).
                    offering: Offering::try_from(e.offering).unwrap_or(Offering::Counselling),
                    start: to_datetime(e.start_time.as_ref()).unwrap_or(epoch),
                    end: to_datetime(e.end_time.as_ref()).unwrap_or(epoch),
                    state: BookingState::Confirmed,
                    attendant_cutoff: to_datetime(e.attendant_cutoff.as_ref()).unwrap_or(epoch),
                    attendants: Vec::new(),
                    checklist_completed: false,
                    private_room_acknowledged: false,
                    no_recording_acknowledged: false,
                    cancellation_reason: None,
                    stop: None,
                });
            }
            Event::BookingCarriedOver(e) => {
                for carried in &e.events {
                    // Every copy decodes: `Event::decode` refuses a
                    // carry-over otherwise.
                    if let Ok(event) = Event::decode(&carried.event_type, &carried.payload) {
                        self = self.apply(&event);
                    }
                }
            }
            Event::BookingCancelled(e) => {
                if let Some(b) = self.record_mut() {
                    b.state = BookingState::Cancelled;
                    b.cancellation_reason = CancellationReason::try_from(e.reason).ok();
                }
            }
            Event::BookingRescheduled(e) => {
                if let Some(b) = self.record_mut() {
                    b.slot_id = SlotId::stored(&e.to_slot_id);
                    b.start = to_datetime(e.start_time.as_ref()).unwrap_or(b.start);
                    b.end = to_datetime(e.end_time.as_ref()).unwrap_or(b.end);
                    b.attendant_cutoff =
                        to_datetime(e.attendant_cutoff.as_ref()).unwrap_or(b.attendant_cutoff);
                }
            }
            Event::AttendantDeclared(e) => {
                if let Some(b) = self.record_mut() {
                    b.attendants.push(Attendant {
                        attendant_id: AttendantId::stored(&e.attendant_id),
                        // Every stored declaration names its kind.
                        kind: AttendantKind::try_from(e.kind).unwrap_or(AttendantKind::Other),
                    });
                }
            }
            Event::ChecklistCompleted(_) => {
                if let Some(b) = self.record_mut() {
                    b.checklist_completed = true;
                }
            }
            Event::PrivateRoomAcknowledged(_) => {
                if let Some(b) = self.record_mut() {
                    b.private_room_acknowledged = true;
                }
            }
            Event::NoRecordingAcknowledged(_) => {
                if let Some(b) = self.record_mut() {
                    b.no_recording_acknowledged = true;
                }
            }
            Event::SessionJoined(_) => {
                if let Some(b) = self.record_mut() {
                    b.state = BookingState::InSession;
                }
            }
            Event::SessionLeft(_) => {
                if let Some(b) = self.record_mut() {
                    b.state = BookingState::Completed;
                }
            }
            Event::SessionStopped(e) => {
                if let Some(b) = self.record_mut() {
                    b.state = BookingState::Stopped;
                    b.stop = Some(StopRecord {
                        // Every stored stop names its reason.
                        reason: ConductReason::try_from(e.reason)
                            .unwrap_or(ConductReason::OtherObstruction),
                        note: StoredNote::of(e.sealed_note.as_ref(), &e.note),
                    });
                }
            }
            // The schedule's seats and persons' refusals.
            Event::SlotPublished(_)
            | Event::SeatTaken(_)
            | Event::SeatReleased(_)
            | Event::SeatMoved(_)
            | Event::OnlineServicesRefused(_)
            | Event::RefusalLifted(_) => {}
        }
        self
    }
}
