//! Requests into domain values: every field checked, every violation
//! reported with its path, nothing written unless all are valid.

use std::net::IpAddr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use hellowork_platform::{FieldViolation, ServiceError};
use hellowork_proto::scheduling::v1 as proto;
use hellowork_proto::sealing::v1::HpkeSealed;
use uuid::Uuid;

use crate::{
    domain::{
        AttendantKind, BookingId, CancellationReason, ChecklistItem, ConductReason, CounsellorId,
        JobSeekerId, Offering, RefusalId, SlotId, offering_allows_capacity, to_datetime,
    },
    sealing::Presence,
    service::{BookingRequest, BookingsQuery, FreeSlotsQuery, Publication, RefusalRequest},
};

/// Most slots one publication may create.
pub const MAX_SLOTS: i64 = 200;
/// Shortest slot.
pub const MIN_SLOT_MINUTES: i64 = 5;
/// Most attendants declared with one booking.
pub const MAX_ATTENDANTS: usize = 5;
/// Longest note (no names or contact data).
pub const MAX_NOTE: usize = 500;
pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i32 = 500;

/// Collects violations while parsing.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Keeps `Ok` values; records the error under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|e| self.add(field, e)).ok()
    }

    /// `Ok(())` if nothing was violated.
    pub fn finish(self) -> Result<(), ServiceError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::InvalidArgument(self.0))
        }
    }
}

/// A value `Violations::check` kept, after `finish` found no violation:
/// always there (an INTERNAL error otherwise, never a default).
fn checked<T>(value: Option<T>) -> Result<T, ServiceError> {
    value.ok_or_else(|| ServiceError::Internal("a checked field was not kept".into()))
}

pub use hellowork_values::parse_uuid as uuid;

pub fn instant(at: Option<&prost_types::Timestamp>) -> Result<DateTime<Utc>, String> {
    match at {
        None => Err("is required".to_owned()),
        Some(at) => to_datetime(Some(at)).ok_or_else(|| "is not a valid timestamp".to_owned()),
    }
}

pub fn offering(raw: i32) -> Result<Offering, String> {
    Offering::try_from(raw).map_err(|_| {
        "must be COUNSELLING, JOB_REFERRAL, SEMINAR, INTERVIEW or MANAGED_SELECTION".to_owned()
    })
}

pub fn date(date: Option<&proto::Date>) -> Result<NaiveDate, String> {
    let date = date.ok_or("is required")?;
    let month = u32::try_from(date.month).map_err(|_| "month out of range".to_owned())?;
    let day = u32::try_from(date.day).map_err(|_| "day out of range".to_owned())?;
    NaiveDate::from_ymd_opt(date.year, month, day).ok_or_else(|| "is not a valid date".to_owned())
}

pub fn page_size(raw: i32) -> Result<i64, String> {
    match raw {
        0 => Ok(DEFAULT_PAGE_SIZE),
        1..=MAX_PAGE_SIZE => Ok(i64::from(raw)),
        _ => Err(format!("must be between 0 and {MAX_PAGE_SIZE}")),
    }
}

/// A page token: `<unix seconds>.<nanos>|<id>` of the last item returned.
pub fn page_token(raw: &str) -> Result<Option<(DateTime<Utc>, String)>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    let invalid = || "is not a token this service issued".to_owned();
    let (at, id) = raw.split_once('|').ok_or_else(invalid)?;
    let (seconds, nanos) = at.split_once('.').ok_or_else(invalid)?;
    let at = DateTime::from_timestamp(
        seconds.parse().map_err(|_| invalid())?,
        nanos.parse().map_err(|_| invalid())?,
    )
    .ok_or_else(invalid)?;
    Ok(Some((at, id.to_owned())))
}

pub fn next_page_token(at: DateTime<Utc>, id: impl std::fmt::Display) -> String {
    format!("{}.{}|{id}", at.timestamp(), at.timestamp_subsec_nanos())
}

