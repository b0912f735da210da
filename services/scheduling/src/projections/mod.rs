//! Read models of scheduling's own events, in the scheduling schema, fed by
//! a durable JetStream consumer on the service's stream: a person's
//! bookings, a counsellor's day, free slots by offering and Asia/Tokyo date,
//! and where each slot, booking and refusal lives. Decisions never rest on
//! them: the aggregates are loaded from their streams.

mod schedule;

pub use schedule::{
    BookingRow, SCHEDULE_CONSUMER, ScheduleProjection, SlotRow, booking_counsellor,
    bookings_of_person, free_slots, insert_booking, insert_refusal, insert_slot, refusal_person,
    slot_placement,
};
