//! Art. 2, 3, 12: the decisions a booking and its counsellor's schedule
//! make together: booking a seat, cancelling and rescheduling. Each names
//! events for both streams (always both: a stream appended nothing is not
//! version-checked), appended atomically with both streams' versions
//! checked, so a seat is never held by a booking that was not made, nor
//! freed for one that is still open.

use hellowork_proto::scheduling::v1::{
    AttendantDeclared, BookingCancelled, BookingRescheduled, SeatReleased, SessionBooked,
};

use super::{
    booking::Booking,
    command::{Book, Cancel, Reschedule},
    contract::{BookingState, CancellationReason},
    error::DomainError,
    event::Event,
    schedule::Schedule,
    timestamp,
};

/// What one decision appends to the schedule and to the booking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub schedule: Vec<Event>,
    pub booking: Vec<Event>,
}

impl Decision {
    /// A repeated command: nothing to append.
    pub fn is_empty(&self) -> bool {
        self.schedule.is_empty() && self.booking.is_empty()
    }
}

/// Art. 2, 3, 12(3): books a seat in a slot that has not started, never
/// beyond its capacity, never overlapping another booking of the person
/// with this counsellor; attendants declared with the booking must come
/// before the Art. 12(3) cut-off. Booking again changes nothing.
pub fn book(
    schedule: &Schedule,
    booking: &Booking,
    command: &Book,
) -> Result<Decision, DomainError> {
    if booking.record().is_some() {
        return Ok(Decision::default());
    }
    let (slot, seat) = schedule.take_seat(
        command.booking_id,
        command.slot_id,
        command.job_seeker_id,
        command.at,
    )?;
    let cutoff = slot.start - command.attendant_cutoff;
    // Art. 12(3): attendants are declared before the cut-off.
    if !command.attendants.is_empty() && command.at > cutoff {
        return Err(DomainError::AttendantCutoffPassed);
    }
    let mut booked = vec![Event::SessionBooked(SessionBooked {
        booking_id: command.booking_id.to_string(),
        slot_id: slot.slot_id.to_string(),
        job_seeker_id: command.job_seeker_id.to_string(),
        counsellor_id: slot.counsellor_id.to_string(),
        offering: slot.offering.into(),
        start_time: Some(timestamp(slot.start)),
        end_time: Some(timestamp(slot.end)),
        attendant_cutoff: Some(timestamp(cutoff)),
    })];
    for (attendant_id, kind) in &command.attendants {
        booked.push(Event::AttendantDeclared(AttendantDeclared {
            booking_id: command.booking_id.to_string(),
            attendant_id: attendant_id.to_string(),
            kind: (*kind).into(),
        }));
    }
    Ok(Decision {
        schedule: vec![seat],
        booking: booked,
    })
}

/// Cancels an open booking before its session starts and frees its seat;
/// cancelling again changes nothing. Art. 12(1): a refusal cancels every
/// open booking, even one whose session is about to start.
///
/// The seat freed is named from the booking, never looked up on a kept
/// schedule: an open booking holds its seat (both were appended together,
/// or the seat is the legacy booking itself), and a schedule kept behind
/// might not show it yet, which would free nothing and append to the
/// booking alone, unchecked against the schedule.
pub fn cancel(booking: &Booking, command: &Cancel) -> Result<Decision, DomainError> {
    let record = booking.found(command.booking_id)?;
    if record.state == BookingState::Cancelled {
        return Ok(Decision::default());
    }
    let record = record.open()?;
    if command.reason != CancellationReason::OnlineServicesRefused && command.at >= record.start {
        return Err(DomainError::SessionStarted(record.slot_id));
    }
    Ok(Decision {
        schedule: vec![Event::SeatReleased(SeatReleased {
            booking_id: record.booking_id.to_string(),
            slot_id: record.slot_id.to_string(),
            job_seeker_id: record.job_seeker_id.to_string(),
        })],
        booking: vec![Event::BookingCancelled(BookingCancelled {
            booking_id: record.booking_id.to_string(),
            slot_id: record.slot_id.to_string(),
            job_seeker_id: record.job_seeker_id.to_string(),
            reason: command.reason.into(),
            refusal_id: command
                .refusal_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        })],
    })
}

/// Moves an open booking to another slot of the same offering of this
/// counsellor before either session starts: its seat moves in one event,
/// never beyond capacity. Attendants stay declared (the person declared
/// them in time for the original session). Moving to where it is changes
/// nothing.
pub fn reschedule(
    schedule: &Schedule,
    booking: &Booking,
    command: &Reschedule,
) -> Result<Decision, DomainError> {
    let record = booking.found(command.booking_id)?;
    if record.slot_id == command.new_slot_id {
        return Ok(Decision::default());
    }
    let record = record.open()?;
    if command.at >= record.start {
        return Err(DomainError::SessionStarted(record.slot_id));
    }
    let (to, seat) = schedule.move_seat(
        record.booking_id,
        record.offering,
        command.new_slot_id,
        command.at,
    )?;
    Ok(Decision {
        schedule: vec![seat],
        booking: vec![Event::BookingRescheduled(BookingRescheduled {
            booking_id: record.booking_id.to_string(),
            job_seeker_id: record.job_seeker_id.to_string(),
            from_slot_id: record.slot_id.to_string(),
            to_slot_id: to.slot_id.to_string(),
            counsellor_id: to.counsellor_id.to_string(),
            start_time: Some(timestamp(to.start)),
            end_time: Some(timestamp(to.end)),
            attendant_cutoff: Some(timestamp(to.start - command.attendant_cutoff)),
        })],
    })
}
