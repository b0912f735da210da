//! What the service is asked, as domain values: every field already checked
//! by the transport (see `grpc::parse`), every id of its type, every time UTC.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::domain::{
    AttendantKind, BookingId, ConductReason, CounsellorId, JobSeekerId, Offering, SlotId,
};

/// Slots to publish: the windows one publication cuts a counsellor's time
/// into.
#[derive(Debug)]
pub struct Publication {
    pub request_id: Uuid,
    pub counsellor_id: CounsellorId,
    pub offering: Offering,
    /// (start, end) of each slot.
    pub windows: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub capacity: u32,
}

/// Free slots of one offering on one Asia/Tokyo date, a page after `after`.
#[derive(Debug)]
pub struct FreeSlotsQuery {
    pub offering: Offering,
    pub date: NaiveDate,
    pub counsellor_id: Option<CounsellorId>,
    pub page_size: i64,
    pub after: Option<(DateTime<Utc>, String)>,
}

/// A seat to take; the same `request_id` always names the same booking.
#[derive(Debug)]
pub struct BookingRequest {
    pub request_id: Uuid,
    pub slot_id: SlotId,
    pub job_seeker_id: JobSeekerId,
    pub attendants: Vec<AttendantKind>,
}

/// Art. 12(1): a supervisor refusing a person online services.
#[derive(Debug)]
pub struct RefusalRequest {
    pub request_id: Uuid,
    pub job_seeker_id: JobSeekerId,
    pub reason: ConductReason,
    pub booking_id: Option<BookingId>,
    /// Why, without names or contact data (sealed with the person's key).
    pub note: String,
}

/// A person's bookings, a page after `after`.
#[derive(Debug)]
pub struct BookingsQuery {
    pub job_seeker_id: JobSeekerId,
    pub states: Vec<i32>,
    pub page_size: i64,
    pub after: Option<(DateTime<Utc>, String)>,
}

/// One page of a listing and whether more follow it.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub more: bool,
}
