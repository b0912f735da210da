//! What the aggregates are asked to do. Every instant a rule needs is part
//! of the command; the domain never reads a clock.

use chrono::{DateTime, Duration, Utc};
use hellowork_proto::sealing::v1::HpkeSealed;

use super::{
    contract::{AttendantKind, CancellationReason, ChecklistItem, ConductReason, Offering},
    ids::{AttendantId, BookingId, CounsellorId, JobSeekerId, RefusalId, SlotId},
};

/// A command for one booking's own stream.
#[derive(Debug, Clone)]
pub enum BookingCommand {
    DeclareAttendant(DeclareAttendant),
    CompleteChecklist(CompleteChecklist),
    AcknowledgePrivateRoom { booking_id: BookingId },
    AcknowledgeNoRecording { booking_id: BookingId },
    Join(Join),
    Leave(Leave),
    Stop(Stop),
}

impl BookingCommand {
    /// The booking it is for.
    pub fn booking_id(&self) -> BookingId {
        match self {
            Self::DeclareAttendant(c) => c.booking_id,
            Self::CompleteChecklist(c) => c.booking_id,
            Self::AcknowledgePrivateRoom { booking_id }
            | Self::AcknowledgeNoRecording { booking_id } => *booking_id,
            Self::Join(c) => c.booking_id,
            Self::Leave(c) => c.booking_id,
            Self::Stop(c) => c.booking_id,
        }
    }
}

/// One slot to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSlot {
    pub slot_id: SlotId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Art. 1: publish availability of one offering as slots.
#[derive(Debug, Clone)]
pub struct Publish {
    pub counsellor_id: CounsellorId,
    pub offering: Offering,
    pub slots: Vec<NewSlot>,
    pub capacity: u32,
}

/// Art. 2, 3, 12(3): book a seat. Eligibility has been asked of
/// registration and consent before; the schedule decides the seat, the
/// booking's stream holds the rest.
#[derive(Debug, Clone)]
pub struct Book {
    pub booking_id: BookingId,
    pub slot_id: SlotId,
    pub job_seeker_id: JobSeekerId,
    /// Attendants declared with the booking: (attendant id, kind).
    pub attendants: Vec<(AttendantId, AttendantKind)>,
    pub at: DateTime<Utc>,
    /// Art. 12(3): how long before the session attendants may be declared.
    pub attendant_cutoff: Duration,
}

#[derive(Debug, Clone)]
pub struct Cancel {
    pub booking_id: BookingId,
    pub reason: CancellationReason,
    /// Art. 12(1): the refusal that cancels it (reason
    /// ONLINE_SERVICES_REFUSED only).
    pub refusal_id: Option<RefusalId>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Reschedule {
    pub booking_id: BookingId,
    pub new_slot_id: SlotId,
    pub at: DateTime<Utc>,
    pub attendant_cutoff: Duration,
}

#[derive(Debug, Clone)]
pub struct DeclareAttendant {
    pub booking_id: BookingId,
    pub attendant_id: AttendantId,
    pub kind: AttendantKind,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct CompleteChecklist {
    pub booking_id: BookingId,
    pub confirmed: Vec<ChecklistItem>,
}

#[derive(Clone)]
pub struct Join {
    pub booking_id: BookingId,
    /// Art. 7(2): sealed to the audit-log where they entered.
    pub device: HpkeSealed,
    /// Art. 12(1): whether the person's online services are refused now
    /// (from their person stream).
    pub refused: bool,
}

/// Art. 7, 8: never print device identifiers, even sealed.
impl std::fmt::Debug for Join {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Join")
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct Leave {
    pub booking_id: BookingId,
    /// Art. 7(2): sealed to the audit-log where they entered.
    pub device: HpkeSealed,
}

/// Art. 7, 8: never print device identifiers, even sealed.
impl std::fmt::Debug for Leave {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leave").finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct Stop {
    pub booking_id: BookingId,
    pub reason: ConductReason,
    /// Art. 8: an officer's note about the person, sealed before it is stored.
    pub note: String,
}

/// Art. 8: never print an officer's note.
impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stop")
            .field("booking_id", &self.booking_id)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// A command for one person's stream (Art. 12(1)).
#[derive(Clone)]
pub enum PersonCommand {
    Refuse(Refuse),
    Lift { refusal_id: RefusalId, note: String },
}

/// Art. 8: never print an officer's note.
impl std::fmt::Debug for PersonCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refuse(refuse) => f.debug_tuple("Refuse").field(refuse).finish(),
            Self::Lift { refusal_id, .. } => f
                .debug_struct("Lift")
                .field("refusal_id", refusal_id)
                .finish_non_exhaustive(),
        }
    }
}

#[derive(Clone)]
pub struct Refuse {
    pub refusal_id: RefusalId,
    pub job_seeker_id: JobSeekerId,
    pub reason: ConductReason,
    /// Art. 8: an officer's note about the person, sealed before it is stored.
    pub note: String,
    /// The booking in which the conduct happened, if any.
    pub booking_id: Option<BookingId>,
}

/// Art. 8: never print an officer's note.
impl std::fmt::Debug for Refuse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refuse")
            .field("refusal_id", &self.refusal_id)
            .field("job_seeker_id", &self.job_seeker_id)
            .field("reason", &self.reason)
            .field("booking_id", &self.booking_id)
            .finish_non_exhaustive()
    }
}
