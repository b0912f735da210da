//! The `Schedule` aggregate: one counsellor's slots and their bookings
//! (Art. 1, 2, 3, 12). Pure decide/apply. Seats and the counsellor's time
//! are decided on this one stream, so concurrent bookings are serialised
//! by optimistic concurrency: a lost race re-decides on the new state.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hellowork_eventstore::Aggregate;
use hellowork_proto::scheduling::v1::{
    AttendantDeclared, BookingCancelled, BookingRescheduled, BookingState, CancellationReason,
    ConfirmationNotice, Offering, SessionBooked, SlotPublished,
};

use super::{
    booking::Booking,
    command::{Book, Cancel, Publish, Reschedule, ScheduleCommand},
    error::DomainError,
    event::Event,
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
    pub slot_id: String,
    pub counsellor_id: String,
    pub offering: Offering,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub capacity: u32,
}

/// One counsellor's schedule, folded from their stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    slots: BTreeMap<String, Slot>,
    bookings: BTreeMap<String, Booking>,
}

impl Schedule {
    pub fn slot(&self, id: &str) -> Option<&Slot> {
        self.slots.get(id)
    }

    pub fn slots(&self) -> impl Iterator<Item = &Slot> {
        self.slots.values()
    }

    pub fn booking(&self, id: &str) -> Option<&Booking> {
        self.bookings.get(id)
    }

