//! Conversions between protobuf timestamps and instants, and time slots.

use chrono::{DateTime, Utc};

pub use hellowork_values::time::{timestamp, to_datetime};

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
