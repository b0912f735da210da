//! The `Schedule` aggregate: one counsellor's slots and the seats their
//! bookings hold (Art. 1, 2, 3). Pure decide/apply. A counsellor's time and
//! a slot's seats are decided on this one stream, so concurrent bookings
//! are serialised by optimistic concurrency: a lost race re-decides on the
//! new state. Everything else about a booking is on its own stream
//! ([`super::Booking`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hellowork_eventstore::Aggregate;
use hellowork_proto::scheduling::v1::{SeatMoved, SeatTaken, SlotPublished};

use super::{
    command::Publish,
    contract::{ConfirmationNotice, Offering},
    error::DomainError,
    event::Event,
    ids::{BookingId, CounsellorId, JobSeekerId, SlotId},
    timestamp, to_datetime,
};

/// Art. 3, 12(2)-(5): what every booking confirmation states. Free of
/// charge and device and data costs borne by the user are always first.
pub fn confirmation_notices() -> Vec<ConfirmationNotice> {
    vec![
        ConfirmationNotice::FreeOfCharge,
        ConfirmationNotice::DeviceAndDataCostsBorneByUser,
        ConfirmationNotice::RecordingProhibited,
        ConfirmationNotice::PrivateRoomAndAttendants,
        ConfirmationNotice::PrepareBeforeSession,
    ]
}

/// Art. 1: only a seminar has many participants; every other offering one.
pub fn offering_allows_capacity(offering: Offering, capacity: u32) -> bool {
    capacity == 1 || (offering == Offering::Seminar && capacity >= 1)
}

/// One slot as published.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub slot_id: SlotId,
    pub counsellor_id: CounsellorId,
    pub offering: Offering,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub capacity: u32,
}

/// A seat held by a booking that is not cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    pub booking_id: BookingId,
    pub slot_id: SlotId,
    pub job_seeker_id: JobSeekerId,
}

/// One counsellor's schedule, folded from their stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    slots: BTreeMap<SlotId, Slot>,
    /// Held seats by booking id.
    seats: BTreeMap<BookingId, Seat>,
}

impl Schedule {
    pub fn slot(&self, id: SlotId) -> Option<&Slot> {
        self.slots.get(&id)
    }

    pub fn slots(&self) -> impl Iterator<Item = &Slot> {
        self.slots.values()
    }

    /// The seat a booking holds, if it holds one.
    pub fn seat(&self, booking_id: BookingId) -> Option<&Seat> {
        self.seats.get(&booking_id)
    }

    /// The seats held in a slot, in booking id order.
    pub fn seats_of(&self, slot_id: SlotId) -> impl Iterator<Item = &Seat> {
        self.seats.values().filter(move |s| s.slot_id == slot_id)
    }

    /// Seats held in a slot.
    pub fn booked_count(&self, slot_id: SlotId) -> u32 {
        u32::try_from(self.seats_of(slot_id).count()).unwrap_or(u32::MAX)
    }

    pub(super) fn found_slot(&self, id: SlotId) -> Result<&Slot, DomainError> {
        self.slots.get(&id).ok_or(DomainError::SlotNotFound(id))
    }

    /// Art. 1: publishes slots; a counsellor's slots never overlap (no double
    /// booking of a counsellor), and only a seminar has more than one seat.
    fn publish(&self, command: &Publish) -> Result<Vec<Event>, DomainError> {
        if !offering_allows_capacity(command.offering, command.capacity) {
            return Err(DomainError::CapacityNotForOffering);
        }
        // The same request repeated: its slots exist already.
        if command.slots.iter().all(|s| {
            self.slots
                .get(&s.slot_id)
                .is_some_and(|e| e.start == s.start && e.end == s.end)
        }) {
            return Ok(Vec::new());
        }
        let mut events = Vec::new();
        let mut taken: Vec<(DateTime<Utc>, DateTime<Utc>, SlotId)> = self
            .slots
            .values()
            .map(|s| (s.start, s.end, s.slot_id))
            .collect();
        for slot in &command.slots {
            if let Some((_, _, existing)) = taken
                .iter()
                .find(|(start, end, _)| slot.start < *end && *start < slot.end)
            {
                return Err(DomainError::CounsellorDoubleBooked(*existing));
            }
            taken.push((slot.start, slot.end, slot.slot_id));
            events.push(Event::SlotPublished(SlotPublished {
                slot_id: slot.slot_id.to_string(),
                counsellor_id: command.counsellor_id.to_string(),
                offering: command.offering.into(),
                start_time: Some(timestamp(slot.start)),
                end_time: Some(timestamp(slot.end)),
                capacity: command.capacity,
            }));
        }
        Ok(events)
    }

    /// Art. 2, 3: a seat in `slot_id` for a booking made at `at`: only in a
    /// slot that has not started, never beyond its capacity, and never for
    /// a person who holds an overlapping seat with this counsellor.
    pub(super) fn take_seat(
        &self,
        booking_id: BookingId,
        slot_id: SlotId,
        job_seeker_id: JobSeekerId,
        at: DateTime<Utc>,
    ) -> Result<(&Slot, Event), DomainError> {
        let slot = self.found_slot(slot_id)?;
        if at >= slot.start {
            return Err(DomainError::SessionStarted(slot.slot_id));
        }
        self.check_person_free(job_seeker_id, slot, None)?;
        self.check_free_seat(slot)?;
        Ok((
            slot,
            Event::SeatTaken(SeatTaken {
                booking_id: booking_id.to_string(),
                slot_id: slot.slot_id.to_string(),
                job_seeker_id: job_seeker_id.to_string(),
            }),
        ))
    }