    /// Bookings of a slot, in id order.
    pub fn bookings_of<'a>(&'a self, slot_id: &'a str) -> impl Iterator<Item = &'a Booking> + 'a {
        self.bookings.values().filter(move |b| b.slot_id == slot_id)
    }

    /// Seats held by active bookings.
    pub fn booked_count(&self, slot_id: &str) -> u32 {
        u32::try_from(self.bookings_of(slot_id).filter(|b| b.is_active()).count())
            .unwrap_or(u32::MAX)
    }

    fn found_slot(&self, id: &str) -> Result<&Slot, DomainError> {
        self.slots
            .get(id)
            .ok_or_else(|| DomainError::SlotNotFound(id.to_owned()))
    }

    fn found_booking(&self, id: &str) -> Result<&Booking, DomainError> {
        self.bookings
            .get(id)
            .ok_or_else(|| DomainError::BookingNotFound(id.to_owned()))
    }

    /// A booking still waiting for its session.
    fn open_booking(&self, id: &str) -> Result<&Booking, DomainError> {
        self.found_booking(id)?.open()
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
        let mut taken: Vec<(DateTime<Utc>, DateTime<Utc>, String)> = self
            .slots
            .values()
            .map(|s| (s.start, s.end, s.slot_id.clone()))
            .collect();
        for slot in &command.slots {
            if let Some((_, _, existing)) = taken
                .iter()
                .find(|(start, end, _)| slot.start < *end && *start < slot.end)
            {
                return Err(DomainError::CounsellorDoubleBooked(existing.clone()));
            }
            taken.push((slot.start, slot.end, slot.slot_id.clone()));
            events.push(Event::SlotPublished(SlotPublished {
                slot_id: slot.slot_id.clone(),
                counsellor_id: command.counsellor_id.clone(),
                offering: command.offering.into(),
                start_time: Some(timestamp(slot.start)),
                end_time: Some(timestamp(slot.end)),
                capacity: command.capacity,
            }));
        }
        Ok(events)
    }

    /// Art. 2, 3, 12(3): books a seat in a slot that has not started; never
    /// beyond the slot's capacity; a person never holds two overlapping
    /// bookings with this counsellor; attendants declared with the booking
    /// must come before the Art. 12(3) cut-off.
    fn book(&self, command: &Book) -> Result<Vec<Event>, DomainError> {
        if self.bookings.contains_key(&command.booking_id) {
            return Ok(Vec::new());
        }
        let slot = self.found_slot(&command.slot_id)?;
        if command.at >= slot.start {
            return Err(DomainError::SessionStarted(slot.slot_id.clone()));
        }
        self.check_person_free(&command.job_seeker_id, slot, None)?;
        if self.booked_count(&slot.slot_id) >= slot.capacity {
            return Err(DomainError::SlotFull(slot.slot_id.clone()));
        }
        let cutoff = slot.start - command.attendant_cutoff;
        // Art. 12(3): attendants are declared before the cut-off.
        if !command.attendants.is_empty() && command.at > cutoff {
            return Err(DomainError::AttendantCutoffPassed);
        }
        let mut events = vec![Event::SessionBooked(SessionBooked {
            booking_id: command.booking_id.clone(),
            slot_id: slot.slot_id.clone(),
            job_seeker_id: command.job_seeker_id.clone(),
            counsellor_id: slot.counsellor_id.clone(),
            offering: slot.offering.into(),
            start_time: Some(timestamp(slot.start)),
            end_time: Some(timestamp(slot.end)),
            attendant_cutoff: Some(timestamp(cutoff)),
        })];
        for (attendant_id, kind) in &command.attendants {
            events.push(Event::AttendantDeclared(AttendantDeclared {
                booking_id: command.booking_id.clone(),
                attendant_id: attendant_id.clone(),
                kind: (*kind).into(),
            }));
        }
        Ok(events)
    }

    /// No person holds two overlapping active bookings on this schedule.
    fn check_person_free(
        &self,
        job_seeker_id: &str,
        slot: &Slot,
        except: Option<&str>,
    ) -> Result<(), DomainError> {
        let overlapping = self.bookings.values().any(|b| {
            b.job_seeker_id == job_seeker_id
                && b.is_active()
                && Some(b.booking_id.as_str()) != except
                && self
                    .slots
                    .get(&b.slot_id)
                    .is_some_and(|other| slot.start < other.end && other.start < slot.end)
        });
        if overlapping {
            return Err(DomainError::PersonDoubleBooked(slot.slot_id.clone()));
        }
        Ok(())
    }

    /// Cancels an open booking before its session starts; cancelling again
    /// changes nothing.
    fn cancel(&self, command: &Cancel) -> Result<Vec<Event>, DomainError> {
        let booking = self.found_booking(&command.booking_id)?;
        if booking.state == BookingState::Cancelled {
            return Ok(Vec::new());
        }
        let booking = self.open_booking(&command.booking_id)?;
        let slot = self.found_slot(&booking.slot_id)?;
        // Art. 12(1): a refusal cancels every open booking, even one whose
        // session is about to start.
        if command.reason != CancellationReason::OnlineServicesRefused && command.at >= slot.start {
            return Err(DomainError::SessionStarted(slot.slot_id.clone()));
        }
        Ok(vec![Event::BookingCancelled(BookingCancelled {
            booking_id: booking.booking_id.clone(),
            slot_id: booking.slot_id.clone(),
            job_seeker_id: booking.job_seeker_id.clone(),
            reason: command.reason.into(),
            refusal_id: command.refusal_id.clone(),
        })])
    }

    /// Moves an open booking to another slot of the same offering of this
    /// counsellor, in one event: the old seat is freed and the new one taken
    /// atomically, never beyond capacity. Attendants stay declared (the
    /// person declared them in time for the original session).
    fn reschedule(&self, command: &Reschedule) -> Result<Vec<Event>, DomainError> {
        let booking = self.found_booking(&command.booking_id)?;
        if booking.slot_id == command.new_slot_id {
            return Ok(Vec::new());
        }
        let booking = self.open_booking(&command.booking_id)?;
        let from = self.found_slot(&booking.slot_id)?;
        let to = self.found_slot(&command.new_slot_id)?;
        if command.at >= from.start {
            return Err(DomainError::SessionStarted(from.slot_id.clone()));
        }
        if command.at >= to.start {
            return Err(DomainError::SessionStarted(to.slot_id.clone()));
        }
        if to.offering != from.offering {
            return Err(DomainError::DifferentOffering(to.slot_id.clone()));
        }
        self.check_person_free(&booking.job_seeker_id, to, Some(&booking.booking_id))?;
        if self.booked_count(&to.slot_id) >= to.capacity {
            return Err(DomainError::SlotFull(to.slot_id.clone()));
        }
        Ok(vec![Event::BookingRescheduled(BookingRescheduled {
            booking_id: booking.booking_id.clone(),
            job_seeker_id: booking.job_seeker_id.clone(),
            from_slot_id: from.slot_id.clone(),
            to_slot_id: to.slot_id.clone(),
            counsellor_id: to.counsellor_id.clone(),
            start_time: Some(timestamp(to.start)),
            end_time: Some(timestamp(to.end)),
            attendant_cutoff: Some(timestamp(to.start - command.attendant_cutoff)),
        })])
    }

    fn booking_mut(&mut self, id: &str) -> Option<&mut Booking> {
        self.bookings.get_mut(id)
    }
}

impl Aggregate for Schedule {
    type Command = ScheduleCommand;
    type Event = Event;
    type Error = DomainError;