fn note(v: &mut Violations, reason: Option<ConductReason>, note: &str) {
    if note.chars().count() > MAX_NOTE {
        v.add("note", format!("must be at most {MAX_NOTE} characters"));
    }
    if reason == Some(ConductReason::OtherObstruction) && note.trim().is_empty() {
        v.add("note", "is required for OTHER_OBSTRUCTION");
    }
}

pub fn conduct_reason(raw: i32) -> Result<ConductReason, String> {
    ConductReason::try_from(raw).map_err(|_| {
        "must be THREAT, ABUSIVE_LANGUAGE, NON_JOB_PURPOSE, RECORDING_DETECTED or OTHER_OBSTRUCTION"
            .to_owned()
    })
}

fn attendant_kind(raw: i32) -> Result<AttendantKind, String> {
    AttendantKind::try_from(raw).map_err(|_| "must be INTERPRETER, CAREGIVER or OTHER".to_owned())
}

pub fn publication(r: &proto::PublishAvailabilityRequest) -> Result<Publication, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&r.request_id));
    let counsellor = v.check("counsellor_id", CounsellorId::new(&r.counsellor_id));
    let offering = v.check("offering", offering(r.offering));
    let start = v.check("start_time", instant(r.start_time.as_ref()));
    let end = v.check("end_time", instant(r.end_time.as_ref()));
    let capacity = r.capacity.max(1);
    if let Some(offering) = offering
        && !offering_allows_capacity(offering, capacity)
    {
        v.add("capacity", "Art. 1: only a SEMINAR has more than one seat");
    }
    let mut windows = Vec::new();
    if let (Some(start), Some(end)) = (start, end) {
        if end <= start {
            v.add("end_time", "must be after start_time");
        } else {
            let length = match &r.slot_length {
                None => Some(end - start),
                // `try_seconds`: a length beyond any duration is bad input, not a panic.
                Some(d) if d.nanos == 0 && d.seconds >= MIN_SLOT_MINUTES * 60 => {
                    Duration::try_seconds(d.seconds).or_else(|| {
                        v.add("slot_length", "is longer than any window");
                        None
                    })
                }
                Some(_) => {
                    v.add(
                        "slot_length",
                        format!("must be whole seconds, at least {MIN_SLOT_MINUTES} minutes"),
                    );
                    None
                }
            };
            if let Some(length) = length {
                let window = end - start;
                let count = window.num_seconds() / length.num_seconds().max(1);
                if window.num_seconds() % length.num_seconds().max(1) != 0 {
                    v.add(
                        "slot_length",
                        "must divide the window from start_time to end_time",
                    );
                } else if count > MAX_SLOTS {
                    v.add(
                        "slot_length",
                        format!("would make more than {MAX_SLOTS} slots"),
                    );
                } else {
                    let mut at = start;
                    while at < end {
                        windows.push((at, at + length));
                        at += length;
                    }
                }
            }
        }
    }
    v.finish()?;
    Ok(Publication {
        request_id: checked(request_id)?,
        counsellor_id: checked(counsellor)?,
        offering: checked(offering)?,
        windows,
        capacity,
    })
}

pub fn free_slots(r: &proto::ListFreeSlotsRequest) -> Result<FreeSlotsQuery, ServiceError> {
    let mut v = Violations::default();
    let offering = v.check("offering", offering(r.offering));
    let date = v.check("date", date(r.date.as_ref()));
    let counsellor = if r.counsellor_id.is_empty() {
        None
    } else {
        v.check("counsellor_id", CounsellorId::new(&r.counsellor_id))
    };
    let size = v.check("page_size", page_size(r.page_size));
    let after = v.check("page_token", page_token(&r.page_token));
    v.finish()?;
    Ok(FreeSlotsQuery {
        offering: checked(offering)?,
        date: checked(date)?,
        counsellor_id: counsellor,
        page_size: size.unwrap_or(DEFAULT_PAGE_SIZE),
        after: after.flatten(),
    })
}

