//! The scheduling domain: pure, no I/O and no clock (every instant is an
//! input). Three aggregates:
//!
//! - [`Schedule`]: one counsellor's slots and the seats their bookings hold,
//!   on the stream `scheduling-counsellor-<id>`. A counsellor's slots never
//!   overlap and a slot is never booked beyond its capacity because both
//!   are decided on this one stream with optimistic concurrency (Art. 1,
//!   2, 3).
//! - [`Booking`]: one booking's life (attendants, checklist,
//!   acknowledgements, joining, leaving, stopping), on the stream
//!   `scheduling-booking-<id>` (Art. 7, 12). Booking, cancelling and
//!   rescheduling are decided on both ([`placement`]) and appended to both
//!   at once.
//! - [`Person`]: one person's refusals of online services, on the stream
//!   `scheduling-person-<id>` (Art. 12(1)).
//!
//! Rules are documented where they are enforced, each doc comment starting
//! with its article, so `grep -rn "Art. 12" src/domain` finds them.

mod booking;
mod command;
mod contract;
mod error;
mod event;
mod ids;
mod note;
mod person;
pub mod placement;
mod schedule;
mod served;

pub use booking::{Attendant, Booking, BookingRecord, REQUIRED_CHECKLIST, StopRecord};
pub use command::{
    Book, BookingCommand, Cancel, CompleteChecklist, DeclareAttendant, Join, Leave, NewSlot,
    PersonCommand, Publish, Refuse, Reschedule, Stop,
};
pub use contract::{
    AttendantKind, BookingState, CancellationReason, ChecklistItem, ConductReason,
    ConfirmationNotice, Offering,
};
pub use error::{DomainError, NotReady};
pub use event::Event;
pub use hellowork_values::time::{timestamp, to_datetime, tokyo_date, tokyo_day_bounds};
pub use ids::{
    AttendantId, BookingId, CounsellorId, JobSeekerId, MAX_COUNSELLOR_ID, RefusalId, SlotId,
};
pub use note::StoredNote;
pub use person::{Person, RefusalRecord};
pub use placement::Decision;
pub use schedule::{Schedule, Seat, Slot, confirmation_notices, offering_allows_capacity};
pub use served::require_served;
