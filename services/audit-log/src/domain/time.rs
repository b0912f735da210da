//! Conversions between protobuf timestamps and instants, and time slots.

use chrono::{DateTime, Utc};

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub fn to_datetime(at: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    let at = at?;
    DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?)
}

/// Art. 7(2): the slot of `slot_seconds` (aligned to the Unix epoch)
/// containing `at`, as `[start, end)`.
pub fn slot_of(at: DateTime<Utc>, slot_seconds: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    debug_assert!(slot_seconds > 0);
    let start = at.timestamp().div_euclid(slot_seconds) * slot_seconds;
    let start = DateTime::from_timestamp(start, 0).unwrap_or(at);
    (start, start + chrono::Duration::seconds(slot_seconds))
}

/// Truncated to the microsecond, the precision Postgres stores (so the
/// hash of an entry is the same before and after storing it).
pub fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}