    fn decide(&self, command: &ScheduleCommand) -> Result<Vec<Event>, DomainError> {
        match command {
            ScheduleCommand::Publish(c) => self.publish(c),
            ScheduleCommand::Book(c) => self.book(c),
            ScheduleCommand::Cancel(c) => self.cancel(c),
            ScheduleCommand::Reschedule(c) => self.reschedule(c),
            ScheduleCommand::DeclareAttendant(c) => {
                self.found_booking(&c.booking_id)?.declare_attendant(c)
            }
            ScheduleCommand::CompleteChecklist(c) => {
                self.found_booking(&c.booking_id)?.complete_checklist(c)
            }
            ScheduleCommand::AcknowledgePrivateRoom { booking_id } => {
                self.found_booking(booking_id)?.acknowledge_private_room()
            }
            ScheduleCommand::AcknowledgeNoRecording { booking_id } => {
                self.found_booking(booking_id)?.acknowledge_no_recording()
            }
            ScheduleCommand::Join(c) => {
                let booking = self.found_booking(&c.booking_id)?;
                booking.join(self.found_slot(&booking.slot_id)?, c)
            }
            ScheduleCommand::Leave(c) => {
                let booking = self.found_booking(&c.booking_id)?;
                booking.leave(self.found_slot(&booking.slot_id)?, c)
            }
            ScheduleCommand::Stop(c) => self.found_booking(&c.booking_id)?.stop(c),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        match event {
            Event::SlotPublished(e) => {
                self.slots.insert(
                    e.slot_id.clone(),
                    Slot {
                        slot_id: e.slot_id.clone(),
                        counsellor_id: e.counsellor_id.clone(),
                        offering: e.offering(),
                        start: to_datetime(e.start_time.as_ref()).unwrap_or(epoch),
                        end: to_datetime(e.end_time.as_ref()).unwrap_or(epoch),
                        capacity: e.capacity,
                    },
                );
            }
            Event::SessionBooked(e) => {
                self.bookings.insert(
                    e.booking_id.clone(),
                    Booking {
                        booking_id: e.booking_id.clone(),
                        slot_id: e.slot_id.clone(),
                        job_seeker_id: e.job_seeker_id.clone(),
                        state: BookingState::Confirmed,
                        attendant_cutoff: to_datetime(e.attendant_cutoff.as_ref()).unwrap_or(epoch),
                        attendants: Vec::new(),
                        checklist_completed: false,
                        private_room_acknowledged: false,
                        no_recording_acknowledged: false,
                        cancellation_reason: None,
                        stop: None,
                    },
                );
            }
            Event::BookingCancelled(e) => {
                if let Some(b) = self.booking_mut(&e.booking_id) {
                    b.state = BookingState::Cancelled;
                    b.cancellation_reason = Some(e.reason());
                }
            }
            Event::BookingRescheduled(e) => {
                if let Some(b) = self.booking_mut(&e.booking_id) {
                    b.slot_id = e.to_slot_id.clone();
                    b.attendant_cutoff =
                        to_datetime(e.attendant_cutoff.as_ref()).unwrap_or(b.attendant_cutoff);
                }
            }
            Event::AttendantDeclared(e) => {
                if let Some(b) = self.booking_mut(&e.booking_id) {
                    b.attendants.push(e.clone());
                }
            }
            Event::ChecklistCompleted(e) => {
                if let Some(b) = self.booking_mut(&e.booking_id) {
                    b.checklist_completed = true;
                }
            }
            Event::PrivateRoomAcknowledged(e) => {
                if let Some(b) = self.booking_mut(&e.booking_id) {
                    b.private_room_acknowledged = true;
                }
            }
            Event::NoRecordingAcknowledged(e) => {
                if let Some(b) = self.booking_mut(&e.booking_id) {
                    b.no_recording_acknowledged = true;
                }
            }
            Event::SessionJoined(e) => {
                if let Some(b) = self.booking_mut(&e.booking_id) {
                    b.state = BookingState::InSession;
                }
            }
            Event::SessionLeft(e) => {
                if let Some(b) = self.booking_mut(&e.booking_id) {
                    b.state = BookingState::Completed;
                }
            }
            Event::SessionStopped(e) => {
                if let Some(b) = self.booking_mut(&e.booking_id) {
                    b.state = BookingState::Stopped;
                    b.stop = Some(e.clone());
                }
            }
            Event::OnlineServicesRefused(_) | Event::RefusalLifted(_) => {}
        }
        self
    }
}
