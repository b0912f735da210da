//! Time as the office keeps it: instants in UTC, calendar dates in
//! Asia/Tokyo (which has had no daylight saving since 1951, so a fixed
//! +09:00 offset is exact), and protobuf timestamps at the edges.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

/// The office's zone, as named in messages.
pub const TIME_ZONE: &str = "Asia/Tokyo";

/// Asia/Tokyo as an offset.
pub fn tokyo() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

/// An instant in Asia/Tokyo as RFC 3339 with +09:00, for messages.
pub fn in_tokyo(at: DateTime<Utc>) -> String {
    at.with_timezone(&tokyo()).to_rfc3339()
}

/// The calendar date in Asia/Tokyo at `at`.
pub fn tokyo_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&tokyo()).date_naive()
}

/// 00:00 Asia/Tokyo of `date`, as an instant.
pub fn tokyo_midnight(date: NaiveDate) -> DateTime<Utc> {
    tokyo()
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .expect("a fixed offset maps every local time once")
        .with_timezone(&Utc)
}

/// The instants where the Asia/Tokyo `date` begins and ends.
pub fn tokyo_day_bounds(date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = tokyo_midnight(date);
    (start, start + chrono::Duration::days(1))
}

/// An instant as a protobuf timestamp.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or_default(),
    }
}

/// A protobuf timestamp as an instant; `None` if unset or out of range.
pub fn to_datetime(at: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    let at = at?;
    DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_tokyo_date_turns_at_15_utc() {
        let before: DateTime<Utc> = "2026-03-31T14:59:59Z".parse().unwrap();
        let after: DateTime<Utc> = "2026-03-31T15:00:00Z".parse().unwrap();
        let april = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        assert_eq!(tokyo_date(before), april.pred_opt().unwrap());
        assert_eq!(tokyo_date(after), april);
        let (start, end) = tokyo_day_bounds(april);
        assert_eq!(start, after);
        assert_eq!(end - start, chrono::Duration::days(1));
        assert_eq!(in_tokyo(after), "2026-04-01T00:00:00+09:00");
    }

    proptest! {
        #[test]
        fn timestamps_round_trip(seconds in -62_135_596_800i64..253_402_300_799, nanos in 0u32..1_000_000_000) {
            let at = DateTime::from_timestamp(seconds, nanos).unwrap();
            prop_assert_eq!(to_datetime(Some(&timestamp(at))), Some(at));
        }
    }
}