pub fn booking(r: &proto::BookSessionRequest) -> Result<BookingRequest, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&r.request_id));
    let slot_id = v.check("slot_id", SlotId::new(&r.slot_id));
    let job_seeker_id = v.check("job_seeker_id", JobSeekerId::new(&r.job_seeker_id));
    if r.attendants.len() > MAX_ATTENDANTS {
        v.add("attendants", format!("at most {MAX_ATTENDANTS}"));
    }
    let mut attendants = Vec::new();
    for (i, kind) in r.attendants.iter().enumerate() {
        if let Some(kind) = v.check(&format!("attendants[{i}]"), attendant_kind(*kind)) {
            attendants.push(kind);
        }
    }
    v.finish()?;
    Ok(BookingRequest {
        request_id: checked(request_id)?,
        slot_id: checked(slot_id)?,
        job_seeker_id: checked(job_seeker_id)?,
        attendants,
    })
}

pub fn booking_id(raw: &str) -> Result<BookingId, ServiceError> {
    BookingId::new(raw).map_err(|e| ServiceError::invalid("booking_id", e))
}

pub fn cancellation(
    r: &proto::CancelBookingRequest,
) -> Result<(BookingId, CancellationReason), ServiceError> {
    let mut v = Violations::default();
    let id = v.check("booking_id", BookingId::new(&r.booking_id));
    let reason = v.check(
        "reason",
        match CancellationReason::try_from(r.reason) {
            Ok(reason @ (CancellationReason::ByJobSeeker | CancellationReason::ByOffice)) => {
                Ok(reason)
            }
            _ => Err("must be BY_JOB_SEEKER or BY_OFFICE".to_owned()),
        },
    );
    v.finish()?;
    Ok((checked(id)?, checked(reason)?))
}

/// A move of a booking to another slot: (booking, new slot).
pub fn rescheduling(
    r: &proto::RescheduleBookingRequest,
) -> Result<(BookingId, SlotId), ServiceError> {
    let mut v = Violations::default();
    v.check("request_id", uuid(&r.request_id));
    let id = v.check("booking_id", BookingId::new(&r.booking_id));
    let slot = v.check("new_slot_id", SlotId::new(&r.new_slot_id));
    v.finish()?;
    Ok((checked(id)?, checked(slot)?))
}

pub fn attendant(
    r: &proto::DeclareAttendantRequest,
) -> Result<(Uuid, BookingId, AttendantKind), ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&r.request_id));
    let id = v.check("booking_id", BookingId::new(&r.booking_id));
    let kind = v.check("kind", attendant_kind(r.kind));
    v.finish()?;
    Ok((checked(request_id)?, checked(id)?, checked(kind)?))
}

pub fn checklist(
    r: &proto::CompletePreSessionChecklistRequest,
) -> Result<(BookingId, Vec<ChecklistItem>), ServiceError> {
    let mut v = Violations::default();
    let id = v.check("booking_id", BookingId::new(&r.booking_id));
    let mut items = Vec::new();
    for (i, item) in r.confirmed_items.iter().enumerate() {
        match ChecklistItem::try_from(*item) {
            Err(_) => v.add(format!("confirmed_items[{i}]"), "is not a checklist item"),
            Ok(item) => items.push(item),
        }
    }
    v.finish()?;
    Ok((checked(id)?, items))
}

/// Art. 7(1): the device identifiers the front system reports.
pub fn device(
    v: &mut Violations,
    device: Option<&proto::DeviceIdentifiers>,
) -> proto::DeviceIdentifiers {
    let Some(device) = device else {
        v.add("device", "is required");
        return proto::DeviceIdentifiers::default();
    };
    let mut text = |field: &str, value: &str, max: usize, required: bool| {
        if required && value.trim().is_empty() {
            v.add(format!("device.{field}"), "must not be empty");
        } else if value.chars().count() > max {
            v.add(
                format!("device.{field}"),
                format!("must be at most {max} characters"),
            );
        }
    };
    text("device_id", &device.device_id, 200, true);
    text("user_agent", &device.user_agent, 1000, false);
    text("os_name", &device.os_name, 100, false);
    text("os_version", &device.os_version, 100, false);
    if device.ip_address.parse::<IpAddr>().is_err() {
        v.add("device.ip_address", "must be an IPv4 or IPv6 address");
    }
    device.clone()
}

