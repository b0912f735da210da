//! Art. 1: a counsellor's slots: publishing them, the free ones by offering
//! and date, and a counsellor's day.

use std::sync::Arc;

use chrono::NaiveDate;
use hellowork_platform::{Role, ServiceError};
use uuid::Uuid;

use super::{
    BookingView, Context, FreeSlotsQuery, History, Page, Publication, Scheduling, access, database,
};
use crate::{
    domain::{CounsellorId, NewSlot, Publish, Schedule, Slot, SlotId, tokyo_day_bounds},
    projections::{self, SlotRow},
};

/// What one publication made: the schedule afterwards and the new slots' ids
/// in the order of their windows.
#[derive(Debug)]
pub struct Published {
    pub schedule: Arc<History<Schedule>>,
    pub slot_ids: Vec<SlotId>,
}

/// One slot of a counsellor's day and its active bookings.
#[derive(Debug)]
pub struct DaySlot {
    pub slot: Slot,
    pub bookings: Vec<BookingView>,
}

/// A counsellor's day: the schedule (for seat counts) and its slots in
/// order of start.
#[derive(Debug)]
pub struct Day {
    pub schedule: Arc<History<Schedule>>,
    pub slots: Vec<DaySlot>,
}

impl Scheduling {
    /// Art. 1: publishes a counsellor's slots; the same request publishes the
    /// same slots (their ids derive from it), so a repetition adds nothing.
    pub async fn publish(
        &self,
        cx: Context<'_>,
        publication: Publication,
    ) -> Result<Published, ServiceError> {
        access::require_owner_or(
            cx.caller,
            Role::Counsellor,
            &publication.counsellor_id,
            &[Role::Supervisor],
        )?;
        let slots: Vec<NewSlot> = publication
            .windows
            .iter()
            .enumerate()
            .map(|(i, (start, end))| NewSlot {
                slot_id: SlotId::from_uuid(Uuid::new_v5(
                    &publication.request_id,
                    format!("slot:{}:{i}", publication.counsellor_id).as_bytes(),
                )),
                start: *start,
                end: *end,
            })
            .collect();
        let slot_ids: Vec<SlotId> = slots.iter().map(|slot| slot.slot_id).collect();
        let command = Publish {
            counsellor_id: publication.counsellor_id.clone(),
            offering: publication.offering,
            slots,
            capacity: publication.capacity,
        };
        let schedule = self
            .on_schedule(cx.metadata, &publication.counsellor_id, &command)
            .await?;
        Ok(Published { schedule, slot_ids })
    }

    /// The free slots of an offering on an Asia/Tokyo date, from the read
    /// model (seats taken as the projection has seen them).
    pub async fn free_slots(&self, query: FreeSlotsQuery) -> Result<Page<SlotRow>, ServiceError> {
        let mut items = projections::free_slots(
            &self.pool,
            query.offering.into(),
            query.date,
            query.counsellor_id.as_ref(),
            query.after,
            query.page_size + 1,
        )
        .await
        .map_err(database)?;
        let size = usize::try_from(query.page_size).unwrap_or_default();
        let more = items.len() > size;
        items.truncate(size);
        Ok(Page { items, more })
    }

    /// A counsellor's slots starting on an Asia/Tokyo date with their active
    /// bookings, from the schedule and the bookings' streams (current, not a
    /// read model).
    pub async fn counsellor_day(
        &self,
        cx: Context<'_>,
        counsellor_id: &CounsellorId,
        date: NaiveDate,
    ) -> Result<Day, ServiceError> {
        access::require_owner_or(
            cx.caller,
            Role::Counsellor,
            counsellor_id,
            &[Role::Supervisor],
        )?;
        let schedule = self.schedule(counsellor_id).await?;
        let (from, to) = tokyo_day_bounds(date);
        let mut slots: Vec<Slot> = schedule
            .state
            .slots()
            .filter(|s| s.start >= from && s.start < to)
            .cloned()
            .collect();
        slots.sort_by(|a, b| (a.start, &a.slot_id).cmp(&(b.start, &b.slot_id)));
        let mut day = Vec::with_capacity(slots.len());
        for slot in slots {
            let mut bookings = Vec::new();
            for seat in schedule.state.seats_of(slot.slot_id) {
                let booking = self.booking_now(seat.booking_id).await?;
                bookings.push(self.shown(booking, seat.booking_id).await?);
            }
            day.push(DaySlot { slot, bookings });
        }
        Ok(Day {
            schedule,
            slots: day,
        })
    }
}
