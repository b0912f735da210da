//! Read models of scheduling's own events, in the scheduling schema, fed in
//! commit order from the store (a tailing projection), where each slot,
//! booking and refusal lives also in the append's transaction
//! ([`Placements`]): a person's
//! bookings, a counsellor's day, free slots by offering and Asia/Tokyo date,
//! and where each slot, booking and refusal lives. Commands never rest on
//! them: the aggregates are loaded from their streams. Only who may read a
//! person's bookings does (Art. 8, `booked_with`), as the listing itself
//! reads them.

mod placements;
mod schedule;

pub use placements::Placements;
pub use schedule::{
    SCHEDULE_CONSUMER, ScheduleProjection, SlotPlacement, SlotRow, booked_with, bookings_of_person,
    free_slots, refusal_person, slot_placement,
};