    /// Moves the seat of an open booking to `to_slot_id`, decided at `at`:
    /// a slot of the same offering that has not started, with a free seat,
    /// not overlapping another seat of the person. The old seat is freed
    /// and the new one taken in one event, so never beyond capacity.
    pub(super) fn move_seat(
        &self,
        booking_id: BookingId,
        offering: Offering,
        to_slot_id: SlotId,
        at: DateTime<Utc>,
    ) -> Result<(&Slot, Event), DomainError> {
        let seat = self
            .seats
            .get(&booking_id)
            .ok_or(DomainError::BookingNotOpen(booking_id))?;
        let to = self.found_slot(to_slot_id)?;
        if at >= to.start {
            return Err(DomainError::SessionStarted(to.slot_id));
        }
        if to.offering != offering {
            return Err(DomainError::DifferentOffering(to.slot_id));
        }
        self.check_person_free(seat.job_seeker_id, to, Some(booking_id))?;
        self.check_free_seat(to)?;
        Ok((
            to,
            Event::SeatMoved(SeatMoved {
                booking_id: booking_id.to_string(),
                job_seeker_id: seat.job_seeker_id.to_string(),
                from_slot_id: seat.slot_id.to_string(),
                to_slot_id: to.slot_id.to_string(),
            }),
        ))
    }

    /// Art. 1: never beyond the slot's capacity.
    fn check_free_seat(&self, slot: &Slot) -> Result<(), DomainError> {
        if self.booked_count(slot.slot_id) >= slot.capacity {
            return Err(DomainError::SlotFull(slot.slot_id));
        }
        Ok(())
    }

    /// No person holds two overlapping seats on this schedule.
    fn check_person_free(
        &self,
        job_seeker_id: JobSeekerId,
        slot: &Slot,
        except: Option<BookingId>,
    ) -> Result<(), DomainError> {
        let overlapping = self.seats.values().any(|seat| {
            seat.job_seeker_id == job_seeker_id
                && Some(seat.booking_id) != except
                && self
                    .slots
                    .get(&seat.slot_id)
                    .is_some_and(|other| slot.start < other.end && other.start < slot.end)
        });
        if overlapping {
            return Err(DomainError::PersonDoubleBooked(slot.slot_id));
        }
        Ok(())
    }

    /// A seat taken, as its event stored it.
    fn took(&mut self, booking_id: &str, slot_id: &str, job_seeker_id: &str) {
        let booking_id = BookingId::stored(booking_id);
        self.seats.insert(
            booking_id,
            Seat {
                booking_id,
                slot_id: SlotId::stored(slot_id),
                job_seeker_id: JobSeekerId::stored(job_seeker_id),
            },
        );
    }

    fn moved(&mut self, booking_id: &str, to_slot_id: &str) {
        if let Some(seat) = self.seats.get_mut(&BookingId::stored(booking_id)) {
            seat.slot_id = SlotId::stored(to_slot_id);
        }
    }
}

impl Aggregate for Schedule {
    type Command = Publish;
    type Event = Event;
    type Error = DomainError;

    fn decide(&self, command: &Publish) -> Result<Vec<Event>, DomainError> {
        self.publish(command)
    }

    fn apply(mut self, event: &Event) -> Self {
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        match event {
            Event::SlotPublished(e) => {
                let slot_id = SlotId::stored(&e.slot_id);
                self.slots.insert(
                    slot_id,
                    Slot {
                        slot_id,
                        counsellor_id: CounsellorId::stored(&e.counsellor_id),
                        // Every stored slot names its offering; a number
                        // this build does not know reads as counselling.
                        offering: Offering::try_from(e.offering).unwrap_or(Offering::Counselling),
                        start: to_datetime(e.start_time.as_ref()).unwrap_or(epoch),
                        end: to_datetime(e.end_time.as_ref()).unwrap_or(epoch),
                        capacity: e.capacity,
                    },
                );
            }
            Event::SeatTaken(e) => self.took(&e.booking_id, &e.slot_id, &e.job_seeker_id),
            Event::SeatReleased(e) => {
                self.seats.remove(&BookingId::stored(&e.booking_id));
            }
            Event::SeatMoved(e) => self.moved(&e.booking_id, &e.to_slot_id),
            // Bookings made before they had their own streams: their facts on
            // the schedule are its seats.
            Event::SessionBooked(e) => self.took(&e.booking_id, &e.slot_id, &e.job_seeker_id),
            Event::BookingCancelled(e) => {
                self.seats.remove(&BookingId::stored(&e.booking_id));
            }
            Event::BookingRescheduled(e) => self.moved(&e.booking_id, &e.to_slot_id),
            // A booking's own life, and persons' refusals, are not the
            // schedule's.
            Event::BookingCarriedOver(_)
            | Event::AttendantDeclared(_)
            | Event::ChecklistCompleted(_)
            | Event::PrivateRoomAcknowledged(_)
            | Event::NoRecordingAcknowledged(_)
            | Event::SessionJoined(_)
            | Event::SessionLeft(_)
            | Event::SessionStopped(_)
            | Event::OnlineServicesRefused(_)
            | Event::RefusalLifted(_) => {}
        }
        self
    }
}