/// Art. 7(1), 7(2): a join or leave brings the device either in clear or
/// sealed by the front system, never both.
pub fn presence(
    booking_id: &str,
    raw_device: Option<&proto::DeviceIdentifiers>,
    sealed_device: Option<&HpkeSealed>,
) -> Result<(BookingId, Presence), ServiceError> {
    let mut v = Violations::default();
    let id = v.check("booking_id", BookingId::new(booking_id));
    let presence = match (raw_device, sealed_device) {
        (Some(_), Some(_)) => {
            v.add("sealed_device", "must not be set together with device");
            None
        }
        (None, Some(sealed)) => Some(Presence::Sealed(sealed.clone())),
        (raw, None) => Some(Presence::Clear(device(&mut v, raw))),
    };
    v.finish()?;
    Ok((checked(id)?, checked(presence)?))
}

pub fn stop(r: &proto::StopSessionRequest) -> Result<(BookingId, ConductReason), ServiceError> {
    let mut v = Violations::default();
    let id = v.check("booking_id", BookingId::new(&r.booking_id));
    let reason = v.check("reason", conduct_reason(r.reason));
    note(&mut v, reason, &r.note);
    v.finish()?;
    Ok((checked(id)?, checked(reason)?))
}

pub fn refusal(r: &proto::RefuseOnlineServicesRequest) -> Result<RefusalRequest, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&r.request_id));
    let job_seeker_id = v.check("job_seeker_id", JobSeekerId::new(&r.job_seeker_id));
    let reason = v.check("reason", conduct_reason(r.reason));
    note(&mut v, reason, &r.note);
    let booking_id = if r.booking_id.is_empty() {
        None
    } else {
        v.check("booking_id", BookingId::new(&r.booking_id))
    };
    v.finish()?;
    Ok(RefusalRequest {
        request_id: checked(request_id)?,
        job_seeker_id: checked(job_seeker_id)?,
        reason: checked(reason)?,
        booking_id,
        note: r.note.trim().to_owned(),
    })
}

pub fn lift(r: &proto::LiftRefusalRequest) -> Result<RefusalId, ServiceError> {
    let mut v = Violations::default();
    let id = v.check("refusal_id", RefusalId::new(&r.refusal_id));
    note(&mut v, None, &r.note);
    v.finish()?;
    checked(id)
}

pub fn bookings(r: &proto::ListBookingsRequest) -> Result<BookingsQuery, ServiceError> {
    let mut v = Violations::default();
    let job_seeker_id = v.check("job_seeker_id", JobSeekerId::new(&r.job_seeker_id));
    for (i, state) in r.states.iter().enumerate() {
        if !matches!(proto::BookingState::try_from(*state), Ok(s) if s != proto::BookingState::Unspecified)
        {
            v.add(format!("states[{i}]"), "is not a booking state");
        }
    }
    let size = v.check("page_size", page_size(r.page_size));
    let after = v.check("page_token", page_token(&r.page_token));
    v.finish()?;
    Ok(BookingsQuery {
        job_seeker_id: checked(job_seeker_id)?,
        states: r.states.clone(),
        page_size: size.unwrap_or(DEFAULT_PAGE_SIZE),
        after: after.flatten(),
    })
}

pub fn counsellor_day(
    r: &proto::GetCounsellorDayRequest,
) -> Result<(CounsellorId, NaiveDate), ServiceError> {
    let mut v = Violations::default();
    let counsellor = v.check("counsellor_id", CounsellorId::new(&r.counsellor_id));
    let date = v.check("date", date(r.date.as_ref()));
    v.finish()?;
    Ok((checked(counsellor)?, checked(date)?))
}
